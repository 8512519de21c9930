//! `uvicorn`: an ASGI app (Django's `asgi.py`, FastAPI, Starlette, a plain
//! ASGI callable) on `uvicorn --host 0.0.0.0 --port PORT`.
//!
//! * `MOD_WSGI_PROCESSES` → `--workers`; reloading → `--reload` (uvicorn then
//!   runs one process and watches the source tree).
//! * uvicorn's own proxy headers are off (`--no-proxy-headers`: it would
//!   trust X-Forwarded-For/-Proto from 127.0.0.1 itself); trusted proxy
//!   headers and Django's static files (WhiteNoise) go through the
//!   `warpdrive_asgi` twin of the WSGI middleware, with the same rules.
//! * A factory: uvicorn's `--factory` for one without arguments, else the twin.

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Forms, Launch};
use crate::launcher::error::Error;

/// uvicorn's graceful stop: it stops accepting, finishes the requests in
/// flight and runs the lifespan shutdown.
pub const STOP_SIGNAL: Signal = Signal::SIGTERM;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let mut l = Launch::new("uvicorn");
    l.args(["--host", "0.0.0.0", "--port", &ctx.port.to_string()]);
    l.arg("--no-proxy-headers");
    if ctx.reload() {
        l.args(["--reload", "--reload-dir"]);
        l.arg(ctx.src_root.display().to_string());
        if ctx.knobs.processes() > 1 {
            eprintln!(
                "warpdrive: warning: uvicorn reloads in one process; MOD_WSGI_PROCESSES={} \
                 applies without MOD_WSGI_RELOAD_ON_CHANGES",
                ctx.knobs.processes()
            );
        }
    } else {
        l.args(["--workers", &ctx.knobs.processes().to_string()]);
    }
    ctx.int_options(
        &mut l,
        &[
            ("MOD_WSGI_SERVER_BACKLOG", "--backlog"),
            ("MOD_WSGI_MAXIMUM_REQUESTS", "--limit-max-requests"),
            ("MOD_WSGI_MAX_CLIENTS", "--limit-concurrency"),
        ],
    );
    if let Some(level) = ctx.knobs.text("MOD_WSGI_LOG_LEVEL") {
        l.args(["--log-level", log_level(level)]);
    }
    let k = ctx.knobs;
    if k.get("MOD_WSGI_ACCESS_LOG").is_some() && !k.flag("MOD_WSGI_ACCESS_LOG") {
        l.arg("--no-access-log");
    }
    for knob in [
        "MOD_WSGI_THREADS",
        "MOD_WSGI_REQUEST_TIMEOUT",
        "MOD_WSGI_LIMIT_REQUEST_BODY",
        "MOD_WSGI_SERVER_MPM",
    ] {
        ctx.ignored(knob);
    }
    let forms = Forms {
        positional: true,
        factory_switch: Some("--factory"),
        ..Forms::default()
    };
    ctx.add_app(&mut l, &forms, |l, spec| {
        l.arg(spec);
    })?;
    Ok(l)
}

/// Apache log levels to uvicorn's.
fn log_level(apache: &str) -> &'static str {
    match apache {
        "emerg" | "alert" | "crit" => "critical",
        "error" => "error",
        "warn" => "warning",
        "debug" => "debug",
        _ => "info",
    }
}
