//! The runtime environment the build steps, the lifecycle hooks, `env` and
//! `shell` run with: the launcher's own ([`crate::launcher::environment`]:
//! the runtime variables, `.warpdrive/home`, `.warpdrive/environment`,
//! `deploy-env`), plus, for the build, `.warpdrive/action_hooks/build-env`.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::Error;
use crate::launcher::environment;

pub use crate::launcher::environment::{Runtime as Env, DEFAULT_APP_ROOT};

/// The runtime environment of the app in `src_root` (canonical). With
/// `deploy_env`, `.warpdrive/action_hooks/deploy-env` is run and its
/// exports taken, as at run time.
pub fn runtime(
    src_root: &Path,
    inherited: &BTreeMap<String, String>,
    deploy_env: bool,
) -> Result<Env, Error> {
    environment::runtime(src_root, inherited, deploy_env).map_err(failed)
}

/// Sources `.warpdrive/action_hooks/<name>` into `env` (see
/// [`environment::source_hook`]); `Ok(false)` when there is none. A failure
/// is [`Error::Failed`] with its status.
pub fn source_hook(src_root: &Path, name: &str, env: &mut Env) -> Result<bool, Error> {
    debug_assert_eq!(env.src_root, src_root);
    environment::source_hook(env, name).map_err(failed)
}

/// A failed env hook as the build's [`Error::Failed`].
fn failed(e: crate::launcher::Error) -> Error {
    match e {
        crate::launcher::Error::HookFailed(s) => Error::Failed(s),
        other => Error::Launcher(other),
    }
}

/// A child's exit status: its code, or 128+N when signal N killed it.
pub fn status_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}
