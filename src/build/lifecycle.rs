//! The lifecycle commands: `alive`, `ready`, `migrate`, `setup` and `verify`
//! run the matching `.warpdrive/action_hooks/` hook with the runtime
//! environment, after `deploy-cfg` (once per container, as `exec` runs it);
//! `env` prints that environment and `shell` starts a shell with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::env::{self, Env};
use super::error::Error;
use crate::launcher::{dirs, hooks, resolve};

/// The lifecycle hooks, by command name.
pub const HOOKS: &[&str] = &["alive", "ready", "migrate", "setup", "verify"];

/// The app directory (`--app-root`, `$WARPDRIVE_SRC_ROOT`, the current
/// directory) and its runtime environment, `deploy-env` included.
pub fn runtime_env(
    app_root: Option<PathBuf>,
    inherited: &BTreeMap<String, String>,
) -> Result<(PathBuf, Env), Error> {
    let opts = resolve::Options {
        app_root,
        server_type: None,
        deploy_env: false,
    };
    let root = resolve::app_root(&opts, inherited)?;
    resolve::warpdrive_dir(&root)?;
    let env = env::runtime(&root, inherited, true)?;
    Ok((root, env))
}

/// Runs hook `name` (one of [`HOOKS`]) for the app; `Ok(false)` when the
/// app has none. A failing hook is [`Error::Failed`] with its status.
pub fn run_hook(
    name: &str,
    app_root: Option<PathBuf>,
    inherited: &BTreeMap<String, String>,
) -> Result<bool, Error> {
    let (root, env) = runtime_env(app_root, inherited)?;
    let runtime_dir = dirs::runtime_dir(&env.all);
    dirs::ensure_dir(&runtime_dir)?;
    hooks::deploy_cfg_once(&root, &runtime_dir, Some(&env.all))?;
    Ok(hooks::run_named(&root, name, Some(&env.all))?)
}

/// `export NAME=VALUE` lines, one per variable the runtime sets on top of the
/// inherited environment, values shell-quoted, sorted by name: what
/// `eval "$(warpdrive env)"` applies.
pub fn export_lines(env: &Env) -> Result<String, Error> {
    let mut out = String::new();
    for (k, v) in &env.set {
        if !is_name(k) {
            continue;
        }
        let v = shlex::try_quote(v).map_err(|_| {
            Error::bad(format!(
                "{k} contains a NUL byte and cannot be printed; fix what sets it"
            ))
        })?;
        out.push_str(&format!("export {k}={v}\n"));
    }
    Ok(out)
}

/// A name a POSIX shell can export.
fn is_name(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `$SHELL` from the runtime environment, else `/bin/sh`.
pub fn shell_program(env: &Env) -> PathBuf {
    env.all
        .get("SHELL")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

/// Replaces this process with an interactive shell (`$SHELL` or `/bin/sh`,
/// run directly, no arguments) in the app directory with the runtime
/// environment. Returns only on failure.
pub fn exec_shell(root: &Path, env: &Env) -> Error {
    use std::os::unix::process::CommandExt;
    let program = shell_program(env);
    let err = std::process::Command::new(&program)
        .current_dir(root)
        .env_clear()
        .envs(&env.all)
        .exec();
    Error::io(format!("cannot start {}", program.display()), err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_quoted_and_named() {
        let mut env = Env::default();
        env.set.insert("A".into(), "it's \"x y\"".into());
        env.set.insert("B".into(), "plain".into());
        env.set.insert("not-a-name".into(), "x".into());
        let text = export_lines(&env).unwrap();
        assert_eq!(text, "export A=\"it's \\\"x y\\\"\"\nexport B=plain\n");
        env.set.insert("C".into(), "a\0b".into());
        assert!(export_lines(&env).is_err());
    }
}
