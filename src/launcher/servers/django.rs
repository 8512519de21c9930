//! `django`: mod_wsgi-express hosting the module named by WSGI_APPLICATION,
//! with the static files at STATIC_URL when STATIC_ROOT is set. An entry
//! point in server_args (`--entry-point`, a script) is used instead.

use super::ctx::{Ctx, Launch};
use super::mod_wsgi;
use crate::launcher::error::Error;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    mod_wsgi::refuse_foreign_entry(ctx)?;
    let mut launch = mod_wsgi::base(ctx)?;
    if mod_wsgi::user_entry_point(ctx) {
        launch.notes.push("entry point from server_args".into());
    } else {
        mod_wsgi::detected_app(ctx, &mut launch)?;
    }
    if let Some((url, root)) = ctx.static_files()? {
        launch
            .notes
            .push(format!("static {url} -> {}", root.display()));
    }
    launch.args(ctx.user_args.iter().cloned());
    Ok(launch)
}
