//! The Kubernetes side: kubeconfig, targets, patches, rollout waiting.
//! Nothing here is touched by `warpdrive exec`: the kube client and its
//! runtime are only created by [`config::connect`], which only the cluster
//! commands (`tune`, `scale`, `reload`) call.
//!
//! * [`config`]: kubeconfig loading and the global kubectl flags → [`Cluster`].
//! * [`http`]: what every request gets: User-Agent, `-v` lines, whole-request timeout, `Retry-After`, size cap.
//! * [`credential`]: the exec credential plugin, run once per command.
//! * [`target`]: TARGET parsing and lookup (Deployment, DeploymentConfig, StatefulSet).
//! * [`workload`]: container selection, env editing, the guarded JSON-Patch write.
//! * [`tune`]: the `tune` command: checked env changes, the change table, `--list`, `--recommend`.
//! * [`scale`]: the `scale` command; the `/scale` subresource, pods, HPAs.
//! * [`rollout`]: waiting with kubectl's done rules and a progress bar.
//! * [`local`]: `tune --local -f`: editing manifests without a cluster.
//! * [`recommend`]: `tune --recommend`: processes × threads from resources.
//! * [`errors`]: one-line messages for 403/404/unreachable and friends.

pub mod config;
pub mod credential;
pub mod errors;
pub mod http;
pub mod local;
pub mod recommend;
pub mod rollout;
pub mod scale;
pub mod target;
pub mod tune;
pub mod workload;

pub use config::{connect, Cluster};
pub use errors::Error;
pub use target::{Target, Workload, WorkloadKind};
