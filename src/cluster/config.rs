//! Connecting to the cluster the way kubectl would.
//!
//! The kubeconfig is `--kubeconfig`, else every file of `KUBECONFIG` merged
//! (files that do not exist are skipped, as kubectl does), else
//! `~/.kube/config`, else the in-cluster service account. `--context`,
//! `--cluster` and `--user` pick its entries; naming one that does not exist
//! is an error, as is a context whose user is missing (kubectl never sends
//! a request with no credentials because of a typo). Then kubectl's override
//! flags replace what the kubeconfig says: `--server`, `--token`,
//! `--certificate-authority`, `--client-certificate`, `--client-key`,
//! `--insecure-skip-tls-verify`, `--tls-server-name`, `-n`, `--as`,
//! `--as-group`. With `--server` no kubeconfig is needed at all.
//!
//! The client itself (User-Agent, `-v` logging, whole-request timeouts,
//! `Retry-After`, size caps) is put together in [`super::http`]; an exec
//! credential plugin runs once per command ([`super::credential`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{
    AuthInfo, Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

use super::errors::Error;
use super::{credential, http};
use crate::cli::KubeArgs;

/// The `fieldManager` of every write, so that the API server attributes the
/// plugin's fields to it in `managedFields` (as `kubectl set env` is
/// `kubectl-set`). Without it the server makes one up from the User-Agent.
pub const FIELD_MANAGER: &str = "kubectl-warpdrive";

/// How long one request may take as a whole when `--request-timeout` is not
/// given (kubectl waits forever; here every request is bounded).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A connected client plus what error messages need to know about it.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// The namespace to work in: `-n`, else the context's, else `default`.
    pub namespace: String,
    /// The API server URL (named when the server cannot be reached).
    pub server: String,
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

/// The kubeconfig the flags and environment point at, and where it came from.
struct Loaded {
    config: Kubeconfig,
    /// For messages: the file, or `KUBECONFIG=…`.
    source: String,
}

fn read(path: &Path, source: &str) -> Result<Kubeconfig, Error> {
    Kubeconfig::read_from(path).map_err(|e| {
        Error::bad(format!(
            "kubeconfig {source}: {}; fix the file or point --kubeconfig at another one",
            super::errors::shown(&e.to_string())
        ))
    })
}

/// Reads the kubeconfig: `--kubeconfig`, else `KUBECONFIG`'s files that
/// exist, merged (the first to set a value wins), else `~/.kube/config`.
/// `None` when there is none.
fn load_kubeconfig(args: &KubeArgs) -> Result<Option<Loaded>, Error> {
    if let Some(path) = &args.kubeconfig {
        if !path.exists() {
            return Err(Error::bad(format!(
                "kubeconfig {} does not exist: check --kubeconfig",
                path.display()
            )));
        }
        let source = path.display().to_string();
        return Ok(Some(Loaded {
            config: read(path, &source)?,
            source,
        }));
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let source = format!("KUBECONFIG={}", list.to_string_lossy());
        let mut merged: Option<Kubeconfig> = None;
        for path in std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()) {
            if !path.exists() {
                // kubectl skips a missing file of the list.
                if http::verbosity() >= 6 {
                    eprintln!("kubeconfig {} does not exist: skipped", path.display());
                }
                continue;
            }
            let next = read(&path, &path.display().to_string())?;
            merged = Some(match merged {
                None => next,
                Some(m) => m
                    .merge(next)
                    .map_err(|e| Error::bad(format!("kubeconfig {source}: {e}; fix the files")))?,
            });
        }
        return Ok(merged.map(|config| Loaded { config, source }));
    }
    match default_path() {
        Some(p) if p.exists() => {
            let source = p.display().to_string();
            Ok(Some(Loaded {
                config: read(&p, &source)?,
                source,
            }))
        }
        _ => Ok(None),
    }
}

fn path_text(p: &Path) -> Option<String> {
    Some(p.display().to_string())
}

/// A server URL as kubectl takes it: `host:port` means `https://host:port`.
fn server_url(raw: &str) -> String {
    let raw = raw.trim();
    if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    }
}

/// The one context, cluster and user to use, with the override flags
/// applied, as a kubeconfig of one entry each.
fn select(args: &KubeArgs, loaded: Option<Loaded>) -> Result<Kubeconfig, Error> {
    let (config, source) = match loaded {
        Some(l) => (l.config, l.source),
        None => (Kubeconfig::default(), "(none)".to_string()),
    };
    let context_name = args.context.clone().or(config.current_context.clone());
    let context = match &context_name {
        Some(name) => match config.contexts.iter().find(|c| &c.name == name) {
            Some(c) => c.context.clone().unwrap_or_default(),
            None => {
                return Err(Error::bad(format!(
                    "kubeconfig {source}: context {:?} does not exist; pick one of `kubectl config get-contexts` with --context",
                    name
                )))
            }
        },
        None => Context::default(),
    };
    let cluster_name = args
        .cluster
        .clone()
        .or_else(|| Some(context.cluster.clone()).filter(|c| !c.is_empty()));
    let mut cluster = match &cluster_name {
        Some(name) => match config.clusters.iter().find(|c| &c.name == name) {
            Some(c) => c.cluster.clone().unwrap_or_default(),
            None if args.server.is_some() && args.cluster.is_none() => Default::default(),
            None => {
                return Err(Error::bad(format!(
                    "kubeconfig {source}: cluster {name:?} does not exist; check --cluster or the context"
                )))
            }
        },
        None => Default::default(),
    };
    let user_name = args
        .user
        .clone()
        .or_else(|| context.user.clone().filter(|u| !u.is_empty()));
    let mut user = match &user_name {
        Some(name) => match config.auth_infos.iter().find(|u| &u.name == name) {
            Some(u) => u.auth_info.clone().unwrap_or_default(),
            None if args.user.is_some() => {
                return Err(Error::bad(format!(
                    "kubeconfig {source}: user {name:?} does not exist; pick one of `kubectl config get-users` with --user"
                )))
            }
            None => {
                return Err(Error::bad(format!(
                    "kubeconfig {source}: user {name:?} of context {:?} does not exist; fix the context or pass --user",
                    context_name.as_deref().unwrap_or_default()
                )))
            }
        },
        None => AuthInfo::default(),
    };

    // kubectl's overrides.
    if let Some(s) = &args.server {
        cluster.server = Some(server_url(s));
    }
    if cluster.server.as_deref().unwrap_or_default().is_empty() {
        return Err(Error::bad(match &context_name {
            Some(name) => format!(
                "kubeconfig {source}: context {name:?} names no cluster with a server; pass --server URL or fix the kubeconfig"
            ),
            None => format!(
                "kubeconfig {source} has no current context: pass --context NAME, or --server URL (with --token)"
            ),
        }));
    }
    if let Some(ca) = &args.certificate_authority {
        if !ca.is_file() {
            return Err(Error::bad(format!(
                "--certificate-authority {}: no such file",
                ca.display()
            )));
        }
        cluster.certificate_authority = path_text(ca);
        cluster.certificate_authority_data = None;
    }
    if args.insecure_skip_tls_verify {
        cluster.insecure_skip_tls_verify = Some(true);
        cluster.certificate_authority = None;
        cluster.certificate_authority_data = None;
    }
    if let Some(name) = &args.tls_server_name {
        cluster.tls_server_name = Some(name.clone());
    }
    if let Some(token) = &args.token {
        // The token given is the credential: nothing else of the user's is sent.
        user.token = Some(token.clone().into());
        user.token_file = None;
        user.exec = None;
        user.auth_provider = None;
        user.username = None;
        user.password = None;
    }
    for (flag, path) in [
        ("--client-certificate", &args.client_certificate),
        ("--client-key", &args.client_key),
    ] {
        if let Some(p) = path {
            if !p.is_file() {
                return Err(Error::bad(format!("{flag} {}: no such file", p.display())));
            }
        }
    }
    if let Some(cert) = &args.client_certificate {
        user.client_certificate = path_text(cert);
        user.client_certificate_data = None;
    }
    if let Some(key) = &args.client_key {
        user.client_key = path_text(key);
        user.client_key_data = None;
    }
    let namespace = args.namespace.clone().or(context.namespace.clone());
    Ok(Kubeconfig {
        clusters: vec![NamedCluster {
            name: "warpdrive".into(),
            cluster: Some(cluster),
            ..Default::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: "warpdrive".into(),
            auth_info: Some(user),
            ..Default::default()
        }],
        contexts: vec![NamedContext {
            name: "warpdrive".into(),
            context: Some(Context {
                cluster: "warpdrive".into(),
                user: Some("warpdrive".into()),
                namespace,
                ..Default::default()
            }),
            ..Default::default()
        }],
        current_context: Some("warpdrive".into()),
        ..Default::default()
    })
}

/// The in-cluster service account, with the override flags that apply.
fn in_cluster(args: &KubeArgs) -> Result<kube::Config, Error> {
    let mut config = kube::Config::incluster().map_err(|_| {
        Error::bad(
            "no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not in a pod: pass --kubeconfig FILE, set KUBECONFIG, or give --server URL --token TOKEN",
        )
    })?;
    if let Some(token) = &args.token {
        config.auth_info.token = Some(token.clone().into());
        config.auth_info.token_file = None;
    }
    if args.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(ca) = &args.certificate_authority {
        config.root_cert_file = Some(ca.clone());
    }
    if let Some(name) = &args.tls_server_name {
        config.tls_server_name = Some(name.clone());
    }
    if let Some(cert) = &args.client_certificate {
        config.auth_info.client_certificate = path_text(cert);
    }
    if let Some(key) = &args.client_key {
        config.auth_info.client_key = path_text(key);
    }
    if let Some(ns) = &args.namespace {
        config.default_namespace = ns.clone();
    }
    Ok(config)
}

/// Checks the flags that cannot go together, before anything is read.
fn check_flags(args: &KubeArgs) -> Result<(), Error> {
    if !args.as_group.is_empty() && args.as_user.is_none() {
        return Err(Error::bad(
            "--as-group needs --as: impersonating groups requires impersonating a user",
        ));
    }
    if args.insecure_skip_tls_verify && args.certificate_authority.is_some() {
        return Err(Error::bad(
            "--certificate-authority and --insecure-skip-tls-verify cannot go together: drop one (kubectl refuses the pair too)",
        ));
    }
    if let Some(s) = &args.server {
        let url = server_url(s);
        if url.parse::<::http::Uri>().is_err() || s.trim().is_empty() {
            return Err(Error::bad(format!(
                "--server {}: not a URL; use e.g. https://api.example.com:6443",
                super::errors::shown(s)
            )));
        }
    }
    Ok(())
}

/// The kube `Config` for the flags (no request is sent).
async fn config(args: &KubeArgs) -> Result<(kube::Config, String), Error> {
    check_flags(args)?;
    let loaded = load_kubeconfig(args)?;
    let source = loaded
        .as_ref()
        .map(|l| l.source.clone())
        .unwrap_or_else(|| "(none)".into());
    let config = if loaded.is_none() && args.server.is_none() {
        in_cluster(args)?
    } else {
        let kc = select(args, loaded)?;
        let options = KubeConfigOptions {
            context: Some("warpdrive".into()),
            cluster: None,
            user: None,
        };
        kube::Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| {
                Error::bad(format!(
                    "kubeconfig {source}: {}; check --context/--cluster/--user or the file",
                    super::errors::shown(&e.to_string())
                ))
            })?
    };
    Ok((config, source))
}

/// Builds a client from the kubeconfig flags. Must be called inside a tokio
/// runtime. Only the cluster commands call this; `warpdrive exec` never does.
pub async fn connect(args: &KubeArgs) -> Result<Cluster, Error> {
    http::set_verbosity(args.verbosity);
    let timeout = match &args.request_timeout {
        Some(raw) => parse_request_timeout(raw)?,
        None => Some(DEFAULT_REQUEST_TIMEOUT),
    };
    let (mut config, source) = config(args).await?;
    if let Some(user) = &args.as_user {
        config.auth_info.impersonate = Some(user.clone());
        if !args.as_group.is_empty() {
            config.auth_info.impersonate_groups = Some(args.as_group.clone());
        }
    }
    let namespace = config.default_namespace.clone();
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    let credential = credential::take(&mut config, &server)?;
    let client = http::client(config, timeout, credential).map_err(|e| {
        Error::bad(format!(
            "kubeconfig {source}: cannot build a client for {server}: {}",
            super::errors::shown(&e.to_string())
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
