//! `alive`, `ready`, `migrate`, `setup`, `verify` (`lifecycle::run_hook`),
//! `env` (`lifecycle::export_lines`) and `shell` (`lifecycle::exec_shell`).

use std::collections::BTreeMap;

use crate::build::lifecycle;
use crate::cli::LifecycleArgs;

/// Runs hook `name`; its failure carries its exit status.
pub fn hook(
    name: &str,
    args: LifecycleArgs,
    env: &BTreeMap<String, String>,
) -> anyhow::Result<i32> {
    lifecycle::run_hook(name, args.app_root, env)?;
    Ok(0)
}

/// `migrate`: the hook, else the Procfile's `release:`, else Django's
/// migrate (see `lifecycle::migrate`).
pub fn migrate(args: LifecycleArgs, env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    lifecycle::migrate(args.app_root, env)?;
    Ok(0)
}

/// `ready`: not ready (exit 1, one line) while the supervisor drains after
/// SIGTERM (its `dirs::draining_file` exists in the runtime directory, the
/// same one as `exec`'s), else the ready hook.
pub fn ready(args: LifecycleArgs, env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    let dirs = crate::launcher::dirs::runtime_dir(env);
    let draining = crate::launcher::dirs::draining_file(&dirs);
    if draining.exists() {
        eprintln!(
            "warpdrive: not ready: draining after SIGTERM ({} exists)",
            draining.display()
        );
        return Ok(1);
    }
    hook("ready", args, env)
}

pub fn env(args: LifecycleArgs, env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    let (_, runtime) = lifecycle::runtime_env(args.app_root, env)?;
    crate::out!("{}", lifecycle::export_lines(&runtime)?);
    Ok(0)
}

pub fn shell(args: LifecycleArgs, env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    let (root, runtime) = lifecycle::runtime_env(args.app_root, env)?;
    Err(lifecycle::exec_shell(&root, &runtime).into())
}
