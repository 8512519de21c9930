//! What `auto` saw when it found no app: the near misses, each with the
//! fix that makes it the app. Read without running Python
//! ([`pysource`](super::pysource)); the directory and its subdirectories
//! one level down, hidden ones and caches left out, in name order.

use std::path::{Path, PathBuf};

use super::app_file;
use super::pysource::{has_section, module_binds, settings_default, SettingsDefault};

/// The text of `file` under `root` for a near miss; a file that cannot be
/// read safely ([`app_file::read_source`]) is no near miss.
fn read_source(root: &Path, file: &Path) -> Option<String> {
    app_file::read_source(root, file).ok().flatten()
}

/// At most this many near misses are named.
const MAX_SHOWN: usize = 4;

/// The near misses in `dir`, as "what (fix)" phrases.
pub fn near_misses(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let entries = sorted(dir);
    for path in &entries {
        let name = file_name(path);
        if path.is_dir() {
            if let Some(found) = project_below(dir, path) {
                out.push(format!(
                    "{found} in {name}/ (write `{name}` to .warpdrive/home)"
                ));
            } else if let Some(phrase) = module_app(dir, path.join("__init__.py"), &name) {
                out.push(phrase);
            }
        } else if let Some(module) = name.strip_suffix(".py") {
            if let Some(phrase) = module_app(dir, path.clone(), module) {
                out.push(phrase);
            }
        } else if name.ends_with(".ini") {
            let text = read_source(dir, path).unwrap_or_default();
            out.push(if has_section(&text, "app:main") {
                format!("{name} with [app:main] (set server_type paste and server_args `{name}`)")
            } else {
                format!("{name} without an [app:main] section (not a PasteDeploy app)")
            });
        }
    }
    if out.len() > MAX_SHOWN {
        let more = out.len() - MAX_SHOWN;
        out.truncate(MAX_SHOWN);
        out.push(format!("{more} more"));
    }
    out
}

/// A Django project or WSGI module one directory down.
fn project_below(root: &Path, dir: &Path) -> Option<&'static str> {
    let manage = dir.join("manage.py");
    if manage.is_file()
        && !matches!(
            settings_default(&read_source(root, &manage).unwrap_or_default()),
            SettingsDefault::None
        )
    {
        return Some("a Django manage.py");
    }
    if dir.join("wsgi.py").is_file() {
        return Some("a wsgi.py");
    }
    if dir.join("app.py").is_file() {
        return Some("an app.py");
    }
    None
}

/// The app a module `file` (import name `module`) offers, with its fix: an
/// ASGI app, a WSGI `app`/`application`, or a factory.
fn module_app(root: &Path, file: PathBuf, module: &str) -> Option<String> {
    if !file.is_file() || module.starts_with('_') {
        return None;
    }
    let text = read_source(root, &file)?;
    let asgi = [
        "FastAPI(",
        "Starlette(",
        "async def app(",
        "async def application(",
    ]
    .iter()
    .any(|m| text.contains(m));
    for name in ["application", "app"] {
        if !module_binds(&text, name) {
            continue;
        }
        return Some(if asgi {
            format!(
                "an ASGI app {module}:{name} (set server_type uvicorn and server_args \
                 `{module}:{name}`)"
            )
        } else {
            format!(
                "a WSGI app {module}:{name} (set server_type gunicorn and server_args \
                 `{module}:{name}`)"
            )
        });
    }
    for factory in ["create_app", "make_app"] {
        if module_binds(&text, factory) {
            return Some(format!(
                "a factory {module}:{factory} (set server_type gunicorn and server_args \
                 `{module}:{factory}()`)"
            ));
        }
    }
    None
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.retain(|p| {
        let n = file_name(p);
        !n.starts_with('.') && !matches!(n.as_str(), "__pycache__" | "node_modules" | "venv")
    });
    entries.sort();
    entries
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_is_near_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("mysite")).unwrap();
        std::fs::write(
            d.join("mysite/manage.py"),
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.join("shop")).unwrap();
        std::fs::write(d.join("shop/__init__.py"), "def create_app():\n    pass\n").unwrap();
        std::fs::write(
            d.join("main.py"),
            "from fastapi import FastAPI\napp = FastAPI()\n",
        )
        .unwrap();
        std::fs::write(d.join("site.ini"), "[app:main]\nuse = egg:x\n").unwrap();
        std::fs::write(d.join("tox.ini"), "[tox]\n").unwrap();
        let seen = near_misses(d);
        assert_eq!(
            seen,
            [
                "an ASGI app main:app (set server_type uvicorn and server_args `main:app`)",
                "a Django manage.py in mysite/ (write `mysite` to .warpdrive/home)",
                "a factory shop:create_app (set server_type gunicorn and server_args \
                 `shop:create_app()`)",
                "site.ini with [app:main] (set server_type paste and server_args `site.ini`)",
                "1 more",
            ]
        );
    }
}
