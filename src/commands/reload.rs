//! `reload` subcommand: checks the flags (before anything in the cluster
//! changes) and runs [`crate::reload`].

use crate::cli::{OnOff, ReloadArgs};
use crate::cluster::{rollout, target};
use crate::error::BadInput;
use crate::reload::{self, Action, SyncOptions};
use crate::sync::{self, Excludes};

pub fn run(args: ReloadArgs) -> anyhow::Result<i32> {
    let timeout = rollout::parse_timeout(&args.timeout)?;
    let target = target::parse(&args.target)?;
    if args.state == OnOff::Off {
        let stray = [
            (args.watch, "--watch"),
            (args.delete, "--delete"),
            (!args.exclude.is_empty(), "--exclude"),
            (args.dest.is_some(), "--dest"),
        ];
        if let Some((_, flag)) = stray.iter().find(|(set, _)| *set) {
            return Err(BadInput::new(format!(
                "{flag} only applies to `reload {} on`: drop it, `off` syncs nothing",
                args.target
            ))
            .into());
        }
    }
    if args.no_sync && (args.watch || args.delete) {
        return Err(BadInput::new(
            "--no-sync cannot be combined with --watch or --delete: drop one",
        )
        .into());
    }
    if let Some(d) = &args.dest {
        sync::check_dest(d).map_err(|e| e.about("--dest"))?;
    }
    let action = match args.state {
        OnOff::Off => Action::Off,
        OnOff::On if args.no_sync => Action::On(None),
        OnOff::On => {
            let source = sync::source_dir(&args.source).map_err(|e| e.about("--source"))?;
            let excludes = Excludes::new(&source, &args.exclude)?;
            Action::On(Some(Box::new(SyncOptions {
                source,
                dest: args.dest,
                excludes,
                delete: args.delete,
                watch: args.watch,
            })))
        }
    };
    Ok(reload::run(reload::Options {
        target,
        action,
        container: args.container,
        timeout,
        kube: args.kube,
    })?)
}
