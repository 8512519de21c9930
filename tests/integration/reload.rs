//! `reload` and its sync engine over the exec API of the double.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::Router;
use k8s_openapi::api::core::v1::Pod;
use warpdrive::sync::kube::KubeTransport;
use warpdrive::sync::{self, Excludes, Syncer, Transport};

#[path = "apiserver/exec.rs"]
mod exec;

/// A server with only the exec route, on its own runtime thread.
struct ExecServer {
    addr: SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

fn exec_server(cwd: &Path, offer: exec::Offer) -> ExecServer {
    let state = Arc::new((cwd.to_path_buf(), offer));
    let app = Router::new()
        .route(
            "/api/v1/namespaces/{ns}/pods/{pod}/exec",
            get(
                |State(st): State<Arc<(PathBuf, exec::Offer)>>,
                 RawQuery(q): RawQuery,
                 ws: WebSocketUpgrade| async move {
                    exec::upgrade(
                        ws,
                        exec::ExecQuery::parse(&q.unwrap_or_default()),
                        st.0.clone(),
                        st.1,
                    )
                },
            ),
        )
        .with_state(state);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
    });
    ExecServer {
        addr,
        _shutdown: tx,
    }
}

fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn transport<'rt>(rt: &'rt tokio::runtime::Runtime, addr: SocketAddr) -> KubeTransport<'rt> {
    let client = rt.block_on(async {
        let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
        kube::Client::try_from(config).unwrap()
    });
    KubeTransport {
        runtime: rt,
        pods: kube::Api::<Pod>::namespaced(client, "default"),
        pod: "app-1".into(),
        container: "app".into(),
    }
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn exec_double_carries_stdin_stdout_stderr_and_exit_codes() {
    let pod = tempfile::tempdir().unwrap();
    let server = exec_server(pod.path(), exec::Offer::V5AndV4);
    let rt = client_runtime();
    let t = transport(&rt, server.addr);
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
        pod.path().canonicalize().unwrap()
    );
    // a command that cannot start is an error Status, not an exit code
    let err = t
        .exec(&argv(&["/nonexistent/cmd"]), None, &mut Vec::new())
        .unwrap_err();
    assert!(err.contains("failed to exec"), "{err}");
}

#[test]
fn exec_double_speaks_v4_when_v5_is_not_offered() {
    let pod = tempfile::tempdir().unwrap();
    let server = exec_server(pod.path(), exec::Offer::V4Only);
    let rt = client_runtime();
    let t = transport(&rt, server.addr);
    let mut out = Vec::new();
    let st = t
        .exec(&argv(&["sh", "-c", "echo v4; exit 5"]), None, &mut out)
        .unwrap();
    assert_eq!((st.code, String::from_utf8_lossy(&out).trim()), (5, "v4"));
}

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// path → content (or "dir" / "link target") of a tree.
fn snapshot(root: &Path) -> std::collections::BTreeMap<PathBuf, String> {
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
    let pod = tempfile::tempdir().unwrap();
    put(src.path(), "app.py", "print(1)\n");
    put(src.path(), "pkg/ünï cödé.py", "x = 1\n");
    put(src.path(), "pkg/__pycache__/a.pyc", "bytecode");
    std::os::unix::fs::symlink("app.py", src.path().join("alias.py")).unwrap();
    let server = exec_server(pod.path(), exec::Offer::V5AndV4);
    let rt = client_runtime();
    let t = transport(&rt, server.addr);
    let dest = pod.path().join("src");
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
    assert_eq!(stats.files, 4, "{stats:?}");
    let mut want = snapshot(src.path());
    want.retain(|p, _| !p.starts_with("pkg/__pycache__"));
    assert_eq!(want, snapshot(&dest));
    fs::remove_file(src.path().join("app.py")).unwrap();
    let stats = sync::sync_once(&syncer, &mut |_| {}).unwrap();
    assert_eq!((stats.files, stats.deleted), (0, 1));
    assert!(!dest.join("app.py").exists());
}

/// Writes `n` files of ~`total / n` bytes (sizes vary ±50%) in 100 dirs.
fn make_tree(root: &Path, n: usize, total: u64) {
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

/// Where benchmark trees live (`BENCH_TMP`, e.g. /dev/shm, keeps the disk out of the numbers).
fn bench_tempdir() -> tempfile::TempDir {
    match std::env::var_os("BENCH_TMP") {
        Some(dir) => tempfile::tempdir_in(dir).unwrap(),
        None => tempfile::tempdir().unwrap(),
    }
}

fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Benchmark (run by bench/reload.sh): initial sync of 10,000 files /
/// ~100 MB against a plain `tar c | tar x` through the same exec channel.
#[test]
#[ignore]
fn bench_initial_sync_vs_tar_pipe() {
    use std::process::{Command, Stdio};
    use std::time::Instant;
    let n: usize = std::env::var("BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mb: u64 = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let src = bench_tempdir();
    make_tree(src.path(), n, mb << 20);
    let pod = bench_tempdir();
    let server = exec_server(pod.path(), exec::Offer::V5AndV4);
    let rt = client_runtime();
    let t = transport(&rt, server.addr);
    let root = src.path().canonicalize().unwrap();
    let rounds = 3;
    let (mut sync_ms, mut tar_ms, mut bytes) = (Vec::new(), Vec::new(), 0);
    for round in 0..rounds {
        let dest = pod.path().join(format!("sync{round}"));
        let syncer = Syncer::new(
            &root,
            dest.to_str().unwrap(),
            Excludes::new(&root, &[]).unwrap(),
            false,
            &t,
        )
        .unwrap();
        let start = Instant::now();
        let stats = sync::sync_once(&syncer, &mut |_| {}).unwrap();
        sync_ms.push(millis(start.elapsed()));
        bytes = stats.bytes;
        assert_eq!(stats.files, n + 100 + 700);

        let dest = pod.path().join(format!("tar{round}"));
        fs::create_dir_all(&dest).unwrap();
        let start = Instant::now();
        let mut tar = Command::new("tar")
            .args(["c", "-C"])
            .arg(&root)
            .arg(".")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = tar.stdout.take().unwrap();
        let st = t
            .exec(
                &argv(&["tar", "x", "-f", "-", "-C", dest.to_str().unwrap()]),
                Some(&mut out),
                &mut Vec::new(),
            )
            .unwrap();
        tar.wait().unwrap();
        tar_ms.push(millis(start.elapsed()));
        assert_eq!(st.code, 0, "{}", st.stderr_line());
    }
    // a second sync of an unchanged tree: only the manifest travels
    let dest = pod.path().join("sync0");
    let syncer = Syncer::new(
        &root,
        dest.to_str().unwrap(),
        Excludes::new(&root, &[]).unwrap(),
        false,
        &t,
    )
    .unwrap();
    let start = Instant::now();
    let again = sync::sync_once(&syncer, &mut |_| {}).unwrap();
    let noop_ms = millis(start.elapsed());
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let (s, tp) = (med(&mut sync_ms), med(&mut tar_ms));
    println!("tree: {n} files, {mb} MB (tar stream {bytes} bytes)");
    println!("initial sync (manifest + staged tar): {s:.0} ms (median of {rounds})");
    println!("plain tar c | exec tar x:            {tp:.0} ms (median of {rounds})");
    println!("ratio sync / tar pipe:               {:.2}", s / tp);
    println!(
        "re-sync, nothing changed:            {noop_ms:.0} ms, {} files sent",
        again.files
    );
}
