//! `tune` subcommand: turns the flags into checked env changes and
//! [`tune::Options`], and runs [`crate::cluster::tune`].

use crate::cli::{DryRun, TuneArgs};
use crate::cluster::workload::EnvChange;
use crate::cluster::{rollout, target, tune, Error};

pub fn run(args: TuneArgs) -> anyhow::Result<i32> {
    let (resources, env_words) = target::split_env(&args.target);
    let changes = requested_changes(&args, &env_words)?;
    if args.list && !changes.is_empty() {
        return Err(Error::bad(
            "--list only prints: drop --processes/--threads/--set/--unset and KEY=VALUE, or drop --list",
        )
        .into());
    }
    if args.list && args.output.is_some() {
        return Err(Error::bad(
            "--list prints KEY=VALUE lines and takes no -o (as kubectl set env --list): drop -o, or use `kubectl get … -o json`",
        )
        .into());
    }
    if args.recommend && args.apply && (args.processes.is_some() || args.threads.is_some()) {
        return Err(Error::bad(
            "--recommend --apply chooses --processes and --threads itself: drop those flags",
        )
        .into());
    }
    if !args.list && !args.recommend && changes.is_empty() {
        return Err(Error::bad(
            "nothing to change: give --processes, --threads, MOD_WSGI_X=V, MOD_WSGI_X- (or --set/--unset), or --list, --recommend",
        )
        .into());
    }
    let place = if args.local {
        local_place(&args, &resources)?
    } else {
        if args.filename.is_some() {
            return Err(Error::bad(
                "-f needs --local (tune edits one TARGET on the cluster otherwise)",
            )
            .into());
        }
        tune::Place::Cluster {
            selection: target::selection(&resources, args.selector.as_deref(), args.all)?,
            timeout: rollout::parse_timeout(&args.timeout)?,
        }
    };
    let action = if args.list {
        tune::Action::List
    } else if args.recommend {
        tune::Action::Recommend {
            profile: args.profile,
            apply: args.apply,
        }
    } else {
        tune::Action::Change
    };
    Ok(tune::run(&tune::Options {
        place,
        action,
        changes,
        container: args.container,
        dry_run: args.dry_run,
        output: args.output,
        no_wait: args.no_wait,
        kube: args.kube,
    })?)
}

/// `--local -f FILE|DIR|-` and the flags that cannot go with it.
fn local_place(args: &TuneArgs, resources: &[String]) -> Result<tune::Place, Error> {
    if !resources.is_empty() || args.selector.is_some() || args.all {
        return Err(Error::bad(
            "--local edits the manifests given with -f: drop the TARGET, -l and --all",
        ));
    }
    if args.dry_run == DryRun::Server {
        return Err(Error::bad(
            "--local needs no cluster: --dry-run=server cannot apply",
        ));
    }
    let file = args.filename.as_deref().unwrap_or("-");
    if args.in_place && file == "-" {
        return Err(Error::bad(
            "--in-place cannot write back to stdin: give -f FILE or DIR",
        ));
    }
    Ok(tune::Place::Local {
        file: file.to_string(),
        in_place: args.in_place,
    })
}

/// The env changes asked for by `--processes`, `--threads`, `--set`,
/// `--unset` and the `KEY=VALUE`/`KEY-` words, in that order, each variable
/// at most once.
fn requested_changes(args: &TuneArgs, env_words: &[String]) -> Result<Vec<EnvChange>, Error> {
    let mut changes = Vec::new();
    if let Some(p) = &args.processes {
        changes.push(tune::set("--processes", "MOD_WSGI_PROCESSES", p)?);
    }
    if let Some(t) = &args.threads {
        changes.push(tune::set("--threads", "MOD_WSGI_THREADS", t)?);
    }
    for kv in &args.set {
        let (name, value) = kv
            .split_once('=')
            .ok_or_else(|| Error::bad(format!("--set {kv:?}: expected MOD_WSGI_NAME=VALUE")))?;
        changes.push(tune::set("--set", name.trim(), value)?);
    }
    for name in &args.unset {
        changes.push(tune::unset("--unset", name)?);
    }
    for word in env_words {
        match word.split_once('=') {
            Some((name, value)) => changes.push(tune::set(word, name.trim(), value)?),
            None => match word.strip_suffix('-') {
                Some(name) => changes.push(tune::unset(word, name)?),
                None => {
                    return Err(Error::bad(format!(
                        "{}: after KEY=VALUE only more KEY=VALUE or KEY- may follow (put TARGETs first)",
                        crate::error::quoted(word)
                    )))
                }
            },
        }
    }
    tune::check_unique(&changes)?;
    Ok(changes)
}
