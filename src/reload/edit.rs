//! The object edits of `reload on` and `reload off`, on the workload's JSON:
//! the reload variable ([`RELOAD_VAR`]), the replica count and the
//! annotation that remembers it. Pure functions: each edit is one write
//! (and one rollout).

use serde_json::{json, Value};

use crate::cluster::workload::{self, RELOAD_VAR};
use crate::cluster::{self, target};
use crate::error::BadInput;

/// Where `on` remembers the replica count that `off` restores.
pub const REPLICAS_ANNOTATION: &str = "warpdrive/reload-replicas";
/// The container env variable that names the app directory.
pub const SRC_ROOT_VAR: &str = "WARPDRIVE_SRC_ROOT";
/// `--dest` when the container does not set [`SRC_ROOT_VAR`] (the s2i layout).
pub const DEFAULT_DEST: &str = "/opt/app-root/src";

/// Does container `idx` set `name` at all (literally or through `valueFrom`)?
pub fn has_env(object: &Value, idx: usize, name: &str) -> bool {
    workload::env(object, idx)
        .iter()
        .any(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

fn annotation(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REPLICAS_ANNOTATION))
        .and_then(Value::as_str)
}

/// The remembered replica count, if any; a value that is not a count is bad input.
pub fn remembered(object: &Value, what: &str) -> Result<Option<i64>, BadInput> {
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
) -> Result<&'a mut serde_json::Map<String, Value>, cluster::Error> {
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
                .ok_or_else(|| cluster::Error::Failed(format!("{what}: no metadata")))
        }
        None => Err(cluster::Error::Failed(format!(
            "{what}: the server sent an object without metadata"
        ))),
    }
}

/// The `on` edit: remember replicas (unless already remembered), scale to
/// 1, set the variable. One object edit, so one write and one rollout.
pub fn edit_on(object: &mut Value, idx: usize, what: &str) -> Result<(), cluster::Error> {
    let current = target::replicas(object);
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

/// What `on` is about to change, to put it back when `on` fails later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub replicas: i64,
    /// The literal value of [`RELOAD_VAR`] (`None`: not set).
    pub var: Option<String>,
    /// The [`REPLICAS_ANNOTATION`] (`None`: not there).
    pub annotation: Option<String>,
    /// Whether `metadata.annotations` was there at all.
    pub had_annotations: bool,
}

impl Before {
    pub fn of(object: &Value, idx: usize) -> Before {
        Before {
            replicas: target::replicas(object),
            var: workload::env_value(object, idx, RELOAD_VAR),
            annotation: annotation(object).map(str::to_string),
            had_annotations: object.pointer("/metadata/annotations").is_some(),
        }
    }

    /// `3 replicas, MOD_WSGI_RELOAD_ON_CHANGES unset` for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} replica{}, {RELOAD_VAR}{}",
            self.replicas,
            if self.replicas == 1 { "" } else { "s" },
            match &self.var {
                Some(v) => format!("={}", cluster::errors::shown(v)),
                None => " unset".to_string(),
            }
        )
    }
}

/// Puts back what [`edit_on`] changed: the replicas, the variable and the
/// annotation exactly as [`Before`] saw them.
pub fn edit_back(
    object: &mut Value,
    idx: usize,
    what: &str,
    before: &Before,
) -> Result<(), cluster::Error> {
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("replicas".into(), Value::from(before.replicas));
    }
    let ann = annotations_mut(object, what)?;
    match &before.annotation {
        Some(v) => {
            ann.insert(REPLICAS_ANNOTATION.into(), Value::from(v.clone()));
        }
        None => {
            ann.remove(REPLICAS_ANNOTATION);
            if ann.is_empty() && !before.had_annotations {
                if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("annotations");
                }
            }
        }
    }
    let change = match &before.var {
        Some(v) => workload::EnvChange::Set {
            name: RELOAD_VAR.into(),
            value: v.clone(),
        },
        None => workload::EnvChange::Unset {
            name: RELOAD_VAR.into(),
        },
    };
    workload::apply_env(object, idx, &[change], what)?;
    Ok(())
}

/// The `off` edit: unset the variable, restore the remembered replicas and
/// drop the annotation.
pub fn edit_off(
    object: &mut Value,
    idx: usize,
    what: &str,
    restore: Option<i64>,
) -> Result<(), cluster::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::workload::{env_value, reload_on, reload_on_anywhere};

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
        assert_eq!(target::replicas(&o), 1);
        assert!(reload_on(&o, 0));
        assert!(reload_on_anywhere(&o));
        assert_eq!(remembered(&o, "d").unwrap(), Some(3));
        // a second edit keeps the first remembered count
        o["spec"]["replicas"] = json!(5);
        edit_on(&mut o, 0, "deployment/blog").unwrap();
        assert_eq!(remembered(&o, "d").unwrap(), Some(3));
    }

    #[test]
    fn back_is_exactly_as_before() {
        for (env, ann) in [
            (json!([{"name": "A", "value": "x"}]), json!({})),
            (
                json!([{"name": RELOAD_VAR, "value": "0"}]),
                json!({REPLICAS_ANNOTATION: "4", "other": "y"}),
            ),
        ] {
            let original = deploy(3, env, ann);
            let before = Before::of(&original, 0);
            let mut o = original.clone();
            edit_on(&mut o, 0, "d").unwrap();
            assert_ne!(o, original);
            edit_back(&mut o, 0, "d", &before).unwrap();
            assert_eq!(o, original);
        }
    }

    #[test]
    fn off_restores_and_removes() {
        let mut o = deploy(3, json!([{"name": "A", "value": "x"}]), json!({}));
        edit_on(&mut o, 0, "d").unwrap();
        let restore = remembered(&o, "d").unwrap();
        edit_off(&mut o, 0, "d", restore).unwrap();
        assert_eq!(target::replicas(&o), 3);
        assert!(!has_env(&o, 0, RELOAD_VAR));
        assert!(!reload_on_anywhere(&o));
        assert!(o.pointer("/metadata/annotations").is_none());
        assert_eq!(
            workload::env(&o, 0),
            vec![json!({"name": "A", "value": "x"})]
        );
    }

    #[test]
    fn only_a_true_literal_is_on() {
        for (value, on) in [("1", true), ("0", false), ("", false)] {
            let o = deploy(1, json!([{"name": RELOAD_VAR, "value": value}]), json!({}));
            assert_eq!(reload_on(&o, 0), on, "{value:?}");
        }
        let o = deploy(
            1,
            json!([{"name": RELOAD_VAR, "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]),
            json!({}),
        );
        assert!(!reload_on_anywhere(&o));
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
