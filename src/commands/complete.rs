//! `complete` subcommand.

use crate::cli::CompleteArgs;

pub fn run(_args: CompleteArgs) -> anyhow::Result<i32> {
    Err(crate::error::BadInput::new("complete: not built yet").into())
}
