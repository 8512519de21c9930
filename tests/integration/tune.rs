//! `kubectl warpdrive tune` against the API-server double.

use std::time::Duration;

use serde_json::json;

use crate::apiserver::{container, ApiServer, DEPLOYMENTS};
use crate::support::describe;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

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
fn sets_processes_and_threads_and_waits_for_the_rollout() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(50));
    blog(&server);
    let old_pods = server.pods("default", "app", "blog");
    let out = server.run(&["tune", "deploy/blog", "--processes", "3", "--threads", "15"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("deployment/blog, container web:"),
        "{stdout}"
    );
    assert!(stdout.contains("MOD_WSGI_PROCESSES  1 → 3"), "{stdout}");
    assert!(
        stdout.contains("MOD_WSGI_THREADS    (unset) → 15"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deployment/blog successfully rolled out"),
        "{stdout}"
    );
    assert_eq!(
        server.env(&DEPLOYMENTS, "blog", "web"),
        ["MOD_WSGI_PROCESSES=3", "OTHER=x", "MOD_WSGI_THREADS=15"]
    );
    // The rollout really finished: all pods are new.
    let obj = server.get(&DEPLOYMENTS, "default", "blog").unwrap();
    assert_eq!(obj["status"]["updatedReplicas"], 2);
    assert_eq!(obj["status"]["availableReplicas"], 2);
    for p in server.pods("default", "app", "blog") {
        assert!(!old_pods
            .iter()
            .any(|o| o["metadata"]["name"] == p["metadata"]["name"]));
    }
    // Exactly one GET and one write happened before waiting started.
    let log = server.requests();
    let patch_at = log
        .iter()
        .position(|r| r.method == "PATCH")
        .expect("a PATCH");
    let before: Vec<String> = log[..patch_at].iter().map(|r| r.line()).collect();
    assert_eq!(
        before,
        ["GET /apis/apps/v1/namespaces/default/deployments/blog"]
    );
    assert_eq!(log[patch_at].content_type, "application/json-patch+json");
    assert_eq!(log.iter().filter(|r| r.method != "GET").count(), 1);
    eprintln!(
        "tune with wait: {} requests in all ({} GET polls after the PATCH)",
        log.len(),
        log.len() - patch_at - 1
    );
}

#[test]
fn uncontended_write_is_one_get_and_one_patch() {
    let server = ApiServer::start();
    blog(&server);
    let out = server.run(&["tune", "deploy/blog", "--threads", "10", "--no-wait"]);
    assert!(out.status.success(), "{}", describe(&out));
    let lines: Vec<String> = server.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "GET /apis/apps/v1/namespaces/default/deployments/blog",
            "PATCH /apis/apps/v1/namespaces/default/deployments/blog"
        ]
    );
    eprintln!(
        "tune --no-wait request count: {} ({})",
        lines.len(),
        lines.join(", ")
    );
}
