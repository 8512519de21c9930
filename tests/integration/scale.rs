//! `kubectl warpdrive scale` against the API-server double.

use std::time::Duration;

use serde_json::json;

use crate::apiserver::{container, ApiServer, DEPLOYMENTCONFIGS, DEPLOYMENTS};
use crate::support::RunExt;

fn blog(server: &ApiServer, env: &[(&str, &str)]) {
    server.set_rollout_delay(Duration::from_millis(30));
    server.add_deployment("blog", 2, json!([container("web", env)]));
}

fn rv(server: &ApiServer) -> String {
    server.get(&DEPLOYMENTS, "default", "blog").unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn scales_through_the_scale_subresource_and_lists_the_pods() {
    let server = ApiServer::start();
    blog(&server, &[]);
    let out = server
        .run(&["scale", "deploy/blog", "--replicas", "3"])
        .success();
    let stdout = out.stdout();
    assert!(
        stdout.contains("deployment/blog scaled from 2 to 3 replicas"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deployment/blog: 3 of 3 pods ready"),
        "{stdout}"
    );
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("NAME"))
        .collect();
    assert_eq!(table.len(), 4, "{stdout}");
    assert!(
        table[0].starts_with("NAME") && table[0].contains("READY   STATUS    AGE"),
        "{stdout}"
    );
    let pods = server.pods("default", "app", "blog");
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let name = p["metadata"]["name"].as_str().unwrap();
        let row = table
            .iter()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {stdout}"));
        assert!(row.contains("1/1") && row.contains("Running"), "{row}");
    }
    let lines: Vec<String> = server.requests().iter().map(|r| r.line()).collect();
    assert!(
        lines.contains(&"PUT /apis/apps/v1/namespaces/default/deployments/blog/scale".to_string()),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "GET /api/v1/namespaces/default/pods"),
        "{lines:?}"
    );
    let list = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/pods"))
        .unwrap();
    assert_eq!(
        list.query.trim_start_matches('&'),
        "labelSelector=app%3Dblog"
    );
    eprintln!(
        "scale with wait: {} requests: {}",
        lines.len(),
        lines.join(", ")
    );
    // Down to 1: the extra pods are gone when it returns.
    let out = server
        .run(&["scale", "deploy/blog", "--replicas", "1"])
        .success();
    assert_eq!(server.pods("default", "app", "blog").len(), 1);
    out.stdout_has("scaled from 3 to 1 replicas");
}

#[test]
fn no_wait_request_count() {
    let server = ApiServer::start();
    blog(&server, &[]);
    server
        .run(&["scale", "deploy/blog", "--replicas", "4", "--no-wait"])
        .success();
    let lines: Vec<String> = server.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "GET /apis/apps/v1/namespaces/default/deployments/blog",
            "GET /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
            "GET /apis/apps/v1/namespaces/default/deployments/blog/scale",
            "PUT /apis/apps/v1/namespaces/default/deployments/blog/scale",
        ]
    );
    assert_eq!(
        server.get(&DEPLOYMENTS, "default", "blog").unwrap()["spec"]["replicas"],
        4
    );
    eprintln!("scale --no-wait request count: {}", lines.len());
}

#[test]
fn current_replicas_is_a_precondition() {
    let server = ApiServer::start();
    blog(&server, &[]);
    let before = rv(&server);
    let out = server
        .run(&[
            "scale",
            "deploy/blog",
            "--replicas",
            "3",
            "--current-replicas",
            "5",
        ])
        .failure();
    let err = out.stderr();
    assert!(
        err.contains("--current-replicas is 5 but it has 2 replicas"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(server.count("PUT", "/scale"), 0);
    assert_eq!(rv(&server), before);
    server
        .run(&[
            "scale",
            "deploy/blog",
            "--replicas",
            "3",
            "--current-replicas",
            "2",
            "--no-wait",
        ])
        .success();
    assert_eq!(
        server.get(&DEPLOYMENTS, "default", "blog").unwrap()["spec"]["replicas"],
        3
    );
}

#[test]
fn warns_about_reload_on_changes_and_hpas_but_scales() {
    let server = ApiServer::start();
    blog(&server, &[("MOD_WSGI_RELOAD_ON_CHANGES", "1")]);
    server.add_hpa("blog", "Deployment", "blog");
    server.add_hpa("other", "Deployment", "shop");
    let out = server
        .run(&["scale", "deploy/blog", "--replicas", "2", "--no-wait"])
        .success();
    let err = out.stderr();
    assert!(
        err.contains("warning: deployment/blog has MOD_WSGI_RELOAD_ON_CHANGES on"),
        "{err}"
    );
    assert!(
        err.contains("warning: HorizontalPodAutoscaler blog targets deployment/blog"),
        "{err}"
    );
    assert!(!err.contains("HorizontalPodAutoscaler other"), "{err}");
    // One replica is what live reloading wants: no reload warning.
    server
        .run(&["scale", "deploy/blog", "--replicas", "1", "--no-wait"])
        .stderr_lacks("RELOAD_ON_CHANGES");
}

#[test]
fn dry_runs_and_output() {
    let server = ApiServer::start();
    blog(&server, &[]);
    let before = rv(&server);
    let out = server
        .run(&[
            "scale",
            "deploy/blog",
            "--replicas",
            "5",
            "--dry-run=client",
            "-o",
            "json",
        ])
        .success();
    let scale: serde_json::Value = serde_json::from_str(out.stdout()).expect("json");
    assert_eq!(
        (scale["kind"].as_str(), scale["spec"]["replicas"].as_i64()),
        (Some("Scale"), Some(5))
    );
    assert_eq!(server.count("PUT", "/scale"), 0);
    assert_eq!(rv(&server), before);
    let out = server
        .run(&[
            "scale",
            "deploy/blog",
            "--replicas",
            "5",
            "--dry-run=server",
            "-o",
            "yaml",
        ])
        .success();
    let scale: serde_json::Value = serde_yaml::from_str(out.stdout()).expect("yaml");
    assert_eq!(scale["spec"]["replicas"], 5);
    let put = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("PUT sent");
    assert_eq!(
        put.query.trim_start_matches('&'),
        "dryRun=All&fieldManager=kubectl-warpdrive"
    );
    assert_eq!(rv(&server), before);
    assert_eq!(
        server.get(&DEPLOYMENTS, "default", "blog").unwrap()["spec"]["replicas"],
        2
    );
    out.stderr_has("would be scaled (dry run, server: nothing stored) from 2 to 5");
}

#[test]
fn deploymentconfigs_scale_too() {
    let server = ApiServer::openshift();
    server.set_rollout_delay(Duration::from_millis(30));
    server.add_deploymentconfig("shop", 1, json!([container("web", &[])]));
    server
        .run(&["scale", "dc/shop", "--replicas", "2"])
        .success()
        .stdout_has("deploymentconfig/shop: 2 of 2 pods ready");
    assert_eq!(server.pods("default", "deploymentconfig", "shop").len(), 2);
    assert_eq!(
        server.get(&DEPLOYMENTCONFIGS, "default", "shop").unwrap()["spec"]["replicas"],
        2
    );
    assert_eq!(server.count("PUT", "/deploymentconfigs/shop/scale"), 1);
}

#[test]
fn errors_and_timeouts() {
    let server = ApiServer::start();
    blog(&server, &[]);
    server.deny("update", "deployments/scale");
    let out = server
        .run(&["scale", "deploy/blog", "--replicas", "3"])
        .failure();
    let err = out.stderr();
    assert!(
        err.starts_with("error: cannot update deployments.apps/scale in namespace default:"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    server
        .run(&["scale", "deploy/nope", "--replicas", "3"])
        .bad_input()
        .stderr_has("deployment \"nope\" not found in namespace default");
    let server = ApiServer::start();
    blog(&server, &[]);
    server.set_rollout_delay(Duration::from_secs(30));
    server
        .run(&["scale", "deploy/blog", "--replicas", "3", "--timeout", "1s"])
        .failure()
        .stderr_has("timed out after 1s waiting for deployment/blog");
    // A usage error (clap's, with its usage text): exit 2.
    server
        .run(&["scale", "deploy/blog", "--replicas", "-1"])
        .status(2);
}

#[test]
fn cluster_flags_reach_the_scale_requests() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(30));
    let mut m = crate::apiserver::workload_manifest(
        &DEPLOYMENTS,
        "blog",
        1,
        json!([container("web", &[])]),
    );
    m["metadata"]["namespace"] = json!("team");
    server.add(m);
    let kc = server.write_kubeconfig("team-kubeconfig", "team");
    let mut cmd = crate::support::warpdrive();
    cmd.args([
        "scale",
        "blog",
        "--replicas",
        "2",
        "--as",
        "bob",
        "--as-group",
        "ops",
        "--kubeconfig",
    ])
    .arg(&kc);
    cmd.run_within(Duration::from_secs(60)).success();
    let log = server.requests();
    assert!(log
        .iter()
        .all(|r| r.impersonate_user.as_deref() == Some("bob") && r.impersonate_groups == ["ops"]));
    assert!(log
        .iter()
        .any(|r| r.line() == "PUT /apis/apps/v1/namespaces/team/deployments/blog/scale"));
    assert_eq!(server.pods("team", "app", "blog").len(), 2);
    // -n overrides the context's namespace: nothing called blog in default.
    let mut cmd = crate::support::warpdrive();
    cmd.args([
        "scale",
        "deploy/blog",
        "--replicas",
        "2",
        "-n",
        "default",
        "--kubeconfig",
    ])
    .arg(&kc);
    cmd.run_within(Duration::from_secs(60))
        .bad_input()
        .stderr_has("deployment \"blog\" not found in namespace default");
}
