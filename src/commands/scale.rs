//! `scale` subcommand: turns the flags into [`scale::Options`] and runs
//! [`crate::cluster::scale`].

use crate::cli::ScaleArgs;
use crate::cluster::{rollout, scale, target};

pub fn run(args: ScaleArgs) -> anyhow::Result<i32> {
    let target = target::parse(&args.target)?;
    let timeout = rollout::parse_timeout(&args.timeout)?;
    Ok(scale::run(&scale::Options {
        target,
        replicas: i64::from(args.replicas),
        current: args.current_replicas.map(i64::from),
        dry_run: args.dry_run,
        output: args.output,
        no_wait: args.no_wait,
        timeout,
        kube: args.kube,
    })?)
}
