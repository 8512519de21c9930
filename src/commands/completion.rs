//! `completion SHELL`: print a completion script generated from the clap definition.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionArgs};

pub fn run(args: CompletionArgs, _name: &str) -> anyhow::Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut cmd,
        "kubectl-warpdrive",
        &mut std::io::stdout(),
    );
    Ok(0)
}
