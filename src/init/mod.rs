//! `kubectl warpdrive init`: write `.warpdrive/` from prompts or flags.
//!
//! 1. [`survey`] the layout with the launcher's own detection
//!    (`launcher::detect::auto`, Django settings, the `wsgi` module
//!    convention).
//! 2. [`ask`] each question that applies to the chosen server type: from
//!    its flag, else the detected default with `--yes`, else a prompt on a
//!    terminal; without a terminal a missing answer is an error naming the
//!    flag (never a prompt that hangs).
//! 3. [`files`]: `server_type`, `server_args` (or `server_args/<type>`), the
//!    `application` record (`launcher::detect::format_record`) and, on request, an
//!    `action_hooks/deploy` skeleton.
//! 4. [`write`]: print them (`--dry-run`), or diff against what exists, ask
//!    or refuse, and write each file through a temp file and a rename. Then
//!    resolve the way `warpdrive exec --dry-run` does and print the command.
//!
//! What goes where, per server type (the launcher reads it back):
//!
//! | answer | django, mod_wsgi, paste | gunicorn | waitress | uwsgi |
//! | --- | --- | --- | --- | --- |
//! | entry point | `application` (not paste) | `application` | `application` | `application` |
//! | static files | `application`; paste: `--url-alias URL DIR/` | `application` (WhiteNoise) | same | `application` (`--static-map`) |
//! | proxy headers | `--trust-proxy-header H` | `application` `trust_proxy_headers` | same | same |
//! | processes | `--processes N` | `--workers N` | refused above 1 | `--processes N` |
//! | threads | `--threads N` | `--threads N` | `--threads N` | `--threads N` |
//!
//! `shell` and `python` get only `server_type` (and the hook): their
//! server_args are arguments of `app.sh`/`app.py`.
//!
//! [`answers`] holds the answers and the checks each one passes.

use std::collections::BTreeMap;

use crate::cli::InitArgs;
use crate::launcher::{self, path, resolve};

pub mod answers;
pub mod ask;
pub mod error;
pub mod files;
pub mod survey;
pub mod write;

pub use answers::Answers;
pub use error::Error;
pub use survey::{survey, Survey};

/// Runs `init`: the whole flow. `interactive` is true when stdin and stderr
/// are terminals. Returns the process exit code.
pub fn run(
    args: &InitArgs,
    env: &BTreeMap<String, String>,
    interactive: bool,
) -> Result<i32, Error> {
    let opts = launcher::Options {
        app_root: Some(args.app_root.clone()),
        server_type: None,
        deploy_env: false,
    };
    let app_root = resolve::app_root(&opts, env)?;
    let wd = resolve::warpdrive_dir(&app_root)?;
    // What `exec` would see (without running deploy-env on this machine).
    let rt = launcher::environment::runtime(&app_root, env, false)?;
    let python = path::python(&rt.all);
    let surveyed = survey(&app_root, &python, &rt.all)?;
    for w in &surveyed.warnings {
        eprintln!("warpdrive: warning: {w}");
    }
    if interactive {
        ask::restore_cursor_on_interrupt();
    }
    let answers = ask::answers(args, &surveyed, interactive)?;
    let planned = files::files(&answers, &app_root, &wd)?;
    if args.dry_run {
        write::print_dry_run(&planned, &app_root)?;
        return Ok(0);
    }
    write::write_files(&planned, &app_root, args.force, interactive)?;
    write::print_resolution(&app_root, env);
    Ok(0)
}
