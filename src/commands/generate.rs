//! `generate` subcommand.

use crate::cli::GenerateArgs;

pub fn run(_args: GenerateArgs) -> anyhow::Result<i32> {
    Err(crate::error::BadInput::new("generate: not built yet").into())
}
