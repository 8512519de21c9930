//! The answers `init` collects, which server types take which, and the
//! checks every answer passes, whether it came from a flag, a default or a
//! prompt.

use std::path::{Component, Path, PathBuf};

use super::error::Error;
use crate::launcher::detect::{self, EntryPoint};
use crate::launcher::proxy;
use crate::launcher::server_type::ServerType;

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
    t == ServerType::Django || t.is_app_server()
}

/// Types where static files, proxy headers and capacity apply.
pub fn takes_server_options(t: ServerType) -> bool {
    is_mod_wsgi_family(t) || t.is_app_server()
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

/// The canonical name of a proxy header the chosen server can trust.
pub fn proxy_header(name: &str, t: ServerType) -> Result<String, Error> {
    let canonical = proxy::canonical_header(name).ok_or_else(|| {
        Error::bad(format!(
            "--trust-proxy-header {name:?}: unknown header; use one of {}",
            proxy::PROXY_HEADERS.join(", ")
        ))
    })?;
    if is_mod_wsgi_family(t) && proxy::MOD_WSGI_UNTRUSTABLE.contains(&canonical) {
        return Err(Error::bad(format!(
            "--trust-proxy-header {canonical}: mod_wsgi-express (server type {}) cannot trust it; \
             use X-Forwarded-* headers, or gunicorn, waitress, uwsgi or uvicorn",
            t.name()
        )));
    }
    Ok(canonical.to_string())
}

/// Validates an entry point answer.
pub fn entry_point(text: &str, origin: &str) -> Result<EntryPoint, Error> {
    EntryPoint::parse(text.trim()).ok_or_else(|| {
        Error::bad(format!(
            "{origin} {text:?}: not a WSGI entry point; write module:callable, a factory \
             module:create_app() or a dotted module (e.g. blog.wsgi:application)"
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

/// `root` relative to `app_root`, for display and for files.
pub fn relative(app_root: &Path, root: &Path) -> String {
    root.strip_prefix(app_root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| root.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
