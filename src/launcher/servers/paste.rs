//! `paste`: mod_wsgi-express hosting a PasteDeploy config: the `.ini` file
//! server_args name (any name), else `paste.ini`, `production.ini` or
//! `development.ini` as `auto` picks them ([`detect::paste_config`]).

use super::ctx::{Ctx, Launch};
use super::mod_wsgi;
use crate::launcher::detect;
use crate::launcher::error::Error;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let mut user = ctx.user_args.to_vec();
    let named = user
        .iter()
        .position(|a| !a.starts_with('-') && a.ends_with(".ini"));
    let (ini, why) = match named {
        Some(i) => {
            let word = user.remove(i);
            let ini = ctx.home.join(&word);
            if !ini.is_file() {
                return Err(Error::bad(format!(
                    "server_args name {}, which is not a file in {}; fix the name",
                    crate::error::quoted(&word),
                    ctx.home.display()
                )));
            }
            (ini, format!("config {word} from server_args"))
        }
        None => detect::paste_config(ctx.home)?.ok_or_else(|| {
            Error::bad(format!(
                "{}: no PasteDeploy config: add paste.ini (or a production.ini or \
                 development.ini with an [app:main] section), name the .ini in \
                 .warpdrive/server_args, or choose another server type",
                ctx.home.display()
            ))
        })?,
    };
    let mut launch = mod_wsgi::base(ctx)?;
    launch.notes.push(why);
    launch.args(["--application-type", "paste", "--entry-point"]);
    launch.arg(ini.display().to_string());
    launch.args(user);
    Ok(launch)
}
