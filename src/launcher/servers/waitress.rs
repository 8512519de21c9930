//! `waitress`: `waitress-serve --listen 0.0.0.0:PORT`. Waitress is one
//! process with a thread pool: MOD_WSGI_PROCESSES > 1 gets a warning and
//! runs one process (scale with replicas, or raise MOD_WSGI_THREADS).
//! It has no reloader, so the launcher restarts it on source changes.

use super::{Ctx, Launch};
use crate::launcher::Error;

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
    let k = ctx.knobs;
    if let Some(n) = k.int("MOD_WSGI_SERVER_BACKLOG") {
        l.args(["--backlog", &n.to_string()]);
    }
    if let Some(n) = k.int("MOD_WSGI_LIMIT_REQUEST_BODY") {
        l.args(["--max-request-body-size", &n.to_string()]);
    }
    if let Some(n) = k.int("MOD_WSGI_INACTIVITY_TIMEOUT") {
        l.args(["--channel-timeout", &n.to_string()]);
    }
    for knob in [
        "MOD_WSGI_MAXIMUM_REQUESTS",
        "MOD_WSGI_REQUEST_TIMEOUT",
        "MOD_WSGI_MAX_CLIENTS",
    ] {
        ctx.ignored(knob);
    }
    l.watch = ctx.watch_spec();
    let found = ctx.user_entry(&["--call"], &[], true);
    ctx.add_app(&mut l, found, true, |l, spec| {
        l.arg(spec);
    })?;
    Ok(l)
}
