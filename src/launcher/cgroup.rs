//! The container's own cgroup: the automatic process count
//! (`WARPDRIVE_AUTO_PROCESSES=1` with MOD_WSGI_PROCESSES unset) and the
//! OOM-kill counter the supervisor watches ([`OomWatch`]).
//!
//! Reads the cgroup v2 `cpu.max`/`memory.max` of the process's cgroup, or
//! cgroup v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`/`memory.limit_in_bytes`.
//! Each file is looked for in the process's own cgroup (the path
//! `/proc/self/cgroup` names, below the mount), then at the mount's root
//! (a container with its own cgroup namespace, or Docker's v1 bind mounts,
//! sees its cgroup there). Never the host's CPU count: a pod limited to 1
//! CPU on a 64-core node must not start 64 workers (s2i-python-container#188,
//! gunicorn#2028).
//!
//! processes = min(ceil(CPU quota), what fits in the memory limit), at least
//! 1, at most 256, where what fits is the server type's measured budget
//! ([`crate::sizing`]: `(limit − base) / (2 × worker + threads × 2 MiB)`).
//! The traps, each with a test below:
//! * a fractional quota (`cpu.max 50000 100000`, a `500m` limit) is 1
//!   process, never 0 and never the node's count;
//! * no CPU quota (`max`, or v1 `-1`) is 1 process. A CPU *request* without
//!   a limit leaves no reliable sign in the container: it only becomes
//!   `cpu.shares` (v1) or `cpu.weight` (v2), whose values are also every
//!   cgroup's default (1024, 100) and whose v2 conversion differs between
//!   runtimes (runc maps a 1-CPU request to weight 39, newer ones to 100).
//!   So a request is not read; the reason line says to set a limit or
//!   MOD_WSGI_PROCESSES;
//! * an unlimited memory (`memory.max max`, or v1's page-rounded
//!   `i64::MAX`) does not bound the count;
//! * cgroup v1 and v2, and the v1 hierarchy mounted whole (the process's
//!   cgroup is a subdirectory) or bind-mounted (it is the root).
//!
//! `WARPDRIVE_CGROUP_ROOT` replaces `/sys/fs/cgroup` (tests point it at a
//! fake tree).

use std::path::{Path, PathBuf};

use crate::sizing::Footprint;

/// Where the cgroup files are: `WARPDRIVE_CGROUP_ROOT`, else `/sys/fs/cgroup`.
pub fn root(env: &std::collections::BTreeMap<String, String>) -> PathBuf {
    env.get("WARPDRIVE_CGROUP_ROOT")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup"))
}

/// The process's place in the cgroup tree: the text of `/proc/self/cgroup`.
#[derive(Debug, Clone, Default)]
pub struct Membership(String);

impl Membership {
    /// This process's `/proc/self/cgroup`.
    pub fn current() -> Self {
        Membership(read(Path::new("/proc/self/cgroup")).unwrap_or_default())
    }

    /// From the text of a `/proc/<pid>/cgroup` file.
    pub fn from_text(text: &str) -> Self {
        Membership(text.to_string())
    }

    /// The v2 path (`0::/path`).
    fn v2(&self) -> Option<&str> {
        self.0.lines().find_map(|l| l.strip_prefix("0::"))
    }

    /// The v1 path of `controller` (`4:memory:/path`, or `cpu,cpuacct`).
    fn v1(&self, controller: &str) -> Option<&str> {
        self.0.lines().find_map(|l| {
            let mut it = l.splitn(3, ':');
            let (_, names, path) = (it.next()?, it.next()?, it.next()?);
            names.split(',').any(|n| n == controller).then_some(path)
        })
    }
}

/// The candidate files for `name` under `base`: in the own cgroup `rel`
/// first, then at `base` itself.
fn candidates(base: &Path, rel: Option<&str>, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(rel) = rel.map(|r| r.trim().trim_start_matches('/')) {
        if !rel.is_empty() {
            out.push(base.join(rel).join(name));
        }
    }
    out.push(base.join(name));
    out
}

/// The first of the candidates that can be read, with its path.
fn first(paths: Vec<PathBuf>) -> Option<(PathBuf, String)> {
    paths.into_iter().find_map(|p| read(&p).map(|t| (p, t)))
}

/// The container's limits; `None` where there is no limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
    /// `v1` or `v2`, or `none` when no cgroup file was found.
    pub version: &'static str,
}

impl Limits {
    /// Reads the limits of this process under `root` (normally `/sys/fs/cgroup`).
    pub fn read(root: &Path) -> Limits {
        Limits::read_for(root, &Membership::current())
    }

    /// Reads the limits of a process with this membership under `root`.
    pub fn read_for(root: &Path, who: &Membership) -> Limits {
        let v2 = who.v2();
        if let Some((_, cpu_max)) = first(candidates(root, v2, "cpu.max")) {
            let mut it = cpu_max.split_whitespace();
            let cpus = match (it.next(), it.next().and_then(|p| p.parse::<f64>().ok())) {
                (Some(q), Some(period)) if q != "max" && period > 0.0 => q
                    .parse::<f64>()
                    .ok()
                    .filter(|q| *q > 0.0)
                    .map(|q| q / period),
                _ => None,
            };
            let memory = first(candidates(root, v2, "memory.max"))
                .and_then(|(_, m)| m.trim().parse::<u64>().ok());
            return Limits {
                cpus,
                memory_bytes: memory,
                version: "v2",
            };
        }
        let cpu_dir = root.join("cpu");
        let cpu_rel = who.v1("cpu");
        let quota = first(candidates(&cpu_dir, cpu_rel, "cpu.cfs_quota_us"))
            .and_then(|(_, q)| q.trim().parse::<i64>().ok());
        let period = first(candidates(&cpu_dir, cpu_rel, "cpu.cfs_period_us"))
            .and_then(|(_, p)| p.trim().parse::<i64>().ok());
        let cpus = match (quota, period) {
            (Some(q), Some(p)) if q > 0 && p > 0 => Some(q as f64 / p as f64),
            _ => None,
        };
        // v1 reports "no limit" as a huge number (page-rounded i64::MAX).
        let memory_file = first(candidates(
            &root.join("memory"),
            who.v1("memory"),
            "memory.limit_in_bytes",
        ));
        let found = quota.is_some() || memory_file.is_some();
        let memory = memory_file
            .and_then(|(_, m)| m.trim().parse::<u64>().ok())
            .filter(|&m| m < (1 << 60));
        Limits {
            cpus,
            memory_bytes: memory,
            version: if found { "v1" } else { "none" },
        }
    }

    fn by_cpu(&self) -> u64 {
        self.cpus.map(|c| c.ceil().max(1.0) as u64).unwrap_or(1)
    }

    fn by_memory(&self, f: &Footprint, threads: u64) -> Option<u64> {
        self.memory_bytes
            .map(|m| f.processes_in((m >> 20) as f64, threads))
    }

    /// The process count these limits allow for processes of `threads`
    /// threads of the server whose figures are `f`.
    pub fn processes(&self, f: &Footprint, threads: u64) -> u64 {
        self.by_cpu()
            .min(self.by_memory(f, threads).unwrap_or(u64::MAX))
            .clamp(1, 256)
    }

    /// How [`processes`](Self::processes) was reached, for the start line:
    /// `2 processes from the container's limits (cgroup v2: CPU limit 1.5 → 2,
    /// memory 512 MiB: (512−24)/82 MiB per gunicorn process of 5 threads → 5;
    /// the smaller)`.
    pub fn explain(&self, f: &Footprint, threads: u64) -> String {
        let n = self.processes(f, threads);
        let cpu = match self.cpus {
            Some(c) => format!("CPU limit {} → {}", trim_float(c), self.by_cpu()),
            None => "no CPU limit → 1 (a CPU request is not visible in the container; \
                     set a CPU limit or MOD_WSGI_PROCESSES)"
                .to_string(),
        };
        let memory = match (self.memory_bytes, self.by_memory(f, threads)) {
            (Some(m), Some(by)) => {
                format!(
                    "memory {mib} MiB: ({mib}−{base})/{per} MiB per {} process of {threads} thread{} → {by}",
                    f.name(),
                    if threads == 1 { "" } else { "s" },
                    mib = m >> 20,
                    base = f.base_mib,
                    per = f.per_process_mib(threads),
                )
            }
            _ => "no memory limit".to_string(),
        };
        format!(
            "{n} process{} from the container's limits (cgroup {}: {cpu}, {memory}{})",
            if n == 1 { "" } else { "es" },
            self.version,
            if self.by_memory(f, threads).is_some() {
                "; the smaller"
            } else {
                ""
            }
        )
    }
}

fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The OOM-kill counter of the process's cgroup: v2 `memory.events`, or v1
/// `memory.oom_control` (both have an `oom_kill N` line; v2's counts the
/// whole subtree). The supervisor calls [`OomWatch::check`] now and then
/// and logs the line it returns.
#[derive(Debug, Clone)]
pub struct OomWatch {
    events: PathBuf,
    limit_file: PathBuf,
    seen: u64,
}

impl OomWatch {
    /// The counter for a process with this membership under `root`, with
    /// its current value as the baseline; `None` when there is none (no
    /// memory controller, or a kernel older than 4.13).
    pub fn open(root: &Path, who: &Membership) -> Option<OomWatch> {
        let v2 = who.v2();
        let (events, limit_file, text) =
            if let Some((events, text)) = first(candidates(root, v2, "memory.events")) {
                let dir = events.parent().unwrap_or(root).to_path_buf();
                (events, dir.join("memory.max"), text)
            } else {
                let (events, text) = first(candidates(
                    &root.join("memory"),
                    who.v1("memory"),
                    "memory.oom_control",
                ))?;
                let dir = events.parent().unwrap_or(root).to_path_buf();
                (events, dir.join("memory.limit_in_bytes"), text)
            };
        let seen = oom_kills(&text)?;
        Some(OomWatch {
            events,
            limit_file,
            seen,
        })
    }

    /// The file read.
    pub fn file(&self) -> &Path {
        &self.events
    }

    /// Reads the counter; when it rose since the last call, the one line to
    /// log, naming the memory limit.
    pub fn check(&mut self) -> Option<String> {
        let now = oom_kills(&read(&self.events)?)?;
        if now <= self.seen {
            self.seen = now;
            return None;
        }
        let new = now - self.seen;
        self.seen = now;
        let limit = read(&self.limit_file)
            .and_then(|t| t.trim().parse::<u64>().ok())
            .filter(|&m| m < (1 << 60))
            .map(|m| format!("the container's memory limit of {} MiB", m >> 20))
            .unwrap_or_else(|| "the memory available (no cgroup limit)".to_string());
        Some(format!(
            "warpdrive: out of memory: the kernel killed {new} process{} that went past {limit} \
             (oom_kill {now} in {}); the server restarts killed workers silently: \
             raise the limit or lower MOD_WSGI_PROCESSES/MOD_WSGI_THREADS",
            if new == 1 { "" } else { "es" },
            self.events.display()
        ))
    }
}

/// The `oom_kill N` count of a `memory.events` or `memory.oom_control` text.
fn oom_kills(text: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (key, value) = l.split_once(' ')?;
        (key == "oom_kill").then(|| value.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    const AT_ROOT_V2: &str = "0::/\n";

    /// gunicorn's figures: 24 MiB base, 2 × 36 + 5 × 2 = 82 MiB per process of 5 threads.
    fn fp() -> Footprint {
        crate::sizing::footprint("gunicorn")
    }
    const MIB: u64 = 1 << 20;

    fn limits(files: &[(&str, &str)], who: &str) -> Limits {
        let t = tree(files);
        Limits::read_for(t.path(), &Membership::from_text(who))
    }

    #[test]
    fn v2_quota_and_memory() {
        let mem = format!("{}\n", 1024 * MIB);
        let l = limits(
            &[("cpu.max", "250000 100000\n"), ("memory.max", &mem)],
            AT_ROOT_V2,
        );
        assert_eq!(
            (l.cpus, l.processes(&fp(), 5), l.version),
            (Some(2.5), 3, "v2")
        );
        let mem = format!("{}\n", 256 * MIB);
        let l = limits(
            &[("cpu.max", "250000 100000\n"), ("memory.max", &mem)],
            AT_ROOT_V2,
        );
        assert_eq!(
            l.processes(&fp(), 5),
            2,
            "memory bounds it: (256 − 24) / 82"
        );
        assert_eq!(
            l.explain(&fp(), 5),
            "2 processes from the container's limits (cgroup v2: CPU limit 2.5 → 3, \
             memory 256 MiB: (256−24)/82 MiB per gunicorn process of 5 threads → 2; the smaller)"
        );
    }

    #[test]
    fn trap_a_fractional_quota_is_one_process() {
        for (quota, want) in [
            ("50000 100000", 1),
            ("10000 100000", 1),
            ("150000 100000", 2),
        ] {
            let l = limits(&[("cpu.max", quota), ("memory.max", "max")], AT_ROOT_V2);
            assert_eq!(l.processes(&fp(), 5), want, "{quota}");
        }
        let l = limits(
            &[("cpu.max", "50000 100000"), ("memory.max", "max")],
            AT_ROOT_V2,
        );
        assert_eq!(
            l.explain(&fp(), 5),
            "1 process from the container's limits (cgroup v2: CPU limit 0.5 → 1, no memory limit)"
        );
    }

    #[test]
    fn trap_no_cpu_limit_is_one_process_whatever_the_request() {
        // A 4-CPU request without a limit: cpu.weight 157 (runc) / cpu.shares 4096.
        let l = limits(
            &[
                ("cpu.max", "max 100000"),
                ("cpu.weight", "157"),
                ("memory.max", "max"),
            ],
            AT_ROOT_V2,
        );
        assert_eq!(
            (l.cpus, l.memory_bytes, l.processes(&fp(), 5)),
            (None, None, 1)
        );
        assert!(l
            .explain(&fp(), 5)
            .contains("no CPU limit → 1 (a CPU request is not visible"));
        let l = limits(
            &[
                ("cpu/cpu.cfs_quota_us", "-1"),
                ("cpu/cpu.cfs_period_us", "100000"),
                ("cpu/cpu.shares", "4096"),
            ],
            "",
        );
        assert_eq!((l.cpus, l.processes(&fp(), 5), l.version), (None, 1, "v1"));
    }

    #[test]
    fn trap_unlimited_memory_does_not_bound_the_count() {
        let l = limits(
            &[("cpu.max", "400000 100000"), ("memory.max", "max\n")],
            AT_ROOT_V2,
        );
        assert_eq!((l.memory_bytes, l.processes(&fp(), 5)), (None, 4));
        let l = limits(
            &[
                ("cpu/cpu.cfs_quota_us", "400000"),
                ("cpu/cpu.cfs_period_us", "100000"),
                ("memory/memory.limit_in_bytes", "9223372036854771712"),
            ],
            "",
        );
        assert_eq!(
            (l.cpus, l.memory_bytes, l.processes(&fp(), 5)),
            (Some(4.0), None, 4)
        );
    }

    #[test]
    fn a_tiny_memory_limit_still_gives_one_process() {
        let mem = (32 * MIB).to_string();
        let l = limits(
            &[("cpu.max", "400000 100000"), ("memory.max", &mem)],
            AT_ROOT_V2,
        );
        assert_eq!(l.processes(&fp(), 5), 1);
    }

    #[test]
    fn the_own_cgroup_wins_over_the_mount_root() {
        // v2 without a cgroup namespace: the root has no limit, the own cgroup has.
        let who = "0::/kubepods/pod1/ctr\n";
        let l = limits(
            &[
                ("cpu.max", "max 100000"),
                ("kubepods/pod1/ctr/cpu.max", "200000 100000"),
                ("kubepods/pod1/ctr/memory.max", &(512 * MIB).to_string()),
            ],
            who,
        );
        assert_eq!((l.cpus, l.memory_bytes), (Some(2.0), Some(512 * MIB)));
        // v1, the whole hierarchy mounted (as on this kind of host): the
        // root is the host's, unlimited; the own cgroup is a subdirectory.
        let who = "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n";
        let l = limits(
            &[
                ("cpu/cpu.cfs_quota_us", "-1"),
                ("cpu/cpu.cfs_period_us", "100000"),
                ("cpu/docker/abc/cpu.cfs_quota_us", "50000"),
                ("cpu/docker/abc/cpu.cfs_period_us", "100000"),
                ("memory/memory.limit_in_bytes", "9223372036854771712"),
                (
                    "memory/docker/abc/memory.limit_in_bytes",
                    &(256 * MIB).to_string(),
                ),
            ],
            who,
        );
        assert_eq!(
            (l.cpus, l.memory_bytes, l.processes(&fp(), 5)),
            (Some(0.5), Some(256 * MIB), 1)
        );
        // v1 bind-mounted (Docker): /proc/self/cgroup names a path that is
        // not below the mount, the limits are at its root.
        let l = limits(
            &[
                ("cpu/cpu.cfs_quota_us", "300000"),
                ("cpu/cpu.cfs_period_us", "100000"),
            ],
            who,
        );
        assert_eq!((l.cpus, l.processes(&fp(), 5)), (Some(3.0), 3));
    }

    #[test]
    fn no_cgroup_files_is_one_process() {
        let l = limits(&[], AT_ROOT_V2);
        assert_eq!(
            (l.cpus, l.memory_bytes, l.processes(&fp(), 5), l.version),
            (None, None, 1, "none")
        );
    }

    #[test]
    fn oom_watch_reports_each_rise_once_naming_the_limit() {
        let t = tree(&[
            ("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"),
            ("memory.max", &(64 * MIB).to_string()),
        ]);
        let mut w = OomWatch::open(t.path(), &Membership::from_text(AT_ROOT_V2)).unwrap();
        assert_eq!(w.check(), None, "the count at start is the baseline");
        std::fs::write(t.path().join("memory.events"), "oom 3\noom_kill 3\n").unwrap();
        let line = w.check().unwrap();
        assert!(
            line.contains(
                "killed 2 processes that went past the container's memory limit of 64 MiB"
            ),
            "{line}"
        );
        assert!(line.contains("(oom_kill 3 in "), "{line}");
        assert_eq!(w.check(), None);

        let t = tree(&[
            (
                "memory/a/memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
            ),
            ("memory/a/memory.limit_in_bytes", "9223372036854771712"),
        ]);
        let mut w = OomWatch::open(t.path(), &Membership::from_text("9:memory:/a\n")).unwrap();
        std::fs::write(t.path().join("memory/a/memory.oom_control"), "oom_kill 1\n").unwrap();
        let line = w.check().unwrap();
        assert!(
            line.contains("killed 1 process that went past the memory available (no cgroup limit)"),
            "{line}"
        );
        // No counter (old kernel, no memory controller): nothing to watch.
        let t = tree(&[("memory/memory.oom_control", "oom_kill_disable 0\n")]);
        assert!(OomWatch::open(t.path(), &Membership::from_text("")).is_none());
    }
}
