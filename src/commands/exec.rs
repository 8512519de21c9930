//! `exec` subcommand.

use crate::cli::ExecArgs;

pub fn run(_args: ExecArgs) -> anyhow::Result<i32> {
    Err(crate::error::BadInput::new("exec: not built yet").into())
}
