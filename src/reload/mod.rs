//! `reload`: turn live code reloading on (one replica,
//! `MOD_WSGI_RELOAD_ON_CHANGES=1`, one write so one rollout) or off (restore
//! the remembered replica count), and sync the local tree into the newest
//! ready pod over the exec API (see [`crate::sync`]).
//!
//! * [`edit`]: the on/off object edits and the annotation that remembers the replicas.
//! * [`sync_loop`]: the sync, `--watch`'s loop and its signal handling.
//!
//! [`run`] takes [`Options`] whose flags are already checked (the command
//! names the flags in its messages); nothing in the cluster changes before
//! the target and container are found.

pub mod edit;
pub mod error;
pub mod sync_loop;

pub use error::Error;

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde_json::Value;

use crate::cli::{DryRun, KubeArgs};
use crate::cluster::{self, rollout, scale, target, workload, Cluster, Workload};
use crate::sync::{self, kube::KubeTransport, Excludes, Syncer};
use edit::{DEFAULT_DEST, REPLICAS_ANNOTATION, SRC_ROOT_VAR};
use workload::RELOAD_VAR;

/// What to sync after `on`.
pub struct SyncOptions {
    /// The local tree, canonical (from [`sync::source_dir`]).
    pub source: PathBuf,
    /// The directory in the container; `None`: the container's
    /// `WARPDRIVE_SRC_ROOT`, else [`DEFAULT_DEST`].
    pub dest: Option<String>,
    pub excludes: Excludes,
    /// Remove files in the pod that are gone locally.
    pub delete: bool,
    /// Keep syncing until SIGINT/SIGTERM.
    pub watch: bool,
}

/// What `reload` does.
pub enum Action {
    /// Switch reloading on; then sync, unless `None` (`--no-sync`).
    On(Option<Box<SyncOptions>>),
    /// Switch it off (nothing is synced).
    Off,
}

pub struct Options {
    pub target: target::Target,
    pub action: Action,
    /// `-c`: the container.
    pub container: Option<String>,
    /// How long to wait for the rollout.
    /// `None`: no limit (`--timeout 0`).
    pub timeout: Option<Duration>,
    pub kube: KubeArgs,
}

/// Runs `reload`; returns the exit code.
pub fn run(opts: Options) -> Result<i32, Error> {
    let rt = cluster::config::runtime()?;
    let cluster = rt.block_on(cluster::connect(&opts.kube))?;
    let w = rt.block_on(target::resolve(&cluster, &opts.target))?;
    let what = w.display();
    let idx = workload::select_container(&w.object, opts.container.as_deref(), &what)?;
    let container = workload::containers(&w.object)
        .get(idx)
        .cloned()
        .unwrap_or_default();
    let setup = match opts.action {
        Action::Off => return off(&rt, &cluster, w, idx, opts.timeout),
        Action::On(setup) => setup,
    };
    let before = on(&rt, &cluster, &w, idx)?;
    let result = after_on(&rt, &cluster, &w, idx, &container, setup, opts.timeout);
    match (result, before) {
        (Err(e), Some(before)) => Err(put_back(
            &rt, &cluster, &w, &container, &before, e, &opts.kube,
        )),
        (result, _) => result,
    }
}

/// What follows the `on` write: wait for the rollout, then sync.
fn after_on(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    w: &Workload,
    idx: usize,
    container: &str,
    setup: Option<Box<SyncOptions>>,
    timeout: Option<Duration>,
) -> Result<i32, Error> {
    let w = rt.block_on(rollout::wait(
        cluster,
        w.kind,
        &w.name,
        rollout::Goal::Rollout,
        timeout,
    ))?;
    let Some(setup) = setup else {
        crate::outln!("--no-sync: no files copied");
        return Ok(0);
    };
    let pod = rt.block_on(ready_pod(cluster, &w))?;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let transport = KubeTransport::new(rt, pods, &pod, container);
    let (dest, from) = match setup.dest {
        Some(d) => (d, "--dest"),
        None => default_dest(&transport, &w.object, idx),
    };
    let mut syncer = Syncer::new(
        &setup.source,
        &dest,
        setup.excludes,
        setup.delete,
        &transport,
    )?;
    syncer.progress = true;
    if let Some(file) = &syncer.excludes.file {
        crate::outln!("excluding the patterns of {}", file.display());
    }
    crate::outln!(
        "syncing {} to pod {pod}:{dest} ({from})",
        syncer.source.display()
    );
    // After a failed sync in --watch: the pod may have been replaced.
    let mut repod = || -> Option<String> {
        let now = rt.block_on(ready_pod(cluster, &w)).ok()?;
        (now != transport.pod()).then(|| {
            transport.set_pod(&now);
            now
        })
    };
    sync_loop::sync_and_watch(&syncer, setup.watch, &mut repod)?;
    Ok(0)
}

/// After `on` changed the workload and something failed: put the
/// replicas, the variable and the annotation back as they were, and say
/// so in one line with the cause; if that fails too, name the command
/// that turns reloading off.
fn put_back(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    w: &Workload,
    container: &str,
    before: &edit::Before,
    cause: Error,
    kube: &KubeArgs,
) -> Error {
    let what = w.display();
    let restored = rt.block_on(async {
        let fresh = target::get(cluster, w.kind, &w.name).await?;
        workload::update(cluster, fresh, DryRun::None, |obj| {
            let idx = workload::containers(obj)
                .iter()
                .position(|n| n == container)
                .ok_or_else(|| {
                    cluster::Error::Failed(format!("{what}: container {container} is gone"))
                })?;
            edit::edit_back(obj, idx, &what, before)
        })
        .await
    });
    match restored {
        Ok(_) => Error::PutBack {
            what,
            before: before.describe(),
            cause: Box::new(cause),
        },
        Err(again) => Error::NotPutBack(format!(
            "{cause}; putting {what} back failed too ({again}): turn reloading off with `kubectl warpdrive reload {what} off {}`",
            cluster::tune::same_place(kube, &cluster.namespace)
        )),
    }
}

/// Prints `$WARPDRIVE_SRC_ROOT` as the container sees it (image and pod env).
const SRC_ROOT_SCRIPT: &str = r#"printf %s "${WARPDRIVE_SRC_ROOT-}""#;

/// The destination when `--dest` is not given: the container's
/// `WARPDRIVE_SRC_ROOT` (asked in the container, so the image's ENV counts
/// too; else the literal in the pod template), else [`DEFAULT_DEST`].
/// Returns the path and where it came from.
fn default_dest(t: &KubeTransport, object: &Value, idx: usize) -> (String, &'static str) {
    let mut out = Vec::new();
    let argv = ["sh", "-c", SRC_ROOT_SCRIPT].map(String::from);
    let asked = match sync::Transport::exec(t, &argv, None, &mut out) {
        Ok(st) if st.code == 0 => Some(String::from_utf8_lossy(&out).trim().to_string()),
        _ => None,
    };
    let from_env = asked
        .or_else(|| workload::env_value(object, idx, SRC_ROOT_VAR))
        .filter(|v| v.starts_with('/'));
    match from_env {
        Some(d) => (d, "WARPDRIVE_SRC_ROOT of the container"),
        None => (
            DEFAULT_DEST.to_string(),
            "default; the container sets no WARPDRIVE_SRC_ROOT",
        ),
    }
}

/// `on`: one write, unless reloading is already on. Returns what it
/// changed (to put back if what follows fails), `None` when it wrote nothing.
fn on(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    w: &Workload,
    idx: usize,
) -> Result<Option<edit::Before>, Error> {
    let what = w.display();
    if workload::reload_on(&w.object, idx) && w.replicas() == 1 {
        crate::outln!(
            "reload is already on for {what} (1 replica, {RELOAD_VAR}=1): nothing to change"
        );
        return Ok(None);
    }
    let before = edit::Before::of(&w.object, idx);
    let kept = edit::remembered(&w.object, &what)?;
    for hpa in rt.block_on(scale::hpas_targeting(cluster, w))? {
        eprintln!(
            "warning: HorizontalPodAutoscaler {hpa} targets {what} and will scale it away from 1 replica; set its minReplicas and maxReplicas to 1 while reloading"
        );
    }
    rt.block_on(workload::update(cluster, w.clone(), DryRun::None, |obj| {
        edit::edit_on(obj, idx, &what)
    }))?;
    let remember = kept.unwrap_or(before.replicas);
    crate::outln!(
        "{what}: replicas {} → 1, {RELOAD_VAR} {} → 1 (one rollout); {remember} replicas remembered in annotation {REPLICAS_ANNOTATION}",
        before.replicas,
        before.var.as_deref().unwrap_or("(unset)")
    );
    Ok(Some(before))
}

/// `off`: one write (unless already off), then wait for the rollout.
fn off(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    w: Workload,
    idx: usize,
    timeout: Option<Duration>,
) -> Result<i32, Error> {
    let what = w.display();
    let restore = edit::remembered(&w.object, &what)?;
    if !edit::has_env(&w.object, idx, RELOAD_VAR) && restore.is_none() {
        crate::outln!("reload is already off for {what}: nothing to change");
        return Ok(0);
    }
    let before_var = workload::env_value(&w.object, idx, RELOAD_VAR);
    let before_replicas = w.replicas();
    rt.block_on(workload::update(cluster, w.clone(), DryRun::None, |obj| {
        edit::edit_off(obj, idx, &what, restore)
    }))?;
    let replicas_part = match restore {
        Some(n) => format!(
            "replicas {before_replicas} → {n} (restored), annotation {REPLICAS_ANNOTATION} removed"
        ),
        None => format!("replicas stay {before_replicas} (none remembered)"),
    };
    crate::outln!(
        "{what}: {RELOAD_VAR} {} → (unset), {replicas_part}",
        before_var.as_deref().unwrap_or("(set)")
    );
    rt.block_on(rollout::wait(
        cluster,
        w.kind,
        &w.name,
        rollout::Goal::Rollout,
        timeout,
    ))?;
    crate::outln!("{what}: reload is off");
    Ok(0)
}

fn pod_ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The newest Ready pod of the workload.
async fn ready_pod(cluster: &Cluster, w: &Workload) -> Result<String, Error> {
    let pods = scale::list_pods(cluster, &w.label_selector()).await?;
    let mut ready: Vec<&Pod> = pods.iter().filter(|p| pod_ready(p)).collect();
    ready.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
    });
    let pod = ready
        .last()
        .and_then(|p| p.metadata.name.clone())
        .ok_or_else(|| Error::NoReadyPod {
            what: w.display(),
            selector: w.label_selector(),
        })?;
    if ready.len() > 1 {
        eprintln!(
            "warning: {} has {} ready pods; syncing into the newest, {pod}",
            w.display(),
            ready.len()
        );
    }
    Ok(pod)
}
