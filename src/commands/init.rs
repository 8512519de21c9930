//! `init` subcommand: write `.warpdrive/` from prompts or flags (see [`crate::init`]).

use std::collections::BTreeMap;
use std::io::IsTerminal;

use crate::cli::InitArgs;

pub fn run(args: InitArgs) -> anyhow::Result<i32> {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    // Prompts are drawn on stderr and read from the terminal: ask only when both are one.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    Ok(crate::init::run(&args, &env, interactive)?)
}
