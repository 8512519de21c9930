//! One file per server type, each with the same shape: a
//! `pub fn command(ctx: &Ctx) -> Result<Launch, Error>` that turns the
//! resolved context into the server's command line. What they share is in
//! [`ctx`].

use nix::sys::signal::Signal;

use crate::launcher::error::Error;
use crate::launcher::server_type::ServerType;

pub mod ctx;
pub mod django;
pub mod gunicorn;
pub mod mod_wsgi;
pub mod paste;
pub mod python;
pub mod shell;
pub mod uvicorn;
pub mod uwsgi;
pub mod waitress;

pub use ctx::{Ctx, Forms, Launch, UserEntry};

/// The graceful stop signal of each server type (each file's `STOP_SIGNAL`),
/// sent by the supervisor after the drain (see `launcher::drain`).
pub fn stop_signal(server_type: ServerType) -> Signal {
    match server_type {
        ServerType::Shell => shell::STOP_SIGNAL,
        ServerType::Python => python::STOP_SIGNAL,
        ServerType::Paste | ServerType::Django | ServerType::ModWsgi => mod_wsgi::STOP_SIGNAL,
        ServerType::Gunicorn => gunicorn::STOP_SIGNAL,
        ServerType::Waitress => waitress::STOP_SIGNAL,
        ServerType::Uwsgi => uwsgi::STOP_SIGNAL,
        ServerType::Uvicorn => uvicorn::STOP_SIGNAL,
    }
}

/// Builds the command for `ctx.server_type`.
pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let launch = build(ctx)?;
    if launch.argv.first().is_some_and(|p| p == "mod_wsgi-express") {
        mod_wsgi::check(ctx, &launch)?;
    }
    Ok(launch)
}

fn build(ctx: &Ctx) -> Result<Launch, Error> {
    match ctx.server_type {
        ServerType::Shell => shell::command(ctx),
        ServerType::Python => python::command(ctx),
        ServerType::Paste => paste::command(ctx),
        ServerType::Django => django::command(ctx),
        ServerType::Gunicorn => gunicorn::command(ctx),
        ServerType::ModWsgi => mod_wsgi::command(ctx),
        ServerType::Waitress => waitress::command(ctx),
        ServerType::Uwsgi => uwsgi::command(ctx),
        ServerType::Uvicorn => uvicorn::command(ctx),
    }
}
