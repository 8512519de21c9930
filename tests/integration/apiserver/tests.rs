//! Tests of the double itself: it must behave like a kube-apiserver for the
//! parts the tool uses, or the cluster tests prove nothing.

use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::support::RunExt;

/// Sends a request to the double; returns (status, JSON body).
fn send(
    server: &ApiServer,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", server.url);
    let resp = match method {
        "GET" => agent.get(&url).call(),
        "PUT" => agent
            .put(&url)
            .header("content-type", content_type)
            .send(body),
        "PATCH" => agent
            .patch(&url)
            .header("content-type", content_type)
            .send(body),
        _ => panic!("method {method}"),
    };
    let mut resp = resp.expect("request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const BLOG: &str = "/apis/apps/v1/namespaces/default/deployments/blog";

fn blog(server: &ApiServer) -> Value {
    server.add_deployment("blog", 2, json!([container("web", &[("A", "1")])]))
}

#[test]
fn kubectl_reads_objects_from_the_double() {
    let server = ApiServer::openshift();
    blog(&server);
    server.add_deploymentconfig("shop", 1, json!([container("web", &[])]));
    let kc = server.kubeconfig();
    let out = std::process::Command::new("kubectl")
        .args(["get", "deploy", "blog", "-o", "json", "--kubeconfig"])
        .arg(&kc)
        .run()
        .success();
    let obj = out.json();
    assert_eq!(obj["metadata"]["name"], "blog");
    assert_eq!(obj["status"]["readyReplicas"], 2);
    std::process::Command::new("kubectl")
        .args([
            "get",
            "dc",
            "shop",
            "-o",
            "jsonpath={.kind}/{.metadata.name}",
            "--kubeconfig",
        ])
        .arg(&kc)
        .run()
        .stdout_is("DeploymentConfig/shop");
    let out = std::process::Command::new("kubectl")
        .args([
            "get",
            "pods",
            "-l",
            "app=blog",
            "-o",
            "name",
            "--kubeconfig",
        ])
        .arg(&kc)
        .run();
    assert_eq!(out.stdout().lines().count(), 2, "{}", out.stdout());
}

#[test]
fn discovery_tells_openshift_apart() {
    let plain = ApiServer::start();
    assert_eq!(
        send(&plain, "GET", "/apis/apps.openshift.io/v1", "", "").0,
        404
    );
    let (code, groups) = send(&plain, "GET", "/apis", "", "");
    assert_eq!(code, 200);
    assert!(!groups.to_string().contains("apps.openshift.io"));
    let os = ApiServer::openshift();
    let (code, list) = send(&os, "GET", "/apis/apps.openshift.io/v1", "", "");
    assert_eq!(code, 200);
    assert_eq!(list["resources"][0]["name"], "deploymentconfigs");
    let (code, body) = send(
        &plain,
        "GET",
        "/apis/apps.openshift.io/v1/namespaces/default/deploymentconfigs/x",
        "",
        "",
    );
    assert_eq!((code, body["kind"].as_str()), (404, Some("Status")));
}

#[test]
fn patches_follow_the_api_conventions() {
    let server = ApiServer::start();
    let obj = blog(&server);
    let rv = obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Strategic merge and apply patches are refused.
    for ct in [
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ] {
        let (code, body) = send(&server, "PATCH", BLOG, ct, "{}");
        assert_eq!(
            (code, body["reason"].as_str()),
            (415, Some("UnsupportedMediaType")),
            "{ct}"
        );
    }
    // A failing JSON Patch test is a 409 Conflict Status; nothing changes.
    let stale = json!([{"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
                       {"op": "replace", "path": "/spec/replicas", "value": 5}]);
    let (code, body) = send(
        &server,
        "PATCH",
        BLOG,
        "application/json-patch+json",
        &stale.to_string(),
    );
    assert_eq!(
        (code, body["reason"].as_str(), body["kind"].as_str()),
        (409, Some("Conflict"), Some("Status"))
    );
    assert_eq!(
        server.get(&DEPLOYMENTS, "default", "blog").unwrap()["spec"]["replicas"],
        2
    );
    // A passing test applies; resourceVersion and generation move.
    let good = json!([{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                      {"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "B", "value": "2"}}]);
    let (code, body) = send(
        &server,
        "PATCH",
        BLOG,
        "application/json-patch+json",
        &good.to_string(),
    );
    assert_eq!(code, 200, "{body}");
    assert_ne!(body["metadata"]["resourceVersion"], rv.as_str());
    assert_eq!(body["metadata"]["generation"], 2);
    // A metadata-only merge patch: new resourceVersion, same generation.
    let (code, body) = send(
        &server,
        "PATCH",
        BLOG,
        "application/merge-patch+json",
        r#"{"metadata":{"annotations":{"x":"y"}}}"#,
    );
    assert_eq!(
        (code, body["metadata"]["generation"].as_i64()),
        (200, Some(2))
    );
    // A merge patch on the containers list replaces the whole list.
    let (code, body) = send(
        &server,
        "PATCH",
        BLOG,
        "application/merge-patch+json",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"other","image":"x"}]}}}}"#,
    );
    assert_eq!(code, 200);
    assert_eq!(
        body["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(body["spec"]["template"]["spec"]["containers"][0]
        .get("env")
        .is_none());
    // PUT with a stale resourceVersion: 409.
    let mut put = body.clone();
    put["metadata"]["resourceVersion"] = json!("3");
    let (code, _) = send(&server, "PUT", BLOG, "application/json", &put.to_string());
    assert_eq!(code, 409);
    // An invalid env name: 422 with causes.
    let mut bad = body.clone();
    bad["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion"); // unconditional PUT
    bad["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "1 bad", "value": "x"}]);
    let (code, status) = send(&server, "PUT", BLOG, "application/json", &bad.to_string());
    assert_eq!((code, status["reason"].as_str()), (422, Some("Invalid")));
    assert!(status["details"]["causes"][0]["field"]
        .as_str()
        .unwrap()
        .ends_with("env[0].name"));
    // dryRun=All answers but stores nothing (once the simulated controller is idle).
    let before = server.wait_settled(&DEPLOYMENTS, "blog", Duration::from_secs(5));
    let (code, body) = send(
        &server,
        "PATCH",
        &format!("{BLOG}?dryRun=All"),
        "application/merge-patch+json",
        r#"{"spec":{"replicas":7}}"#,
    );
    assert_eq!((code, body["spec"]["replicas"].as_i64()), (200, Some(7)));
    assert_eq!(
        server.get(&DEPLOYMENTS, "default", "blog").unwrap()["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    // 404 and 403 carry Status bodies.
    let (code, body) = send(
        &server,
        "GET",
        "/apis/apps/v1/namespaces/default/deployments/nope",
        "",
        "",
    );
    assert_eq!(
        (code, body["message"].as_str()),
        (404, Some("deployments.apps \"nope\" not found"))
    );
    server.deny("patch", "deployments");
    let (code, body) = send(&server, "PATCH", BLOG, "application/merge-patch+json", "{}");
    assert_eq!((code, body["reason"].as_str()), (403, Some("Forbidden")));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("cannot patch resource \"deployments\" in API group \"apps\""));
}

#[test]
fn rollouts_replace_pods_and_can_fail() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(30));
    blog(&server);
    let old: Vec<String> = server
        .pods("default", "app", "blog")
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(old.len(), 2);
    let (code, _) = send(
        &server,
        "PATCH",
        BLOG,
        "application/merge-patch+json",
        r#"{"spec":{"template":{"metadata":{"annotations":{"restart":"1"}}}}}"#,
    );
    assert_eq!(code, 200);
    let obj = server.wait_settled(&DEPLOYMENTS, "blog", Duration::from_secs(5));
    assert_eq!(obj["status"]["observedGeneration"], 2);
    assert_eq!(obj["status"]["updatedReplicas"], 2);
    assert_eq!(
        obj["status"]["conditions"][1]["reason"],
        "NewReplicaSetAvailable"
    );
    let new = server.pods("default", "app", "blog");
    assert_eq!(new.len(), 2);
    for p in &new {
        assert!(!old.contains(&p["metadata"]["name"].as_str().unwrap().to_string()));
    }
    assert_ne!(
        new[0]["metadata"]["labels"]["pod-template-hash"],
        Value::Null
    );
    // Scale subresource: GET, PUT with a stale resourceVersion, merge PATCH.
    let scale_path = format!("{BLOG}/scale");
    let (code, scale) = send(&server, "GET", &scale_path, "", "");
    assert_eq!(
        (
            code,
            scale["spec"]["replicas"].as_i64(),
            scale["status"]["selector"].as_str()
        ),
        (200, Some(2), Some("app=blog"))
    );
    let mut stale = scale.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    assert_eq!(
        send(
            &server,
            "PUT",
            &scale_path,
            "application/json",
            &stale.to_string()
        )
        .0,
        409
    );
    let (code, scale) = send(
        &server,
        "PATCH",
        &scale_path,
        "application/merge-patch+json",
        r#"{"spec":{"replicas":3}}"#,
    );
    assert_eq!((code, scale["spec"]["replicas"].as_i64()), (200, Some(3)));
    let obj = server.wait_settled(&DEPLOYMENTS, "blog", Duration::from_secs(5));
    assert_eq!(obj["status"]["readyReplicas"], 3);
    // Label selectors on the pods list.
    let (_, list) = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/pods?labelSelector=app%3Dblog",
        "",
        "",
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let (_, list) = send(
        &server,
        "GET",
        "/api/v1/namespaces/default/pods?labelSelector=app%3Dother",
        "",
        "",
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    // Failure injection.
    server.fail_rollouts(true);
    send(
        &server,
        "PATCH",
        BLOG,
        "application/merge-patch+json",
        r#"{"spec":{"template":{"metadata":{"annotations":{"restart":"2"}}}}}"#,
    );
    std::thread::sleep(Duration::from_millis(200));
    let obj = server.get(&DEPLOYMENTS, "default", "blog").unwrap();
    assert_eq!(
        obj["status"]["conditions"][1]["reason"],
        "ProgressDeadlineExceeded"
    );
    assert_eq!(obj["status"]["conditions"][1]["status"], "False");
}

#[test]
fn deploymentconfigs_roll_out_with_their_own_reason() {
    let server = ApiServer::openshift();
    server.set_rollout_delay(Duration::from_millis(20));
    server.add_deploymentconfig("shop", 1, json!([container("web", &[])]));
    let path = "/apis/apps.openshift.io/v1/namespaces/default/deploymentconfigs/shop";
    let (code, _) = send(
        &server,
        "PATCH",
        path,
        "application/merge-patch+json",
        r#"{"spec":{"template":{"metadata":{"annotations":{"a":"b"}}}}}"#,
    );
    assert_eq!(code, 200);
    let obj = server.wait_settled(&DEPLOYMENTCONFIGS, "shop", Duration::from_secs(5));
    assert_eq!(obj["status"]["latestVersion"], 2);
    assert_eq!(
        obj["status"]["conditions"][1]["reason"],
        "NewReplicationControllerAvailable"
    );
    let pods = server.pods("default", "deploymentconfig", "shop");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["metadata"]["labels"]["deployment"], "shop-2");
}
