//! kubectl-warpdrive: the plugin (`init`, `tune`, `scale`, `reload`) and the
//! in-container launcher (`exec`) in one binary.
//!
//! * [`build`]: `warpdrive build` (the image-build step) and the lifecycle commands.
//! * [`cli`]: the clap definition (also the source of completions and man pages).
//! * [`commands`]: one file per subcommand; thin glue over the modules below.
//! * [`complete`]: the engine behind kubectl's plugin completion (`__complete`).
//! * [`launcher`]: resolving and starting the app server; never touches the cluster.
//! * [`cluster`]: the Kubernetes client side; never loaded on the `exec` path.
//! * [`sync`]: the file sync into a container, over a `Transport`.
//! * [`reload`]: `reload on/off` and its sync loop, over [`cluster`] and [`sync`].
//! * [`sizing`]: the measured memory per server process, for the launcher's
//!   automatic process count and `tune --recommend`.

// stdout goes through `output::Stdout` (`out!`/`outln!`): `print!` panics on a
// closed pipe.
#![deny(clippy::print_stdout)]

pub mod build;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod complete;
pub mod docs;
pub mod error;
pub mod init;
pub mod knobs;
pub mod launcher;
pub mod mod_wsgi_args;
pub mod output;
pub mod reload;
pub mod sizing;
pub mod sync;

use std::ffi::OsString;

/// Runs the program for the given argv and returns the process exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    output::init();
    let code = match commands::dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", error::one_line(&err));
            error::exit_code(&err)
        }
    };
    match output::stdout_error() {
        Some(e) if code == 0 => {
            eprintln!("error: cannot write to stdout: {e}");
            1
        }
        _ => code,
    }
}
