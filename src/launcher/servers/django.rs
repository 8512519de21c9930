//! `django`: mod_wsgi-express hosting the module named by WSGI_APPLICATION,
//! with the static files at STATIC_URL when STATIC_ROOT is set.

use super::ctx::{Ctx, Launch};
use super::mod_wsgi;
use crate::launcher::error::Error;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let entry = ctx.detected_entry_point()?;
    let mut launch = mod_wsgi::base(ctx)?;
    if let Some(app) = ctx.app()? {
        launch
            .notes
            .push(format!("entry point {} {}", entry.spec(), app.source));
    }
    if let Some((url, root)) = ctx.static_files()? {
        launch
            .notes
            .push(format!("static {url} -> {}", root.display()));
    }
    mod_wsgi::detected_app(ctx, &mut launch)?;
    launch.args(ctx.user_args.iter().cloned());
    Ok(launch)
}
