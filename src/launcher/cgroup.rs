//! Automatic process count from the container's own limits
//! (`WARPDRIVE_AUTO_PROCESSES=1` with MOD_WSGI_PROCESSES unset).
//!
//! Reads the cgroup v2 `cpu.max`/`memory.max` of the process's cgroup, or
//! cgroup v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`/`memory.limit_in_bytes`.
//! Never the host's CPU count: a pod limited to 1 CPU on a 64-core node must
//! not start 64 workers (s2i-python-container#188, gunicorn#2028).
//!
//! processes = min(ceil(CPU quota), memory limit / 128 MiB), at least 1.
//! No CPU quota means 1 process. `WARPDRIVE_CGROUP_ROOT` replaces
//! `/sys/fs/cgroup` (tests point it at a fake tree).

use std::path::{Path, PathBuf};

/// MiB of memory budgeted per worker process.
pub const MIB_PER_PROCESS: u64 = 128;

/// The container's limits; `None` where there is no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
}

impl Limits {
    /// Reads the limits under `root` (normally `/sys/fs/cgroup`).
    pub fn read(root: &Path) -> Limits {
        let v2_dir = own_v2_dir(root);
        if let Some(cpu_max) = read(&v2_dir.join("cpu.max")).or_else(|| read(&root.join("cpu.max")))
        {
            let mut it = cpu_max.split_whitespace();
            let cpus = match (it.next(), it.next().and_then(|p| p.parse::<f64>().ok())) {
                (Some(q), Some(period)) if q != "max" && period > 0.0 => {
                    q.parse::<f64>().ok().map(|q| q / period)
                }
                _ => None,
            };
            let memory = read(&v2_dir.join("memory.max"))
                .or_else(|| read(&root.join("memory.max")))
                .and_then(|m| m.trim().parse::<u64>().ok());
            return Limits {
                cpus,
                memory_bytes: memory,
            };
        }
        let quota =
            read(&root.join("cpu/cpu.cfs_quota_us")).and_then(|q| q.trim().parse::<i64>().ok());
        let period =
            read(&root.join("cpu/cpu.cfs_period_us")).and_then(|p| p.trim().parse::<i64>().ok());
        let cpus = match (quota, period) {
            (Some(q), Some(p)) if q > 0 && p > 0 => Some(q as f64 / p as f64),
            _ => None,
        };
        // v1 reports "no limit" as a huge number (page-rounded i64::MAX).
        let memory = read(&root.join("memory/memory.limit_in_bytes"))
            .and_then(|m| m.trim().parse::<u64>().ok())
            .filter(|&m| m < (1 << 60));
        Limits {
            cpus,
            memory_bytes: memory,
        }
    }

    /// The process count these limits allow.
    pub fn processes(&self) -> u64 {
        let by_cpu = self.cpus.map(|c| c.ceil().max(1.0) as u64).unwrap_or(1);
        let by_memory = self
            .memory_bytes
            .map(|m| (m / (1024 * 1024) / MIB_PER_PROCESS).max(1))
            .unwrap_or(u64::MAX);
        by_cpu.min(by_memory).clamp(1, 256)
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The v2 directory of this process's own cgroup (`0::/path` in /proc/self/cgroup).
fn own_v2_dir(root: &Path) -> PathBuf {
    let rel = read(Path::new("/proc/self/cgroup"))
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        })
        .unwrap_or_default();
    root.join(rel.trim().trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_and_v1_limits() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cpu.max"), "250000 100000\n").unwrap();
        std::fs::write(
            dir.path().join("memory.max"),
            format!("{}\n", 1024u64 << 20),
        )
        .unwrap();
        let l = Limits::read(dir.path());
        assert_eq!(l.cpus, Some(2.5));
        assert_eq!(l.processes(), 3);
        std::fs::write(dir.path().join("memory.max"), format!("{}\n", 256u64 << 20)).unwrap();
        assert_eq!(Limits::read(dir.path()).processes(), 2);
        std::fs::write(dir.path().join("cpu.max"), "max 100000\n").unwrap();
        std::fs::write(dir.path().join("memory.max"), "max\n").unwrap();
        assert_eq!(Limits::read(dir.path()).processes(), 1);

        let v1 = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(v1.path().join("cpu")).unwrap();
        std::fs::create_dir_all(v1.path().join("memory")).unwrap();
        std::fs::write(v1.path().join("cpu/cpu.cfs_quota_us"), "400000").unwrap();
        std::fs::write(v1.path().join("cpu/cpu.cfs_period_us"), "100000").unwrap();
        std::fs::write(
            v1.path().join("memory/memory.limit_in_bytes"),
            "9223372036854771712",
        )
        .unwrap();
        let l = Limits::read(v1.path());
        assert_eq!(
            (l.cpus, l.memory_bytes, l.processes()),
            (Some(4.0), None, 4)
        );
    }
}
