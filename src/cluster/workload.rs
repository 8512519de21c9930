//! Container selection, env editing and the guarded write.
//!
//! The env functions work on a plain JSON object (`spec.template` is where
//! Deployment, DeploymentConfig and StatefulSet all keep their pod template),
//! so `--local` manifests and cluster objects share them. [`update`] is the
//! one write path: GET (already done by the caller) → edit → JSON Patch with
//! a `test` on `metadata.resourceVersion`, retried on conflict.

use std::time::Duration;

use serde_json::{json, Value};

use super::config::Cluster;
use super::errors::{describe, status_code, Error};
use super::target::{get, Workload};
use crate::cli::DryRun;
use crate::knobs;

/// The annotation kubectl uses to pick a container when `-c` is not given.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// How many times a write is tried when the object keeps changing under it.
pub const MAX_ATTEMPTS: u32 = 8;

/// The containers of an object's pod template, in order.
pub fn containers(object: &Value) -> Vec<String> {
    object
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    c.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `kubectl.kubernetes.io/default-container` annotation, from the pod
/// template (where it reaches the pods) or else the object itself.
pub fn default_container(object: &Value) -> Option<String> {
    let key = DEFAULT_CONTAINER_ANNOTATION.replace('/', "~1");
    [
        "/spec/template/metadata/annotations/",
        "/metadata/annotations/",
    ]
    .iter()
    .find_map(|p| object.pointer(&format!("{p}{key}")))
    .and_then(Value::as_str)
    .map(str::to_string)
}

/// Picks the container to work on: `-c NAME`, else the default-container
/// annotation, else the only container. Otherwise a `BadInput` listing the
/// containers. `what` names the object in messages (`deployment/blog`).
pub fn select_container(
    object: &Value,
    requested: Option<&str>,
    what: &str,
) -> Result<usize, Error> {
    let names = containers(object);
    let find = |name: &str| names.iter().position(|n| n == name);
    if let Some(name) = requested {
        return find(name).ok_or_else(|| {
            Error::bad(format!(
                "{what} has no container {name:?}: use -c with one of {}",
                names.join(", ")
            ))
        });
    }
    if let Some(name) = default_container(object) {
        return find(&name).ok_or_else(|| {
            Error::bad(format!(
                "{what}: annotation {DEFAULT_CONTAINER_ANNOTATION}={name} names no container; use -c with one of {}",
                names.join(", ")
            ))
        });
    }
    match names.len() {
        1 => Ok(0),
        0 => Err(Error::bad(format!(
            "{what} has no containers in spec.template"
        ))),
        _ => Err(Error::bad(format!(
            "{what} has {} containers: pick one with -c ({})",
            names.len(),
            names.join(", ")
        ))),
    }
}

/// The env list of container `idx` (empty if none).
pub fn env(object: &Value, idx: usize) -> Vec<Value> {
    object
        .pointer(&format!("/spec/template/spec/containers/{idx}/env"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The literal value of `name` in container `idx` (`None` if unset or set
/// through `valueFrom`).
pub fn env_value(object: &Value, idx: usize, name: &str) -> Option<String> {
    let env = env(object, idx);
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

/// The variable that makes mod_wsgi-express restart on source changes
/// (what `reload on` sets).
pub const RELOAD_VAR: &str = "MOD_WSGI_RELOAD_ON_CHANGES";

/// Does container `idx` set [`RELOAD_VAR`] to a true value (as the launcher
/// reads it)?
pub fn reload_on(object: &Value, idx: usize) -> bool {
    let knob = knobs::find(RELOAD_VAR);
    env_value(object, idx, RELOAD_VAR).and_then(|v| knob.and_then(|k| k.parse(&v).ok()))
        == Some(knobs::Value::Flag(true))
}

/// Does any container of the object have reloading on?
pub fn reload_on_anywhere(object: &Value) -> bool {
    (0..containers(object).len()).any(|idx| reload_on(object, idx))
}

/// One requested change to a container's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvChange {
    Set { name: String, value: String },
    Unset { name: String },
}

impl EnvChange {
    pub fn name(&self) -> &str {
        match self {
            EnvChange::Set { name, .. } | EnvChange::Unset { name } => name,
        }
    }
}

/// A variable before and after an edit (`None` = not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvDiff {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl EnvDiff {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// Describes where a `valueFrom` variable comes from, as `oc set env --list`
/// does: `secret blog-db, key password`.
pub fn value_from_source(value_from: &Value) -> String {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    if let Some(s) = value_from.get("secretKeyRef") {
        format!("secret {}, key {}", field(s, "name"), field(s, "key"))
    } else if let Some(c) = value_from.get("configMapKeyRef") {
        format!("configmap {}, key {}", field(c, "name"), field(c, "key"))
    } else if let Some(f) = value_from.get("fieldRef") {
        format!("field path {}", field(f, "fieldPath"))
    } else if let Some(r) = value_from.get("resourceFieldRef") {
        format!("resource {}", field(r, "resource"))
    } else {
        "valueFrom".to_string()
    }
}

/// The value of an env entry for display: the literal, or `None` if unset.
fn entry_value(entry: &Value) -> Option<String> {
    if let Some(vf) = entry.get("valueFrom") {
        return Some(format!("<from {}>", value_from_source(vf)));
    }
    Some(
        entry
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    )
}

/// Applies `changes` to an env list in place, with `kubectl set env`
/// semantics (update where it is, append new ones in order, unset removes
/// every entry of that name). A variable set through `valueFrom` is never
/// overwritten: that is a `BadInput` naming its source.
pub fn edit_env(
    env: &mut Vec<Value>,
    changes: &[EnvChange],
    what: &str,
) -> Result<Vec<EnvDiff>, Error> {
    let mut diffs = Vec::new();
    for change in changes {
        let name = change.name();
        let pos = env
            .iter()
            .position(|e| e.get("name").and_then(Value::as_str) == Some(name));
        let before = pos.and_then(|i| entry_value(&env[i]));
        match change {
            EnvChange::Set { value, .. } => {
                if let Some(i) = pos {
                    if let Some(vf) = env[i].get("valueFrom") {
                        return Err(Error::bad(format!(
                            "{what}: {name} is set from {} (valueFrom) and is not overwritten; change it there, or remove it first with --unset {name}",
                            value_from_source(vf)
                        )));
                    }
                    for e in env.iter_mut() {
                        if e.get("name").and_then(Value::as_str) == Some(name) {
                            *e = json!({"name": name, "value": value});
                        }
                    }
                } else {
                    env.push(json!({"name": name, "value": value}));
                }
                diffs.push(EnvDiff {
                    name: name.to_string(),
                    before,
                    after: Some(value.clone()),
                });
            }
            EnvChange::Unset { .. } => {
                env.retain(|e| e.get("name").and_then(Value::as_str) != Some(name));
                diffs.push(EnvDiff {
                    name: name.to_string(),
                    before,
                    after: None,
                });
            }
        }
    }
    Ok(diffs)
}

/// [`edit_env`] on container `idx` of an object's pod template. An env list
/// left empty is removed, as kubectl does.
pub fn apply_env(
    object: &mut Value,
    idx: usize,
    changes: &[EnvChange],
    what: &str,
) -> Result<Vec<EnvDiff>, Error> {
    let mut list = env(object, idx);
    let diffs = edit_env(&mut list, changes, what)?;
    if diffs.iter().any(EnvDiff::changed) {
        let container = object
            .pointer_mut(&format!("/spec/template/spec/containers/{idx}"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| Error::bad(format!("{what} has no container #{idx}")))?;
        if list.is_empty() {
            container.remove("env");
        } else {
            container.insert("env".to_string(), Value::Array(list));
        }
    }
    Ok(diffs)
}

/// The result of [`update`].
#[derive(Debug, Clone)]
pub struct Updated<T> {
    /// The object as the server returned it (or as edited, for a client dry run).
    pub workload: Workload,
    /// What the edit returned on the attempt that was written.
    pub output: T,
    /// False when the edit changed nothing (no write was sent).
    pub changed: bool,
    /// Write attempts sent (0 for no change or a client dry run).
    pub attempts: u32,
}

/// Edits `workload` with `edit` and writes the change: one JSON Patch
/// (`application/json-patch+json`) that starts with
/// `{"op":"test","path":"/metadata/resourceVersion",…}`, so a concurrent
/// writer can never be overwritten. On 409 Conflict (or a failed `test`)
/// the object is read again and `edit` re-applied, up to [`MAX_ATTEMPTS`]
/// writes. Uncontended this is exactly the caller's GET plus one PATCH.
///
/// `DryRun::Client` sends nothing; `DryRun::Server` sends the patch with
/// `dryRun=All`. `edit` may be called more than once.
pub async fn update<T, F>(
    cluster: &Cluster,
    mut workload: Workload,
    dry_run: DryRun,
    mut edit: F,
) -> Result<Updated<T>, Error>
where
    F: FnMut(&mut Value) -> Result<T, Error>,
{
    let what = workload.display();
    let mut attempts = 0;
    loop {
        let mut after = workload.object.clone();
        let output = edit(&mut after)?;
        let diff = json_patch::diff(&workload.object, &after);
        if diff.0.is_empty() {
            return Ok(Updated {
                workload,
                output,
                changed: false,
                attempts,
            });
        }
        if dry_run == DryRun::Client {
            workload.object = after;
            return Ok(Updated {
                workload,
                output,
                changed: true,
                attempts,
            });
        }
        let rv = workload.resource_version().unwrap_or_default().to_string();
        let mut ops = vec![json!({"op": "test", "path": "/metadata/resourceVersion", "value": rv})];
        ops.extend(
            diff.0
                .iter()
                .map(|op| serde_json::to_value(op).unwrap_or(Value::Null)),
        );
        attempts += 1;
        match json_patch(cluster, &workload, &ops, dry_run == DryRun::Server).await {
            Ok(obj) => {
                let updated = Workload {
                    object: obj,
                    ..workload
                };
                return Ok(Updated {
                    workload: updated,
                    output,
                    changed: true,
                    attempts,
                });
            }
            Err(e) => {
                let code = status_code(&e);
                // 409: the double and `test` failures on some servers; 422: a
                // real kube-apiserver answers a failed `test` with Invalid.
                // Either way, retry only if the object really moved on.
                // Out of attempts with the object still moving is a conflict
                // too (a real apiserver says 422 for it), never a rejection.
                if matches!(code, Some(409) | Some(422)) {
                    let fresh = get(cluster, workload.kind, &workload.name).await?;
                    if fresh.resource_version() != Some(rv.as_str()) {
                        if attempts < MAX_ATTEMPTS {
                            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempts)))
                                .await;
                            workload = fresh;
                            continue;
                        }
                        return Err(kept_changing(&what, code, attempts));
                    }
                }
                if code == Some(409) {
                    return Err(kept_changing(&what, code, attempts));
                }
                return Err(describe(
                    e,
                    workload.kind.op("patch", &workload.name, cluster),
                ));
            }
        }
    }
}

/// The error for a write that lost to other writers every time (nothing stored).
fn kept_changing(what: &str, code: Option<u16>, attempts: u32) -> Error {
    let status = match code {
        Some(422) => "422 Invalid: its resourceVersion test failed",
        _ => "409 Conflict",
    };
    let tries = if attempts == 1 { "attempt" } else { "attempts" };
    Error::Failed(format!(
        "{what} kept changing while it was being updated ({status} after {attempts} {tries}); run the command again"
    ))
}

/// Sends one JSON Patch to an object and returns the object the server answers with.
async fn json_patch(
    cluster: &Cluster,
    workload: &Workload,
    ops: &[Value],
    server_dry_run: bool,
) -> Result<Value, kube::Error> {
    let kind = workload.kind;
    let mut uri = format!(
        "/apis/{}/namespaces/{}/{}/{}?fieldManager={}",
        kind.api_version(),
        workload.namespace,
        kind.plural(),
        workload.name,
        super::config::FIELD_MANAGER
    );
    if server_dry_run {
        uri.push_str("&dryRun=All");
    }
    let body = serde_json::to_vec(ops).map_err(kube::Error::SerdeError)?;
    let req = http::Request::patch(uri)
        .header(http::header::CONTENT_TYPE, "application/json-patch+json")
        .header(http::header::ACCEPT, "application/json")
        .body(body)
        .map_err(kube::Error::HttpError)?;
    let obj: Value = cluster.client.request(req).await?;
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(containers: Value, annotations: Value) -> Value {
        json!({"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": containers}}}})
    }

    #[test]
    fn selects_flag_then_annotation_then_only_container() {
        let two = json!([{"name": "web"}, {"name": "proxy"}]);
        let o = object(two.clone(), json!({}));
        assert_eq!(select_container(&o, Some("proxy"), "d").unwrap(), 1);
        let err = select_container(&o, None, "deployment/blog")
            .unwrap_err()
            .to_string();
        assert!(err.contains("web, proxy") && err.contains("-c"), "{err}");
        assert!(select_container(&o, Some("nope"), "d").is_err());
        let o = object(two, json!({DEFAULT_CONTAINER_ANNOTATION: "proxy"}));
        assert_eq!(select_container(&o, None, "d").unwrap(), 1);
        let o = object(json!([{"name": "only"}]), json!({}));
        assert_eq!(select_container(&o, None, "d").unwrap(), 0);
    }

    #[test]
    fn edits_env_like_kubectl_and_protects_value_from() {
        let mut env = vec![
            json!({"name": "A", "value": "1"}),
            json!({"name": "S", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}),
        ];
        let diffs = edit_env(
            &mut env,
            &[
                EnvChange::Set {
                    name: "B".into(),
                    value: "2".into(),
                },
                EnvChange::Set {
                    name: "A".into(),
                    value: "3".into(),
                },
                EnvChange::Unset { name: "S".into() },
            ],
            "d",
        )
        .unwrap();
        assert_eq!(
            env,
            vec![
                json!({"name": "A", "value": "3"}),
                json!({"name": "B", "value": "2"})
            ]
        );
        assert_eq!(diffs[1].before.as_deref(), Some("1"));
        let mut env =
            vec![json!({"name": "S", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}})];
        let err = edit_env(
            &mut env,
            &[EnvChange::Set {
                name: "S".into(),
                value: "x".into(),
            }],
            "deployment/blog",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("secret db, key pw"), "{err}");
    }
}
