//! The lifecycle commands: `alive`, `ready`, `migrate`, `setup` and `verify`
//! run the matching `.warpdrive/action_hooks/` hook with the runtime
//! environment, after `deploy-cfg` (once per container, as `exec` runs it);
//! `env` prints that environment and `shell` starts a shell with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::env::{self, Env};
use super::error::Error;
use crate::launcher::{detect, dirs, hooks, migrating, path, resolve};

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

/// `warpdrive migrate`: the `migrate` hook; without one, the Procfile's
/// `release:` command (Heroku's release phase), without a shell unless the
/// line needs one; without either, for a Django app (`manage.py` setting
/// `DJANGO_SETTINGS_MODULE`), `python manage.py migrate --noinput`, what the
/// S2I image runs at every start, unless `DISABLE_MIGRATE` is set. The
/// release command and Django's run in the app's home with the runtime
/// environment; a failure is [`Error::Failed`] with its status. What ran is
/// said in one line on stderr.
pub fn migrate(
    app_root: Option<PathBuf>,
    inherited: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let (root, env) = runtime_env(app_root, inherited)?;
    let runtime_dir = dirs::runtime_dir(&env.all);
    dirs::ensure_dir(&runtime_dir)?;
    hooks::deploy_cfg_once(&root, &runtime_dir, Some(&env.all))?;
    if hooks::run_named(&root, "migrate", Some(&env.all))? {
        return Ok(());
    }
    if let Some(release) = migrating::procfile(&root)?.and_then(|p| p.release.map(|r| (p.path, r)))
    {
        let (path, text) = release;
        let line = migrating::Line::classify(&text, &env.all)
            .map_err(|e| Error::bad(format!("{}: release: {e}", path.display())))?;
        eprintln!(
            "warpdrive: migrate: Procfile release: {} ({})",
            crate::error::cut(&text),
            line.how()
        );
        return run(
            &line.argv(&env.all, &[]),
            &env,
            "the Procfile's release: command",
        );
    }
    if detect::django_settings_module(&env.home, &env.all)?.is_some() {
        if migrating::switch(&env.all, "DISABLE_MIGRATE") {
            eprintln!("warpdrive: migrate: DISABLE_MIGRATE is set; manage.py migrate not run");
            return Ok(());
        }
        eprintln!(
            "warpdrive: migrate: python manage.py migrate --noinput (Django, no migrate hook)"
        );
        let python = path::python(&env.all);
        let argv = [python.as_str(), "manage.py", "migrate", "--noinput"].map(String::from);
        return run(&argv, &env, "manage.py migrate");
    }
    Ok(())
}

/// Runs `argv` in the app's home with the runtime environment (and no
/// stdin); its failure is [`Error::Failed`] naming `what`.
fn run(argv: &[String], env: &Env, what: &str) -> Result<(), Error> {
    let Some((program, args)) = argv.split_first() else {
        return Ok(());
    };
    let status = std::process::Command::new(program)
        .args(args)
        .current_dir(&env.home)
        .env_clear()
        .envs(&env.all)
        .stdin(std::process::Stdio::null())
        .status()
        .map_err(|e| Error::io(format!("cannot run {program} for {what}"), e))?;
    if status.success() {
        return Ok(());
    }
    Err(Error::Failed(crate::error::ExitStatus {
        what: what.to_string(),
        status: env::status_code(status),
    }))
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
