//! `warpdrive build`: the steps, in order, each printing one line on stdout
//! (`build: <step>: <what happened>`); the output of the programs they run
//! goes to stderr. The first failure stops the build, naming the step and
//! the exit status (which becomes the build's).
//!
//! 1. `pre-build`: `.warpdrive/action_hooks/pre-build`.
//! 2. `environment`: the runtime environment (as `exec` computes it), then
//!    `action_hooks/build-env`, sourced, its exports kept for what follows.
//! 3. `pip`: each file in `WARPDRIVE_PIP_PACKAGES` (default
//!    `requirements.txt`), else `pip install -e .` for a `pyproject.toml` or
//!    `setup.py` project, with the pip of the Python that runs the app
//!    (`python -m pip`, the first `python`/`python3` on the runtime PATH);
//!    `.warpdrive/wheelhouse/` is `--find-links`, `WARPDRIVE_PIP_NO_INDEX=1`
//!    adds `--no-index`. Skipped when `.warpdrive/.build-stamps` holds the
//!    key of the same install (Python, command line, files read).
//! 4. `server`: the server's package (mod_wsgi, gunicorn, waitress, uWSGI),
//!    plus whitenoise when gunicorn or waitress serve static files, each
//!    installed only when missing.
//! 5. `build`: `action_hooks/build`.
//! 6. `collectstatic`: for Django in auto or django mode,
//!    `manage.py collectstatic --noinput`; with no STATIC_ROOT, into
//!    `$WARPDRIVE_APP_ROOT/static`, and where a record names another
//!    directory than STATIC_ROOT, into the record's (the one `exec` serves).
//!    Django's own copy skips unchanged files, so a second build copies
//!    nothing (it still starts Django, about 1 s).
//!    `DISABLE_COLLECTSTATIC` (the S2I image's and Heroku's) skips it, and
//!    then no directory of the launcher's is recorded as STATIC_ROOT. A
//!    failure stops the build (the S2I image only warns).
//! 7. `record`: what was detected (entry point, static files, settings
//!    module) written to `.warpdrive/application`, merged into a record that
//!    is already there (its values win), so `exec` needs no Python to start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::env::{self, Env};
use super::error::Error;
use super::pip::{self, Packages};
use crate::launcher::detect::{self, AppInfo};
use crate::launcher::server_type::ServerType;
use crate::launcher::{app_file, hooks, migrating, path, resolve};

/// What the `build` flags decide.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub app_root: Option<PathBuf>,
}

/// The steps' names, in order.
pub const STEPS: &[&str] = &[
    "pre-build",
    "environment",
    "pip",
    "server",
    "build",
    "collectstatic",
    "record",
];

fn line(step: &str, what: &str) {
    crate::outln!("build: {step}: {what}");
}

/// A failed program as the failure of `step`.
fn failed(step: &str, what: &str, status: i32) -> Error {
    Error::Failed(crate::error::ExitStatus {
        what: format!("build step {step} ({what})"),
        status,
    })
}

/// A failed hook, renamed after its step.
fn hook_error(step: &str, e: crate::launcher::Error) -> Error {
    match e {
        crate::launcher::Error::HookFailed(s) => failed(step, &s.what, s.status),
        other => other.into(),
    }
}

/// Runs `python ARGS…` in the app with `env`, stdout sent to stderr.
fn run_python(
    step: &str,
    python: &Path,
    args: &[String],
    root: &Path,
    env: &Env,
) -> Result<(), Error> {
    let shown = format!(
        "{} {}",
        python.display(),
        shlex::try_join(args.iter().map(String::as_str)).unwrap_or_default()
    );
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| Error::io("cannot duplicate stderr", e))?;
    let status = Command::new(python)
        .args(args)
        .current_dir(root)
        .env_clear()
        .envs(&env.all)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stderr))
        .status()
        .map_err(|e| Error::io(format!("cannot run {}", python.display()), e))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(step, &shown, env::status_code(status)))
    }
}

use std::os::fd::AsFd;

/// Whether `python` can import `module`.
fn importable(python: &Path, module: &str, root: &Path, env: &Env) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {module}")])
        .current_dir(root)
        .env_clear()
        .envs(&env.all)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The program a server type runs and the pip package that provides it.
fn server_package(t: ServerType) -> Option<(&'static str, &'static str)> {
    match t {
        ServerType::Django | ServerType::ModWsgi | ServerType::Paste => {
            Some(("mod_wsgi-express", "mod_wsgi"))
        }
        ServerType::Gunicorn => Some(("gunicorn", "gunicorn")),
        ServerType::Waitress => Some(("waitress-serve", "waitress")),
        ServerType::Uwsgi => Some(("uwsgi", "uWSGI")),
        ServerType::Uvicorn => Some(("uvicorn", "uvicorn")),
        ServerType::Shell | ServerType::Python => None,
    }
}

/// Runs the build for the app (see the module documentation).
pub fn build(opts: &Options, inherited: &BTreeMap<String, String>) -> Result<(), Error> {
    let ropts = resolve::Options {
        app_root: opts.app_root.clone(),
        server_type: None,
        deploy_env: false,
    };
    let root = resolve::app_root(&ropts, inherited)?;
    let wd = resolve::warpdrive_dir(&root)?;

    // 1. pre-build
    let ran = hooks::run_named(&root, "pre-build", None).map_err(|e| hook_error("pre-build", e))?;
    line(
        "pre-build",
        if ran {
            "ran .warpdrive/action_hooks/pre-build"
        } else {
            "no hook"
        },
    );

    // 2. environment
    let mut env = env::runtime(&root, inherited, false)?;
    let sourced = env::source_hook(&root, "build-env", &mut env).map_err(|e| match e {
        Error::Failed(s) => failed("environment", &s.what, s.status),
        other => other,
    })?;
    line(
        "environment",
        &format!(
            "WARPDRIVE_APP_ROOT={}{}",
            env.app_root().display(),
            if sourced { ", build-env applied" } else { "" }
        ),
    );

    // 3. pip
    let python_name = path::python(&env.all);
    let python = path::find_on_path(&python_name, &env.all).ok_or_else(|| {
        Error::bad(format!(
            "no python or python3 on PATH ({}); install Python or put its bin directory on PATH",
            env.all.get("PATH").map(String::as_str).unwrap_or("")
        ))
    })?;
    let common = pip::common_args(&root, &env.all)?;
    let packages = pip::packages(&root, &env.all)?;
    let shown = pip::package_args(&packages).join(" ");
    if packages == Packages::Nothing {
        line(
            "pip",
            "nothing to install (no requirements.txt, pyproject.toml or setup.py)",
        );
    } else {
        let mut args = common.clone();
        args.extend(pip::package_args(&packages));
        let key = pip::key(&root, &python, &args, &packages)?;
        if pip::stamped(&root, "pip", &key)? {
            line("pip", &format!("up to date ({shown})"));
        } else {
            run_python("pip", &python, &args, &root, &env)?;
            pip::stamp(&root, "pip", &key)?;
            line("pip", &format!("installed {shown}"));
        }
    }

    // 4. server (and what the app is, for it, collectstatic and the record)
    let (configured, origin) = resolve::configured_type(&ropts, &env.all, &wd)?;
    let (server_type, _) = resolve::chosen_type(configured, origin, &root, &env.home, &env.all)?;
    let python_str = python.display().to_string();
    let record = detect::read_record(&root)?;
    let django = detect::django_settings_module(&env.home, &env.all)?;
    let collect_off = migrating::switch(&env.all, "DISABLE_COLLECTSTATIC");
    let collect = server_type == ServerType::Django && !collect_off;
    let mut detected = match (&django, server_type) {
        (Some(s), t) if t != ServerType::Shell && t != ServerType::Python => {
            Some(detect::django_info(&env.home, s, &python_str, &env.all)?)
        }
        (None, ServerType::Shell | ServerType::Python) => None,
        (_, _) => detect::wsgi_module_info(&env.home),
    };
    // Django without STATIC_ROOT: collect under $WARPDRIVE_APP_ROOT.
    let settings_root = detected.as_ref().and_then(|i| i.static_root.clone());
    if let Some(info) = detected.as_mut() {
        if collect && info.static_root.is_none() && info.static_url.is_some() {
            info.static_root = Some(env.app_root().join("static"));
        }
        // Nothing collected and no STATIC_ROOT of its own: nothing to serve,
        // and nothing recorded that a later build must keep.
        if collect_off && server_type == ServerType::Django && info.static_root.is_none() {
            info.static_url = None;
        }
    }
    let info = merge(record.clone(), detected);
    // Collect where exec will serve from: that directory, when it is not the
    // settings' STATIC_ROOT (none set, or a record that names another).
    let own_static = info
        .as_ref()
        .and_then(|i| i.static_root.clone())
        .filter(|dir| Some(dir) != settings_root.as_ref());
    let mut missing = Vec::new();
    let mut present = Vec::new();
    if let Some((program, package)) = server_package(server_type) {
        if path::find_on_path(program, &env.all).is_some() {
            present.push(program);
        } else {
            missing.push(package);
        }
    }
    let static_files = info.as_ref().and_then(AppInfo::static_files).is_some();
    if static_files
        && matches!(
            server_type,
            ServerType::Gunicorn | ServerType::Waitress | ServerType::Uvicorn
        )
        && !importable(&python, "whitenoise", &root, &env)
    {
        missing.push("whitenoise");
    }
    if missing.is_empty() {
        line(
            "server",
            &if present.is_empty() {
                format!("{} needs no server package", server_type.name())
            } else {
                format!("{} present", present.join(", "))
            },
        );
    } else {
        let mut args = common.clone();
        args.extend(missing.iter().map(|m| m.to_string()));
        run_python("server", &python, &args, &root, &env)?;
        line("server", &format!("installed {}", missing.join(", ")));
    }

    // 5. build
    let ran =
        hooks::run_named(&root, "build", Some(&env.all)).map_err(|e| hook_error("build", e))?;
    line(
        "build",
        if ran {
            "ran .warpdrive/action_hooks/build"
        } else {
            "no hook"
        },
    );

    // 6. collectstatic
    match (&django, collect, &info) {
        (Some(settings), true, Some(i)) if i.static_files().is_some() => {
            let dir = i.static_root.clone().unwrap_or_default();
            let args: Vec<String> = match &own_static {
                Some(d) => vec![
                    "-c".into(),
                    COLLECT_INTO_PY.into(),
                    settings.clone(),
                    d.display().to_string(),
                ],
                None => ["manage.py", "collectstatic", "--noinput"]
                    .map(String::from)
                    .to_vec(),
            };
            run_python("collectstatic", &python, &args, &env.home, &env)?;
            line("collectstatic", &format!("into {}", dir.display()));
        }
        (Some(_), true, _) => line(
            "collectstatic",
            "skipped: STATIC_URL is not set in the Django settings",
        ),
        (Some(_), false, _) if collect_off => {
            line("collectstatic", "skipped: DISABLE_COLLECTSTATIC is set")
        }
        (Some(_), false, _) => line(
            "collectstatic",
            &format!(
                "skipped for {} (only auto and django collect static files)",
                server_type.name()
            ),
        ),
        (None, _, _) => line("collectstatic", "not a Django app"),
    }

    // 7. record
    let path = wd.join(detect::RECORD_FILE);
    match &info {
        Some(i) if *i != AppInfo::default() => {
            let text = detect::format_record_absolute_ok(i, &root)?;
            app_file::confine(&root, &path)?;
            let old = app_file::read_text(&root, &path)?;
            if old.as_deref() == Some(text.as_str()) {
                line("record", ".warpdrive/application is up to date");
            } else {
                crate::init::write::write_atomic(&crate::init::files::File {
                    path,
                    rel: format!(".warpdrive/{}", detect::RECORD_FILE),
                    text,
                    mode: 0o644,
                })?;
                line("record", "wrote .warpdrive/application");
            }
        }
        _ => line("record", "nothing detected to record"),
    }
    Ok(())
}

/// A record already there keeps its values; detection fills the rest.
fn merge(record: Option<AppInfo>, detected: Option<AppInfo>) -> Option<AppInfo> {
    let strip = |mut i: AppInfo| {
        i.source = String::new();
        i
    };
    match (record, detected) {
        (None, d) => d.map(strip),
        (Some(r), None) => Some(strip(r)),
        (Some(r), Some(d)) => Some(AppInfo {
            entry_point: r.entry_point.or(d.entry_point),
            asgi_entry_point: d.asgi_entry_point,
            recorded: true,
            static_url: r.static_url.clone().or(d.static_url),
            static_root: match r.static_url {
                // A record that names the URL names the directory with it.
                Some(_) => r.static_root,
                None => r.static_root.or(d.static_root),
            },
            django_settings: r.django_settings.or(d.django_settings),
            trust_proxy_headers: r.trust_proxy_headers,
            source: String::new(),
        }),
    }
}

/// collectstatic into a directory when the settings have no STATIC_ROOT:
/// argv is the settings module and the directory.
const COLLECT_INTO_PY: &str = r#"
import os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", sys.argv[1])
import django
from django.conf import settings
settings.STATIC_ROOT = sys.argv[2]
django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False)
"#;
