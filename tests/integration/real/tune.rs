//! `tune` against the real control plane, with kubectl as the second client
//! and the oracle on the same objects.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::proxy::{self, Proxy};
use super::{container, deployment, say, statefulset, Ns};
use crate::support::RunExt;

/// deployment/blog, 2 replicas, container web with two variables; rolled out.
fn blog(ns: &Ns) {
    ns.apply(&[deployment(
        "blog",
        2,
        json!([container(
            "web",
            &[("MOD_WSGI_PROCESSES", "1"), ("OTHER", "x")]
        )]),
    )]);
    ns.rolled_out("deploy/blog");
}

fn rv(ns: &Ns, what: &str) -> String {
    ns.get(what)["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Pods of `selector` that are not being deleted.
fn live_pods(ns: &Ns, selector: &str) -> Vec<Value> {
    let list = ns
        .kubectl(&["get", "pods", "-l", selector, "-o", "json"])
        .success()
        .json();
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .collect()
}

fn names(pods: &[Value]) -> Vec<String> {
    pods.iter()
        .filter_map(|p| p.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The managedFields entries of an object, read from
/// `kubectl get -o yaml --show-managed-fields`.
fn managed_fields(ns: &Ns, what: &str) -> Vec<Value> {
    let out = ns
        .kubectl(&["get", what, "-o", "yaml", "--show-managed-fields"])
        .success();
    let obj: Value = serde_yaml::from_str(out.stdout()).expect("yaml from kubectl");
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The env entries (by name) that `manager` owns in container `web`.
fn owned_env(fields: &[Value], manager: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|f| f["manager"] == manager)
        .filter_map(|f| {
            f.pointer("/fieldsV1/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"web\"}/f:env")
        })
        .filter_map(Value::as_object)
        .flat_map(|env| env.keys().cloned())
        .filter_map(|k| {
            k.strip_prefix("k:")
                .and_then(|j| serde_json::from_str::<Value>(j).ok())
                .and_then(|v| v["name"].as_str().map(str::to_string))
        })
        .collect()
}

#[test]
fn a_deployment_is_tuned_rolled_out_and_kubectl_agrees() {
    let Some(ns) = Ns::new("tune-deploy") else {
        return;
    };
    blog(&ns);
    let old = names(&live_pods(&ns, "app=blog"));
    assert_eq!(old.len(), 2, "{old:?}");
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    ns.warpdrive()
        .args(["tune", "deploy/blog", "--processes", "3", "--threads", "15"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .run()
        .success()
        .stdout_has("deployment/blog, container web:")
        .stdout_has("MOD_WSGI_PROCESSES  1 → 3")
        .stdout_has("MOD_WSGI_THREADS    (unset) → 15")
        .stdout_has("deployment/blog successfully rolled out")
        .stderr_has("Waiting for deployment \"blog\" rollout to finish");
    // One GET and one JSON patch before the wait, and no other write after it.
    let log = proxy.requests();
    let patch_at = log
        .iter()
        .position(|r| r.method == "PATCH")
        .unwrap_or_else(|| panic!("no PATCH in {log:?}"));
    let before: Vec<String> = log[..patch_at].iter().map(|r| r.line()).collect();
    assert_eq!(
        before,
        [format!(
            "GET /apis/apps/v1/namespaces/{}/deployments/blog",
            ns.name
        )]
    );
    assert_eq!(log[patch_at].content_type, "application/json-patch+json");
    assert_eq!(
        log.iter().filter(|r| r.method != "GET").count(),
        1,
        "{log:?}"
    );
    // The oracle: kubectl agrees that the rollout is finished, right away.
    ns.kubectl(&["rollout", "status", "deploy/blog", "--watch=false"])
        .success()
        .stdout_has("successfully rolled out");
    assert_eq!(
        ns.env("deploy/blog", 0),
        ["MOD_WSGI_PROCESSES=3", "OTHER=x", "MOD_WSGI_THREADS=15"]
    );
    let obj = ns.get("deploy/blog");
    assert_eq!(obj["status"]["updatedReplicas"], 2);
    assert_eq!(obj["status"]["availableReplicas"], 2);
    assert_eq!(
        obj["status"]["observedGeneration"],
        obj["metadata"]["generation"]
    );
    // The pods serving now are new ones, made from the new template.
    let now = live_pods(&ns, "app=blog");
    assert_eq!(now.len(), 2, "{:?}", names(&now));
    for p in &now {
        assert!(!old.contains(
            &p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        ));
        assert_eq!(
            super::env_of(&json!({"spec": {"template": p}}), 0),
            ["MOD_WSGI_PROCESSES=3", "OTHER=x", "MOD_WSGI_THREADS=15"]
        );
    }
    // The write is attributed to the plugin, field by field.
    let fields = managed_fields(&ns, "deploy/blog");
    let ours = fields
        .iter()
        .find(|f| f["manager"] == "kubectl-warpdrive")
        .unwrap_or_else(|| panic!("no managedFields entry for kubectl-warpdrive: {fields:#?}"));
    assert_eq!(ours["operation"], "Update");
    let mut owned = owned_env(&fields, "kubectl-warpdrive");
    owned.sort();
    assert_eq!(
        owned,
        ["MOD_WSGI_PROCESSES", "MOD_WSGI_THREADS"],
        "{fields:#?}"
    );
}

#[test]
fn no_wait_sends_one_get_and_one_patch() {
    let Some(ns) = Ns::new("tune-requests") else {
        return;
    };
    blog(&ns);
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    ns.warpdrive()
        .args([
            "tune",
            "deploy/blog",
            "--threads",
            "10",
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
    let path = format!("/apis/apps/v1/namespaces/{}/deployments/blog", ns.name);
    assert_eq!(
        lines,
        [format!("GET {path} 200"), format!("PATCH {path} 200")]
    );
    assert_eq!(log[1].content_type, "application/json-patch+json");
    assert_eq!(
        log[1].query("fieldManager").as_deref(),
        Some("kubectl-warpdrive")
    );
    say(&format!(
        "`tune --no-wait` sent {} requests to the real apiserver (discovery included): {}",
        log.len(),
        log.iter()
            .map(|r| r.target.clone())
            .map(|t| t.replace(&ns.name, "NS"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // A bare name looks up both kinds (the DeploymentConfig CRD is served
    // here). Once the rollout is over, so that no controller writes meanwhile.
    ns.rolled_out("deploy/blog");
    proxy.clear();
    ns.warpdrive()
        .args([
            "tune",
            "blog",
            "--threads",
            "11",
            "--no-wait",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .run()
        .success();
    let mut lines: Vec<String> = proxy
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.line(), r.status))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!(
                "GET /apis/apps.openshift.io/v1/namespaces/{}/deploymentconfigs/blog 404",
                ns.name
            ),
            format!("GET {path} 200"),
            format!("PATCH {path} 200"),
        ]
    );
}

#[test]
fn a_statefulset_is_tuned_and_waited_for() {
    let Some(ns) = Ns::new("tune-sts") else {
        return;
    };
    ns.apply(&[statefulset("db", 2, json!([container("web", &[])]))]);
    ns.rolled_out("sts/db");
    ns.run(&["tune", "sts/db", "--threads", "4"])
        .success()
        .stdout_has("statefulset/db, container web:")
        .stdout_has("statefulset/db successfully rolled out");
    ns.kubectl(&["rollout", "status", "sts/db", "--watch=false"])
        .success()
        .stdout_has("roll out complete");
    assert_eq!(ns.env("sts/db", 0), ["MOD_WSGI_THREADS=4"]);
    let obj = ns.get("sts/db");
    assert_eq!(obj["status"]["updatedReplicas"], 2);
    assert_eq!(
        obj["status"]["currentRevision"],
        obj["status"]["updateRevision"]
    );
    ns.run(&["scale", "sts/db", "--replicas", "1"])
        .success()
        .stdout_has("statefulset/db: 1 of 1 pods ready");
    assert_eq!(ns.get("sts/db")["status"]["readyReplicas"], 1);
}

#[test]
fn a_real_concurrent_write_between_get_and_patch_is_retried_and_kept() {
    let Some(ns) = Ns::new("tune-conflict") else {
        return;
    };
    blog(&ns);
    // Right before the plugin's first PATCH reaches the apiserver, kubectl
    // (a real second client) changes the object.
    let fired = Arc::new(AtomicBool::new(false));
    let ns_name = ns.name.clone();
    let kubeconfig_admin = ns.plane.kubeconfig.clone();
    let kubectl_bin = ns.plane.kubectl_path();
    let flag = fired.clone();
    let proxy = Proxy::start(
        ns.plane,
        proxy::Options {
            before: Some(Arc::new(move |r: &proxy::Request| {
                if r.method == "PATCH" && !flag.swap(true, Ordering::SeqCst) {
                    std::process::Command::new(&kubectl_bin)
                        .arg("--kubeconfig")
                        .arg(&kubeconfig_admin)
                        .args([
                            "-n",
                            &ns_name,
                            "annotate",
                            "deploy/blog",
                            "other-writer=was-here",
                        ])
                        .run()
                        .success();
                    // A Deployment's generation counts annotation changes too, so the
                    // deployment controller writes observedGeneration next: let that
                    // second write happen before the PATCH, for exactly one conflict.
                    super::wait_until(
                        "the controller to observe the annotation",
                        Duration::from_secs(60),
                        || {
                            let obj = std::process::Command::new(&kubectl_bin)
                                .arg("--kubeconfig")
                                .arg(&kubeconfig_admin)
                                .args(["-n", &ns_name, "get", "deploy/blog", "-o", "json"])
                                .run()
                                .success()
                                .json();
                            obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
                        },
                    );
                }
            })),
            ..Default::default()
        },
    );
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    ns.warpdrive()
        .args([
            "tune",
            "deploy/blog",
            "--threads",
            "7",
            "--no-wait",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .run()
        .success();
    assert!(fired.load(Ordering::SeqCst));
    let log: Vec<(String, u16)> = proxy
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.status))
        .collect();
    // The real apiserver answers a failed JSON-Patch `test` with 422 Invalid.
    assert_eq!(
        log,
        [
            ("GET".into(), 200),
            ("PATCH".into(), 422),
            ("GET".into(), 200),
            ("PATCH".into(), 200)
        ]
    );
    let obj = ns.get("deploy/blog");
    assert_eq!(obj["metadata"]["annotations"]["other-writer"], "was-here");
    assert_eq!(
        super::env_of(&obj, 0),
        ["MOD_WSGI_PROCESSES=1", "OTHER=x", "MOD_WSGI_THREADS=7"]
    );
}

#[test]
fn concurrent_writers_lose_no_update() {
    let Some(ns) = Ns::new("tune-concurrent") else {
        return;
    };
    blog(&ns);
    // A second client annotating as fast as it can, all along.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, cmd) = (stop.clone(), ns.kubectl_cmd());
        let program = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                std::process::Command::new(&program)
                    .args(&args)
                    .args([
                        "annotate",
                        "--overwrite",
                        "deploy/blog",
                        &format!("writer={n}"),
                    ])
                    .run()
                    .success();
            }
            n
        })
    };
    for round in 0..3 {
        let p = (round + 2).to_string();
        let t = (round + 20).to_string();
        // Each tune retries on its own; against a writer that never stops it
        // may still lose every attempt, and then it stores nothing and says
        // to run it again: so do that (how often depends on the machine's
        // load, what is stored does not).
        let spawn = |args: &[&str]| {
            let mut cmd = ns.warpdrive();
            cmd.args(args).args(["-n", &ns.name]);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let out = cmd.run();
                    if out.code() == Some(0) {
                        return;
                    }
                    let out = out
                        .status(1)
                        .stderr_has("kept changing while it was being updated");
                    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
                }
                panic!("50 runs of {cmd:?} lost to the other writers");
            })
        };
        let a = spawn(&["tune", "deploy/blog", "--processes", &p, "--no-wait"]);
        let b = spawn(&["tune", "deploy/blog", "--threads", &t, "--no-wait"]);
        for h in [a, b] {
            h.join().expect("join");
        }
        let env = ns.env("deploy/blog", 0);
        assert!(
            env.contains(&format!("MOD_WSGI_PROCESSES={p}")),
            "round {round}: {env:?}"
        );
        assert!(
            env.contains(&format!("MOD_WSGI_THREADS={t}")),
            "round {round}: {env:?}"
        );
        assert!(
            env.contains(&"OTHER=x".to_string()),
            "round {round}: {env:?}"
        );
    }
    stop.store(true, Ordering::SeqCst);
    let n = writer.join().expect("writer");
    let obj = ns.get("deploy/blog");
    assert_eq!(obj["metadata"]["annotations"]["writer"], n.to_string());
}

#[test]
fn server_and_client_dry_runs_store_nothing() {
    let Some(ns) = Ns::new("tune-dry-run") else {
        return;
    };
    blog(&ns);
    let before = ns.get("deploy/blog");
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let via_proxy = |args: &[&str]| {
        ns.warpdrive()
            .args(["tune", "deploy/blog", "--threads", "12"])
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .run()
    };
    let out = via_proxy(&["--dry-run=server", "-o", "json"])
        .success()
        .stderr_has("MOD_WSGI_THREADS  (unset) → 12");
    // The server dry run is the PATCH with dryRun=All.
    let patches: Vec<proxy::Request> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(patches[0].query("dryRun").as_deref(), Some("All"));
    assert_eq!(
        patches[0].query("fieldManager").as_deref(),
        Some("kubectl-warpdrive")
    );
    // The object the server computed, not stored.
    let printed = out.json();
    assert_eq!(
        super::env_of(&printed, 0),
        ["MOD_WSGI_PROCESSES=1", "OTHER=x", "MOD_WSGI_THREADS=12"]
    );
    let after = ns.get("deploy/blog");
    assert_eq!(
        after["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    assert_eq!(
        after["metadata"]["generation"],
        before["metadata"]["generation"]
    );
    assert_eq!(
        super::env_of(&after, 0),
        ["MOD_WSGI_PROCESSES=1", "OTHER=x"]
    );
    for flag in ["--dry-run=client", "--dry-run"] {
        proxy.clear();
        let out = via_proxy(&[flag, "-o", "yaml"])
            .success()
            .stderr_has("MOD_WSGI_THREADS  (unset) → 12");
        let printed: Value = serde_yaml::from_str(out.stdout()).expect("yaml on stdout");
        assert_eq!(
            printed.pointer("/spec/template/spec/containers/0/env/2"),
            Some(&json!({"name": "MOD_WSGI_THREADS", "value": "12"})),
            "{flag}"
        );
        // Nothing but the GET was sent.
        let log = proxy.requests();
        assert!(log.iter().all(|r| r.method == "GET"), "{flag}: {log:?}");
        assert_eq!(
            rv(&ns, "deploy/blog"),
            before["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
        );
    }
    // -o prints what the server stored (controllers write the status after it).
    let stored = ns
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "12",
            "--no-wait",
            "-o",
            "json",
        ])
        .success()
        .json();
    let now = ns.get("deploy/blog");
    assert_eq!(
        stored["metadata"]["generation"],
        now["metadata"]["generation"]
    );
    assert_eq!(
        before["metadata"]["generation"].as_i64().map(|g| g + 1),
        now["metadata"]["generation"].as_i64()
    );
    assert_eq!(super::env_of(&stored, 0), super::env_of(&now, 0));
    assert_ne!(
        stored["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
}

/// A Role `NAME` with `verbs` on deployments, bound to a user or a group.
fn role(ns: &Ns, name: &str, verbs: &[&str], subject: (&str, &str)) {
    ns.apply(&[
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": name},
            "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": verbs}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": subject.0, "name": subject.1}],
        }),
    ]);
}

#[test]
fn rbac_denials_through_as_are_one_line_and_change_nothing() {
    let Some(ns) = Ns::new("tune-rbac") else {
        return;
    };
    blog(&ns);
    role(&ns, "reader", &["get", "list", "watch"], ("User", "alice"));
    role(
        &ns,
        "editor",
        &["get", "list", "watch", "patch"],
        ("Group", "editors"),
    );
    let before = rv(&ns, "deploy/blog");
    // alice may read but not patch.
    let out = ns
        .run(&["tune", "deploy/blog", "--threads", "3", "--as", "alice"])
        .failure();
    let err = out.stderr();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: cannot patch deployments.apps in namespace {}: deployments.apps \"blog\" is forbidden: User \"alice\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"{}\"",
            ns.name, ns.name
        )),
        "{err}"
    );
    assert!(err.contains("ask a cluster admin"), "{err}");
    // A bare name: the forbidden DeploymentConfig lookup does not hide the Deployment.
    ns.run(&["tune", "blog", "--threads", "3", "--as", "alice"])
        .failure()
        .stderr_has("cannot patch deployments.apps");
    // bob may do nothing at all.
    let out = ns
        .run(&["tune", "deploy/blog", "--threads", "3", "--as", "bob"])
        .failure();
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert!(
        out.stderr().contains(&format!(
            "error: cannot get deployments.apps in namespace {}",
            ns.name
        )),
        "{}",
        out.stderr()
    );
    // A bare name for bob: both lookups forbidden, the Deployment's is the error.
    ns.run(&["tune", "blog", "--threads", "4", "--no-wait", "--as", "bob"])
        .failure()
        .stderr_has(&format!(
            "cannot get deployments.apps in namespace {}",
            ns.name
        ));
    assert_eq!(rv(&ns, "deploy/blog"), before);
    // --as-group: carol is allowed through the group "editors".
    ns.run(&[
        "tune",
        "deploy/blog",
        "--threads",
        "3",
        "--no-wait",
        "--as",
        "carol",
        "--as-group",
        "editors",
    ])
    .success();
    assert!(ns
        .env("deploy/blog", 0)
        .contains(&"MOD_WSGI_THREADS=3".to_string()));
    let fields = managed_fields(&ns, "deploy/blog");
    assert_eq!(
        owned_env(&fields, "kubectl-warpdrive"),
        ["MOD_WSGI_THREADS"]
    );
}

#[test]
fn missing_objects_and_namespaces_are_bad_input() {
    let Some(ns) = Ns::new("tune-404") else {
        return;
    };
    blog(&ns);
    ns.run(&["tune", "deploy/nope", "--threads", "3"])
        .bad_input()
        .stderr_has(&format!(
            "deployment \"nope\" not found in namespace {}",
            ns.name
        ));
    ns.run(&["tune", "sts/nope", "--threads", "3"])
        .bad_input()
        .stderr_has(&format!(
            "statefulset \"nope\" not found in namespace {}",
            ns.name
        ));
    ns.run(&["tune", "dc/nope", "--threads", "3"])
        .bad_input()
        .stderr_has(&format!(
            "deploymentconfig \"nope\" not found in namespace {}",
            ns.name
        ));
    ns.run(&["tune", "nope", "--threads", "3"])
        .bad_input()
        .stderr_has(&format!(
            "no deployment or deploymentconfig named \"nope\" in namespace {}",
            ns.name
        ));
    ns.warpdrive()
        .args([
            "tune",
            "deploy/blog",
            "--threads",
            "3",
            "-n",
            "no-such-namespace",
        ])
        .run()
        .bad_input()
        .stderr_has("deployment \"blog\" not found in namespace no-such-namespace");
}

#[test]
fn kubectl_set_env_and_tune_make_the_same_env() {
    let Some(ns) = Ns::new("tune-set-env") else {
        return;
    };
    let env = [
        ("MOD_WSGI_PROCESSES", "1"),
        ("OTHER", "x"),
        ("MOD_WSGI_RELOAD_ON_CHANGES", "1"),
    ];
    ns.apply(&[
        deployment("a", 1, json!([container("web", &env)])),
        deployment("b", 1, json!([container("web", &env)])),
    ]);
    ns.run(&[
        "tune",
        "deploy/a",
        "--processes",
        "3",
        "--threads",
        "15",
        "--unset",
        "MOD_WSGI_RELOAD_ON_CHANGES",
        "--no-wait",
    ])
    .success();
    // kubectl speaks strategic merge patch to the real server.
    ns.kubectl(&[
        "set",
        "env",
        "deploy/b",
        "MOD_WSGI_PROCESSES=3",
        "MOD_WSGI_THREADS=15",
        "MOD_WSGI_RELOAD_ON_CHANGES-",
    ])
    .success();
    let a = ns.env("deploy/a", 0);
    assert_eq!(a, ns.env("deploy/b", 0));
    assert_eq!(
        a,
        ["MOD_WSGI_PROCESSES=3", "OTHER=x", "MOD_WSGI_THREADS=15"]
    );
    // The same object, both clients: each sees the other's writes.
    ns.kubectl(&["set", "env", "deploy/a", "MOD_WSGI_THREADS=20"])
        .success();
    let ours = ns.run(&["tune", "deploy/a", "--list"]).success();
    let theirs = ns.kubectl(&["set", "env", "deploy/a", "--list"]).success();
    let values = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(values(ours.stdout()), values(theirs.stdout()));
    assert_eq!(
        values(ours.stdout()),
        ["MOD_WSGI_PROCESSES=3", "OTHER=x", "MOD_WSGI_THREADS=20"]
    );
    ns.run(&["tune", "deploy/a", "--threads", "21", "--no-wait"])
        .success()
        .stdout_has("MOD_WSGI_THREADS  20 → 21");
    ns.kubectl(&["set", "env", "deploy/a", "--list"])
        .success()
        .stdout_has("MOD_WSGI_THREADS=21");
    // kubectl took MOD_WSGI_THREADS over, then the plugin again.
    let fields = managed_fields(&ns, "deploy/a");
    assert!(
        owned_env(&fields, "kubectl-warpdrive").contains(&"MOD_WSGI_THREADS".to_string()),
        "{fields:#?}"
    );
    assert!(
        owned_env(&fields, "kubectl-set").is_empty()
            || !owned_env(&fields, "kubectl-set").contains(&"MOD_WSGI_THREADS".to_string()),
        "{fields:#?}"
    );
}

#[test]
fn valuefrom_variables_are_never_overwritten() {
    let Some(ns) = Ns::new("tune-valuefrom") else {
        return;
    };
    let mut web = container("web", &[("OTHER", "x")]);
    web["env"].as_array_mut().expect("env").push(json!({
        "name": "MOD_WSGI_THREADS",
        "valueFrom": {"configMapKeyRef": {"name": "tuning", "key": "threads"}}
    }));
    ns.apply(&[
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tuning"}, "data": {"threads": "5"}}),
        deployment("blog", 1, json!([web])),
    ]);
    ns.rolled_out("deploy/blog");
    let before = rv(&ns, "deploy/blog");
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    ns.warpdrive()
        .args(["tune", "deploy/blog", "--threads", "9", "--kubeconfig"])
        .arg(&kubeconfig)
        .run()
        .bad_input()
        .stderr_has("MOD_WSGI_THREADS is set from configmap tuning, key threads (valueFrom)");
    assert_eq!(rv(&ns, "deploy/blog"), before);
    let log = proxy.requests();
    assert!(log.iter().all(|r| r.method == "GET"), "{log:?}");
    // --list names the source instead of a value.
    ns.run(&["tune", "deploy/blog", "--list"])
        .success()
        .stdout_is("# Deployment blog, container web\nOTHER=x\n# MOD_WSGI_THREADS from configmap tuning, key threads\n");
}

#[test]
fn rollouts_that_cannot_finish_fail_like_kubectl_rollout_status() {
    let Some(ns) = Ns::new("tune-stuck") else {
        return;
    };
    // Pods that no node accepts stay Pending: the rollout can never finish.
    let mut stuck = deployment("stuck", 1, json!([container("web", &[])]));
    stuck["spec"]["progressDeadlineSeconds"] = json!(2);
    stuck["spec"]["template"]["spec"]["nodeSelector"] = json!({"no-such-label": "x"});
    let mut slow = deployment("slow", 1, json!([container("web", &[])]));
    slow["spec"]["template"]["spec"]["nodeSelector"] = json!({"no-such-label": "x"});
    ns.apply(&[stuck, slow]);
    // The deployment controller gives up after progressDeadlineSeconds.
    let out = ns
        .run(&[
            "tune",
            "deploy/stuck",
            "--threads",
            "3",
            "--timeout",
            "120s",
        ])
        .failure();
    let err = out.stderr();
    assert!(
        err.contains("deployment \"stuck\" exceeded its progress deadline")
            && err.contains("ProgressDeadlineExceeded"),
        "{err}"
    );
    let theirs = ns
        .kubectl(&["rollout", "status", "deploy/stuck", "--timeout=60s"])
        .failure();
    assert!(
        theirs.stderr().contains("exceeded its progress deadline"),
        "{}",
        theirs.stderr()
    );
    // --timeout: both give up, with the state they were waiting in.
    let out = ns
        .run(&["tune", "deploy/slow", "--threads", "3", "--timeout", "2s"])
        .failure();
    assert!(
        out.stderr()
            .contains("timed out after 2s waiting for deployment/slow")
            && out
                .stderr()
                .contains("1 old replicas are pending termination")
            // and the last condition the controller wrote
            && out.stderr().contains("(Progressing=True "),
        "{}",
        out.stderr()
    );
    let theirs = ns
        .kubectl_cmd()
        .args(["rollout", "status", "deploy/slow", "--timeout=2s"])
        .run_within(Duration::from_secs(60));
    assert_ne!(theirs.code(), Some(0), "{}", theirs.stderr());
    assert!(
        theirs
            .both()
            .contains("1 old replicas are pending termination"),
        "{}",
        theirs.both()
    );
}

#[test]
fn container_selection_by_flag_and_annotation() {
    let Some(ns) = Ns::new("tune-containers") else {
        return;
    };
    let mut annotated = deployment(
        "annotated",
        1,
        json!([container("proxy", &[]), container("web", &[])]),
    );
    annotated["spec"]["template"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/default-container": "web"});
    ns.apply(&[
        deployment(
            "two",
            1,
            json!([container("web", &[]), container("proxy", &[])]),
        ),
        annotated,
    ]);
    ns.run(&["tune", "deploy/two", "--threads", "9"])
        .bad_input()
        .stderr_has("has 2 containers: pick one with -c (web, proxy)");
    ns.run(&["tune", "deploy/two", "-c", "nginx", "--threads", "9"])
        .bad_input()
        .stderr_has("no container \"nginx\"");
    ns.run(&[
        "tune",
        "deploy/two",
        "-c",
        "proxy",
        "--threads",
        "9",
        "--no-wait",
    ])
    .success();
    assert!(ns.env("deploy/two", 0).is_empty());
    assert_eq!(ns.env("deploy/two", 1), ["MOD_WSGI_THREADS=9"]);
    ns.run(&["tune", "deploy/annotated", "--processes", "2", "--no-wait"])
        .success();
    assert!(ns.env("deploy/annotated", 0).is_empty());
    assert_eq!(ns.env("deploy/annotated", 1), ["MOD_WSGI_PROCESSES=2"]);
}

#[test]
fn bad_values_send_nothing_and_unchanged_values_send_no_write() {
    let Some(ns) = Ns::new("tune-validation") else {
        return;
    };
    blog(&ns);
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let kc = kubeconfig.to_str().expect("utf8");
    for (args, needle) in [
        (
            vec!["--processes", "0"],
            "MOD_WSGI_PROCESSES=\"0\" is not valid: expected a whole number from 1 to 256",
        ),
        (
            vec!["--threads", "many"],
            "MOD_WSGI_THREADS=\"many\" is not valid",
        ),
        (vec!["--threads", "513"], "from 1 to 512"),
        (
            vec!["--set", "MOD_WSGI_THREADS"],
            "expected MOD_WSGI_NAME=VALUE",
        ),
        (
            vec!["--set", "MOD_WSGI_SERVER_MPM=threaded"],
            "one of event, worker, prefork",
        ),
        (
            vec!["--set", "DEBUG=1"],
            "tune only sets MOD_WSGI_* variables",
        ),
        (
            vec!["--threads", "5", "--set", "MOD_WSGI_THREADS=6"],
            "given more than once",
        ),
        (vec![], "nothing to change"),
        (
            vec!["--timeout", "soon", "--threads", "2"],
            "--timeout \"soon\" is not a duration",
        ),
    ] {
        let mut all = vec!["tune", "deploy/blog", "--kubeconfig", kc];
        all.extend(args.iter());
        let out = ns.warpdrive().args(&all).run().bad_input();
        assert!(out.stderr().contains(needle), "{args:?}: {}", out.stderr());
    }
    // kubectl set env's positional forms are checked the same way, and so
    // are the connection flags; all before any request.
    for (args, needle) in [
        (
            vec!["deploy/blog", "MOD_WSGI_THREADS=many"],
            "MOD_WSGI_THREADS=many: ",
        ),
        (vec!["deploy/blog", "PATH=/bin"], "kubectl set env"),
        (
            vec!["deploy/blog", "MOD_WSGI_THREADS=2", "deploy/other"],
            "put TARGETs first",
        ),
        (
            vec!["deploy/blog", "MOD_WSGI_THREADS=2", "--threads", "3"],
            "more than once",
        ),
        (
            vec!["-l", "tier=web", "--threads", "4"],
            "-l needs the kind",
        ),
        (
            vec!["deploy/blog", "--threads", "4", "--as-group", "devs"],
            "--as-group",
        ),
    ] {
        let mut all = vec!["tune"];
        all.extend(args.iter());
        all.extend(["--kubeconfig", kc]);
        let out = ns.warpdrive().args(&all).run().bad_input();
        assert!(out.stderr().contains(needle), "{args:?}: {}", out.stderr());
    }
    ns.warpdrive()
        .args([
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--kubeconfig",
            "/nonexistent/kc",
        ])
        .run()
        .bad_input()
        .stderr_has("kubeconfig /nonexistent/kc does not exist");
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // --list prints, an unset removes, a value it already has sends no write.
    ns.run(&["tune", "deploy/blog", "--list"])
        .success()
        .stdout_is("# Deployment blog, container web\nMOD_WSGI_PROCESSES=1\nOTHER=x\n");
    ns.run(&[
        "tune",
        "deploy/blog",
        "--unset",
        "MOD_WSGI_PROCESSES",
        "--set",
        "MOD_WSGI_ACCESS_LOG=1",
    ])
    .success()
    .stdout_has("MOD_WSGI_PROCESSES   1 → (unset)");
    assert_eq!(
        ns.env("deploy/blog", 0),
        ["OTHER=x", "MOD_WSGI_ACCESS_LOG=1"]
    );
    ns.rolled_out("deploy/blog");
    proxy.clear();
    ns.warpdrive()
        .args([
            "tune",
            "deploy/blog",
            "--set",
            "MOD_WSGI_ACCESS_LOG=1",
            "--kubeconfig",
            kc,
        ])
        .run()
        .success()
        .stderr_has("nothing to change")
        .stdout_has("MOD_WSGI_ACCESS_LOG  1 (unchanged)");
    let methods: Vec<String> = proxy.requests().iter().map(|r| r.method.clone()).collect();
    assert!(methods.iter().all(|m| m == "GET"), "{methods:?}");
    // An unknown MOD_WSGI_ name is a warning, and is set.
    ns.run(&[
        "tune",
        "deploy/blog",
        "--set",
        "MOD_WSGI_FROBNICATE=1",
        "--no-wait",
    ])
    .success()
    .stderr_has("warning: MOD_WSGI_FROBNICATE is not a MOD_WSGI_* knob");
    assert!(ns
        .env("deploy/blog", 0)
        .contains(&"MOD_WSGI_FROBNICATE=1".to_string()));
}

#[test]
fn recommend_reads_the_real_objects_resources() {
    let Some(ns) = Ns::new("tune-recommend") else {
        return;
    };
    ns.apply(&[deployment(
        "blog",
        1,
        json!([{"name": "web", "image": "app", "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}}]),
    )]);
    let before = ns.get("deploy/blog")["metadata"]["generation"].clone();
    ns.run(&["tune", "deploy/blog", "--recommend"])
        .success()
        .stdout_has("container web: CPU limit 2 cores → 2 processes (one per core, GIL); memory limit 1024 MiB fits (1024−41)/108 = 9 (the largest measured figures: no server type in the container); io profile → 15 threads per process")
        .stdout_has("recommended: 2 processes × 15 threads")
        .stdout_has(&format!(
            "kubectl warpdrive tune deployment/blog -n {} --processes 2 --threads 15",
            ns.name
        ));
    assert_eq!(ns.get("deploy/blog")["metadata"]["generation"], before);
    ns.run(&[
        "tune",
        "deploy/blog",
        "--recommend",
        "--profile",
        "cpu",
        "--apply",
        "--no-wait",
    ])
    .success()
    .stdout_has("recommended: 2 processes × 2 threads");
    assert_eq!(
        ns.env("deploy/blog", 0),
        ["MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=2"]
    );
    // A container that names its server type gets that server's measured
    // figures: waitress is one process whatever fits; uWSGI's small workers
    // fit where the largest figures would not.
    ns.apply(&[
        deployment(
            "w",
            1,
            json!([{"name": "web", "image": "app",
                    "env": [{"name": "WARPDRIVE_SERVER_TYPE", "value": "waitress"}],
                    "resources": {"limits": {"cpu": "4", "memory": "1Gi"}}}]),
        ),
        deployment(
            "u",
            1,
            json!([{"name": "web", "image": "app",
                    "args": ["--server-type", "uwsgi"],
                    "resources": {"limits": {"cpu": "8", "memory": "512Mi"}}}]),
        ),
    ]);
    ns.run(&["tune", "deploy/w", "--recommend"])
        .success()
        .stdout_has("(waitress's measured figures); waitress is one process;")
        .stdout_has("recommended: 1 process × 15 threads");
    ns.run(&["tune", "deploy/u", "--recommend", "--profile", "cpu"])
        .success()
        .stdout_has("memory limit 512 MiB fits (512−41)/46 = 10 (uwsgi's measured figures)")
        .stdout_has("recommended: 8 processes × 2 threads");
}

/// The admin kubeconfig's cluster and user entries (server, CA, client cert).
fn admin_entries(ns: &Ns) -> (serde_yaml::Value, serde_yaml::Value) {
    let text = std::fs::read_to_string(&ns.plane.kubeconfig).expect("kubeconfig");
    let kc: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    (
        kc["clusters"][0]["cluster"].clone(),
        kc["users"][0]["user"].clone(),
    )
}

fn write_yaml(path: &std::path::Path, v: &serde_yaml::Value) {
    std::fs::write(path, serde_yaml::to_string(v).expect("yaml")).expect("write");
}

/// The plugin with HOME in `home`, no KUBECONFIG unless given, no `-n`.
fn run_env(
    ns: &Ns,
    home: &std::path::Path,
    kubeconfig_env: Option<&std::ffi::OsStr>,
    args: &[&str],
) -> crate::support::Outcome {
    let mut cmd = crate::support::warpdrive();
    cmd.env("HOME", home)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(args);
    if let Some(v) = kubeconfig_env {
        cmd.env("KUBECONFIG", v);
    }
    let _ = ns;
    cmd.run()
}

#[test]
fn kubeconfig_files_merge_and_the_context_namespace_is_the_default() {
    let Some(ns) = Ns::new("tune-kubeconfig") else {
        return;
    };
    blog(&ns);
    let (cluster, user) = admin_entries(&ns);
    let dead = crate::support::free_port();
    let home = ns.scratch("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    // File one: contexts only (current: the test's namespace); file two: clusters and users.
    let one = home.join("one");
    let two = home.join("two");
    write_yaml(&one, &serde_yaml::to_value(json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "team",
        "contexts": [
            {"name": "team", "context": {"cluster": "real", "user": "admin", "namespace": ns.name}},
            {"name": "other", "context": {"cluster": "dead", "user": "admin"}},
        ],
    })).expect("value"));
    let mut clusters = serde_yaml::to_value(json!([
        {"name": "dead", "cluster": {"server": format!("http://127.0.0.1:{dead}")}},
    ]))
    .expect("value");
    if let serde_yaml::Value::Sequence(s) = &mut clusters {
        let mut real = serde_yaml::Mapping::new();
        real.insert("name".into(), "real".into());
        real.insert("cluster".into(), cluster);
        s.push(serde_yaml::Value::Mapping(real));
    }
    let mut users = serde_yaml::Mapping::new();
    users.insert("name".into(), "admin".into());
    users.insert("user".into(), user);
    let mut top = serde_yaml::Mapping::new();
    top.insert("apiVersion".into(), "v1".into());
    top.insert("kind".into(), "Config".into());
    top.insert("clusters".into(), clusters);
    top.insert(
        "users".into(),
        serde_yaml::Value::Sequence(vec![serde_yaml::Value::Mapping(users)]),
    );
    write_yaml(&two, &serde_yaml::Value::Mapping(top));
    let list = std::ffi::OsString::from(format!("{}:{}", one.display(), two.display()));
    run_env(
        &ns,
        &home,
        Some(&list),
        &["tune", "deploy/blog", "--threads", "4", "--no-wait"],
    )
    .success();
    assert!(ns
        .env("deploy/blog", 0)
        .contains(&"MOD_WSGI_THREADS=4".to_string()));
    let out = run_env(
        &ns,
        &home,
        Some(&list),
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--context",
            "other",
        ],
    )
    .failure()
    .stderr_has(&format!(
        "cannot reach the Kubernetes API server at http://127.0.0.1:{dead}"
    ));
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    run_env(
        &ns,
        &home,
        Some(&list),
        &["tune", "deploy/blog", "--threads", "4", "--context", "nope"],
    )
    .bad_input();
    // ~/.kube/config is the default; without any, a clear error.
    run_env(&ns, &home, None, &["tune", "deploy/blog", "--threads", "4"])
        .bad_input()
        .stderr_has("no kubeconfig found");
    std::fs::create_dir_all(home.join(".kube")).expect("mkdir");
    std::fs::copy(&ns.plane.kubeconfig, home.join(".kube/config")).expect("copy");
    run_env(
        &ns,
        &home,
        None,
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "5",
            "-n",
            &ns.name,
            "--no-wait",
        ],
    )
    .success();
    assert!(ns
        .env("deploy/blog", 0)
        .contains(&"MOD_WSGI_THREADS=5".to_string()));
}

#[test]
fn cluster_user_and_impersonation_flags_reach_the_real_server() {
    let Some(ns) = Ns::new("tune-flags") else {
        return;
    };
    blog(&ns);
    // Only the group "ops" may patch; alice alone may not.
    role(&ns, "ops", &["get", "list", "patch"], ("Group", "ops"));
    let (cluster, user) = admin_entries(&ns);
    let dead = crate::support::free_port();
    let mut real = serde_yaml::Mapping::new();
    real.insert("name".into(), "real".into());
    real.insert("cluster".into(), cluster);
    let mut admin = serde_yaml::Mapping::new();
    admin.insert("name".into(), "admin".into());
    admin.insert("user".into(), user);
    let rest: serde_yaml::Value = serde_yaml::to_value(json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "main",
        "contexts": [{"name": "main", "context": {"cluster": "dead", "user": "stranger"}}],
        "clusters": [{"name": "dead", "cluster": {"server": format!("http://127.0.0.1:{dead}")}}],
        "users": [{"name": "stranger", "user": {"token": "not-a-valid-token"}}],
    }))
    .expect("value");
    let mut top = rest;
    if let serde_yaml::Value::Sequence(s) = &mut top["clusters"] {
        s.push(serde_yaml::Value::Mapping(real));
    }
    if let serde_yaml::Value::Sequence(s) = &mut top["users"] {
        s.push(serde_yaml::Value::Mapping(admin));
    }
    let kc = ns.scratch("multi");
    write_yaml(&kc, &top);
    let kc = kc.to_str().expect("utf8");
    let home = ns.dir.path();
    let base = [
        "tune",
        "deploy/blog",
        "--threads",
        "4",
        "--no-wait",
        "--kubeconfig",
        kc,
        "--cluster",
        "real",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter()
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let args = with(&[
        "--user",
        "admin",
        "-n",
        &ns.name,
        "--as",
        "alice",
        "--as-group",
        "devs",
        "--as-group",
        "ops",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_env(&ns, home, None, &args).success();
    assert!(ns
        .env("deploy/blog", 0)
        .contains(&"MOD_WSGI_THREADS=4".to_string()));
    // Every request carries the impersonation and the namespace (once the
    // controller is done writing, so that no conflict adds requests).
    ns.rolled_out("deploy/blog");
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let via = ns.proxy_kubeconfig(&proxy);
    run_env(
        &ns,
        home,
        None,
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "5",
            "--no-wait",
            "--kubeconfig",
            via.to_str().expect("utf8"),
            "-n",
            &ns.name,
            "--as",
            "alice",
            "--as-group",
            "devs",
            "--as-group",
            "ops",
        ],
    )
    .success();
    let log = proxy.requests();
    assert_eq!(log.len(), 2, "{log:?}");
    for r in &log {
        assert_eq!(r.impersonate_user, "alice", "{r:?}");
        assert_eq!(r.impersonate_groups, ["devs", "ops"], "{r:?}");
        assert!(
            r.target.contains(&format!("/namespaces/{}/", ns.name)),
            "{r:?}"
        );
    }
    // Without the group: refused by the real RBAC, naming alice.
    let args = with(&[
        "--user",
        "admin",
        "-n",
        &ns.name,
        "--as",
        "alice",
        "--as-group",
        "devs",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_env(&ns, home, None, &args)
        .failure()
        .stderr_has("User \"alice\" cannot get resource \"deployments\"");
    // A token the real server does not know: 401, one line.
    let args = with(&["--user", "stranger", "-n", &ns.name]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_env(&ns, home, None, &args).failure();
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert!(
        out.stderr().contains("did not accept your credentials"),
        "{}",
        out.stderr()
    );
}

#[test]
fn a_422_for_an_object_that_did_not_move_is_reported_not_retried() {
    let Some(ns) = Ns::new("tune-invalid") else {
        return;
    };
    blog(&ns);
    // A real admission policy that refuses MOD_WSGI_THREADS above 8 as Invalid (422).
    let name = format!("warpdrive-threads-{}", ns.name);
    let policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments"]}]},
            "validations": [{
                "expression": "!object.spec.template.spec.containers.exists(c, has(c.env) && c.env.exists(e, e.name == 'MOD_WSGI_THREADS' && has(e.value) && int(e.value) > 8))",
                "message": "MOD_WSGI_THREADS above 8 is not allowed here",
                "reason": "Invalid",
            }],
        }
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns.name}}},
        }
    });
    ns.apply(&[policy, binding]);
    // The apiserver loads policies in the background: wait until it denies.
    ns.wait_until(
        "the admission policy to apply",
        Duration::from_secs(60),
        || {
            let out = ns.kubectl(&[
                "set",
                "env",
                "deploy/blog",
                "MOD_WSGI_THREADS=9",
                "--dry-run=server",
            ]);
            out.code() != Some(0) && out.stderr().contains("not allowed here")
        },
    );
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let out = ns
        .warpdrive()
        .args(["tune", "deploy/blog", "--threads", "9", "--kubeconfig"])
        .arg(&kubeconfig)
        .run()
        .bad_input();
    assert!(
        out.stderr().contains(&format!(
            "error: the API server rejected the change to deployment/blog in namespace {}:",
            ns.name
        )) && out
            .stderr()
            .contains("MOD_WSGI_THREADS above 8 is not allowed here"),
        "{}",
        out.stderr()
    );
    let patches: Vec<u16> = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.status)
        .collect();
    assert_eq!(patches, [422], "not retried");
    ns.run(&["tune", "deploy/blog", "--threads", "8", "--no-wait"])
        .success();
    for kind in [
        "validatingadmissionpolicybinding",
        "validatingadmissionpolicy",
    ] {
        ns.admin(&["delete", kind, &name, "--wait=false"]).success();
    }
}

#[test]
fn warpdrive_exec_never_touches_the_cluster() {
    let Some(ns) = Ns::new("exec-no-cluster") else {
        return;
    };
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let app = ns.scratch("app");
    std::fs::create_dir_all(&app).expect("mkdir");
    crate::support::warpdrive()
        .env("KUBECONFIG", &kubeconfig)
        .args(["exec", "--dry-run", "--app-root"])
        .arg(&app)
        .args(["--", "echo", "hi"])
        .run()
        .success();
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // The same kubeconfig does reach the cluster for a cluster command.
    crate::support::warpdrive()
        .env("KUBECONFIG", &kubeconfig)
        .args(["tune", "deploy/nope", "--list"])
        .run()
        .bad_input();
    assert_eq!(proxy.requests().len(), 1);
}
