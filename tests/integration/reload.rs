//! `reload` and its sync engine over the exec API of the double: the
//! double's exec itself (v5 and v4), the sync engine's transport, and a pod
//! replaced during `--watch` (kwok keeps a deleted pod's exec running). The
//! rest of `reload` is tested on the real control plane (`real::reload`).
//! The helpers here are shared with `sync_session` and `real::sync`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use warpdrive::sync::kube::KubeTransport;
use warpdrive::sync::{self, Excludes, Syncer, Transport};

use crate::apiserver::{container, exec, ApiServer};
use crate::support;

/// A double with deployment `blog` (one pod, container `app`).
pub(crate) fn double_with_pod(env: &[(&str, &str)]) -> (ApiServer, String) {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(20));
    server.add_deployment("blog", 1, json!([container("app", env)]));
    let pod = pod_name(&server);
    (server, pod)
}

pub(crate) fn pod_name(server: &ApiServer) -> String {
    let pods = server.pods("default", "app", "blog");
    assert_eq!(pods.len(), 1, "{pods:?}");
    pods[0]["metadata"]["name"].as_str().unwrap().to_string()
}

pub(crate) fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) fn transport<'rt>(
    rt: &'rt tokio::runtime::Runtime,
    server: &ApiServer,
    pod: &str,
) -> KubeTransport<'rt> {
    let client = rt.block_on(async {
        let config = kube::Config::new(server.url.parse().unwrap());
        kube::Client::try_from(config).unwrap()
    });
    KubeTransport::new(
        rt,
        kube::Api::<Pod>::namespaced(client, "default"),
        pod,
        "app",
    )
}

pub(crate) fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn exec_double_carries_stdin_stdout_stderr_and_exit_codes() {
    let (server, pod) = double_with_pod(&[("GREETING", "hello from the pod env")]);
    let rt = client_runtime();
    let t = transport(&rt, &server, &pod);
    // stdin is half-closed (v5 close frame), so `wc -c` sees its end
    let mut input: &[u8] = &[7u8; 300_000];
    let mut out = Vec::new();
    let st = t
        .exec(
            &argv(&["sh", "-c", "wc -c; echo oops >&2; exit 3"]),
            Some(&mut input),
            &mut out,
        )
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out).trim(), "300000");
    assert_eq!(st.code, 3);
    assert_eq!(st.stderr_line(), "oops");
    // the working directory is the pod's filesystem
    let mut out = Vec::new();
    let st = t.exec(&argv(&["pwd"]), None, &mut out).unwrap();
    assert_eq!(st.code, 0);
    assert_eq!(
        PathBuf::from(String::from_utf8_lossy(&out).trim())
            .canonicalize()
            .unwrap(),
        server.exec_root().canonicalize().unwrap()
    );
    // and the container's env is there
    let mut out = Vec::new();
    t.exec(
        &argv(&["sh", "-c", "printf %s \"$GREETING\""]),
        None,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, b"hello from the pod env");
    // a command that cannot start is an error Status, not an exit code
    let err = t
        .exec(&argv(&["/nonexistent/cmd"]), None, &mut Vec::new())
        .unwrap_err();
    assert!(err.contains("failed to exec"), "{err}");
    // an unknown pod or container is refused before the upgrade
    let mut other = transport(&rt, &server, "no-such-pod");
    let err = other
        .exec(&argv(&["true"]), None, &mut Vec::new())
        .unwrap_err();
    assert!(err.contains("no-such-pod"), "{err}");
    other.set_pod(&pod);
    other.container = "sidecar".into();
    let err = other
        .exec(&argv(&["true"]), None, &mut Vec::new())
        .unwrap_err();
    assert!(err.contains("sidecar") || err.contains("400"), "{err}");
    assert!(server.count("GET", &format!("/pods/{pod}/exec")) >= 5);
}

#[test]
fn exec_double_speaks_v4_when_v5_is_not_offered() {
    let (server, pod) = double_with_pod(&[]);
    server.exec_offer(exec::Offer::V4Only);
    let rt = client_runtime();
    let t = transport(&rt, &server, &pod);
    let mut out = Vec::new();
    let st = t
        .exec(&argv(&["sh", "-c", "echo v4; exit 5"]), None, &mut out)
        .unwrap();
    assert_eq!((st.code, String::from_utf8_lossy(&out).trim()), (5, "v4"));
    // a whole sync works on v4 too: the receiver never waits for the end of
    // stdin
    let src = tempfile::tempdir().unwrap();
    put(src.path(), "a/b.py", "B = 1\n");
    put(src.path(), "c.py", "C = 1\n");
    let root = src.path().canonicalize().unwrap();
    let dest = server.exec_root().join("v4");
    let syncer = Syncer::new(
        &root,
        dest.to_str().unwrap(),
        Excludes::new(&root, &[]).unwrap(),
        true,
        &t,
    )
    .unwrap();
    let stats = sync::sync_once(&syncer, &mut |_| {}).unwrap();
    assert_eq!(stats.files, 2);
    assert_eq!(snapshot(&root), snapshot(&dest));
}

pub(crate) fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// path → content (or "dir" / "link target") of a tree.
pub(crate) fn snapshot(root: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(dir) = stack.pop() {
        for de in fs::read_dir(root.join(&dir)).unwrap() {
            let rel = dir.join(de.unwrap().file_name());
            let full = root.join(&rel);
            let md = fs::symlink_metadata(&full).unwrap();
            let v = if md.is_dir() {
                stack.push(rel.clone());
                "dir".into()
            } else if md.file_type().is_symlink() {
                format!("link {}", fs::read_link(&full).unwrap().display())
            } else {
                String::from_utf8_lossy(&fs::read(&full).unwrap()).into_owned()
            };
            out.insert(rel, v);
        }
    }
    out
}

#[test]
fn sync_over_the_exec_websocket_makes_trees_equal() {
    let src = tempfile::tempdir().unwrap();
    put(src.path(), "app.py", "print(1)\n");
    put(src.path(), "pkg/ünï cödé.py", "x = 1\n");
    put(src.path(), "pkg/__pycache__/a.pyc", "bytecode");
    std::os::unix::fs::symlink("app.py", src.path().join("alias.py")).unwrap();
    let (server, pod) = double_with_pod(&[]);
    let rt = client_runtime();
    let t = transport(&rt, &server, &pod);
    let dest = server.exec_root().join("src");
    let root = src.path().canonicalize().unwrap();
    let syncer = Syncer::new(
        &root,
        dest.to_str().unwrap(),
        Excludes::new(&root, &[]).unwrap(),
        true,
        &t,
    )
    .unwrap();
    let stats = sync::sync_once(&syncer, &mut |_| {}).unwrap();
    assert_eq!(stats.files, 3, "{stats:?}");
    let mut want = snapshot(src.path());
    want.retain(|p, _| !p.starts_with("pkg/__pycache__"));
    assert_eq!(want, snapshot(&dest));
    fs::remove_file(src.path().join("app.py")).unwrap();
    let stats = sync::sync_once(&syncer, &mut |_| {}).unwrap();
    assert_eq!((stats.files, stats.deleted), (0, 1));
    assert!(!dest.join("app.py").exists());
}

/// Writes `n` files of ~`total / n` bytes (sizes vary ±50%) in 100 dirs.
pub(crate) fn make_tree(root: &Path, n: usize, total: u64) {
    let avg = total / n as u64;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..n {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let size = (avg / 2 + seed % avg.max(1)) as usize;
        let dir = root.join(format!("pkg{:02}/sub{}", i % 100, i % 7));
        fs::create_dir_all(&dir).unwrap();
        let byte = b'a' + (i % 26) as u8;
        fs::write(dir.join(format!("mod_{i}.py")), vec![byte; size]).unwrap();
    }
}

// ---------------------------------------------------------------------------
// The `reload` command, run as the real binary against the double.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Instant;

/// A double with `blog` at `replicas` and a source tree.
pub(crate) fn setup(replicas: i64, env: &[(&str, &str)]) -> (ApiServer, tempfile::TempDir) {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(20));
    server.add_deployment("blog", replicas, json!([container("app", env)]));
    let src = tempfile::tempdir().unwrap();
    put(src.path(), "app.py", "def application(e, s): pass\n");
    put(src.path(), "blog/views.py", "VIEWS = 1\n");
    put(
        src.path(),
        "blog/__pycache__/views.cpython-311.pyc",
        "bytecode",
    );
    put(src.path(), "static/ünï cödé.css", "body {}\n");
    (server, src)
}

pub(crate) fn expected_tree(src: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    let mut want = snapshot(src);
    want.retain(|p, _| {
        !p.components()
            .any(|c| c.as_os_str() == "__pycache__" || c.as_os_str() == ".git")
            && p.extension().is_none_or(|e| e != "pyc")
    });
    want
}

pub(crate) fn reload_cmd(server: &ApiServer, args: &[&str]) -> std::process::Command {
    let mut cmd = support::warpdrive();
    cmd.args(["reload", "deploy/blog"])
        .args(args)
        .arg("--kubeconfig")
        .arg(server.kubeconfig());
    cmd
}

/// Lines of a child's stdout, as they come.
pub(crate) fn line_reader(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub(crate) fn wait_line(rx: &mpsc::Receiver<String>, what: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + support::slack(Duration::from_secs(30));
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                seen.push(l.clone());
                if l.contains(what) {
                    return l;
                }
            }
            Err(_) => panic!("no line with {what:?}; got {seen:?}"),
        }
    }
}

pub(crate) fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < support::slack(Duration::from_secs(15)),
            "{what} did not arrive"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn watch_sends_edits_creates_and_deletes_until_ctrl_c() {
    let (server, src) = setup(2, &[]);
    put(src.path(), "node_modules/pkg/index.js", "ignored");
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
            "--exclude",
            "node_modules/",
        ],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut guard = support::spawn(&mut cmd);
    let rx = line_reader(guard.child().stdout.take().unwrap());
    let mut seen = Vec::new();
    let watching = wait_line(&rx, "watching", &mut seen);
    assert!(watching.contains("directories"), "{watching}");
    let s = src.path();
    put(s, "blog/views.py", "VIEWS = 'edited'\n");
    wait_until("edit", || {
        fs::read_to_string(dest.join("blog/views.py")).is_ok_and(|t| t.contains("edited"))
    });
    let line = wait_line(&rx, "synced", &mut seen);
    assert!(line.contains("bytes") && line.contains(" ms"), "{line}");
    put(s, "blog/new_module.py", "NEW = 1\n");
    wait_until("create", || dest.join("blog/new_module.py").exists());
    put(s, "newpkg/deep/mod.py", "DEEP = 1\n");
    wait_until("new directory", || dest.join("newpkg/deep/mod.py").exists());
    fs::remove_file(s.join("app.py")).unwrap();
    wait_until("delete", || !dest.join("app.py").exists());
    put(s, "node_modules/pkg/other.js", "ignored");
    put(s, "blog/__pycache__/x.cpython-311.pyc", "ignored");
    put(s, "last.py", "LAST = 1\n");
    wait_until("last", || dest.join("last.py").exists());
    assert!(!dest.join("node_modules").exists());
    let mut want = expected_tree(s);
    want.retain(|p, _| !p.starts_with("node_modules"));
    // (the last sync may still be removing its staging directory)
    wait_until("equal trees", || want == snapshot(&dest));
    // a rollout replaces the pod: the next sync fails, finds the new pod and
    // syncs into it
    let before = pod_name(&server);
    server
        .run(&["tune", "deploy/blog", "--threads", "3"])
        .success();
    let after = pod_name(&server);
    assert_ne!(before, after);
    put(s, "blog/views.py", "VIEWS = 'after the rollout'\n");
    let line = wait_line(&rx, "the pod was replaced", &mut seen);
    assert!(line.contains(&after), "{line}");
    wait_line(&rx, "(full compare)", &mut seen);
    wait_until("edit after the rollout", || {
        fs::read_to_string(dest.join("blog/views.py"))
            .is_ok_and(|t| t.contains("after the rollout"))
    });
    // Ctrl-C stops it cleanly
    guard.signal(libc::SIGINT);
    let status = guard
        .wait_timeout(Duration::from_secs(10))
        .expect("stopped");
    assert!(status.success(), "{status:?}");
    let stopped = wait_line(&rx, "stopped after", &mut seen);
    assert!(stopped.contains("syncs"), "{stopped}");
}
