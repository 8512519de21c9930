//! Connecting to the cluster the way kubectl would: kubeconfig from
//! `--kubeconfig`, else every file in `KUBECONFIG` merged, else
//! `~/.kube/config` (else the in-cluster service account), then `--context`,
//! `--cluster`, `--user`, `-n`, `--as`, `--as-group` and `--request-timeout`.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::errors::Error;
use crate::cli::KubeArgs;

/// The `fieldManager` of every write, so that the API server attributes the
/// plugin's fields to it in `managedFields` (as `kubectl set env` is
/// `kubectl-set`). Without it the server makes one up from the User-Agent.
pub const FIELD_MANAGER: &str = "kubectl-warpdrive";

/// A connected client plus what error messages need to know about it.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// The namespace to work in: `-n`, else the context's, else `default`.
    pub namespace: String,
    /// The API server URL (named when the server cannot be reached).
    pub server: String,
}

/// Where the kubeconfig came from, for error messages.
fn source_name(args: &KubeArgs) -> String {
    if let Some(p) = &args.kubeconfig {
        return p.display().to_string();
    }
    match std::env::var("KUBECONFIG") {
        Ok(v) if !v.is_empty() => format!("KUBECONFIG={v}"),
        _ => default_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.kube/config".to_string()),
    }
}

fn default_path() -> Option<PathBuf> {
    std::env::home_dir().map(|h| h.join(".kube").join("config"))
}

/// Parses a `--request-timeout` value as kubectl does: `0` means none, a bare
/// number is seconds, otherwise a duration such as `500ms`, `10s`, `1m`.
pub fn parse_request_timeout(raw: &str) -> Result<Option<Duration>, Error> {
    let s = raw.trim();
    if s == "0" {
        return Ok(None);
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Some(Duration::from_secs(n)));
    }
    humantime::parse_duration(s).map(Some).map_err(|_| {
        Error::bad(format!(
            "--request-timeout {raw:?} is not a duration: use e.g. 30s, 500ms or 0 for none"
        ))
    })
}

/// Reads the kubeconfig the flags and environment point at.
fn load_kubeconfig(args: &KubeArgs) -> Result<Option<Kubeconfig>, Error> {
    let bad = |e: kube::config::KubeconfigError| {
        Error::bad(format!(
            "kubeconfig {}: {e}; fix the file or point --kubeconfig at another one",
            source_name(args)
        ))
    };
    if let Some(path) = &args.kubeconfig {
        if !path.exists() {
            return Err(Error::bad(format!(
                "kubeconfig {} does not exist: check --kubeconfig",
                path.display()
            )));
        }
        return Kubeconfig::read_from(path).map(Some).map_err(bad);
    }
    if let Some(merged) = Kubeconfig::from_env().map_err(bad)? {
        return Ok(Some(merged));
    }
    match default_path() {
        Some(p) if p.exists() => Kubeconfig::read_from(&p).map(Some).map_err(bad),
        _ => Ok(None),
    }
}

/// Builds a client from the kubeconfig flags. Must be called inside a tokio
/// runtime. Only the cluster commands call this; `warpdrive exec` never does.
pub async fn connect(args: &KubeArgs) -> Result<Cluster, Error> {
    if !args.as_group.is_empty() && args.as_user.is_none() {
        return Err(Error::bad(
            "--as-group needs --as: impersonating groups requires impersonating a user",
        ));
    }
    let timeout = match &args.request_timeout {
        Some(raw) => Some(parse_request_timeout(raw)?),
        None => None,
    };
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let mut config = match load_kubeconfig(args)? {
        Some(kc) => kube::Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| {
                Error::bad(format!(
                    "kubeconfig {}: {e}; check --context/--cluster/--user or the file",
                    source_name(args)
                ))
            })?,
        None => kube::Config::incluster().map_err(|_| {
            Error::bad(format!(
                "no kubeconfig found at {}: pass --kubeconfig FILE or set KUBECONFIG",
                source_name(args)
            ))
        })?,
    };
    if let Some(user) = &args.as_user {
        config.auth_info.impersonate = Some(user.clone());
        if !args.as_group.is_empty() {
            config.auth_info.impersonate_groups = Some(args.as_group.clone());
        }
    }
    if let Some(t) = timeout {
        config.connect_timeout = t;
        config.read_timeout = t;
        config.write_timeout = t;
    }
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    let client = kube::Client::try_from(config).map_err(|e| {
        Error::bad(format!(
            "kubeconfig {}: cannot build a client for {server}: {e}",
            source_name(args)
        ))
    })?;
    Ok(Cluster {
        client,
        namespace,
        server,
    })
}

/// A current-thread tokio runtime for one cluster command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}
