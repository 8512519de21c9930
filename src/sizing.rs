//! Memory per server process, measured, for the two places that size a
//! container: `WARPDRIVE_AUTO_PROCESSES` (the launcher, which knows the
//! server type) and `tune --recommend` (which knows it only when the
//! container says so, else uses [`CONSERVATIVE`]).
//!
//! The figures are PSS (`/proc/PID/smaps_rollup`), measured by
//! `bench/worker_memory.py` on examples/hello-django (Django 5.2.19,
//! Python 3.11.2, gunicorn 27.0.1, waitress 3.0.2, uWSGI 2.0.31, mod_wsgi
//! 6.1.1 on Apache 2.4, uvicorn 0.54.0; Debian 12, x86_64, 2 CPUs), each
//! server started by `warpdrive exec --supervise`, idle after serving
//! parallel requests; the README's "Memory per process, measured" has the
//! table and the conditions. PSS divides shared pages among their sharers, so the PSS of a
//! process tree adds up to what a memory cgroup charges it.
//!
//! The budget for `P` processes of `T` threads:
//!
//! `base + P × (HEADROOM × worker + T × THREAD_MIB)`
//!
//! * `base`: the launcher (the supervisor, 6.0–6.6 MiB) plus what is not a
//!   worker: gunicorn's arbiter, the uWSGI master, Apache's parent and
//!   children, uvicorn's supervisor and multiprocessing's resource tracker;
//! * `worker`: one idle worker with one thread, rounded up;
//! * [`HEADROOM`]: a worker that has served a real app's traffic is larger
//!   than the example's idle one (imported modules, caches, the allocator's
//!   fragmentation, and under uWSGI the copy-on-write pages it shared with
//!   the master, which Python's reference counts copy as they are touched).
//!   Doubling the measurement is a judgement, not a measurement;
//! * [`THREAD_MIB`]: the most an idle thread measured (uWSGI: 1.04 MiB
//!   between 1 and 15 threads; gunicorn, waitress and mod_wsgi 0.04–0.08),
//!   rounded up.

/// The measured figures of one server type, MiB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// The server type's name, or `None` for [`CONSERVATIVE`].
    pub server: Option<&'static str>,
    /// The launcher plus the server's processes that are not workers.
    pub base_mib: f64,
    /// One idle worker with one thread.
    pub worker_mib: f64,
}

/// What a worker is budgeted, as a multiple of its idle measurement.
pub const HEADROOM: f64 = 2.0;
/// What a thread is budgeted, MiB.
pub const THREAD_MIB: f64 = 2.0;

/// The launcher's own PSS as the supervisor, rounded up (6.0–6.6 MiB).
const LAUNCHER_MIB: f64 = 7.0;

/// Per server type: (names, base without the launcher, worker). Measured
/// 2026-12-01 (the README's table), rounded up to whole MiB:
/// * gunicorn: arbiter 16.4–16.7, a sync/gthread worker 35.1 (1 thread);
/// * waitress: one process, 37.7 (1 thread), no other process;
/// * uWSGI: master 26.3–33.6 (the app is loaded before the fork), a worker
///   20.6 (1 thread, sharing with the master);
/// * mod_wsgi-express (`django`, `mod_wsgi`, `paste`): Apache's parent and
///   children 6.4–6.9 together, a daemon process 39.0 (1 thread);
/// * uvicorn: with more than one worker a supervisor 15.9 and a resource
///   tracker 6.0, a worker 36.8 (threads do not apply).
const MEASURED: &[(&[&str], f64, f64)] = &[
    (&["gunicorn"], 17.0, 36.0),
    (&["waitress"], 0.0, 38.0),
    (&["uwsgi"], 34.0, 21.0),
    (&["django", "mod_wsgi", "paste"], 7.0, 39.0),
    (&["uvicorn"], 22.0, 37.0),
];

/// The figures when the server type is not known (`tune --recommend` on a
/// container that does not name it, `shell` and `python`): the largest base
/// (uWSGI's) and the largest worker (mod_wsgi's) of the table.
pub const CONSERVATIVE: Footprint = Footprint {
    server: None,
    base_mib: LAUNCHER_MIB + 34.0,
    worker_mib: 39.0,
};

/// The figures for a server type by its name (`gunicorn`, `django`, …);
/// [`CONSERVATIVE`] for a type the table does not have.
pub fn footprint(server: &str) -> Footprint {
    MEASURED
        .iter()
        .find(|(names, _, _)| names.contains(&server))
        .map(|(names, base, worker)| Footprint {
            server: Some(names[0]),
            base_mib: LAUNCHER_MIB + base,
            worker_mib: *worker,
        })
        .unwrap_or(CONSERVATIVE)
}

impl Footprint {
    /// MiB budgeted per process of `threads` threads.
    pub fn per_process_mib(&self, threads: u64) -> f64 {
        HEADROOM * self.worker_mib + THREAD_MIB * threads as f64
    }

    /// How many processes of `threads` threads fit in `memory_mib`: at
    /// least 1 (a container too small for one still gets one, and its OOM
    /// kills are logged).
    pub fn processes_in(&self, memory_mib: f64, threads: u64) -> u64 {
        ((memory_mib - self.base_mib) / self.per_process_mib(threads))
            .floor()
            .max(1.0) as u64
    }

    /// `gunicorn` or `any server` (for the reason lines).
    pub fn name(&self) -> &'static str {
        self.server.unwrap_or("any server")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_its_figures_and_the_rest_the_conservative_ones() {
        let g = footprint("gunicorn");
        assert_eq!((g.base_mib, g.worker_mib), (24.0, 36.0));
        assert_eq!(footprint("mod_wsgi"), footprint("django"));
        assert_eq!(footprint("paste").name(), "django");
        assert_eq!(footprint("shell"), CONSERVATIVE);
        assert_eq!(CONSERVATIVE.name(), "any server");
        // The conservative figures are the table's largest.
        for (names, base, worker) in MEASURED {
            let f = footprint(names[0]);
            assert!(f.base_mib <= CONSERVATIVE.base_mib, "{names:?} {base}");
            assert!(
                f.worker_mib <= CONSERVATIVE.worker_mib,
                "{names:?} {worker}"
            );
        }
    }

    #[test]
    fn the_arithmetic() {
        let g = footprint("gunicorn");
        // 2 × 36 + 5 × 2 = 82 MiB per process.
        assert_eq!(g.per_process_mib(5), 82.0);
        // (512 − 24) / 82 = 5.95 → 5.
        assert_eq!(g.processes_in(512.0, 5), 5);
        // (256 − 24) / 82 = 2.83 → 2.
        assert_eq!(g.processes_in(256.0, 5), 2);
        // uWSGI, 15 threads: 2 × 21 + 30 = 72; (1024 − 41) / 72 = 13.65 → 13.
        assert_eq!(footprint("uwsgi").processes_in(1024.0, 15), 13);
        // Conservative, 15 threads: 2 × 39 + 30 = 108; (1024 − 41) / 108 → 9.
        assert_eq!(CONSERVATIVE.per_process_mib(15), 108.0);
        assert_eq!(CONSERVATIVE.processes_in(1024.0, 15), 9);
        // Too small for one: still one.
        assert_eq!(CONSERVATIVE.processes_in(64.0, 15), 1);
        assert_eq!(CONSERVATIVE.processes_in(10.0, 15), 1);
    }
}
