//! `scale` against the real control plane: the deployment controller makes
//! the pods, the scheduler binds them, kwok makes them Ready.

use serde_json::{json, Value};

use super::proxy::{self, Proxy};
use super::{container, deployment, Ns};
use crate::support::RunExt;

fn blog(ns: &Ns, replicas: i64, env: &[(&str, &str)]) {
    ns.apply(&[deployment("blog", replicas, json!([container("web", env)]))]);
    ns.rolled_out("deploy/blog");
}

/// The rows of the pods table after `NAME READY STATUS AGE`.
fn table(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("NAME"))
        .skip(1)
        .map(str::to_string)
        .collect()
}

fn rv(ns: &Ns) -> Value {
    ns.get("deploy/blog")["metadata"]["resourceVersion"].clone()
}

#[test]
fn scale_waits_until_the_pods_are_ready_and_lists_them() {
    let Some(ns) = Ns::new("scale-up") else {
        return;
    };
    blog(&ns, 1, &[]);
    let out = ns
        .run(&["scale", "deploy/blog", "--replicas", "3"])
        .success()
        .stdout_has("deployment/blog scaled from 1 to 3 replicas")
        .stdout_has("deployment/blog: 3 of 3 pods ready");
    // When it returns the controller agrees: 3 ready, and kubectl's rollout is done.
    let obj = ns.get("deploy/blog");
    assert_eq!(obj["status"]["readyReplicas"], 3, "{obj:#}");
    assert_eq!(obj["status"]["replicas"], 3, "{obj:#}");
    ns.kubectl(&["rollout", "status", "deploy/blog", "--watch=false"])
        .success()
        .stdout_has("successfully rolled out");
    let pods = super::pod_names(&ns, "app=blog");
    let rows = table(out.stdout());
    assert_eq!(rows.len(), 3, "{}", out.stdout());
    for name in &pods {
        let row = rows
            .iter()
            .find(|r| r.starts_with(name.as_str()))
            .unwrap_or_else(|| panic!("{name} not in {}", out.stdout()));
        assert!(row.contains("1/1") && row.contains("Running"), "{row}");
    }
    // And down again.
    ns.run(&["scale", "deploy/blog", "--replicas", "1"])
        .success()
        .stdout_has("deployment/blog scaled from 3 to 1 replicas")
        .stdout_has("deployment/blog: 1 of 1 pods ready");
    let obj = ns.get("deploy/blog");
    assert_eq!(
        (
            obj["status"]["replicas"].as_i64(),
            obj["status"]["readyReplicas"].as_i64()
        ),
        (Some(1), Some(1))
    );
}

#[test]
fn no_wait_requests_and_the_field_manager() {
    let Some(ns) = Ns::new("scale-requests") else {
        return;
    };
    blog(&ns, 1, &[]);
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    ns.warpdrive()
        .args([
            "scale",
            "deploy/blog",
            "--replicas",
            "2",
            "--no-wait",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .run()
        .success();
    let log = proxy.requests();
    let lines: Vec<String> = log
        .iter()
        .map(|r| format!("{} {}", r.line(), r.status))
        .collect();
    let n = &ns.name;
    assert_eq!(
        lines,
        [
            format!("GET /apis/apps/v1/namespaces/{n}/deployments/blog 200"),
            format!("GET /apis/autoscaling/v2/namespaces/{n}/horizontalpodautoscalers 200"),
            format!("GET /apis/apps/v1/namespaces/{n}/deployments/blog/scale 200"),
            format!("PUT /apis/apps/v1/namespaces/{n}/deployments/blog/scale 200"),
        ]
    );
    assert_eq!(
        log[3].query("fieldManager").as_deref(),
        Some("kubectl-warpdrive")
    );
    assert_eq!(ns.get("deploy/blog")["spec"]["replicas"], 2);
    let out = ns
        .kubectl(&["get", "deploy/blog", "-o", "yaml", "--show-managed-fields"])
        .success();
    let obj: Value = serde_yaml::from_str(out.stdout()).expect("yaml");
    let ours = obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["manager"] == "kubectl-warpdrive" && f["subresource"] == "scale")
        .unwrap_or_else(|| panic!("no scale entry of kubectl-warpdrive: {}", out.stdout()));
    assert!(
        ours.pointer("/fieldsV1/f:spec/f:replicas").is_some(),
        "{ours:#}"
    );
}

#[test]
fn current_replicas_is_a_precondition() {
    let Some(ns) = Ns::new("scale-current") else {
        return;
    };
    blog(&ns, 2, &[]);
    let before = rv(&ns);
    let out = ns
        .run(&[
            "scale",
            "deploy/blog",
            "--replicas",
            "3",
            "--current-replicas",
            "5",
        ])
        .failure()
        .stderr_has("--current-replicas is 5 but it has 2 replicas");
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert_eq!(rv(&ns), before);
    ns.run(&[
        "scale",
        "deploy/blog",
        "--replicas",
        "3",
        "--current-replicas",
        "2",
        "--no-wait",
    ])
    .success();
    assert_eq!(ns.get("deploy/blog")["spec"]["replicas"], 3);
}

#[test]
fn dry_runs_print_the_scale_and_store_nothing() {
    let Some(ns) = Ns::new("scale-dry-run") else {
        return;
    };
    blog(&ns, 2, &[]);
    let before = rv(&ns);
    let scale = ns
        .run(&[
            "scale",
            "deploy/blog",
            "--replicas",
            "5",
            "--dry-run=server",
            "-o",
            "json",
        ])
        .success()
        .stderr_has("would be scaled (dry run, server: nothing stored) from 2 to 5")
        .json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 5);
    assert_eq!(scale["status"]["selector"], "app=blog");
    assert_eq!(rv(&ns), before);
    assert_eq!(ns.get("deploy/blog")["spec"]["replicas"], 2);
    let scale = ns
        .run(&[
            "scale",
            "deploy/blog",
            "--replicas",
            "5",
            "--dry-run=client",
            "-o",
            "yaml",
        ])
        .success();
    let scale: Value = serde_yaml::from_str(scale.stdout()).expect("yaml");
    assert_eq!(scale["spec"]["replicas"], 5);
    assert_eq!(rv(&ns), before);
}

#[test]
fn warns_about_live_reloading_and_a_real_hpa() {
    let Some(ns) = Ns::new("scale-hpa") else {
        return;
    };
    blog(&ns, 1, &[("MOD_WSGI_RELOAD_ON_CHANGES", "1")]);
    let hpa = |name: &str, target: &str| {
        json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                "minReplicas": 1,
                "maxReplicas": 10,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
            }
        })
    };
    ns.apply(&[hpa("blog", "blog"), hpa("other", "shop")]);
    ns.run(&["scale", "deploy/blog", "--replicas", "2", "--no-wait"])
        .success()
        .stderr_has("warning: deployment/blog has MOD_WSGI_RELOAD_ON_CHANGES on")
        .stderr_has("warning: HorizontalPodAutoscaler blog targets deployment/blog")
        .stderr_lacks("HorizontalPodAutoscaler other");
    ns.run(&["scale", "deploy/blog", "--replicas", "1", "--no-wait"])
        .success()
        .stderr_lacks("RELOAD_ON_CHANGES");
}

#[test]
fn errors_are_one_line() {
    let Some(ns) = Ns::new("scale-errors") else {
        return;
    };
    blog(&ns, 1, &[]);
    // Allowed to read deployments, not to update their scale.
    ns.apply(&[
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "reader"},
            "rules": [
                {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "list"]},
                {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["list"]},
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "reader"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
        }),
    ]);
    let out = ns
        .run(&["scale", "deploy/blog", "--replicas", "3", "--as", "alice"])
        .failure();
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert!(
        out.stderr().starts_with(&format!(
            "error: cannot update deployments.apps/scale in namespace {}: deployments.apps \"blog\" is forbidden: User \"alice\" cannot update resource \"deployments/scale\"",
            ns.name
        )),
        "{}",
        out.stderr()
    );
    ns.run(&["scale", "deploy/blog", "--replicas", "-1"])
        .status(2);
    ns.run(&["scale", "deploy/nope", "--replicas", "3"])
        .bad_input()
        .stderr_has(&format!(
            "deployment \"nope\" not found in namespace {}",
            ns.name
        ));
    // Pods that never get a node: the wait ends at --timeout.
    ns.kubectl(&[
        "patch",
        "deploy/blog",
        "--type=merge",
        "-p",
        r#"{"spec":{"template":{"spec":{"nodeSelector":{"no-such-label":"x"}}}}}"#,
    ])
    .success();
    ns.run(&["scale", "deploy/blog", "--replicas", "3", "--timeout", "2s"])
        .failure()
        .stderr_has("timed out after 2s waiting for deployment/blog");
}

#[test]
fn the_context_namespace_and_impersonation_reach_the_scale_requests() {
    let Some(ns) = Ns::new("scale-flags") else {
        return;
    };
    blog(&ns, 1, &[]);
    // The group "ops" may scale; bob alone may not.
    ns.apply(&[
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "scaler"},
            "rules": [
                {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "list", "update"]},
                {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["list"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "scaler"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "scaler"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ops"}],
        }),
    ]);
    // The admin kubeconfig with the test's namespace in its context.
    let text = std::fs::read_to_string(&ns.plane.kubeconfig).expect("kubeconfig");
    let mut kc: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    kc["contexts"][0]["context"]["namespace"] = serde_yaml::Value::from(ns.name.as_str());
    let file = ns.scratch("team-kubeconfig");
    std::fs::write(&file, serde_yaml::to_string(&kc).expect("yaml")).expect("write");
    let scale = |extra: &[&str]| {
        crate::support::warpdrive()
            .args(["scale", "blog", "--replicas", "2", "--kubeconfig"])
            .arg(&file)
            .args(extra)
            .run()
    };
    scale(&["--as", "bob", "--as-group", "ops"])
        .success()
        .stdout_has("deployment/blog: 2 of 2 pods ready");
    scale(&["--as", "bob"])
        .failure()
        .stderr_has("User \"bob\" cannot get resource \"deployments\"");
    // -n overrides the context's namespace.
    scale(&["-n", "default"])
        .bad_input()
        .stderr_has("no deployment or deploymentconfig named \"blog\" in namespace default");
}
