//! `.warpdrive/action_hooks/deploy-cfg` (once per container) and `deploy` (every start).
//!
//! * `deploy-cfg` runs on the first start of a container only: after it
//!   succeeds, the marker file `<runtime dir>/hooks/deploy-cfg.done` is
//!   written, and later starts in the same container (the runtime directory
//!   lives in the container's writable `/tmp`) skip it. A failed run writes
//!   no marker, so the next start tries again.
//! * `deploy` runs before every start, after `deploy-cfg`.
//!
//! A hook runs directly (never through a shell), with the app root as its
//! working directory and the launcher's stdin/stdout/stderr. A hook that
//! exists but is not executable is skipped with a warning naming it. A hook
//! that fails stops the start: [`Error::HookFailed`] carries its exit status
//! (128+N if signal N killed it), which becomes the launcher's exit status.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::app_file;
use super::dirs;
use super::error::Error;
use super::text_busy;

/// Where the hooks live, relative to the app root.
pub const HOOK_DIR: &str = ".warpdrive/action_hooks";

/// The hooks (`deploy-cfg`, `deploy`), in the order they run.
pub const HOOKS: &[&str] = &["deploy-cfg", "deploy"];

/// Errors if a hook is, or lies behind, a symlink leading out of the app
/// (checked before anything starts, and again when the hook runs).
pub fn check(app_root: &Path) -> Result<(), Error> {
    let dir = app_root.join(HOOK_DIR);
    HOOKS
        .iter()
        .try_for_each(|h| app_file::confine(app_root, &dir.join(h)))
}

/// Runs `deploy-cfg` (once per container) and `deploy` (every time), in
/// `app_root` (the source tree). `env`, when given, is the hooks' whole
/// environment (`exec` gives the runtime environment, see `environment`).
pub fn run_hooks(
    app_root: &Path,
    runtime_dir: &Path,
    env: Option<&BTreeMap<String, String>>,
) -> Result<(), Error> {
    deploy_cfg_once(app_root, runtime_dir, env)?;
    run_named(app_root, "deploy", env)?;
    Ok(())
}

/// Runs `deploy-cfg` unless it already ran in this container (the marker in
/// `runtime_dir`). `env`, when given, is the hook's whole environment.
pub fn deploy_cfg_once(
    app_root: &Path,
    runtime_dir: &Path,
    env: Option<&BTreeMap<String, String>>,
) -> Result<(), Error> {
    let marker = runtime_dir.join("hooks").join("deploy-cfg.done");
    if marker.exists() {
        return Ok(());
    }
    if let Some(hook) = runnable(app_root, &app_root.join(HOOK_DIR).join("deploy-cfg"))? {
        run_hook(&hook, app_root, env)?;
        dirs::ensure_dir(marker.parent().unwrap_or(runtime_dir))?;
        std::fs::write(&marker, format!("{}\n", hook.display()))
            .map_err(|e| Error::io(format!("cannot write {}", marker.display()), e))?;
    }
    Ok(())
}

/// Runs `.warpdrive/action_hooks/<name>` when it exists and is executable
/// (warning when it is not); `Ok(false)` when there is none to run. `env`,
/// when given, is the hook's whole environment.
pub fn run_named(
    app_root: &Path,
    name: &str,
    env: Option<&BTreeMap<String, String>>,
) -> Result<bool, Error> {
    match runnable(app_root, &app_root.join(HOOK_DIR).join(name))? {
        Some(hook) => run_hook(&hook, app_root, env).map(|()| true),
        None => Ok(false),
    }
}

/// `Some(path)` if the hook exists and is executable; warns and returns
/// `None` if it exists but is not executable. A hook that is (or lies
/// behind) a symlink leading out of the app is refused.
fn runnable(app_root: &Path, path: &Path) -> Result<Option<PathBuf>, Error> {
    app_file::confine(app_root, path)?;
    Ok(executable(path))
}

fn executable(path: &Path) -> Option<PathBuf> {
    if !path.is_file() {
        return None;
    }
    if nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_err() {
        eprintln!(
            "warpdrive: warning: {} is not executable; skipping it (chmod +x it to run it)",
            path.display()
        );
        return None;
    }
    Some(path.to_path_buf())
}

fn run_hook(
    hook: &Path,
    app_root: &Path,
    env: Option<&BTreeMap<String, String>>,
) -> Result<(), Error> {
    let name = hook.display().to_string();
    let mut cmd = Command::new(hook);
    cmd.current_dir(app_root);
    if let Some(env) = env {
        cmd.env_clear().envs(env);
    }
    // The hook may have been written a moment ago (see `text_busy`).
    let status = text_busy::retry(|| cmd.status()).map_err(|e| match e.raw_os_error() {
        Some(code) if code == nix::libc::ENOEXEC => Error::bad(format!(
            "{name}: not a program; add a #! line (for example #!/bin/sh)"
        )),
        _ => Error::io(format!("cannot run {name}"), e),
    })?;
    if status.success() {
        return Ok(());
    }
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    Err(Error::HookFailed(crate::error::ExitStatus {
        what: name,
        status: code,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn hook(root: &Path, name: &str, body: &str, mode: u32) {
        let dir = root.join(HOOK_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn count(path: &Path) -> usize {
        std::fs::read_to_string(path)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    #[test]
    fn deploy_cfg_once_deploy_every_time() {
        let app = tempfile::tempdir().unwrap();
        let rt = tempfile::tempdir().unwrap();
        hook(
            app.path(),
            "deploy-cfg",
            "#!/bin/sh\necho cfg >> cfg.log\n",
            0o755,
        );
        hook(
            app.path(),
            "deploy",
            "#!/bin/sh\npwd >> deploy.log\n",
            0o755,
        );
        run_hooks(app.path(), rt.path(), None).unwrap();
        run_hooks(app.path(), rt.path(), None).unwrap();
        assert_eq!(count(&app.path().join("cfg.log")), 1);
        assert_eq!(count(&app.path().join("deploy.log")), 2);
        // cwd is the app root.
        let pwd = std::fs::read_to_string(app.path().join("deploy.log")).unwrap();
        assert_eq!(
            Path::new(pwd.lines().next().unwrap())
                .canonicalize()
                .unwrap(),
            app.path().canonicalize().unwrap()
        );
        // A fresh container (runtime dir) runs deploy-cfg again.
        let rt2 = tempfile::tempdir().unwrap();
        run_hooks(app.path(), rt2.path(), None).unwrap();
        assert_eq!(count(&app.path().join("cfg.log")), 2);
    }

    #[test]
    fn failing_hook_carries_status_and_leaves_no_marker() {
        let app = tempfile::tempdir().unwrap();
        let rt = tempfile::tempdir().unwrap();
        hook(app.path(), "deploy-cfg", "#!/bin/sh\nexit 7\n", 0o755);
        hook(app.path(), "deploy", "#!/bin/sh\ntouch ran\n", 0o755);
        match run_hooks(app.path(), rt.path(), None) {
            Err(Error::HookFailed(crate::error::ExitStatus { what, status })) => {
                assert_eq!(status, 7);
                assert!(what.ends_with("deploy-cfg"), "{what}");
            }
            other => panic!("expected HookFailed, got {other:?}"),
        }
        assert!(!rt.path().join("hooks/deploy-cfg.done").exists());
        assert!(
            !app.path().join("ran").exists(),
            "deploy ran after deploy-cfg failed"
        );
        let err = run_hooks(app.path(), rt.path(), None).unwrap_err();
        assert_eq!(crate::error::exit_code(&err.into()), 7);
    }

    #[test]
    fn a_hook_busy_for_a_moment_runs_once_it_is_free() {
        let app = tempfile::tempdir().unwrap();
        let rt = tempfile::tempdir().unwrap();
        hook(app.path(), "deploy", "#!/bin/sh\ntouch ran\n", 0o755);
        // A descriptor open for writing, as a forked child of a writer
        // holds one until it execs: running the hook fails with ETXTBSY
        // until it is closed.
        let writer = std::fs::OpenOptions::new()
            .append(true)
            .open(app.path().join(HOOK_DIR).join("deploy"))
            .unwrap();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(writer);
        });
        run_hooks(app.path(), rt.path(), None).unwrap();
        closer.join().unwrap();
        assert!(app.path().join("ran").exists());
    }

    #[test]
    fn killed_hook_is_128_plus_signal() {
        let app = tempfile::tempdir().unwrap();
        let rt = tempfile::tempdir().unwrap();
        hook(app.path(), "deploy", "#!/bin/sh\nkill -TERM $$\n", 0o755);
        match run_hooks(app.path(), rt.path(), None) {
            Err(Error::HookFailed(e)) => assert_eq!(e.status, 128 + 15),
            other => panic!("expected HookFailed, got {other:?}"),
        }
    }

    #[test]
    fn not_executable_is_skipped() {
        let app = tempfile::tempdir().unwrap();
        let rt = tempfile::tempdir().unwrap();
        hook(app.path(), "deploy", "#!/bin/sh\ntouch ran\n", 0o644);
        run_hooks(app.path(), rt.path(), None).unwrap();
        assert!(!app.path().join("ran").exists());
    }

    #[test]
    fn no_hooks_is_fine() {
        let app = tempfile::tempdir().unwrap();
        let rt = tempfile::tempdir().unwrap();
        run_hooks(app.path(), rt.path(), None).unwrap();
        assert!(!rt.path().join("hooks").exists());
    }
}
