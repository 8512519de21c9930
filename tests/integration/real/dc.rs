//! The DeploymentConfig mini-controller: what openshift-controller-manager's
//! DeploymentConfig controller and its deployer pods do, reduced to what the
//! plugin depends on. The real kube-controller-manager runs the
//! ReplicationControllers it makes, kwok makes their pods Running and Ready.
//!
//! Every 100 ms it lists the DeploymentConfigs (the CRD from
//! tests/k8s/manifests/deploymentconfig-crd.yaml) and the
//! ReplicationControllers labelled `openshift.io/deployment-config.name`, in
//! all namespaces, and for each DeploymentConfig:
//!
//! * **new version**: when `spec.template` differs from the template of the
//!   latest ReplicationController (kept, as OpenShift does, in its
//!   `openshift.io/encoded-deployment-config` annotation), or there is none,
//!   and the DC has a ConfigChange trigger (a DC without `triggers` counts as
//!   having one: OpenShift defaults it so) and is not paused: creates
//!   ReplicationController `NAME-N`, N = `status.latestVersion` + 1, owned by
//!   the DC, selector = the DC's selector + `deployment=NAME-N` +
//!   `deploymentconfig=NAME`, the same labels on the pod template, and the
//!   annotations OpenShift sets (`openshift.io/deployment-config.name`,
//!   `openshift.io/deployment-config.latest-version`,
//!   `openshift.io/deployment.name` on the pods,
//!   `openshift.io/deployment.phase`, `openshift.io/encoded-deployment-config`).
//! * **rollout**, for every strategy alike: the latest ReplicationController
//!   gets `spec.replicas`; once all its replicas are available, the older
//!   ones are scaled to 0 (no deployer pod, no hooks, no maxSurge/maxUnavailable).
//! * **status**, written through the status subresource only when it changes:
//!   `latestVersion`, `observedGeneration` (the generation acted on),
//!   `replicas`/`readyReplicas`/`availableReplicas` summed over the
//!   ReplicationControllers, `updatedReplicas` (the latest one's),
//!   `unavailableReplicas`, `selector` (the scale subresource's label
//!   selector), `details` on a new version, and the conditions `Available`
//!   and `Progressing` (reason `ReplicationControllerUpdated` while rolling
//!   out, `NewReplicationControllerAvailable` when done).
//!
//! Every request has a bound (15 s); errors are logged to
//! `$WARPDRIVE_K8S_STATE/logs/dc-controller.log` and retried on the next pass.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ReplicationController;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use super::ControlPlane;

pub const DC_NAME_LABEL: &str = "openshift.io/deployment-config.name";
pub const LATEST_VERSION_ANNOTATION: &str = "openshift.io/deployment-config.latest-version";
pub const DEPLOYMENT_NAME_ANNOTATION: &str = "openshift.io/deployment.name";
pub const PHASE_ANNOTATION: &str = "openshift.io/deployment.phase";
pub const ENCODED_ANNOTATION: &str = "openshift.io/encoded-deployment-config";
const MANAGER: &str = "openshift-controller-manager";
const REQUEST_BOUND: Duration = Duration::from_secs(15);
const PERIOD: Duration = Duration::from_millis(100);

/// Passes completed since start, for tests that want to see it alive.
pub static PASSES: AtomicU64 = AtomicU64::new(0);

/// The running controller; it stops with the test process (or on drop).
pub struct Controller {
    stop: Arc<AtomicBool>,
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn dc_resource() -> ApiResource {
    ApiResource {
        group: "apps.openshift.io".into(),
        version: "v1".into(),
        api_version: "apps.openshift.io/v1".into(),
        kind: "DeploymentConfig".into(),
        plural: "deploymentconfigs".into(),
    }
}

type Result<T> = std::result::Result<T, String>;

async fn client(kubeconfig: &std::path::Path) -> Result<kube::Client> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).map_err(|e| e.to_string())?;
    let mut config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .map_err(|e| e.to_string())?;
    config.connect_timeout = Some(REQUEST_BOUND);
    config.read_timeout = Some(REQUEST_BOUND);
    config.write_timeout = Some(REQUEST_BOUND);
    kube::Client::try_from(config).map_err(|e| e.to_string())
}

/// Starts the controller thread for `plane`.
pub fn start(plane: &ControlPlane) -> Result<Controller> {
    let stop = Arc::new(AtomicBool::new(false));
    let kubeconfig = plane.kubeconfig.clone();
    let log_path = plane.state.join("logs/dc-controller.log");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = runtime.block_on(client(&kubeconfig))?;
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("dc-controller".into())
        .spawn(move || {
            let mut log = Log::new(log_path);
            runtime.block_on(async {
                while !flag.load(Ordering::SeqCst) {
                    match tokio::time::timeout(REQUEST_BOUND * 4, pass(&client, &mut log)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => log.line(&format!("pass failed: {e}")),
                        Err(_) => log.line("pass timed out"),
                    }
                    PASSES.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(PERIOD).await;
                }
            });
        })
        .map_err(|e| e.to_string())?;
    Ok(Controller { stop })
}

struct Log {
    path: PathBuf,
    last: String,
}

impl Log {
    fn new(path: PathBuf) -> Log {
        Log {
            path,
            last: String::new(),
        }
    }

    /// Appends a line (a repeat of the previous line is dropped).
    fn line(&mut self, text: &str) {
        if text == self.last {
            return;
        }
        self.last = text.to_string();
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            let _ = writeln!(f, "{text}");
        }
    }
}

/// One pass over every DeploymentConfig.
async fn pass(client: &kube::Client, log: &mut Log) -> Result<()> {
    let dcs: Api<DynamicObject> = Api::all_with(client.clone(), &dc_resource());
    let rcs: Api<ReplicationController> = Api::all(client.clone());
    let dc_list = dcs
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("list deploymentconfigs: {e}"))?;
    let rc_list = rcs
        .list(&ListParams::default().labels(DC_NAME_LABEL))
        .await
        .map_err(|e| format!("list replicationcontrollers: {e}"))?;
    let mut by_dc: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for rc in rc_list.items {
        let rc = serde_json::to_value(rc).map_err(|e| e.to_string())?;
        let ns = str_at(&rc, "/metadata/namespace");
        let dc = rc
            .pointer("/metadata/labels")
            .and_then(|l| l.get(DC_NAME_LABEL))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        by_dc.entry((ns, dc)).or_default().push(rc);
    }
    for dc in dc_list.items {
        let dc = serde_json::to_value(dc).map_err(|e| e.to_string())?;
        let key = (
            str_at(&dc, "/metadata/namespace"),
            str_at(&dc, "/metadata/name"),
        );
        if dc.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let owned = by_dc.remove(&key).unwrap_or_default();
        if let Err(e) = reconcile(client, &dc, owned).await {
            log.line(&format!("{}/{}: {e}", key.0, key.1));
        }
    }
    Ok(())
}

fn str_at(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn int_at(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// The version an RC belongs to (its latest-version annotation).
fn version_of(rc: &Value) -> i64 {
    rc.pointer("/metadata/annotations")
        .and_then(|a| a.get(LATEST_VERSION_ANNOTATION))
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The DC's selector; OpenShift defaults an empty one to the template's labels.
fn selector(dc: &Value) -> BTreeMap<String, String> {
    let from = |ptr: &str| -> BTreeMap<String, String> {
        dc.pointer(ptr)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let sel = from("/spec/selector");
    if sel.is_empty() {
        from("/spec/template/metadata/labels")
    } else {
        sel
    }
}

fn has_config_change_trigger(dc: &Value) -> bool {
    match dc.pointer("/spec/triggers") {
        None | Some(Value::Null) => true,
        Some(Value::Array(ts)) => ts
            .iter()
            .any(|t| t.get("type").and_then(Value::as_str) == Some("ConfigChange")),
        Some(_) => false,
    }
}

/// The template an RC was made from.
fn deployed_template(rc: &Value) -> Option<Value> {
    let encoded = rc
        .pointer("/metadata/annotations")?
        .get(ENCODED_ANNOTATION)?
        .as_str()?;
    let dc: Value = serde_json::from_str(encoded).ok()?;
    dc.pointer("/spec/template").cloned()
}

/// RC `NAME-N` for version `n` of `dc`.
fn make_rc(dc: &Value, n: i64) -> Value {
    let name = str_at(dc, "/metadata/name");
    let rc_name = format!("{name}-{n}");
    let mut template = dc.pointer("/spec/template").cloned().unwrap_or(json!({}));
    if !template.get("metadata").is_some_and(Value::is_object) {
        template["metadata"] = json!({});
    }
    let meta = &mut template["metadata"];
    for (key, value) in [
        ("deployment", rc_name.as_str()),
        ("deploymentconfig", name.as_str()),
    ] {
        if !meta.get("labels").is_some_and(Value::is_object) {
            meta["labels"] = json!({});
        }
        meta["labels"][key] = json!(value);
    }
    if !meta.get("annotations").is_some_and(Value::is_object) {
        meta["annotations"] = json!({});
    }
    meta["annotations"][DC_NAME_LABEL] = json!(name);
    meta["annotations"][LATEST_VERSION_ANNOTATION] = json!(n.to_string());
    meta["annotations"][DEPLOYMENT_NAME_ANNOTATION] = json!(rc_name);
    let mut sel: serde_json::Map<String, Value> = selector(dc)
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect();
    sel.insert("deployment".into(), json!(rc_name));
    sel.insert("deploymentconfig".into(), json!(name));
    let mut encoded = dc.clone();
    if let Some(m) = encoded.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    if let Some(o) = encoded.as_object_mut() {
        o.remove("status");
    }
    json!({
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {
            "name": rc_name,
            "namespace": str_at(dc, "/metadata/namespace"),
            "labels": {DC_NAME_LABEL: name},
            "annotations": {
                DC_NAME_LABEL: name,
                LATEST_VERSION_ANNOTATION: n.to_string(),
                PHASE_ANNOTATION: "Running",
                ENCODED_ANNOTATION: encoded.to_string(),
            },
            "ownerReferences": [{
                "apiVersion": "apps.openshift.io/v1",
                "kind": "DeploymentConfig",
                "name": name,
                "uid": str_at(dc, "/metadata/uid"),
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {
            "replicas": dc.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1),
            "minReadySeconds": dc.pointer("/spec/minReadySeconds").and_then(Value::as_i64).unwrap_or(0),
            "selector": sel,
            "template": template,
        },
    })
}

fn pp() -> PatchParams {
    PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    }
}

async fn reconcile(client: &kube::Client, dc: &Value, mut rcs: Vec<Value>) -> Result<()> {
    let ns = str_at(dc, "/metadata/namespace");
    let name = str_at(dc, "/metadata/name");
    let dcs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &dc_resource());
    let rc_api: Api<ReplicationController> = Api::namespaced(client.clone(), &ns);
    let generation = int_at(dc, "/metadata/generation");
    let replicas = dc
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let paused = dc.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let template = dc.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    let mut latest = int_at(dc, "/status/latestVersion");
    rcs.sort_by_key(version_of);

    let current = rcs.iter().find(|rc| version_of(rc) == latest && latest > 0);
    let changed = match current {
        Some(rc) => deployed_template(rc).as_ref() != Some(&template),
        None => true,
    };
    let mut new_version = false;
    if changed && !paused && has_config_change_trigger(dc) {
        latest += 1;
        new_version = true;
        let rc: ReplicationController =
            serde_json::from_value(make_rc(dc, latest)).map_err(|e| e.to_string())?;
        let made = match rc_api
            .create(
                &PostParams {
                    dry_run: false,
                    field_manager: Some(MANAGER.into()),
                },
                &rc,
            )
            .await
        {
            Ok(made) => made,
            Err(kube::Error::Api(s)) if s.code == 409 => rc_api
                .get(&format!("{name}-{latest}"))
                .await
                .map_err(|e| format!("get {name}-{latest}: {e}"))?,
            Err(e) => return Err(format!("create {name}-{latest}: {e}")),
        };
        let made = serde_json::to_value(made).map_err(|e| e.to_string())?;
        rcs.retain(|rc| version_of(rc) != latest);
        rcs.push(made);
    }

    // Scale: the latest RC to spec.replicas; the others to 0 once it is available.
    let latest_rc = rcs.iter().find(|rc| version_of(rc) == latest).cloned();
    let mut done = false;
    if let Some(rc) = &latest_rc {
        let rc_name = str_at(rc, "/metadata/name");
        if int_at(rc, "/spec/replicas") != replicas || rc.pointer("/spec/replicas").is_none() {
            rc_api
                .patch(
                    &rc_name,
                    &pp(),
                    &Patch::Merge(json!({"spec": {"replicas": replicas}})),
                )
                .await
                .map_err(|e| format!("scale {rc_name}: {e}"))?;
        }
        let rc_observed =
            int_at(rc, "/status/observedGeneration") >= int_at(rc, "/metadata/generation");
        let available = rc_observed
            && int_at(rc, "/spec/replicas") == replicas
            && int_at(rc, "/status/availableReplicas") >= replicas
            && int_at(rc, "/status/replicas") == replicas;
        if available {
            for old in rcs.iter().filter(|o| version_of(o) != latest) {
                if int_at(old, "/spec/replicas") != 0 {
                    let old_name = str_at(old, "/metadata/name");
                    rc_api
                        .patch(
                            &old_name,
                            &pp(),
                            &Patch::Merge(json!({"spec": {"replicas": 0}})),
                        )
                        .await
                        .map_err(|e| format!("scale down {old_name}: {e}"))?;
                }
            }
            done = rcs
                .iter()
                .filter(|o| version_of(o) != latest)
                .all(|o| int_at(o, "/status/replicas") == 0 && int_at(o, "/spec/replicas") == 0);
        }
        let phase = if done { "Complete" } else { "Running" };
        let has = rc
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(PHASE_ANNOTATION))
            .and_then(Value::as_str);
        if has != Some(phase) {
            rc_api
                .patch(
                    &rc_name,
                    &pp(),
                    &Patch::Merge(json!({"metadata": {"annotations": {PHASE_ANNOTATION: phase}}})),
                )
                .await
                .map_err(|e| format!("annotate {rc_name}: {e}"))?;
        }
    }

    // Status.
    let sum = |ptr: &str| rcs.iter().map(|rc| int_at(rc, ptr)).sum::<i64>();
    let total = sum("/status/replicas");
    let ready = sum("/status/readyReplicas");
    let available = sum("/status/availableReplicas");
    let updated = latest_rc
        .as_ref()
        .map(|rc| int_at(rc, "/status/replicas"))
        .unwrap_or(0);
    let selector = selector(dc)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let rc_name = format!("{name}-{latest}");
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let old_conditions = dc
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let condition = |kind: &str, status: &str, reason: &str, message: String| -> Value {
        let old = old_conditions
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(kind));
        let same = |k: &str, v: &str| old.and_then(|o| o.get(k)).and_then(Value::as_str) == Some(v);
        let transition = match old {
            Some(o) if same("status", status) => {
                o.get("lastTransitionTime").cloned().unwrap_or(json!(now))
            }
            _ => json!(now),
        };
        let update = match old {
            Some(o)
                if same("status", status)
                    && same("reason", reason)
                    && same("message", &message) =>
            {
                o.get("lastUpdateTime").cloned().unwrap_or(json!(now))
            }
            _ => json!(now),
        };
        json!({"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": transition, "lastUpdateTime": update})
    };
    let available_cond = if available >= replicas {
        condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment config has minimum availability.".into(),
        )
    } else {
        condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment config does not have minimum availability.".into(),
        )
    };
    let progressing = if latest_rc.is_none() {
        None
    } else if done {
        Some(condition(
            "Progressing",
            "True",
            "NewReplicationControllerAvailable",
            format!("replication controller {rc_name:?} successfully rolled out"),
        ))
    } else {
        Some(condition(
            "Progressing",
            "True",
            "ReplicationControllerUpdated",
            format!("replication controller {rc_name:?} is progressing"),
        ))
    };
    let mut conditions = vec![available_cond];
    conditions.extend(progressing);
    let mut status = json!({
        "latestVersion": latest,
        "observedGeneration": generation,
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "unavailableReplicas": (total - available).max(0),
        "selector": selector,
        "conditions": conditions,
    });
    match (new_version, dc.pointer("/status/details")) {
        (true, _) => {
            status["details"] =
                json!({"message": "config change", "causes": [{"type": "ConfigChange"}]})
        }
        (false, Some(d)) => status["details"] = d.clone(),
        (false, None) => {}
    }
    let unchanged = dc.get("status").is_some_and(|old| {
        let strip = |v: &Value| {
            let mut v = v.clone();
            for c in v
                .get_mut("conditions")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(o) = c.as_object_mut() {
                    o.remove("lastTransitionTime");
                    o.remove("lastUpdateTime");
                }
            }
            v
        };
        strip(old) == strip(&status)
    });
    if !unchanged {
        dcs.patch_status(&name, &pp(), &Patch::Merge(json!({"status": status})))
            .await
            .map_err(|e| format!("status: {e}"))?;
    }
    Ok(())
}
