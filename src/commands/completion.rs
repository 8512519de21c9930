//! `completion SHELL`: print a completion script generated from the clap definition.

use std::io::Write as _;

use crate::cli::CompletionArgs;
use crate::docs::{annotated_command, BIN};

/// `name` is the display name from `argv[0]`: as the plugin (`kubectl
/// warpdrive`) the script completes `kubectl-warpdrive`, the same file as in
/// `completions/`; in the container it completes `warpdrive`.
pub fn run(args: CompletionArgs, name: &str) -> anyhow::Result<i32> {
    let bin = if name.starts_with("kubectl") {
        BIN
    } else {
        "warpdrive"
    };
    let mut cmd = annotated_command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, bin, &mut script);
    // A closed pipe (`| head`) is not worth a panic.
    let _ = crate::output::Stdout.write_all(&script);
    Ok(0)
}
