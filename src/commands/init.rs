//! `init` subcommand.

use crate::cli::InitArgs;

pub fn run(_args: InitArgs) -> anyhow::Result<i32> {
    Err(crate::error::BadInput::new("init: not built yet").into())
}
