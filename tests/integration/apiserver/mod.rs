//! An in-process Kubernetes API-server double for the cluster commands.
//!
//! It serves plain HTTP ([`ApiServer::start`]) or HTTPS with a throwaway CA
//! ([`ApiServer::start_tls`]) on 127.0.0.1 (a free port), writes a kubeconfig
//! that points at it, and implements only what `tune`, `scale` (and `reload`) use,
//! following the API conventions of a real kube-apiserver:
//!
//! * objects: GET/PUT/PATCH of `apps/v1` Deployment and StatefulSet and
//!   `apps.openshift.io/v1` DeploymentConfig (only when started with
//!   [`ApiServer::openshift`]), plus GET lists;
//! * `/scale` with GET, PUT and merge PATCH;
//! * `core/v1` pods (list with `labelSelector`, get), `autoscaling/v2` HPAs;
//! * discovery: `/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`, `/version`;
//! * JSON Patch (RFC 6902, `test` included: a failing `test` is 409) and JSON
//!   merge patch; strategic-merge and apply patches get 415;
//! * `resourceVersion` changes on every write, a stale one is 409;
//!   `metadata.generation` goes up when `spec` changes; 403/404/409/422 carry
//!   a `Status` body; `dryRun=All` stores nothing;
//! * a rollout simulator: after a template or replica change, status and pods
//!   move as a controller would move them, one step per
//!   [`ApiServer::set_rollout_delay`]; [`ApiServer::fail_rollouts`] ends them
//!   with `ProgressDeadlineExceeded`; [`ApiServer::deny`] answers a verb with 403;
//! * a request log ([`ApiServer::requests`]) for tests to assert on;
//! * faults ([`ApiServer::fault`], [`faults`]): a trickling body, 429 with
//!   `Retry-After`, a huge body, a `Status` message of the test's choosing.
//!
//! * `pods/NAME/exec`: the remote-command websocket (see [`exec`]); commands
//!   run on the test host in [`State::exec_root`], the pods' "filesystem".
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

/// One served resource type.
#[derive(Debug, Clone, Copy)]
pub struct Res {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub short: &'static str,
    /// Has a `/scale` subresource and a simulated controller.
    pub workload: bool,
}

impl Res {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, as Status messages name it.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

pub const DEPLOYMENTS: Res = Res {
    group: "apps",
    version: "v1",
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    short: "deploy",
    workload: true,
};
pub const STATEFULSETS: Res = Res {
    group: "apps",
    version: "v1",
    plural: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    short: "sts",
    workload: true,
};
pub const DEPLOYMENTCONFIGS: Res = Res {
    group: "apps.openshift.io",
    version: "v1",
    plural: "deploymentconfigs",
    singular: "deploymentconfig",
    kind: "DeploymentConfig",
    short: "dc",
    workload: true,
};
pub const PODS: Res = Res {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    short: "po",
    workload: false,
};
pub const HPAS: Res = Res {
    group: "autoscaling",
    version: "v2",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    kind: "HorizontalPodAutoscaler",
    short: "hpa",
    workload: false,
};

const ALL: [Res; 5] = [DEPLOYMENTS, STATEFULSETS, DEPLOYMENTCONFIGS, PODS, HPAS];

/// One logged request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub impersonate_user: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
}

impl Request {
    /// `PATCH /apis/apps/v1/namespaces/default/deployments/blog`
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

type Key = (&'static str, String, String);

/// Everything the double knows. Tests reach it through [`ApiServer`].
#[derive(Debug, Default)]
pub struct State {
    pub objects: BTreeMap<Key, Value>,
    pub log: Vec<Request>,
    pub resource_version: u64,
    pub openshift: bool,
    pub rollout_delay: Duration,
    pub fail_rollouts: bool,
    /// `(verb, resource)` pairs answered with 403, e.g. `("patch", "deployments")`
    /// or `("update", "deployments/scale")`.
    pub deny: Vec<(String, String)>,
    /// Extra time before every answer (for `--request-timeout`).
    pub latency: Duration,
    /// A merge patch another writer applies just before the next PUT/PATCH
    /// of an object arrives (to force a conflict deterministically).
    pub interfere: Option<Value>,
    /// Answer a failed JSON Patch `test` with 422 Invalid, as a real
    /// kube-apiserver does, instead of the 409 Conflict the issue asks for.
    pub test_failure_is_422: bool,
    /// `(field, message)`: every write is refused with 422 Invalid naming
    /// this field, as a validating admission policy would.
    pub reject_writes: Option<(String, String)>,
    /// GETs of each object so far (for [`State::reads_per_step`]).
    pub reads: BTreeMap<Key, u64>,
    /// The controller takes a rollout step only after the object was read
    /// this many times since the write or the step before (0: no such wait),
    /// so a poller sees every state; see [`ApiServer::steps_wait_for_reads`].
    pub reads_per_step: u64,
    /// Rollouts of the simulated controller with a step still to come
    /// (see [`ApiServer::wait_settled`]).
    pub rollouts_in_flight: usize,
    /// Working directory of exec'd commands: the pods' filesystem.
    pub exec_root: PathBuf,
    /// Which websocket subprotocols exec offers.
    pub exec_offer: exec::Offer,
    /// `(method, path part, fault, answered so far)`: requests (of that
    /// method, if any) whose path contains the part get the fault's answer
    /// (see [`ApiServer::fault`]).
    pub faults: Vec<(Option<String>, String, faults::Fault, usize)>,
    seed: u64,
}

impl State {
    fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn random_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut out = String::new();
        for _ in 0..5 {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            out.push(ALPHABET[(self.seed % ALPHABET.len() as u64) as usize] as char);
        }
        out
    }
}

pub type Shared = Arc<Mutex<State>>;

/// A running double. Dropping it stops the server.
pub struct ApiServer {
    pub port: u16,
    pub url: String,
    /// PEM of the CA that signed the server certificate (HTTPS doubles only).
    pub ca_pem: Option<String>,
    state: Shared,
    dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ApiServer {
    /// A plain Kubernetes cluster (no OpenShift API).
    pub fn start() -> ApiServer {
        Self::start_with(false, false)
    }

    /// A cluster that also serves `apps.openshift.io/v1` DeploymentConfigs.
    pub fn openshift() -> ApiServer {
        Self::start_with(true, false)
    }

    /// A plain Kubernetes cluster over HTTPS: a fresh CA signs a certificate
    /// for 127.0.0.1, and the kubeconfig carries the CA as
    /// `certificate-authority-data`.
    pub fn start_tls() -> ApiServer {
        Self::start_with(false, true)
    }

    fn start_with(openshift: bool, tls: bool) -> ApiServer {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        let state = Arc::new(Mutex::new(State {
            openshift,
            rollout_delay: Duration::from_millis(100),
            resource_version: 1000,
            seed,
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind double");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let (ca_pem, acceptor) = match tls {
            true => {
                let (ca, acceptor) = tls::acceptor();
                (Some(ca), Some(acceptor))
            }
            false => (None, None),
        };
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let shutdown = async move {
                    let _ = rx.await;
                };
                let _ = match acceptor {
                    None => {
                        axum::serve(
                            listener,
                            app.into_make_service_with_connect_info::<SocketAddr>(),
                        )
                        .with_graceful_shutdown(shutdown)
                        .await
                    }
                    Some(acceptor) => {
                        axum::serve(
                            tls::Listener {
                                tcp: listener,
                                acceptor,
                            },
                            app.into_make_service(),
                        )
                        .with_graceful_shutdown(shutdown)
                        .await
                    }
                };
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let pod_root = dir.path().join("pods");
        std::fs::create_dir_all(&pod_root).expect("pod root");
        state.lock().expect("state").exec_root = pod_root;
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        let server = ApiServer {
            port,
            url,
            ca_pem,
            state,
            dir,
            shutdown: Some(tx),
            thread: Some(thread),
        };
        server.write_kubeconfig("kubeconfig", "default");
        server
    }

    /// The kubeconfig written at start: context `double`, namespace `default`.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Writes another kubeconfig for this server (context `double`, user
    /// `tester`, the given default namespace) and returns its path.
    pub fn write_kubeconfig(&self, file: &str, namespace: &str) -> PathBuf {
        let path = self.dir.path().join(file);
        let ca = match &self.ca_pem {
            Some(pem) => {
                let file = self.dir.path().join("ca.pem");
                std::fs::write(&file, pem).expect("write ca.pem");
                format!("    certificate-authority: {}\n", file.display())
            }
            None => String::new(),
        };
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster:\n{ca}    server: {url}\ncontexts:\n- name: double\n  context:\n    cluster: double\n    user: tester\n    namespace: {namespace}\ncurrent-context: double\nusers:\n- name: tester\n  user:\n    token: double-token\n",
            url = self.url
        );
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    /// A directory that lives as long as the server (for extra files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The shared state itself, for a test thread that changes it while a command runs.
    pub fn state_handle(&self) -> Shared {
        self.state.clone()
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Time per rollout step (default 100 ms).
    pub fn set_rollout_delay(&self, d: Duration) {
        self.state().rollout_delay = d;
    }

    /// Let each rollout step wait until the object was read `n` times in
    /// the state before it (after the rollout delay), so a client polling
    /// it is sure to see every state: the waiting messages are deterministic.
    pub fn steps_wait_for_reads(&self, n: u64) {
        self.state().reads_per_step = n;
    }

    /// Make rollouts end with `Progressing=False ProgressDeadlineExceeded`.
    pub fn fail_rollouts(&self, fail: bool) {
        self.state().fail_rollouts = fail;
    }

    /// Answer `verb` on `resource` (`deployments`, `deployments/scale`…) with 403.
    pub fn deny(&self, verb: &str, resource: &str) {
        self.state()
            .deny
            .push((verb.to_string(), resource.to_string()));
    }

    /// Let "another client" apply `merge_patch` (as its own write, new
    /// resourceVersion) right before the next PUT or PATCH of an object.
    pub fn interfere_before_next_write(&self, merge_patch: Value) {
        self.state().interfere = Some(merge_patch);
    }

    /// The directory exec'd commands run in (created at start, under [`Self::dir`]).
    pub fn exec_root(&self) -> PathBuf {
        self.state().exec_root.clone()
    }

    /// Offer only `v4.channel.k8s.io` for exec (no stdin half-close).
    pub fn exec_offer(&self, offer: exec::Offer) {
        self.state().exec_offer = offer;
    }

    /// Answer the requests whose path contains `path_part` with `fault`.
    pub fn fault(&self, path_part: &str, fault: faults::Fault) {
        self.state()
            .faults
            .push((None, path_part.to_string(), fault, 0));
    }

    /// [`Self::fault`] for the requests of one method (`PATCH`).
    pub fn fault_method(&self, method: &str, path_part: &str, fault: faults::Fault) {
        self.state()
            .faults
            .push((Some(method.to_string()), path_part.to_string(), fault, 0));
    }

    /// Wait this long before every answer.
    pub fn set_latency(&self, d: Duration) {
        self.state().latency = d;
    }

    /// Stores an object as a controller would have left it: metadata filled
    /// in, pods running and ready, status settled. Returns the stored object.
    pub fn add(&self, mut obj: Value) -> Value {
        let res = res_of_kind(obj["kind"].as_str().unwrap_or_default()).expect("known kind");
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let name = obj["metadata"]["name"]
            .as_str()
            .expect("metadata.name")
            .to_string();
        let mut st = self.state();
        obj["apiVersion"] = Value::from(res.api_version());
        let rv = st.next_rv();
        let meta = obj["metadata"].as_object_mut().expect("metadata");
        meta.insert("namespace".into(), Value::from(ns.clone()));
        meta.insert("resourceVersion".into(), Value::from(rv));
        meta.insert(
            "uid".into(),
            Value::from(format!("uid-{}-{}", res.singular, name)),
        );
        meta.insert("creationTimestamp".into(), Value::from(now()));
        if res.workload {
            meta.insert("generation".into(), Value::from(1));
        }
        let key = (res.plural, ns.clone(), name.clone());
        st.objects.insert(key.clone(), obj);
        if res.workload {
            if res.plural == "deploymentconfigs" {
                st.objects.get_mut(&key).expect("obj")["status"]["latestVersion"] = Value::from(1);
            }
            rollout_step(&mut st, &key, 1, Step::Create);
            rollout_step(&mut st, &key, 1, Step::Finish);
        }
        st.objects[&key].clone()
    }

    /// A Deployment with one container per `(name, env)` and `app: NAME` labels.
    pub fn add_deployment(&self, name: &str, replicas: i64, containers: Value) -> Value {
        self.add(workload_manifest(&DEPLOYMENTS, name, replicas, containers))
    }

    /// A DeploymentConfig (selector `deploymentconfig: NAME`).
    pub fn add_deploymentconfig(&self, name: &str, replicas: i64, containers: Value) -> Value {
        self.add(workload_manifest(
            &DEPLOYMENTCONFIGS,
            name,
            replicas,
            containers,
        ))
    }

    /// An autoscaling/v2 HPA targeting `kind/name`.
    pub fn add_hpa(&self, name: &str, kind: &str, target: &str) -> Value {
        self.add(json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
                     "minReplicas": 1, "maxReplicas": 5}
        }))
    }

    /// The stored object, if any.
    pub fn get(&self, res: &Res, ns: &str, name: &str) -> Option<Value> {
        self.state()
            .objects
            .get(&(res.plural, ns.to_string(), name.to_string()))
            .cloned()
    }

    /// The env of container `container` of a stored workload, as `NAME=VALUE`.
    pub fn env(&self, res: &Res, name: &str, container: &str) -> Vec<String> {
        let obj = self.get(res, "default", name).expect("object");
        obj["spec"]["template"]["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["name"] == container)
            .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
            .map(|e| {
                format!(
                    "{}={}",
                    e["name"].as_str().unwrap_or(""),
                    e["value"].as_str().unwrap_or("<valueFrom>")
                )
            })
            .collect()
    }

    /// Names of the pods in `ns` whose labels include `label=value`.
    pub fn pods(&self, ns: &str, label: &str, value: &str) -> Vec<Value> {
        self.state()
            .objects
            .iter()
            .filter(|((p, n, _), o)| {
                *p == "pods" && n == ns && o["metadata"]["labels"][label] == value
            })
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state().log.clone()
    }

    /// Requests whose method is `method` and whose path ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }

    pub fn clear_log(&self) {
        self.state().log.clear();
    }

    /// Blocks until the simulated controller is idle: every rollout step
    /// that a write started has happened, so nothing changes the object (or
    /// its resourceVersion) behind the test's back any more. Returns the
    /// object then; panics if that takes longer than `timeout`.
    pub fn wait_settled(&self, res: &Res, name: &str, timeout: Duration) -> Value {
        let start = std::time::Instant::now();
        loop {
            if self.state().rollouts_in_flight == 0 {
                return self.get(res, "default", name).expect("object");
            }
            assert!(
                start.elapsed() < timeout,
                "the simulated controller is still rolling out after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A workload manifest with `app: NAME` labels and the given containers.
pub fn workload_manifest(res: &Res, name: &str, replicas: i64, containers: Value) -> Value {
    let selector = if res.plural == "deploymentconfigs" {
        json!({"deploymentconfig": name})
    } else {
        json!({"matchLabels": {"app": name}})
    };
    let labels = if res.plural == "deploymentconfigs" {
        json!({"app": name, "deploymentconfig": name})
    } else {
        json!({"app": name})
    };
    json!({
        "apiVersion": res.api_version(), "kind": res.kind,
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": selector,
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}}
    })
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    // civil-from-days (Howard Hinnant), UTC.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn res_of_kind(kind: &str) -> Option<Res> {
    ALL.iter().copied().find(|r| r.kind == kind)
}

/// The axum router: exec, and one fallback handler that parses API paths itself.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route(
            "/api/v1/namespaces/{ns}/pods/{pod}/exec",
            axum::routing::any(exec::handle),
        )
        .fallback(handle)
        .with_state(state)
}

/// A `Status` response.
pub fn status(code: u16, reason: &str, message: String, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason,
        "details": details, "code": code
    });
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(value: Value) -> Response {
    ok_code(200, value)
}

fn ok_code(code: u16, value: Value) -> Response {
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        [("content-type", "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn not_found_path() -> Response {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource".into(),
        json!({}),
    )
}

fn not_found(res: &Res, name: &str) -> Response {
    status(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", res.qualified()),
        json!({"name": name, "group": res.group, "kind": res.plural}),
    )
}

fn conflict(res: &Res, name: &str, why: &str) -> Response {
    status(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            res.qualified()
        ),
        json!({"name": name, "group": res.group, "kind": res.plural}),
    )
}

fn invalid(res: &Res, name: &str, causes: Vec<(String, String)>) -> Response {
    let text: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
    status(
        422,
        "Invalid",
        format!("{} \"{name}\" is invalid: {}", res.kind, text.join(", ")),
        json!({"name": name, "group": res.group, "kind": res.kind,
               "causes": causes.iter().map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f})).collect::<Vec<_>>()}),
    )
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(
    AxState(state): AxState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = state.lock().map(|s| s.latency).unwrap_or_default();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let faulty = {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        let hit = st.faults.iter_mut().find(|(m, part, _, _)| {
            m.as_deref().is_none_or(|m| m == method.as_str()) && path.contains(part.as_str())
        });
        hit.and_then(|(_, _, fault, served)| {
            let r = faults::answer(fault, *served);
            *served += 1;
            r
        })
    };
    let response = match faulty {
        Some(r) => r,
        None => route(&state, &method, &path, &query, &headers, &body),
    };
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    st.log.push(Request {
        method: method.to_string(),
        path,
        query,
        content_type: header("content-type").unwrap_or_default(),
        impersonate_user: header("impersonate-user"),
        impersonate_groups: headers
            .get_all("impersonate-group")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect(),
        authorization: header("authorization"),
        user_agent: header("user-agent"),
        status: response.status().as_u16(),
    });
    response
}

fn discovery_resources(res: &[Res]) -> Vec<Value> {
    let mut out = Vec::new();
    for r in res {
        let verbs = if r.workload {
            json!(["get", "list", "patch", "update", "watch"])
        } else {
            json!(["get", "list"])
        };
        out.push(
            json!({"name": r.plural, "singularName": r.singular, "namespaced": true,
                        "kind": r.kind, "verbs": verbs, "shortNames": [r.short]}),
        );
        if r.workload {
            out.push(json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": true,
                            "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
    }
    out
}

fn served(openshift: bool) -> Vec<Res> {
    ALL.iter()
        .copied()
        .filter(|r| openshift || r.group != "apps.openshift.io")
        .collect()
}

fn route(
    state: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let openshift = state.lock().map(|s| s.openshift).unwrap_or(false);
    let resources = served(openshift);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Discovery.
    match parts.as_slice() {
        ["version"] => {
            return ok(
                json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-warpdrive-double", "platform": "linux/amd64"}),
            )
        }
        ["api"] => {
            return ok(
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
            )
        }
        ["apis"] => {
            let mut groups: Vec<(&str, &str)> = resources
                .iter()
                .filter(|r| !r.group.is_empty())
                .map(|r| (r.group, r.version))
                .collect();
            groups.dedup();
            let groups: Vec<Value> = groups
                .iter()
                .map(|(g, v)| {
                    let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
                })
                .collect();
            return ok(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}));
        }
        ["api", "v1"] => {
            let rs: Vec<Res> = resources
                .iter()
                .copied()
                .filter(|r| r.group.is_empty())
                .collect();
            return ok(
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": discovery_resources(&rs)}),
            );
        }
        ["apis", g, v] => {
            let rs: Vec<Res> = resources
                .iter()
                .copied()
                .filter(|r| r.group == *g && r.version == *v)
                .collect();
            if rs.is_empty() {
                return not_found_path();
            }
            return ok(
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{g}/{v}"), "resources": discovery_resources(&rs)}),
            );
        }
        _ => {}
    }
    // Namespaced resource paths: /api/v1/namespaces/NS/PLURAL[/NAME[/SUB]] or /apis/G/V/namespaces/...
    let (group, version, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return not_found_path(),
    };
    let (ns, plural, name, sub) = match rest {
        ["namespaces", ns, plural] => (*ns, *plural, None, None),
        ["namespaces", ns, plural, name] => (*ns, *plural, Some(*name), None),
        ["namespaces", ns, plural, name, sub] => (*ns, *plural, Some(*name), Some(*sub)),
        _ => return not_found_path(),
    };
    let Some(res) = resources
        .iter()
        .copied()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
    else {
        return not_found_path();
    };
    let dry_run = query_param(query, "dryRun").is_some_and(|v| v == "All");
    let verb = match (method.as_str(), name) {
        ("GET", None) if query_param(query, "watch").is_some_and(|w| w == "true" || w == "1") => {
            "watch"
        }
        ("GET", None) => "list",
        ("GET", Some(_)) => "get",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("POST", _) => "create",
        ("DELETE", _) => "delete",
        _ => "unknown",
    };
    let rbac_resource = match sub {
        Some(s) => format!("{plural}/{s}"),
        None => plural.to_string(),
    };
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    if st
        .deny
        .iter()
        .any(|(v, r)| v == verb && *r == rbac_resource)
    {
        let user = headers
            .get("impersonate-user")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("tester")
            .to_string();
        let object = match name {
            Some(n) => format!("{} \"{n}\" is forbidden", res.qualified()),
            None => format!("{} is forbidden", res.qualified()),
        };
        let group_text = if res.group.is_empty() {
            "\"\"".to_string()
        } else {
            format!("\"{}\"", res.group)
        };
        return status(
            403,
            "Forbidden",
            format!("{object}: User \"{user}\" cannot {verb} resource \"{rbac_resource}\" in API group {group_text} in the namespace \"{ns}\""),
            json!({"name": name.unwrap_or(""), "group": res.group, "kind": res.plural}),
        );
    }
    let Some(name) = name else {
        if verb != "list" {
            return status(
                405,
                "MethodNotAllowed",
                format!("{verb} is not supported on {}", res.qualified()),
                json!({}),
            );
        }
        let selector = query_param(query, "labelSelector").unwrap_or_default();
        let items: Vec<Value> = st
            .objects
            .iter()
            .filter(|((p, n, _), o)| *p == res.plural && n == ns && matches_selector(o, &selector))
            .map(|(_, o)| o.clone())
            .collect();
        let rv = st.resource_version.to_string();
        return ok(
            json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(),
                         "metadata": {"resourceVersion": rv}, "items": items}),
        );
    };
    let key: Key = (res.plural, ns.to_string(), name.to_string());
    let Some(mut current) = st.objects.get(&key).cloned() else {
        return not_found(&res, name);
    };
    if matches!(verb, "update" | "patch") && !dry_run {
        if let Some(patch) = st.interfere.take() {
            let mut other = current.clone();
            json_patch::merge(&mut other, &patch);
            let _ = commit(&mut st, state, &res, &key, &current, other, false);
            current = st.objects[&key].clone();
        }
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    match (sub, method.as_str()) {
        (None, "GET") => {
            *st.reads.entry(key).or_default() += 1;
            ok(current)
        }
        (Some("scale"), "GET") if res.workload => ok(scale_of(&res, &current)),
        (None, "PUT") => {
            let Ok(new) = serde_json::from_slice::<Value>(body) else {
                return status(
                    400,
                    "BadRequest",
                    "the body is not a JSON object".into(),
                    json!({}),
                );
            };
            let sent_rv = new["metadata"]["resourceVersion"].as_str().unwrap_or("");
            if !sent_rv.is_empty() && sent_rv != current["metadata"]["resourceVersion"] {
                return conflict(&res, name, "the object has been modified; please apply your changes to the latest version and try again");
            }
            commit(&mut st, state, &res, &key, &current, new, dry_run)
        }
        (None, "PATCH") => {
            let mut new = current.clone();
            let real = st.test_failure_is_422;
            if let Err(resp) = apply_patch(&res, name, &content_type, body, &mut new, real) {
                return resp;
            }
            commit(&mut st, state, &res, &key, &current, new, dry_run)
        }
        (Some("scale"), "PUT" | "PATCH") if res.workload => {
            let scale = scale_of(&res, &current);
            let new_scale = if method == Method::PUT {
                let Ok(s) = serde_json::from_slice::<Value>(body) else {
                    return status(
                        400,
                        "BadRequest",
                        "the body is not a JSON object".into(),
                        json!({}),
                    );
                };
                let sent_rv = s["metadata"]["resourceVersion"].as_str().unwrap_or("");
                if !sent_rv.is_empty() && sent_rv != current["metadata"]["resourceVersion"] {
                    return conflict(&res, name, "the object has been modified; please apply your changes to the latest version and try again");
                }
                s
            } else {
                if content_type != "application/merge-patch+json" {
                    return unsupported(&content_type);
                }
                let mut s = scale.clone();
                let Ok(patch) = serde_json::from_slice::<Value>(body) else {
                    return status(400, "BadRequest", "the patch is not JSON".into(), json!({}));
                };
                json_patch::merge(&mut s, &patch);
                s
            };
            let Some(replicas) = new_scale["spec"]["replicas"].as_i64().filter(|r| *r >= 0) else {
                return invalid(
                    &res,
                    name,
                    vec![(
                        "spec.replicas".into(),
                        "must be greater than or equal to 0".into(),
                    )],
                );
            };
            let mut new = current.clone();
            new["spec"]["replicas"] = Value::from(replicas);
            let resp = commit(&mut st, state, &res, &key, &current, new, dry_run);
            if !resp.status().is_success() {
                return resp;
            }
            let stored = if dry_run {
                let mut c = current.clone();
                c["spec"]["replicas"] = Value::from(replicas);
                c
            } else {
                st.objects[&key].clone()
            };
            ok(scale_of(&res, &stored))
        }
        _ => status(
            405,
            "MethodNotAllowed",
            format!("{} is not supported here", method),
            json!({}),
        ),
    }
}

fn unsupported(content_type: &str) -> Response {
    status(
        415,
        "UnsupportedMediaType",
        format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (this double refuses {content_type:?})"),
        json!({}),
    )
}

/// Applies a JSON Patch or merge patch; 415 for anything else.
#[allow(clippy::result_large_err)]
fn apply_patch(
    res: &Res,
    name: &str,
    content_type: &str,
    body: &[u8],
    doc: &mut Value,
    test_failure_is_422: bool,
) -> Result<(), Response> {
    match content_type {
        "application/json-patch+json" => {
            let patch: json_patch::Patch = serde_json::from_slice(body).map_err(|e| {
                status(
                    400,
                    "BadRequest",
                    format!("invalid JSON Patch: {e}"),
                    json!({}),
                )
            })?;
            json_patch::patch(doc, &patch.0).map_err(|e| match e.kind {
                json_patch::PatchErrorKind::TestFailed if !test_failure_is_422 => conflict(
                    res,
                    name,
                    &format!(
                        "the JSON Patch test at {} failed: the object has been modified",
                        e.path
                    ),
                ),
                _ => status(
                    422,
                    "Invalid",
                    format!(
                        "{} \"{name}\" is invalid: JSON Patch operation {} ({}): {}",
                        res.kind, e.operation, e.path, e.kind
                    ),
                    json!({"name": name, "kind": res.kind}),
                ),
            })
        }
        "application/merge-patch+json" => {
            let patch: Value = serde_json::from_slice(body).map_err(|e| {
                status(
                    400,
                    "BadRequest",
                    format!("invalid merge patch: {e}"),
                    json!({}),
                )
            })?;
            json_patch::merge(doc, &patch);
            Ok(())
        }
        other => Err(unsupported(other)),
    }
}

/// Validation a real server would do on the fields the tool touches.
fn validate(new: &Value) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    if let Some(r) = new.pointer("/spec/replicas") {
        if r.as_i64().is_none_or(|r| r < 0) {
            causes.push((
                "spec.replicas".into(),
                "must be greater than or equal to 0".into(),
            ));
        }
    }
    let containers = new
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array);
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in containers.into_iter().flatten().enumerate() {
        let cname = c["name"].as_str().unwrap_or("");
        if cname.is_empty() || !names.insert(cname.to_string()) {
            causes.push((
                format!("spec.template.spec.containers[{i}].name"),
                "must be unique and non-empty".into(),
            ));
        }
        for (j, e) in c["env"].as_array().into_iter().flatten().enumerate() {
            let field = format!("spec.template.spec.containers[{i}].env[{j}]");
            let ename = e["name"].as_str().unwrap_or("");
            let valid = !ename.is_empty()
                && !ename.starts_with(|ch: char| ch.is_ascii_digit())
                && ename
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-._".contains(ch));
            if !valid {
                causes.push((format!("{field}.name"), format!("Invalid value: {ename:?}: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.'")));
            }
            if e.get("value").is_some_and(|v| !v.is_string()) {
                causes.push((format!("{field}.value"), "must be a string".into()));
            }
            if e.get("value").is_some_and(|v| v.as_str() != Some(""))
                && e.get("valueFrom").is_some()
            {
                causes.push((
                    format!("{field}.valueFrom"),
                    "may not be specified when `value` is not empty".into(),
                ));
            }
        }
    }
    causes
}

/// Stores a new version of an object the way the apiserver does: keep
/// server-owned metadata and status, bump generation when spec changed, new
/// resourceVersion, start the controller when template or replicas changed.
fn commit(
    st: &mut State,
    shared: &Shared,
    res: &Res,
    key: &Key,
    current: &Value,
    mut new: Value,
    dry_run: bool,
) -> Response {
    let name = key.2.as_str();
    if new["metadata"]["name"] != current["metadata"]["name"] || new["kind"] != current["kind"] {
        return status(
            400,
            "BadRequest",
            format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                new["metadata"]["name"]
            ),
            json!({}),
        );
    }
    let mut causes = validate(&new);
    causes.extend(st.reject_writes.clone());
    if !causes.is_empty() {
        return invalid(res, name, causes);
    }
    for field in [
        "uid",
        "creationTimestamp",
        "namespace",
        "generation",
        "resourceVersion",
    ] {
        match current["metadata"].get(field) {
            Some(v) => new["metadata"][field] = v.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(field);
                }
            }
        }
    }
    match current.get("status") {
        Some(s) => new["status"] = s.clone(),
        None => {
            if let Some(m) = new.as_object_mut() {
                m.remove("status");
            }
        }
    }
    let spec_changed = new.get("spec") != current.get("spec");
    if spec_changed && res.workload {
        let generation = current["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        new["metadata"]["generation"] = Value::from(generation);
    }
    if dry_run {
        return ok(new);
    }
    if new == *current {
        return ok(new);
    }
    new["metadata"]["resourceVersion"] = Value::from(st.next_rv());
    let template_changed = new.pointer("/spec/template") != current.pointer("/spec/template");
    if template_changed && res.plural == "deploymentconfigs" {
        let v = current
            .pointer("/status/latestVersion")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            + 1;
        new["status"]["latestVersion"] = Value::from(v);
    }
    st.objects.insert(key.clone(), new.clone());
    if spec_changed && res.workload {
        let generation = new["metadata"]["generation"].as_i64().unwrap_or(1);
        spawn_rollout(st, shared.clone(), key.clone(), generation);
    }
    ok(new)
}

/// The autoscaling/v1 Scale of a workload.
fn scale_of(res: &Res, obj: &Value) -> Value {
    let selector = if res.plural == "deploymentconfigs" {
        obj.pointer("/spec/selector")
    } else {
        obj.pointer("/spec/selector/matchLabels")
    };
    let selector: Vec<String> = selector
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                     "uid": obj["metadata"]["uid"], "resourceVersion": obj["metadata"]["resourceVersion"],
                     "creationTimestamp": obj["metadata"]["creationTimestamp"]},
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(Value::from(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(Value::from(0)),
                   "selector": selector.join(",")}
    })
}

/// Equality-based and `key`/`!key`/`in`/`notin` label selectors.
pub fn matches_selector(obj: &Value, selector: &str) -> bool {
    let labels = &obj["metadata"]["labels"];
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, ch) in selector.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .all(|t| {
            if let Some((k, v)) = t.split_once("!=") {
                label(k.trim()) != Some(v.trim())
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                label(k.trim()) == Some(v.trim())
            } else if let Some((k, set)) = t.split_once(" notin ") {
                let set = set.trim().trim_start_matches('(').trim_end_matches(')');
                !set.split(',').any(|v| label(k.trim()) == Some(v.trim()))
            } else if let Some((k, set)) = t.split_once(" in ") {
                let set = set.trim().trim_start_matches('(').trim_end_matches(')');
                set.split(',').any(|v| label(k.trim()) == Some(v.trim()))
            } else if let Some(k) = t.strip_prefix('!') {
                label(k.trim()).is_none()
            } else {
                label(t).is_some()
            }
        })
}

// ---------------------------------------------------------------------------
// Rollout simulator

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Observe the new generation; create the missing new pods (not ready).
    Create,
    /// New pods ready, old ones gone, Progressing=NewReplicaSetAvailable
    /// (or ProgressDeadlineExceeded when failing).
    Finish,
}

/// Starts the controller's two steps for `generation`, one per
/// `rollout_delay`. Counted in [`State::rollouts_in_flight`] until the last
/// step is done (or a newer generation took over).
fn spawn_rollout(st: &mut State, shared: Shared, key: Key, generation: i64) {
    let delay = st.rollout_delay;
    let reads_per_step = st.reads_per_step;
    let mut reads_before = st.reads.get(&key).copied().unwrap_or(0);
    st.rollouts_in_flight += 1;
    tokio::spawn(async move {
        for step in [Step::Create, Step::Finish] {
            tokio::time::sleep(delay).await;
            // With reads_per_step, wait (at most 30 s) until the state so far was read.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let reads = {
                    let st = shared.lock().unwrap_or_else(|e| e.into_inner());
                    st.reads.get(&key).copied().unwrap_or(0)
                };
                if reads >= reads_before + reads_per_step || std::time::Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let mut st = shared.lock().unwrap_or_else(|e| e.into_inner());
            reads_before = st.reads.get(&key).copied().unwrap_or(0);
            let current = st
                .objects
                .get(&key)
                .and_then(|o| o["metadata"]["generation"].as_i64());
            if current != Some(generation) {
                st.rollouts_in_flight -= 1;
                return; // a newer change took over
            }
            rollout_step(&mut st, &key, generation, step);
            if step == Step::Finish {
                st.rollouts_in_flight -= 1;
            }
        }
    });
}

/// The label that tells pods of the current template apart, and its value.
fn template_hash(plural: &str, obj: &Value) -> (&'static str, String) {
    if plural == "deploymentconfigs" {
        let name = obj["metadata"]["name"].as_str().unwrap_or("");
        let v = obj
            .pointer("/status/latestVersion")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        ("deployment", format!("{name}-{v}"))
    } else {
        let text = obj
            .pointer("/spec/template")
            .map(|t| t.to_string())
            .unwrap_or_default();
        // FNV-1a, printed like a pod-template-hash.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut s = String::new();
        for _ in 0..10 {
            s.push(ALPHABET[(h % ALPHABET.len() as u64) as usize] as char);
            h /= ALPHABET.len() as u64;
        }
        ("pod-template-hash", s)
    }
}

fn rollout_step(st: &mut State, key: &Key, generation: i64, step: Step) {
    let Some(obj) = st.objects.get(key).cloned() else {
        return;
    };
    let (plural, ns, name) = (key.0, key.1.clone(), key.2.clone());
    let (hash_label, hash) = template_hash(plural, &obj);
    let desired = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0) as usize;
    let owned = |o: &Value| o["metadata"]["ownerReferences"][0]["name"] == name.as_str();
    let mut pods: Vec<(Key, Value)> = st
        .objects
        .iter()
        .filter(|((p, n, _), o)| *p == "pods" && *n == ns && owned(o))
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect();
    pods.sort_by(|a, b| a.0.cmp(&b.0));
    let is_new = |o: &Value| o["metadata"]["labels"][hash_label] == hash.as_str();
    let fail = st.fail_rollouts;
    let dc = plural == "deploymentconfigs";
    let rs_name = if dc {
        hash.clone()
    } else {
        format!("{name}-{hash}")
    };
    let (progress_reason, progress_message) = match step {
        Step::Create => (
            if dc {
                "ReplicationControllerUpdated"
            } else {
                "ReplicaSetUpdated"
            },
            if dc {
                format!("replication controller \"{rs_name}\" is progressing")
            } else {
                format!("ReplicaSet \"{rs_name}\" is progressing.")
            },
        ),
        Step::Finish if fail => (
            "ProgressDeadlineExceeded",
            if dc {
                format!("replication controller \"{rs_name}\" has failed progressing")
            } else {
                format!("ReplicaSet \"{rs_name}\" has timed out progressing.")
            },
        ),
        Step::Finish => (
            if dc {
                "NewReplicationControllerAvailable"
            } else {
                "NewReplicaSetAvailable"
            },
            if dc {
                format!("replication controller \"{rs_name}\" successfully rolled out")
            } else {
                format!("ReplicaSet \"{rs_name}\" has successfully progressed.")
            },
        ),
    };
    match step {
        Step::Create => {
            let mut new_count = pods.iter().filter(|(_, o)| is_new(o)).count();
            // Scale down new pods beyond the desired count.
            for (k, o) in pods.iter().rev() {
                if is_new(o) && new_count > desired {
                    st.objects.remove(k);
                    new_count -= 1;
                }
            }
            while new_count < desired {
                let suffix = st.random_suffix();
                let pod_name = format!("{rs_name}-{suffix}");
                let mut labels = obj
                    .pointer("/spec/template/metadata/labels")
                    .cloned()
                    .unwrap_or(json!({}));
                labels[hash_label] = Value::from(hash.clone());
                if dc {
                    labels["deploymentconfig"] = Value::from(name.clone());
                }
                let containers = obj
                    .pointer("/spec/template/spec/containers")
                    .cloned()
                    .unwrap_or(json!([]));
                let pod = json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": pod_name, "namespace": ns, "labels": labels,
                                 "annotations": obj.pointer("/spec/template/metadata/annotations").cloned().unwrap_or(json!({})),
                                 "uid": format!("uid-pod-{pod_name}"), "creationTimestamp": now(),
                                 "resourceVersion": st.next_rv(),
                                 "ownerReferences": [{"name": name, "kind": if dc { "ReplicationController" } else { "ReplicaSet" }, "controller": true}]},
                    "spec": {"containers": containers},
                    "status": pod_status(&obj, false)
                });
                st.objects.insert(("pods", ns.clone(), pod_name), pod);
                new_count += 1;
            }
        }
        Step::Finish if fail => {}
        Step::Finish => {
            for (k, o) in &pods {
                if is_new(o) {
                    if let Some(p) = st.objects.get_mut(k) {
                        p["status"] = pod_status(&obj, true);
                    }
                } else {
                    st.objects.remove(k);
                }
            }
        }
    }
    // Recompute status from the pods.
    let pods: Vec<Value> = st
        .objects
        .iter()
        .filter(|((p, n, _), o)| *p == "pods" && *n == ns && owned(o))
        .map(|(_, o)| o.clone())
        .collect();
    let ready = |o: &Value| {
        o["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|cs| !cs.is_empty() && cs.iter().all(|c| c["ready"] == true))
    };
    let total = pods.len();
    let updated = pods.iter().filter(|o| is_new(o)).count();
    let ready_count = pods.iter().filter(|o| ready(o)).count();
    let now = now();
    let rv = st.next_rv();
    let Some(stored) = st.objects.get_mut(key) else {
        return;
    };
    let s = &mut stored["status"];
    s["observedGeneration"] = Value::from(generation);
    s["replicas"] = Value::from(total);
    s["updatedReplicas"] = Value::from(updated);
    s["readyReplicas"] = Value::from(ready_count);
    s["availableReplicas"] = Value::from(ready_count);
    s["unavailableReplicas"] = Value::from(total.saturating_sub(ready_count));
    let available = ready_count >= desired;
    s["conditions"] = json!([
        {"type": "Available", "status": if available { "True" } else { "False" },
         "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
         "message": if available { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
         "lastUpdateTime": now, "lastTransitionTime": now},
        {"type": "Progressing", "status": if step == Step::Finish && fail { "False" } else { "True" },
         "reason": progress_reason, "message": progress_message,
         "lastUpdateTime": now, "lastTransitionTime": now}
    ]);
    stored["metadata"]["resourceVersion"] = Value::from(rv);
}

fn pod_status(obj: &Value, ready: bool) -> Value {
    let names: Vec<Value> = obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| c["name"].clone())
        .collect();
    let statuses: Vec<Value> = names
        .iter()
        .map(|n| {
            let state = if ready {
                json!({"running": {"startedAt": now()}})
            } else {
                json!({"waiting": {"reason": "ContainerCreating"}})
            };
            json!({"name": n, "ready": ready, "restartCount": 0, "started": ready, "state": state, "image": "app", "imageID": ""})
        })
        .collect();
    json!({
        "phase": if ready { "Running" } else { "Pending" },
        "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
        "containerStatuses": statuses
    })
}

impl ApiServer {
    /// Runs the real binary with `args` and `--kubeconfig` pointing here (60 s
    /// cap), for the checks of [`crate::support::check`].
    pub fn run(&self, args: &[&str]) -> crate::support::Outcome {
        use crate::support::RunExt;
        let mut cmd = crate::support::warpdrive();
        cmd.args(args).arg("--kubeconfig").arg(self.kubeconfig());
        cmd.run_within(Duration::from_secs(60))
    }
}

/// Shorthand: one container named `name` with the given env pairs.
pub fn container(name: &str, env: &[(&str, &str)]) -> Value {
    let env: Vec<Value> = env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    json!({"name": name, "image": "quay.io/example/app:1", "env": env})
}

pub mod exec;
pub mod faults;
/// HTTPS for the double: a throwaway CA and a rustls acceptor.
mod tls {
    use std::sync::Arc;
    use std::time::Duration;

    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::{self, ServerConfig};
    use tokio_rustls::TlsAcceptor;

    /// A new CA (returned as PEM) and an acceptor presenting a certificate
    /// for 127.0.0.1 and localhost signed by it.
    pub fn acceptor() -> (String, TlsAcceptor) {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "warpdrive API-server double CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
            .expect("ca");
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("params")
            .signed_by(&key, &ca)
            .expect("cert");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server config");
        (ca.pem(), TlsAcceptor::from(Arc::new(config)))
    }

    /// A TCP listener that completes the TLS handshake before handing out a
    /// connection (a failed or slow handshake is dropped).
    pub struct Listener {
        pub tcp: tokio::net::TcpListener,
        pub acceptor: TlsAcceptor,
    }

    impl axum::serve::Listener for Listener {
        type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
        type Addr = std::net::SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            loop {
                let Ok((tcp, addr)) = self.tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let handshake = self.acceptor.accept(tcp);
                if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                    return (tls, addr);
                }
            }
        }

        fn local_addr(&self) -> std::io::Result<Self::Addr> {
            self.tcp.local_addr()
        }
    }
}

#[cfg(test)]
mod tests;
