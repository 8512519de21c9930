//! `reload on` leaves no mess: when anything fails after its write (exec
//! forbidden, the pod never ready, a sync error), the workload is put back
//! as it was, in one line; when that fails too, the line names the `off`
//! command.

use std::time::Duration;

use serde_json::{json, Value};

use crate::apiserver::faults::Fault;
use crate::apiserver::{container, ApiServer, DEPLOYMENTS};

/// `blog` at 3 replicas with `MOD_WSGI_RELOAD_ON_CHANGES=0` and another
/// annotation: everything `on` changes has a value to go back to.
fn blog() -> (ApiServer, tempfile::TempDir) {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(20));
    let mut m = crate::apiserver::workload_manifest(
        &DEPLOYMENTS,
        "blog",
        3,
        json!([container(
            "app",
            &[("A", "x"), ("MOD_WSGI_RELOAD_ON_CHANGES", "0")]
        )]),
    );
    m["metadata"]["annotations"] = json!({"team": "web"});
    server.add(m);
    let src = tempfile::tempdir().unwrap();
    crate::support::write(&src.path().join("app.py"), "x = 1\n");
    (server, src)
}

/// What `on` would change, as the server has it.
fn state(server: &ApiServer) -> (Value, Value, Vec<String>) {
    let o = server.get(&DEPLOYMENTS, "default", "blog").unwrap();
    (
        o["spec"]["replicas"].clone(),
        o["metadata"]["annotations"].clone(),
        server.env(&DEPLOYMENTS, "blog", "app"),
    )
}

fn original() -> (Value, Value, Vec<String>) {
    (
        json!(3),
        json!({"team": "web"}),
        vec!["A=x".into(), "MOD_WSGI_RELOAD_ON_CHANGES=0".into()],
    )
}

/// The error is one line (progress lines may come before it).
fn error_lines(out: &crate::support::Outcome) -> usize {
    // Shown with --nocapture (the "before and after").
    eprintln!("{}", out.stderr().trim());
    out.stderr()
        .lines()
        .filter(|l| !l.starts_with("Waiting for "))
        .count()
}

fn put_back_line() -> String {
    "error: reload on failed and deployment/blog was put back as it was (3 replicas, MOD_WSGI_RELOAD_ON_CHANGES=0): ".into()
}

#[test]
fn a_forbidden_exec_puts_the_workload_back_in_one_line() {
    let (server, src) = blog();
    server.deny("create", "pods/exec");
    let dest = server.exec_root().join("src");
    let out = server
        .run(&[
            "reload",
            "deploy/blog",
            "--source",
            src.path().to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
        ])
        .failure()
        .stderr_has("exec in the container failed: pod blog-")
        .stderr_has("cannot create resource \"pods/exec\"")
        .stderr_has("(403 Forbidden)")
        .stderr_has(&put_back_line())
        .stderr_lacks("Status {")
        .stderr_lacks("ApiError");
    assert_eq!(error_lines(&out), 1, "{}", out.stderr());
    assert_eq!(state(&server), original());
    // One write on, one write back.
    assert_eq!(server.count("PATCH", "/deployments/blog"), 2);
}

#[test]
fn a_rollout_that_never_becomes_ready_puts_the_workload_back() {
    let (server, src) = blog();
    server.fail_rollouts(true);
    let out = server
        .run(&[
            "reload",
            "deploy/blog",
            "--source",
            src.path().to_str().unwrap(),
        ])
        .failure()
        .stderr_has("exceeded its progress deadline")
        .stderr_has(&put_back_line());
    assert_eq!(error_lines(&out), 1, "{}", out.stderr());
    assert_eq!(state(&server), original());
    // --timeout running out is the same.
    let (server, src) = blog();
    server.set_rollout_delay(Duration::from_secs(30));
    server
        .run(&[
            "reload",
            "deploy/blog",
            "--source",
            src.path().to_str().unwrap(),
            "--timeout",
            "1s",
        ])
        .failure()
        .stderr_has("timed out after 1s")
        .stderr_has(&put_back_line());
    assert_eq!(state(&server), original());
}

#[test]
fn a_sync_error_puts_the_workload_back() {
    let (server, src) = blog();
    server
        .run(&[
            "reload",
            "deploy/blog",
            "--source",
            src.path().to_str().unwrap(),
            "--dest",
            "/proc/warpdrive-cannot-be-here",
        ])
        .failure()
        .stderr_has(&put_back_line());
    assert_eq!(state(&server), original());
}

#[test]
fn when_putting_back_fails_too_the_off_command_is_named() {
    let (server, src) = blog();
    server.deny("create", "pods/exec");
    // The first PATCH (on) passes, the second (putting back) is refused.
    server.fault_method(
        "PATCH",
        "/deployments/blog",
        Fault::Later {
            skip: 1,
            then: Box::new(Fault::Status {
                code: 403,
                message: "patching is forbidden now".into(),
            }),
        },
    );
    let out = server
        .run(&[
            "reload",
            "deploy/blog",
            "-n",
            "default",
            "--source",
            src.path().to_str().unwrap(),
        ])
        .failure()
        .stderr_has("putting deployment/blog back failed too (cannot patch deployments.apps in namespace default: patching is forbidden now")
        .stderr_has(&format!(
            "turn reloading off with `kubectl warpdrive reload deployment/blog off -n default --kubeconfig {}`",
            server.kubeconfig().display()
        ));
    assert_eq!(error_lines(&out), 1, "{}", out.stderr());
    // That command works once the API server lets it.
    server.state().faults.clear();
    server.run(&["reload", "deployment/blog", "off"]).success();
    let (replicas, annotations, env) = state(&server);
    assert_eq!(replicas, json!(3));
    assert_eq!(annotations, json!({"team": "web"}));
    assert_eq!(env, ["A=x"]);
}

#[test]
fn nothing_is_put_back_when_on_wrote_nothing() {
    let (server, src) = blog();
    server
        .run(&["reload", "deploy/blog", "--no-sync"])
        .success();
    server.deny("create", "pods/exec");
    server.clear_log();
    server
        .run(&[
            "reload",
            "deploy/blog",
            "--source",
            src.path().to_str().unwrap(),
        ])
        .failure()
        .stderr_lacks("put back");
    assert_eq!(server.count("PATCH", "/deployments/blog"), 0);
}
