//! `reload on` leaves no mess on the real control plane: exec denied by a
//! real RBAC Role, a pod that never becomes ready (no node fits), a sync
//! error: each time the Deployment is put back as it was, in one line.

use serde_json::{json, Value};

use super::{deployment, Ns};

/// `blog` at 3 replicas, with a value for everything `on` changes.
fn blog(ns: &Ns, node_selector: Option<Value>) {
    let mut d = deployment(
        "blog",
        3,
        json!([{"name": "web", "image": "app", "env": [
            {"name": "OTHER", "value": "x"},
            {"name": "MOD_WSGI_RELOAD_ON_CHANGES", "value": "0"}
        ]}]),
    );
    d["metadata"]["annotations"] = json!({"team": "web"});
    if let Some(sel) = node_selector {
        d["spec"]["template"]["spec"]["nodeSelector"] = sel;
    } else {
        ns.apply(&[d]);
        ns.rolled_out("deploy/blog");
        return;
    }
    ns.apply(&[d]);
}

/// What `on` changes, as the apiserver has it now.
fn state(ns: &Ns) -> (Value, Value, Vec<String>) {
    let o = ns.get("deploy/blog");
    let mut ann = o["metadata"]["annotations"].clone();
    if let Some(m) = ann.as_object_mut() {
        // kubectl apply's own bookkeeping.
        m.retain(|k, _| {
            !k.starts_with("kubectl.kubernetes.io/") && !k.starts_with("deployment.kubernetes.io/")
        });
    }
    (o["spec"]["replicas"].clone(), ann, super::env_of(&o, 0))
}

fn original() -> (Value, Value, Vec<String>) {
    (
        json!(3),
        json!({"team": "web"}),
        vec!["OTHER=x".into(), "MOD_WSGI_RELOAD_ON_CHANGES=0".into()],
    )
}

const PUT_BACK: &str =
    "deployment/blog was put back as it was (3 replicas, MOD_WSGI_RELOAD_ON_CHANGES=0)";

fn one_error_line(out: &crate::support::Outcome) {
    let lines: Vec<&str> = out
        .stderr()
        .lines()
        .filter(|l| !l.starts_with("Waiting for "))
        .collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr());
    assert!(lines[0].starts_with("error: "), "{}", out.stderr());
    assert!(!out.stderr().contains("Status {"), "{}", out.stderr());
}

#[test]
fn exec_denied_by_rbac_puts_the_deployment_back() {
    let Some(ns) = Ns::new("rollback-rbac") else {
        return;
    };
    blog(&ns, None);
    // Everything reload needs except pods/exec.
    ns.apply(&[
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": "no-exec"},
               "rules": [
                 {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch", "update"]},
                 {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
               ]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "dev-no-exec"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "no-exec"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "dev"}]}),
    ]);
    let kubectl = ns.kubectl(&["auth", "can-i", "create", "pods/exec", "--as", "dev"]);
    assert_eq!(kubectl.stdout().trim(), "no");
    let src = super::reload::source(&ns);
    let dest = ns.scratch("dest");
    let out = ns
        .run(&[
            "reload",
            "deploy/blog",
            "--as",
            "dev",
            "--source",
            src.to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
        ])
        .failure()
        .stderr_has("exec in the container failed: pod blog-")
        .stderr_has("User \"dev\" cannot get resource \"pods/exec\"")
        .stderr_has(PUT_BACK);
    one_error_line(&out);
    eprintln!("exec denied: {}", out.stderr().trim());
    assert_eq!(state(&ns), original());
}

#[test]
fn a_pod_that_never_becomes_ready_puts_the_deployment_back() {
    let Some(ns) = Ns::new("rollback-pending") else {
        return;
    };
    // No node has this label: the new pod stays Pending.
    blog(&ns, Some(json!({"warpdrive-test/nowhere": "true"})));
    let src = super::reload::source(&ns);
    let out = ns
        .run(&[
            "reload",
            "deploy/blog",
            "--source",
            src.to_str().unwrap(),
            "--timeout",
            "5s",
        ])
        .failure()
        .stderr_has("timed out after 5s waiting for deployment/blog")
        .stderr_has(PUT_BACK);
    one_error_line(&out);
    assert_eq!(state(&ns), original());
}

#[test]
fn a_sync_error_puts_the_deployment_back() {
    let Some(ns) = Ns::new("rollback-sync") else {
        return;
    };
    blog(&ns, None);
    let src = super::reload::source(&ns);
    let out = ns
        .run(&[
            "reload",
            "deploy/blog",
            "--source",
            src.to_str().unwrap(),
            "--dest",
            "/proc/warpdrive-cannot-be-here",
        ])
        .failure()
        .stderr_has("failed in the container")
        .stderr_has(PUT_BACK);
    one_error_line(&out);
    assert_eq!(state(&ns), original());
}
