//! `shell`: runs a program, with server_args as its arguments: the script
//! `APP_SCRIPT` names (the S2I image's), else the executable `app.sh`, else
//! the Procfile's `web:` command (Heroku's), without a shell unless the line
//! needs one (`migrating::Line::classify`).

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Launch};
use crate::launcher::error::Error;
use crate::launcher::migrating;
use crate::launcher::path;

/// `app.sh` should `exec` its server, which then gets SIGTERM, the usual
/// stop signal in a container.
pub const STOP_SIGNAL: Signal = Signal::SIGTERM;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let script = migrating::file_var(
        ctx.src_root,
        ctx.home,
        ctx.env,
        "APP_SCRIPT",
        "an executable script",
    )?;
    let app_sh = ctx.home.join("app.sh");
    let mut launch = match script {
        Some(script) => {
            require_executable("APP_SCRIPT", &script)?;
            let mut l = Launch::new(&script.display().to_string());
            l.notes
                .push(format!("APP_SCRIPT runs {}", script.display()));
            l
        }
        None if !app_sh.exists() => match migrating::procfile(ctx.src_root)? {
            Some(migrating::Procfile {
                path,
                web: Some(web),
                ..
            }) => {
                let line = migrating::Line::classify(&web, ctx.env)
                    .map_err(|e| Error::bad(format!("{}: web: {e}", path.display())))?;
                return Ok(Launch {
                    argv: line.argv(ctx.env, ctx.user_args),
                    notes: vec![format!("Procfile web: {}", line.how())],
                    watch: ctx.watch_spec(),
                    ..Launch::default()
                });
            }
            _ => {
                path::require_executable(&app_sh)?;
                Launch::new(&app_sh.display().to_string())
            }
        },
        None => {
            path::require_executable(&app_sh)?;
            Launch::new(&app_sh.display().to_string())
        }
    };
    launch.args(ctx.user_args.iter().cloned());
    launch.watch = ctx.watch_spec();
    Ok(launch)
}

fn require_executable(name: &str, script: &std::path::Path) -> Result<(), Error> {
    path::require_executable(script).map_err(|e| Error::bad(format!("{name}: {e}")))
}
