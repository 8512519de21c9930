//! Tests against a real Kubernetes control plane: upstream etcd,
//! kube-apiserver, kube-controller-manager and kube-scheduler, with kwok as
//! the node and kubelet (see `.ci/k8s` and docs/DEVELOPING.md, "The test
//! control plane").
//!
//! * One control plane per test run: started lazily by the first test that
//!   asks ([`Ns::new`]) with `.ci/k8s up`, in a private state dir, owned by
//!   this process (`WARPDRIVE_K8S_OWNER_PID`), so `.ci/k8s` stops it and
//!   removes the state dir when the test binary exits, whatever way it exits.
//! * A fresh namespace per test ([`Ns`]), deleted when the test ends.
//! * The built `kubectl` is both the setup client and the oracle
//!   ([`Ns::kubectl`]); the plugin runs with `KUBECONFIG` pointing at the
//!   admin kubeconfig and `-n NS` ([`Ns::warpdrive`]).
//! * [`dc`]: the DeploymentConfig mini-controller (there is no OpenShift).
//! * [`proxy`]: a logging HTTP proxy in front of the apiserver, to count the
//!   plugin's requests, to hold one at a chosen point, and to offer only
//!   `v4.channel.k8s.io` to the exec endpoint.
//!
//! Without the binaries each test returns early, and the run prints one line
//! saying how to build them; with `CI=true` or `WARPDRIVE_REQUIRE_K8S=1` the
//! tests fail instead.
#![allow(dead_code)]

pub mod dc;
pub mod proxy;

mod complete;
mod connection;
mod deploymentconfig;
mod forms;
mod reload;
mod rollback;
mod scale;
mod sync;
mod tune;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{self, Outcome, RunExt};

/// How long `.ci/k8s up` may take (it aims at 60 s; a loaded 2-core machine
/// running a Go build next to it needs more).
const UP_BOUND: Duration = Duration::from_secs(300);

/// A running control plane.
pub struct ControlPlane {
    /// The admin kubeconfig (client certificate of `system:masters`).
    pub kubeconfig: PathBuf,
    /// The bin dir of `.ci/k8s bindir` (kubectl, kube-apiserver, …).
    pub bin: PathBuf,
    /// `WARPDRIVE_K8S_STATE` of this run.
    pub state: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub apiserver: String,
    /// How long `.ci/k8s up` took.
    pub startup: Duration,
}

impl ControlPlane {
    pub fn kubectl_path(&self) -> PathBuf {
        self.bin.join("kubectl")
    }

    /// The PEM files of the cluster CA and of the admin client certificate.
    pub fn ca_pem(&self) -> PathBuf {
        self.state.join("pki/ca.crt")
    }
    pub fn admin_cert_pem(&self) -> PathBuf {
        self.state.join("pki/admin.crt")
    }
    pub fn admin_key_pem(&self) -> PathBuf {
        self.state.join("pki/admin.key")
    }

    /// `host:port` of the apiserver.
    pub fn apiserver_addr(&self) -> String {
        self.apiserver
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string()
    }
}

/// Whether a missing control plane fails the tests instead of skipping them.
fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("WARPDRIVE_REQUIRE_K8S").is_ok_and(|v| v == "1")
}

fn k8s_script() -> PathBuf {
    support::repo().join(".ci/k8s")
}

/// `Ok(None)`: no binaries (skip). `Err`: they exist but the control plane
/// did not come up, or they are required and missing.
fn start() -> Result<Option<ControlPlane>, String> {
    let bindir = Command::new(k8s_script())
        .arg("bindir")
        .run_within(Duration::from_secs(60));
    if bindir.code() != Some(0) {
        if required() {
            return Err(format!(
                "the real-cluster tests are required here (CI=true or WARPDRIVE_REQUIRE_K8S=1) but the control-plane binaries are missing: run `.ci/k8s build` (or `.ci/setup`)\n{}",
                bindir.stderr()
            ));
        }
        return Ok(None);
    }
    let bin = PathBuf::from(bindir.stdout().trim());
    sweep_locks();
    let state = std::env::temp_dir().join(format!("warpdrive-k8s-test.{}", std::process::id()));
    let t0 = Instant::now();
    let up = Command::new(k8s_script())
        .arg("up")
        .env("WARPDRIVE_K8S_STATE", &state)
        .env("WARPDRIVE_K8S_OWNER_PID", std::process::id().to_string())
        .run_within(UP_BOUND);
    let startup = t0.elapsed();
    if up.code() != Some(0) {
        return Err(format!(
            "`.ci/k8s up` failed (state {}):\n{}{}",
            state.display(),
            up.stdout(),
            up.stderr()
        ));
    }
    let kubeconfig = PathBuf::from(up.stdout().lines().last().unwrap_or_default().trim());
    let env = Command::new(k8s_script())
        .arg("env")
        .env("WARPDRIVE_K8S_STATE", &state)
        .run_within(Duration::from_secs(30))
        .success();
    let vars: BTreeMap<String, String> = env
        .stdout()
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect();
    let apiserver = vars
        .get("WARPDRIVE_K8S_APISERVER")
        .cloned()
        .ok_or_else(|| {
            format!(
                "`.ci/k8s env` printed no WARPDRIVE_K8S_APISERVER:\n{}",
                env.stdout()
            )
        })?;
    let plane = ControlPlane {
        kubeconfig,
        bin,
        state,
        apiserver,
        startup,
    };
    let controller =
        dc::start(&plane).map_err(|e| format!("the DeploymentConfig controller: {e}"))?;
    std::mem::forget(controller);
    say(&format!(
        "real control plane up in {:.1} s at {} (state {}; stopped when this test process exits)",
        startup.as_secs_f64(),
        plane.apiserver,
        plane.state.display()
    ));
    Ok(Some(plane))
}

/// Removes the `STATE.lock` files `.ci/k8s` left next to the state dirs of
/// earlier runs (their state dirs are gone: the owner watch ran `down`).
fn sweep_locks() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("warpdrive-k8s-test.")
            .and_then(|r| r.strip_suffix(".lock"))
        else {
            continue;
        };
        let state = e.path().with_extension("");
        let alive = pid
            .parse::<i32>()
            .is_ok_and(|p| unsafe { libc::kill(p, 0) } == 0);
        if !alive && !state.exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Writes one line straight to stderr, past the test harness's capture (so
/// that it shows once per run, not only for failing tests).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "real cluster: {line}");
}

static PLANE: OnceLock<Result<Option<ControlPlane>, String>> = OnceLock::new();
static SKIP_NOTE: Once = Once::new();

/// The shared control plane, started on first use. `None`: not available
/// here (the test should return); panics when it is required or failed.
pub fn plane() -> Option<&'static ControlPlane> {
    match PLANE.get_or_init(start) {
        Ok(Some(p)) => Some(p),
        Ok(None) => {
            SKIP_NOTE.call_once(|| {
                say("skipping the real-cluster tests (real::*): the control-plane binaries are not built; build them once with `.ci/k8s build` (or `.ci/setup`), then rerun");
            });
            None
        }
        Err(e) => panic!("{e}"),
    }
}

static NS_COUNT: AtomicUsize = AtomicUsize::new(0);

/// A fresh namespace for one test, deleted (without waiting) on drop.
pub struct Ns {
    pub name: String,
    pub plane: &'static ControlPlane,
    /// Scratch files of the test (manifests, kubeconfigs, sync targets).
    pub dir: tempfile::TempDir,
}

impl Ns {
    /// Creates `wd-TAG-N` and waits for its default ServiceAccount (pods are
    /// refused until it exists). `None` when there is no control plane.
    pub fn new(tag: &str) -> Option<Ns> {
        let plane = plane()?;
        let n = NS_COUNT.fetch_add(1, Ordering::SeqCst);
        let tag: String = tag
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let name = format!("wd-{}-{n}", tag.trim_matches('-'));
        let ns = Ns {
            name,
            plane,
            dir: tempfile::Builder::new()
                .prefix("warpdrive-real-")
                .tempdir()
                .expect("tempdir"),
        };
        ns.admin(&["create", "namespace", &ns.name]).success();
        ns.wait_until(
            "the default ServiceAccount",
            Duration::from_secs(60),
            || {
                ns.kubectl(&["get", "serviceaccount", "default", "-o", "name"])
                    .code()
                    == Some(0)
            },
        );
        Some(ns)
    }

    /// `kubectl --kubeconfig ADMIN ARGS` (no namespace added).
    pub fn admin_cmd(&self) -> Command {
        let mut cmd = Command::new(self.plane.kubectl_path());
        cmd.arg("--kubeconfig")
            .arg(&self.plane.kubeconfig)
            .arg("--request-timeout=30s");
        cmd
    }

    pub fn admin(&self, args: &[&str]) -> Outcome {
        self.admin_cmd().args(args).run()
    }

    /// `kubectl … -n NS ARGS`.
    pub fn kubectl_cmd(&self) -> Command {
        let mut cmd = self.admin_cmd();
        cmd.args(["-n", &self.name]);
        cmd
    }

    pub fn kubectl(&self, args: &[&str]) -> Outcome {
        self.kubectl_cmd().args(args).run()
    }

    /// `kubectl get ARGS -o json`, parsed.
    pub fn get(&self, what: &str) -> Value {
        self.kubectl(&["get", what, "-o", "json"]).success().json()
    }

    /// Creates (or updates) objects with `kubectl apply --server-side`.
    pub fn apply(&self, objects: &[Value]) {
        let file = self.scratch("apply.json");
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
        std::fs::write(&file, serde_json::to_vec_pretty(&list).expect("json")).expect("write");
        self.kubectl_cmd()
            .args(["apply", "--server-side", "--field-manager=test-setup", "-f"])
            .arg(&file)
            .run()
            .success();
    }

    /// A path in the test's scratch dir, unique per call.
    pub fn scratch(&self, name: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        self.dir
            .path()
            .join(format!("{}-{name}", N.fetch_add(1, Ordering::SeqCst)))
    }

    /// The plugin with the admin kubeconfig in `KUBECONFIG`; `-n NS` is
    /// appended by [`Ns::run`].
    pub fn warpdrive(&self) -> Command {
        let mut cmd = support::warpdrive();
        cmd.env("KUBECONFIG", &self.plane.kubeconfig);
        cmd
    }

    /// Runs the plugin with ARGS and `-n NS`.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.warpdrive().args(args).args(["-n", &self.name]).run()
    }

    /// Polls `cond` every 100 ms until it holds; fails the test after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, cond: impl Fn() -> bool) {
        wait_until(what, timeout, cond)
    }

    /// Waits until `kubectl rollout status` says the workload is rolled out,
    /// and, for a Deployment, until its controller has nothing left to write
    /// (its last status write, the `Progressing` condition's
    /// `NewReplicaSetAvailable`, comes after the counts kubectl looks at), so
    /// that a test can count the requests of the next write.
    pub fn rolled_out(&self, what: &str) -> Outcome {
        let out = self
            .kubectl_cmd()
            .args(["rollout", "status", what, "--timeout=120s"])
            .run_within(Duration::from_secs(150))
            .success();
        if what.starts_with("deploy/") {
            self.wait_until(
                &format!("{what} to settle"),
                Duration::from_secs(60),
                || {
                    let obj = self.get(what);
                    obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
                        && obj["status"]["conditions"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|c| {
                                c["type"] == "Progressing"
                                    && c["reason"] == "NewReplicaSetAvailable"
                            })
                },
            );
        }
        out
    }

    /// The env of container `idx` of a workload's pod template, as `K=V`
    /// (`K<-…` for a `valueFrom`).
    pub fn env(&self, what: &str, idx: usize) -> Vec<String> {
        env_of(&self.get(what), idx)
    }

    /// A kubeconfig for the plugin that goes through `proxy` (plain HTTP; the
    /// proxy adds the admin client certificate).
    pub fn proxy_kubeconfig(&self, proxy: &proxy::Proxy) -> PathBuf {
        let file = self.scratch("kubeconfig-proxy");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n  cluster:\n    server: http://127.0.0.1:{}\nusers:\n- name: admin\n  user: {{}}\ncontexts:\n- name: proxy\n  context:\n    cluster: proxy\n    user: admin\n    namespace: {}\ncurrent-context: proxy\n",
            proxy.port, self.name
        );
        std::fs::write(&file, text).expect("write kubeconfig");
        file
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        // Best effort, without waiting for the namespace controller, and
        // never a panic (this runs while a failed test unwinds).
        let child = self
            .admin_cmd()
            .args([
                "delete",
                "namespace",
                &self.name,
                "--wait=false",
                "--ignore-not-found",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if let Ok(mut child) = child {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `cond` every 100 ms until it holds; panics after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, cond: impl Fn() -> bool) {
    // A safety net: stretched on a loaded machine (support::slack).
    let timeout = support::slack(timeout);
    let start = Instant::now();
    loop {
        if cond() {
            return;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The env of container `idx` of an object's pod template, as `K=V`.
pub fn env_of(obj: &Value, idx: usize) -> Vec<String> {
    obj.pointer(&format!("/spec/template/spec/containers/{idx}/env"))
        .and_then(Value::as_array)
        .map(|env| {
            env.iter()
                .map(|e| {
                    let name = e["name"].as_str().unwrap_or_default();
                    match e.get("value") {
                        _ if e.get("valueFrom").is_some() => format!("{name}<-valueFrom"),
                        Some(v) => format!("{name}={}", v.as_str().unwrap_or_default()),
                        None => format!("{name}="),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One container named `name` with literal env pairs.
pub fn container(name: &str, env: &[(&str, &str)]) -> Value {
    let env: Vec<Value> = env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    json!({"name": name, "image": "quay.io/example/app:1", "env": env})
}

/// A Deployment `name` with pods labelled `app=name`.
pub fn deployment(name: &str, replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers, "terminationGracePeriodSeconds": 0}
            }
        }
    })
}

/// A StatefulSet `name` (no volumes, parallel pod management).
pub fn statefulset(name: &str, replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers, "terminationGracePeriodSeconds": 0}
            }
        }
    })
}

/// A DeploymentConfig `name` with the selector `deploymentconfig=name` and a
/// ConfigChange trigger, as `oc new-app` makes them.
pub fn deploymentconfig(name: &str, replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps.openshift.io/v1",
        "kind": "DeploymentConfig",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"deploymentconfig": name},
            "strategy": {"type": "Rolling", "rollingParams": {"timeoutSeconds": 600}},
            "triggers": [{"type": "ConfigChange"}],
            "template": {
                "metadata": {"labels": {"deploymentconfig": name, "app": name}},
                "spec": {"containers": containers, "terminationGracePeriodSeconds": 0}
            }
        }
    })
}

/// The names of the pods matching a label selector, ready or not.
pub fn pod_names(ns: &Ns, selector: &str) -> Vec<String> {
    let list = ns
        .kubectl(&["get", "pods", "-l", selector, "-o", "json"])
        .success()
        .json();
    let mut names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// Whether a path is inside `dir`.
pub fn inside(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir)
}
