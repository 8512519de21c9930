//! Action hooks through `warpdrive exec`: `deploy-cfg` once per container
//! (runtime directory), `deploy` before every start, a non-executable hook
//! is a warning, a failing hook stops the start with its status.

use std::path::Path;
use std::time::Duration;

use crate::support::{self, make_executable, write, Outcome, RunExt};

/// A shell app whose `app.sh` records that it started and exits.
fn app() -> tempfile::TempDir {
    let dir = support::world_readable_tempdir();
    write(
        &dir.path().join("app.sh"),
        "#!/bin/sh\necho started >> app.log\n",
    );
    make_executable(&dir.path().join("app.sh"));
    dir
}

fn hook(app: &Path, name: &str, body: &str, executable: bool) {
    let path = app.join(".warpdrive/action_hooks").join(name);
    write(&path, body);
    if executable {
        make_executable(&path);
    }
}

fn exec(app: &Path, runtime: &Path) -> Outcome {
    support::warpdrive()
        .args(["exec", "--app-root"])
        .arg(app)
        .env("WARPDRIVE_RUNTIME_DIR", runtime)
        .run_within(Duration::from_secs(30))
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn deploy_cfg_once_per_container_deploy_every_start() {
    let app = app();
    let a = app.path();
    // Hooks write relative paths: their working directory is the app root.
    hook(a, "deploy-cfg", "#!/bin/sh\necho cfg >> hooks.log\n", true);
    hook(a, "deploy", "#!/bin/sh\necho deploy >> hooks.log\n", true);
    let container = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        exec(a, container.path()).success();
    }
    assert_eq!(
        lines(&a.join("hooks.log")),
        ["cfg", "deploy", "deploy", "deploy"]
    );
    assert_eq!(lines(&a.join("app.log")).len(), 3);
    // A new container (fresh runtime directory) runs deploy-cfg again.
    let other = tempfile::tempdir().unwrap();
    exec(a, other.path()).success();
    assert_eq!(lines(&a.join("hooks.log")).len(), 6);
}

#[test]
fn failing_hook_stops_the_start_with_its_status() {
    let app = app();
    let a = app.path();
    hook(a, "deploy", "#!/bin/sh\necho failing >&2\nexit 5\n", true);
    let rt = tempfile::tempdir().unwrap();
    exec(a, rt.path())
        .status(5)
        .stderr_has("failing") // the hook's own stderr
        .stderr_has(".warpdrive/action_hooks/deploy failed");
    assert!(
        !a.join("app.log").exists(),
        "the app started after a failed hook"
    );
    // deploy-cfg failing leaves no marker: the next start runs it again.
    let app2 = self::app();
    let b = app2.path();
    hook(
        b,
        "deploy-cfg",
        "#!/bin/sh\necho try >> cfg.log\nexit 3\n",
        true,
    );
    exec(b, rt.path()).status(3);
    exec(b, rt.path()).status(3);
    assert_eq!(lines(&b.join("cfg.log")).len(), 2);
}

#[test]
fn non_executable_hook_is_a_warning_naming_it() {
    let app = app();
    let a = app.path();
    hook(a, "deploy", "#!/bin/sh\ntouch ran\n", false);
    let rt = tempfile::tempdir().unwrap();
    let out = exec(a, rt.path()).success();
    let err = out.stderr();
    let warning: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warning.len(), 1, "{err}");
    assert!(
        warning[0].contains(".warpdrive/action_hooks/deploy") && warning[0].contains("chmod +x"),
        "{err}"
    );
    assert!(!a.join("ran").exists());
    assert_eq!(lines(&a.join("app.log")).len(), 1);
}
