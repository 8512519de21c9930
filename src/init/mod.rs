//! `kubectl warpdrive init`: write `.warpdrive/` from prompts or flags.
//!
//! 1. [`detect`] the layout with the launcher's own code (`detect::auto`,
//!    Django settings, the `wsgi` module convention).
//! 2. [`ask`] each question that applies to the chosen server type: from
//!    its flag, else the detected default with `--yes`, else a prompt on a
//!    terminal; without a terminal a missing answer is an error naming the
//!    flag (never a prompt that hangs).
//! 3. [`files`]: `server_type`, `server_args` (or `server_args/<type>`), the
//!    `application` record ([`detect::format_record`]) and, on request, an
//!    `action_hooks/deploy` skeleton.
//! 4. [`output`]: print them (`--dry-run`), or diff against what exists, ask
//!    or refuse, and write each file through a temp file and a rename. Then
//!    resolve the way `warpdrive exec --dry-run` does and print the command.
//!
//! What goes where, per server type (the launcher reads it back):
//!
//! | answer | django, mod_wsgi, paste | gunicorn | waitress | uwsgi |
//! | --- | --- | --- | --- | --- |
//! | entry point | `application` (not paste) | `application` | `application` | `application` |
//! | static files | `application`; paste: `--url-alias URL DIR/` | `application` (WhiteNoise) | same | `application` (`--static-map`) |
//! | proxy headers | `--trust-proxy-header H` | `application` `trust_proxy_headers` | same | same |
//! | processes | `--processes N` | `--workers N` | refused above 1 | `--processes N` |
//! | threads | `--threads N` | `--threads N` | `--threads N` | `--threads N` |
//!
//! `shell` and `python` get only `server_type` (and the hook): their
//! server_args are arguments of `app.sh`/`app.py`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::cli::InitArgs;
use crate::launcher::detect::{self, AppInfo, AutoChoice, EntryPoint};
use crate::launcher::{self, resolve, ServerType};

pub mod ask;
pub mod files;
pub mod output;

/// Everything that can stop `init`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, answers or layout: one line, exit 2, nothing written.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    /// The user declined to overwrite existing files. Exit 1.
    #[error("{0}")]
    Declined(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Launcher(#[from] launcher::Error),
    #[error("prompt failed: {0}")]
    Prompt(#[from] dialoguer::Error),
}

impl Error {
    pub fn bad(msg: impl Into<String>) -> Self {
        Error::BadInput(crate::error::BadInput::new(msg))
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// What the layout says, offered as defaults.
#[derive(Debug, Clone)]
pub struct Detected {
    /// The canonical app directory.
    pub app_root: PathBuf,
    /// The `auto` choice, or why there is none.
    pub auto: Result<AutoChoice, String>,
    /// Entry point and static files (Django settings or a `wsgi` module).
    pub app: Option<AppInfo>,
    /// Detection problems worth a warning (e.g. unreadable Django settings).
    pub warnings: Vec<String>,
}

/// Detects the layout of `app_root` (already canonical) with the launcher's code.
pub fn detect(app_root: &Path, python: &str) -> Result<Detected, Error> {
    let auto = detect::auto(app_root).map_err(|e| e.to_string());
    let mut warnings = Vec::new();
    let app = match detect::django_settings_module(app_root)? {
        Some(settings) => match detect::django_info(app_root, &settings, python) {
            Ok(info) => Some(info),
            Err(e) => {
                warnings.push(format!("could not read the Django settings: {e}"));
                None
            }
        },
        None => detect::wsgi_module_info(app_root),
    };
    Ok(Detected {
        app_root: app_root.to_path_buf(),
        auto,
        app,
        warnings,
    })
}

/// The answers, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// What goes into `server_type`; `None` is `auto`.
    pub written_type: Option<ServerType>,
    /// The type the launcher will run (`auto` resolved).
    pub server_type: ServerType,
    pub entry_point: Option<EntryPoint>,
    /// URL prefix (`/static/`) and absolute directory inside the app.
    pub static_files: Option<(String, PathBuf)>,
    /// Canonical header names.
    pub proxy_headers: Vec<String>,
    pub processes: Option<u64>,
    pub threads: Option<u64>,
    pub deploy_hook: bool,
    /// `DJANGO_SETTINGS_MODULE`, recorded when the app is a Django project.
    pub django_settings: Option<String>,
}

/// Server types hosted by mod_wsgi-express.
pub fn is_mod_wsgi_family(t: ServerType) -> bool {
    matches!(
        t,
        ServerType::Django | ServerType::ModWsgi | ServerType::Paste
    )
}

/// Types whose app is a WSGI entry point `init` records.
pub fn takes_entry_point(t: ServerType) -> bool {
    t == ServerType::Django || t.is_wsgi_server()
}

/// Types where static files, proxy headers and capacity apply.
pub fn takes_server_options(t: ServerType) -> bool {
    is_mod_wsgi_family(t) || t.is_wsgi_server()
}

/// The proxy headers offered by the multi-select.
pub const OFFERED_HEADERS: &[&str] = &[
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Proto",
    "X-Forwarded-Scheme",
    "Forwarded",
];

/// Headers mod_wsgi-express itself cannot trust.
pub const MOD_WSGI_UNSUPPORTED: &[&str] = &["Forwarded"];

/// The canonical name of a proxy header the chosen server can trust.
pub fn proxy_header(name: &str, t: ServerType) -> Result<String, Error> {
    let canonical = resolve::PROXY_HEADERS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            Error::bad(format!(
                "--trust-proxy-header {name:?}: unknown header; use one of {}",
                resolve::PROXY_HEADERS.join(", ")
            ))
        })?;
    if is_mod_wsgi_family(t) && MOD_WSGI_UNSUPPORTED.contains(canonical) {
        return Err(Error::bad(format!(
            "--trust-proxy-header {canonical}: mod_wsgi-express (server type {}) cannot trust it; \
             use X-Forwarded-* headers, or gunicorn, waitress or uwsgi",
            t.name()
        )));
    }
    Ok(canonical.to_string())
}

/// Validates an entry point answer.
pub fn entry_point(text: &str, origin: &str) -> Result<EntryPoint, Error> {
    EntryPoint::parse(text.trim()).ok_or_else(|| {
        Error::bad(format!(
            "{origin} {text:?}: not a WSGI entry point; write module:callable or a dotted module \
             (e.g. blog.wsgi:application)"
        ))
    })
}

/// Validates a static URL answer and normalizes it to `/prefix/`.
pub fn static_url(text: &str, origin: &str) -> Result<String, Error> {
    let t = text.trim();
    if t.contains("://") || t.starts_with("//") || t.chars().any(char::is_whitespace) {
        return Err(Error::bad(format!(
            "{origin} {text:?}: not a URL path the container can serve; give a path like /static/ \
             (files on a CDN need no static files here: use --no-static)"
        )));
    }
    Ok(detect::normalize_static_url(t))
}

/// Validates a static directory (relative to the app, or absolute inside
/// it) and returns it absolute. It may not exist yet (collectstatic runs
/// at build time), but it must not leave the app, also through symlinks,
/// and must not be the app itself (that would serve the source code).
pub fn static_root(app_root: &Path, text: &str, origin: &str) -> Result<PathBuf, Error> {
    let given = Path::new(text.trim());
    let joined = if given.is_absolute() {
        given.to_path_buf()
    } else {
        app_root.join(given)
    };
    let mut norm = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                norm.pop();
            }
            Component::CurDir => {}
            other => norm.push(other),
        }
    }
    let outside = || {
        Error::bad(format!(
            "{origin} {text:?}: the static directory {} is outside the app {}; choose a directory \
             inside the app (or --no-static)",
            norm.display(),
            app_root.display()
        ))
    };
    if text.trim().is_empty()
        || !norm.starts_with(app_root)
        || !real_path(&norm).starts_with(app_root)
    {
        return Err(outside());
    }
    if norm == app_root {
        return Err(Error::bad(format!(
            "{origin} {text:?}: the static directory is the app directory itself, which would serve \
             the source code; choose a subdirectory such as static"
        )));
    }
    Ok(norm)
}

/// `path` with symlinks resolved in its longest existing ancestor.
fn real_path(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut cur = path.to_path_buf();
    loop {
        if let Ok(real) = cur.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.file_name().map(|n| n.to_os_string()), cur.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                cur = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Runs `init`: the whole flow. `interactive` is true when stdin and stderr
/// are terminals. Returns the process exit code.
pub fn run(
    args: &InitArgs,
    env: &BTreeMap<String, String>,
    interactive: bool,
) -> Result<i32, Error> {
    let opts = launcher::Options {
        app_root: Some(args.app_root.clone()),
        server_type: None,
    };
    let app_root = resolve::app_root(&opts, env)?;
    let wd = resolve::warpdrive_dir(&app_root)?;
    let python = resolve::python(env);
    let detected = detect(&app_root, &python)?;
    for w in &detected.warnings {
        eprintln!("warpdrive: warning: {w}");
    }
    let answers = ask::answers(args, &detected, interactive)?;
    let planned = files::files(&answers, &app_root, &wd)?;
    if args.dry_run {
        output::print_dry_run(&planned, &app_root);
        return Ok(0);
    }
    output::write_all(&planned, &app_root, args.force, interactive)?;
    output::print_resolution(&app_root, env);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(t: ServerType) -> Answers {
        Answers {
            written_type: Some(t),
            server_type: t,
            entry_point: EntryPoint::parse("app:wsgi"),
            static_files: None,
            proxy_headers: vec!["X-Forwarded-For".into()],
            processes: Some(2),
            threads: Some(4),
            deploy_hook: false,
            django_settings: None,
        }
    }

    #[test]
    fn each_server_gets_options_it_understands() {
        let root = Path::new("/app");
        let opts = |t| {
            files::server_options(&answers(t), root)
                .unwrap()
                .join(" | ")
        };
        let mod_wsgi = "--trust-proxy-header X-Forwarded-For | --processes 2 | --threads 4";
        assert_eq!(opts(ServerType::Django), mod_wsgi);
        assert_eq!(opts(ServerType::ModWsgi), mod_wsgi);
        assert_eq!(opts(ServerType::Paste), mod_wsgi);
        assert_eq!(opts(ServerType::Gunicorn), "--workers 2 | --threads 4");
        assert_eq!(opts(ServerType::Uwsgi), "--processes 2 | --threads 4");
        // Proxy headers for the middleware servers go to the record.
        let rec = files::record(&answers(ServerType::Waitress), root)
            .unwrap()
            .unwrap();
        assert!(
            rec.contains("\ntrust_proxy_headers = X-Forwarded-For\n"),
            "{rec}"
        );
        let rec = files::record(&answers(ServerType::ModWsgi), root)
            .unwrap()
            .unwrap();
        assert!(!rec.contains("trust_proxy_headers"), "{rec}");
        assert!(files::record(&answers(ServerType::Paste), root)
            .unwrap()
            .is_none());
    }

    #[test]
    fn static_roots_stay_inside_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(
            static_root(&root, "static", "x").unwrap(),
            root.join("static")
        );
        assert_eq!(static_root(&root, "a/../b/", "x").unwrap(), root.join("b"));
        let abs = root.join("s").display().to_string();
        assert_eq!(static_root(&root, &abs, "x").unwrap(), root.join("s"));
        for bad in ["..", "../x", "/etc", "", ".", "a/.."] {
            assert!(static_root(&root, bad, "x").is_err(), "{bad:?}");
        }
        std::os::unix::fs::symlink("/tmp", root.join("out")).unwrap();
        assert!(static_root(&root, "out/static", "x").is_err());
    }

    #[test]
    fn static_urls_are_paths() {
        assert_eq!(static_url("static", "x").unwrap(), "/static/");
        for bad in ["https://cdn/x/", "//cdn/x", "/a b/"] {
            assert!(static_url(bad, "x").is_err(), "{bad:?}");
        }
    }
}
