//! Waiting for a rollout (or a scale) to finish, with kubectl's done rules.
//!
//! The object is polled (100 ms, doubling up to 1 s). On a terminal an
//! indicatif bar shows updated/ready of desired (no colour under
//! `NO_COLOR`); otherwise one plain line is printed per change of state.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::Cluster;
use super::errors::Error;
use super::target::{get, Workload, WorkloadKind};

/// What "done" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The latest template is rolled out (`kubectl rollout status`).
    Rollout,
    /// Exactly this many pods exist and are ready (after a scale).
    Ready(i64),
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Done(String),
    Waiting(String),
    Failed(String),
}

/// Replica counts for the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub desired: i64,
    pub updated: i64,
    pub ready: i64,
    pub available: i64,
    pub total: i64,
}

fn int(obj: &Value, ptr: &str) -> i64 {
    obj.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// The replica counts of an object's status.
pub fn counts(obj: &Value) -> Counts {
    Counts {
        desired: super::target::replicas(obj),
        updated: int(obj, "/status/updatedReplicas"),
        ready: int(obj, "/status/readyReplicas"),
        available: int(obj, "/status/availableReplicas"),
        total: int(obj, "/status/replicas"),
    }
}

/// The `Progressing` condition, as `(status, reason, message)`.
pub fn progressing(obj: &Value) -> Option<(String, String, String)> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Progressing"))
        .map(|c| {
            // Server text, for messages: escaped and cut.
            let f = |k: &str| super::errors::shown(c.get(k).and_then(Value::as_str).unwrap_or(""));
            (f("status"), f("reason"), f("message"))
        })
}

/// The last condition in a readable form, for timeout messages.
pub fn last_condition(obj: &Value) -> String {
    match progressing(obj) {
        Some((status, reason, message)) => format!("Progressing={status} {reason}: {message}"),
        None => "no Progressing condition yet".to_string(),
    }
}

/// kubectl's done rules (`DeploymentStatusViewer`), applied to any kind:
/// spec observed (`observedGeneration ≥ generation`), a `Progressing`
/// condition with reason `ProgressDeadlineExceeded` (or status False) is
/// failure, then `updatedReplicas ≥ replicas`, no old replicas left
/// (`replicas ≤ updatedReplicas`), `availableReplicas ≥ updatedReplicas`.
/// For [`Goal::Ready`], done means `readyReplicas == replicas == N`.
pub fn state(kind: WorkloadKind, obj: &Value, goal: Goal) -> State {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let what = format!("{} {name:?}", kind.lower());
    let generation = int(obj, "/metadata/generation");
    let observed = int(obj, "/status/observedGeneration");
    if observed < generation {
        return State::Waiting(format!("Waiting for {what} spec update to be observed..."));
    }
    if let Some((status, reason, message)) = progressing(obj) {
        if reason == "ProgressDeadlineExceeded" || status == "False" {
            return State::Failed(format!(
                "{what} exceeded its progress deadline: Progressing={status} {reason}: {message}"
            ));
        }
    }
    let c = counts(obj);
    if let Goal::Ready(n) = goal {
        if c.ready != n || c.total != n {
            return State::Waiting(format!(
                "Waiting for {what}: {} of {n} pods ready, {} pods in total...",
                c.ready, c.total
            ));
        }
        return State::Done(format!("{what} has {n} ready pods"));
    }
    if c.updated < c.desired {
        return State::Waiting(format!(
            "Waiting for {what} rollout to finish: {} out of {} new replicas have been updated...",
            c.updated, c.desired
        ));
    }
    if c.total > c.updated {
        return State::Waiting(format!(
            "Waiting for {what} rollout to finish: {} old replicas are pending termination...",
            c.total - c.updated
        ));
    }
    if c.available < c.updated {
        return State::Waiting(format!(
            "Waiting for {what} rollout to finish: {} of {} updated replicas are available...",
            c.available, c.updated
        ));
    }
    State::Done(format!("{what} successfully rolled out"))
}

/// Progress output: a bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last: String,
}

impl Progress {
    fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let template = if color {
                "{spinner:.green} [{bar:30.cyan/blue}] {pos}/{len} {msg}"
            } else {
                "{spinner} [{bar:30}] {pos}/{len} {msg}"
            };
            let bar = indicatif::ProgressBar::new(1);
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            last: String::new(),
        }
    }

    fn show(&mut self, goal: Goal, obj: &Value, line: &str) {
        let c = counts(obj);
        match &self.bar {
            Some(bar) => {
                let observed =
                    int(obj, "/status/observedGeneration") >= int(obj, "/metadata/generation");
                let old = (c.total - c.updated).max(0);
                let (pos, len) = match goal {
                    _ if !observed => (0, c.desired),
                    // New pods that are available: old ones count in `available` until gone.
                    Goal::Rollout => ((c.available - old).clamp(0, c.updated), c.desired),
                    Goal::Ready(n) => (c.ready, n),
                };
                bar.set_length(len.max(0) as u64);
                bar.set_position(pos.max(0) as u64);
                bar.set_message(if observed {
                    format!("updated {}, ready {}, old {old}", c.updated, c.ready)
                } else {
                    "waiting for the controller".to_string()
                });
            }
            None => {
                if !line.is_empty() && line != self.last {
                    eprintln!("{line}");
                    self.last = line.to_string();
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Polls the object until `goal` is reached, the rollout fails, or
/// `timeout` runs out ([`Error::Rollout`] naming the last condition);
/// `None` waits as long as it takes (`--timeout 0`, as kubectl).
/// Returns the final object.
pub async fn wait(
    cluster: &Cluster,
    kind: WorkloadKind,
    name: &str,
    goal: Goal,
    timeout: Option<Duration>,
) -> Result<Workload, Error> {
    let start = Instant::now();
    let mut progress = Progress::new();
    let mut delay = Duration::from_millis(100);
    // Forever is a very long time, still a number.
    let timeout_or_forever = timeout.unwrap_or(Duration::from_secs(100 * 365 * 86_400));
    loop {
        // A hung request must not outlive --timeout (plus a second of grace).
        let left = timeout_or_forever.saturating_sub(start.elapsed()) + Duration::from_secs(1);
        let timeout = timeout_or_forever;
        let w = match tokio::time::timeout(left, get(cluster, kind, name)).await {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => {
                progress.finish();
                return Err(e);
            }
            Err(_) => {
                progress.finish();
                return Err(Error::Rollout(format!(
                    "timed out after {} waiting for {}/{name}: the API server at {} stopped answering; wait longer with --timeout or check the cluster",
                    humantime::format_duration(timeout),
                    kind.lower(),
                    cluster.server
                )));
            }
        };
        match state(kind, &w.object, goal) {
            State::Done(_) => {
                progress.show(goal, &w.object, "");
                progress.finish();
                return Ok(w);
            }
            State::Failed(msg) => {
                progress.finish();
                return Err(Error::Rollout(format!(
                    "{msg}; see `kubectl describe {} {name} -n {}`",
                    kind.lower(),
                    cluster.namespace
                )));
            }
            State::Waiting(line) => {
                progress.show(goal, &w.object, &line);
                if start.elapsed() >= timeout {
                    progress.finish();
                    return Err(Error::Rollout(format!(
                        "timed out after {} waiting for {}/{name}: {} ({}); wait longer with --timeout or check `kubectl describe {} {name} -n {}`",
                        humantime::format_duration(timeout),
                        kind.lower(),
                        line.trim_end_matches('.'),
                        last_condition(&w.object),
                        kind.lower(),
                        cluster.namespace
                    )));
                }
            }
        }
        let left = timeout_or_forever.saturating_sub(start.elapsed());
        tokio::time::sleep(delay.min(left).max(Duration::from_millis(10))).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// Parses `--timeout` (e.g. `90s`, `5m`; a bare number is seconds); `0`
/// means no limit (`None`), as kubectl's `--timeout=0`.
pub fn parse_timeout(raw: &str) -> Result<Option<Duration>, Error> {
    let s = raw.trim();
    let d = match s.parse::<u64>() {
        Ok(n) => Duration::from_secs(n),
        Err(_) => humantime::parse_duration(s).map_err(|_| {
            Error::bad(format!(
                "--timeout {} is not a duration: use e.g. 90s, 5m, or 0 to wait forever",
                crate::error::quoted(raw)
            ))
        })?,
    };
    Ok((!d.is_zero()).then_some(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(gen: i64, observed: i64, spec: i64, updated: i64, total: i64, avail: i64) -> Value {
        json!({"metadata": {"name": "blog", "generation": gen}, "spec": {"replicas": spec},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "replicas": total,
                "availableReplicas": avail, "readyReplicas": avail}})
    }

    #[test]
    fn follows_kubectl_done_rules() {
        let d = WorkloadKind::Deployment;
        assert!(
            matches!(state(d, &obj(2, 1, 2, 2, 2, 2), Goal::Rollout), State::Waiting(m) if m.contains("observed"))
        );
        assert!(
            matches!(state(d, &obj(2, 2, 3, 2, 3, 2), Goal::Rollout), State::Waiting(m) if m.contains("2 out of 3 new"))
        );
        assert!(
            matches!(state(d, &obj(2, 2, 2, 2, 3, 2), Goal::Rollout), State::Waiting(m) if m.contains("1 old replicas"))
        );
        assert!(
            matches!(state(d, &obj(2, 2, 2, 2, 2, 1), Goal::Rollout), State::Waiting(m) if m.contains("1 of 2 updated"))
        );
        assert!(matches!(
            state(d, &obj(2, 2, 2, 2, 2, 2), Goal::Rollout),
            State::Done(_)
        ));
        assert!(matches!(
            state(d, &obj(2, 2, 2, 2, 2, 2), Goal::Ready(3)),
            State::Waiting(_)
        ));
        let mut failed = obj(2, 2, 2, 1, 2, 1);
        failed["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "took too long"}]);
        assert!(
            matches!(state(d, &failed, Goal::Rollout), State::Failed(m) if m.contains("took too long"))
        );
    }
}
