//! `tune`: set processes, threads and other `MOD_WSGI_*` knobs on a
//! Deployment, DeploymentConfig or StatefulSet (or on manifests with
//! `--local`), then wait for the rollout; or print the environment
//! (`--list`) or a processes × threads recommendation (`--recommend`).
//!
//! [`set`] and [`unset`] turn requested values into checked
//! [`EnvChange`]s; [`run`] does the rest.

use std::time::Duration;

use serde_json::Value;

use super::workload::{self, EnvChange, EnvDiff};
use super::{local, recommend, rollout, target, Error};
use crate::cli::{DryRun, KubeArgs, OutputFormat, Profile};
use crate::knobs;

/// A variable name a pod accepts: letters, digits, `_`, `-`, `.`, not
/// starting with a digit. `origin` (a flag) names the value in messages.
fn check_name(origin: &str, name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Error::bad(format!(
            "{origin} {name:?} is not a valid variable name: use letters, digits and _"
        )))
    }
}

/// Setting `name` to `value`, checked against the knob table (exit 2 on a
/// bad value; a warning for unknown `MOD_WSGI_` names). `origin` (the flag
/// that asked for it) names it in messages.
pub fn set(origin: &str, name: &str, value: &str) -> Result<EnvChange, Error> {
    check_name(origin, name)?;
    if !name.starts_with("MOD_WSGI_") {
        return Err(Error::bad(format!(
            "{origin} {name}: tune only sets MOD_WSGI_* variables; use `kubectl set env` for others"
        )));
    }
    match knobs::find(name) {
        Some(knob) => {
            knob.parse(value)
                .map_err(|e| Error::bad(format!("{origin}: {e}")))?;
        }
        None => eprintln!(
            "warning: {name} is not a MOD_WSGI_* knob warpdrive knows (see the README's knob table); setting it anyway"
        ),
    }
    Ok(EnvChange::Set {
        name: name.to_string(),
        value: value.trim().to_string(),
    })
}

/// Removing `name` (a `MOD_WSGI_*` variable; a warning for unknown ones).
pub fn unset(origin: &str, name: &str) -> Result<EnvChange, Error> {
    check_name(origin, name)?;
    if !name.starts_with("MOD_WSGI_") {
        return Err(Error::bad(format!(
            "{origin} {name}: tune only manages MOD_WSGI_* variables; use `kubectl set env {name}-` for others"
        )));
    }
    if knobs::find(name).is_none() {
        eprintln!("warning: {name} is not a MOD_WSGI_* knob warpdrive knows");
    }
    Ok(EnvChange::Unset {
        name: name.to_string(),
    })
}

/// Each variable may be changed once.
pub fn check_unique(changes: &[EnvChange]) -> Result<(), Error> {
    let mut seen = std::collections::BTreeSet::new();
    for c in changes {
        if !seen.insert(c.name()) {
            return Err(Error::bad(format!(
                "{} is given more than once: keep one of the flags",
                c.name()
            )));
        }
    }
    Ok(())
}

/// Where `tune` works.
pub enum Place {
    /// TARGET in the cluster; `timeout` bounds the rollout wait.
    Cluster {
        target: target::Target,
        timeout: Duration,
    },
    /// `--local -f FILE|DIR|-`, written back with `in_place`.
    Local { file: String, in_place: bool },
}

/// What `tune` does besides the changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Apply the changes.
    Change,
    /// `--list`: print the environment, change nothing.
    List,
    /// `--recommend`: print the recommendation; with `apply`, add it to the changes.
    Recommend { profile: Profile, apply: bool },
}

pub struct Options {
    pub place: Place,
    pub action: Action,
    /// From [`set`] and [`unset`].
    pub changes: Vec<EnvChange>,
    /// `-c`.
    pub container: Option<String>,
    pub dry_run: DryRun,
    /// `-o`: print the resulting object (with `--local`: the format of the manifests).
    pub output: Option<OutputFormat>,
    /// Do not wait for the rollout.
    pub no_wait: bool,
    pub kube: KubeArgs,
}

/// Runs `tune`; returns the exit code.
pub fn run(opts: &Options) -> Result<i32, Error> {
    match &opts.place {
        Place::Local { file, in_place } => run_local(opts, file, *in_place),
        Place::Cluster { target, timeout } => {
            let rt = super::config::runtime()?;
            rt.block_on(run_cluster(opts, target, *timeout))
        }
    }
}

/// `before → after` lines for the changed (and unchanged) variables.
pub fn table(what: &str, container: &str, diffs: &[EnvDiff]) -> String {
    let width = diffs.iter().map(|d| d.name.len()).max().unwrap_or(0);
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".to_string());
    let mut out = format!("{what}, container {container}:\n");
    for d in diffs {
        if d.changed() {
            out.push_str(&format!(
                "  {:<width$}  {} → {}\n",
                d.name,
                show(&d.before),
                show(&d.after)
            ));
        } else {
            out.push_str(&format!(
                "  {:<width$}  {} (unchanged)\n",
                d.name,
                show(&d.before)
            ));
        }
    }
    out
}

/// `# deployments blog, container web` then `KEY=VALUE` lines, as `oc set env --list`.
pub fn list(plural: &str, name: &str, container: &str, object: &Value, idx: usize) -> String {
    let mut out = format!("# {plural} {name}, container {container}\n");
    let from = object
        .pointer(&format!("/spec/template/spec/containers/{idx}/envFrom"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for f in from {
        if let Some(name) = f.pointer("/configMapRef/name").and_then(|v| v.as_str()) {
            out.push_str(&format!("# all keys from configmap {name}\n"));
        }
        if let Some(name) = f.pointer("/secretRef/name").and_then(|v| v.as_str()) {
            out.push_str(&format!("# all keys from secret {name}\n"));
        }
    }
    for e in workload::env(object, idx) {
        let key = e.get("name").and_then(|v| v.as_str()).unwrap_or("");
        if let Some(vf) = e.get("valueFrom") {
            out.push_str(&format!(
                "# {key} from {}\n",
                workload::value_from_source(vf)
            ));
        } else {
            let value = e.get("value").and_then(|v| v.as_str()).unwrap_or("");
            out.push_str(&format!("{key}={value}\n"));
        }
    }
    out
}

/// Where the recommendation is for, to print and to write the suggested command.
struct Recommending<'a> {
    profile: Profile,
    what: &'a str,
    /// The TARGET (or `--local -f FILE`) of the suggested command.
    target_arg: &'a str,
    container: &'a str,
    /// Print to stderr (`--local --apply`: the edited manifests follow on stdout).
    to_stderr: bool,
}

/// Prints the recommendation and returns the changes that apply it.
fn recommendation(object: &Value, idx: usize, r: &Recommending) -> Vec<EnvChange> {
    let resources = object.pointer(&format!("/spec/template/spec/containers/{idx}/resources"));
    let rec = recommend::recommend(resources, r.profile);
    let c = if workload::containers(object).len() > 1 {
        format!(" -c {}", r.container)
    } else {
        String::new()
    };
    let text = format!(
        "{}, container {}: {}\nrecommended: {} process{} × {} threads\nkubectl warpdrive tune {}{c} --processes {} --threads {}\n",
        r.what,
        r.container,
        rec.why,
        rec.processes,
        if rec.processes == 1 { "" } else { "es" },
        rec.threads,
        r.target_arg,
        rec.processes,
        rec.threads
    );
    if r.to_stderr {
        eprint!("{text}");
    } else {
        crate::out!("{text}");
    }
    vec![
        EnvChange::Set {
            name: "MOD_WSGI_PROCESSES".into(),
            value: rec.processes.to_string(),
        },
        EnvChange::Set {
            name: "MOD_WSGI_THREADS".into(),
            value: rec.threads.to_string(),
        },
    ]
}

fn print_object(obj: &Value, format: OutputFormat) -> Result<(), Error> {
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(obj)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
        OutputFormat::Yaml => serde_yaml::to_string(obj).map_err(|e| e.to_string()),
    }
    .map_err(|e| Error::Failed(format!("cannot print the object: {e}")))?;
    crate::output::print(&text);
    Ok(())
}

async fn run_cluster(
    opts: &Options,
    target: &target::Target,
    timeout: Duration,
) -> Result<i32, Error> {
    let cluster = super::connect(&opts.kube).await?;
    let w = target::resolve(&cluster, target).await?;
    let what = w.display();
    let idx = workload::select_container(&w.object, opts.container.as_deref(), &what)?;
    let container = workload::containers(&w.object)[idx].clone();
    let mut changes = opts.changes.clone();
    match opts.action {
        Action::List => {
            crate::out!(
                "{}",
                list(w.kind.plural(), &w.name, &container, &w.object, idx)
            );
            return Ok(0);
        }
        Action::Recommend { profile, apply } => {
            let rec = recommendation(
                &w.object,
                idx,
                &Recommending {
                    profile,
                    what: &what,
                    target_arg: &what,
                    container: &container,
                    to_stderr: false,
                },
            );
            if !apply {
                return Ok(0);
            }
            changes.extend(rec);
        }
        Action::Change => {}
    }
    let kind = w.kind;
    let name = w.name.clone();
    let updated = workload::update(&cluster, w, opts.dry_run, |obj| {
        // Under contention the object is re-read: find the container by name again.
        let idx = workload::containers(obj)
            .iter()
            .position(|n| *n == container)
            .ok_or_else(|| {
                Error::Failed(format!(
                    "{what}: container {container} disappeared while updating"
                ))
            })?;
        workload::apply_env(obj, idx, &changes, &what)
    })
    .await?;
    let table = table(&what, &container, &updated.output);
    if let Some(format) = opts.output {
        eprint!("{table}");
        print_object(&updated.workload.object, format)?;
    } else {
        crate::out!("{table}");
    }
    if !updated.changed {
        eprintln!("{what}: nothing to change");
        return Ok(0);
    }
    match opts.dry_run {
        DryRun::Client => {
            eprintln!("{what}: dry run (client): nothing was sent");
            return Ok(0);
        }
        DryRun::Server => {
            eprintln!(
                "{what}: dry run (server): the API server accepted the change and stored nothing"
            );
            return Ok(0);
        }
        DryRun::None => {}
    }
    if opts.no_wait {
        return Ok(0);
    }
    rollout::wait(&cluster, kind, &name, rollout::Goal::Rollout, timeout).await?;
    // With -o the object already went to stdout: keep it alone there.
    if opts.output.is_some() {
        eprintln!("{what} successfully rolled out");
    } else {
        crate::outln!("{what} successfully rolled out");
    }
    Ok(0)
}

fn run_local(opts: &Options, file: &str, in_place: bool) -> Result<i32, Error> {
    let mut manifests = local::read(file)?;
    let mut changes = opts.changes.clone();
    if opts.action != Action::Change {
        let found = local::find(&mut manifests)?;
        let target_arg = format!("--local -f {file}");
        for f in &found {
            let idx = workload::select_container(&f.json, opts.container.as_deref(), &f.what)?;
            let container = workload::containers(&f.json)[idx].clone();
            match opts.action {
                Action::List => {
                    let name = f
                        .json
                        .pointer("/metadata/name")
                        .and_then(|v| v.as_str())
                        .unwrap_or("");
                    crate::out!("{}", list(f.kind.plural(), name, &container, &f.json, idx));
                }
                Action::Recommend { profile, apply } => {
                    let rec = recommendation(
                        &f.json,
                        idx,
                        &Recommending {
                            profile,
                            what: &f.what,
                            target_arg: &target_arg,
                            container: &container,
                            to_stderr: apply,
                        },
                    );
                    if apply && found.len() == 1 {
                        changes.extend(rec);
                    }
                }
                Action::Change => {}
            }
        }
        if !matches!(opts.action, Action::Recommend { apply: true, .. }) {
            return Ok(0);
        }
        if found.len() != 1 {
            return Err(Error::bad(format!(
                "--recommend --apply with --local needs exactly one workload in {file}, found {}",
                found.len()
            )));
        }
    }
    let (edited, skipped) = local::edit(&mut manifests, opts.container.as_deref(), &changes)?;
    for s in skipped {
        eprintln!("skipped {s}: not a Deployment, DeploymentConfig or StatefulSet");
    }
    for e in &edited {
        eprint!("{}", table(&e.what, &e.container, &e.diffs));
    }
    if in_place {
        local::write_in_place(&manifests)?;
        for m in &manifests {
            eprintln!("wrote {}", m.label());
        }
    } else {
        crate::out!(
            "{}",
            local::render(&manifests, opts.output.unwrap_or(OutputFormat::Yaml))?
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_unset_check_names_and_values_and_name_the_flag() {
        assert_eq!(
            set("--threads", "MOD_WSGI_THREADS", " 4 ").unwrap(),
            EnvChange::Set {
                name: "MOD_WSGI_THREADS".into(),
                value: "4".into()
            }
        );
        let err = set("--threads", "MOD_WSGI_THREADS", "many").unwrap_err();
        assert!(err.to_string().starts_with("--threads: "), "{err}");
        let err = set("--set", "PATH", "/bin").unwrap_err().to_string();
        assert!(
            err.contains("--set PATH") && err.contains("kubectl set env"),
            "{err}"
        );
        let err = unset("--unset", "1X").unwrap_err().to_string();
        assert!(err.contains("not a valid variable name"), "{err}");
        let twice = [
            unset("--unset", "MOD_WSGI_THREADS").unwrap(),
            set("--threads", "MOD_WSGI_THREADS", "2").unwrap(),
        ];
        let err = check_unique(&twice).unwrap_err().to_string();
        assert!(err.contains("more than once"), "{err}");
    }

    #[test]
    fn table_marks_unchanged_and_unset() {
        let diffs = [
            EnvDiff {
                name: "MOD_WSGI_THREADS".into(),
                before: None,
                after: Some("4".into()),
            },
            EnvDiff {
                name: "MOD_WSGI_X".into(),
                before: Some("1".into()),
                after: Some("1".into()),
            },
        ];
        assert_eq!(
            table("deployment/blog", "web", &diffs),
            "deployment/blog, container web:\n  MOD_WSGI_THREADS  (unset) → 4\n  MOD_WSGI_X        1 (unchanged)\n"
        );
    }
}
