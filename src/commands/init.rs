//! `init` subcommand: write `.warpdrive/` from prompts or flags (see [`crate::init`]).

use std::collections::BTreeMap;
use std::io::IsTerminal;

use crate::cli::InitArgs;

/// `env` is the process environment (see `commands::environment`).
pub fn run(args: InitArgs, env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    // Prompts are drawn on stderr and read from the terminal: ask only when both are one.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    Ok(crate::init::run(&args, env, interactive)?)
}
