//! `scale` subcommand.

use crate::cli::ScaleArgs;

pub fn run(_args: ScaleArgs) -> anyhow::Result<i32> {
    Err(crate::error::BadInput::new("scale: not built yet").into())
}
