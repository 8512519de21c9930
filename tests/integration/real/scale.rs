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
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let scale = |replicas: &str| {
        ns.warpdrive()
            .args([
                "scale",
                "deploy/blog",
                "--replicas",
                replicas,
                "--kubeconfig",
            ])
            .arg(&kubeconfig)
            .run()
    };
    let out = scale("3")
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
    let header = out
        .stdout()
        .lines()
        .find(|l| l.starts_with("NAME"))
        .unwrap_or_else(|| panic!("no table header in {}", out.stdout()));
    assert!(header.contains("READY   STATUS    AGE"), "{header}");
    let rows = table(out.stdout());
    assert_eq!(rows.len(), 3, "{}", out.stdout());
    for name in &pods {
        let row = rows
            .iter()
            .find(|r| r.starts_with(name.as_str()))
            .unwrap_or_else(|| panic!("{name} not in {}", out.stdout()));
        assert!(row.contains("1/1") && row.contains("Running"), "{row}");
    }
    // Through the scale subresource; the pods are listed by the selector.
    let log = proxy.requests();
    let n = &ns.name;
    assert!(
        log.iter()
            .any(|r| r.line() == format!("PUT /apis/apps/v1/namespaces/{n}/deployments/blog/scale")),
        "{log:?}"
    );
    let list = log
        .iter()
        .find(|r| r.line() == format!("GET /api/v1/namespaces/{n}/pods"))
        .unwrap_or_else(|| panic!("no pod list in {log:?}"));
    assert_eq!(list.query("labelSelector").as_deref(), Some("app%3Dblog"));
    // And down again: the extra pods are gone when it returns.
    scale("1")
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
    assert_eq!(super::pod_names(&ns, "app=blog").len(), 1);
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
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let out = ns
        .warpdrive()
        .args([
            "scale",
            "deploy/blog",
            "--replicas",
            "3",
            "--current-replicas",
            "5",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .run()
        .failure()
        .stderr_has("--current-replicas is 5 but it has 2 replicas");
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert_eq!(rv(&ns), before);
    let log = proxy.requests();
    assert!(log.iter().all(|r| r.method == "GET"), "{log:?}");
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
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let dry = |args: &[&str]| {
        ns.warpdrive()
            .args(["scale", "deploy/blog", "--replicas", "5"])
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .run()
            .success()
    };
    let scale = dry(&["--dry-run=server", "-o", "json"])
        .stderr_has("would be scaled (dry run, server: nothing stored) from 2 to 5")
        .json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 5);
    assert_eq!(scale["status"]["selector"], "app=blog");
    assert_eq!(rv(&ns), before);
    assert_eq!(ns.get("deploy/blog")["spec"]["replicas"], 2);
    // The server dry run is the PUT with dryRun=All, under the plugin's name.
    let puts: Vec<proxy::Request> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(puts[0].query("dryRun").as_deref(), Some("All"));
    assert_eq!(
        puts[0].query("fieldManager").as_deref(),
        Some("kubectl-warpdrive")
    );
    // A client dry run (and a bare --dry-run) sends no write at all.
    proxy.clear();
    let out = dry(&["--dry-run=client", "-o", "yaml"]);
    let scale: Value = serde_yaml::from_str(out.stdout()).expect("yaml");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 5);
    ns.warpdrive()
        .args([
            "scale",
            "--dry-run",
            "deploy/blog",
            "--replicas",
            "3",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .run()
        .success()
        .stdout_has("would be scaled (dry run, client: nothing sent)");
    let log = proxy.requests();
    assert!(log.iter().all(|r| r.method == "GET"), "{log:?}");
    assert_eq!(rv(&ns), before);
    // -o name: kubectl's kind.group/name.
    ns.run(&[
        "scale",
        "deploy/blog",
        "--replicas",
        "1",
        "-o",
        "name",
        "--no-wait",
    ])
    .success()
    .stdout_is("deployment.apps/blog\n");
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
    // Every request carries the impersonation, in the context's namespace.
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let mut via = kc.clone();
    via["clusters"][0]["cluster"] =
        serde_yaml::from_str(&format!("{{server: 'http://127.0.0.1:{}'}}", proxy.port))
            .expect("yaml");
    via["users"][0]["user"] = serde_yaml::from_str("{}").expect("yaml");
    let via_file = ns.scratch("team-kubeconfig-proxy");
    std::fs::write(&via_file, serde_yaml::to_string(&via).expect("yaml")).expect("write");
    crate::support::warpdrive()
        .args([
            "scale",
            "blog",
            "--replicas",
            "1",
            "--as",
            "bob",
            "--as-group",
            "ops",
        ])
        .arg("--kubeconfig")
        .arg(&via_file)
        .run()
        .success();
    let log = proxy.requests();
    assert!(log.len() >= 4, "{log:?}");
    for r in &log {
        assert_eq!(
            (r.impersonate_user.as_str(), r.impersonate_groups.as_slice()),
            ("bob", &["ops".to_string()][..]),
            "{r:?}"
        );
        assert!(
            r.target.contains(&format!("/namespaces/{}/", ns.name)),
            "{r:?}"
        );
    }
    assert!(
        log.iter().any(|r| r.line()
            == format!(
                "PUT /apis/apps/v1/namespaces/{}/deployments/blog/scale",
                ns.name
            )),
        "{log:?}"
    );
    scale(&["--as", "bob"])
        .failure()
        .stderr_has("User \"bob\" cannot get resource \"deployments\"");
    // -n overrides the context's namespace.
    scale(&["-n", "default"])
        .bad_input()
        .stderr_has("no deployment or deploymentconfig named \"blog\" in namespace default");
}
