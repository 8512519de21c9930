//! The runtime environment the build steps, the lifecycle hooks, `env` and
//! `shell` run with: the launcher's (the runtime variables,
//! `.warpdrive/environment`, `deploy-env`), plus, for the build,
//! `.warpdrive/action_hooks/build-env`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::Error;
use crate::launcher::app_file;
use crate::launcher::hooks::HOOK_DIR;

/// The default of `WARPDRIVE_APP_ROOT`, as in the original's images.
pub const DEFAULT_APP_ROOT: &str = "/opt/app-root";

/// An environment: the whole of it, and what was set on top of the inherited one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    pub all: BTreeMap<String, String>,
    pub set: BTreeMap<String, String>,
}

impl Env {
    fn put(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        self.all.insert(key.to_string(), value.clone());
        self.set.insert(key.to_string(), value);
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.all
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `$WARPDRIVE_APP_ROOT`.
    pub fn app_root(&self) -> PathBuf {
        PathBuf::from(self.get("WARPDRIVE_APP_ROOT").unwrap_or(DEFAULT_APP_ROOT))
    }
}

/// The runtime environment of the app in `src_root` (canonical). With
/// `deploy_env`, `.warpdrive/action_hooks/deploy-env` is run and its
/// exports taken, as at run time.
pub fn runtime(
    src_root: &Path,
    inherited: &BTreeMap<String, String>,
    deploy_env: bool,
) -> Result<Env, Error> {
    let mut env = Env {
        all: inherited.clone(),
        set: BTreeMap::new(),
    };
    env.put("WARPDRIVE_SRC_ROOT", src_root.display().to_string());
    if env.get("WARPDRIVE_APP_ROOT").is_none() {
        env.put("WARPDRIVE_APP_ROOT", DEFAULT_APP_ROOT);
    }
    if env.get("WARPDRIVE_HTTP_PORT").is_none() {
        env.put("WARPDRIVE_HTTP_PORT", "8080");
    }
    if env.get("PORT").is_none() {
        let port = env.all["WARPDRIVE_HTTP_PORT"].clone();
        env.put("PORT", port);
    }
    if !env.all.contains_key("PYTHONUNBUFFERED") {
        env.put("PYTHONUNBUFFERED", "1");
    }
    let venv = env.app_root();
    if venv.join("pyvenv.cfg").is_file() || venv.join("bin/activate").is_file() {
        let bin = venv.join("bin").display().to_string();
        let path = env.get("PATH").unwrap_or("").to_string();
        if path.split(':').next() != Some(bin.as_str()) {
            env.put(
                "PATH",
                if path.is_empty() {
                    bin
                } else {
                    format!("{bin}:{path}")
                },
            );
        }
    }
    if deploy_env {
        source_hook(src_root, "deploy-env", &mut env)?;
    }
    Ok(env)
}

/// Runs `.warpdrive/action_hooks/<name>` (an env hook, by contract a shell
/// script to source) with `sh`: `set -a; . HOOK`, its stdout sent to
/// stderr, then takes the variables it exported or changed. The hook's path
/// is `sh`'s `$1`, never part of the script. A failure carries its status.
pub fn source_hook(src_root: &Path, name: &str, env: &mut Env) -> Result<bool, Error> {
    let path = src_root.join(HOOK_DIR).join(name);
    app_file::confine(src_root, &path)?;
    if !path.is_file() {
        return Ok(false);
    }
    const SCRIPT: &str = "set -a; . \"$1\" >&2 || exit $?; exec env -0";
    let out = Command::new("sh")
        .args(["-c", SCRIPT, "sh"])
        .arg(&path)
        .current_dir(src_root)
        .env_clear()
        .envs(&env.all)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Error::io(format!("cannot run sh for {}", path.display()), e))?;
    if !out.status.success() {
        return Err(Error::Failed(crate::error::ExitStatus {
            what: path.display().to_string(),
            status: status_code(out.status),
        }));
    }
    for pair in out.stdout.split(|b| *b == 0) {
        let Ok(pair) = std::str::from_utf8(pair) else {
            continue;
        };
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        // `sh` and `env` add these themselves.
        if matches!(k, "PWD" | "OLDPWD" | "SHLVL" | "_") || k.is_empty() {
            continue;
        }
        if env.all.get(k).map(String::as_str) != Some(v) {
            env.put(k, v);
        }
    }
    Ok(true)
}

/// A child's exit status: its code, or 128+N when signal N killed it.
pub fn status_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}
