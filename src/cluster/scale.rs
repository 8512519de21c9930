//! `scale` ([`run`]), and what it and `reload` use: the `/scale`
//! subresource, the pods behind a workload, and the HPAs that target it.

use std::time::Duration;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams};
use serde_json::Value;

use super::config::Cluster;
use super::errors::{describe, shown_at, status_code, Error, Op};
use super::target::{self, Target, Workload};
use super::{rollout, workload};
use crate::cli::{DryRun, KubeArgs, OutputFormat};

/// A replica change as done by [`set_replicas`].
#[derive(Debug, Clone)]
pub struct Scaled {
    /// `spec.replicas` before the change.
    pub before: i64,
    /// The Scale object the server returned (or the edited one for a client dry run).
    pub scale: Value,
    /// The `labelSelector` of the pods, from `status.selector` when given.
    pub selector: Option<String>,
}

fn scale_op<'a>(w: &'a Workload, cluster: &'a Cluster, verb: &'a str) -> Op<'a> {
    Op {
        resource: w.kind.scale_resource(),
        ..w.kind.op(verb, &w.name, cluster)
    }
}

/// Reads the Scale subresource of a workload (`GET …/NAME/scale`).
pub async fn get_scale(cluster: &Cluster, w: &Workload) -> Result<Value, Error> {
    let obj = w
        .kind
        .api(cluster)
        .get_subresource("scale", &w.name)
        .await
        .map_err(|e| describe(e, scale_op(w, cluster, "get")))?;
    serde_json::to_value(obj).map_err(|e| Error::Failed(format!("scale of {}: {e}", w.display())))
}

/// Sets `spec.replicas` through the `/scale` subresource: GET the Scale,
/// check `current` (the `--current-replicas` precondition), PUT it back with
/// its resourceVersion; a 409 re-reads and retries (bounded). Uncontended
/// that is one GET and one PUT.
pub async fn set_replicas(
    cluster: &Cluster,
    w: &Workload,
    replicas: i64,
    current: Option<i64>,
    dry_run: DryRun,
) -> Result<Scaled, Error> {
    let api = w.kind.api(cluster);
    let mut attempts = 0;
    loop {
        let mut scale = get_scale(cluster, w).await?;
        let before = scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if let Some(expected) = current {
            if expected != before {
                return Err(Error::Failed(format!(
                    "precondition failed for {}: --current-replicas is {expected} but it has {before} replicas; nothing was changed",
                    w.display()
                )));
            }
        }
        let selector = scale
            .pointer("/status/selector")
            .and_then(Value::as_str)
            .map(str::to_string);
        scale["spec"]["replicas"] = Value::from(replicas);
        if dry_run == DryRun::Client {
            return Ok(Scaled {
                before,
                scale,
                selector,
            });
        }
        let pp = PostParams {
            dry_run: dry_run == DryRun::Server,
            field_manager: Some(super::config::FIELD_MANAGER.to_string()),
        };
        attempts += 1;
        match api.replace_subresource("scale", &w.name, &pp, &scale).await {
            Ok(obj) => {
                let scale = serde_json::to_value(obj).unwrap_or(scale);
                return Ok(Scaled {
                    before,
                    scale,
                    selector,
                });
            }
            Err(e) if status_code(&e) == Some(409) && attempts < super::workload::MAX_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(20 * attempts as u64)).await;
            }
            Err(e) => return Err(describe(e, scale_op(w, cluster, "update"))),
        }
    }
}

/// Names of the HorizontalPodAutoscalers whose `scaleTargetRef` is this
/// workload. A 403 on the list is not an error (the answer is just unknown).
pub async fn hpas_targeting(cluster: &Cluster, w: &Workload) -> Result<Vec<String>, Error> {
    let api: Api<HorizontalPodAutoscaler> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l,
        Err(e) if status_code(&e) == Some(403) || status_code(&e) == Some(404) => {
            return Ok(vec![])
        }
        Err(e) => {
            return Err(describe(
                e,
                Op {
                    verb: "list",
                    resource: "horizontalpodautoscalers.autoscaling",
                    kind: "horizontalpodautoscaler",
                    name: "",
                    namespace: &cluster.namespace,
                    server: &cluster.server,
                },
            ))
        }
    };
    Ok(list
        .items
        .into_iter()
        .filter(|h| {
            h.spec.as_ref().is_some_and(|s| {
                s.scale_target_ref.kind == w.kind.kind() && s.scale_target_ref.name == w.name
            })
        })
        .filter_map(|h| h.metadata.name)
        .map(|n| shown_at(&n, 253))
        .collect())
}

/// The pods matching a label selector.
pub async fn list_pods(cluster: &Cluster, selector: &str) -> Result<Vec<Pod>, Error> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|e| {
            describe(
                e,
                Op {
                    verb: "list",
                    resource: "pods",
                    kind: "pod",
                    name: "",
                    namespace: &cluster.namespace,
                    server: &cluster.server,
                },
            )
        })?;
    let mut pods = list.items;
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(pods)
}

/// What `scale` does.
pub struct Options {
    pub target: Target,
    /// The desired number of replicas.
    pub replicas: i64,
    /// `--current-replicas`: only scale if it has this many.
    pub current: Option<i64>,
    pub dry_run: DryRun,
    /// `-o`: print the resulting Scale.
    pub output: Option<OutputFormat>,
    /// Do not wait for the pods.
    pub no_wait: bool,
    /// `None`: no limit (`--timeout 0`).
    pub timeout: Option<Duration>,
    pub kube: KubeArgs,
}

/// Runs `scale`: change the replicas through the `/scale` subresource
/// (warning about reloading and HPAs), wait until that many pods are
/// ready, list them. Returns the exit code.
pub fn run(opts: &Options) -> Result<i32, Error> {
    let rt = super::config::runtime()?;
    rt.block_on(run_cluster(opts))
}

async fn run_cluster(opts: &Options) -> Result<i32, Error> {
    let cluster = super::connect(&opts.kube).await?;
    let w = target::resolve(&cluster, &opts.target).await?;
    let what = w.display();
    let n = opts.replicas;
    if n > 1 && workload::reload_on_anywhere(&w.object) {
        eprintln!(
            "warning: {what} has MOD_WSGI_RELOAD_ON_CHANGES on: live code changes are synced into one pod, so with {n} replicas the others run old code (turn it off with `kubectl warpdrive reload {what} off`)"
        );
    }
    for hpa in hpas_targeting(&cluster, &w).await? {
        eprintln!(
            "warning: HorizontalPodAutoscaler {hpa} targets {what} and will set the replica count itself; change its minReplicas/maxReplicas instead"
        );
    }
    let scaled = set_replicas(&cluster, &w, n, opts.current, opts.dry_run).await?;
    let verb = match opts.dry_run {
        DryRun::None => "scaled",
        DryRun::Client => "would be scaled (dry run, client: nothing sent)",
        DryRun::Server => "would be scaled (dry run, server: nothing stored)",
    };
    let line = format!("{what} {verb} from {} to {n} replicas", scaled.before);
    if let Some(format) = opts.output {
        eprintln!("{line}");
        let text = match format {
            OutputFormat::Json => serde_json::to_string_pretty(&scaled.scale)
                .map(|s| s + "\n")
                .map_err(|e| e.to_string()),
            OutputFormat::Yaml => serde_yaml::to_string(&scaled.scale).map_err(|e| e.to_string()),
            OutputFormat::Name => Ok(format!("{}\n", w.qualified_name())),
        }
        .map_err(|e| Error::Failed(format!("cannot print the Scale: {e}")))?;
        crate::out!("{text}");
    } else {
        crate::outln!("{line}");
    }
    if opts.dry_run != DryRun::None || opts.no_wait {
        return Ok(0);
    }
    let done = rollout::wait(
        &cluster,
        w.kind,
        &w.name,
        rollout::Goal::Ready(n),
        opts.timeout,
    )
    .await?;
    let selector = scaled.selector.unwrap_or_else(|| done.label_selector());
    let pods = list_pods(&cluster, &selector).await?;
    let mut report = format!("{what}: {n} of {n} pods ready\n");
    if !pods.is_empty() {
        report.push_str(&pods_table(&pods));
    }
    // With -o the Scale document already went to stdout: keep it alone there.
    if opts.output.is_some() {
        eprint!("{report}");
    } else {
        crate::out!("{report}");
    }
    Ok(0)
}

/// `NAME READY STATUS AGE`, as `oc get pods --selector` prints it.
pub fn pods_table(pods: &[Pod]) -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    let rows: Vec<[String; 4]> = pods
        .iter()
        .map(|p| {
            let statuses = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.clone())
                .unwrap_or_default();
            let total = p.spec.as_ref().map(|s| s.containers.len()).unwrap_or(0);
            let ready = statuses.iter().filter(|c| c.ready).count();
            let waiting = statuses.iter().find_map(|c| {
                c.state
                    .as_ref()
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.clone())
            });
            let status = if p.metadata.deletion_timestamp.is_some() {
                "Terminating".to_string()
            } else {
                waiting
                    .or_else(|| p.status.as_ref().and_then(|s| s.phase.clone()))
                    .unwrap_or_else(|| "Unknown".to_string())
            };
            let age = p
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| {
                    let secs = now.as_second().saturating_sub(t.0.as_second()).max(0) as u64;
                    short_age(secs)
                })
                .unwrap_or_else(|| "<unknown>".to_string());
            [
                shown_at(p.metadata.name.as_deref().unwrap_or_default(), 253),
                format!("{ready}/{total}"),
                shown_at(&status, 63),
                age,
            ]
        })
        .collect();
    let header = ["NAME", "READY", "STATUS", "AGE"].map(str::to_string);
    let mut widths = [0usize; 4];
    for r in std::iter::once(&header).chain(rows.iter()) {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&header).chain(rows.iter()) {
        let line = format!(
            "{:<w0$}   {:<w1$}   {:<w2$}   {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// kubectl's short ages: `45s`, `3m`, `2h`, `5d`.
pub fn short_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
