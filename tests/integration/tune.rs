//! `kubectl warpdrive tune` against the API-server double, for what a real
//! server cannot be made to do on demand: a 409 at a chosen moment, slow and
//! hung answers, a controller that waits to be polled (the progress bar),
//! and a cluster without the OpenShift API. Everything else is in
//! `real::tune` and `real::forms` (see DEVELOPING.md, "Which tests use which
//! server").

use std::time::Duration;

use serde_json::json;

use crate::apiserver::{container, ApiServer, DEPLOYMENTS};
use crate::support::RunExt;

fn blog(server: &ApiServer) {
    server.add_deployment(
        "blog",
        2,
        json!([container(
            "web",
            &[("MOD_WSGI_PROCESSES", "1"), ("OTHER", "x")]
        )]),
    );
}

#[test]
fn a_conflict_is_retried_and_keeps_the_other_writers_change() {
    let server = ApiServer::start();
    blog(&server);
    // Another client changes the object between our GET and our PATCH.
    server.interfere_before_next_write(
        json!({"metadata": {"annotations": {"other-writer": "was-here"}}}),
    );
    server
        .run(&["tune", "deploy/blog", "--threads", "7", "--no-wait"])
        .success();
    let log: Vec<(String, u16)> = server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert_eq!(
        log,
        [
            ("GET".into(), 200),
            ("PATCH".into(), 409),
            ("GET".into(), 200),
            ("PATCH".into(), 200)
        ]
    );
    let obj = server.get(&DEPLOYMENTS, "default", "blog").unwrap();
    assert_eq!(obj["metadata"]["annotations"]["other-writer"], "was-here");
    assert!(server
        .env(&DEPLOYMENTS, "blog", "web")
        .contains(&"MOD_WSGI_THREADS=7".to_string()));
    eprintln!(
        "tune under one conflict: {} requests (GET, PATCH 409, GET, PATCH 200)",
        log.len()
    );
}

#[test]
fn deploymentconfig_on_plain_kubernetes_is_a_clear_error() {
    let server = ApiServer::start();
    blog(&server);
    let out = server
        .run(&["tune", "dc/blog", "--threads", "9"])
        .bad_input();
    let err = out.stderr();
    assert!(
        err.contains("has no OpenShift API (apps.openshift.io/v1)")
            && err.contains("use deployment/blog"),
        "{err}"
    );
    // A bare name on plain Kubernetes is just the Deployment.
    server
        .run(&["tune", "blog", "--threads", "9", "--no-wait"])
        .success();
}

#[test]
fn request_timeout_bounds_each_request() {
    let server = ApiServer::start();
    blog(&server);
    server.set_latency(Duration::from_secs(5));
    let start = std::time::Instant::now();
    let out = server.run(&[
        "tune",
        "deploy/blog",
        "--threads",
        "4",
        "--request-timeout",
        "300ms",
    ]);
    let took = start.elapsed();
    let out = out.failure().stderr_has(&format!(
        "API server at {} did not answer in time",
        server.url
    ));
    eprintln!(
        "--request-timeout 300ms against a 5 s server: gave up after {took:?}: {}",
        out.stderr().trim()
    );
    server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--request-timeout",
            "soon",
        ])
        .bad_input();
}

/// Runs the binary on a pseudo-terminal (util-linux `script`), returning what the terminal showed.
fn on_tty(server: &ApiServer, args: &str, no_color: bool) -> String {
    let cmd = format!(
        "{} {args} --kubeconfig {}",
        crate::support::bin().display(),
        server.kubeconfig().display()
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .env("TERM", "xterm-256color");
    if no_color {
        c.env("NO_COLOR", "1");
    } else {
        c.env_remove("NO_COLOR");
    }
    c.run_within(Duration::from_secs(60))
        .success()
        .stdout()
        .to_string()
}

#[test]
fn progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(100));
    // Every state is polled twice before the next step, however slow the client.
    server.steps_wait_for_reads(2);
    blog(&server);
    // Not a terminal: plain lines on stderr, no escape codes.
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "2"])
        .success();
    let err = out.stderr();
    assert!(
        err.contains("Waiting for deployment \"blog\" spec update to be observed...\n"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
    // A terminal: an indicatif bar with counts, coloured unless NO_COLOR.
    let shown = on_tty(&server, "tune deploy/blog --threads 3", false);
    assert!(
        shown.contains("] 0/2 waiting for the controller"),
        "{shown:?}"
    );
    assert!(shown.contains("\u{1b}[32m"), "colour expected: {shown:?}");
    assert!(
        shown.contains("deployment/blog successfully rolled out"),
        "{shown:?}"
    );
    let shown = on_tty(&server, "tune deploy/blog --threads 4", true);
    assert!(
        shown.contains("] 0/2 waiting for the controller"),
        "{shown:?}"
    );
    assert!(!shown.contains("\u{1b}[3"), "NO_COLOR: {shown:?}");
    // scale shows ready of N.
    let shown = on_tty(&server, "scale deploy/blog --replicas 3", true);
    assert!(shown.contains("/3"), "{shown:?}");
}

#[test]
fn timeout_bounds_the_wait_even_when_the_server_hangs() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_secs(60));
    blog(&server);
    // The GET and the PATCH are answered; then every answer takes 30 s.
    let hang = std::thread::spawn({
        let state = server.state_handle();
        move || {
            let start = std::time::Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                {
                    let mut st = state.lock().unwrap();
                    if st.log.iter().any(|r| r.method == "PATCH") {
                        st.latency = Duration::from_secs(30);
                        return;
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    // Answers now take 30 s: a tool that waited for them would be killed at 15 s.
    let mut cmd = crate::support::warpdrive();
    cmd.args([
        "tune",
        "deploy/blog",
        "--threads",
        "3",
        "--timeout",
        "1s",
        "--kubeconfig",
    ])
    .arg(server.kubeconfig());
    let out = cmd.run_within(Duration::from_secs(15));
    hang.join().unwrap();
    out.failure()
        .stderr_has("timed out after 1s waiting for deployment/blog");
}
