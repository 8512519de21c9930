//! `reload` subcommand: turn live code reloading on (one replica,
//! `MOD_WSGI_RELOAD_ON_CHANGES=1`, one write so one rollout) or off (restore
//! the remembered replica count), and sync the local tree into the pod over
//! the exec API (see [`crate::sync`]).

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde_json::{json, Value};

use crate::cli::{DryRun, OnOff, ReloadArgs};
use crate::cluster::{rollout, scale, target, workload, Cluster, Workload};
use crate::error::BadInput;
use crate::knobs;
use crate::sync::{self, kube::KubeTransport, watch, Excludes, Syncer};

/// The variable that makes mod_wsgi-express restart on source changes.
pub const RELOAD_VAR: &str = "MOD_WSGI_RELOAD_ON_CHANGES";
/// Where `on` remembers the replica count that `off` restores.
pub const REPLICAS_ANNOTATION: &str = "warpdrive/reload-replicas";
/// The container env variable that names the app directory.
pub const SRC_ROOT_VAR: &str = "WARPDRIVE_SRC_ROOT";
/// `--dest` when the container does not set [`SRC_ROOT_VAR`] (the s2i layout).
pub const DEFAULT_DEST: &str = "/opt/app-root/src";

/// The literal value of `name` in container `idx` (`None` if unset or set
/// through `valueFrom`).
fn env_value(object: &Value, idx: usize, name: &str) -> Option<String> {
    let env = workload::env(object, idx);
    let e = env
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))?;
    if e.get("valueFrom").is_some() {
        return None;
    }
    Some(
        e.get("value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    )
}

fn has_env(object: &Value, idx: usize, name: &str) -> bool {
    workload::env(object, idx)
        .iter()
        .any(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

/// Is the reload variable set to a true value?
fn reload_is_on(object: &Value, idx: usize) -> bool {
    let knob = knobs::find(RELOAD_VAR);
    env_value(object, idx, RELOAD_VAR).and_then(|v| knob.and_then(|k| k.parse(&v).ok()))
        == Some(knobs::Value::Flag(true))
}

fn replicas(object: &Value) -> i64 {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn annotation(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REPLICAS_ANNOTATION))
        .and_then(Value::as_str)
}

/// The remembered replica count, if any; a value that is not a count is bad input.
fn remembered(object: &Value, what: &str) -> Result<Option<i64>, BadInput> {
    match annotation(object) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().ok().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
            BadInput::new(format!(
                "{what}: annotation {REPLICAS_ANNOTATION}={v:?} is not a replica count; fix it with `kubectl annotate {what} {REPLICAS_ANNOTATION}=N --overwrite` or remove it"
            ))
        }),
    }
}

/// `metadata.annotations` of an object, created if missing.
fn annotations_mut<'a>(
    object: &'a mut Value,
    what: &str,
) -> Result<&'a mut serde_json::Map<String, Value>, crate::cluster::Error> {
    let ann = object
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
        .map(|m| m.entry("annotations").or_insert_with(|| json!({})));
    match ann {
        Some(a) => {
            if !a.is_object() {
                *a = json!({});
            }
            a.as_object_mut()
                .ok_or_else(|| crate::cluster::Error::Failed(format!("{what}: no metadata")))
        }
        None => Err(crate::cluster::Error::Failed(format!(
            "{what}: the server sent an object without metadata"
        ))),
    }
}

/// The `on` edit: remember replicas (unless already remembered), scale to
/// 1, set the variable. One object edit, so one write and one rollout.
fn edit_on(object: &mut Value, idx: usize, what: &str) -> Result<(), crate::cluster::Error> {
    let current = replicas(object);
    let ann = annotations_mut(object, what)?;
    ann.entry(REPLICAS_ANNOTATION)
        .or_insert_with(|| Value::from(current.to_string()));
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("replicas".into(), Value::from(1));
    }
    workload::apply_env(
        object,
        idx,
        &[workload::EnvChange::Set {
            name: RELOAD_VAR.into(),
            value: "1".into(),
        }],
        what,
    )?;
    Ok(())
}

/// The `off` edit: unset the variable, restore the remembered replicas and
/// drop the annotation.
fn edit_off(
    object: &mut Value,
    idx: usize,
    what: &str,
    restore: Option<i64>,
) -> Result<(), crate::cluster::Error> {
    if let Some(n) = restore {
        if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), Value::from(n));
        }
        let ann = annotations_mut(object, what)?;
        ann.remove(REPLICAS_ANNOTATION);
        if ann.is_empty() {
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("annotations");
            }
        }
    }
    workload::apply_env(
        object,
        idx,
        &[workload::EnvChange::Unset {
            name: RELOAD_VAR.into(),
        }],
        what,
    )?;
    Ok(())
}

/// What the sync needs, checked before anything in the cluster changes.
struct SyncSetup {
    source: PathBuf,
    excludes: Excludes,
}

pub fn run(args: ReloadArgs) -> anyhow::Result<i32> {
    let timeout = rollout::parse_timeout(&args.timeout)?;
    let target = target::parse(&args.target)?;
    if args.state == OnOff::Off {
        let stray = [
            (args.watch, "--watch"),
            (args.delete, "--delete"),
            (!args.exclude.is_empty(), "--exclude"),
            (args.dest.is_some(), "--dest"),
        ];
        if let Some((_, flag)) = stray.iter().find(|(set, _)| *set) {
            return Err(BadInput::new(format!(
                "{flag} only applies to `reload {} on`: drop it, `off` syncs nothing",
                args.target
            ))
            .into());
        }
    }
    if args.no_sync && (args.watch || args.delete) {
        return Err(BadInput::new(
            "--no-sync cannot be combined with --watch or --delete: drop one",
        )
        .into());
    }
    if let Some(d) = &args.dest {
        if !d.starts_with('/') {
            return Err(BadInput::new(format!(
                "--dest {d:?} is not an absolute path: give the directory in the container, e.g. {DEFAULT_DEST}"
            ))
            .into());
        }
    }
    let setup = if args.state == OnOff::On && !args.no_sync {
        let source = args.source.canonicalize().map_err(|e| {
            BadInput::new(format!(
                "--source {}: {e}: give an existing directory",
                args.source.display()
            ))
        })?;
        if !source.is_dir() {
            return Err(
                BadInput::new(format!("--source {} is not a directory", source.display())).into(),
            );
        }
        let excludes = Excludes::new(&source, &args.exclude)?;
        Some(SyncSetup { source, excludes })
    } else {
        None
    };

    let rt = crate::cluster::config::runtime()?;
    let cluster = rt.block_on(crate::cluster::connect(&args.kube))?;
    let w = rt.block_on(target::resolve(&cluster, &target))?;
    let what = w.display();
    let idx = workload::select_container(&w.object, args.container.as_deref(), &what)?;
    let container = workload::containers(&w.object)
        .get(idx)
        .cloned()
        .unwrap_or_default();
    match args.state {
        OnOff::Off => off(&rt, &cluster, w, idx, timeout),
        OnOff::On => {
            let w = on(&rt, &cluster, w, idx, timeout)?;
            let Some(setup) = setup else {
                println!("--no-sync: no files copied");
                return Ok(0);
            };
            let pod = rt.block_on(ready_pod(&cluster, &w))?;
            let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
            let transport = KubeTransport::new(&rt, pods, &pod, &container);
            let (dest, from) = match args.dest.clone() {
                Some(d) => (d, "--dest"),
                None => default_dest(&transport, &w.object, idx),
            };
            let syncer = Syncer::new(
                &setup.source,
                &dest,
                setup.excludes,
                args.delete,
                &transport,
            )?;
            if let Some(file) = &syncer.excludes.file {
                println!("excluding the patterns of {}", file.display());
            }
            println!(
                "syncing {} to pod {pod}:{dest} ({from})",
                syncer.source.display()
            );
            // After a failed sync in --watch: the pod may have been replaced.
            let mut repod = || -> Option<String> {
                let now = rt.block_on(ready_pod(&cluster, &w)).ok()?;
                (now != transport.pod()).then(|| {
                    transport.set_pod(&now);
                    now
                })
            };
            sync_and_watch(&syncer, args.watch, &mut repod)
        }
    }
}

/// Prints `$WARPDRIVE_SRC_ROOT` as the container sees it (image and pod env).
const SRC_ROOT_SCRIPT: &str = r#"printf %s "${WARPDRIVE_SRC_ROOT-}""#;

/// `--dest` when not given: the container's `WARPDRIVE_SRC_ROOT` (asked in
/// the container, so the image's ENV counts too; else the literal in the
/// pod template), else [`DEFAULT_DEST`]. Returns the path and where it came from.
fn default_dest(t: &KubeTransport, object: &Value, idx: usize) -> (String, &'static str) {
    let mut out = Vec::new();
    let argv = ["sh", "-c", SRC_ROOT_SCRIPT].map(String::from);
    let asked = match sync::Transport::exec(t, &argv, None, &mut out) {
        Ok(st) if st.code == 0 => Some(String::from_utf8_lossy(&out).trim().to_string()),
        _ => None,
    };
    let from_env = asked
        .or_else(|| env_value(object, idx, SRC_ROOT_VAR))
        .filter(|v| v.starts_with('/'));
    match from_env {
        Some(d) => (d, "WARPDRIVE_SRC_ROOT of the container"),
        None => (
            DEFAULT_DEST.to_string(),
            "default; the container sets no WARPDRIVE_SRC_ROOT",
        ),
    }
}

/// `on`: one write (unless already on), then wait for the rollout.
fn on(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    w: Workload,
    idx: usize,
    timeout: Duration,
) -> anyhow::Result<Workload> {
    let what = w.display();
    if reload_is_on(&w.object, idx) && replicas(&w.object) == 1 {
        println!("reload is already on for {what} (1 replica, {RELOAD_VAR}=1): nothing to change");
    } else {
        let before_replicas = replicas(&w.object);
        let before_var = env_value(&w.object, idx, RELOAD_VAR);
        let kept = remembered(&w.object, &what)?;
        for hpa in rt.block_on(scale::hpas_targeting(cluster, &w))? {
            eprintln!(
                "warning: HorizontalPodAutoscaler {hpa} targets {what} and will scale it away from 1 replica; set its minReplicas and maxReplicas to 1 while reloading"
            );
        }
        rt.block_on(workload::update(cluster, w.clone(), DryRun::None, |obj| {
            edit_on(obj, idx, &what)
        }))?;
        let remember = kept.unwrap_or(before_replicas);
        println!(
            "{what}: replicas {before_replicas} → 1, {RELOAD_VAR} {} → 1 (one rollout); {remember} replicas remembered in annotation {REPLICAS_ANNOTATION}",
            before_var.as_deref().unwrap_or("(unset)")
        );
    }
    let done = rt.block_on(rollout::wait(
        cluster,
        w.kind,
        &w.name,
        rollout::Goal::Rollout,
        timeout,
    ))?;
    Ok(done)
}

/// `off`: one write (unless already off), then wait for the rollout.
fn off(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    w: Workload,
    idx: usize,
    timeout: Duration,
) -> anyhow::Result<i32> {
    let what = w.display();
    let restore = remembered(&w.object, &what)?;
    if !has_env(&w.object, idx, RELOAD_VAR) && restore.is_none() {
        println!("reload is already off for {what}: nothing to change");
        return Ok(0);
    }
    let before_var = env_value(&w.object, idx, RELOAD_VAR);
    let before_replicas = replicas(&w.object);
    rt.block_on(workload::update(cluster, w.clone(), DryRun::None, |obj| {
        edit_off(obj, idx, &what, restore)
    }))?;
    let replicas_part = match restore {
        Some(n) => format!(
            "replicas {before_replicas} → {n} (restored), annotation {REPLICAS_ANNOTATION} removed"
        ),
        None => format!("replicas stay {before_replicas} (none remembered)"),
    };
    println!(
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
    println!("{what}: reload is off");
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
async fn ready_pod(cluster: &Cluster, w: &Workload) -> anyhow::Result<String> {
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
        .with_context(|| {
            format!(
                "{}: no Ready pod to sync into (selector {})",
                w.display(),
                w.label_selector()
            )
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

fn warn(msg: String) {
    eprintln!("warning: {msg}");
}

/// The first sync, then (with `--watch`) one sync per burst of changes
/// until Ctrl-C.
///
/// A failed sync is followed by a full one (manifest compare), after
/// `repod` had the chance to switch to a replacement pod; if that fails too,
/// the full sync is tried again after the next change.
fn sync_and_watch(
    syncer: &Syncer,
    watch_mode: bool,
    repod: &mut dyn FnMut() -> Option<String>,
) -> anyhow::Result<i32> {
    let mut out = std::io::stdout();
    if !watch_mode {
        let stats = sync::sync_once(syncer, &mut warn)?;
        sync::say(&mut out, &stats.to_string());
        return Ok(0);
    }
    let (tx, rx) = mpsc::channel();
    // Watch first, so nothing changed during the first sync is missed.
    let mut watcher = watch::Watcher::new(syncer, tx.clone(), &mut warn)?;
    let stats = sync::sync_once(syncer, &mut warn)?;
    sync::say(&mut out, &stats.to_string());
    // From here on Ctrl-C ends the loop after the current sync. (During the
    // first sync it just kills the process: the pod side then throws the
    // staging directory away.)
    stop_on_signals(tx)?;
    sync::say(
        &mut out,
        &format!(
            "watching {} ({} directories, excluded ones not watched); Ctrl-C to stop",
            syncer.source.display(),
            watcher.len()
        ),
    );
    let mut syncs = 0usize;
    let mut behind = false;
    watcher.run(
        syncer,
        &rx,
        &mut |r| {
            match r {
                Ok(stats) => {
                    syncs += 1;
                    sync::say(&mut out, &stats.to_string());
                    if !behind {
                        return;
                    }
                }
                Err(e) => {
                    eprintln!("error: sync failed: {e}");
                    if let Some(pod) = repod() {
                        sync::say(
                            &mut out,
                            &format!("the pod was replaced: syncing into {pod} now"),
                        );
                    }
                }
            }
            match sync::sync_once(syncer, &mut warn) {
                Ok(stats) => {
                    behind = false;
                    syncs += 1;
                    sync::say(&mut out, &format!("{stats} (full compare)"));
                }
                Err(e) => {
                    behind = true;
                    eprintln!("error: sync failed: {e} (will retry after the next change)");
                }
            }
        },
        &mut warn,
    )?;
    let _ = writeln!(out, "stopped after {syncs} syncs");
    Ok(0)
}

/// Sends [`watch::Msg::Stop`] on SIGINT or SIGTERM. The handlers are in
/// place when this returns.
fn stop_on_signals(tx: mpsc::Sender<watch::Msg>) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal runtime")?;
    let (mut int, mut term) = rt.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::spawn(move || {
        rt.block_on(async {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        let _ = tx.send(watch::Msg::Stop);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(replicas: i64, env: Value, ann: Value) -> Value {
        json!({
            "metadata": {"name": "blog", "annotations": ann},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "env": env}]}}}
        })
    }

    #[test]
    fn on_remembers_scales_and_sets_in_one_edit() {
        let mut o = deploy(3, json!([{"name": "A", "value": "x"}]), json!({}));
        edit_on(&mut o, 0, "deployment/blog").unwrap();
        assert_eq!(replicas(&o), 1);
        assert!(reload_is_on(&o, 0));
        assert_eq!(remembered(&o, "d").unwrap(), Some(3));
        // a second edit keeps the first remembered count
        o["spec"]["replicas"] = json!(5);
        edit_on(&mut o, 0, "deployment/blog").unwrap();
        assert_eq!(remembered(&o, "d").unwrap(), Some(3));
    }

    #[test]
    fn off_restores_and_removes() {
        let mut o = deploy(3, json!([{"name": "A", "value": "x"}]), json!({}));
        edit_on(&mut o, 0, "d").unwrap();
        let restore = remembered(&o, "d").unwrap();
        edit_off(&mut o, 0, "d", restore).unwrap();
        assert_eq!(replicas(&o), 3);
        assert!(!has_env(&o, 0, RELOAD_VAR));
        assert!(o.pointer("/metadata/annotations").is_none());
        assert_eq!(
            workload::env(&o, 0),
            vec![json!({"name": "A", "value": "x"})]
        );
    }

    #[test]
    fn bad_annotation_is_bad_input() {
        let o = deploy(1, json!([]), json!({REPLICAS_ANNOTATION: "many"}));
        let err = remembered(&o, "deployment/blog").unwrap_err().to_string();
        assert!(err.contains("kubectl annotate"), "{err}");
    }

    #[test]
    fn value_from_is_not_a_literal() {
        let o = deploy(
            1,
            json!([{"name": SRC_ROOT_VAR, "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]),
            json!({}),
        );
        assert_eq!(env_value(&o, 0, SRC_ROOT_VAR), None);
        let o = deploy(
            1,
            json!([{"name": SRC_ROOT_VAR, "value": "/app"}]),
            json!({}),
        );
        assert_eq!(env_value(&o, 0, SRC_ROOT_VAR).as_deref(), Some("/app"));
    }
}
