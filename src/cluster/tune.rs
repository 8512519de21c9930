//! `tune`: set processes, threads and other `MOD_WSGI_*` knobs on a
//! Deployment, DeploymentConfig or StatefulSet (or on manifests with
//! `--local`), then wait for the rollout; or print the environment
//! (`--list`) or a processes × threads recommendation (`--recommend`).
//!
//! [`set`] and [`unset`] turn requested values into checked
//! [`EnvChange`]s; [`run`] does the rest.

use std::time::Duration;

use serde_json::Value;

use super::errors::shown_at;
use super::workload::{self, EnvChange, EnvDiff};
use super::{local, recommend, rollout, target, Cluster, Error};
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
    /// The selected workloads in the cluster; `timeout` bounds the rollout
    /// waits as a whole (`None`: no limit).
    Cluster {
        selection: target::Selection,
        timeout: Option<Duration>,
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
        Place::Cluster { selection, timeout } => {
            let rt = super::config::runtime()?;
            rt.block_on(run_cluster(opts, selection, *timeout))
        }
    }
}

/// A value for the terminal: control characters escaped (values come from
/// the server or a manifest), never cut.
fn clean(text: &str) -> String {
    shown_at(text, usize::MAX)
}

/// `before → after` lines for the changed (and unchanged) variables.
pub fn table(what: &str, container: &str, diffs: &[EnvDiff]) -> String {
    let width = diffs.iter().map(|d| d.name.len()).max().unwrap_or(0);
    let show = |v: &Option<String>| {
        v.as_deref()
            .map(clean)
            .unwrap_or_else(|| "(unset)".to_string())
    };
    let mut out = format!("{what}, container {}:\n", clean(container));
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

/// The containers, then the init containers, of a pod template: `(list
/// pointer, index, name)`.
fn all_containers(object: &Value) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    for field in ["containers", "initContainers"] {
        let list = object
            .pointer(&format!("/spec/template/spec/{field}"))
            .and_then(Value::as_array);
        for (i, c) in list.into_iter().flatten().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            out.push((field, i, name.to_string()));
        }
    }
    out
}

/// `--list`, as `kubectl set env --list`: for each container (then each
/// init container), or only `-c NAME`, a `# Deployment blog, container web`
/// header and `KEY=VALUE` lines (`# KEY from secret S, key K` for
/// `valueFrom`, `# all keys from configmap C` for `envFrom`).
pub fn list(
    kind: &str,
    name: &str,
    object: &Value,
    only: Option<&str>,
    what: &str,
) -> Result<String, Error> {
    let containers = all_containers(object);
    if let Some(want) = only {
        if !containers.iter().any(|(_, _, n)| n == want) {
            let names: Vec<String> = containers.iter().map(|(_, _, n)| clean(n)).collect();
            return Err(Error::bad(format!(
                "{what} has no container {}: use -c with one of {}",
                crate::error::quoted(want),
                names.join(", ")
            )));
        }
    }
    let mut out = String::new();
    for (field, i, cname) in containers {
        if only.is_some_and(|w| w != cname) {
            continue;
        }
        let base = format!("/spec/template/spec/{field}/{i}");
        out.push_str(&format!(
            "# {kind} {}, container {}\n",
            clean(name),
            clean(&cname)
        ));
        let from = object
            .pointer(&format!("{base}/envFrom"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for f in from {
            if let Some(n) = f.pointer("/configMapRef/name").and_then(|v| v.as_str()) {
                out.push_str(&format!("# all keys from configmap {}\n", clean(n)));
            }
            if let Some(n) = f.pointer("/secretRef/name").and_then(|v| v.as_str()) {
                out.push_str(&format!("# all keys from secret {}\n", clean(n)));
            }
        }
        let env = object
            .pointer(&format!("{base}/env"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for e in env {
            let key = clean(e.get("name").and_then(|v| v.as_str()).unwrap_or(""));
            if let Some(vf) = e.get("valueFrom") {
                out.push_str(&format!(
                    "# {key} from {}\n",
                    clean(&workload::value_from_source(vf))
                ));
            } else {
                let value = e.get("value").and_then(|v| v.as_str()).unwrap_or("");
                out.push_str(&format!("{key}={}\n", clean(value)));
            }
        }
    }
    Ok(out)
}

/// Where the recommendation is for, to print and to write the suggested command.
struct Recommending<'a> {
    profile: Profile,
    what: &'a str,
    /// The TARGET (or `--local -f FILE`) of the suggested command, and the
    /// connection flags that make it mean the same workload.
    target_arg: &'a str,
    container: &'a str,
    /// Print to stderr (`--local --apply`, `-o`: stdout has the objects).
    to_stderr: bool,
}

/// The flags that make a pasted command reach the same workload: `-n` (the
/// namespace used) and the `--context`, `--kubeconfig`, `--cluster`,
/// `--user` and `--server` that were given (never `--token`).
pub fn same_place(kube: &KubeArgs, namespace: &str) -> String {
    let mut words: Vec<String> = vec!["-n".into(), namespace.into()];
    let mut add = |flag: &str, v: Option<String>| {
        if let Some(v) = v {
            words.push(flag.into());
            words.push(v);
        }
    };
    add("--context", kube.context.clone());
    add(
        "--kubeconfig",
        kube.kubeconfig.as_ref().map(|p| p.display().to_string()),
    );
    add("--cluster", kube.cluster.clone());
    add("--user", kube.user.clone());
    add("--server", kube.server.clone());
    add(
        "--certificate-authority",
        kube.certificate_authority
            .as_ref()
            .map(|p| p.display().to_string()),
    );
    if kube.insecure_skip_tls_verify {
        words.push("--insecure-skip-tls-verify".into());
    }
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

/// Prints the recommendation and returns the changes that apply it.
fn recommendation(object: &Value, idx: usize, r: &Recommending) -> Vec<EnvChange> {
    let container = object.pointer(&format!("/spec/template/spec/containers/{idx}"));
    let rec = recommend::recommend(container, r.profile);
    let c = if workload::containers(object).len() > 1 {
        format!(
            " -c {}",
            shlex::try_quote(r.container).unwrap_or_else(|_| clean(r.container).into())
        )
    } else {
        String::new()
    };
    let text = format!(
        "{}, container {}: {}\nrecommended: {} process{} × {} threads\nkubectl warpdrive tune {}{c} --processes {} --threads {}\n",
        r.what,
        clean(r.container),
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

fn render(obj: &Value, format: OutputFormat) -> Result<String, Error> {
    match format {
        OutputFormat::Json => serde_json::to_string_pretty(obj)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
        OutputFormat::Yaml => serde_yaml::to_string(obj).map_err(|e| e.to_string()),
        OutputFormat::Name => Ok(String::new()),
    }
    .map_err(|e| Error::Failed(format!("cannot print the object: {e}")))
}

/// What happened to one workload.
struct Done {
    workload: target::Workload,
    changed: bool,
}

/// Edits one workload: `--list` and `--recommend` print, the rest writes
/// (one GET was done already, then one guarded PATCH) and prints the table.
async fn tune_one(
    cluster: &Cluster,
    w: target::Workload,
    opts: &Options,
    quiet_stdout: bool,
) -> Result<Done, Error> {
    let what = w.display();
    if opts.action == Action::List {
        crate::out!(
            "{}",
            list(
                w.kind.kind(),
                &w.name,
                &w.object,
                opts.container.as_deref(),
                &what
            )?
        );
        return Ok(Done {
            workload: w,
            changed: false,
        });
    }
    let idx = workload::select_container(&w.object, opts.container.as_deref(), &what)?;
    let container = workload::containers(&w.object)[idx].clone();
    let mut changes = opts.changes.clone();
    if let Action::Recommend { profile, apply } = opts.action {
        let target_arg = format!("{what} {}", same_place(&opts.kube, &cluster.namespace));
        let rec = recommendation(
            &w.object,
            idx,
            &Recommending {
                profile,
                what: &what,
                target_arg: &target_arg,
                container: &container,
                to_stderr: quiet_stdout,
            },
        );
        if !apply {
            return Ok(Done {
                workload: w,
                changed: false,
            });
        }
        changes.extend(rec);
    }
    let updated = workload::update(cluster, w, opts.dry_run, |obj| {
        // Under contention the object is re-read: find the container by name again.
        let idx = workload::containers(obj)
            .iter()
            .position(|n| *n == container)
            .ok_or_else(|| {
                Error::Failed(format!(
                    "{what}: container {} disappeared while updating",
                    clean(&container)
                ))
            })?;
        workload::apply_env(obj, idx, &changes, &what)
    })
    .await?;
    let table = table(&what, &container, &updated.output);
    if quiet_stdout {
        eprint!("{table}");
    } else {
        crate::out!("{table}");
    }
    if !updated.changed {
        eprintln!("{what}: nothing to change");
    } else {
        match opts.dry_run {
            DryRun::Client => eprintln!("{what}: dry run (client): nothing was sent"),
            DryRun::Server => eprintln!(
                "{what}: dry run (server): the API server accepted the change and stored nothing"
            ),
            DryRun::None => {}
        }
    }
    Ok(Done {
        workload: updated.workload,
        changed: updated.changed,
    })
}

/// Whether a changed workload is waited for.
fn waits(opts: &Options, done: &Done) -> bool {
    done.changed && opts.dry_run == DryRun::None && !opts.no_wait
}

async fn run_cluster(
    opts: &Options,
    selection: &target::Selection,
    timeout: Option<Duration>,
) -> Result<i32, Error> {
    let cluster = super::connect(&opts.kube).await?;
    let quiet_stdout = opts.output.is_some();
    if let Some(t) = selection.single() {
        // One TARGET: its errors are the command's (a 404 is bad input).
        let w = target::resolve(&cluster, t).await?;
        let done = tune_one(&cluster, w, opts, quiet_stdout).await?;
        match opts.output {
            Some(OutputFormat::Name) => crate::outln!("{}", done.workload.qualified_name()),
            Some(format) => crate::out!("{}", render(&done.workload.object, format)?),
            None => {}
        }
        if !waits(opts, &done) {
            return Ok(0);
        }
        let w = &done.workload;
        rollout::wait(&cluster, w.kind, &w.name, rollout::Goal::Rollout, timeout).await?;
        let line = format!("{} successfully rolled out", w.display());
        // With -o the object already went to stdout: keep it alone there.
        if quiet_stdout {
            eprintln!("{line}");
        } else {
            crate::outln!("{line}");
        }
        return Ok(0);
    }

    // Several workloads: each on its own, then one line each.
    let found = target::resolve_each(&cluster, selection).await?;
    let mut results: Vec<(String, Result<Done, Error>)> = Vec::new();
    for (label, w) in found {
        let done = match w {
            Ok(w) => tune_one(&cluster, w, opts, quiet_stdout).await,
            Err(e) => Err(e),
        };
        results.push((label, done));
    }
    match opts.output {
        Some(OutputFormat::Name) => {
            for (_, r) in &results {
                if let Ok(d) = r {
                    crate::outln!("{}", d.workload.qualified_name());
                }
            }
        }
        Some(format) => {
            let items: Vec<Value> = results
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok().map(|d| d.workload.object.clone()))
                .collect();
            let doc = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            crate::out!("{}", render(&doc, format)?);
        }
        None => {}
    }
    // The waits share one deadline.
    let start = std::time::Instant::now();
    let mut lines = Vec::new();
    let mut failed = Vec::new();
    for (label, r) in results {
        let line = match r {
            Err(e) => {
                failed.push(label.clone());
                format!("{label}: failed: {e}")
            }
            Ok(d) if waits(opts, &d) => {
                let w = &d.workload;
                let left = timeout.map(|t| {
                    t.saturating_sub(start.elapsed())
                        .max(Duration::from_millis(1))
                });
                match rollout::wait(&cluster, w.kind, &w.name, rollout::Goal::Rollout, left).await {
                    Ok(_) => format!("{} successfully rolled out", w.display()),
                    Err(e) => {
                        failed.push(w.display());
                        format!("{}: failed: {e}", w.display())
                    }
                }
            }
            Ok(d) => {
                let what = d.workload.display();
                match (opts.action, d.changed, opts.dry_run) {
                    (Action::List, ..) => format!("{what}: listed"),
                    (Action::Recommend { apply: false, .. }, ..) => format!("{what}: recommended"),
                    (_, false, _) => format!("{what}: nothing to change"),
                    (_, true, DryRun::Client) => format!("{what}: changed (dry run, client)"),
                    (_, true, DryRun::Server) => format!("{what}: changed (dry run, server)"),
                    (_, true, DryRun::None) => format!("{what}: changed (--no-wait)"),
                }
            }
        };
        lines.push(line);
    }
    let summary: String = lines.iter().map(|l| format!("{l}\n")).collect();
    if quiet_stdout || opts.action == Action::List {
        eprint!("{summary}");
    } else {
        crate::out!("{summary}");
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        Err(Error::Failed(format!(
            "{} of {} workloads failed: {}",
            failed.len(),
            lines.len(),
            failed.join(", ")
        )))
    }
}

fn run_local(opts: &Options, file: &str, in_place: bool) -> Result<i32, Error> {
    let mut manifests = local::read(file)?;
    let mut changes = opts.changes.clone();
    if opts.action != Action::Change {
        let found = local::find(&mut manifests)?;
        let target_arg = format!("--local -f {file}");
        for f in &found {
            if opts.action == Action::List {
                let name = f
                    .json
                    .pointer("/metadata/name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                crate::out!(
                    "{}",
                    list(
                        f.kind.kind(),
                        name,
                        &f.json,
                        opts.container.as_deref(),
                        &f.what
                    )?
                );
                continue;
            }
            let idx = workload::select_container(&f.json, opts.container.as_deref(), &f.what)?;
            let container = workload::containers(&f.json)[idx].clone();
            match opts.action {
                Action::List => {}
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
        if opts.output == Some(OutputFormat::Name) {
            for e in &edited {
                crate::outln!("{}", e.name);
            }
        }
    } else if opts.output == Some(OutputFormat::Name) {
        for e in &edited {
            crate::outln!("{}", e.name);
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
