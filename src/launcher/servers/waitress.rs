//! `waitress`: `waitress-serve --listen 0.0.0.0:PORT`. Waitress is one
//! process with a thread pool: MOD_WSGI_PROCESSES > 1 gets a warning and
//! runs one process (scale with replicas, or raise MOD_WSGI_THREADS).
//! It has no reloader, so the launcher restarts it on source changes.

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Forms, Launch};
use crate::launcher::error::Error;
use crate::launcher::proxy::WAITRESS_CLEARS;

/// Waitress installs no signal handlers: SIGTERM ends Python at once.
/// SIGINT (KeyboardInterrupt) is its only orderly stop: it stops accepting
/// and gives its threads 5 s. Requests in flight are protected by the
/// launcher's drain more than by this.
pub const STOP_SIGNAL: Signal = Signal::SIGINT;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let mut l = Launch::new("waitress-serve");
    l.args(["--listen", &ctx.bind()]);
    l.args(["--threads", &ctx.knobs.threads().to_string()]);
    let processes = ctx.knobs.processes();
    if processes > 1 {
        eprintln!(
            "warpdrive: warning: waitress is single-process; MOD_WSGI_PROCESSES={processes} \
             runs 1 process (scale with replicas or raise MOD_WSGI_THREADS)"
        );
    }
    ctx.int_options(
        &mut l,
        &[
            ("MOD_WSGI_SERVER_BACKLOG", "--backlog"),
            ("MOD_WSGI_LIMIT_REQUEST_BODY", "--max-request-body-size"),
            ("MOD_WSGI_INACTIVITY_TIMEOUT", "--channel-timeout"),
        ],
    );
    for knob in [
        "MOD_WSGI_MAXIMUM_REQUESTS",
        "MOD_WSGI_REQUEST_TIMEOUT",
        "MOD_WSGI_MAX_CLIENTS",
    ] {
        ctx.ignored(knob);
    }
    // Waitress clears X-Forwarded-For/-Host/-Proto/-Port/-By and Forwarded
    // itself (it trusts no peer here). That stays on unless a trusted header
    // is one of them: the middleware must see it, and removes the whole
    // proxy family from untrusted peers instead.
    if ctx
        .proxy
        .headers
        .iter()
        .any(|h| WAITRESS_CLEARS.contains(&h.as_str()))
    {
        l.arg("--no-clear-untrusted-proxy-headers");
    }
    l.watch = ctx.watch_spec();
    let forms = Forms {
        value_flags: &["--call"],
        positional: true,
        factory_flag: Some("--call"),
        ..Forms::default()
    };
    ctx.add_app(&mut l, &forms, |l, spec| {
        l.arg(spec);
    })?;
    Ok(l)
}
