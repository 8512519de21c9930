//! What the plugin does when the API server misbehaves in ways a real one
//! cannot be made to on demand: 5xx answers, bodies that are not what they
//! claim (an HTML error page, JSON cut short or of the wrong shape), and a
//! 409 on every write. Faults of the API-server double
//! ([`crate::apiserver::faults`]); time and size bounds, 429 and trickling
//! answers are in `bounds`, a 409 at a chosen moment in
//! `tune::a_conflict_is_retried_and_keeps_the_other_writers_change`.

use serde_json::json;

use crate::apiserver::faults::Fault;
use crate::apiserver::{container, ApiServer, DEPLOYMENTS};
use crate::support::{Outcome, RunExt};

const BLOG: &str = "/deployments/blog";

fn blog(server: &ApiServer) {
    server.add_deployment("blog", 1, json!([container("web", &[("A", "1")])]));
}

/// `tune deploy/blog --threads 4 ARGS` against a double with `fault` on blog.
fn tune_with(fault: Fault, args: &[&str]) -> (ApiServer, Outcome) {
    let server = ApiServer::start();
    blog(&server);
    server.fault(BLOG, fault);
    let mut all = vec!["tune", "deploy/blog", "--threads", "4"];
    all.extend_from_slice(args);
    let out = server.run(&all);
    (server, out)
}

/// One `error:` line, exit 1 (the server failed, not the user), and the
/// object as it was.
fn one_line_and_unchanged(server: &ApiServer, out: Outcome) -> Outcome {
    let out = out.status(1);
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert!(out.stderr().starts_with("error: "), "{}", out.stderr());
    assert_eq!(server.env(&DEPLOYMENTS, "blog", "web"), ["A=1"]);
    out
}

fn methods(server: &ApiServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.status))
        .collect()
}

#[test]
fn a_5xx_is_one_line_with_the_code_and_the_servers_message_and_is_not_retried() {
    for (code, reason, message) in [
        (500, "InternalError", "etcdserver: request timed out"),
        (
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        (504, "Timeout", "request timed out"),
    ] {
        let (server, out) = tune_with(
            Fault::Status {
                code,
                message: message.into(),
            },
            &["--no-wait"],
        );
        one_line_and_unchanged(&server, out).stderr_has(&format!(
            "get deployment/blog in namespace default failed: {code} {reason}: {message}"
        ));
        // No Retry-After: one request, nothing written.
        assert_eq!(methods(&server), [format!("GET {code}")]);
    }
    // A 5xx on the write: the GET went through, the PATCH failed, nothing stored.
    let server = ApiServer::start();
    blog(&server);
    server.fault_method(
        "PATCH",
        BLOG,
        Fault::Status {
            code: 500,
            message: "boom".into(),
        },
    );
    let out = server.run(&["tune", "deploy/blog", "--threads", "4", "--no-wait"]);
    one_line_and_unchanged(&server, out)
        .stderr_has("patch deployment/blog in namespace default failed: 500 InternalError: boom");
    assert_eq!(methods(&server), ["GET 200", "PATCH 500"]);
}

#[test]
fn an_html_error_page_from_a_proxy_is_one_escaped_line() {
    let (server, out) = tune_with(
        Fault::Raw {
            code: 502,
            content_type: "text/html",
            body: "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>\n",
        },
        &["--no-wait"],
    );
    one_line_and_unchanged(&server, out)
        .stderr_has("get deployment/blog in namespace default failed: 502")
        .stderr_has("502 Bad Gateway");
    assert_eq!(methods(&server), ["GET 502"]);
}

#[test]
fn a_body_that_is_not_the_object_is_an_error_never_a_panic() {
    for body in [
        "<html>please log in</html>",
        "{\"kind\":\"Deployment\",\"metadata\":{\"name\":",
        "[1,2,3]",
    ] {
        let (server, out) = tune_with(
            Fault::Raw {
                code: 200,
                content_type: "application/json",
                body,
            },
            &["--no-wait"],
        );
        let out = one_line_and_unchanged(&server, out)
            .stderr_has("get deployment/blog in namespace default failed: ");
        assert!(!out.stderr().contains("panicked"), "{}", out.stderr());
        assert_eq!(methods(&server), ["GET 200"], "{body}");
    }
    // Garbage in answer to the write, and during the rollout wait.
    for (skip, want) in [
        (1, "patch deployment/blog in namespace default failed: "),
        (2, "get deployment/blog in namespace default failed: "),
    ] {
        let server = ApiServer::start();
        blog(&server);
        server.fault(
            BLOG,
            Fault::Later {
                skip,
                then: Box::new(Fault::Raw {
                    code: 200,
                    content_type: "application/json",
                    body: "not json",
                }),
            },
        );
        let out = server
            .run(&["tune", "deploy/blog", "--threads", "4", "--timeout", "20s"])
            .status(1)
            .stderr_has(want);
        assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
        assert!(!out.stderr().contains("panicked"), "{}", out.stderr());
    }
}

#[test]
fn a_409_on_every_write_gives_up_with_one_line_and_stores_nothing() {
    let server = ApiServer::start();
    blog(&server);
    server.fault_method(
        "PATCH",
        BLOG,
        Fault::Status {
            code: 409,
            message: "the object has been modified; please apply your changes to the latest version and try again".into(),
        },
    );
    let out = server.run(&["tune", "deploy/blog", "--threads", "4", "--no-wait"]);
    one_line_and_unchanged(&server, out)
        .stderr_has("deployment/blog kept changing while it was being updated (409 Conflict")
        .stderr_has("run the command again");
    let log = methods(&server);
    assert_eq!(log.first().map(String::as_str), Some("GET 200"), "{log:?}");
    assert!(log.contains(&"PATCH 409".to_string()), "{log:?}");
    assert!(!log.contains(&"PATCH 200".to_string()), "{log:?}");
}

#[test]
fn completion_against_a_failing_server_offers_nothing_quietly() {
    for fault in [
        Fault::Status {
            code: 500,
            message: "x".into(),
        },
        Fault::Raw {
            code: 200,
            content_type: "application/json",
            body: "<html>",
        },
    ] {
        let server = ApiServer::start();
        blog(&server);
        server.fault("/namespaces", fault);
        for words in [&["tune", "-n", ""][..], &["tune", ""][..]] {
            crate::support::warpdrive()
                .env("KUBECONFIG", server.kubeconfig())
                .arg("__complete")
                .args(words)
                .run()
                .success()
                .stdout_is(":4\n")
                .stderr_empty();
        }
        // It did ask.
        assert!(!server.requests().is_empty());
    }
}
