//! `gunicorn`: binds 0.0.0.0:PORT, logs and access-logs to stdout, and
//! leaves proxy headers to the launcher (`--forwarded-allow-ips ''`), so they
//! are trusted only as `WARPDRIVE_TRUST_PROXY_HEADERS` says.

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Forms, Launch};
use crate::launcher::error::Error;

/// gunicorn's graceful stop: the arbiter closes its listeners at once and
/// gives the workers `--graceful-timeout` (30 s) to finish their requests;
/// connections still waiting in the backlog are dropped, which is why the
/// launcher's drain delays this signal while the endpoints update.
pub const STOP_SIGNAL: Signal = Signal::SIGTERM;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let mut l = Launch::new("gunicorn");
    l.args([
        "--bind",
        &ctx.bind(),
        "--log-file",
        "-",
        "--access-logfile",
        "-",
    ]);
    l.args(["--forwarded-allow-ips", ""]);
    l.args(["--workers", &ctx.knobs.processes().to_string()]);
    l.args(["--threads", &ctx.knobs.threads().to_string()]);
    if ctx.reload() {
        l.arg("--reload");
    }
    ctx.int_options(
        &mut l,
        &[
            ("MOD_WSGI_MAXIMUM_REQUESTS", "--max-requests"),
            ("MOD_WSGI_REQUEST_TIMEOUT", "--timeout"),
            ("MOD_WSGI_SERVER_BACKLOG", "--backlog"),
        ],
    );
    if let Some(level) = ctx.knobs.text("MOD_WSGI_LOG_LEVEL") {
        l.args(["--log-level", log_level(level)]);
    }
    for knob in [
        "MOD_WSGI_MAX_CLIENTS",
        "MOD_WSGI_LIMIT_REQUEST_BODY",
        "MOD_WSGI_SERVER_MPM",
    ] {
        ctx.ignored(knob);
    }
    let forms = Forms {
        opaque_flags: &["--paste", "--paster"],
        positional: true,
        calls_factories: true,
        paste_flags: &["--paste", "--paster"],
        ..Forms::default()
    };
    ctx.add_app(&mut l, &forms, |l, spec| {
        l.arg(spec);
    })?;
    Ok(l)
}

/// Apache log levels to gunicorn's.
fn log_level(apache: &str) -> &'static str {
    match apache {
        "emerg" | "alert" | "crit" => "critical",
        "error" => "error",
        "warn" => "warning",
        "debug" => "debug",
        _ => "info",
    }
}
