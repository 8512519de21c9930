//! The sync session against the real control plane: one exec per
//! `--watch`, into a busybox userland, over `v5.channel.k8s.io` and
//! `v4.channel.k8s.io` (kwok runs the receiver on this machine); and the
//! benchmarks of bench/reload.sh through the real apiserver.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use warpdrive::sync::kube::KubeTransport;

use super::proxy::{self, Proxy};
use super::reload::{
    blog, expected, line_reader, pin_exec, put, snapshot, source, the_pod, wait_line,
};
use super::Ns;
use crate::support::{self, RunExt};
use crate::sync_session::{bench_tempdir, env_num, initial_sync_pairs, median, millis};

const V4: &str = "v4.channel.k8s.io";
const V5: &str = "v5.channel.k8s.io";

/// deploy/blog with reload on, and its pod's commands run with a PATH of
/// busybox applets only (as in an Alpine image). Returns the pod.
fn busybox_blog(ns: &Ns) -> String {
    let busybox = Path::new("/usr/bin/busybox");
    assert!(busybox.exists(), "no /usr/bin/busybox: run .ci/setup");
    blog(ns, 1);
    ns.run(&["reload", "deploy/blog", "--no-sync"]).success();
    let pod = the_pod(ns);
    let bin = ns.scratch("busybox-bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let list = Command::new(busybox).arg("--list").run().success();
    for applet in list.stdout().lines().filter(|a| !a.is_empty()) {
        std::os::unix::fs::symlink(busybox, bin.join(applet)).expect("symlink");
    }
    pin_exec(ns, &pod, &[("PATH", bin.to_str().expect("utf8"))]);
    pod
}

/// The exec requests that went through `proxy`.
fn execs(proxy: &Proxy) -> Vec<proxy::Request> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.line().ends_with("/exec"))
        .collect()
}

#[test]
fn watch_is_one_exec_into_a_busybox_pod_over_v5_and_v4() {
    let Some(ns) = Ns::new("sync-watch-busybox") else {
        return;
    };
    busybox_blog(&ns);
    let src = source(&ns);
    for (protocols, want) in [(None, V5), (Some(V4), V4)] {
        let proxy = Proxy::start(
            ns.plane,
            proxy::Options {
                ws_protocols: protocols.map(str::to_string),
                ..Default::default()
            },
        );
        let dest = ns.scratch("pod-root").join("app");
        let mut cmd = ns.warpdrive();
        cmd.args(["reload", "deploy/blog", "--source"])
            .arg(&src)
            .arg("--dest")
            .arg(&dest)
            .args(["--watch", "--delete", "--kubeconfig"])
            .arg(ns.proxy_kubeconfig(&proxy))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut guard = support::spawn(&mut cmd);
        let rx = line_reader(guard.child().stdout.take().expect("stdout"));
        let mut seen = Vec::new();
        wait_line(&rx, "synced 5 files", &mut seen);
        wait_line(&rx, "watching", &mut seen);
        let until = |what: &str, cond: &dyn Fn() -> bool| {
            super::wait_until(what, Duration::from_secs(60), cond)
        };
        for i in 0..4 {
            let text = format!("VIEWS = {i}  # over {want}\n");
            put(&src, "blog/views.py", &text);
            until("the edit", &|| {
                fs::read_to_string(dest.join("blog/views.py")).is_ok_and(|t| t == text)
            });
            wait_line(&rx, "synced 1 file,", &mut seen);
        }
        put(&src, "blog/new/mod.py", "NEW = 1\n");
        until("a new directory", &|| dest.join("blog/new/mod.py").exists());
        fs::remove_file(src.join("blog/new/mod.py")).expect("rm");
        fs::remove_dir(src.join("blog/new")).expect("rmdir");
        until("the delete", &|| !dest.join("blog/new").exists());
        until("equal trees", &|| expected(&src) == snapshot(&dest));
        let all = execs(&proxy);
        assert_eq!(all.len(), 1, "one exec for the whole --watch: {all:?}");
        assert_eq!((all[0].status, all[0].ws_chosen.as_str()), (101, want));
        guard.signal(libc::SIGINT);
        let status = guard
            .wait_timeout(Duration::from_secs(30))
            .expect("stopped");
        assert!(status.success(), "{status:?}");
        wait_line(&rx, "stopped after", &mut seen);
        let left: Vec<PathBuf> = fs::read_dir(&dest)
            .expect("dest")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().contains(".warpdrive-staging"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

/// A client of the real apiserver (admin), on `rt`.
fn transport<'rt>(rt: &'rt tokio::runtime::Runtime, ns: &Ns, pod: &str) -> KubeTransport<'rt> {
    let client = rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&ns.plane.kubeconfig).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("config");
        kube::Client::try_from(config).expect("client")
    });
    KubeTransport::new(
        rt,
        kube::Api::<Pod>::namespaced(client, &ns.name),
        pod,
        "web",
    )
}

/// Benchmark (run by bench/reload.sh): the initial sync of 10,000 files /
/// ~100 MB through the real apiserver and kwok, against `tar c | kubectl
/// exec -i POD -- tar x`, in pairs.
#[test]
#[ignore]
fn bench_real_initial_sync_vs_kubectl_tar() {
    let Some(ns) = Ns::new("bench-sync-initial") else {
        return;
    };
    let n: usize = env_num("BENCH_FILES", 10_000);
    let mb: u64 = env_num("BENCH_MB", 100);
    blog(&ns, 1);
    let pod = the_pod(&ns);
    let src = bench_tempdir();
    crate::reload::make_tree(src.path(), n, mb << 20);
    let pods = bench_tempdir();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = transport(&rt, &ns, &pod);
    println!();
    println!("through the real control plane (kube-apiserver v1.35, kwok):");
    initial_sync_pairs(src.path(), pods.path(), &t, &|| {
        let mut cmd = ns.kubectl_cmd();
        cmd.args(["exec", "-i", &pod, "-c", "web", "--"]);
        cmd
    });
}

/// Benchmark (run by bench/reload.sh): `--watch` through the real
/// apiserver (and a counting proxy): one-file edits in a 10,000-file tree,
/// edit → new content in the pod, exec sessions and bytes per sync.
#[test]
#[ignore]
fn bench_real_watch_one_file_edit() {
    let Some(ns) = Ns::new("bench-sync-watch") else {
        return;
    };
    let edits: usize = env_num("BENCH_EDITS", 30);
    blog(&ns, 1);
    ns.run(&["reload", "deploy/blog", "--no-sync"]).success();
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let src = bench_tempdir();
    crate::reload::make_tree(src.path(), 10_000, 100 << 20);
    put(src.path(), "app/views.py", "VERSION = 0\n");
    let pods = bench_tempdir();
    let dest = pods.path().join("app-src");
    let mut cmd = ns.warpdrive();
    cmd.args(["reload", "deploy/blog", "--source"])
        .arg(src.path())
        .arg("--dest")
        .arg(&dest)
        .args(["--watch", "--kubeconfig"])
        .arg(ns.proxy_kubeconfig(&proxy))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut guard = support::spawn(&mut cmd);
    let rx = line_reader(guard.child().stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    let initial = wait_line(&rx, "synced", &mut seen);
    wait_line(&rx, "watching", &mut seen);
    let before = execs(&proxy).len();
    let target = dest.join("app/views.py");
    let (mut ms, mut bytes) = (Vec::new(), Vec::new());
    for i in 1..=edits {
        let want = format!("VERSION = {i}  # edited\n");
        let start = Instant::now();
        fs::write(src.path().join("app/views.py"), &want).expect("write");
        while fs::read_to_string(&target).ok().as_deref() != Some(want.as_str()) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "edit {i} did not arrive"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        ms.push(millis(start.elapsed()));
        let line = wait_line(&rx, "synced", &mut seen);
        let b: f64 = line
            .split(", ")
            .find(|p| p.contains(" bytes in "))
            .and_then(|p| p.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        bytes.push(b);
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = execs(&proxy).len();
    guard.signal(libc::SIGINT);
    guard.wait_timeout(Duration::from_secs(30));
    ms.sort_by(|a, b| a.partial_cmp(b).expect("number"));
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!();
    println!("through the real control plane, --watch, one-file edits in a 10,000-file tree ({edits} edits)");
    println!("initial: {initial}");
    println!(
        "exec sessions: {before} for the first sync, {} for the {edits} edits after it ({:.2} per sync)",
        after - before,
        (after - before) as f64 / edits as f64
    );
    println!("bytes per sync: {}", median(&bytes));
    println!(
        "edit -> written in pod: p50 {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms (debounce {} ms)",
        pct(0.5),
        pct(0.9),
        ms[0],
        ms[ms.len() - 1],
        warpdrive::sync::DEBOUNCE.as_millis()
    );
}
