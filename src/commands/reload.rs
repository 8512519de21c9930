//! `reload` subcommand.

use crate::cli::ReloadArgs;

pub fn run(_args: ReloadArgs) -> anyhow::Result<i32> {
    Err(crate::error::BadInput::new("reload: not built yet").into())
}
