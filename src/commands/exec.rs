//! `exec`: resolve the app (or take `-- CMD`), run the action hooks, and
//! start it: `exec()` directly, or under the PID-1 supervisor.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::cli::{DryRunOutput, ExecArgs};
use crate::launcher::{self, resolve, Options, Plan};

/// `env` is the process environment (see `commands::environment`).
pub fn run(args: ExecArgs, env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    let opts = Options {
        app_root: args.app_root.clone(),
        server_type: args.server_type.clone(),
        deploy_env: true,
    };
    let is_command = !args.command.is_empty();
    let plan = if is_command {
        resolve::command_plan(&opts, env, args.command.clone())?
    } else {
        let plan = launcher::resolve(&opts, env)?;
        launcher::hooks::check(&plan.src_root)?;
        plan
    };
    // The runtime environment (see `launcher::environment`): what the
    // hooks get, and where the launcher's own settings are read.
    let mut full = env.clone();
    full.extend(plan.hook_env.clone());
    let env = &full;
    // Checked before a dry run too, so that a bad value shows at once.
    let stop = launcher::drain::Settings::from_env(
        env,
        plan.server_type.map(launcher::servers::stop_signal),
    )?;
    if args.dry_run {
        print_plan(&plan, args.output)?;
        return Ok(0);
    }
    if let Some(t) = plan.server_type {
        eprintln!("warpdrive: starting {} ({})", t.name(), plan.reason);
    }
    let runtime_dir = launcher::dirs::runtime_dir(env);
    launcher::dirs::ensure_dir(&runtime_dir)?;
    if !is_command {
        launcher::hooks::run_hooks(&plan.src_root, &runtime_dir, Some(&full))?;
        if launcher::support::needed(&plan.env) {
            launcher::support::install(&runtime_dir)?;
        }
    }
    let how = launcher::runtime::Supervision {
        stop,
        draining_file: launcher::dirs::draining_file(&runtime_dir),
        cgroup_root: launcher::cgroup::root(env),
    };
    Ok(launcher::runtime::run(&plan, args.supervise, &how)?)
}

fn print_plan(plan: &Plan, output: DryRunOutput) -> anyhow::Result<()> {
    match output {
        DryRunOutput::Text => {
            if let Some(t) = plan.server_type {
                eprintln!("warpdrive: would start {} ({})", t.name(), plan.reason);
            }
            let line = shlex::try_join(plan.argv.iter().map(String::as_str))
                .context("the command contains a NUL byte")?;
            crate::outln!("{line}");
        }
        DryRunOutput::Json => {
            crate::outln!("{}", serde_json::to_string_pretty(plan)?);
        }
    }
    Ok(())
}
