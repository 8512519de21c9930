//! Every request is bounded in time and size, and server text never reaches
//! the terminal raw: faults of the API-server double ([`crate::apiserver::faults`]).

use std::time::Duration;

use serde_json::json;

use crate::apiserver::faults::Fault;
use crate::apiserver::{container, ApiServer};
use crate::support::RunExt;

const BLOG: &str = "/deployments/blog";

fn blog(server: &ApiServer) {
    server.add_deployment("blog", 1, json!([container("web", &[])]));
}

#[test]
fn a_trickling_answer_is_cut_at_the_request_timeout_as_a_whole() {
    let server = ApiServer::start();
    blog(&server);
    // One byte every 0.5 s, forever: only a whole-request bound ends this
    // (a per-read timeout never fires). The 60 s bound of `run` would fail
    // the test.
    server.fault(BLOG, Fault::Trickle(Duration::from_millis(500)));
    server
        .run(&["tune", "deploy/blog", "--threads", "4", "--request-timeout", "2s"])
        .failure()
        .stderr_has(&format!(
            "the API server at {} did not answer in time (no complete answer within 2s, --request-timeout)",
            server.url
        ));
    // With no request timeout, the rollout wait's polls (after the GET and
    // the PATCH) are still bounded by what is left of --timeout.
    let server = ApiServer::start();
    blog(&server);
    server.fault(
        BLOG,
        Fault::Later {
            skip: 2,
            then: Box::new(Fault::Trickle(Duration::from_millis(500))),
        },
    );
    server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "5",
            "--timeout",
            "1s",
            "--request-timeout",
            "0",
        ])
        .failure()
        .stderr_has("timed out after 1s waiting for deployment/blog: the API server at")
        .stderr_has("stopped answering");
}

#[test]
fn retry_after_is_capped_and_never_outlasts_the_request() {
    let server = ApiServer::start();
    blog(&server);
    // Retry-After: 100000 with 5 s left: no wait at all, the 429 is the answer.
    server.fault(
        BLOG,
        Fault::TooMany {
            retry_after: "100000".into(),
            times: usize::MAX,
        },
    );
    let out = server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--request-timeout",
            "5s",
        ])
        .failure()
        .stderr_has("is too busy (429 Too Many Requests");
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert_eq!(server.requests().len(), 1);
    // A short Retry-After is waited out and the request retried.
    let server = ApiServer::start();
    blog(&server);
    server.fault(
        BLOG,
        Fault::TooMany {
            retry_after: "1".into(),
            times: 2,
        },
    );
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "4", "--no-wait", "-v=6"])
        .success()
        .stderr_has("Retry-After 1s, retrying in 1s (1 of 5)")
        .stderr_has("Retry-After 1s, retrying in 1s (2 of 5)");
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200, 200], "{}", out.stderr());
}

#[test]
fn control_characters_from_the_server_are_escaped_and_messages_cut() {
    let server = ApiServer::start();
    blog(&server);
    let message = format!("forbidden \u{1b}[2J\u{7}{}", "x".repeat(5000));
    server.fault(BLOG, Fault::Status { code: 403, message });
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "4"])
        .failure()
        .stderr_has("forbidden \\u{1b}[2J\\u{7}xxx")
        .stderr_has("x…");
    assert!(!out.stderr().contains('\u{1b}'), "{:?}", out.stderr());
    assert!(!out.stderr().contains('\u{7}'));
    assert_eq!(out.stderr().lines().count(), 1);
    assert!(out.stderr().len() < 1000, "{} bytes", out.stderr().len());
    // Values and names in the object are escaped too.
    let server = ApiServer::start();
    server.add_deployment(
        "blog",
        1,
        json!([container("web", &[("MOD_WSGI_X", "a\u{1b}[2Jb\nc")])]),
    );
    let out = server
        .run(&["tune", "deploy/blog", "--list"])
        .success()
        .stdout_is("# Deployment blog, container web\nMOD_WSGI_X=a\\u{1b}[2Jb\\nc\n");
    assert!(!out.stdout().contains('\u{1b}'));
    server
        .run(&["tune", "deploy/blog", "MOD_WSGI_X-", "--no-wait"])
        .success()
        .stdout_has("MOD_WSGI_X  a\\u{1b}[2Jb\\nc → (unset)");
}

#[test]
fn a_huge_answer_is_refused_at_64_mib_without_taking_the_memory() {
    let server = ApiServer::start();
    blog(&server);
    server.fault(BLOG, Fault::Huge(1 << 30));
    // Address space capped at 1 GiB: reading the whole 1 GiB answer (let
    // alone parsing it) would abort the command.
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 1048576 && exec \"$@\"")
        .arg("sh")
        .arg(crate::support::bin())
        .args(["tune", "deploy/blog", "--threads", "4", "--kubeconfig"])
        .arg(server.kubeconfig());
    cmd.run_within(Duration::from_secs(60))
        .failure()
        .stderr_has(&format!(
            "get deployment/blog in namespace default: the API server at {} sent an answer larger than 64 MiB; stopped reading it",
            server.url
        ));
}
