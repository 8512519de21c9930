//! TARGET parsing and lookup: `deployment/NAME`, `deploy/NAME`,
//! `deploymentconfig/NAME`, `dc/NAME`, `statefulset/NAME`, `sts/NAME` or a
//! bare `NAME` (looked up as Deployment and DeploymentConfig). Every kind is
//! read through kube's `DynamicObject`, so OpenShift types need no codegen.

use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;

use super::config::Cluster;
use super::errors::{describe, status_code, Error, Op};

/// The workload kinds the cluster commands handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    DeploymentConfig,
    StatefulSet,
}

impl WorkloadKind {
    /// The `kind:` field.
    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::DeploymentConfig => "DeploymentConfig",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }

    /// Lower-case name used in `KIND/NAME` (`deployment/blog`).
    pub fn lower(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::DeploymentConfig => "deploymentconfig",
            WorkloadKind::StatefulSet => "statefulset",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            WorkloadKind::Deployment | WorkloadKind::StatefulSet => "apps",
            WorkloadKind::DeploymentConfig => "apps.openshift.io",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::DeploymentConfig => "deploymentconfigs",
            WorkloadKind::StatefulSet => "statefulsets",
        }
    }

    /// `deployment.apps`, as kubectl's `-o name` starts.
    pub fn qualified(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment.apps",
            WorkloadKind::DeploymentConfig => "deploymentconfig.apps.openshift.io",
            WorkloadKind::StatefulSet => "statefulset.apps",
        }
    }

    /// `deployments.apps`, as RBAC messages name it.
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments.apps",
            WorkloadKind::DeploymentConfig => "deploymentconfigs.apps.openshift.io",
            WorkloadKind::StatefulSet => "statefulsets.apps",
        }
    }

    /// `deployments.apps/scale`: the subresource, for RBAC messages.
    pub fn scale_resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments.apps/scale",
            WorkloadKind::DeploymentConfig => "deploymentconfigs.apps.openshift.io/scale",
            WorkloadKind::StatefulSet => "statefulsets.apps/scale",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            WorkloadKind::Deployment | WorkloadKind::StatefulSet => "apps/v1",
            WorkloadKind::DeploymentConfig => "apps.openshift.io/v1",
        }
    }

    /// The kube `ApiResource` for `Api<DynamicObject>`.
    pub fn api_resource(self) -> ApiResource {
        ApiResource {
            group: self.group().to_string(),
            version: "v1".to_string(),
            api_version: self.api_version().to_string(),
            kind: self.kind().to_string(),
            plural: self.plural().to_string(),
        }
    }

    /// The kind named by a manifest's `kind:` field, if handled.
    pub fn from_manifest(kind: &str) -> Option<WorkloadKind> {
        match kind {
            "Deployment" => Some(WorkloadKind::Deployment),
            "DeploymentConfig" => Some(WorkloadKind::DeploymentConfig),
            "StatefulSet" => Some(WorkloadKind::StatefulSet),
            _ => None,
        }
    }

    /// An [`Op`] on an object of this kind, for error messages.
    pub fn op<'a>(self, verb: &'a str, name: &'a str, cluster: &'a Cluster) -> Op<'a> {
        Op {
            verb,
            resource: self.resource(),
            kind: self.lower(),
            name,
            namespace: &cluster.namespace,
            server: &cluster.server,
        }
    }

    /// `Api<DynamicObject>` for this kind in the cluster's namespace.
    pub fn api(self, cluster: &Cluster) -> Api<DynamicObject> {
        Api::namespaced_with(
            cluster.client.clone(),
            &cluster.namespace,
            &self.api_resource(),
        )
    }
}

/// A parsed TARGET argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `None` for a bare name: both Deployment and DeploymentConfig are tried.
    pub kind: Option<WorkloadKind>,
    pub name: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Some(k) => write!(f, "{}/{}", k.lower(), self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The kind a word names, as kubectl accepts it (case-insensitive, singular
/// or plural, short name, with or without the group).
pub fn kind_word(word: &str) -> Option<WorkloadKind> {
    Some(match word.to_ascii_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" | "deployment.apps" | "deployments.apps" => {
            WorkloadKind::Deployment
        }
        "deploymentconfig"
        | "deploymentconfigs"
        | "dc"
        | "deploymentconfig.apps.openshift.io"
        | "deploymentconfigs.apps.openshift.io" => WorkloadKind::DeploymentConfig,
        "statefulset" | "statefulsets" | "sts" | "statefulset.apps" | "statefulsets.apps" => {
            WorkloadKind::StatefulSet
        }
        _ => return None,
    })
}

/// The kinds of a `TYPE[,TYPE…]` word, if every part is one.
pub fn kind_list(word: &str) -> Option<Vec<WorkloadKind>> {
    let mut kinds = Vec::new();
    for part in word.split(',') {
        let k = kind_word(part)?;
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    Some(kinds)
}

/// Parses TARGET. Kind words are those kubectl accepts (case-insensitive,
/// with or without the group suffix).
pub fn parse(raw: &str) -> Result<Target, Error> {
    let (kind, name) = match raw.split_once('/') {
        None => (None, raw),
        Some((k, n)) => {
            let Some(kind) = kind_word(k) else {
                return Err(Error::bad(format!(
                    "TARGET {}: unknown kind {}; use deployment/NAME, deploy/NAME, statefulset/NAME, sts/NAME, deploymentconfig/NAME, dc/NAME or NAME",
                    crate::error::quoted(raw),
                    crate::error::quoted(k)
                )));
            };
            (Some(kind), n)
        }
    };
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        return Err(Error::bad(format!(
            "TARGET {}: {} is not a valid object name (lower-case letters, digits, '-' and '.')",
            crate::error::quoted(raw),
            crate::error::quoted(name)
        )));
    }
    Ok(Target {
        kind,
        name: name.to_string(),
    })
}

/// The workloads a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `TYPE/NAME…`, `TYPE NAME…` or one bare `NAME`.
    Named(Vec<Target>),
    /// Every workload of these kinds whose labels match `selector` (`-l`),
    /// or all of them (`--all`, `selector` is `None`).
    Matching {
        kinds: Vec<WorkloadKind>,
        selector: Option<String>,
    },
}

impl Selection {
    /// Exactly one named TARGET (the single-workload output).
    pub fn single(&self) -> Option<&Target> {
        match self {
            Selection::Named(t) if t.len() == 1 => t.first(),
            _ => None,
        }
    }
}

/// Splits the words `kubectl set env` style: the resources, then from the
/// first `KEY=VALUE` or `KEY-` on, the environment changes.
pub fn split_env(words: &[String]) -> (Vec<String>, Vec<String>) {
    let is_env = |w: &String| w.contains('=') || (w.ends_with('-') && !w.contains('/'));
    match words.iter().position(is_env) {
        Some(at) => (words[..at].to_vec(), words[at..].to_vec()),
        None => (words.to_vec(), Vec::new()),
    }
}

/// The [`Selection`] of the resource words with `-l`/`--all`: `TYPE -l SEL`,
/// `TYPE --all`, `TYPE/NAME…`, `TYPE NAME…` or one bare `NAME`.
pub fn selection(words: &[String], selector: Option<&str>, all: bool) -> Result<Selection, Error> {
    if selector.is_some() || all {
        let flag = if all { "--all" } else { "-l" };
        let kinds = match words {
            [one] if !one.contains('/') => kind_list(one),
            _ => None,
        };
        return match kinds {
            Some(kinds) => Ok(Selection::Matching {
                kinds,
                selector: selector.map(str::to_string),
            }),
            None => Err(Error::bad(format!(
                "{flag} needs the kind and nothing else before it, e.g. `tune deploy {flag}{}`: drop the names, or drop {flag}",
                if all { "" } else { " app=shop" }
            ))),
        };
    }
    match words {
        [] => Err(Error::bad(
            "no TARGET: give deploy/NAME (or TYPE NAME, or TYPE -l SELECTOR, or TYPE --all)",
        )),
        [one] => Ok(Selection::Named(vec![parse(one)?])),
        [first, rest @ ..] if !first.contains('/') => {
            let Some(kinds) = kind_list(first) else {
                return Err(Error::bad(format!(
                    "{} is not a kind: several TARGETs are TYPE/NAME each, or TYPE NAME NAME…",
                    crate::error::quoted(first)
                )));
            };
            let mut targets = Vec::new();
            for name in rest {
                if name.contains('/') {
                    return Err(Error::bad(format!(
                        "{}: after the kind {first} come names only (TYPE NAME NAME…), or give every TARGET as TYPE/NAME",
                        crate::error::quoted(name)
                    )));
                }
                for kind in &kinds {
                    let mut t = parse(name)?;
                    t.kind = Some(*kind);
                    if !targets.contains(&t) {
                        targets.push(t);
                    }
                }
            }
            Ok(Selection::Named(targets))
        }
        many => {
            let mut targets = Vec::new();
            for w in many {
                let t = parse(w)?;
                if t.kind.is_none() {
                    return Err(Error::bad(format!(
                        "TARGET {}: with several TARGETs each is TYPE/NAME (e.g. deploy/{})",
                        crate::error::quoted(w),
                        t.name
                    )));
                }
                if !targets.contains(&t) {
                    targets.push(t);
                }
            }
            Ok(Selection::Named(targets))
        }
    }
}

/// `spec.replicas` of a workload object (1 when absent, the API default).
pub fn replicas(object: &Value) -> i64 {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// An object fetched from the cluster (or read from a manifest), as JSON.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub name: String,
    pub namespace: String,
    /// The whole object, including metadata and status.
    pub object: Value,
}

impl Workload {
    /// Wraps a `DynamicObject` returned by the server.
    pub fn from_dynamic(kind: WorkloadKind, namespace: &str, obj: DynamicObject) -> Workload {
        let name = obj.metadata.name.clone().unwrap_or_default();
        let mut object = serde_json::to_value(&obj).unwrap_or(Value::Null);
        if let Some(map) = object.as_object_mut() {
            map.entry("apiVersion")
                .or_insert_with(|| Value::from(kind.api_version()));
            map.entry("kind")
                .or_insert_with(|| Value::from(kind.kind()));
        }
        Workload {
            kind,
            name,
            namespace: namespace.to_string(),
            object,
        }
    }

    /// `deployment/blog`.
    pub fn display(&self) -> String {
        format!(
            "{}/{}",
            self.kind.lower(),
            super::errors::shown_at(&self.name, 253)
        )
    }

    /// `deployment.apps/blog`, as kubectl's `-o name`.
    pub fn qualified_name(&self) -> String {
        format!(
            "{}/{}",
            self.kind.qualified(),
            super::errors::shown_at(&self.name, 253)
        )
    }

    pub fn resource_version(&self) -> Option<&str> {
        self.object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
    }

    pub fn generation(&self) -> i64 {
        self.object
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }

    /// `spec.replicas` (1 when absent, the API default).
    pub fn replicas(&self) -> i64 {
        replicas(&self.object)
    }

    /// The pod selector as a `labelSelector` query string
    /// (`matchLabels` and simple `matchExpressions`, or a DeploymentConfig's map).
    pub fn label_selector(&self) -> String {
        let sel = self.object.pointer("/spec/selector");
        let labels = match self.kind {
            WorkloadKind::DeploymentConfig => sel,
            _ => sel.and_then(|s| s.get("matchLabels")),
        };
        let mut parts: Vec<String> = labels
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        if self.kind != WorkloadKind::DeploymentConfig {
            for e in sel
                .and_then(|s| s.get("matchExpressions"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
                let values: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                match e.get("operator").and_then(Value::as_str) {
                    Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
                    Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
                    Some("Exists") => parts.push(key.to_string()),
                    Some("DoesNotExist") => parts.push(format!("!{key}")),
                    _ => {}
                }
            }
        }
        parts.join(",")
    }
}

/// GETs one object of a known kind. For a DeploymentConfig on a cluster
/// without `apps.openshift.io`, says so instead of "not found".
pub async fn get(cluster: &Cluster, kind: WorkloadKind, name: &str) -> Result<Workload, Error> {
    match kind.api(cluster).get(name).await {
        Ok(obj) => Ok(Workload::from_dynamic(kind, &cluster.namespace, obj)),
        Err(e) if status_code(&e) == Some(404) && kind == WorkloadKind::DeploymentConfig => {
            if has_group_version(cluster, "apps.openshift.io", "v1").await? {
                Err(describe(e, kind.op("get", name, cluster)))
            } else {
                Err(no_openshift(cluster, name))
            }
        }
        Err(e) => Err(describe(e, kind.op("get", name, cluster))),
    }
}

fn no_openshift(cluster: &Cluster, name: &str) -> Error {
    Error::bad(format!(
        "deploymentconfig/{name}: the cluster at {} has no OpenShift API (apps.openshift.io/v1); use deployment/{name} on plain Kubernetes",
        cluster.server
    ))
}

/// Whether the server serves `group/version` (discovery: `GET /apis/GROUP/VERSION`).
pub async fn has_group_version(
    cluster: &Cluster,
    group: &str,
    version: &str,
) -> Result<bool, Error> {
    let req = http::Request::get(format!("/apis/{group}/{version}"))
        .body(Vec::new())
        .map_err(|e| Error::Failed(format!("discovery request: {e}")))?;
    match cluster.client.request::<Value>(req).await {
        Ok(_) => Ok(true),
        Err(e) if status_code(&e) == Some(404) => Ok(false),
        Err(e) => Err(describe(
            e,
            Op {
                verb: "get",
                resource: "discovery",
                kind: "group",
                name: group,
                namespace: &cluster.namespace,
                server: &cluster.server,
            },
        )),
    }
}

/// Finds TARGET in the cluster. With a kind that is one GET. A bare name is
/// looked up as both Deployment and DeploymentConfig (two GETs); if both
/// exist the user must pick one (exit 2). A 403 on one kind is ignored
/// when the other kind is found.
pub async fn resolve(cluster: &Cluster, target: &Target) -> Result<Workload, Error> {
    if let Some(kind) = target.kind {
        return get(cluster, kind, &target.name).await;
    }
    let name = target.name.as_str();
    let (deploy_api, dc_api) = (
        WorkloadKind::Deployment.api(cluster),
        WorkloadKind::DeploymentConfig.api(cluster),
    );
    let (deploy, dc) = futures::join!(deploy_api.get_opt(name), dc_api.get_opt(name));
    // A cluster without OpenShift answers 404 for the whole group: that is "no DC".
    // A 403 on one kind does not stop the lookup if the other kind is found.
    let mut denied = None;
    let deploy = match deploy {
        Ok(d) => d,
        Err(e) if status_code(&e) == Some(403) => {
            denied = Some((WorkloadKind::Deployment, e));
            None
        }
        Err(e) => {
            return Err(describe(
                e,
                WorkloadKind::Deployment.op("get", name, cluster),
            ))
        }
    };
    let dc = match dc {
        Ok(d) => d,
        Err(e) if status_code(&e) == Some(404) => None,
        Err(e) if status_code(&e) == Some(403) => {
            denied.get_or_insert((WorkloadKind::DeploymentConfig, e));
            None
        }
        Err(e) => {
            return Err(describe(
                e,
                WorkloadKind::DeploymentConfig.op("get", name, cluster),
            ))
        }
    };
    if let (None, None, Some((kind, e))) = (&deploy, &dc, denied) {
        return Err(describe(e, kind.op("get", name, cluster)));
    }
    match (deploy, dc) {
        (Some(_), Some(_)) => Err(Error::bad(format!(
            "both deployment/{name} and deploymentconfig/{name} exist in namespace {}: say which one, e.g. deploy/{name} or dc/{name}",
            cluster.namespace
        ))),
        (Some(d), None) => Ok(Workload::from_dynamic(WorkloadKind::Deployment, &cluster.namespace, d)),
        (None, Some(d)) => Ok(Workload::from_dynamic(
            WorkloadKind::DeploymentConfig,
            &cluster.namespace,
            d,
        )),
        (None, None) => Err(Error::bad(format!(
            "no deployment or deploymentconfig named {name:?} in namespace {}: check the name with `kubectl get deploy,dc -n {}`, or pass -n/--context",
            cluster.namespace, cluster.namespace
        ))),
    }
}

/// Every workload the selection names, each looked up on its own: a
/// missing one is an `Err` in its place, not the end. `-l`/`--all` list
/// each kind (an error listing one is the end).
pub async fn resolve_each(
    cluster: &Cluster,
    selection: &Selection,
) -> Result<Vec<(String, Result<Workload, Error>)>, Error> {
    match selection {
        Selection::Named(targets) => {
            let mut out = Vec::new();
            for t in targets {
                out.push((t.to_string(), resolve(cluster, t).await));
            }
            Ok(out)
        }
        Selection::Matching { kinds, selector } => {
            let mut out = Vec::new();
            for kind in kinds {
                let mut params = kube::api::ListParams::default();
                if let Some(s) = selector {
                    params = params.labels(s);
                }
                let list = match kind.api(cluster).list(&params).await {
                    Ok(l) => l,
                    Err(e)
                        if status_code(&e) == Some(404)
                            && *kind == WorkloadKind::DeploymentConfig
                            && !has_group_version(cluster, "apps.openshift.io", "v1").await? =>
                    {
                        return Err(no_openshift(cluster, "…"));
                    }
                    Err(e) => return Err(describe(e, kind.op("list", "", cluster))),
                };
                for obj in list.items {
                    let w = Workload::from_dynamic(*kind, &cluster.namespace, obj);
                    out.push((w.display(), Ok(w)));
                }
            }
            if out.is_empty() {
                let kinds: Vec<&str> = kinds.iter().map(|k| k.plural()).collect();
                return Err(Error::bad(match selector {
                    Some(s) => format!(
                        "no {} in namespace {} match -l {}: check the labels with `kubectl get {} -n {} --show-labels`",
                        kinds.join(" or "),
                        cluster.namespace,
                        super::errors::shown(s),
                        kinds.join(","),
                        cluster.namespace
                    ),
                    None => format!("no {} in namespace {}", kinds.join(" or "), cluster.namespace),
                }));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn kubectl_set_env_forms() {
        let (res, env) = split_env(&words("deploy shop web MOD_WSGI_THREADS=4 MOD_WSGI_X-"));
        assert_eq!(res, ["deploy", "shop", "web"]);
        assert_eq!(env, ["MOD_WSGI_THREADS=4", "MOD_WSGI_X-"]);
        let named = |line: &str| match selection(&words(line), None, false).unwrap() {
            Selection::Named(t) => t.iter().map(Target::to_string).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            named("deploy shop web"),
            ["deployment/shop", "deployment/web"]
        );
        assert_eq!(
            named("deploy/a sts/b deploy/a"),
            ["deployment/a", "statefulset/b"]
        );
        assert_eq!(named("blog"), ["blog"]);
        assert_eq!(
            named("deploy,sts shop"),
            ["deployment/shop", "statefulset/shop"]
        );
        assert!(selection(&words("blog shop"), None, false).is_err());
        assert!(selection(&words("deploy/a b"), None, false).is_err());
        assert!(selection(&words("deploy a/b"), None, false).is_err());
        assert!(selection(&[], None, false).is_err());
        assert_eq!(
            selection(&words("deploy,dc"), Some("app=x"), false).unwrap(),
            Selection::Matching {
                kinds: vec![WorkloadKind::Deployment, WorkloadKind::DeploymentConfig],
                selector: Some("app=x".into())
            }
        );
        assert!(selection(&words("deploy/a"), None, true).is_err());
        assert!(selection(&words("blog"), Some("a=b"), false).is_err());
    }

    #[test]
    fn parses_kinds_and_bare_names() {
        assert_eq!(
            parse("deploy/blog").unwrap().kind,
            Some(WorkloadKind::Deployment)
        );
        assert_eq!(
            parse("deployment/blog").unwrap().kind,
            Some(WorkloadKind::Deployment)
        );
        assert_eq!(
            parse("dc/blog").unwrap().kind,
            Some(WorkloadKind::DeploymentConfig)
        );
        assert_eq!(
            parse("deploymentconfig/blog").unwrap().kind,
            Some(WorkloadKind::DeploymentConfig)
        );
        assert_eq!(
            parse("sts/db").unwrap().kind,
            Some(WorkloadKind::StatefulSet)
        );
        let bare = parse("blog").unwrap();
        assert_eq!((bare.kind, bare.name.as_str()), (None, "blog"));
        assert!(parse("svc/blog").is_err());
        assert!(parse("deploy/").is_err());
        assert!(parse("deploy/Blog").is_err());
        assert!(parse("deploy/a/b").is_err());
    }
}
