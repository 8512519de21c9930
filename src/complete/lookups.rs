//! What completion asks outside the command tree: names from the
//! kubeconfig, and namespaces and workloads from the cluster the typed
//! kubeconfig flags point at, within a time budget.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;

use crate::cli::KubeArgs;

/// The questions only a cluster can answer (replaced in unit tests; the
/// real ones are [`Lookups::live`]).
pub struct Lookups<'a> {
    pub namespaces: &'a dyn Fn(&KubeArgs) -> Vec<String>,
    pub targets: &'a dyn Fn(&KubeArgs, &str) -> Vec<String>,
}

impl Lookups<'static> {
    /// The real lookups: [`cluster_namespaces`] and [`cluster_targets`].
    pub fn live() -> Self {
        Lookups {
            namespaces: &cluster_namespaces,
            targets: &cluster_targets,
        }
    }
}

/// How long `-n <TAB>` may wait for the cluster in total, unless
/// `WARPDRIVE_COMPLETE_TIMEOUT` (e.g. `10s`) says otherwise.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(3);

fn cluster_timeout() -> Duration {
    std::env::var("WARPDRIVE_COMPLETE_TIMEOUT")
        .ok()
        .and_then(|v| humantime::parse_duration(v.trim()).ok())
        .unwrap_or(CLUSTER_TIMEOUT)
}

/// The kubeconfig flags typed so far, with a request timeout that fits in
/// the completion's time budget.
fn query_args(kube: &KubeArgs, budget: Duration) -> KubeArgs {
    let mut args = kube.clone();
    if args.request_timeout.is_none() {
        let ms = (budget.as_millis() * 2 / 3).max(1);
        args.request_timeout = Some(format!("{ms}ms"));
    }
    args
}

/// Context, cluster or user names from the kubeconfig (no cluster needed).
pub(super) fn kubeconfig_names(kind: &str, kube: &KubeArgs) -> Vec<String> {
    let config = match &kube.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path),
        None => kube::config::Kubeconfig::read(),
    };
    let Ok(config) = config else {
        return Vec::new();
    };
    match kind {
        "context" => config.contexts.into_iter().map(|c| c.name).collect(),
        "cluster" => config.clusters.into_iter().map(|c| c.name).collect(),
        _ => config.auth_infos.into_iter().map(|u| u.name).collect(),
    }
}

/// Namespace names from the cluster the typed kubeconfig flags point at
/// (connected as `tune`/`scale` do), or nothing if it cannot be reached
/// within the time budget ([`CLUSTER_TIMEOUT`] by default).
pub fn cluster_namespaces(kube: &KubeArgs) -> Vec<String> {
    let Ok(rt) = crate::cluster::config::runtime() else {
        return Vec::new();
    };
    let budget = cluster_timeout();
    let mut args = query_args(kube, budget);
    args.namespace = None;
    rt.block_on(async {
        let list = async {
            let cluster = crate::cluster::config::connect(&args).await.ok()?;
            let api: kube::Api<Namespace> = kube::Api::all(cluster.client);
            api.list_metadata(&Default::default()).await.ok()
        };
        match tokio::time::timeout(budget, list).await {
            Ok(Some(list)) => list
                .items
                .into_iter()
                .filter_map(|ns| ns.metadata.name)
                .collect(),
            _ => Vec::new(),
        }
    })
}

/// TARGET candidates, `KIND/NAME`, for the workloads in the namespace (`-n`
/// or the context's). Without a `/` typed yet: Deployments as `deploy/NAME`,
/// StatefulSets as `sts/NAME` and DeploymentConfigs as `dc/NAME`; after
/// `KIND/`: that kind, with the kind word kept as typed. Nothing when the cluster cannot be reached.
pub fn cluster_targets(kube: &KubeArgs, current: &str) -> Vec<String> {
    use crate::cluster::target::{self, WorkloadKind};
    let wanted: Vec<(String, WorkloadKind)> = match current.split_once('/') {
        Some((word, _)) => match target::parse(&format!("{word}/x")) {
            Ok(target::Target {
                kind: Some(kind), ..
            }) => vec![(word.to_owned(), kind)],
            _ => return Vec::new(),
        },
        None => vec![
            ("deploy".to_owned(), WorkloadKind::Deployment),
            ("sts".to_owned(), WorkloadKind::StatefulSet),
            ("dc".to_owned(), WorkloadKind::DeploymentConfig),
        ],
    };
    let Ok(rt) = crate::cluster::config::runtime() else {
        return Vec::new();
    };
    let budget = cluster_timeout();
    let args = query_args(kube, budget);
    rt.block_on(async {
        let list = async {
            let cluster = crate::cluster::config::connect(&args).await.ok()?;
            let mut names = Vec::new();
            for (word, kind) in &wanted {
                // No DeploymentConfig API outside OpenShift: skip that kind.
                if let Ok(list) = kind.api(&cluster).list_metadata(&Default::default()).await {
                    names.extend(
                        list.items
                            .into_iter()
                            .filter_map(|o| o.metadata.name)
                            .map(|n| format!("{word}/{n}")),
                    );
                }
            }
            Some(names)
        };
        tokio::time::timeout(budget, list)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    })
}
