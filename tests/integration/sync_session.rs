//! The sync engine's session over the exec websocket of the double: one
//! receiver per session, busybox in the pod over v5 and v4, reconnecting,
//! and the benchmarks of bench/reload.sh.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use warpdrive::sync::{self, Excludes, Syncer};

use crate::apiserver::{exec, ApiServer};
use crate::reload::{
    client_runtime, double_with_pod, line_reader, make_tree, put, reload_cmd, setup, snapshot,
    transport, wait_line, wait_until,
};
use crate::support::{self, RunExt};

/// A directory with busybox's applets and nothing else: a PATH for an
/// Alpine-like container (ash, busybox tar/dd/find/stat/mv/rm/xargs/wc).
pub(crate) fn busybox_path() -> tempfile::TempDir {
    let bb = Path::new("/usr/bin/busybox");
    assert!(bb.exists(), "busybox is not installed: run .ci/setup");
    let dir = tempfile::tempdir().unwrap();
    for applet in [
        "sh", "tar", "find", "stat", "mv", "rm", "mkdir", "xargs", "cat", "dd", "head", "wc",
    ] {
        symlink(bb, dir.path().join(applet)).unwrap();
    }
    dir
}

pub(crate) fn syncer<'a>(root: &Path, dest: &Path, t: &'a dyn sync::Transport) -> Syncer<'a> {
    Syncer::new(
        root,
        dest.to_str().unwrap(),
        Excludes::new(root, &[]).unwrap(),
        true,
        t,
    )
    .unwrap()
}

/// The two trees hold the same paths with the same contents (big files
/// compared, not printed).
pub(crate) fn assert_same_tree(a: &Path, b: &Path, what: &str) {
    let short = |m: std::collections::BTreeMap<PathBuf, String>| {
        m.into_iter()
            .map(|(p, v)| {
                let v = if v.len() > 100 {
                    format!(
                        "{} bytes, {:x}",
                        v.len(),
                        v.bytes().map(u64::from).sum::<u64>()
                    )
                } else {
                    v
                };
                (p, v)
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(short(snapshot(a)), short(snapshot(b)), "{what}");
}

pub(crate) fn execs(server: &ApiServer) -> usize {
    server.count("GET", "/exec")
}

#[test]
fn a_busybox_pod_over_v5_and_v4_syncs_in_one_session() {
    let bb = busybox_path();
    for offer in [exec::Offer::V5AndV4, exec::Offer::V4Only] {
        let (server, pod) = double_with_pod(&[("PATH", bb.path().to_str().unwrap())]);
        server.exec_offer(offer);
        let rt = client_runtime();
        let t = transport(&rt, &server, &pod);
        let src = tempfile::tempdir().unwrap();
        put(src.path(), "app.py", "print(1)\n");
        put(src.path(), "pkg/ünï cödé.py", "x = 1\n");
        fs::write(src.path().join("pkg/big.bin"), vec![b'z'; 3 << 20]).unwrap();
        let root = src.path().canonicalize().unwrap();
        let dest = server.exec_root().join("src");
        let s = syncer(&root, &dest, &t);
        let stats = sync::sync_once(&s, &mut |w| panic!("{w}")).unwrap();
        assert_eq!(stats.files, 3, "{stats:?}");
        let want = if offer == exec::Offer::V4Only {
            "v4.channel.k8s.io"
        } else {
            "v5.channel.k8s.io"
        };
        assert_eq!(s.protocol(), Some(want));
        assert_eq!(s.reader().as_deref(), Some("dd"), "busybox dd count_bytes");
        assert_same_tree(&root, &dest, want);
        // more batches over the same session: an edit, a delete, a new dir
        for i in 0..3 {
            put(src.path(), "app.py", &format!("print({i})  # edited\n"));
            put(src.path(), &format!("new{i}/mod.py"), "NEW = 1\n");
            let _ = fs::remove_file(src.path().join("pkg/ünï cödé.py"));
            let changed = ["app.py".into(), format!("new{i}"), "pkg/ünï cödé.py".into()]
                .into_iter()
                .map(PathBuf::from)
                .collect();
            let changes = s
                .changes_for(
                    &changed,
                    &|p| p.to_string_lossy().starts_with("new"),
                    &mut |_| {},
                )
                .unwrap();
            s.apply(&changes).unwrap();
            assert_same_tree(&root, &dest, &format!("{want}, batch {i}"));
        }
        // a full compare over it too: nothing to send
        let again = sync::sync_once(&s, &mut |_| {}).unwrap();
        assert_eq!((again.files, again.deleted), (0, 0));
        assert_eq!((s.sessions(), execs(&server)), (1, 1), "{want}");
        s.close().unwrap();
        let left: Vec<_> = fs::read_dir(&dest)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".warpdrive"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn a_dropped_session_is_noticed_by_the_keepalive_and_reopened() {
    let (server, pod) = double_with_pod(&[]);
    let rt = client_runtime();
    let t = transport(&rt, &server, &pod);
    let src = tempfile::tempdir().unwrap();
    put(src.path(), "app.py", "print(1)\n");
    let root = src.path().canonicalize().unwrap();
    let dest = server.exec_root().join("src");
    let s = syncer(&root, &dest, &t);
    sync::sync_once(&s, &mut |_| {}).unwrap();
    s.keepalive().unwrap();
    assert_eq!(execs(&server), 1, "{:?}", server.requests());
    // the pod goes away: its processes are killed, the stream ends
    server
        .state()
        .objects
        .remove(&("pods", "default".to_string(), pod.clone()));
    let start = Instant::now();
    while s.keepalive().is_ok() {
        assert!(start.elapsed() < Duration::from_secs(10), "still alive");
        std::thread::sleep(Duration::from_millis(20));
    }
    // a new receiver (the caller would have switched pods), full compare
    server.add(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "blog-new", "namespace": "default", "labels": {"app": "blog"}},
        "spec": {"containers": [{"name": "app", "image": "x"}]},
    }));
    t.set_pod("blog-new");
    put(src.path(), "app.py", "print(22)\n");
    let stats = sync::sync_once(&s, &mut |_| {}).unwrap();
    assert_eq!(stats.files, 1);
    assert_eq!(snapshot(&root), snapshot(&dest));
    assert_eq!((s.sessions(), execs(&server)), (2, 2));
}

#[test]
fn watch_mode_uses_one_exec_session_for_every_sync() {
    let (server, src) = setup(1, &[]);
    let dest = server.exec_root().join("app-src");
    let mut cmd = reload_cmd(
        &server,
        &[
            "--source",
            src.path().to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
            "--watch",
            "--delete",
        ],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut guard = support::spawn(&mut cmd);
    let rx = line_reader(guard.child().stdout.take().unwrap());
    let mut seen = Vec::new();
    wait_line(&rx, "watching", &mut seen);
    let first = execs(&server);
    assert_eq!(first, 1, "the first sync is one exec (list and transfer)");
    for i in 0..5 {
        let text = format!("VIEWS = {i}\n");
        put(src.path(), "blog/views.py", &text);
        wait_until("edit", || {
            fs::read_to_string(dest.join("blog/views.py")).is_ok_and(|t| t == text)
        });
        wait_line(&rx, "synced 1 file", &mut seen);
    }
    fs::remove_file(src.path().join("app.py")).unwrap();
    wait_until("delete", || !dest.join("app.py").exists());
    assert_eq!(
        execs(&server),
        first,
        "new exec sessions after the first sync"
    );
    guard.signal(libc::SIGINT);
    let status = guard
        .wait_timeout(Duration::from_secs(10))
        .expect("stopped");
    assert!(status.success(), "{status:?}");
}

/// Where benchmark trees live (`BENCH_TMP`, e.g. /dev/shm, keeps the disk out of the numbers).
pub(crate) fn bench_tempdir() -> tempfile::TempDir {
    match std::env::var_os("BENCH_TMP") {
        Some(dir) => tempfile::tempdir_in(dir).unwrap(),
        None => tempfile::tempdir().unwrap(),
    }
}

pub(crate) fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The kubectl to compare with: `BENCH_KUBECTL`, else the test control
/// plane's (`.ci/k8s bindir`), else `kubectl` on PATH.
fn kubectl() -> PathBuf {
    if let Some(k) = std::env::var_os("BENCH_KUBECTL") {
        return k.into();
    }
    let out = Command::new(support::repo().join(".ci/k8s"))
        .arg("bindir")
        .stderr(Stdio::null())
        .output();
    if let Ok(out) = out {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && Path::new(&dir).join("kubectl").exists() {
            return Path::new(&dir).join("kubectl");
        }
    }
    "kubectl".into()
}

/// Benchmark (run by bench/reload.sh): the initial sync of 10,000 files /
/// ~100 MB against `tar c | kubectl exec -i POD -- tar x` through the same
/// double, in pairs (the order alternates), the median of the pair ratios.
#[test]
#[ignore]
fn bench_initial_sync_vs_kubectl_tar() {
    let n: usize = env_num("BENCH_FILES", 10_000);
    let mb: u64 = env_num("BENCH_MB", 100);
    let src = bench_tempdir();
    make_tree(src.path(), n, mb << 20);
    let (server, pod) = double_with_pod(&[]);
    let pods = bench_tempdir();
    {
        let mut st = server.state();
        st.exec_root = pods.path().to_path_buf();
    }
    let rt = client_runtime();
    let t = transport(&rt, &server, &pod);
    let kubeconfig = server.kubeconfig();
    println!();
    println!("through the API-server double on loopback:");
    initial_sync_pairs(src.path(), pods.path(), &t, &|| {
        let mut cmd = Command::new(kubectl());
        cmd.arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["exec", "-i", &pod, "-c", "app", "--"]);
        cmd
    });
}

/// Files (not directories) under `root`.
fn count_files(root: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

/// The initial sync of the tree at `src` against `tar c | KUBECTL tar x
/// -f - -C DEST` (`kubectl_exec` gives the command up to `--`), `BENCH_PAIRS`
/// pairs, the order alternating, each into a new directory under `pods`;
/// prints each pair and the medians.
pub(crate) fn initial_sync_pairs(
    src: &Path,
    pods: &Path,
    t: &dyn sync::Transport,
    kubectl_exec: &dyn Fn() -> Command,
) {
    let pairs: usize = env_num("BENCH_PAIRS", 5);
    let root = src.canonicalize().unwrap();
    let version = Command::new(kubectl_exec().get_program())
        .args(["version", "--client"])
        .output()
        .map(|o| last_line(&o.stdout))
        .unwrap_or_default();
    let n = count_files(&root);
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for round in 0..pairs {
        let run_ours = |dest: &Path| {
            let s = syncer(&root, dest, t);
            let start = Instant::now();
            let stats = sync::sync_once(&s, &mut |_| {}).unwrap();
            s.close().unwrap();
            let ms = millis(start.elapsed());
            assert_eq!(stats.files, n);
            (ms, stats.bytes)
        };
        let run_kubectl = |dest: &Path| {
            fs::create_dir_all(dest).unwrap();
            let start = Instant::now();
            let mut tar = Command::new("tar")
                .args(["c", "-C"])
                .arg(&root)
                .arg(".")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let st = kubectl_exec()
                .args(["tar", "x", "-f", "-", "-C"])
                .arg(dest)
                .stdin(tar.stdout.take().unwrap())
                .status()
                .unwrap();
            tar.wait().unwrap();
            assert!(st.success(), "kubectl exec failed: {st:?}");
            millis(start.elapsed())
        };
        let (a, b) = (
            pods.join(format!("ours{round}")),
            pods.join(format!("kubectl{round}")),
        );
        let (o, k) = if round % 2 == 0 {
            let o = run_ours(&a);
            (o, run_kubectl(&b))
        } else {
            let k = run_kubectl(&b);
            (run_ours(&a), k)
        };
        bytes = o.1;
        assert_eq!((count_files(&a), count_files(&b)), (n, n));
        println!(
            "pair {}: warpdrive {:.0} ms, kubectl tar {:.0} ms, ratio {:.2}",
            round + 1,
            o.0,
            k,
            o.0 / k
        );
        ours.push(o.0);
        theirs.push(k);
        ratios.push(o.0 / k);
        fs::remove_dir_all(&a).unwrap();
        fs::remove_dir_all(&b).unwrap();
    }
    println!("tree: {n} files (request {bytes} bytes); kubectl {version}");
    println!(
        "initial sync (one exec: list + transfer): median {:.0} ms",
        median(&ours)
    );
    println!(
        "tar c | kubectl exec -i -- tar x:        median {:.0} ms",
        median(&theirs)
    );
    println!(
        "ratio, median of {pairs} pair ratios:       {:.2}",
        median(&ratios)
    );
}

pub(crate) fn last_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Benchmark (run by bench/reload.sh): in `--watch` mode, edit one file of
/// a 10,000-file tree and time edit → new content in the pod; count the
/// exec sessions and bytes per sync.
#[test]
#[ignore]
fn bench_watch_one_file_edit() {
    let edits: usize = env_num("BENCH_EDITS", 30);
    let (server, _) = setup(1, &[]);
    let src = bench_tempdir();
    make_tree(src.path(), 10_000, 100 << 20);
    put(src.path(), "app/views.py", "VERSION = 0\n");
    let dest = server.exec_root().join("app-src");
    let mut cmd = reload_cmd(
        &server,
        &[
            "--source",
            src.path().to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
            "--watch",
        ],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut guard = support::spawn(&mut cmd);
    let rx = line_reader(guard.child().stdout.take().unwrap());
    let mut seen = Vec::new();
    let initial = wait_line(&rx, "synced", &mut seen);
    wait_line(&rx, "watching", &mut seen);
    let execs_before = execs(&server);
    let target = dest.join("app/views.py");
    let (mut ms, mut bytes) = (Vec::new(), Vec::new());
    for i in 1..=edits {
        let want = format!("VERSION = {i}  # edited\n");
        let start = Instant::now();
        fs::write(src.path().join("app/views.py"), &want).unwrap();
        while fs::read_to_string(&target).ok().as_deref() != Some(want.as_str()) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "edit {i} did not arrive"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        ms.push(millis(start.elapsed()));
        let line = wait_line(&rx, "synced", &mut seen);
        let b: u64 = line
            .split(", ")
            .find(|p| p.contains(" bytes in "))
            .and_then(|p| p.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        bytes.push(b);
        std::thread::sleep(Duration::from_millis(100));
    }
    let execs_after = execs(&server);
    guard.signal(libc::SIGINT);
    guard.wait_timeout(Duration::from_secs(10));
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!();
    println!("watch mode, one-file edit in a 10,000-file tree ({edits} edits)");
    println!("initial: {initial}");
    println!(
        "exec sessions: {execs_before} for the first sync, {} for the {edits} edits after it ({:.2} per sync)",
        execs_after - execs_before,
        (execs_after - execs_before) as f64 / edits as f64
    );
    println!(
        "bytes per sync: {} (min {}, max {})",
        median(&bytes.iter().map(|b| *b as f64).collect::<Vec<_>>()),
        bytes.iter().min().unwrap(),
        bytes.iter().max().unwrap()
    );
    println!(
        "edit -> written in pod: p50 {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms (debounce {} ms)",
        pct(0.5),
        pct(0.9),
        ms[0],
        ms[ms.len() - 1],
        sync::DEBOUNCE.as_millis()
    );
}

/// Benchmark (run by bench/reload.sh): how far apart the file events of
/// one editor save arrive, as the watch loop receives them: a safe write
/// (temp file, fsync, rename over, chmod) and a vim-style save (rename to a
/// backup, write anew, fsync, delete the backup), on `BENCH_TMP` and on a
/// disk directory. "span": first to last event. "open gap": the longest gap
/// with no file of the save open for writing, which is what the debounce
/// must cover (`sync::watch::Burst` waits for an open file's close).
#[test]
#[ignore]
fn bench_editor_save_event_gaps() {
    use notify::Watcher as _;
    use std::io::Write;
    use std::sync::mpsc;
    let saves: usize = env_num("BENCH_SAVES", 200);
    println!();
    println!("file events of one editor save, as the watch loop receives them:");
    let disk = tempfile::tempdir_in(support::repo().join("target")).unwrap();
    let shm = bench_tempdir();
    for (fs_name, dir) in [("BENCH_TMP", shm.path()), ("disk", disk.path())] {
        let (tx, rx) = mpsc::channel::<(Instant, notify::Event)>();
        let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(ev) = res {
                let _ = tx.send((Instant::now(), ev));
            }
        })
        .unwrap();
        w.watch(dir, notify::RecursiveMode::NonRecursive).unwrap();
        let file = dir.join("views.py");
        fs::write(&file, "x").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        while rx.try_recv().is_ok() {}
        let body = "def index():\n    return 'saved'\n".repeat(60);
        for pattern in ["safe write", "vim-style"] {
            let (mut spans, mut gaps) = (Vec::new(), Vec::new());
            for i in 0..saves {
                match pattern {
                    "safe write" => {
                        let tmp = dir.join(".views.py.tmp");
                        let mut f = fs::File::create(&tmp).unwrap();
                        f.write_all(body.as_bytes()).unwrap();
                        f.sync_all().unwrap();
                        drop(f);
                        fs::rename(&tmp, &file).unwrap();
                        support::set_mode(&file, 0o644);
                    }
                    _ => {
                        let backup = dir.join("views.py~");
                        fs::rename(&file, &backup).unwrap();
                        let mut f = fs::File::create(&file).unwrap();
                        f.write_all(body.as_bytes()).unwrap();
                        f.sync_all().unwrap();
                        drop(f);
                        fs::remove_file(&backup).unwrap();
                    }
                }
                let mark = dir.join(format!("mark{i}"));
                fs::write(&mark, "").unwrap();
                let mut times = Vec::new();
                let mut burst: Option<sync::watch::Burst> = None;
                let mut gap: f64 = 0.0;
                loop {
                    let (t, ev) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
                    if ev.paths.iter().any(|p| p == &mark) {
                        break;
                    }
                    if let (Some(b), Some(prev)) = (&burst, times.last()) {
                        if !b.writing() {
                            gap = gap.max(millis(t - *prev));
                        }
                    }
                    burst
                        .get_or_insert_with(|| sync::watch::Burst::new(t))
                        .add(&ev, t);
                    times.push(t);
                }
                gaps.push(gap);
                fs::remove_file(&mark).unwrap();
                std::thread::sleep(Duration::from_millis(20));
                while rx.try_recv().is_ok() {}
                if let (Some(a), Some(b)) = (times.first(), times.last()) {
                    spans.push(millis(*b - *a));
                }
            }
            let stats = |v: &mut Vec<f64>| {
                v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let pct = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
                format!(
                    "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    pct(0.5),
                    pct(0.99),
                    v[v.len() - 1]
                )
            };
            println!(
                "{pattern:>10} on {fs_name:<9} ({saves} saves): span {}; open gap {}",
                stats(&mut spans),
                stats(&mut gaps)
            );
        }
    }
}

#[test]
fn the_first_sync_of_a_large_tree_shows_a_progress_bar_on_a_terminal() {
    let (server, src) = setup(1, &[]);
    make_tree(src.path(), 400, 8 << 20);
    let dest = server.exec_root().join("app-src");
    let mut cmd = reload_cmd(
        &server,
        &[
            "--source",
            src.path().to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
        ],
    );
    cmd.env("TERM", "xterm").env_remove("NO_COLOR");
    let mut p = rexpect::session::spawn_with_options(
        cmd,
        rexpect::reader::Options::new()
            .timeout_ms(Some(60_000))
            .strip_ansi_escape_codes(true),
    )
    .expect("spawn in a pty");
    // files done of all, then bytes done of all
    let (_, bar) = p
        .exp_regex(r"\d+/403 files \[[=> ]+\] [\d.]+ [KMG]?i?B/[\d.]+ [KMG]i?B")
        .expect("a progress bar");
    assert!(bar.contains("/403 files"), "{bar}");
    p.exp_string("synced 403 files").expect("the sync line");
    // without a terminal: no bar
    reload_cmd(
        &server,
        &[
            "--source",
            src.path().to_str().unwrap(),
            "--dest",
            server.exec_root().join("other").to_str().unwrap(),
        ],
    )
    .run()
    .success()
    .stdout_has("synced 403 files")
    .stderr_lacks("files [");
}
