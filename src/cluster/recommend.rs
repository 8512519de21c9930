//! `tune --recommend`: processes × threads from a container's CPU and memory.
//!
//! The formula (documented in the README, with a comparison):
//!
//! * `C` = CPU limit, else CPU request, else 1 core (assumed, and said so);
//!   `M` = memory limit, else memory request, else unknown.
//! * Python runs one thread of bytecode at a time per process (the GIL), so
//!   using `C` cores takes `ceil(C)` processes. Threads add concurrency
//!   while requests wait on I/O, and cost little memory.
//! * profile `io`: `threads = 15`; profile `cpu`: `threads = 2`.
//! * The memory figures are measured ([`crate::sizing`]): the server type's
//!   when the container names it (`WARPDRIVE_SERVER_TYPE` in its env, or
//!   `--server-type` in its command or args), else the conservative ones
//!   (the largest base and worker measured). A process is budgeted
//!   `2 × worker + 2 MiB × threads`; `base` is the launcher and the
//!   server's processes that are not workers.
//! * `processes = clamp(ceil(C), 1, max(1, floor((M − base) / budget)))`;
//!   waitress is always one process.

use serde_json::Value;

use crate::cli::Profile;

use crate::sizing::{self, Footprint};

/// The resources that were found, and the suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// Cores used for the formula, and where they came from.
    pub cpu: Option<(f64, &'static str)>,
    /// MiB used for the formula, and where they came from.
    pub memory: Option<(f64, &'static str)>,
    pub processes: u64,
    pub threads: u64,
    /// Human-readable reasoning, one line.
    pub why: String,
}

/// Parses a CPU quantity (`500m`, `2`, `1.5`) into cores.
pub fn parse_cpu(q: &str) -> Option<f64> {
    let q = q.trim();
    let cores = match q.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok()? / 1000.0,
        None => q.parse::<f64>().ok()?,
    };
    (cores.is_finite() && cores > 0.0).then_some(cores)
}

/// Parses a memory quantity (`512Mi`, `1Gi`, `1G`, `128974848`, `129e6`) into MiB.
pub fn parse_memory(q: &str) -> Option<f64> {
    let q = q.trim();
    const UNITS: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("m", 1e-3),
    ];
    let (num, mult) = UNITS
        .iter()
        .find_map(|(u, m)| q.strip_suffix(u).map(|n| (n, *m)))
        .unwrap_or((q, 1.0));
    let bytes = num.parse::<f64>().ok()? * mult;
    (bytes.is_finite() && bytes > 0.0).then_some(bytes / (1024.0 * 1024.0))
}

fn quantity(resources: Option<&Value>, section: &str, key: &str) -> Option<String> {
    let v = resources?.get(section)?.get(key)?;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The server type a container names: `WARPDRIVE_SERVER_TYPE` in its env
/// (a literal value), else `--server-type X` or `--server-type=X` in its
/// command or args.
pub fn server_type(container: &Value) -> Option<String> {
    let from_env = container
        .get("env")
        .and_then(Value::as_array)
        .and_then(|env| {
            env.iter()
                .find(|e| e.get("name").and_then(Value::as_str) == Some("WARPDRIVE_SERVER_TYPE"))
        })
        .and_then(|e| e.get("value").and_then(Value::as_str))
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(t) = from_env {
        return Some(t.to_string());
    }
    let words: Vec<&str> = ["command", "args"]
        .iter()
        .filter_map(|k| container.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    words
        .iter()
        .enumerate()
        .find_map(|(i, w)| match w.strip_prefix("--server-type") {
            Some("") => words.get(i + 1).map(|t| t.to_string()),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => None,
        })
}

/// The suggestion for a container (its `resources`, and the server type it
/// names, if any).
pub fn recommend(container: Option<&Value>, profile: Profile) -> Recommendation {
    let resources = container.and_then(|c| c.get("resources"));
    let figures = match container.and_then(server_type) {
        Some(t) => sizing::footprint(&t),
        None => sizing::CONSERVATIVE,
    };
    let pick = |key: &str, parse: fn(&str) -> Option<f64>| {
        quantity(resources, "limits", key)
            .and_then(|q| parse(&q))
            .map(|v| (v, "limit"))
            .or_else(|| {
                quantity(resources, "requests", key)
                    .and_then(|q| parse(&q))
                    .map(|v| (v, "request"))
            })
    };
    let cpu = pick("cpu", parse_cpu);
    let memory = pick("memory", parse_memory);
    from_numbers(cpu, memory, profile, &figures)
}

/// The formula itself, on numbers (cores, MiB) and a server's figures.
pub fn from_numbers(
    cpu: Option<(f64, &'static str)>,
    memory: Option<(f64, &'static str)>,
    profile: Profile,
    figures: &Footprint,
) -> Recommendation {
    let threads: u64 = match profile {
        Profile::Io => 15,
        Profile::Cpu => 2,
    };
    let cores = cpu.map(|c| c.0).unwrap_or(1.0);
    let by_cpu = (cores.ceil() as u64).max(1);
    let mut why = match cpu {
        Some((c, src)) => format!("CPU {src} {c} cores → {by_cpu} processes (one per core, GIL)"),
        None => format!("no CPU request or limit, assuming 1 core → {by_cpu} process"),
    };
    let mut processes = match memory {
        Some((mib, src)) => {
            let by_mem = figures.processes_in(mib, threads);
            why.push_str(&format!(
                "; memory {src} {mib:.0} MiB fits ({mib:.0}−{:.0})/{:.0} = {by_mem} ({})",
                figures.base_mib,
                figures.per_process_mib(threads),
                match figures.server {
                    Some(s) => format!("{s}'s measured figures"),
                    None => "the largest measured figures: no server type in the container".into(),
                }
            ));
            by_cpu.min(by_mem)
        }
        None => {
            why.push_str("; no memory request or limit, so no memory cap");
            by_cpu
        }
    }
    .clamp(1, 256);
    if figures.server == Some("waitress") && processes > 1 {
        processes = 1;
        why.push_str("; waitress is one process");
    }
    why.push_str(&format!(
        "; {} profile → {threads} threads per process",
        match profile {
            Profile::Io => "io",
            Profile::Cpu => "cpu",
        }
    ));
    Recommendation {
        cpu,
        memory,
        processes,
        threads,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_quantities() {
        assert_eq!(parse_cpu("500m"), Some(0.5));
        assert_eq!(parse_cpu("2"), Some(2.0));
        assert_eq!(parse_memory("512Mi"), Some(512.0));
        assert_eq!(parse_memory("1Gi"), Some(1024.0));
        assert!((parse_memory("1G").unwrap() - 953.674).abs() < 0.01);
        assert_eq!(parse_memory("134217728"), Some(128.0));
        assert_eq!(parse_memory("lots"), None);
    }

    /// The README's comparison table is made of these rows (no server
    /// type: the conservative figures, 41 MiB base, 108 MiB per io process,
    /// 82 per cpu process).
    #[test]
    fn readme_table_rows() {
        let rows = [
            (0.25, 256.0, (1, 15), (1, 2)),
            (0.5, 512.0, (1, 15), (1, 2)),
            (1.0, 1024.0, (1, 15), (1, 2)),
            (2.0, 1024.0, (2, 15), (2, 2)),
            (4.0, 2048.0, (4, 15), (4, 2)),
            (4.0, 256.0, (1, 15), (2, 2)),
            (8.0, 512.0, (4, 15), (5, 2)),
        ];
        for (cpu, mib, io, cpu_bound) in rows {
            let c = Some((cpu, "limit"));
            let m = Some((mib, "limit"));
            let f = &sizing::CONSERVATIVE;
            let r = from_numbers(c, m, Profile::Io, f);
            assert_eq!((r.processes, r.threads), io, "io {cpu} {mib}");
            let r = from_numbers(c, m, Profile::Cpu, f);
            assert_eq!((r.processes, r.threads), cpu_bound, "cpu {cpu} {mib}");
        }
    }

    /// 8 cores, 512 MiB, cpu profile (2 threads): each server's measured
    /// figures decide how many processes fit.
    #[test]
    fn a_named_server_type_uses_its_figures() {
        let cases = [
            // (512 − 24) / (2 × 36 + 4) = 6.4
            ("gunicorn", 6),
            // (512 − 41) / (2 × 21 + 4) = 10.2, then the 8 cores
            ("uwsgi", 8),
            // (512 − 14) / (2 × 39 + 4) = 6.07
            ("django", 6),
            // (512 − 29) / (2 × 37 + 4) = 6.2
            ("uvicorn", 6),
            // one process, whatever fits
            ("waitress", 1),
            // not in the table: (512 − 41) / 82 = 5.7
            ("shell", 5),
        ];
        for (server, want) in cases {
            let container = json!({
                "env": [{"name": "WARPDRIVE_SERVER_TYPE", "value": server}],
                "resources": {"limits": {"cpu": "8", "memory": "512Mi"}},
            });
            let r = recommend(Some(&container), Profile::Cpu);
            assert_eq!(r.processes, want, "{server}: {}", r.why);
        }
        let r = recommend(
            Some(&json!({"resources": {"limits": {"cpu": "8", "memory": "512Mi"}}})),
            Profile::Cpu,
        );
        assert_eq!(r.processes, 5);
        assert!(
            r.why
                .contains("fits (512−41)/82 = 5 (the largest measured figures: no server type"),
            "{}",
            r.why
        );
    }

    #[test]
    fn the_server_type_comes_from_env_or_args() {
        let env = json!({"env": [{"name": "WARPDRIVE_SERVER_TYPE", "value": " uwsgi "}]});
        assert_eq!(server_type(&env).as_deref(), Some("uwsgi"));
        let args = json!({"command": ["warpdrive", "exec"], "args": ["--server-type", "gunicorn"]});
        assert_eq!(server_type(&args).as_deref(), Some("gunicorn"));
        let joined = json!({"args": ["exec", "--server-type=waitress"]});
        assert_eq!(server_type(&joined).as_deref(), Some("waitress"));
        // valueFrom is not read; a dangling flag names nothing.
        let from = json!({"env": [{"name": "WARPDRIVE_SERVER_TYPE", "valueFrom": {}}],
                          "args": ["--server-type"]});
        assert_eq!(server_type(&from), None);
        assert_eq!(server_type(&json!({})), None);
    }

    #[test]
    fn prefers_limits_and_assumes_one_core() {
        let r = recommend(
            Some(&json!({"resources":
                {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"cpu": "3"}}})),
            Profile::Cpu,
        );
        assert_eq!(r.cpu, Some((3.0, "limit")));
        assert_eq!(r.memory, Some((128.0, "request")));
        assert_eq!(r.processes, 1);
        let r = recommend(None, Profile::Io);
        assert_eq!((r.processes, r.threads), (1, 15));
        assert!(r.why.contains("assuming 1 core"));
    }
}
