//! `tune --recommend`: processes × threads from a container's CPU and memory.
//!
//! The formula (documented in the README, with a comparison):
//!
//! * `C` = CPU limit, else CPU request, else 1 core (assumed, and said so);
//!   `M` = memory limit, else memory request, else unknown.
//! * Python runs one thread of bytecode at a time per process (the GIL), so
//!   using `C` cores takes `ceil(C)` processes. Threads add concurrency
//!   while requests wait on I/O, and cost little memory.
//! * profile `io`: `threads = 15`, a process is budgeted 60 + 2×15 = 90 MiB;
//!   profile `cpu`: `threads = 2`, a process is budgeted 60 + 2×2 = 64 MiB.
//! * `processes = clamp(ceil(C), 1, max(1, floor((M − 50) / budget)))`, where
//!   50 MiB is Apache and the mod_wsgi parent process.

use serde_json::Value;

use crate::cli::Profile;

/// Memory kept for Apache and the mod_wsgi-express parent, MiB.
pub const BASE_MIB: f64 = 50.0;
/// Memory of one Python process before its threads, MiB.
pub const PROCESS_MIB: f64 = 60.0;
/// Extra memory per thread, MiB.
pub const THREAD_MIB: f64 = 2.0;

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

/// The suggestion for a container's `resources` block.
pub fn recommend(resources: Option<&Value>, profile: Profile) -> Recommendation {
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
    from_numbers(cpu, memory, profile)
}

/// The formula itself, on numbers (cores, MiB).
pub fn from_numbers(
    cpu: Option<(f64, &'static str)>,
    memory: Option<(f64, &'static str)>,
    profile: Profile,
) -> Recommendation {
    let threads: u64 = match profile {
        Profile::Io => 15,
        Profile::Cpu => 2,
    };
    let budget = PROCESS_MIB + THREAD_MIB * threads as f64;
    let cores = cpu.map(|c| c.0).unwrap_or(1.0);
    let by_cpu = (cores.ceil() as u64).max(1);
    let mut why = match cpu {
        Some((c, src)) => format!("CPU {src} {c} cores → {by_cpu} processes (one per core, GIL)"),
        None => format!("no CPU request or limit, assuming 1 core → {by_cpu} process"),
    };
    let processes = match memory {
        Some((mib, src)) => {
            let by_mem = (((mib - BASE_MIB) / budget).floor().max(1.0)) as u64;
            why.push_str(&format!(
                "; memory {src} {mib:.0} MiB fits ({mib:.0}−{BASE_MIB:.0})/{budget:.0} = {by_mem}"
            ));
            by_cpu.min(by_mem)
        }
        None => {
            why.push_str("; no memory request or limit, so no memory cap");
            by_cpu
        }
    }
    .clamp(1, 256);
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

    /// The README's comparison table is made of these rows.
    #[test]
    fn readme_table_rows() {
        let rows = [
            (0.25, 256.0, (1, 15), (1, 2)),
            (0.5, 512.0, (1, 15), (1, 2)),
            (1.0, 1024.0, (1, 15), (1, 2)),
            (2.0, 1024.0, (2, 15), (2, 2)),
            (4.0, 2048.0, (4, 15), (4, 2)),
            (4.0, 256.0, (2, 15), (3, 2)),
            (8.0, 512.0, (5, 15), (7, 2)),
        ];
        for (cpu, mib, io, cpu_bound) in rows {
            let c = Some((cpu, "limit"));
            let m = Some((mib, "limit"));
            let r = from_numbers(c, m, Profile::Io);
            assert_eq!((r.processes, r.threads), io, "io {cpu} {mib}");
            let r = from_numbers(c, m, Profile::Cpu);
            assert_eq!((r.processes, r.threads), cpu_bound, "cpu {cpu} {mib}");
        }
    }

    #[test]
    fn prefers_limits_and_assumes_one_core() {
        let r = recommend(
            Some(&json!({"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"cpu": "3"}})),
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
