//! `paste`: mod_wsgi-express hosting the app described by `paste.ini`.

use super::ctx::{Ctx, Launch};
use super::mod_wsgi;
use crate::launcher::error::Error;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let ini = ctx.home.join("paste.ini");
    if !ini.is_file() {
        return Err(Error::bad(format!(
            "{}: not found; add paste.ini or choose another server type",
            ini.display()
        )));
    }
    let mut launch = mod_wsgi::base(ctx)?;
    launch.args(["--application-type", "paste", "--entry-point"]);
    launch.arg(ini.display().to_string());
    launch.args(ctx.user_args.iter().cloned());
    Ok(launch)
}
