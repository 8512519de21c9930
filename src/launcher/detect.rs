//! What the app is: the `auto` order, and the WSGI entry point and static
//! files of an app (recorded by `init`, read from Django settings, or the
//! `wsgi` module convention).
//!
//! Django settings are read without running Python when they are written the
//! way `startproject` writes them (string literals, `BASE_DIR / 'x'`,
//! `os.path.join(BASE_DIR, 'x')`, `pathlib.Path` or `os.path` BASE_DIR).
//! Anything else falls back to importing the settings module with the app's
//! Python (no `django.setup()`, no `manage.py shell`), which also handles a
//! `pathlib.Path` STATIC_ROOT. `kubectl warpdrive init` records the result in
//! `.warpdrive/application` so the container needs neither.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use regex::Regex;

use super::app_file;
use super::error::Error;
use super::nearby;
use super::path::require_executable;
use super::proxy;
use super::pysource::{
    has_section, module_binds, no_argument_factory, settings_default, SettingsDefault,
};
use super::server_type::ServerType;

/// A WSGI entry point: `module:callable`, or `module:factory(ARGS)`, a
/// factory the server (or the `warpdrive_wsgi` wrapper) calls once to get
/// the app, with literal arguments as gunicorn allows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EntryPoint {
    pub module: String,
    pub callable: String,
    /// The text between the parentheses of a factory call (`""` for
    /// `create_app()`); `None` for a plain callable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
        && s.chars().all(|c| c == '_' || c.is_alphanumeric())
}

/// Characters allowed in a factory's arguments: literals (strings of plain
/// words, numbers, `True`/`None`) and keywords; nothing a shell, a config
/// file or a Python expression beyond literals would need.
fn is_call_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || " _'\",.=+-/:@".contains(c))
}

impl EntryPoint {
    /// Parses `module:callable`, `module:factory(ARGS)` or a dotted module
    /// (callable `application`).
    pub fn parse(text: &str) -> Option<EntryPoint> {
        let (module, callable) = match text.split_once(':') {
            Some((m, c)) => (m, c),
            None => (text, "application"),
        };
        let (callable, call) = match callable.split_once('(') {
            Some((name, rest)) => {
                let args = rest.strip_suffix(')')?;
                if !is_call_text(args) {
                    return None;
                }
                (name, Some(args.trim().to_string()))
            }
            None => (callable, None),
        };
        if module.split('.').all(is_ident) && is_ident(callable) {
            Some(EntryPoint {
                module: module.to_string(),
                callable: callable.to_string(),
                call,
            })
        } else {
            None
        }
    }

    /// Django's `WSGI_APPLICATION` form, `pkg.wsgi.application`.
    pub fn from_dotted_object(text: &str) -> Option<EntryPoint> {
        let (module, callable) = text.rsplit_once('.')?;
        EntryPoint::parse(&format!("{module}:{callable}"))
    }

    /// `module:callable`, or `module:factory(ARGS)`.
    pub fn spec(&self) -> String {
        match &self.call {
            Some(args) => format!("{}:{}({args})", self.module, self.callable),
            None => format!("{}:{}", self.module, self.callable),
        }
    }

    /// A factory to call, rather than the app itself.
    pub fn is_factory(&self) -> bool {
        self.call.is_some()
    }

    /// A factory called without arguments (`create_app()`), which
    /// waitress's `--call` can do itself.
    pub fn is_bare_factory(&self) -> bool {
        self.call.as_deref() == Some("")
    }

    /// `module:callable`, without the call.
    pub fn name(&self) -> String {
        format!("{}:{}", self.module, self.callable)
    }
}

/// The app's WSGI entry point and static files, and where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppInfo {
    pub entry_point: Option<EntryPoint>,
    /// The ASGI app, for uvicorn (and gunicorn with an ASGI worker):
    /// Django's `ASGI_APPLICATION` (or the `asgi` module beside its `wsgi`),
    /// or an `asgi.py`. A record's `entry_point` serves both.
    pub asgi_entry_point: Option<EntryPoint>,
    /// Read from `.warpdrive/application`.
    pub recorded: bool,
    /// URL prefix with leading and trailing `/`, e.g. `/static/`.
    pub static_url: Option<String>,
    /// Absolute directory.
    pub static_root: Option<PathBuf>,
    /// `DJANGO_SETTINGS_MODULE` when the app is a Django project.
    pub django_settings: Option<String>,
    /// Proxy headers to trust when `WARPDRIVE_TRUST_PROXY_HEADERS` is unset
    /// (recorded by `init` for gunicorn, waitress and uWSGI).
    pub trust_proxy_headers: Vec<String>,
    /// Where the values came from, for the reason line.
    pub source: String,
}

impl AppInfo {
    /// Static files are served only when both the URL and the directory are known.
    pub fn static_files(&self) -> Option<(&str, &Path)> {
        match (&self.static_url, &self.static_root) {
            (Some(u), Some(r)) => Some((u.as_str(), r.as_path())),
            _ => None,
        }
    }
}

/// The name of the file where `init` records what it detected.
pub const RECORD_FILE: &str = "application";

/// Result of `auto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoChoice {
    pub server_type: ServerType,
    /// The plain WSGI module case runs mod_wsgi-express on `wsgi`.
    pub wsgi_module: bool,
    pub reason: String,
}

/// The `auto` order: executable `app.sh`, `app.py`, a PasteDeploy config
/// ([`paste_config`]), a `manage.py` that sets DJANGO_SETTINGS_MODULE (or
/// any `manage.py` when the environment sets it), a `wsgi.py` module or
/// `wsgi/` package. `app_root` is the app's home; `env` the runtime
/// environment. When nothing matches, the error names the near misses
/// ([`nearby::near_misses`]) and their fixes.
pub fn auto(app_root: &Path, env: &BTreeMap<String, String>) -> Result<AutoChoice, Error> {
    let choice = |t, wsgi_module, reason: &str| AutoChoice {
        server_type: t,
        wsgi_module,
        reason: format!("auto: {reason}"),
    };
    let app_sh = app_root.join("app.sh");
    if app_sh.is_file() {
        require_executable(&app_sh)?;
        return Ok(choice(ServerType::Shell, false, "found executable app.sh"));
    }
    if app_root.join("app.py").is_file() {
        return Ok(choice(ServerType::Python, false, "found app.py"));
    }
    if let Some((_, why)) = paste_config(app_root)? {
        return Ok(choice(ServerType::Paste, false, &why));
    }
    if let Some(settings) = django_settings_module(app_root, env)? {
        let why = if env_settings(env).is_some() {
            format!("found manage.py, and DJANGO_SETTINGS_MODULE={settings} in the environment")
        } else {
            format!("manage.py sets DJANGO_SETTINGS_MODULE={settings}")
        };
        return Ok(choice(ServerType::Django, false, &why));
    }
    if app_root.join("wsgi.py").is_file() {
        return Ok(choice(
            ServerType::ModWsgi,
            true,
            "found WSGI module wsgi.py",
        ));
    }
    if app_root.join("wsgi/__init__.py").is_file() {
        return Ok(choice(
            ServerType::ModWsgi,
            true,
            "found WSGI package wsgi/",
        ));
    }
    for (file, what) in [
        ("asgi.py", "asgi.py"),
        ("asgi/__init__.py", "package asgi/"),
    ] {
        let path = app_root.join(file);
        if !path.is_file() {
            continue;
        }
        let text = app_file::read_source(app_root, &path)?.unwrap_or_default();
        if let Some(callable) = asgi_callable(&text) {
            return Ok(choice(
                ServerType::Uvicorn,
                false,
                &format!("found ASGI module {what} exposing {callable} (no manage.py, no wsgi.py)"),
            ));
        }
    }
    let seen = nearby::near_misses(app_root);
    let fix = if seen.is_empty() {
        "add one, or set .warpdrive/server_type".to_string()
    } else {
        format!("found {}", seen.join("; "))
    };
    Err(Error::bad(format!(
        "{}: no app found: looked for an executable app.sh, app.py, paste.ini, \
         production.ini or development.ini with [app:main], manage.py setting \
         DJANGO_SETTINGS_MODULE, wsgi.py, wsgi/__init__.py or asgi.py exposing application; \
         {fix}",
        app_root.display()
    )))
}

/// The PasteDeploy config `auto` and the `paste` type use: `paste.ini`,
/// else `production.ini` with an `[app:main]` section, else
/// `development.ini` with one; and the reason line. An `.ini` that is not
/// a regular file inside the app is an error ([`app_file::read_source`]).
pub fn paste_config(app_root: &Path) -> Result<Option<(PathBuf, String)>, Error> {
    let paste = app_root.join("paste.ini");
    if paste.is_file() {
        return Ok(Some((paste, "found paste.ini".into())));
    }
    let with_main = |name: &str| -> Result<Option<PathBuf>, Error> {
        let file = app_root.join(name);
        let text = match std::fs::symlink_metadata(&file) {
            Ok(_) => app_file::read_source(app_root, &file)?.unwrap_or_default(),
            Err(_) => return Ok(None),
        };
        Ok(has_section(&text, "app:main").then_some(file))
    };
    if let Some(file) = with_main("production.ini")? {
        let over = if app_root.join("development.ini").is_file() {
            " (preferred over development.ini)"
        } else {
            ""
        };
        return Ok(Some((
            file,
            format!("found production.ini with [app:main]{over}"),
        )));
    }
    Ok(with_main("development.ini")?
        .map(|file| (file, "found development.ini with [app:main]".to_string())))
}

/// `DJANGO_SETTINGS_MODULE` from the environment, when set.
fn env_settings(env: &BTreeMap<String, String>) -> Option<&str> {
    env.get("DJANGO_SETTINGS_MODULE")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// The settings module of the Django project in `app_root`, if there is a
/// `manage.py`: `DJANGO_SETTINGS_MODULE` from the environment, which wins,
/// else the default `manage.py` sets. A `manage.py` that sets it only
/// inside a condition has no default: that is an error saying to set the
/// variable. A `manage.py` that is not a regular file inside the app is an
/// error ([`app_file::read_source`]).
pub fn django_settings_module(
    app_root: &Path,
    env: &BTreeMap<String, String>,
) -> Result<Option<String>, Error> {
    let manage = app_root.join("manage.py");
    let Some(text) = app_file::read_source(app_root, &manage)? else {
        return Ok(None);
    };
    if let Some(s) = env_settings(env) {
        return Ok(Some(s.to_string()));
    }
    match settings_default(&text) {
        SettingsDefault::None => Ok(None),
        SettingsDefault::Always(s) => Ok(Some(s)),
        SettingsDefault::Conditional(line) => Err(Error::bad(format!(
            "{}:{line}: DJANGO_SETTINGS_MODULE is chosen inside a condition, so there is no \
             default; set DJANGO_SETTINGS_MODULE in the environment or in \
             .warpdrive/environment",
            manage.display()
        ))),
    }
}

/// Reads `.warpdrive/application` (written by `init`, see [`format_record`]).
/// `Ok(None)` if absent.
///
/// Format: `key = value` lines, `#` comments. Keys: `entry_point`
/// (`module:callable`), `static_url`, `static_root` (relative to the app),
/// `django_settings`, `trust_proxy_headers` (a comma list).
pub fn read_record(app_root: &Path) -> Result<Option<AppInfo>, Error> {
    let path = app_root.join(".warpdrive").join(RECORD_FILE);
    let Some(text) = app_file::read_text(app_root, &path)? else {
        return Ok(None);
    };
    let mut info = AppInfo {
        source: format!("recorded in {}", path.display()),
        recorded: true,
        ..AppInfo::default()
    };
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| {
            Error::bad(format!(
                "{}:{}: {why}; rerun `kubectl warpdrive init` to rewrite it",
                path.display(),
                n + 1
            ))
        };
        let (key, value) = line
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| bad("expected `key = value`"))?;
        match key {
            "entry_point" => {
                info.entry_point = Some(
                    EntryPoint::parse(value)
                        .ok_or_else(|| bad("entry_point must look like module:callable"))?,
                )
            }
            "static_url" => info.static_url = Some(normalize_static_url(value)),
            "static_root" => info.static_root = Some(app_root.join(value)),
            "django_settings" => info.django_settings = Some(value.to_string()),
            "trust_proxy_headers" => {
                for h in value.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                    let known = proxy::canonical_header(h).ok_or_else(|| {
                        bad(&format!("unknown proxy header {}", crate::error::quoted(h)))
                    })?;
                    info.trust_proxy_headers.push(known.to_string());
                }
            }
            _ => return Err(bad(&format!("unknown key {}", crate::error::quoted(key)))),
        }
    }
    Ok(Some(info))
}

/// The text of `.warpdrive/application` for `info`, in the format
/// [`read_record`] reads: a comment header, then one `key = value` line per
/// known value, in a fixed order. `static_root` must be inside `app_root`
/// (it is written relative to it).
pub fn format_record(info: &AppInfo, app_root: &Path) -> Result<String, Error> {
    format_record_with(info, app_root, false)
}

/// [`format_record`], where a `static_root` outside the app is written as an
/// absolute path (which [`read_record`] reads as it is): `warpdrive build`
/// collects the static files of a Django app without STATIC_ROOT under
/// `$WARPDRIVE_APP_ROOT`.
pub fn format_record_absolute_ok(info: &AppInfo, app_root: &Path) -> Result<String, Error> {
    format_record_with(info, app_root, true)
}

fn format_record_with(info: &AppInfo, app_root: &Path, outside_ok: bool) -> Result<String, Error> {
    let mut lines = vec![
        "# What `kubectl warpdrive init` detected, read by `warpdrive exec` so that the"
            .to_string(),
        "# container needs no Python introspection at start. `key = value` lines;".to_string(),
        "# static_root is relative to the app. Rerun `kubectl warpdrive init` to update."
            .to_string(),
    ];
    let mut put = |key: &str, value: String| -> Result<(), Error> {
        if value.is_empty() || value.contains(['\n', '\r']) || value.trim() != value {
            return Err(Error::bad(format!(
                "{RECORD_FILE}: {key} = {value:?} cannot be recorded (empty, a line break, or \
                 leading/trailing spaces); choose another value"
            )));
        }
        lines.push(format!("{key} = {value}"));
        Ok(())
    };
    if let Some(e) = &info.entry_point {
        put("entry_point", e.spec())?;
    }
    if let Some(u) = &info.static_url {
        put("static_url", u.clone())?;
    }
    if let Some(r) = &info.static_root {
        let rel = match r.strip_prefix(app_root) {
            Ok(rel) => rel,
            Err(_) if outside_ok && r.is_absolute() => r.as_path(),
            Err(_) => {
                return Err(Error::bad(format!(
                    "static directory {} is outside the app {}; choose a directory inside it",
                    r.display(),
                    app_root.display()
                )))
            }
        };
        let rel = rel.to_string_lossy();
        put(
            "static_root",
            if rel.is_empty() {
                ".".into()
            } else {
                rel.into_owned()
            },
        )?;
    }
    if let Some(s) = &info.django_settings {
        put("django_settings", s.clone())?;
    }
    if !info.trust_proxy_headers.is_empty() {
        put("trust_proxy_headers", info.trust_proxy_headers.join(", "))?;
    }
    lines.push(String::new());
    Ok(lines.join("\n"))
}

/// `static/` → `/static/`; full URLs (a CDN) are not served locally.
pub fn normalize_static_url(url: &str) -> String {
    let mut u = url.trim().to_string();
    if !u.starts_with('/') {
        u.insert(0, '/');
    }
    if !u.ends_with('/') {
        u.push('/');
    }
    u
}

fn static_url_from(value: Option<String>) -> Option<String> {
    value
        .filter(|u| !u.is_empty() && !u.contains("://") && !u.starts_with("//"))
        .map(|u| normalize_static_url(&u))
}

/// The entry point and static files of a Django project.
pub fn django_info(
    app_root: &Path,
    settings: &str,
    python: &str,
    env: &BTreeMap<String, String>,
) -> Result<AppInfo, Error> {
    let raw = match read_settings_statically(app_root, settings)? {
        Some(raw) => raw,
        None => import_settings(app_root, settings, python, env)?,
    };
    let entry_point = match &raw.wsgi_application {
        Some(w) => Some(EntryPoint::from_dotted_object(w).ok_or_else(|| {
            Error::bad(format!(
                "{settings}: WSGI_APPLICATION = {w:?} is not a dotted path like project.wsgi.application"
            ))
        })?),
        None => None,
    };
    let asgi_entry_point = match &raw.asgi_application {
        Some(a) => Some(EntryPoint::from_dotted_object(a).ok_or_else(|| {
            Error::bad(format!(
                "{settings}: ASGI_APPLICATION = {a:?} is not a dotted path like project.asgi.application"
            ))
        })?),
        // startproject writes asgi.py beside wsgi.py.
        None => entry_point.as_ref().and_then(|e| {
            let module = e.module.strip_suffix(".wsgi")?.to_string() + ".asgi";
            module_file(app_root, &module)?;
            EntryPoint::parse(&format!("{module}:application"))
        }),
    };
    let static_root = raw.static_root.map(|r| {
        let p = PathBuf::from(r);
        if p.is_absolute() {
            p
        } else {
            app_root.join(p)
        }
    });
    Ok(AppInfo {
        entry_point,
        asgi_entry_point,
        recorded: false,
        static_url: static_url_from(raw.static_url),
        static_root,
        django_settings: Some(settings.to_string()),
        trust_proxy_headers: Vec::new(),
        source: raw.source,
    })
}

/// Settings values as strings.
#[derive(Debug, Default, serde::Deserialize)]
struct RawSettings {
    wsgi_application: Option<String>,
    #[serde(default)]
    asgi_application: Option<String>,
    static_url: Option<String>,
    static_root: Option<String>,
    #[serde(skip)]
    source: String,
}

/// The file of a dotted module under `app_root`.
/// Whatever is at the path (a FIFO, a symlink) counts, so that
/// [`app_file::read_source`] refuses what is not a regular file.
fn module_file(app_root: &Path, module: &str) -> Option<PathBuf> {
    let rel: PathBuf = module.split('.').collect();
    let present = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_dir());
    let file = app_root.join(&rel).with_extension("py");
    if present(&file) {
        return Some(file);
    }
    let pkg = app_root.join(rel).join("__init__.py");
    present(&pkg).then_some(pkg)
}

static ASSIGN_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Z_][A-Z0-9_]*)\s*=\s*(.+?)\s*(#.*)?$").expect("regex"));
static STR_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^(?:'([^'\\]*)'|"([^"\\]*)")$"#).expect("regex"));
static PATH_BASE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Path\(__file__\)\.resolve\(\)((?:\.parent)+)$").expect("regex"));
static OS_BASE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:os\.path\.dirname\()+)os\.path\.abspath\(__file__\)\)+$").expect("regex")
});
static JOIN_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^os\.path\.join\(\s*BASE_DIR\s*,(.*)\)$").expect("regex"));

fn string_literal(expr: &str) -> Option<String> {
    let c = STR_RE.captures(expr.trim())?;
    Some(c.get(1).or(c.get(2))?.as_str().to_string())
}

/// Reads a startproject-style settings file without Python. `None` means
/// "not sure": the caller imports the module instead. A settings file that
/// is not a regular file inside the app is an error
/// ([`app_file::read_source`]).
fn read_settings_statically(app_root: &Path, settings: &str) -> Result<Option<RawSettings>, Error> {
    let Some(file) = module_file(app_root, settings) else {
        return Ok(None);
    };
    let Some(text) = app_file::read_source(app_root, &file)? else {
        return Ok(None);
    };
    Ok(parse_settings(&file, &text))
}

/// [`read_settings_statically`] on the text of `file`.
fn parse_settings(file: &Path, text: &str) -> Option<RawSettings> {
    let file = file.to_path_buf();
    if text.contains("import *") || text.contains("exec(") {
        return None;
    }
    let mut assigns: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some(c) = ASSIGN_RE.captures(line) {
            assigns.insert(c[1].to_string(), c[2].to_string());
        }
    }
    let base_dir = |expr: &str| -> Option<PathBuf> {
        let parents = if let Some(c) = PATH_BASE_RE.captures(expr) {
            c[1].matches(".parent").count()
        } else if let Some(c) = OS_BASE_RE.captures(expr) {
            c[1].matches("dirname(").count()
        } else {
            return None;
        };
        let mut dir = file.clone();
        for _ in 0..parents {
            dir = dir.parent()?.to_path_buf();
        }
        Some(dir)
    };
    let wsgi_application = match assigns.get("WSGI_APPLICATION") {
        Some(e) => Some(string_literal(e)?),
        None => return None,
    };
    let static_url = match assigns.get("STATIC_URL") {
        Some(e) if e.trim() == "None" => None,
        Some(e) => Some(string_literal(e)?),
        None => None,
    };
    let static_root = match assigns.get("STATIC_ROOT") {
        None => None,
        Some(e) if e.trim() == "None" => None,
        Some(e) => {
            let e = e.trim();
            if let Some(s) = string_literal(e) {
                Some(s)
            } else {
                let base = base_dir(assigns.get("BASE_DIR")?.trim())?;
                let parts: Vec<String> = if let Some(rest) = e.strip_prefix("BASE_DIR") {
                    rest.split('/')
                        .skip(1)
                        .map(string_literal)
                        .collect::<Option<_>>()?
                } else if let Some(c) = JOIN_RE.captures(e) {
                    c[1].split(',').map(string_literal).collect::<Option<_>>()?
                } else {
                    return None;
                };
                if parts.is_empty() && e != "BASE_DIR" {
                    return None;
                }
                let mut p = base;
                for part in parts {
                    p.push(part);
                }
                Some(p.to_string_lossy().into_owned())
            }
        }
    };
    let asgi_application = match assigns.get("ASGI_APPLICATION") {
        Some(e) => Some(string_literal(e)?),
        None => None,
    };
    Some(RawSettings {
        wsgi_application,
        asgi_application,
        static_url,
        static_root,
        source: format!("read from {}", file.display()),
    })
}

/// Imports the settings module with the app's Python and reads the three
/// values. `str()` makes a `pathlib.Path` STATIC_ROOT a plain string.
const IMPORT_SETTINGS_PY: &str = r#"
import importlib, json, os, sys
sys.path.insert(0, os.getcwd())
m = importlib.import_module(sys.argv[1])
def s(name):
    v = getattr(m, name, None)
    return None if v is None else str(v)
print(json.dumps({"wsgi_application": s("WSGI_APPLICATION"), "asgi_application": s("ASGI_APPLICATION"), "static_url": s("STATIC_URL"), "static_root": s("STATIC_ROOT")}))
"#;

fn import_settings(
    app_root: &Path,
    settings: &str,
    python: &str,
    env: &BTreeMap<String, String>,
) -> Result<RawSettings, Error> {
    let out = Command::new(python)
        .arg("-c")
        .arg(IMPORT_SETTINGS_PY)
        .arg(settings)
        .current_dir(app_root)
        .env_clear()
        .envs(env)
        .env("DJANGO_SETTINGS_MODULE", settings)
        .output()
        .map_err(|e| Error::io(format!("cannot run {python} to read {settings}"), e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim();
        return Err(Error::bad(format!(
            "cannot import Django settings {settings}: {last}; fix the settings module, or record \
             the values with `kubectl warpdrive init`"
        )));
    }
    let mut raw: RawSettings = serde_json::from_slice(&out.stdout).map_err(|e| {
        Error::bad(format!(
            "unexpected output reading Django settings {settings}: {e}"
        ))
    })?;
    raw.source = format!("imported {settings}");
    Ok(raw)
}

/// The entry point of a plain WSGI app in a `wsgi.py` or `wsgi/` package:
/// the first of `application`, `app` (Flask's convention) and a factory
/// `create_app()`/`make_app()` (taking no arguments, or only ones with
/// defaults) that the module binds at its top level; `application` when it
/// binds none of them in a way that can be read (the module may still make
/// one at run time).
pub fn wsgi_module_info(app_root: &Path) -> Option<AppInfo> {
    let file = ["wsgi.py", "wsgi/__init__.py"]
        .into_iter()
        .map(|f| app_root.join(f))
        .find(|f| f.is_file())?;
    let text = app_file::read_source(app_root, &file)
        .ok()
        .flatten()
        .unwrap_or_default();
    let (spec, why) = wsgi_callable(&text);
    Some(AppInfo {
        entry_point: EntryPoint::parse(&format!("wsgi:{spec}")),
        source: format!("found WSGI module wsgi{why}"),
        ..AppInfo::default()
    })
}

/// The ASGI app of an `asgi.py` or `asgi/` package: `application`, else
/// `app` (FastAPI's and Starlette's convention), whichever it binds.
pub fn asgi_module_info(app_root: &Path) -> Option<AppInfo> {
    let file = ["asgi.py", "asgi/__init__.py"]
        .into_iter()
        .map(|f| app_root.join(f))
        .find(|f| f.is_file())?;
    let text = app_file::read_source(app_root, &file)
        .ok()
        .flatten()
        .unwrap_or_default();
    let callable = asgi_callable(&text).unwrap_or("application");
    Some(AppInfo {
        asgi_entry_point: EntryPoint::parse(&format!("asgi:{callable}")),
        source: "found ASGI module asgi".to_string(),
        ..AppInfo::default()
    })
}

/// The ASGI callable a module binds: `application`, else `app`.
pub fn asgi_callable(text: &str) -> Option<&'static str> {
    ["application", "app"]
        .into_iter()
        .find(|n| module_binds(text, n))
}

/// The callable a WSGI module offers (see [`wsgi_module_info`]) and a note
/// for the reason line.
fn wsgi_callable(text: &str) -> (String, String) {
    if module_binds(text, "application") {
        return ("application".into(), String::new());
    }
    if module_binds(text, "app") {
        return ("app".into(), " (it defines app, not application)".into());
    }
    for factory in ["create_app", "make_app"] {
        if no_argument_factory(text, factory) {
            return (
                format!("{factory}()"),
                format!(" (a factory {factory}(), no application)"),
            );
        }
    }
    ("application".into(), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points() {
        assert_eq!(EntryPoint::parse("a.b:app").unwrap().spec(), "a.b:app");
        assert_eq!(
            EntryPoint::parse("a.wsgi").unwrap().spec(),
            "a.wsgi:application"
        );
        assert!(EntryPoint::parse("a b:c").is_none());
        assert!(EntryPoint::parse("a.:c").is_none());
        assert!(EntryPoint::parse("$(x)").is_none());
        let f = EntryPoint::parse("pkg.app:create_app()").unwrap();
        assert!(f.is_factory() && f.is_bare_factory());
        assert_eq!(
            (f.spec(), f.name()),
            ("pkg.app:create_app()".into(), "pkg.app:create_app".into())
        );
        let f = EntryPoint::parse("pkg:make('prod', debug=False)").unwrap();
        assert_eq!(f.call.as_deref(), Some("'prod', debug=False"));
        assert!(!f.is_bare_factory());
        assert!(EntryPoint::parse("pkg:make(__import__('os').system('x'))").is_none());
        assert!(EntryPoint::parse("pkg:make('$(id)')").is_none());
        assert!(EntryPoint::parse("pkg:make(").is_none());
        assert_eq!(
            EntryPoint::from_dotted_object("hello.wsgi.application")
                .unwrap()
                .spec(),
            "hello.wsgi:application"
        );
    }

    #[test]
    fn record_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let info = AppInfo {
            entry_point: EntryPoint::parse("blog.wsgi:app"),
            asgi_entry_point: None,
            recorded: false,
            static_url: Some("/assets/".into()),
            static_root: Some(root.join("var/static files")),
            django_settings: Some("blog.settings".into()),
            trust_proxy_headers: vec!["X-Forwarded-For".into(), "Forwarded".into()],
            source: String::new(),
        };
        let text = format_record(&info, root).unwrap();
        assert!(text.starts_with("# "), "{text}");
        std::fs::create_dir(root.join(".warpdrive")).unwrap();
        std::fs::write(root.join(".warpdrive").join(RECORD_FILE), &text).unwrap();
        let back = read_record(root).unwrap().unwrap();
        assert_eq!(
            AppInfo {
                source: String::new(),
                recorded: false,
                ..back
            },
            info
        );
        // An empty record reads back as empty.
        let empty = format_record(&AppInfo::default(), root).unwrap();
        std::fs::write(root.join(".warpdrive").join(RECORD_FILE), &empty).unwrap();
        let back = read_record(root).unwrap().unwrap();
        assert_eq!(
            AppInfo {
                source: String::new(),
                recorded: false,
                ..back
            },
            AppInfo::default()
        );
        // Values the reader would not give back are refused.
        let outside = AppInfo {
            static_root: Some("/elsewhere".into()),
            ..AppInfo::default()
        };
        assert!(format_record(&outside, root).is_err());
        let spaced = AppInfo {
            static_url: Some("/a/\nentry_point = x:y".into()),
            ..AppInfo::default()
        };
        assert!(format_record(&spaced, root).is_err());
    }

    #[test]
    fn a_wsgi_module_offers_application_app_or_a_factory() {
        assert_eq!(wsgi_callable("app = 1\n").0, "app");
        assert_eq!(
            wsgi_callable("app = 1\napplication = app\n").0,
            "application"
        );
        assert_eq!(
            wsgi_callable("def create_app(config=None):\n    pass\n").0,
            "create_app()"
        );
        assert_eq!(
            wsgi_callable("def create_app(config):\n    pass\n").0,
            "application"
        );
        assert_eq!(wsgi_callable("").0, "application");
    }

    #[test]
    fn static_urls() {
        assert_eq!(normalize_static_url("static/"), "/static/");
        assert_eq!(normalize_static_url("/s"), "/s/");
        assert_eq!(static_url_from(Some("https://cdn/x/".into())), None);
    }

    fn project(settings: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("proj")).unwrap();
        std::fs::write(dir.path().join("proj/__init__.py"), "").unwrap();
        std::fs::write(dir.path().join("proj/settings.py"), settings).unwrap();
        dir
    }

    #[test]
    fn reads_startproject_settings_without_python() {
        let dir = project(
            "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\n\
             WSGI_APPLICATION = 'proj.wsgi.application'\nSTATIC_URL = 'static/'\n\
             STATIC_ROOT = BASE_DIR / 'staticfiles'  # collected\n",
        );
        let raw = read_settings_statically(dir.path(), "proj.settings")
            .unwrap()
            .unwrap();
        assert_eq!(
            raw.wsgi_application.as_deref(),
            Some("proj.wsgi.application")
        );
        assert_eq!(
            PathBuf::from(raw.static_root.unwrap()),
            dir.path().join("staticfiles")
        );
        let dir = project(
            "import os\nBASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n\
             WSGI_APPLICATION = \"proj.wsgi.application\"\nSTATIC_URL = '/static/'\n\
             STATIC_ROOT = os.path.join(BASE_DIR, 'static', 'files')\n",
        );
        let raw = read_settings_statically(dir.path(), "proj.settings")
            .unwrap()
            .unwrap();
        assert_eq!(
            PathBuf::from(raw.static_root.unwrap()),
            dir.path().join("static/files")
        );
    }

    #[test]
    fn unusual_settings_are_left_to_python() {
        for text in [
            "from .base import *\n",
            "WSGI_APPLICATION = get()\n",
            "WSGI_APPLICATION = 'p.wsgi.application'\nSTATIC_ROOT = env('X')\n",
            "BASE_DIR = here()\nWSGI_APPLICATION = 'p.wsgi.application'\nSTATIC_ROOT = BASE_DIR / 's'\n",
        ] {
            let dir = project(text);
            assert!(read_settings_statically(dir.path(), "proj.settings").unwrap().is_none(), "{text}");
        }
    }
}
