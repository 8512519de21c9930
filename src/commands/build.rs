//! `build`: the image-build step (`build::build`).

use std::collections::BTreeMap;

use crate::cli::BuildArgs;

/// `env` is the process environment (see `commands::environment`).
pub fn run(args: BuildArgs, env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    let opts = crate::build::Options {
        app_root: args.app_root,
    };
    crate::build::build(&opts, env)?;
    Ok(0)
}
