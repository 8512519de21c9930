//! `tune --local -f FILE|DIR|-`: edit manifests without a cluster.
//!
//! Multi-document YAML and `kind: List` are handled; Deployment,
//! DeploymentConfig and StatefulSet objects are edited, anything else is
//! passed through untouched. Documents are kept as `serde_yaml::Value`, so
//! key order survives `--in-place` (comments do not).

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use super::errors::Error;
use super::target::WorkloadKind;
use super::workload::{edit_env, env, select_container, EnvChange, EnvDiff};
use crate::cli::OutputFormat;

/// One source of manifests: a file, or stdin.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// `None` for stdin.
    pub path: Option<PathBuf>,
    /// The file held one JSON document (written back as JSON).
    pub json: bool,
    pub docs: Vec<Yaml>,
}

impl Manifest {
    /// The file name, or `stdin`.
    pub fn label(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "stdin".to_string())
    }

    /// Parses YAML (one or more documents) or JSON text.
    pub fn parse(path: Option<PathBuf>, text: &str) -> Result<Manifest, Error> {
        let label = path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "stdin".to_string());
        let json = text.trim_start().starts_with('{');
        let mut docs = Vec::new();
        for doc in serde_yaml::Deserializer::from_str(text) {
            let value = serde::Deserialize::deserialize(doc).map_err(|e| {
                Error::bad(format!("{label}: not valid YAML/JSON: {e}; fix the file"))
            })?;
            if !matches!(value, Yaml::Null) {
                docs.push(value);
            }
        }
        Ok(Manifest { path, json, docs })
    }
}

/// Reads `-f`: a file, every `*.yaml`/`*.yml`/`*.json` in a directory (not
/// recursive, sorted), or `-` for stdin.
pub fn read(arg: &str) -> Result<Vec<Manifest>, Error> {
    if arg == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::bad(format!("cannot read manifests from stdin: {e}")))?;
        return Ok(vec![Manifest::parse(None, &text)?]);
    }
    let path = Path::new(arg);
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::bad(format!("cannot read directory {arg}: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml" | "json")
                    )
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::bad(format!(
                "{arg} holds no .yaml, .yml or .json files: point -f at a manifest"
            )));
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| Error::bad(format!("cannot read {}: {e}; check -f", p.display())))?;
            Manifest::parse(Some(p), &text)
        })
        .collect()
}

/// Every object of the documents, with `kind: List` (and `*List`) flattened.
fn objects_mut<'a>(doc: &'a mut Yaml, out: &mut Vec<&'a mut Yaml>) {
    let is_list = doc
        .get("kind")
        .and_then(Yaml::as_str)
        .is_some_and(|k| k.ends_with("List"));
    if is_list {
        if let Some(items) = doc.get_mut("items").and_then(Yaml::as_sequence_mut) {
            for item in items.iter_mut() {
                objects_mut(item, out);
            }
        }
        return;
    }
    out.push(doc);
}

/// A handled object of a manifest, read as JSON.
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: WorkloadKind,
    /// `deployment/blog (in deploy.yaml)`.
    pub what: String,
    pub json: Json,
}

fn describe(kind: WorkloadKind, obj: &Yaml, label: &str) -> String {
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Yaml::as_str)
        .unwrap_or("?");
    format!("{}/{name} (in {label})", kind.lower())
}

/// Calls `f` for each Deployment, DeploymentConfig and StatefulSet; `f` may
/// return an env list to write back into container `idx`. Other kinds are
/// reported in the returned `skipped` list.
fn visit<F>(manifests: &mut [Manifest], mut f: F) -> Result<Vec<String>, Error>
where
    F: FnMut(&Found) -> Result<Option<(usize, Vec<Json>)>, Error>,
{
    let mut skipped = Vec::new();
    for m in manifests.iter_mut() {
        let label = m.label();
        let mut objs = Vec::new();
        for doc in m.docs.iter_mut() {
            objects_mut(doc, &mut objs);
        }
        for obj in objs {
            let kind_word = obj
                .get("kind")
                .and_then(Yaml::as_str)
                .unwrap_or("")
                .to_string();
            let Some(kind) = WorkloadKind::from_manifest(&kind_word) else {
                skipped.push(format!("{kind_word} in {label}"));
                continue;
            };
            let what = describe(kind, obj, &label);
            let json: Json = serde_json::to_value(&*obj)
                .map_err(|e| Error::bad(format!("{what}: cannot read the object: {e}")))?;
            let found = Found { kind, what, json };
            if let Some((idx, list)) = f(&found)? {
                let container = obj
                    .get_mut("spec")
                    .and_then(|s| s.get_mut("template"))
                    .and_then(|t| t.get_mut("spec"))
                    .and_then(|s| s.get_mut("containers"))
                    .and_then(|c| c.get_mut(idx))
                    .and_then(Yaml::as_mapping_mut)
                    .ok_or_else(|| Error::bad(format!("{} has no container #{idx}", found.what)))?;
                if list.is_empty() {
                    container.remove("env");
                } else {
                    let value = serde_yaml::to_value(&list)
                        .map_err(|e| Error::Failed(format!("{}: {e}", found.what)))?;
                    container.insert(Yaml::from("env"), value);
                }
            }
        }
    }
    Ok(skipped)
}

/// The handled objects of the manifests (for `--list` and `--recommend`).
pub fn find(manifests: &mut [Manifest]) -> Result<Vec<Found>, Error> {
    let mut found = Vec::new();
    visit(manifests, |f| {
        found.push(f.clone());
        Ok(None)
    })?;
    Ok(found)
}

/// The edits made to one object.
#[derive(Debug, Clone)]
pub struct Edited {
    pub what: String,
    /// `deployment.apps/blog`, for `-o name`.
    pub name: String,
    pub container: String,
    pub diffs: Vec<EnvDiff>,
}

/// Applies `changes` to every handled object (container chosen as in the
/// cluster: `-c`, annotation, only one). All or nothing: on error the
/// manifests must be dropped, nothing has been written.
pub fn edit(
    manifests: &mut [Manifest],
    container: Option<&str>,
    changes: &[EnvChange],
) -> Result<(Vec<Edited>, Vec<String>), Error> {
    let mut edited = Vec::new();
    let skipped = visit(manifests, |f| {
        let idx = select_container(&f.json, container, &f.what)?;
        let mut list = env(&f.json, idx);
        let diffs = edit_env(&mut list, changes, &f.what)?;
        let changed = diffs.iter().any(EnvDiff::changed);
        let name = f
            .json
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("?");
        edited.push(Edited {
            what: f.what.clone(),
            name: format!(
                "{}/{}",
                f.kind.qualified(),
                super::errors::shown_at(name, 253)
            ),
            container: super::workload::containers(&f.json)[idx].clone(),
            diffs,
        });
        Ok(changed.then_some((idx, list)))
    })?;
    if edited.is_empty() {
        return Err(Error::bad(format!(
            "no Deployment, DeploymentConfig or StatefulSet in {}: point -f at workload manifests",
            manifests
                .iter()
                .map(Manifest::label)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((edited, skipped))
}

/// Prints the manifests: YAML documents separated by `---`, or JSON (one
/// object, or a `v1 List` of them, as kubectl prints).
pub fn render(manifests: &[Manifest], format: OutputFormat) -> Result<String, Error> {
    let docs: Vec<&Yaml> = manifests.iter().flat_map(|m| m.docs.iter()).collect();
    let fail =
        |e: &dyn std::fmt::Display| Error::Failed(format!("cannot print the manifests: {e}"));
    match format {
        OutputFormat::Yaml => {
            let mut out = String::new();
            for (i, d) in docs.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                out.push_str(&serde_yaml::to_string(d).map_err(|e| fail(&e))?);
            }
            Ok(out)
        }
        OutputFormat::Name => Err(Error::Failed(
            "-o name prints names, not manifests".to_string(),
        )),
        OutputFormat::Json => {
            let text = if docs.len() == 1 {
                serde_json::to_string_pretty(docs[0])
            } else {
                let mut list = serde_yaml::Mapping::new();
                list.insert("apiVersion".into(), "v1".into());
                list.insert("kind".into(), "List".into());
                list.insert(
                    "items".into(),
                    Yaml::Sequence(docs.iter().map(|d| (*d).clone()).collect()),
                );
                serde_json::to_string_pretty(&Yaml::Mapping(list))
            }
            .map_err(|e| fail(&e))?;
            Ok(text + "\n")
        }
    }
}

/// Writes each manifest back to its file (JSON files stay JSON), through a
/// temp file and a rename so a file is never half-written.
pub fn write_in_place(manifests: &[Manifest]) -> Result<(), Error> {
    for m in manifests {
        let Some(path) = &m.path else {
            return Err(Error::bad(
                "--in-place cannot write back to stdin: give -f FILE or DIR",
            ));
        };
        let format = if m.json && m.docs.len() == 1 {
            OutputFormat::Json
        } else {
            OutputFormat::Yaml
        };
        let text = render(std::slice::from_ref(m), format)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let fail =
            |e: std::io::Error| Error::Failed(format!("cannot write {}: {e}", path.display()));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(fail)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
        }
        tmp.persist(path).map_err(|e| fail(e.error))?;
    }
    Ok(())
}
