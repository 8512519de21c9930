//! `tune` subcommand.

use crate::cli::TuneArgs;

pub fn run(_args: TuneArgs) -> anyhow::Result<i32> {
    Err(crate::error::BadInput::new("tune: not built yet").into())
}
