//! `scale` subcommand: change replicas through the `/scale` subresource,
//! wait until that many pods are ready, then list them.

use crate::cli::{DryRun, OutputFormat, ScaleArgs};
use crate::cluster::{rollout, scale, target, Error};
use crate::reload;

pub fn run(args: ScaleArgs) -> anyhow::Result<i32> {
    let target = target::parse(&args.target)?;
    let timeout = rollout::parse_timeout(&args.timeout)?;
    let rt = crate::cluster::config::runtime()?;
    Ok(rt.block_on(run_cluster(&args, target, timeout))?)
}

async fn run_cluster(
    args: &ScaleArgs,
    target: target::Target,
    timeout: std::time::Duration,
) -> Result<i32, Error> {
    let cluster = crate::cluster::connect(&args.kube).await?;
    let w = target::resolve(&cluster, &target).await?;
    let what = w.display();
    let n = i64::from(args.replicas);
    if n > 1 && reload::edit::reload_on_anywhere(&w.object) {
        eprintln!(
            "warning: {what} has MOD_WSGI_RELOAD_ON_CHANGES on: live code changes are synced into one pod, so with {n} replicas the others run old code (turn it off with `kubectl warpdrive reload {what} off`)"
        );
    }
    for hpa in scale::hpas_targeting(&cluster, &w).await? {
        eprintln!(
            "warning: HorizontalPodAutoscaler {hpa} targets {what} and will set the replica count itself; change its minReplicas/maxReplicas instead"
        );
    }
    let current = args.current_replicas.map(i64::from);
    let scaled = scale::set_replicas(&cluster, &w, n, current, args.dry_run).await?;
    let verb = match args.dry_run {
        DryRun::None => "scaled",
        DryRun::Client => "would be scaled (dry run, client: nothing sent)",
        DryRun::Server => "would be scaled (dry run, server: nothing stored)",
    };
    let line = format!("{what} {verb} from {} to {n} replicas", scaled.before);
    if let Some(format) = args.output {
        eprintln!("{line}");
        let text = match format {
            OutputFormat::Json => serde_json::to_string_pretty(&scaled.scale)
                .map(|s| s + "\n")
                .map_err(|e| e.to_string()),
            OutputFormat::Yaml => serde_yaml::to_string(&scaled.scale).map_err(|e| e.to_string()),
        }
        .map_err(|e| Error::Failed(format!("cannot print the Scale: {e}")))?;
        print!("{text}");
    } else {
        println!("{line}");
    }
    if args.dry_run != DryRun::None || args.no_wait {
        return Ok(0);
    }
    let done = rollout::wait(&cluster, w.kind, &w.name, rollout::Goal::Ready(n), timeout).await?;
    let selector = scaled.selector.unwrap_or_else(|| done.label_selector());
    let pods = scale::list_pods(&cluster, &selector).await?;
    let mut report = format!("{what}: {n} of {n} pods ready\n");
    if !pods.is_empty() {
        report.push_str(&scale::pods_table(&pods));
    }
    // With -o the Scale document already went to stdout: keep it alone there.
    if args.output.is_some() {
        eprint!("{report}");
    } else {
        print!("{report}");
    }
    Ok(0)
}
