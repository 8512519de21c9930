//! Resolution: `.warpdrive/` + environment + app layout → [`Plan`].

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::app_file;
use super::args;
use super::cgroup;
use super::detect;
use super::dirs;
use super::environment::{self, Runtime};
use super::error::Error;
use super::migrating;
use super::path;
use super::plan::Plan;
use super::proxy::Proxy;
use super::server_type::{self, ServerType};
use super::servers::{self, Ctx};
use crate::knobs::{Knobs, Value};

/// What the caller (the `exec` flags) decides.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub app_root: Option<PathBuf>,
    pub server_type: Option<String>,
    /// Run `.warpdrive/action_hooks/deploy-env` to complete the environment
    /// (`exec` does, with or without `--dry-run`; `init` does not).
    pub deploy_env: bool,
}

/// The app directory: `--app-root`, else `$WARPDRIVE_SRC_ROOT`, else the
/// current directory.
pub fn app_root(opts: &Options, env: &BTreeMap<String, String>) -> Result<PathBuf, Error> {
    let (dir, origin) = match (
        &opts.app_root,
        env.get("WARPDRIVE_SRC_ROOT").filter(|s| !s.is_empty()),
    ) {
        (Some(d), _) => (d.clone(), "--app-root"),
        (None, Some(d)) => (PathBuf::from(d), "WARPDRIVE_SRC_ROOT"),
        (None, None) => (
            std::env::current_dir()
                .map_err(|e| Error::io("cannot read the current directory", e))?,
            "the current directory",
        ),
    };
    if !dir.is_dir() {
        return Err(Error::bad(format!(
            "{origin} {}: not a directory; point it at the app's source directory",
            dir.display()
        )));
    }
    dir.canonicalize()
        .map_err(|e| Error::io(format!("cannot resolve {}", dir.display()), e))
}

/// The `.warpdrive` directory (it may not exist); a file there, or a
/// symlink leading out of the app, is an error.
pub fn warpdrive_dir(app_root: &Path) -> Result<PathBuf, Error> {
    let dir = app_root.join(".warpdrive");
    app_file::confine(app_root, &dir)?;
    if dir.exists() && !dir.is_dir() {
        return Err(Error::bad(format!(
            "{}: is a file, but must be a directory holding server_type, server_args, …; move it aside",
            dir.display()
        )));
    }
    Ok(dir)
}

/// The configured server type and where it came from; `None` type is auto.
///
/// `--server-type`, else `WARPDRIVE_SERVER_TYPE`, else the files
/// `.warpdrive/server_type` and `.warpdrive/deploy_mode` (the original
/// warpdrive's, which the example repositories use), with the same words;
/// `deploy_mode` also takes the original's `wsgi` ("the WSGI server
/// `server_type` names, else mod_wsgi"). When both files exist and differ,
/// `deploy_mode` wins, except where it leaves the server open, as the
/// original's did: `auto` and `wsgi` take the type `server_type` names, and
/// `django` runs on the server `server_type` names (a WSGI server or uvicorn).
pub fn configured_type(
    opts: &Options,
    env: &BTreeMap<String, String>,
    wd: &Path,
) -> Result<(Option<ServerType>, String), Error> {
    if let Some(t) = &opts.server_type {
        return Ok((
            ServerType::parse(t.trim(), "--server-type")?,
            format!("--server-type {t}"),
        ));
    }
    if let Some(t) = env
        .get("WARPDRIVE_SERVER_TYPE")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        return Ok((
            ServerType::parse(t, "WARPDRIVE_SERVER_TYPE")?,
            format!("WARPDRIVE_SERVER_TYPE={t}"),
        ));
    }
    let server_type = match type_file(wd, "server_type")? {
        Some((Mode::Type(t), w)) => Some((t, w)),
        _ => None,
    };
    let deploy_mode = type_file(wd, "deploy_mode")?;
    let says = |file: &str, word: &str| format!(".warpdrive/{file} says {word}");
    Ok(match (server_type, deploy_mode) {
        (None, None) => (None, String::new()),
        (Some((t, w)), None) => (t, says("server_type", &w)),
        (None, Some((Mode::Type(t), w))) => (t, says("deploy_mode", &w)),
        (None, Some((Mode::Wsgi, w))) => (Some(ServerType::ModWsgi), says("deploy_mode", &w)),
        (Some((st, sw)), Some((dm, dw))) => {
            let wsgi = st.is_some_and(ServerType::is_wsgi_server);
            match dm {
                Mode::Type(dt) if dt == st => (st, says("server_type and deploy_mode", &sw)),
                Mode::Type(None) => (
                    st,
                    format!(
                        "{} (deploy_mode auto leaves the type to it)",
                        says("server_type", &sw)
                    ),
                ),
                Mode::Wsgi if wsgi => (
                    st,
                    format!(
                        "{} (deploy_mode wsgi: the WSGI app on {sw})",
                        says("server_type", &sw)
                    ),
                ),
                Mode::Wsgi => (
                    Some(ServerType::ModWsgi),
                    format!(
                        "{} (mod_wsgi: server_type {sw} is not a WSGI server)",
                        says("deploy_mode", &dw)
                    ),
                ),
                Mode::Type(Some(ServerType::Django)) if wsgi => (
                    st,
                    format!(
                        "{} (deploy_mode django: the Django project on {sw})",
                        says("server_type", &sw)
                    ),
                ),
                Mode::Type(dt) => (
                    dt,
                    format!(
                        "{} (it wins over server_type {sw})",
                        says("deploy_mode", &dw)
                    ),
                ),
            }
        }
    })
}

/// The server type that runs and why: the configured one
/// ([`configured_type`]), else the migration variables and the Procfile
/// ([`migrating::auto`]), else detection ([`detect::auto`]).
pub fn chosen_type(
    configured: Option<ServerType>,
    origin: String,
    src_root: &Path,
    home: &Path,
    env: &BTreeMap<String, String>,
) -> Result<(ServerType, String), Error> {
    if let Some(t) = configured {
        return Ok((t, origin));
    }
    if let Some(found) = migrating::auto(src_root, home, env)? {
        return Ok(found);
    }
    let choice = detect::auto(home, env)?;
    Ok((choice.server_type, choice.reason))
}

/// What `.warpdrive/deploy_mode` says.
enum Mode {
    Type(Option<ServerType>),
    /// The original's `wsgi`.
    Wsgi,
}

/// The first word of `.warpdrive/<name>` (and the word), or `None` when
/// the file is missing. `wsgi` is a word only in `deploy_mode`.
fn type_file(wd: &Path, name: &str) -> Result<Option<(Mode, String)>, Error> {
    let file = wd.join(name);
    let Some(text) = app_file::read_text(app_root_of(wd), &file)? else {
        return Ok(None);
    };
    let word = text
        .split_whitespace()
        .next()
        .unwrap_or(server_type::AUTO)
        .to_string();
    if name == "deploy_mode" && word == "wsgi" {
        return Ok(Some((Mode::Wsgi, word)));
    }
    let t = ServerType::parse(&word, &file.display().to_string())?;
    Ok(Some((Mode::Type(t), word)))
}

/// The app directory of a `.warpdrive` directory.
fn app_root_of(wd: &Path) -> &Path {
    wd.parent().unwrap_or(wd)
}

pub use super::app_file::server_args_path;

/// Reads and expands `.warpdrive/server_args` (or `server_args/<type>`).
pub fn server_args(
    wd: &Path,
    server_type: ServerType,
    env: &BTreeMap<String, String>,
) -> Result<Vec<String>, Error> {
    let path = server_args_path(wd, server_type);
    let Some(text) = app_file::read_text(app_root_of(wd), &path)? else {
        return Ok(Vec::new());
    };
    args::split_and_expand(&text, env).map_err(|e| Error::bad(format!("{}: {e}", path.display())))
}

/// [`Proxy::from_env`], where `WARPDRIVE_TRUST_PROXY_HEADERS`, when unset, defaults to
/// the `trust_proxy_headers` recorded in `.warpdrive/application` by `init`.
pub fn proxy_with_record(env: &BTreeMap<String, String>, app_root: &Path) -> Result<Proxy, Error> {
    if !env.contains_key("WARPDRIVE_TRUST_PROXY_HEADERS") {
        if let Some(record) = detect::read_record(app_root)? {
            if !record.trust_proxy_headers.is_empty() {
                let mut env = env.clone();
                env.insert(
                    "WARPDRIVE_TRUST_PROXY_HEADERS".into(),
                    record.trust_proxy_headers.join(","),
                );
                return Proxy::from_env(&env);
            }
        }
    }
    Proxy::from_env(env)
}

/// `WEB_CONCURRENCY` (Heroku's and the S2I image's number of processes),
/// when set and not empty, checked as `MOD_WSGI_PROCESSES` is; it counts
/// where `MOD_WSGI_PROCESSES` is unset, before `WARPDRIVE_AUTO_PROCESSES`.
pub fn web_concurrency(env: &BTreeMap<String, String>) -> Result<Option<u64>, Error> {
    let Some(raw) = env.get("WEB_CONCURRENCY").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let knob = crate::knobs::find("MOD_WSGI_PROCESSES").ok_or_else(|| {
        Error::bad("the MOD_WSGI_PROCESSES knob is missing from the table".to_string())
    })?;
    let bad = |expected: &str| {
        Error::bad(format!(
            "WEB_CONCURRENCY={} is not valid: expected {expected} (the number of server \
             processes); fix or unset WEB_CONCURRENCY",
            crate::error::quoted(raw)
        ))
    };
    match knob.parse(raw) {
        Ok(Value::Int(n)) => Ok(Some(n)),
        Ok(_) => Err(bad("a whole number")),
        Err(e) => Err(bad(&e.expected)),
    }
}

/// `WARPDRIVE_HTTP_PORT`, default 8080.
pub fn port(env: &BTreeMap<String, String>) -> Result<u16, Error> {
    match env
        .get("WARPDRIVE_HTTP_PORT")
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
    {
        None => Ok(8080),
        Some(p) => p.parse::<u16>().ok().filter(|&n| n > 0).ok_or_else(|| {
            Error::bad(format!(
                "WARPDRIVE_HTTP_PORT={p:?} is not valid: expected a port from 1 to 65535"
            ))
        }),
    }
}

/// The plan for `warpdrive exec -- CMD ARGS…`: the command as given, in
/// the app's home, with the same environment as the app server gets.
pub fn command_plan(
    opts: &Options,
    env: &BTreeMap<String, String>,
    argv: Vec<String>,
) -> Result<Plan, Error> {
    let src_root = app_root(opts, env)?;
    warpdrive_dir(&src_root)?;
    let rt = environment::runtime(&src_root, env, opts.deploy_env)?;
    port(&rt.all)?;
    Ok(Plan {
        server_type: None,
        reason: "command given after --".to_string(),
        argv,
        env: rt.set.clone(),
        cwd: rt.home.clone(),
        watch: None,
        src_root,
        hook_env: rt.set,
    })
}

/// Resolves what `warpdrive exec` runs. Reads files; starts nothing (except
/// `deploy-env` when [`Options::deploy_env`] asks, a short Python import of
/// Django settings written in a way that cannot be read statically, and a
/// whitenoise check when gunicorn/waitress serve static files).
pub fn resolve(opts: &Options, env: &BTreeMap<String, String>) -> Result<Plan, Error> {
    let src_root = app_root(opts, env)?;
    let wd = warpdrive_dir(&src_root)?;
    let rt: Runtime = environment::runtime(&src_root, env, opts.deploy_env)?;
    let env = &rt.all;
    let (configured, type_origin) = configured_type(opts, env, &wd)?;
    let mut knobs = Knobs::from_env(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| Error::bad(format!("{e} (fix the environment variable)")))?;
    let mut notes = Vec::new();
    let port = port(env)?;
    let (server_type, reason) = chosen_type(configured, type_origin, &src_root, &rt.home, env)?;
    notes.extend(migrating::ignored(server_type, &src_root, &rt.home, env));
    if let Some(n) = web_concurrency(env)? {
        if knobs.get("MOD_WSGI_PROCESSES").is_none() {
            knobs.set("MOD_WSGI_PROCESSES", Value::Int(n));
            notes.push(format!("{n} processes from WEB_CONCURRENCY"));
        } else {
            notes.push("WEB_CONCURRENCY ignored: MOD_WSGI_PROCESSES is set".to_string());
        }
    }
    if knobs.get("MOD_WSGI_PROCESSES").is_none()
        && env
            .get("WARPDRIVE_AUTO_PROCESSES")
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on"))
    {
        let limits = cgroup::Limits::read(&cgroup::root(env));
        let figures = crate::sizing::footprint(server_type.name());
        let threads = knobs.threads();
        knobs.set(
            "MOD_WSGI_PROCESSES",
            Value::Int(limits.processes(&figures, threads)),
        );
        notes.push(limits.explain(&figures, threads));
    }
    let user_args = server_args(&wd, server_type, env)?;
    let proxy = proxy_with_record(env, &src_root)?;
    let runtime_dir = dirs::runtime_dir(env);
    let python = path::python(env);
    let ctx = Ctx {
        src_root: &src_root,
        home: &rt.home,
        server_type,
        env,
        knobs: &knobs,
        port,
        user_args: &user_args,
        app: OnceCell::new(),
        proxy: &proxy,
        runtime_dir: &runtime_dir,
        python: &python,
    };
    let launch = servers::command(&ctx)?;
    let mut plan_env = rt.set.clone();
    plan_env.extend(launch.env);
    // The settings the launcher read are the ones the server runs with
    // (the original exported it too).
    if let Some(Some(settings)) = ctx
        .app
        .get()
        .map(|a| a.as_ref().and_then(|a| a.django_settings.clone()))
    {
        if !env.contains_key("DJANGO_SETTINGS_MODULE") {
            plan_env.insert("DJANGO_SETTINGS_MODULE".into(), settings);
        }
    }
    let mut reason_parts = vec![reason];
    reason_parts.extend(launch.notes);
    reason_parts.extend(notes);
    Ok(Plan {
        server_type: Some(server_type),
        reason: reason_parts.join("; "),
        argv: launch.argv,
        env: plan_env,
        cwd: rt.home.clone(),
        watch: launch.watch,
        src_root,
        hook_env: rt.set,
    })
}
