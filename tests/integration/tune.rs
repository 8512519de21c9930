//! `kubectl warpdrive tune` against the API-server double.

use std::time::Duration;

use serde_json::json;

use crate::apiserver::{container, ApiServer, DEPLOYMENTCONFIGS, DEPLOYMENTS};
use crate::support::{Checked, Outcome, RunExt};

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
    let out = server
        .run(&["tune", "deploy/blog", "--processes", "3", "--threads", "15"])
        .success();
    let stdout = out.stdout();
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
    server
        .run(&["tune", "deploy/blog", "--threads", "10", "--no-wait"])
        .success();
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

fn rv(server: &ApiServer) -> String {
    server.get(&DEPLOYMENTS, "default", "blog").unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
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
fn two_concurrent_tunes_lose_no_update() {
    let server = ApiServer::start();
    blog(&server);
    // Slow answers make both processes read the same resourceVersion.
    server.set_latency(Duration::from_millis(150));
    for round in 0..3 {
        let p = (round + 2).to_string();
        let t = (round + 20).to_string();
        let spawn = |args: &[&str]| {
            let mut cmd = crate::support::warpdrive();
            cmd.args(args).arg("--kubeconfig").arg(server.kubeconfig());
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            crate::support::spawn(&mut cmd)
        };
        let a = spawn(&["tune", "deploy/blog", "--processes", &p, "--no-wait"]);
        let b = spawn(&["tune", "deploy/blog", "--threads", &t, "--no-wait"]);
        for guard in [a, b] {
            guard
                .into_child()
                .wait_with_output()
                .expect("wait")
                .check()
                .success();
        }
        let env = server.env(&DEPLOYMENTS, "blog", "web");
        assert!(
            env.contains(&format!("MOD_WSGI_PROCESSES={p}")),
            "round {round}: {env:?}"
        );
        assert!(
            env.contains(&format!("MOD_WSGI_THREADS={t}")),
            "round {round}: {env:?}"
        );
    }
    let log = server.requests();
    let conflicts = log
        .iter()
        .filter(|r| r.method == "PATCH" && r.status == 409)
        .count();
    let patches = log.iter().filter(|r| r.method == "PATCH").count();
    eprintln!(
        "3 rounds of 2 concurrent tunes: {patches} PATCHes, {conflicts} answered 409 and retried"
    );
}

#[test]
fn deploymentconfigs_and_bare_names() {
    let server = ApiServer::openshift();
    server.set_rollout_delay(Duration::from_millis(30));
    server.add_deploymentconfig("shop", 1, json!([container("web", &[])]));
    server
        .run(&["tune", "dc/shop", "--processes", "2", "--threads", "8"])
        .success()
        .stdout_has("deploymentconfig/shop successfully rolled out");
    assert_eq!(
        server.env(&DEPLOYMENTCONFIGS, "shop", "web"),
        ["MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=8"]
    );
    let obj = server.get(&DEPLOYMENTCONFIGS, "default", "shop").unwrap();
    assert_eq!(
        obj["status"]["conditions"][1]["reason"],
        "NewReplicationControllerAvailable"
    );
    // A bare name finds the DeploymentConfig (the Deployment lookup is a 404).
    server
        .run(&["tune", "shop", "--threads", "9", "--no-wait"])
        .success()
        .stdout_has("deploymentconfig/shop, container web");
    // Both kinds with one name: exit 2, ask for the kind, change nothing.
    blog(&server);
    server.add_deploymentconfig("blog", 1, json!([container("web", &[])]));
    server.clear_log();
    let out = server.run(&["tune", "blog", "--threads", "9"]).bad_input();
    let err = out.stderr();
    assert!(
        err.contains("both deployment/blog and deploymentconfig/blog exist")
            && err.contains("deploy/blog or dc/blog"),
        "{err}"
    );
    assert!(server.requests().iter().all(|r| r.method == "GET"));
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
fn container_selection() {
    let server = ApiServer::start();
    server.add_deployment(
        "two",
        1,
        json!([container("web", &[]), container("proxy", &[])]),
    );
    server
        .run(&["tune", "deploy/two", "--threads", "9"])
        .bad_input()
        .stderr_has("has 2 containers: pick one with -c (web, proxy)");
    server
        .run(&[
            "tune",
            "deploy/two",
            "-c",
            "proxy",
            "--threads",
            "9",
            "--no-wait",
        ])
        .success();
    assert_eq!(
        server.env(&DEPLOYMENTS, "two", "proxy"),
        ["MOD_WSGI_THREADS=9"]
    );
    assert!(server.env(&DEPLOYMENTS, "two", "web").is_empty());
    server
        .run(&["tune", "deploy/two", "-c", "nginx", "--threads", "9"])
        .bad_input()
        .stderr_has("no container \"nginx\"");
    // The default-container annotation picks one.
    let mut m = crate::apiserver::workload_manifest(
        &DEPLOYMENTS,
        "annotated",
        1,
        json!([container("proxy", &[]), container("web", &[])]),
    );
    m["spec"]["template"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/default-container": "web"});
    server.add(m);
    server
        .run(&["tune", "deploy/annotated", "--processes", "2", "--no-wait"])
        .success();
    assert_eq!(
        server.env(&DEPLOYMENTS, "annotated", "web"),
        ["MOD_WSGI_PROCESSES=2"]
    );
    assert!(server.env(&DEPLOYMENTS, "annotated", "proxy").is_empty());
}

#[test]
fn validation_happens_before_anything_is_sent() {
    let server = ApiServer::start();
    blog(&server);
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
            vec!["--set", "MOD_WSGI_SERVER_MPM=threaded"],
            "one of event, worker, prefork",
        ),
        (
            vec!["--set", "MOD_WSGI_THREADS"],
            "expected MOD_WSGI_NAME=VALUE",
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
        let mut all = vec!["tune", "deploy/blog"];
        all.extend(args.iter());
        let out = server.run(&all).bad_input();
        let err = out.stderr();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // An unknown MOD_WSGI_ name is a warning, not an error.
    server
        .run(&[
            "tune",
            "deploy/blog",
            "--set",
            "MOD_WSGI_FROBNICATE=1",
            "--no-wait",
        ])
        .success()
        .stderr_has("warning: MOD_WSGI_FROBNICATE is not a MOD_WSGI_* knob");
    assert!(server
        .env(&DEPLOYMENTS, "blog", "web")
        .contains(&"MOD_WSGI_FROBNICATE=1".to_string()));
}

#[test]
fn value_from_variables_are_never_overwritten() {
    let server = ApiServer::start();
    server.add_deployment(
        "blog",
        1,
        json!([{"name": "web", "image": "app", "env": [
            {"name": "MOD_WSGI_THREADS", "valueFrom": {"configMapKeyRef": {"name": "tuning", "key": "threads"}}}
        ]}]),
    );
    let before = rv(&server);
    server
        .run(&["tune", "deploy/blog", "--threads", "9"])
        .bad_input()
        .stderr_has("MOD_WSGI_THREADS is set from configmap tuning, key threads (valueFrom)");
    assert_eq!(rv(&server), before);
    assert_eq!(server.count("PATCH", "/blog"), 0);
    // --list names the source instead of a value.
    let list =
        "# Deployment blog, container web\n# MOD_WSGI_THREADS from configmap tuning, key threads\n";
    server
        .run(&["tune", "deploy/blog", "--list"])
        .stdout_is(list);
}

#[test]
fn list_and_unset() {
    let server = ApiServer::start();
    blog(&server);
    server
        .run(&["tune", "deploy/blog", "--list"])
        .success()
        .stdout_is("# Deployment blog, container web\nMOD_WSGI_PROCESSES=1\nOTHER=x\n");
    server
        .run(&[
            "tune",
            "deploy/blog",
            "--unset",
            "MOD_WSGI_PROCESSES",
            "--no-wait",
        ])
        .success()
        .stdout_has("MOD_WSGI_PROCESSES  1 → (unset)");
    assert_eq!(server.env(&DEPLOYMENTS, "blog", "web"), ["OTHER=x"]);
    // Setting a value it already has changes nothing and sends no write.
    server.wait_settled(&DEPLOYMENTS, "blog", Duration::from_secs(5));
    server.clear_log();
    server
        .run(&[
            "tune",
            "deploy/blog",
            "--set",
            "MOD_WSGI_ACCESS_LOG=1",
            "--no-wait",
        ])
        .success();
    server
        .run(&["tune", "deploy/blog", "--set", "MOD_WSGI_ACCESS_LOG=1"])
        .success()
        .stderr_has("nothing to change")
        .stdout_has("MOD_WSGI_ACCESS_LOG  1 (unchanged)");
    assert_eq!(server.count("PATCH", "/blog"), 1);
}

#[test]
fn dry_runs_leave_the_resource_version_alone() {
    let server = ApiServer::start();
    blog(&server);
    let before = rv(&server);
    let out = server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "12",
            "--dry-run=client",
            "-o",
            "yaml",
        ])
        .success();
    let printed: serde_json::Value = serde_yaml::from_str(out.stdout()).expect("yaml on stdout");
    assert_eq!(
        printed["spec"]["template"]["spec"]["containers"][0]["env"][2],
        json!({"name": "MOD_WSGI_THREADS", "value": "12"})
    );
    out.stderr_has("MOD_WSGI_THREADS  (unset) → 12");
    assert_eq!(
        server.count("PATCH", "/blog"),
        0,
        "client dry run sends no write"
    );
    assert_eq!(rv(&server), before);

    let out = server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "12",
            "--dry-run=server",
            "-o",
            "json",
        ])
        .success();
    let printed = out.json();
    assert_eq!(
        printed["spec"]["template"]["spec"]["containers"][0]["env"][2]["value"],
        "12"
    );
    let patch = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("server dry run sends the PATCH");
    assert_eq!(patch.query, "fieldManager=kubectl-warpdrive&dryRun=All");
    assert_eq!(rv(&server), before);
    assert!(!server
        .env(&DEPLOYMENTS, "blog", "web")
        .iter()
        .any(|e| e.starts_with("MOD_WSGI_THREADS")));
    // --dry-run alone means client.
    server
        .run(&["tune", "deploy/blog", "--threads", "12", "--dry-run"])
        .success();
    assert_eq!(server.count("PATCH", "/blog"), 1);
    assert_eq!(rv(&server), before);
}

#[test]
fn a_failed_or_slow_rollout_exits_1_with_the_last_condition() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(30));
    blog(&server);
    server.fail_rollouts(true);
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "3"])
        .failure();
    let err = out.stderr();
    assert!(
        err.contains("exceeded its progress deadline") && err.contains("ProgressDeadlineExceeded"),
        "{err}"
    );

    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_secs(30));
    blog(&server);
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "3", "--timeout", "1s"])
        .failure();
    let err = out.stderr();
    assert!(
        err.contains("timed out after 1s waiting for deployment/blog")
            && err.contains("Progressing=True NewReplicaSetAvailable"),
        "{err}"
    );
    assert!(
        err.contains("Waiting for deployment \"blog\" spec update to be observed"),
        "{err}"
    );
}

#[test]
fn api_errors_are_one_line_naming_the_object() {
    let server = ApiServer::start();
    blog(&server);
    server.deny("patch", "deployments");
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "3"])
        .failure();
    let err = out.stderr();
    assert!(err.starts_with("error: cannot patch deployments.apps in namespace default: deployments.apps \"blog\" is forbidden"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let out = server
        .run(&["tune", "deploy/nope", "--threads", "3"])
        .bad_input();
    let err = out.stderr();
    assert!(
        err.contains("deployment \"nope\" not found in namespace default"),
        "{err}"
    );

    let port = crate::support::free_port();
    let kc = server.dir().join("dead");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"),
    )
    .unwrap();
    let mut cmd = crate::support::warpdrive();
    cmd.args(["tune", "deploy/blog", "--threads", "3", "--kubeconfig"])
        .arg(&kc);
    let out = cmd.run_within(Duration::from_secs(60)).failure();
    let err = out.stderr();
    assert!(
        err.contains(&format!(
            "cannot reach the Kubernetes API server at http://127.0.0.1:{port}"
        )),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// A container that names its server type gets that server's measured
/// figures: waitress is one process whatever fits; uWSGI's small workers fit
/// where the largest figures would not.
#[test]
fn recommend_uses_the_figures_of_the_server_type_the_container_names() {
    let server = ApiServer::start();
    server.add_deployment(
        "w",
        1,
        json!([{"name": "web", "image": "app",
                "env": [{"name": "WARPDRIVE_SERVER_TYPE", "value": "waitress"}],
                "resources": {"limits": {"cpu": "4", "memory": "1Gi"}}}]),
    );
    server
        .run(&["tune", "deploy/w", "--recommend"])
        .success()
        .stdout_has("(waitress's measured figures); waitress is one process;")
        .stdout_has("recommended: 1 process × 15 threads");
    server.add_deployment(
        "u",
        1,
        json!([{"name": "web", "image": "app",
                "args": ["--server-type", "uwsgi"],
                "resources": {"limits": {"cpu": "8", "memory": "512Mi"}}}]),
    );
    server
        .run(&["tune", "deploy/u", "--recommend", "--profile", "cpu"])
        .success()
        .stdout_has("memory limit 512 MiB fits (512−41)/46 = 10 (uwsgi's measured figures)")
        .stdout_has("recommended: 8 processes × 2 threads");
}

#[test]
fn recommend_reads_resources_and_applies_only_with_apply() {
    let server = ApiServer::start();
    server.add_deployment(
        "blog",
        1,
        json!([{"name": "web", "image": "app", "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}}]),
    );
    let out = server
        .run(&["tune", "deploy/blog", "--recommend"])
        .success();
    let stdout = out.stdout();
    // The README quotes this line.
    assert!(
        stdout.contains("container web: CPU limit 2 cores → 2 processes (one per core, GIL); memory limit 1024 MiB fits (1024−41)/108 = 9 (the largest measured figures: no server type in the container); io profile → 15 threads per process"),
        "{stdout}"
    );
    assert!(
        stdout.contains("recommended: 2 processes × 15 threads"),
        "{stdout}"
    );
    // The command to paste names the namespace and the kubeconfig used.
    assert!(
        stdout.contains(&format!(
            "kubectl warpdrive tune deployment/blog -n default --kubeconfig {} --processes 2 --threads 15",
            server.kubeconfig().display()
        )),
        "{stdout}"
    );
    assert_eq!(server.count("PATCH", "/blog"), 0);
    server
        .run(&[
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
        server.env(&DEPLOYMENTS, "blog", "web"),
        ["MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=2"]
    );
}

/// The binary with no kubeconfig flag, HOME in an empty dir, and `KUBECONFIG` as given.
fn run_env(home: &std::path::Path, kubeconfig_env: Option<&str>, args: &[&str]) -> Outcome {
    let mut cmd = crate::support::warpdrive();
    cmd.env("HOME", home)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(args);
    if let Some(v) = kubeconfig_env {
        cmd.env("KUBECONFIG", v);
    }
    cmd.run_within(Duration::from_secs(60))
}

fn team_blog(server: &ApiServer) {
    let mut m = crate::apiserver::workload_manifest(
        &DEPLOYMENTS,
        "blog",
        1,
        json!([container("web", &[])]),
    );
    m["metadata"]["namespace"] = json!("team");
    server.add(m);
}

#[test]
fn kubeconfig_env_merges_files_and_context_namespace_is_the_default() {
    let server = ApiServer::start();
    team_blog(&server);
    let dead = crate::support::free_port();
    let dir = server.dir();
    // File 1: contexts only (current: team); file 2: clusters and users.
    std::fs::write(dir.join("one"), "apiVersion: v1\nkind: Config\ncurrent-context: team\ncontexts:\n- name: team\n  context: {cluster: double, user: tester, namespace: team}\n- name: other\n  context: {cluster: dead, user: tester}\n").unwrap();
    std::fs::write(
        dir.join("two"),
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster: {{server: '{}'}}\n- name: dead\n  cluster: {{server: 'http://127.0.0.1:{dead}'}}\nusers:\n- name: tester\n  user: {{token: merged-token}}\n", server.url),
    )
    .unwrap();
    let list = format!(
        "{}:{}",
        dir.join("one").display(),
        dir.join("two").display()
    );
    run_env(
        dir,
        Some(&list),
        &["tune", "deploy/blog", "--threads", "4", "--no-wait"],
    )
    .success();
    let patch = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("patch");
    assert_eq!(patch.path, "/apis/apps/v1/namespaces/team/deployments/blog");
    assert_eq!(patch.authorization.as_deref(), Some("Bearer merged-token"));
    // --context switches cluster: the other one is unreachable, and is named.
    run_env(
        dir,
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
    .stderr_has(&format!("at http://127.0.0.1:{dead}"));
    // An unknown context is bad input.
    run_env(
        dir,
        Some(&list),
        &["tune", "deploy/blog", "--threads", "4", "--context", "nope"],
    )
    .bad_input();
    // No kubeconfig anywhere.
    let empty = tempfile::tempdir().unwrap();
    run_env(
        empty.path(),
        None,
        &["tune", "deploy/blog", "--threads", "4"],
    )
    .bad_input()
    .stderr_has("no kubeconfig found");
    // ~/.kube/config is the default.
    std::fs::create_dir_all(empty.path().join(".kube")).unwrap();
    std::fs::copy(server.kubeconfig(), empty.path().join(".kube/config")).unwrap();
    run_env(
        empty.path(),
        None,
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "5",
            "-n",
            "team",
            "--no-wait",
        ],
    )
    .success();
}

#[test]
fn namespace_cluster_user_and_impersonation_flags() {
    let server = ApiServer::start();
    team_blog(&server);
    let dead = crate::support::free_port();
    let kc = server.dir().join("multi");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: main\ncontexts:\n- name: main\n  context: {{cluster: dead, user: a}}\nclusters:\n- name: double\n  cluster: {{server: '{}'}}\n- name: dead\n  cluster: {{server: 'http://127.0.0.1:{dead}'}}\nusers:\n- name: a\n  user: {{token: token-a}}\n- name: b\n  user: {{token: token-b}}\n", server.url),
    )
    .unwrap();
    let kc = kc.to_str().unwrap();
    run_env(
        server.dir(),
        None,
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--no-wait",
            "--kubeconfig",
            kc,
            "--cluster",
            "double",
            "--user",
            "b",
            "-n",
            "team",
            "--as",
            "alice",
            "--as-group",
            "devs",
            "--as-group",
            "ops",
        ],
    )
    .success();
    let log = server.requests();
    assert_eq!(log.len(), 2);
    for r in &log {
        assert_eq!(r.authorization.as_deref(), Some("Bearer token-b"));
        assert_eq!(r.impersonate_user.as_deref(), Some("alice"));
        assert_eq!(r.impersonate_groups, ["devs", "ops"]);
        assert!(r.path.contains("/namespaces/team/"), "{}", r.path);
    }
    // --as-group needs --as.
    run_env(
        server.dir(),
        None,
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--kubeconfig",
            kc,
            "--as-group",
            "devs",
        ],
    )
    .bad_input();
    // A missing --kubeconfig file is named.
    run_env(
        server.dir(),
        None,
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--kubeconfig",
            "/nonexistent/kc",
        ],
    )
    .bad_input()
    .stderr_has("kubeconfig /nonexistent/kc does not exist");
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
fn a_real_apiservers_422_for_a_failed_test_is_retried_too() {
    let server = ApiServer::start();
    blog(&server);
    server.state().test_failure_is_422 = true;
    server.interfere_before_next_write(json!({"metadata": {"labels": {"tier": "web"}}}));
    server
        .run(&["tune", "deploy/blog", "--threads", "7", "--no-wait"])
        .success();
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 422, 200, 200]);
    let obj = server.get(&DEPLOYMENTS, "default", "blog").unwrap();
    assert_eq!(obj["metadata"]["labels"]["tier"], "web");
    // A 422 that is not about a moved object is reported, not retried. The
    // rollout of the change above must be over first: its status writes
    // move the object, and a 422 for an object that moved is retried.
    server.wait_settled(&DEPLOYMENTS, "blog", Duration::from_secs(10));
    server.clear_log();
    server.state().reject_writes = Some((
        "spec.template.spec.containers[0].env".into(),
        "MOD_WSGI_THREADS above 8 is not allowed here".into(),
    ));
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "9"])
        .bad_input();
    let err = out.stderr();
    assert!(err.contains("error: the API server rejected the change to deployment/blog in namespace default: Deployment \"blog\" is invalid"), "{err}");
    assert!(
        err.contains("MOD_WSGI_THREADS above 8 is not allowed here"),
        "{err}"
    );
    assert_eq!(server.count("PATCH", "/blog"), 1, "not retried");
}

#[test]
fn statefulsets_are_tuned_and_waited_for() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(30));
    server.add(crate::apiserver::workload_manifest(
        &crate::apiserver::STATEFULSETS,
        "db",
        2,
        json!([container("db", &[])]),
    ));
    server
        .run(&["tune", "sts/db", "--threads", "3"])
        .success()
        .stdout_has("statefulset/db successfully rolled out");
    assert_eq!(
        server.env(&crate::apiserver::STATEFULSETS, "db", "db"),
        ["MOD_WSGI_THREADS=3"]
    );
    server
        .run(&["scale", "sts/db", "--replicas", "1"])
        .success()
        .stdout_has("statefulset/db: 1 of 1 pods ready");
}

#[test]
fn output_prints_the_object_the_server_stored() {
    let server = ApiServer::start();
    // No simulated status writes while we compare resourceVersions.
    server.set_rollout_delay(Duration::from_secs(60));
    blog(&server);
    let out = server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "11",
            "-o",
            "json",
            "--no-wait",
        ])
        .success();
    let printed = out.json(); // only JSON on stdout
    assert_eq!(
        printed["metadata"]["resourceVersion"].as_str().unwrap(),
        rv(&server).as_str()
    );
    assert_eq!(printed["metadata"]["generation"], 2);
    // The table goes to stderr.
    out.stderr_has("MOD_WSGI_THREADS");
}

#[test]
fn a_bare_name_survives_a_forbidden_deploymentconfig_lookup() {
    let server = ApiServer::openshift();
    blog(&server);
    server.deny("get", "deploymentconfigs");
    server
        .run(&["tune", "blog", "--threads", "3", "--no-wait"])
        .success()
        .stdout_has("deployment/blog, container web");
    server.deny("get", "deployments");
    server
        .run(&["tune", "blog", "--threads", "4", "--no-wait"])
        .failure()
        .stderr_has("cannot get deployments.apps in namespace default");
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

#[test]
fn output_name_is_kind_group_slash_name() {
    let server = ApiServer::openshift();
    blog(&server);
    server.add_deploymentconfig("shop", 1, json!([container("web", &[])]));
    server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "-o",
            "name",
            "--no-wait",
        ])
        .success()
        .stdout_is("deployment.apps/blog\n")
        .stderr_has("MOD_WSGI_THREADS");
    server
        .run(&[
            "tune",
            "dc/shop",
            "--threads",
            "4",
            "-o",
            "name",
            "--no-wait",
        ])
        .success()
        .stdout_is("deploymentconfig.apps.openshift.io/shop\n");
    server
        .run(&[
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
fn a_bare_dry_run_is_client_and_takes_no_value_from_the_next_word() {
    let server = ApiServer::start();
    blog(&server);
    server
        .run(&["tune", "--dry-run", "deploy/blog", "--threads", "3"])
        .success()
        .stderr_has("dry run (client): nothing was sent");
    assert_eq!(server.count("PATCH", "/blog"), 0);
    assert_eq!(server.requests().len(), 1);
    server
        .run(&["scale", "--dry-run", "deploy/blog", "--replicas", "3"])
        .success()
        .stdout_has("would be scaled (dry run, client: nothing sent)");
    assert_eq!(server.count("PUT", "/scale"), 0);
}

#[test]
fn list_shows_every_container_under_kubectls_header_and_refuses_output() {
    let server = ApiServer::start();
    let mut m = crate::apiserver::workload_manifest(
        &DEPLOYMENTS,
        "two",
        1,
        json!([
            container("web", &[("MOD_WSGI_THREADS", "4")]),
            container("side", &[])
        ]),
    );
    m["spec"]["template"]["spec"]["initContainers"] = json!([container("init", &[("I", "1")])]);
    server.add(m);
    server
        .run(&["tune", "deploy/two", "--list"])
        .success()
        .stdout_is("# Deployment two, container web\nMOD_WSGI_THREADS=4\n# Deployment two, container side\n# Deployment two, container init\nI=1\n");
    server
        .run(&["tune", "deploy/two", "--list", "-c", "side"])
        .success()
        .stdout_is("# Deployment two, container side\n");
    server
        .run(&["tune", "deploy/two", "--list", "-c", "nope"])
        .bad_input()
        .stderr_has("has no container \"nope\": use -c with one of web, side, init");
    server
        .run(&["tune", "deploy/two", "--list", "-o", "json"])
        .bad_input()
        .stderr_has("--list prints KEY=VALUE lines and takes no -o");
}

#[test]
fn positional_key_value_and_key_dash_as_kubectl_set_env() {
    let server = ApiServer::start();
    blog(&server);
    server
        .run(&[
            "tune",
            "deploy/blog",
            "MOD_WSGI_THREADS=15",
            "MOD_WSGI_PROCESSES-",
            "--no-wait",
        ])
        .success()
        .stdout_has("MOD_WSGI_THREADS    (unset) → 15")
        .stdout_has("MOD_WSGI_PROCESSES  1 → (unset)");
    assert_eq!(
        server.env(&DEPLOYMENTS, "blog", "web"),
        ["OTHER=x", "MOD_WSGI_THREADS=15"]
    );
    // Checked like --set: a bad value and a foreign variable are bad input.
    server
        .run(&["tune", "deploy/blog", "MOD_WSGI_THREADS=many"])
        .bad_input()
        .stderr_has("MOD_WSGI_THREADS=many: ");
    server
        .run(&["tune", "deploy/blog", "PATH=/bin"])
        .bad_input()
        .stderr_has("kubectl set env");
    server
        .run(&["tune", "deploy/blog", "MOD_WSGI_THREADS=2", "deploy/other"])
        .bad_input()
        .stderr_has("put TARGETs first");
    server
        .run(&[
            "tune",
            "deploy/blog",
            "MOD_WSGI_THREADS=2",
            "--threads",
            "3",
        ])
        .bad_input()
        .stderr_has("more than once");
}

fn three(server: &ApiServer) {
    for (name, tier) in [("a", "web"), ("b", "web"), ("c", "db")] {
        let mut m = crate::apiserver::workload_manifest(
            &DEPLOYMENTS,
            name,
            1,
            json!([container("web", &[])]),
        );
        m["metadata"]["labels"]["tier"] = json!(tier);
        server.add(m);
    }
}

#[test]
fn several_targets_type_name_selector_and_all() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(20));
    three(&server);
    // TYPE NAME NAME: one table each, then one line per workload.
    server
        .run(&["tune", "deploy", "a", "b", "MOD_WSGI_THREADS=3"])
        .success()
        .stdout_has("deployment/a, container web:\n  MOD_WSGI_THREADS  (unset) → 3\n")
        .stdout_has("deployment/a successfully rolled out\ndeployment/b successfully rolled out\n");
    assert_eq!(server.env(&DEPLOYMENTS, "c", "web"), Vec::<String>::new());
    // -l: the workloads whose labels match.
    server
        .run(&[
            "tune",
            "deploy",
            "-l",
            "tier=web",
            "--threads",
            "4",
            "--no-wait",
        ])
        .success()
        .stdout_has("deployment/a: changed (--no-wait)\ndeployment/b: changed (--no-wait)\n");
    assert_eq!(server.env(&DEPLOYMENTS, "b", "web"), ["MOD_WSGI_THREADS=4"]);
    assert_eq!(server.env(&DEPLOYMENTS, "c", "web"), Vec::<String>::new());
    // --all, TYPE/NAME lists, and the kind is needed.
    server
        .run(&["tune", "deploy", "--all", "--threads", "4", "--no-wait"])
        .success()
        .stdout_has("deployment/a: nothing to change\ndeployment/b: nothing to change\ndeployment/c: changed (--no-wait)\n");
    server
        .run(&["tune", "deploy/a", "deploy/c", "--list"])
        .success()
        .stdout_is("# Deployment a, container web\nMOD_WSGI_THREADS=4\n# Deployment c, container web\nMOD_WSGI_THREADS=4\n");
    server
        .run(&["tune", "-l", "tier=web", "--threads", "4"])
        .bad_input()
        .stderr_has("-l needs the kind");
    server
        .run(&["tune", "deploy", "-l", "tier=none", "--threads", "4"])
        .bad_input()
        .stderr_has("no deployments in namespace default match -l tier=none");
    // -o json: one List of the objects.
    let out = server
        .run(&[
            "tune",
            "deploy",
            "-l",
            "tier=web",
            "--threads",
            "5",
            "--no-wait",
            "-o",
            "json",
        ])
        .success();
    let doc = out.json();
    assert_eq!(doc["kind"], "List");
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(2));
}

#[test]
fn one_failing_workload_of_several_fails_the_command_and_spares_the_others() {
    let server = ApiServer::start();
    three(&server);
    server
        .run(&[
            "tune",
            "deploy",
            "a",
            "gone",
            "c",
            "--threads",
            "6",
            "--no-wait",
        ])
        .failure()
        .stdout_has("deployment/a: changed (--no-wait)\n")
        .stdout_has("deployment/gone: failed: deployment \"gone\" not found in namespace default")
        .stdout_has("deployment/c: changed (--no-wait)\n")
        .stderr_has("error: 1 of 3 workloads failed: deployment/gone");
    assert_eq!(server.env(&DEPLOYMENTS, "c", "web"), ["MOD_WSGI_THREADS=6"]);
}

#[test]
fn recommend_prints_a_command_for_the_same_namespace_and_context() {
    let server = ApiServer::start();
    team_blog(&server);
    let kc = server.write_kubeconfig("two words", "default");
    let out = crate::support::warpdrive()
        .args([
            "tune",
            "deploy/blog",
            "--recommend",
            "-n",
            "team",
            "--context",
            "double",
            "--kubeconfig",
        ])
        .arg(&kc)
        .run()
        .success();
    let want = format!(
        "kubectl warpdrive tune deployment/blog -n team --context double --kubeconfig '{}' --processes 1 --threads 15\n",
        kc.display()
    );
    out.stdout_has(&want);
}

#[test]
fn timeout_0_waits_for_as_long_as_the_rollout_takes() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(200));
    server.steps_wait_for_reads(2);
    blog(&server);
    server
        .run(&["tune", "deploy/blog", "--threads", "4", "--timeout", "0"])
        .success()
        .stdout_has("deployment/blog successfully rolled out");
}
