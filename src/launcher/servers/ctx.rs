//! [`Ctx`], what every server file gets, and [`Launch`], what it returns,
//! with the helpers the server files share.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::Path;

use crate::knobs::Knobs;
use crate::launcher::detect::{self, AppInfo, EntryPoint};
use crate::launcher::dirs;
use crate::launcher::error::Error;
use crate::launcher::migrating;
use crate::launcher::path;
use crate::launcher::plan::WatchSpec;
use crate::launcher::proxy::Proxy;
use crate::launcher::server_type::ServerType;
use crate::launcher::support;

/// Where server_args name the app (see [`Ctx::user_entry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserEntry {
    /// Not named: use detection.
    None,
    /// `user_args[i]` is a `module:callable` spec.
    At(usize),
    /// Named in a form the launcher leaves alone.
    Opaque,
}

/// Everything a server file needs.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The source tree: `.warpdrive/` is here.
    pub src_root: &'a Path,
    /// The app's home (`.warpdrive/home`, else the source tree): the
    /// server's working directory, where detection looks.
    pub home: &'a Path,
    pub server_type: ServerType,
    pub env: &'a BTreeMap<String, String>,
    pub knobs: &'a Knobs,
    pub port: u16,
    /// Expanded `.warpdrive/server_args`.
    pub user_args: &'a [String],
    /// The detected or recorded app, looked up on first use (see [`Ctx::app`]).
    pub app: OnceCell<Option<AppInfo>>,
    pub proxy: &'a Proxy,
    pub runtime_dir: &'a Path,
    /// `python` or `python3`, whichever is first on PATH.
    pub python: &'a str,
}

/// A server's command line and what the launcher adds around it.
#[derive(Debug, Default)]
pub struct Launch {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Extra words for the reason line.
    pub notes: Vec<String>,
    /// The launcher must restart the server on source changes itself.
    pub watch: Option<WatchSpec>,
}

impl Launch {
    pub fn new(program: &str) -> Self {
        Launch {
            argv: vec![program.to_string()],
            ..Launch::default()
        }
    }

    pub fn arg(&mut self, a: impl Into<String>) -> &mut Self {
        self.argv.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, it: I) -> &mut Self {
        self.argv.extend(it.into_iter().map(Into::into));
        self
    }
}

impl Ctx<'_> {
    /// The app's entry point and static files: recorded by `init` in
    /// `.warpdrive/application`, else read from Django settings when
    /// manage.py names them, else the `wsgi` module convention.
    pub fn app(&self) -> Result<Option<&AppInfo>, Error> {
        if let Some(app) = self.app.get() {
            return Ok(app.as_ref());
        }
        let info = match detect::read_record(self.src_root)? {
            Some(record) => Some(record),
            None => match detect::django_settings_module(self.home, self.env)? {
                Some(settings) => Some(detect::django_info(
                    self.home,
                    &settings,
                    self.python,
                    self.env,
                )?),
                None if self.asgi() => detect::asgi_module_info(self.home),
                None => detect::wsgi_module_info(self.home),
            },
        };
        Ok(self.app.get_or_init(|| info).as_ref())
    }

    /// Whether the app is an ASGI app: on uvicorn, or on gunicorn with an
    /// ASGI worker class (`-k`/`--worker-class` naming a uvicorn worker or
    /// anything with `asgi` in its name) in server_args.
    pub fn asgi(&self) -> bool {
        match self.server_type {
            ServerType::Uvicorn => true,
            ServerType::Gunicorn => self.gunicorn_worker_class().is_some_and(|k| {
                let k = k.to_ascii_lowercase();
                k.contains("uvicorn") || k.contains("asgi")
            }),
            _ => false,
        }
    }

    /// gunicorn's worker class from server_args (`-k X`, `-kX`, `-k=X`,
    /// `--worker-class X`, `--worker-class=X`).
    fn gunicorn_worker_class(&self) -> Option<&str> {
        let args = self.user_args;
        for (i, a) in args.iter().enumerate() {
            if a == "-k" || a == "--worker-class" {
                return args.get(i + 1).map(String::as_str);
            }
            if let Some(v) = a.strip_prefix("--worker-class=") {
                return Some(v);
            }
            if let Some(v) = a.strip_prefix("-k") {
                if !v.is_empty() && !a.starts_with("--") {
                    return Some(v.strip_prefix('=').unwrap_or(v));
                }
            }
        }
        None
    }

    pub fn bind(&self) -> String {
        format!("0.0.0.0:{}", self.port)
    }

    pub fn reload(&self) -> bool {
        self.knobs.flag("MOD_WSGI_RELOAD_ON_CHANGES")
    }

    /// The launcher-level watcher for servers without a reloader.
    pub fn watch_spec(&self) -> Option<WatchSpec> {
        if !self.reload() {
            return None;
        }
        let mut suffixes = vec![".py".to_string()];
        if let Some(extra) = self.env.get("WARPDRIVE_RELOAD_EXTENSIONS") {
            for s in extra.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                suffixes.push(if s.starts_with('.') {
                    s.to_string()
                } else {
                    format!(".{s}")
                });
            }
        }
        Some(WatchSpec {
            root: self.src_root.to_path_buf(),
            suffixes,
        })
    }

    /// Adds `OPTION VALUE` for each whole-number knob that is set, from a
    /// table of (knob, this server's option).
    pub fn int_options(&self, launch: &mut Launch, table: &[(&str, &str)]) {
        for (knob, option) in table {
            if let Some(n) = self.knobs.int(knob) {
                launch.args([option.to_string(), n.to_string()]);
            }
        }
    }

    /// Says on stderr that a knob has no equivalent on this server.
    pub fn ignored(&self, knob: &str) {
        if self.knobs.get(knob).is_some() {
            eprintln!(
                "warpdrive: warning: {knob} has no {} equivalent; ignored",
                self.server_type.name()
            );
        }
    }

    /// The entry point from detection, or a one-line error saying where to put one.
    pub fn detected_entry_point(&self) -> Result<&EntryPoint, Error> {
        let app = self.app()?;
        let entry = if self.asgi() {
            app.and_then(|a| {
                a.asgi_entry_point
                    .as_ref()
                    .or(a.entry_point.as_ref().filter(|_| a.recorded))
            })
        } else {
            app.and_then(|a| a.entry_point.as_ref())
        };
        entry.ok_or_else(|| {
            let (what, example, module) = if self.asgi() {
                ("ASGI", "main:app", "an asgi.py")
            } else {
                ("WSGI", "myapp.wsgi:application", "a wsgi.py")
            };
            Error::bad(format!(
                "{}: no {what} entry point found for {}: add one to .warpdrive/server_args \
                 (e.g. {example}), add {module}, or run `kubectl warpdrive init`",
                self.home.display(),
                self.server_type.name()
            ))
        })
    }

    /// Static files to serve: (URL prefix, absolute directory).
    pub fn static_files(&self) -> Result<Option<(&str, &Path)>, Error> {
        Ok(self.app()?.and_then(AppInfo::static_files))
    }

    /// Whether the user's server_args contain `flag` (as `flag` or `flag=…`).
    pub fn user_has(&self, flag: &str) -> bool {
        self.user_args
            .iter()
            .any(|a| a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
    }

    /// The entry point: recorded or detected, where `MOD_WSGI_ENTRY_POINT`
    /// (a module, when `MOD_WSGI_APPLICATION_TYPE` is unset or `module`),
    /// else the S2I image's `APP_MODULE`, and `MOD_WSGI_CALLABLE_OBJECT`,
    /// when set, win over it, on every server.
    /// server_args naming an app win over all of these (the callers look
    /// there first).
    pub fn entry_point(&self) -> Result<EntryPoint, Error> {
        let module_type = matches!(
            self.knobs.text("MOD_WSGI_APPLICATION_TYPE"),
            None | Some("module")
        );
        let knob = self.knobs.text("MOD_WSGI_ENTRY_POINT");
        let module = knob.filter(|_| module_type).and_then(EntryPoint::parse);
        if let (Some(m), None) = (knob, &module) {
            if self.server_type != ServerType::ModWsgi {
                eprintln!(
                    "warpdrive: warning: MOD_WSGI_ENTRY_POINT={} is not a module name; {} \
                     ignores it",
                    crate::error::quoted(m),
                    self.server_type.name()
                );
            }
        }
        let mut entry = match module {
            Some(m) => m,
            None => match migrating::app_module(self.env)? {
                Some(m) => m,
                None => self.detected_entry_point()?.clone(),
            },
        };
        if let Some(c) = self.knobs.text("MOD_WSGI_CALLABLE_OBJECT") {
            let named = EntryPoint::parse(&format!("{}:{c}", entry.module)).ok_or_else(|| {
                Error::bad(format!(
                    "MOD_WSGI_CALLABLE_OBJECT={}: not a Python name; set it to the name of \
                     the WSGI callable (e.g. app)",
                    crate::error::quoted(c)
                ))
            })?;
            entry = named;
        }
        Ok(entry)
    }

    /// Where the entry point came from, for the reason line.
    pub fn entry_source(&self) -> Result<String, Error> {
        let mut knobs: Vec<&str> = ["MOD_WSGI_ENTRY_POINT", "MOD_WSGI_CALLABLE_OBJECT"]
            .into_iter()
            .filter(|k| self.knobs.text(k).is_some())
            .collect();
        if self.knobs.text("MOD_WSGI_ENTRY_POINT").is_none()
            && migrating::var(self.env, "APP_MODULE").is_some()
        {
            knobs.insert(0, "APP_MODULE");
        }
        let detected = self.app()?.map(|a| a.source.clone()).unwrap_or_default();
        Ok(match (knobs.is_empty(), detected.is_empty()) {
            (true, _) => detected,
            (false, true) => format!("from {}", knobs.join(" and ")),
            (false, false) => format!("from {}; otherwise {detected}", knobs.join(" and ")),
        })
    }

    /// Adds server_args and the app for gunicorn, waitress and uWSGI: the
    /// user's spec if server_args has one (wrapped if needed), else the
    /// entry point ([`Ctx::entry_point`]) placed by `place` (e.g. `--module
    /// X` or a positional). A factory is called by the server when it can
    /// ([`Forms::calls_factories`], or a bare factory through
    /// [`Forms::factory_flag`]), else by the `warpdrive_wsgi` wrapper.
    pub fn add_app(
        &self,
        launch: &mut Launch,
        forms: &Forms,
        place: impl FnOnce(&mut Launch, String),
    ) -> Result<(), Error> {
        let mut user = self.user_args.to_vec();
        // PasteDeploy's `config:` URI form, which gunicorn's `--paste` does not take.
        for flag in forms.paste_flags {
            strip_config_uri(&mut user, flag);
        }
        // uWSGI's `--callable Y` goes into the spec the wrapper loads.
        let callable = forms.callable_flag.and_then(|f| take_option(&mut user, f));
        match user_entry(&user, forms) {
            UserEntry::At(i) => {
                let switch = forms
                    .factory_switch
                    .and_then(|f| user.iter().position(|a| a == f));
                let by_flag =
                    switch.is_some() || (i > 0 && forms.factory_flag == Some(user[i - 1].as_str()));
                let mut spec = user[i].clone();
                if let Some(c) = &callable {
                    if !spec.contains(':') {
                        spec = format!("{spec}:{c}");
                    }
                }
                let target = if by_flag {
                    format!("{spec}()")
                } else {
                    spec.clone()
                };
                let factory = EntryPoint::parse(&target).is_some_and(|e| e.is_factory());
                let force = factory && !forms.calls_factories && !by_flag;
                match self.wrap(&target, launch, force)? {
                    Some(wrapped) => {
                        user[i] = wrapped;
                        if let Some(at) = switch {
                            user.remove(at);
                        } else if by_flag {
                            user.remove(i - 1);
                        }
                    }
                    None => user[i] = spec,
                }
                launch.notes.push("entry point from server_args".into());
                launch.args(user);
            }
            UserEntry::Opaque => {
                if !self.proxy.headers.is_empty() {
                    eprintln!(
                        "warpdrive: warning: server_args name the app in a way the launcher cannot wrap; \
                         WARPDRIVE_TRUST_PROXY_HEADERS is not applied"
                    );
                }
                launch.notes.push("app from server_args".into());
                launch.args(user);
            }
            UserEntry::None => {
                let mut entry = self.entry_point()?;
                if let Some(c) = &callable {
                    entry =
                        EntryPoint::parse(&format!("{}:{c}", entry.module)).ok_or_else(|| {
                            Error::bad(format!(
                                "server_args: --callable {}: not a Python name",
                                crate::error::quoted(c)
                            ))
                        })?;
                }
                let source = self.entry_source()?;
                launch.notes.push(
                    format!("entry point {} {source}", entry.spec())
                        .trim_end()
                        .to_string(),
                );
                let by_flag = forms
                    .factory_flag
                    .or(forms.factory_switch)
                    .filter(|_| entry.is_bare_factory());
                let force = entry.is_factory() && !forms.calls_factories && by_flag.is_none();
                let wrapped = self.wrap(&entry.spec(), launch, force)?;
                launch.args(user);
                match (wrapped, by_flag) {
                    (Some(w), _) => place(launch, w),
                    (None, Some(flag)) if forms.factory_switch == Some(flag) => {
                        launch.arg(flag);
                        place(launch, entry.name());
                    }
                    (None, Some(flag)) => {
                        launch.args([flag.to_string(), entry.name()]);
                    }
                    (None, None) => place(launch, entry.spec()),
                }
            }
        }
        Ok(())
    }

    /// Serves `entry` through the `warpdrive_wsgi` support module when
    /// `force` says so (a factory the server cannot call itself), when
    /// proxy headers or WhiteNoise static files (gunicorn, waitress) need
    /// it, and always for uWSGI, which itself takes the scheme from
    /// `X-Forwarded-Proto` and `X-Forwarded-SSL` sent by any client; the
    /// module undoes that. Returns the spec to give the server, `None` when
    /// the app is served as it is. On mod_wsgi (a factory) the module
    /// applies no proxy headers: Apache does.
    pub fn wrap(
        &self,
        entry: &str,
        launch: &mut Launch,
        force: bool,
    ) -> Result<Option<String>, Error> {
        let whitenoise = matches!(
            self.server_type,
            ServerType::Gunicorn | ServerType::Waitress | ServerType::Uvicorn
        );
        let static_files = if whitenoise {
            self.static_files()?
        } else {
            None
        };
        let always = self.server_type == ServerType::Uwsgi;
        let apache = !self.server_type.is_app_server() || self.server_type == ServerType::ModWsgi;
        // A peer list alone still needs the module: it removes the proxy
        // family from peers outside it.
        let proxies = !apache && (!self.proxy.headers.is_empty() || !self.proxy.peers.is_empty());
        if !proxies && static_files.is_none() && !always && !force {
            return Ok(None);
        }
        if let Some((url, root)) = static_files {
            self.require_whitenoise(url, root)?;
            launch
                .env
                .insert("WARPDRIVE_STATIC_URL".into(), url.to_string());
            launch
                .env
                .insert("WARPDRIVE_STATIC_ROOT".into(), root.display().to_string());
            launch
                .notes
                .push(format!("static {url} -> {} via WhiteNoise", root.display()));
        }
        if apache {
            launch
                .env
                .insert("WARPDRIVE_TRUST_PROXY_HEADERS".into(), String::new());
            launch
                .env
                .insert("WARPDRIVE_TRUST_PROXY".into(), String::new());
        } else if !self.proxy.headers.is_empty() {
            launch.notes.push(format!(
                "trusted proxy headers {} via the {} middleware",
                self.proxy.headers.join(","),
                if self.asgi() {
                    "warpdrive_asgi"
                } else {
                    "warpdrive_wsgi"
                }
            ));
            // Also when they come from .warpdrive/application, not the environment.
            launch.env.insert(
                "WARPDRIVE_TRUST_PROXY_HEADERS".into(),
                self.proxy.headers.join(","),
            );
        }
        if force {
            launch.notes.push(format!(
                "the factory {entry} called by the warpdrive_wsgi wrapper"
            ));
        }
        let support = dirs::support_dir(self.runtime_dir);
        let pythonpath = match self.env.get("PYTHONPATH").filter(|p| !p.is_empty()) {
            Some(p) => format!("{}:{p}", support.display()),
            None => support.display().to_string(),
        };
        launch.env.insert("PYTHONPATH".into(), pythonpath);
        let (var, module) = if self.asgi() {
            ("WARPDRIVE_ASGI_TARGET", support::ASGI_ENTRY_POINT)
        } else {
            ("WARPDRIVE_WSGI_TARGET", support::ENTRY_POINT)
        };
        launch.env.insert(var.into(), entry.to_string());
        Ok(Some(module.to_string()))
    }

    fn require_whitenoise(&self, url: &str, root: &Path) -> Result<(), Error> {
        let ok = self.package_on_disk("whitenoise")
            || std::process::Command::new(self.python)
                .args(["-c", "import whitenoise"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(Error::bad(format!(
                "static files are configured ({url} -> {}) but whitenoise is not installed for {}: \
                 `pip install whitenoise`, or use mod_wsgi/uwsgi which serve static files themselves",
                root.display(),
                self.server_type.name()
            )))
        }
    }
}

impl Ctx<'_> {
    /// Fast check, without starting Python, that `package` sits in the
    /// site-packages of the first `python` on PATH (`<prefix>/lib/python3*/`)
    /// or in a PYTHONPATH entry. `false` means "not seen here"; the caller
    /// then asks Python itself.
    fn package_on_disk(&self, package: &str) -> bool {
        let mut dirs: Vec<std::path::PathBuf> = self
            .env
            .get("PYTHONPATH")
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default();
        if let Some(prefix) = path::find_on_path(self.python, self.env)
            .and_then(|p| p.parent()?.parent().map(Path::to_path_buf))
        {
            for lib in [prefix.join("lib"), prefix.join("lib64")] {
                let Ok(entries) = std::fs::read_dir(&lib) else {
                    continue;
                };
                for e in entries.flatten() {
                    if e.file_name().to_string_lossy().starts_with("python3") {
                        dirs.push(e.path().join("site-packages"));
                    }
                }
            }
        }
        dirs.iter()
            .any(|d| d.join(package).join("__init__.py").is_file())
    }
}

/// How a server's command line names the app, for [`Ctx::add_app`].
#[derive(Debug, Default)]
pub struct Forms<'f> {
    /// Flags whose value is the app spec (uWSGI's `--module X`, waitress's
    /// `--call X`).
    pub value_flags: &'f [&'f str],
    /// Flags that name the app some other way (a file, an ini).
    pub opaque_flags: &'f [&'f str],
    /// A bare `module:callable` word counts (gunicorn, waitress).
    pub positional: bool,
    /// The flag whose value is a factory the server calls without
    /// arguments (waitress's `--call`).
    pub factory_flag: Option<&'f str>,
    /// The flag naming the callable apart from the module (uWSGI's
    /// `--callable`).
    pub callable_flag: Option<&'f str>,
    /// The server calls `module:factory(ARGS)` itself (gunicorn).
    pub calls_factories: bool,
    /// A flag that makes the positional app a factory the server calls
    /// without arguments (uvicorn's `--factory`).
    pub factory_switch: Option<&'f str>,
    /// Flags whose value is a PasteDeploy config path, from which a
    /// `config:` prefix is dropped (gunicorn's `--paste`).
    pub paste_flags: &'f [&'f str],
}

/// `flag config:PATH` or `flag=config:PATH` → `PATH`.
fn strip_config_uri(args: &mut [String], flag: &str) {
    for i in 0..args.len() {
        if args[i] == flag {
            if let Some(v) = args.get_mut(i + 1) {
                if let Some(rest) = v.strip_prefix("config:") {
                    *v = rest.to_string();
                }
            }
        } else if let Some(v) = args[i].strip_prefix(&format!("{flag}=config:")) {
            args[i] = format!("{flag}={v}");
        }
    }
}

/// Where `args` name the WSGI app (see [`Forms`]).
fn user_entry(args: &[String], forms: &Forms) -> UserEntry {
    for (i, a) in args.iter().enumerate() {
        if forms.value_flags.contains(&a.as_str()) && i + 1 < args.len() {
            return UserEntry::At(i + 1);
        }
        let flag = a.split('=').next().unwrap_or(a);
        if forms.opaque_flags.contains(&flag) || forms.value_flags.contains(&flag) {
            return UserEntry::Opaque;
        }
        // The word after an option is its value, unless the option is a
        // switch that takes none (uvicorn's `--factory`).
        let prev_is_option = i > 0
            && args[i - 1].starts_with('-')
            && !args[i - 1].contains('=')
            && forms.factory_switch != Some(args[i - 1].as_str());
        if forms.positional
            && !a.starts_with('-')
            && a.contains(':')
            && !prev_is_option
            && EntryPoint::parse(a).is_some()
        {
            return UserEntry::At(i);
        }
    }
    UserEntry::None
}

/// Removes `flag VALUE` or `flag=VALUE` from `args`, returning the value.
fn take_option(args: &mut Vec<String>, flag: &str) -> Option<String> {
    let i = args
        .iter()
        .position(|a| a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))?;
    if args[i] == flag {
        if i + 1 >= args.len() {
            return None;
        }
        let value = args.remove(i + 1);
        args.remove(i);
        Some(value)
    } else {
        let value = args.remove(i)[flag.len() + 1..].to_string();
        Some(value)
    }
}
