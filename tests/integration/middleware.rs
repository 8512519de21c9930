//! The `warpdrive_wsgi` support module: its proxy-header rules on crafted
//! environs, its start-up errors, and the same spoofed requests sent to
//! every server `warpdrive exec` starts ([`SERVERS`]), compared with a live
//! mod_wsgi-express configured with the equivalent
//! `--trust-proxy-header`/`--trust-proxy` (and, from an untrusted peer,
//! with the stricter rule that no proxy header at all reaches the app);
//! then the hostile cases: header names with `_` or trailing spaces, NULs,
//! and waitress's own clearing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{self, Outcome, ProcessGuard, RunExt};

/// A WSGI app answering with its environ's string values as JSON.
const DUMP_APP: &str = r#"
import json
def application(environ, start_response):
    body = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
"#;

/// [`DUMP_APP`] as an ASGI app (for uvicorn): the scope in WSGI environ
/// form (`REMOTE_ADDR` from `client`, `wsgi.url_scheme` from `scheme`,
/// `SERVER_NAME`/`SERVER_PORT` from `server`, `SCRIPT_NAME` from
/// `root_path`, headers as `HTTP_*`, copies joined by `,`), so the same
/// comparisons apply.
const ASGI_DUMP_APP: &str = r#"
import json
async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    client = scope.get("client") or ("", 0)
    server = scope.get("server") or ("", 0)
    env = {"REMOTE_ADDR": client[0], "SERVER_NAME": server[0], "SERVER_PORT": str(server[1]),
           "SCRIPT_NAME": scope.get("root_path", ""), "PATH_INFO": scope["path"],
           "REQUEST_METHOD": scope["method"], "wsgi.url_scheme": scope["scheme"]}
    for name, value in scope["headers"]:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        value = value.decode("latin-1")
        env[key] = env[key] + "," + value if key in env else value
    body = json.dumps(env).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
"#;

/// Installs the module (through the library, as the launcher does) and
/// returns the directory to put on PYTHONPATH.
fn install_module(dir: &Path) -> String {
    let rt = dir.join("runtime");
    let py = warpdrive::launcher::support::install(&rt).expect("install");
    py.display().to_string()
}

/// No `WARPDRIVE_*` from the developer's shell reaches the module.
fn clean_env(c: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("WARPDRIVE_") {
            c.env_remove(k);
        }
    }
}

fn python(app: &Path, pythonpath: &str, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(support::venv().join("bin/python"));
    c.current_dir(app).env("PYTHONPATH", pythonpath);
    clean_env(&mut c);
    c.envs(env.iter().copied());
    c
}

/// The rules of the module docstring, checked on hand-made environs.
const UNIT_CHECKS: &str = r#"
import warpdrive_wsgi as w

def env(**kw):
    e = {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8080", "SERVER_NAME": "127.0.0.1",
         "SERVER_PORT": "8080", "SCRIPT_NAME": "", "wsgi.url_scheme": "http"}
    e.update({("HTTP_" + k): v for k, v in kw.items()})
    return e

SPOOF = dict(X_FORWARDED_FOR="1.1.1.1,2.2.2.2", X_FORWARDED_PROTO="https",
             X_FORWARDED_HOST="evil.example:444", X_FORWARDED_PORT="9999",
             X_REAL_IP="3.3.3.3", X_CLIENT_IP="4.4.4.4", X_HOST="xh", X_FORWARDED_SCHEME="https",
             X_SCHEME="https", X_FORWARDED_SSL="on", X_FORWARDED_HTTPS="on", X_HTTPS="1",
             X_FORWARDED_SERVER="srv", X_URL_SCHEME="https", X_SCRIPT_NAME="/sn",
             FORWARDED="for=5.5.5.5", X_OTHER="keep")
FOUR = ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port"]
app = lambda e, s: e

def fix(headers, proxies, e):
    nets = w.parse_networks(proxies) if proxies else None
    return w.ProxyHeaders(app, headers, nets).fix(e)

# Any peer: applied; trusted headers stay; the rest of each claimed family goes.
e = fix(FOUR, None, env(**SPOOF))
assert e["REMOTE_ADDR"] == "1.1.1.1", e
assert e["HTTP_X_FORWARDED_FOR"] == "1.1.1.1,2.2.2.2", e
assert e["wsgi.url_scheme"] == "https" and "HTTPS" not in e, e
assert e["HTTP_HOST"] == "evil.example:444" and e["SERVER_NAME"] == "127.0.0.1", e
assert e["SERVER_PORT"] == "9999", e
for gone in ("X_REAL_IP", "X_CLIENT_IP", "X_HOST", "X_FORWARDED_SCHEME", "X_SCHEME",
             "X_FORWARDED_SSL", "X_FORWARDED_HTTPS", "X_HTTPS"):
    assert "HTTP_" + gone not in e, (gone, e)
for kept in ("X_FORWARDED_SERVER", "X_URL_SCHEME", "X_SCRIPT_NAME", "FORWARDED", "X_OTHER",
             "X_FORWARDED_PROTO", "X_FORWARDED_HOST", "X_FORWARDED_PORT"):
    assert "HTTP_" + kept in e, (kept, e)

# Untrusted peer: nothing applied, no header of the proxy family left.
e = fix(FOUR, "10.9.8.7", env(**SPOOF))
assert (e["REMOTE_ADDR"], e["wsgi.url_scheme"], e["HTTP_HOST"], e["SERVER_PORT"]) == \
    ("127.0.0.1", "http", "127.0.0.1:8080", "8080"), e
assert not [k for k in e if k in w.REGISTRY], e
assert not [k for k in e if k in w.FAMILY_KEYS], e
assert e["HTTP_X_OTHER"] == "keep", e
# ... also when only a peer list is set.
e = fix([], "10.9.8.7", env(**SPOOF))
assert not [k for k in e if k in w.FAMILY_KEYS] and e["HTTP_X_OTHER"] == "keep", e
# Malformed names and values.
assert w.malformed({"HTTP_X_FORWARDED_FOR ": "1.1.1.1"}) == "HTTP_X_FORWARDED_FOR "
assert w.malformed({"HTTP_X_FORWARDED_FOR": "1.1.1.1\x00"}) == "HTTP_X_FORWARDED_FOR"
assert w.malformed({"HTTP_X_A": "tab\tok", "HTTP_X.B": "token chars are fine"}) is None
# uWSGI merges X-Forwarded-Host and X_Forwarded_Host: such a value is not applied.
u = env(X_FORWARDED_HOST="real.example, evil.example") | {"uwsgi.version": b"2.0"}
e = fix(["X-Forwarded-Host"], None, u)
assert e["HTTP_HOST"] == "127.0.0.1:8080" and "HTTP_X_FORWARDED_HOST" not in e, e

# Trusted peer list: X-Forwarded-For is walked from the right.
def xff(value, proxies="10.0.0.0/8, 127.0.0.0/8"):
    e = fix(["X-Forwarded-For"], proxies, env(X_FORWARDED_FOR=value))
    return e["REMOTE_ADDR"], e["HTTP_X_FORWARDED_FOR"]
assert xff("1.1.1.1,2.2.2.2", "127.0.0.1") == ("2.2.2.2", "2.2.2.2")
assert xff(" 1.1.1.1 , ,10.1.2.3, 127.0.0.5") == ("1.1.1.1", "1.1.1.1, 10.1.2.3, 127.0.0.5")
assert xff("10.0.0.1, 127.0.0.5") == ("10.0.0.1", "10.0.0.1, 127.0.0.5")
assert xff("1.1.1.1, garbage, 10.0.0.1") == ("garbage", "garbage, 10.0.0.1")
# Without a peer list: the first non-empty element, header untouched.
e = fix(["X-Forwarded-For"], None, env(X_FORWARDED_FOR=" , 7.7.7.7 ,8.8.8.8"))
assert e["REMOTE_ADDR"] == "7.7.7.7" and e["HTTP_X_FORWARDED_FOR"] == " , 7.7.7.7 ,8.8.8.8", e
# IPv4-mapped peers match IPv4 networks; IPv6 networks work.
assert fix(["X-Real-IP"], "127.0.0.1", env(X_REAL_IP="9.9.9.9") | {"REMOTE_ADDR": "::ffff:127.0.0.1"})["REMOTE_ADDR"] == "9.9.9.9"
assert fix(["X-Real-IP"], "fd00::/8", env(X_REAL_IP="9.9.9.9") | {"REMOTE_ADDR": "fd00::1"})["REMOTE_ADDR"] == "9.9.9.9"
assert fix(["X-Real-IP"], "fd00::/8", env(X_REAL_IP="9.9.9.9"))["REMOTE_ADDR"] == "127.0.0.1"

# Scheme values.
for value, scheme in (("HTTPS", "https"), ("http", "http"), ("ftp", "http")):
    assert fix(["X-Forwarded-Proto"], None, env(X_FORWARDED_PROTO=value))["wsgi.url_scheme"] == scheme, value
for value, scheme in (("On", "https"), ("true", "https"), ("1", "https"), ("off", "http"), ("maybe", "http")):
    assert fix(["X-Forwarded-SSL"], None, env(X_FORWARDED_SSL=value))["wsgi.url_scheme"] == scheme, value
e = fix(["X-Forwarded-Proto"], None, env(X_FORWARDED_PROTO="http") | {"wsgi.url_scheme": "https"})
assert e["wsgi.url_scheme"] == "http", e
# Two trusted headers of one family: both applied in order, the last one stays.
e = fix(["X-Forwarded-Proto", "X-Forwarded-SSL"], None, env(X_FORWARDED_PROTO="https", X_FORWARDED_SSL="off"))
assert e["wsgi.url_scheme"] == "http" and "HTTP_X_FORWARDED_PROTO" not in e and e["HTTP_X_FORWARDED_SSL"] == "off", e

# Other families.
e = fix(["X-Host", "X-Forwarded-Server", "X-Script-Name", "X-Client-IP"], "127.0.0.1", env(**SPOOF))
assert (e["HTTP_HOST"], e["SERVER_NAME"], e["SCRIPT_NAME"], e["REMOTE_ADDR"]) == ("xh", "srv", "/sn", "4.4.4.4"), e
assert "HTTP_X_FORWARDED_HOST" not in e and "HTTP_X_FORWARDED_FOR" not in e and "HTTP_X_REAL_IP" not in e, e
assert e["HTTP_X_FORWARDED_PROTO"] == "https", e  # scheme family not claimed

# Unknown names are ignored (and reported by build()).
p = w.ProxyHeaders(app, ["Forwarded", "X-Forwarded-Scheme"], None)
assert p.unknown == ["Forwarded"], p.unknown
e = p.fix(env(**SPOOF))
assert e["HTTP_FORWARDED"] == "for=5.5.5.5" and e["REMOTE_ADDR"] == "127.0.0.1", e
assert e["wsgi.url_scheme"] == "https" and "HTTP_X_FORWARDED_PROTO" not in e, e

# uWSGI sets wsgi.url_scheme from X-Forwarded-Proto itself: undone.
u = env(X_FORWARDED_PROTO="https") | {"uwsgi.version": b"2.0", "wsgi.url_scheme": "https"}
assert w.ProxyHeaders(app, [], None).fix(dict(u))["wsgi.url_scheme"] == "http"
assert fix(["X-Forwarded-Proto"], "10.9.8.7", dict(u))["wsgi.url_scheme"] == "http"
assert fix(["X-Forwarded-Proto"], "127.0.0.1", dict(u))["wsgi.url_scheme"] == "https"

# The configured app: target import and order (proxy outside WhiteNoise outside app).
assert isinstance(w.application, w.ProxyHeaders), w.application
from whitenoise import WhiteNoise
assert isinstance(w.application.app, WhiteNoise), w.application.app
import app as target_module
assert w.application.app.application is target_module.application
print("ok")
"#;

#[test]
fn middleware_rules_on_crafted_environs() {
    let dir = support::world_readable_tempdir();
    let app = dir.path().join("app");
    support::write(&app.join("app.py"), DUMP_APP);
    std::fs::create_dir_all(app.join("static")).unwrap();
    let pp = install_module(dir.path());
    python(
        &app,
        &pp,
        &[
            ("WARPDRIVE_WSGI_TARGET", "app"),
            ("WARPDRIVE_STATIC_URL", "/static/"),
            ("WARPDRIVE_STATIC_ROOT", "static"),
            ("WARPDRIVE_TRUST_PROXY_HEADERS", "X-Forwarded-For"),
        ],
    )
    .args(["-c", UNIT_CHECKS])
    .run_within(Duration::from_secs(60))
    .success()
    .stdout_is("ok\n");
}

/// Imports the module as a server would.
fn import_with(env: &[(&str, &str)], prelude: &str) -> Outcome {
    let dir = support::world_readable_tempdir();
    let app = dir.path().join("app");
    support::write(&app.join("app.py"), DUMP_APP);
    let pp = install_module(dir.path());
    let code = format!("{prelude}\nimport warpdrive_wsgi");
    python(&app, &pp, env)
        .args(["-c", &code])
        .run_within(Duration::from_secs(60))
}

/// The module refused to load: exit 2 and one line on stderr naming `want`.
#[track_caller]
fn refused_in_one_line(out: Outcome, want: &str) {
    let out = out.status(2).stderr_has(want);
    if out.stderr().trim().lines().count() != 1 {
        out.fail("expected one line on stderr");
    }
}

#[test]
fn middleware_startup_errors_are_one_line() {
    let static_env = [
        ("WARPDRIVE_WSGI_TARGET", "app:application"),
        ("WARPDRIVE_STATIC_URL", "/static/"),
        ("WARPDRIVE_STATIC_ROOT", "static"),
    ];
    // whitenoise missing (hidden from the import system).
    refused_in_one_line(
        import_with(&static_env, "import sys; sys.modules['whitenoise'] = None"),
        "pip install whitenoise",
    );
    // With whitenoise, the same configuration loads.
    import_with(&static_env, "").success();

    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "WARPDRIVE_WSGI_TARGET is not set"),
        (
            &[
                ("WARPDRIVE_WSGI_TARGET", "app"),
                ("WARPDRIVE_TRUST_PROXY_HEADERS", "X-Forwarded-For"),
                ("WARPDRIVE_TRUST_PROXY", "10.0.0.0/8,not-an-ip"),
            ],
            "WARPDRIVE_TRUST_PROXY: 'not-an-ip'",
        ),
        (
            &[("WARPDRIVE_WSGI_TARGET", "app:nothing")],
            "module app has no nothing",
        ),
        (
            &[("WARPDRIVE_WSGI_TARGET", "app:json")],
            "json is not callable",
        ),
    ];
    for (env, want) in cases {
        refused_in_one_line(import_with(env, ""), want);
    }
    // An unknown header name is a warning, not an error.
    import_with(
        &[
            ("WARPDRIVE_WSGI_TARGET", "app"),
            (
                "WARPDRIVE_TRUST_PROXY_HEADERS",
                "X-Forwarded-For, Forwarded",
            ),
        ],
        "",
    )
    .success()
    .stderr_has("warning: Forwarded");
}

/// One trust configuration, served by all four servers.
struct Scenario {
    headers: &'static [&'static str],
    proxies: &'static [&'static str],
}

/// The spoofed requests every scenario sends (from 127.0.0.1).
fn requests() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        vec![
            ("X-Forwarded-For", "1.1.1.1,2.2.2.2"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "evil.example:444"),
            ("X-Forwarded-Port", "9999"),
            ("X-Real-IP", "3.3.3.3"),
            ("X-Client-IP", "4.4.4.4"),
            ("X-Host", "xhost"),
            ("X-Forwarded-Server", "srv"),
            ("X-Forwarded-SSL", "on"),
            ("X-Forwarded-HTTPS", "on"),
            ("X-HTTPS", "1"),
            ("X-Scheme", "https"),
            ("X-Url-Scheme", "https"),
            ("X-Forwarded-Scheme", "https"),
            ("X-Script-Name", "/sn"),
            ("X-Forwarded-Script-Name", "/fsn"),
            ("Forwarded", "for=5.5.5.5;proto=https"),
            ("X-Forwarded-Prefix", "/prefix"),
            ("X-Forwarded-By", "by"),
            ("X-Forwarded-Protocol", "https"),
            ("Front-End-Https", "on"),
            ("HTTPS", "on"),
            ("X-Other", "keep"),
        ],
        vec![
            ("X-Forwarded-For", " 1.1.1.1 , ,10.1.2.3, 127.0.0.5"),
            ("X-Forwarded-Proto", "HTTPS"),
        ],
        vec![("X-Forwarded-For", "10.0.0.1, 127.0.0.5")],
        vec![("X-Forwarded-For", "1.1.1.1, garbage, 10.0.0.1")],
        vec![("X-Forwarded-Proto", "ftp"), ("X-Forwarded-SSL", "on")],
        vec![("X-Forwarded-SSL", "off")],
        vec![],
    ]
}

/// The environ keys compared between servers.
fn compared(
    env: &serde_json::Value,
    port: u16,
    with_server_name: bool,
) -> BTreeMap<String, String> {
    let mut keys = vec![
        "REMOTE_ADDR",
        "HTTP_HOST",
        "SERVER_PORT",
        "wsgi.url_scheme",
        "SCRIPT_NAME",
        "HTTP_FORWARDED",
        "HTTP_X_URL_SCHEME",
        "HTTP_X_OTHER",
        "HTTP_HTTPS",
        "HTTP_FRONT_END_HTTPS",
    ];
    if with_server_name {
        keys.push("SERVER_NAME");
    }
    let obj = env.as_object().expect("environ object");
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let family = k.starts_with("HTTP_X_");
        if family || keys.contains(&k.as_str()) {
            let v = v
                .as_str()
                .unwrap_or_default()
                .replace(&port.to_string(), "PORT");
            out.insert(k.clone(), v);
        }
    }
    out
}

fn start_mod_wsgi(app: &Path, port: u16, sc: &Scenario) -> ProcessGuard {
    let mut c = Command::new(support::venv().join("bin/mod_wsgi-express"));
    c.arg("start-server")
        .arg(app.join("app.py"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg("--server-root")
        .arg(app.parent().unwrap().join(format!("mod_wsgi-{port}")))
        .arg("--log-to-terminal");
    if nix::unistd::geteuid().is_root() {
        c.args(["--user", "www-data", "--group", "www-data"]);
    }
    for h in sc.headers {
        c.args(["--trust-proxy-header", h]);
    }
    for p in sc.proxies {
        c.args(["--trust-proxy", p]);
    }
    log_to(&mut c, app, port);
    support::spawn(c.current_dir(app))
}

/// The servers `warpdrive exec` serves apps with, each compared below:
/// the four WSGI servers, and uvicorn with the middleware's ASGI twin
/// (`warpdrive_asgi`) on [`ASGI_DUMP_APP`].
pub const SERVERS: &[&str] = &["mod_wsgi", "gunicorn", "waitress", "uwsgi", "uvicorn"];

/// `warpdrive exec --server-type SERVER` on the app, as in a container:
/// the launcher's own options (waitress's clearing, gunicorn's
/// `--forwarded-allow-ips ''`, mod_wsgi's untrusted-peer include, …).
pub fn start_via_launcher(
    server: &str,
    app: &Path,
    port: u16,
    headers: &[&str],
    proxies: &[&str],
) -> ProcessGuard {
    let mut c = support::warpdrive();
    c.arg("exec")
        .arg("--app-root")
        .arg(app)
        .args(["--server-type", server])
        .env("WARPDRIVE_HTTP_PORT", port.to_string())
        .env(
            "WARPDRIVE_RUNTIME_DIR",
            app.parent().unwrap().join(format!("runtime-{port}")),
        )
        .env("WARPDRIVE_TRUST_PROXY_HEADERS", headers.join(","))
        .env("WARPDRIVE_TRUST_PROXY", proxies.join(","));
    log_to(&mut c, app, port);
    support::spawn(&mut c)
}

/// A world-readable app whose `wsgi.py` (and `app.py`, for the reference
/// mod_wsgi-express) is [`DUMP_APP`], and whose `asgi.py` (for uvicorn) is
/// [`ASGI_DUMP_APP`]; returns (temp dir, app dir).
pub fn dump_app() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = support::world_readable_tempdir();
    let app = dir.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    support::set_mode(&app, 0o755);
    support::write(&app.join("app.py"), DUMP_APP);
    support::write(&app.join("wsgi.py"), DUMP_APP);
    support::write(&app.join("asgi.py"), ASGI_DUMP_APP);
    (dir, app)
}

/// Waits until `name` answers on `port`, or fails the test with its log.
pub fn wait_started(name: &str, app: &Path, port: u16) {
    assert!(
        support::wait_for_200(port, "/", Duration::from_secs(60)).is_some(),
        "{name} did not start on port {port}: {}",
        std::fs::read_to_string(log_path(app, port)).unwrap_or_default()
    );
}

/// Server output goes to `<app>/../server-<port>.log` (shown if it fails to start).
fn log_to(c: &mut Command, app: &Path, port: u16) {
    let f = std::fs::File::create(log_path(app, port)).expect("log file");
    c.stdout(f.try_clone().expect("dup")).stderr(f);
}

fn log_path(app: &Path, port: u16) -> std::path::PathBuf {
    app.parent().unwrap().join(format!("server-{port}.log"))
}

fn fetch(name: &str, port: u16, headers: &[(&str, &str)]) -> serde_json::Value {
    let r = support::get(port, "/probe", headers).expect("no answer");
    assert_eq!(r.status, 200, "{name}: {headers:?}: {}", r.body);
    serde_json::from_str(&r.body).expect("json")
}

/// Whether 127.0.0.1 (where the tests send from) is a trusted peer.
fn local_peer_trusted(sc: &Scenario) -> bool {
    sc.proxies.is_empty() || sc.proxies.iter().any(|p| p.starts_with("127."))
}

/// The environ keys of the proxy family.
fn family_keys() -> Vec<String> {
    warpdrive::launcher::proxy::PROXY_FAMILY
        .iter()
        .map(|h| format!("HTTP_{}", h.to_uppercase().replace('-', "_")))
        .collect()
}

/// Starts a reference mod_wsgi-express configured with the equivalent
/// `--trust-proxy-header`/`--trust-proxy`, and the servers of [`SERVERS`]
/// through `warpdrive exec`; sends every request to each and compares what
/// the app saw with the reference's view, which from an untrusted peer
/// must also lack every header of the proxy family (mod_wsgi itself keeps
/// the families no trusted header claims). Returns the expected views.
fn compare_with_mod_wsgi(sc: &Scenario) -> Vec<BTreeMap<String, String>> {
    let (_dir, app) = dump_app();
    let reference_port = support::free_port();
    let ports: Vec<u16> = SERVERS.iter().map(|_| support::free_port()).collect();
    let mut guards = vec![start_mod_wsgi(&app, reference_port, sc)];
    for (name, port) in SERVERS.iter().zip(&ports) {
        guards.push(start_via_launcher(
            name, &app, *port, sc.headers, sc.proxies,
        ));
    }
    wait_started("the reference mod_wsgi-express", &app, reference_port);
    for (name, port) in SERVERS.iter().zip(&ports) {
        wait_started(name, &app, *port);
    }
    let family = family_keys();
    let mut reference = Vec::new();
    for req in requests() {
        // SERVER_NAME differs between servers unless a proxy header sets it.
        let with_server_name = sc.headers.contains(&"X-Forwarded-Server")
            && req.iter().any(|(h, _)| *h == "X-Forwarded-Server");
        let mut want = compared(
            &fetch("reference", reference_port, &req),
            reference_port,
            with_server_name,
        );
        if !local_peer_trusted(sc) {
            want.retain(|k, _| !family.contains(k));
        }
        for (name, port) in SERVERS.iter().zip(&ports) {
            let got = compared(&fetch(name, *port, &req), *port, with_server_name);
            assert_eq!(got, want, "{name} differs for request {req:?}");
        }
        reference.push(want);
    }
    drop(guards);
    reference
}

const FOUR: &[&str] = &[
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
];

#[test]
fn proxy_headers_any_peer_match_mod_wsgi() {
    let views = compare_with_mod_wsgi(&Scenario {
        headers: FOUR,
        proxies: &[],
    });
    // Applied: the spoofing request rewrote everything.
    assert_eq!(views[0]["REMOTE_ADDR"], "1.1.1.1");
    assert_eq!(views[0]["wsgi.url_scheme"], "https");
    assert_eq!(views[0]["HTTP_HOST"], "evil.example:444");
    assert!(!views[0].contains_key("HTTP_X_REAL_IP"));
}

#[test]
fn proxy_headers_untrusted_peer_match_mod_wsgi() {
    let views = compare_with_mod_wsgi(&Scenario {
        headers: FOUR,
        proxies: &["10.9.8.7"],
    });
    // Spoofing from 127.0.0.1 changes nothing and leaves no header behind.
    for v in &views {
        assert_eq!(v["REMOTE_ADDR"], "127.0.0.1");
        assert_eq!(v["wsgi.url_scheme"], "http");
        assert_eq!(v["HTTP_HOST"], "127.0.0.1:PORT");
        assert!(!v.contains_key("HTTP_X_FORWARDED_FOR"));
        assert!(!v.contains_key("HTTP_X_REAL_IP"));
    }
}

#[test]
fn proxy_headers_trusted_peer_list_match_mod_wsgi() {
    let views = compare_with_mod_wsgi(&Scenario {
        headers: &[
            "X-Forwarded-For",
            "X-Forwarded-SSL",
            "X-Host",
            "X-Forwarded-Server",
            "X-Script-Name",
        ],
        proxies: &["10.0.0.0/8", "127.0.0.0/8"],
    });
    assert_eq!(views[0]["REMOTE_ADDR"], "2.2.2.2");
    assert_eq!(views[0]["SCRIPT_NAME"], "/sn");
    assert_eq!(views[1]["REMOTE_ADDR"], "1.1.1.1");
}

#[test]
fn proxy_headers_scheme_only_match_mod_wsgi() {
    let views = compare_with_mod_wsgi(&Scenario {
        headers: &["X-Forwarded-Scheme", "Forwarded"],
        proxies: &[],
    });
    assert_eq!(views[0]["wsgi.url_scheme"], "https");
    assert_eq!(views[0]["REMOTE_ADDR"], "127.0.0.1");
    assert!(views[0].contains_key("HTTP_X_REAL_IP"));
}

#[test]
fn from_an_untrusted_peer_no_proxy_header_reaches_the_app() {
    // Trusting only X-Forwarded-For claims only the client family; the
    // other headers used to reach the app from any peer, on every server.
    let views = compare_with_mod_wsgi(&Scenario {
        headers: &["X-Forwarded-For"],
        proxies: &["10.9.8.7"],
    });
    let family = family_keys();
    for v in &views {
        assert_eq!(v["REMOTE_ADDR"], "127.0.0.1");
        assert_eq!(v["wsgi.url_scheme"], "http");
        let left: Vec<&String> = v.keys().filter(|k| family.contains(k)).collect();
        assert!(left.is_empty(), "proxy headers reached the app: {left:?}");
    }
    assert_eq!(views[0]["HTTP_X_OTHER"], "keep");
}

/// Sends a request with raw header lines (which HTTP clients refuse to
/// write) and returns the status and body.
fn raw_get(port: u16, header_lines: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // HTTP/1.0: the answer is not chunked.
    let mut req = b"GET /probe HTTP/1.0\r\nHost: 127.0.0.1\r\n".to_vec();
    req.extend_from_slice(header_lines);
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    s.write_all(&req).expect("send");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// Starts every server of [`SERVERS`] trusting `headers` from any peer.
fn all_servers(app: &Path, headers: &[&str], proxies: &[&str]) -> (Vec<ProcessGuard>, Vec<u16>) {
    let ports: Vec<u16> = SERVERS.iter().map(|_| support::free_port()).collect();
    let guards = SERVERS
        .iter()
        .zip(&ports)
        .map(|(name, port)| start_via_launcher(name, app, *port, headers, proxies))
        .collect();
    for (name, port) in SERVERS.iter().zip(&ports) {
        wait_started(name, app, *port);
    }
    (guards, ports)
}

#[test]
fn malformed_header_names_and_nul_values_are_refused_on_every_server() {
    let (_dir, app) = dump_app();
    let (_guards, ports) = all_servers(&app, FOUR, &[]);
    for (name, port) in SERVERS.iter().zip(&ports) {
        for lines in [
            &b"X-Forwarded-For : 6.6.6.6\r\n"[..],
            b"X-Forwarded-For\t: 6.6.6.6\r\n",
            b"X-Forwarded-For: 6.6.6.6\x00\r\n",
            b"X-Forwarded-Host: evil\x01\r\n",
        ] {
            let (status, body) = raw_get(*port, lines);
            assert_eq!(
                status,
                400,
                "{name}: {:?} got {status}: {body}",
                String::from_utf8_lossy(lines)
            );
        }
    }
}

#[test]
fn a_header_name_with_an_underscore_is_dropped_except_by_uwsgi() {
    let (_dir, app) = dump_app();
    let (_guards, ports) = all_servers(&app, FOUR, &["127.0.0.1"]);
    for (name, port) in SERVERS.iter().zip(&ports) {
        // Both spellings sent: uWSGI merges them into one value, which is
        // then not applied; the others drop the underscore one.
        for lines in [
            &b"X_Forwarded_Host: evil.example\r\nX-Forwarded-Host: real.example\r\n"[..],
            b"X-Forwarded-Host: real.example\r\nX_Forwarded_Host: evil.example\r\n",
            b"X-Forwarded-Port: 443\r\nX_Forwarded_Port: 1\r\n",
        ] {
            let (status, body) = raw_get(*port, lines);
            assert_eq!(status, 200, "{name}: {body}");
            let env: serde_json::Value = serde_json::from_str(&body).expect("json");
            for key in [
                "HTTP_HOST",
                "SERVER_PORT",
                "HTTP_X_FORWARDED_HOST",
                "HTTP_X_FORWARDED_PORT",
            ] {
                let v = env[key].as_str().unwrap_or("");
                assert!(
                    !v.contains("evil") && v != "1" && !v.contains(','),
                    "{name}: {:?} gave {key}={v:?}",
                    String::from_utf8_lossy(lines)
                );
            }
        }
        // X-Forwarded-For walked from the right (WARPDRIVE_TRUST_PROXY is
        // set): a client's underscore copy sent before the proxy's value
        // never wins, on any server.
        let remote = |lines: &[u8]| {
            let (status, body) = raw_get(*port, lines);
            assert_eq!(status, 200, "{name}: {body}");
            let env: serde_json::Value = serde_json::from_str(&body).expect("json");
            env["REMOTE_ADDR"].as_str().unwrap_or("").to_string()
        };
        assert_eq!(
            remote(b"X_Forwarded_For: 6.6.6.6\r\nX-Forwarded-For: 1.2.3.4\r\n"),
            "1.2.3.4",
            "{name}"
        );
        // After the proxy's value, or alone, every server but uWSGI drops
        // it. uWSGI cannot tell the spellings apart (its parser maps both to
        // one name and joins the copies before routing or Python see them):
        // the limit the README states, pinned here so the README stays true.
        let (after, alone) = if *name == "uwsgi" {
            ("6.6.6.6", "6.6.6.6")
        } else {
            ("1.2.3.4", "127.0.0.1")
        };
        assert_eq!(
            remote(b"X-Forwarded-For: 1.2.3.4\r\nX_Forwarded_For: 6.6.6.6\r\n"),
            after,
            "{name}"
        );
        assert_eq!(remote(b"X_Forwarded_For: 6.6.6.6\r\n"), alone, "{name}");
    }
}

#[test]
fn waitress_keeps_its_own_clearing_unless_a_trusted_header_needs_it_off() {
    let (_dir, app) = dump_app();
    let dry = |headers: &str| {
        support::warpdrive()
            .arg("exec")
            .arg("--app-root")
            .arg(&app)
            .args(["--server-type", "waitress", "--dry-run"])
            .env("WARPDRIVE_TRUST_PROXY_HEADERS", headers)
            .run()
            .success()
    };
    dry("X-Real-IP,X-Forwarded-SSL").stdout_lacks("--no-clear-untrusted-proxy-headers");
    dry("X-Forwarded-For").stdout_has("--no-clear-untrusted-proxy-headers");
    // Live: trusting X-Real-IP, waitress still clears X-Forwarded-By & co.
    let port = support::free_port();
    let _server = start_via_launcher("waitress", &app, port, &["X-Real-IP"], &[]);
    wait_started("waitress", &app, port);
    let env = fetch(
        "waitress",
        port,
        &[
            ("X-Real-IP", "3.3.3.3"),
            ("X-Forwarded-By", "by"),
            ("Forwarded", "for=5.5.5.5"),
            ("X-Forwarded-Host", "evil.example"),
        ],
    );
    assert_eq!(env["REMOTE_ADDR"], "3.3.3.3");
    for gone in [
        "HTTP_X_FORWARDED_BY",
        "HTTP_FORWARDED",
        "HTTP_X_FORWARDED_HOST",
    ] {
        assert!(env.get(gone).is_none(), "{gone}: {env}");
    }
}
