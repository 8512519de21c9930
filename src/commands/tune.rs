//! `tune` subcommand: set processes, threads and other `MOD_WSGI_*` knobs on
//! a Deployment, DeploymentConfig or StatefulSet (or on manifests with
//! `--local`), then wait for the rollout.

use std::io::Write;

use crate::cli::{DryRun, OutputFormat, TuneArgs};
use crate::cluster::workload::{self, EnvChange, EnvDiff};
use crate::cluster::{local, recommend, rollout, target, Error};
use crate::knobs;

pub fn run(args: TuneArgs) -> anyhow::Result<i32> {
    let mut changes = requested_changes(&args)?;
    if args.list && !changes.is_empty() {
        return Err(Error::bad(
            "--list only prints: drop --processes/--threads/--set/--unset, or drop --list",
        )
        .into());
    }
    if args.recommend && args.apply && (args.processes.is_some() || args.threads.is_some()) {
        return Err(Error::bad(
            "--recommend --apply chooses --processes and --threads itself: drop those flags",
        )
        .into());
    }
    if !args.list && !args.recommend && changes.is_empty() {
        return Err(Error::bad(
            "nothing to change: give --processes, --threads, --set MOD_WSGI_X=V or --unset NAME (or --list, --recommend)",
        )
        .into());
    }
    if args.local {
        return Ok(run_local(&args, &mut changes)?);
    }
    if args.filename.is_some() {
        return Err(Error::bad(
            "-f needs --local (tune edits one TARGET on the cluster otherwise)",
        )
        .into());
    }
    let raw = args.target.as_deref().unwrap_or_default();
    let target = target::parse(raw)?;
    let timeout = rollout::parse_timeout(&args.timeout)?;
    let rt = crate::cluster::config::runtime()?;
    Ok(rt.block_on(run_cluster(&args, target, changes, timeout))?)
}

/// A variable name a pod accepts: letters, digits, `_`, `-`, `.`, not
/// starting with a digit.
fn check_name(flag: &str, name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Error::bad(format!(
            "{flag} {name:?} is not a valid variable name: use letters, digits and _"
        )))
    }
}

/// The env changes asked for on the command line, validated against the
/// knob table (exit 2 on a bad value; a warning for unknown `MOD_WSGI_` names).
fn requested_changes(args: &TuneArgs) -> Result<Vec<EnvChange>, Error> {
    let mut changes: Vec<EnvChange> = Vec::new();
    let mut set = |flag: &str, name: &str, value: &str| -> Result<(), Error> {
        check_name(flag, name)?;
        if !name.starts_with("MOD_WSGI_") {
            return Err(Error::bad(format!(
                "{flag} {name}: tune only sets MOD_WSGI_* variables; use `kubectl set env` for others"
            )));
        }
        match knobs::find(name) {
            Some(knob) => {
                knob.parse(value)
                    .map_err(|e| Error::bad(format!("{flag}: {e}")))?;
            }
            None => eprintln!(
                "warning: {name} is not a MOD_WSGI_* knob warpdrive knows (see the README's knob table); setting it anyway"
            ),
        }
        changes.push(EnvChange::Set {
            name: name.to_string(),
            value: value.trim().to_string(),
        });
        Ok(())
    };
    if let Some(p) = &args.processes {
        set("--processes", "MOD_WSGI_PROCESSES", p)?;
    }
    if let Some(t) = &args.threads {
        set("--threads", "MOD_WSGI_THREADS", t)?;
    }
    for kv in &args.set {
        let (name, value) = kv
            .split_once('=')
            .ok_or_else(|| Error::bad(format!("--set {kv:?}: expected MOD_WSGI_NAME=VALUE")))?;
        set("--set", name.trim(), value)?;
    }
    for name in &args.unset {
        check_name("--unset", name)?;
        if !name.starts_with("MOD_WSGI_") {
            return Err(Error::bad(format!(
                "--unset {name}: tune only manages MOD_WSGI_* variables; use `kubectl set env {name}-` for others"
            )));
        }
        if knobs::find(name).is_none() {
            eprintln!("warning: {name} is not a MOD_WSGI_* knob warpdrive knows");
        }
        changes.push(EnvChange::Unset { name: name.clone() });
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &changes {
        if !seen.insert(c.name().to_string()) {
            return Err(Error::bad(format!(
                "{} is given more than once: keep one of the flags",
                c.name()
            )));
        }
    }
    Ok(changes)
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
pub fn list(
    plural: &str,
    name: &str,
    container: &str,
    object: &serde_json::Value,
    idx: usize,
) -> String {
    let mut out = format!("# {plural} {name}, container {container}\n");
    let from = object
        .pointer(&format!("/spec/template/spec/containers/{idx}/envFrom"))
        .and_then(serde_json::Value::as_array)
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

/// Prints the recommendation and returns the changes that apply it.
fn recommendation(
    object: &serde_json::Value,
    idx: usize,
    args: &TuneArgs,
    what: &str,
    target_arg: &str,
    container: &str,
) -> Vec<EnvChange> {
    let resources = object.pointer(&format!("/spec/template/spec/containers/{idx}/resources"));
    let r = recommend::recommend(resources, args.profile);
    let c = if workload::containers(object).len() > 1 {
        format!(" -c {container}")
    } else {
        String::new()
    };
    let text = format!(
        "{what}, container {container}: {}\nrecommended: {} process{} × {} threads\nkubectl warpdrive tune {target_arg}{c} --processes {} --threads {}\n",
        r.why,
        r.processes,
        if r.processes == 1 { "" } else { "es" },
        r.threads,
        r.processes,
        r.threads
    );
    // With --local --apply the edited manifests follow on stdout: keep it clean.
    if args.local && args.apply {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    vec![
        EnvChange::Set {
            name: "MOD_WSGI_PROCESSES".into(),
            value: r.processes.to_string(),
        },
        EnvChange::Set {
            name: "MOD_WSGI_THREADS".into(),
            value: r.threads.to_string(),
        },
    ]
}

fn print_object(obj: &serde_json::Value, format: OutputFormat) -> Result<(), Error> {
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(obj)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
        OutputFormat::Yaml => serde_yaml::to_string(obj).map_err(|e| e.to_string()),
    }
    .map_err(|e| Error::Failed(format!("cannot print the object: {e}")))?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

async fn run_cluster(
    args: &TuneArgs,
    target: target::Target,
    mut changes: Vec<EnvChange>,
    timeout: std::time::Duration,
) -> Result<i32, Error> {
    let cluster = crate::cluster::connect(&args.kube).await?;
    let w = target::resolve(&cluster, &target).await?;
    let what = w.display();
    let idx = workload::select_container(&w.object, args.container.as_deref(), &what)?;
    let container = workload::containers(&w.object)[idx].clone();
    if args.list {
        print!(
            "{}",
            list(w.kind.plural(), &w.name, &container, &w.object, idx)
        );
        return Ok(0);
    }
    if args.recommend {
        let rec = recommendation(&w.object, idx, args, &what, &what, &container);
        if !args.apply {
            return Ok(0);
        }
        changes.extend(rec);
    }
    let kind = w.kind;
    let name = w.name.clone();
    let updated = workload::update(&cluster, w, args.dry_run, |obj| {
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
    if let Some(format) = args.output {
        eprint!("{table}");
        print_object(&updated.workload.object, format)?;
    } else {
        print!("{table}");
    }
    if !updated.changed {
        eprintln!("{what}: nothing to change");
        return Ok(0);
    }
    match args.dry_run {
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
    if args.no_wait {
        return Ok(0);
    }
    rollout::wait(&cluster, kind, &name, rollout::Goal::Rollout, timeout).await?;
    // With -o the object already went to stdout: keep it alone there.
    if args.output.is_some() {
        eprintln!("{what} successfully rolled out");
    } else {
        println!("{what} successfully rolled out");
    }
    Ok(0)
}

fn run_local(args: &TuneArgs, changes: &mut Vec<EnvChange>) -> Result<i32, Error> {
    if args.target.is_some() {
        return Err(Error::bad(
            "--local edits the manifests given with -f: drop the TARGET argument",
        ));
    }
    if args.dry_run == DryRun::Server {
        return Err(Error::bad(
            "--local needs no cluster: --dry-run=server cannot apply",
        ));
    }
    let file = args.filename.as_deref().unwrap_or("-");
    if args.in_place && file == "-" {
        return Err(Error::bad(
            "--in-place cannot write back to stdin: give -f FILE or DIR",
        ));
    }
    let mut manifests = local::read(file)?;
    if args.list || args.recommend {
        let found = local::find(&mut manifests)?;
        for f in &found {
            let idx = workload::select_container(&f.json, args.container.as_deref(), &f.what)?;
            let container = workload::containers(&f.json)[idx].clone();
            if args.list {
                let name = f
                    .json
                    .pointer("/metadata/name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                print!("{}", list(f.kind.plural(), name, &container, &f.json, idx));
            } else {
                let rec = recommendation(
                    &f.json,
                    idx,
                    args,
                    &f.what,
                    &format!("--local -f {file}"),
                    &container,
                );
                if args.apply && found.len() == 1 {
                    changes.extend(rec);
                }
            }
        }
        if args.list || !args.apply {
            return Ok(0);
        }
        if found.len() != 1 {
            return Err(Error::bad(format!(
                "--recommend --apply with --local needs exactly one workload in {file}, found {}",
                found.len()
            )));
        }
    }
    let (edited, skipped) = local::edit(&mut manifests, args.container.as_deref(), changes)?;
    for s in skipped {
        eprintln!("skipped {s}: not a Deployment, DeploymentConfig or StatefulSet");
    }
    for e in &edited {
        eprint!("{}", table(&e.what, &e.container, &e.diffs));
    }
    if args.in_place {
        local::write_in_place(&manifests)?;
        for m in &manifests {
            eprintln!("wrote {}", m.label());
        }
    } else {
        print!(
            "{}",
            local::render(&manifests, args.output.unwrap_or(OutputFormat::Yaml))?
        );
    }
    Ok(0)
}
