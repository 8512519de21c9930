//! `gunicorn`: binds 0.0.0.0:PORT, logs and access-logs to stdout, and
//! leaves proxy headers to the launcher (`--forwarded-allow-ips ''`), so they
//! are trusted only as `WARPDRIVE_TRUST_PROXY_HEADERS` says.

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Forms, Launch};
use crate::launcher::error::Error;
use crate::launcher::migrating;

/// gunicorn's graceful stop: the arbiter closes its listeners at once and
/// gives the workers `--graceful-timeout` (30 s) to finish their requests;
/// connections still waiting in the backlog are dropped, which is why the
/// launcher's drain delays this signal while the endpoints update.
pub const STOP_SIGNAL: Signal = Signal::SIGTERM;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let mut l = Launch::new("gunicorn");
    let config = app_config(ctx)?;
    // The S2I image's rule: with APP_CONFIG or GUNICORN_CMD_ARGS the
    // settings are the user's, and its default options are left out.
    let custom = config.is_some() || migrating::var(ctx.env, "GUNICORN_CMD_ARGS").is_some();
    if custom {
        // gunicorn's own defaults: bind 0.0.0.0:$PORT, $WEB_CONCURRENCY
        // workers; APP_CONFIG and GUNICORN_CMD_ARGS win over both.
        l.env
            .insert("WEB_CONCURRENCY".into(), ctx.knobs.processes().to_string());
        if let Some(c) = &config {
            l.args(["--config", c]);
        }
        l.notes.push(
            "APP_CONFIG/GUNICORN_CMD_ARGS set: gunicorn's settings are theirs (default bind \
             0.0.0.0:$PORT and $WEB_CONCURRENCY workers unless they say otherwise)"
                .into(),
        );
    } else {
        l.args([
            "--bind",
            &ctx.bind(),
            "--log-file",
            "-",
            "--access-logfile",
            "-",
        ]);
    }
    l.args(["--forwarded-allow-ips", ""]);
    // A MOD_WSGI_* variable you set is on the command line, above them.
    let explicit = |knob: &str| migrating::var(ctx.env, knob).is_some();
    if !custom || explicit("MOD_WSGI_PROCESSES") {
        l.args(["--workers", &ctx.knobs.processes().to_string()]);
    }
    if !custom || explicit("MOD_WSGI_THREADS") {
        l.args(["--threads", &ctx.knobs.threads().to_string()]);
    }
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

/// `APP_CONFIG`, gunicorn's `--config`: a file inside the app (relative to
/// its home), or `python:MODULE`.
fn app_config(ctx: &Ctx) -> Result<Option<String>, Error> {
    let Some(value) = migrating::var(ctx.env, "APP_CONFIG") else {
        return Ok(None);
    };
    if let Some(module) = value.strip_prefix("python:") {
        let ok = !module.is_empty()
            && module.split('.').all(|p| {
                p.chars()
                    .next()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                    && p.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
            });
        if !ok {
            return Err(Error::bad(format!(
                "APP_CONFIG={}: not a module name after python:; set APP_CONFIG to a \
                 gunicorn config file in the app, or python:MODULE",
                crate::error::quoted(value)
            )));
        }
        return Ok(Some(value.to_string()));
    }
    let file = migrating::file_var(
        ctx.src_root,
        ctx.home,
        ctx.env,
        "APP_CONFIG",
        "a gunicorn config file",
    )?;
    Ok(file.map(|f| f.display().to_string()))
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
