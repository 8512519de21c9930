//! `uwsgi`: a master with an HTTP socket on 0.0.0.0:PORT. `--die-on-term`
//! makes SIGTERM stop it (uWSGI 2.0 otherwise reloads), and the
//! `unix_signal:15 gracefully_kill_them_all` master hook makes that stop
//! graceful (without it `--die-on-term` kills the workers mid-request);
//! `--need-app` makes a broken app an error instead of a server answering 500.

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Forms, Launch};
use crate::launcher::error::Error;

/// uWSGI's graceful stop, with the master hook above: the workers finish
/// their requests, then the master exits.
pub const STOP_SIGNAL: Signal = Signal::SIGTERM;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let mut l = Launch::new("uwsgi");
    l.args(["--master", "--http-socket", &ctx.bind(), "--die-on-term"]);
    l.args([
        "--hook-master-start",
        "unix_signal:15 gracefully_kill_them_all",
    ]);
    l.args([
        "--enable-threads",
        "--thunder-lock",
        "--single-interpreter",
        "--need-app",
    ]);
    l.args(["--processes", &ctx.knobs.processes().to_string()]);
    l.args(["--threads", &ctx.knobs.threads().to_string()]);
    if ctx.reload() {
        l.args(["--py-autoreload", "1"]);
    }
    ctx.int_options(
        &mut l,
        &[
            ("MOD_WSGI_MAXIMUM_REQUESTS", "--max-requests"),
            ("MOD_WSGI_REQUEST_TIMEOUT", "--harakiri"),
            ("MOD_WSGI_SOCKET_TIMEOUT", "--socket-timeout"),
            ("MOD_WSGI_SERVER_BACKLOG", "--listen"),
            ("MOD_WSGI_LIMIT_REQUEST_BODY", "--limit-post"),
        ],
    );
    let k = ctx.knobs;
    if k.get("MOD_WSGI_ACCESS_LOG").is_some() && !k.flag("MOD_WSGI_ACCESS_LOG") {
        l.arg("--disable-logging");
    }
    ctx.ignored("MOD_WSGI_MAX_CLIENTS");
    if let Some((url, root)) = ctx.static_files()? {
        l.arg("--static-map");
        l.arg(format!("{}={}", url.trim_end_matches('/'), root.display()));
    }
    if !ctx.proxy.headers.is_empty() {
        eprintln!(
            "warpdrive: warning: uwsgi cannot tell X-Forwarded-For from X_Forwarded_For (its HTTP \
             parser maps both to one name and joins the copies), so a client's X_Forwarded_For \
             sent after the proxy's value, or alone, is taken; let the proxy in front drop \
             header names with underscores (nginx does by default) and set \
             WARPDRIVE_TRUST_PROXY"
        );
    }
    let forms = Forms {
        value_flags: &["--module", "-w", "--wsgi"],
        opaque_flags: &[
            "--wsgi-file",
            "--file",
            "--mount",
            "--ini",
            "--yaml",
            "--json",
            "--paste",
        ],
        callable_flag: Some("--callable"),
        ..Forms::default()
    };
    ctx.add_app(&mut l, &forms, |l, spec| {
        l.args(["--module".to_string(), spec]);
    })?;
    Ok(l)
}
