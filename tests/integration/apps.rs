//! Sample apps for the launcher tests, one per layout. Every WSGI app is
//! the same small environ-dumping app ([`ENV_APP`]), so tests can check the
//! body, the worker pid and what the server put in the environ.
#![allow(dead_code)]

use std::path::Path;

use crate::support::{copy_tree, make_executable, repo, world_readable_tempdir, write};

/// A WSGI app: `/` answers `MESSAGE` from `message.py` (edited by reload
/// tests), `/pid` the worker pid, `/env` the interesting environ keys as
/// JSON, `/slow` sleeps 0.3 s first (to spread requests over workers).
pub const ENV_APP: &str = r#"import json, os, time

import message


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/slow":
        time.sleep(0.3)
        path = "/pid"
    if path == "/pid":
        body = str(os.getpid())
    elif path == "/env":
        keep = ("REMOTE_ADDR", "SERVER_PORT", "SERVER_NAME", "HTTPS", "wsgi.url_scheme")
        data = {k: v for k, v in environ.items() if k in keep or k.startswith("HTTP_")}
        body = json.dumps(data, sort_keys=True)
    else:
        body = message.TEXT
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
"#;

fn message(dir: &Path, text: &str) {
    write(&dir.join("message.py"), &format!("TEXT = {text:?}\n"));
}

/// `wsgi.py` module (auto picks mod_wsgi for it).
pub fn wsgi_module(text: &str) -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    write(&dir.path().join("wsgi.py"), ENV_APP);
    message(dir.path(), text);
    dir
}

/// `wsgi/` package.
pub fn wsgi_package(text: &str) -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    write(&dir.path().join("wsgi/__init__.py"), ENV_APP);
    crate::support::set_mode(&dir.path().join("wsgi"), 0o755);
    message(dir.path(), text);
    dir
}

/// `paste.ini` pointing at a factory in `hello.py`.
pub fn paste(text: &str) -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    write(&dir.path().join("envapp.py"), ENV_APP);
    write(
        &dir.path().join("hello.py"),
        "import envapp\n\ndef make_app(global_conf, **settings):\n    return envapp.application\n",
    );
    write(
        &dir.path().join("paste.ini"),
        "[app:main]\nuse = call:hello:make_app\n",
    );
    message(dir.path(), text);
    dir
}

/// `app.py` that serves the env app with wsgiref on `$WARPDRIVE_HTTP_PORT`.
pub fn python_app(text: &str) -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    write(&dir.path().join("envapp.py"), ENV_APP);
    write(&dir.path().join("app.py"), SERVE_PY);
    message(dir.path(), text);
    dir
}

const SERVE_PY: &str = r#"import os, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import envapp

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

make_server("0.0.0.0", int(os.environ["WARPDRIVE_HTTP_PORT"]), envapp.application, handler_class=Quiet).serve_forever()
"#;

/// Executable `app.sh` that runs the same wsgiref server.
pub fn shell_app(text: &str) -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    write(&dir.path().join("envapp.py"), ENV_APP);
    write(&dir.path().join("serve.py"), SERVE_PY);
    write(
        &dir.path().join("app.sh"),
        "#!/bin/sh\nexec python serve.py \"$@\"\n",
    );
    make_executable(&dir.path().join("app.sh"));
    message(dir.path(), text);
    dir
}

/// The bundled Django example (STATIC_ROOT is a `pathlib.Path`).
pub fn django_path() -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    copy_tree(&repo().join("examples/hello-django"), dir.path());
    dir
}

/// The Django example rewritten with `os.path` BASE_DIR and a string STATIC_ROOT.
pub fn django_str() -> tempfile::TempDir {
    let dir = django_path();
    let settings = dir.path().join("hello/settings.py");
    let text = std::fs::read_to_string(&settings).expect("settings");
    let text = text
        .replace(
            "BASE_DIR = Path(__file__).resolve().parent.parent",
            "BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))",
        )
        .replace(
            "STATIC_ROOT = BASE_DIR / 'static'",
            "STATIC_ROOT = os.path.join(BASE_DIR, 'static')",
        )
        .replace(
            "'NAME': BASE_DIR / 'db.sqlite3'",
            "'NAME': os.path.join(BASE_DIR, 'db.sqlite3')",
        );
    assert!(text.contains("os.path.join(BASE_DIR, 'static')"));
    write(&settings, &text);
    dir
}

/// The Django example's `hello/message.py` text.
pub fn django_message(dir: &Path, text: &str) {
    write(&dir.join("hello/message.py"), &format!("TEXT = {text:?}\n"));
}

/// Sets `.warpdrive/server_type`.
pub fn server_type(dir: &Path, t: &str) {
    write(&dir.join(".warpdrive/server_type"), &format!("{t}\n"));
    crate::support::set_mode(&dir.join(".warpdrive"), 0o755);
}

/// Sets `.warpdrive/server_args`.
pub fn server_args(dir: &Path, text: &str) {
    write(&dir.join(".warpdrive/server_args"), text);
    crate::support::set_mode(&dir.join(".warpdrive"), 0o755);
}

/// Rewrites `message.py` for reload tests, in one step: the new text goes
/// to a hidden file beside it (ignored by every watcher), which is then
/// renamed over it. A rename is one file event, so the launcher's watch mode
/// sees exactly one change however slowly a loaded machine writes; a plain
/// write is a truncate, a write and a close, and a pause of more than the
/// 300 ms quiet period between them would restart the server twice.
pub fn set_message(dir: &Path, text: &str) {
    let tmp = dir.join(".message.py.tmp");
    write(&tmp, &format!("TEXT = {text:?}\n"));
    std::fs::rename(&tmp, dir.join("message.py")).expect("rename");
}

/// `tests/apps/<name>` (one shape of app, see tests/apps/README.md) in a
/// fresh world-readable temp dir, with `tests/apps/probe.py` at its top.
pub fn shape(name: &str) -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    let apps = repo().join("tests/apps");
    copy_tree(&apps.join(name), dir.path());
    std::fs::copy(apps.join("probe.py"), dir.path().join("probe.py")).expect("probe");
    dir
}
