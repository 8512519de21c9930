//! `reload` against the real control plane: the rollout through the real
//! controllers, the sync through the real apiserver's exec into kwok, which
//! runs the pod-side commands on this machine (so the "pod's" files land in a
//! temp dir here).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::proxy::{self, Proxy};
use super::{container, deployment, Ns};
use crate::support::{self, Checked, Outcome, RunExt};

const V4: &str = "v4.channel.k8s.io";
const V5: &str = "v5.channel.k8s.io";

pub(super) fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write");
}

/// path → content ("dir" for directories, "link T" for symlinks).
pub(super) fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for de in entries {
            let rel = dir.join(de.expect("entry").file_name());
            let full = root.join(&rel);
            let md = fs::symlink_metadata(&full).expect("stat");
            let v = if md.is_dir() {
                stack.push(rel.clone());
                "dir".into()
            } else if md.file_type().is_symlink() {
                format!("link {}", fs::read_link(&full).expect("readlink").display())
            } else {
                String::from_utf8_lossy(&fs::read(&full).expect("read")).into_owned()
            };
            out.insert(rel, v);
        }
    }
    out
}

/// The source tree minus what is never synced.
pub(super) fn expected(src: &Path) -> BTreeMap<PathBuf, String> {
    let mut want = snapshot(src);
    want.retain(|p, _| {
        !p.components()
            .any(|c| c.as_os_str() == "__pycache__" || c.as_os_str() == ".git")
    });
    want
}

pub(super) fn source(ns: &Ns) -> PathBuf {
    let src = ns.scratch("src");
    put(&src, "app.py", "def application(env, start):\n    pass\n");
    put(&src, "blog/__init__.py", "");
    put(&src, "blog/views.py", "VIEWS = 1\n");
    put(&src, "blog/ünï cödé.py", "x = 1\n");
    put(&src, "blog/__pycache__/views.cpython-311.pyc", "bytecode");
    std::os::unix::fs::symlink("app.py", src.join("alias.py")).expect("symlink");
    src
}

pub(super) fn blog(ns: &Ns, replicas: i64) {
    ns.apply(&[deployment(
        "blog",
        replicas,
        json!([container("web", &[("OTHER", "x")])]),
    )]);
    ns.rolled_out("deploy/blog");
}

/// The one live pod of deploy/blog.
pub(super) fn the_pod(ns: &Ns) -> String {
    let pods: Vec<String> = {
        let list = ns
            .kubectl(&["get", "pods", "-l", "app=blog", "-o", "json"])
            .success()
            .json();
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(pods.len(), 1, "{pods:?}");
    pods[0].clone()
}

#[test]
fn on_and_off_are_one_write_each_and_idempotent() {
    let Some(ns) = Ns::new("reload-on-off") else {
        return;
    };
    blog(&ns, 3);
    // A real HPA on it: reload warns (one replica is what live reloading needs).
    ns.apply(&[json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "blog-hpa"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "blog"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
        }
    })]);
    let gen = ns.get("deploy/blog")["metadata"]["generation"]
        .as_i64()
        .unwrap_or_default();
    ns.run(&["reload", "deploy/blog", "--no-sync"])
        .success()
        .stderr_has("HorizontalPodAutoscaler blog-hpa")
        .stdout_has("deployment/blog: replicas 3 → 1, MOD_WSGI_RELOAD_ON_CHANGES (unset) → 1 (one rollout); 3 replicas remembered in annotation warpdrive/reload-replicas")
        .stdout_has("--no-sync: no files copied");
    let obj = ns.get("deploy/blog");
    // One write: the generation moved by exactly one.
    assert_eq!(obj["metadata"]["generation"].as_i64(), Some(gen + 1));
    assert_eq!(obj["spec"]["replicas"], 1);
    assert_eq!(
        obj["metadata"]["annotations"]["warpdrive/reload-replicas"],
        "3"
    );
    assert_eq!(
        super::env_of(&obj, 0),
        ["OTHER=x", "MOD_WSGI_RELOAD_ON_CHANGES=1"]
    );
    // The rollout finished before it returned: kubectl agrees, one pod is left.
    ns.kubectl(&["rollout", "status", "deploy/blog", "--watch=false"])
        .success()
        .stdout_has("successfully rolled out");
    assert_eq!(obj["status"]["replicas"], 1, "{obj:#}");
    let rv = obj["metadata"]["resourceVersion"].clone();
    ns.run(&["reload", "deploy/blog", "--no-sync"])
        .success()
        .stdout_has("reload is already on for deployment/blog");
    assert_eq!(ns.get("deploy/blog")["metadata"]["resourceVersion"], rv);

    ns.run(&["reload", "deploy/blog", "off"])
        .success()
        .stdout_has("deployment/blog: MOD_WSGI_RELOAD_ON_CHANGES 1 → (unset), replicas 1 → 3 (restored), annotation warpdrive/reload-replicas removed")
        .stdout_has("deployment/blog: reload is off");
    let obj = ns.get("deploy/blog");
    assert_eq!(obj["metadata"]["generation"].as_i64(), Some(gen + 2));
    assert_eq!(obj["spec"]["replicas"], 3);
    assert_eq!(obj["status"]["readyReplicas"], 3, "{obj:#}");
    assert!(
        obj["metadata"]["annotations"]
            .get("warpdrive/reload-replicas")
            .is_none(),
        "{obj:#}"
    );
    assert_eq!(super::env_of(&obj, 0), ["OTHER=x"]);
    let rv = obj["metadata"]["resourceVersion"].clone();
    ns.run(&["reload", "deploy/blog", "off"])
        .success()
        .stdout_has("reload is already off for deployment/blog");
    assert_eq!(ns.get("deploy/blog")["metadata"]["resourceVersion"], rv);
}

/// `reload deploy/blog` through a proxy offering `protocols` (None: as kube
/// offers them), checking that every exec went over `want`.
fn reload_via(ns: &Ns, protocols: Option<&str>, want: &str, args: &[&str]) -> Outcome {
    let proxy = Proxy::start(
        ns.plane,
        proxy::Options {
            ws_protocols: protocols.map(str::to_string),
            ..Default::default()
        },
    );
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let out = ns
        .warpdrive()
        .args(["reload", "deploy/blog"])
        .args(args)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .run_within(Duration::from_secs(90))
        .success();
    let execs: Vec<proxy::Request> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.line().ends_with("/exec"))
        .collect();
    assert!(
        !execs.is_empty(),
        "no exec request went through the proxy: {:?}",
        proxy.requests()
    );
    for r in &execs {
        assert_eq!((r.status, r.ws_chosen.as_str()), (101, want), "{r:?}");
    }
    out
}

fn sync_edits_deletes_and_renames(protocols: Option<&str>, want: &str) {
    let Some(ns) = Ns::new(&format!("reload-sync-{}", &want[..2])) else {
        return;
    };
    blog(&ns, 2);
    let src = source(&ns);
    let dest = ns.scratch("pod-root").join("opt/app");
    let (s, d) = (src.to_str().expect("utf8"), dest.to_str().expect("utf8"));
    let out = reload_via(&ns, protocols, want, &["--source", s, "--dest", d]);
    let pod = the_pod(&ns);
    let out = out
        .stdout_has(&format!("syncing {s} to pod {pod}:{d} (--dest)"))
        .stdout_has("synced 5 files");
    drop(out);
    assert_eq!(expected(&src), snapshot(&dest));

    // An edit: only the changed file travels (mtimes have a 1 s grain).
    std::thread::sleep(Duration::from_millis(1100));
    put(&src, "blog/views.py", "VIEWS = 2  # edited\n");
    reload_via(&ns, protocols, want, &["--source", s, "--dest", d])
        .stdout_has("reload is already on")
        .stdout_has("synced 1 file,");
    assert_eq!(expected(&src), snapshot(&dest));

    // Deletes reach the pod only with --delete; a directory rename too.
    fs::remove_file(src.join("app.py")).expect("rm");
    reload_via(&ns, protocols, want, &["--source", s, "--dest", d]);
    assert!(dest.join("app.py").exists());
    fs::rename(src.join("blog"), src.join("journal")).expect("rename");
    reload_via(
        &ns,
        protocols,
        want,
        &["--source", s, "--dest", d, "--delete"],
    );
    assert_eq!(expected(&src), snapshot(&dest));
}

#[test]
fn sync_through_the_real_exec_over_v5() {
    sync_edits_deletes_and_renames(None, V5);
}

#[test]
fn sync_through_the_real_exec_over_v4() {
    sync_edits_deletes_and_renames(Some(V4), V4);
}

/// Gives `pod` its own kwok Exec (it wins over the shared ClusterExec): the
/// commands exec'd into it run with `envs` added to kwok's environment.
/// Waits until kwok uses it.
pub(super) fn pin_exec(ns: &Ns, pod: &str, envs: &[(&str, &str)]) {
    let envs: Vec<serde_json::Value> = envs
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    ns.apply(&[json!({
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Exec",
        "metadata": {"name": pod},
        "spec": {"execs": [{"local": {"envs": envs}}]},
    })]);
    ns.wait_until(
        "kwok to use the pod's Exec",
        Duration::from_secs(60),
        || {
            let out = ns.kubectl(&[
                "exec",
                pod,
                "--",
                "sh",
                "-c",
                "printf %s \"${WARPDRIVE_K8S_EXEC-}\"",
            ]);
            out.code() == Some(0) && out.stdout().is_empty()
        },
    );
}

#[test]
fn dest_defaults_to_the_containers_warpdrive_src_root() {
    let Some(ns) = Ns::new("reload-src-root") else {
        return;
    };
    blog(&ns, 1);
    ns.run(&["reload", "deploy/blog", "--no-sync"]).success();
    let pod = the_pod(&ns);
    let root = ns.scratch("pod-root").join("opt/app-root/src");
    pin_exec(
        &ns,
        &pod,
        &[("WARPDRIVE_SRC_ROOT", root.to_str().expect("utf8"))],
    );
    let src = source(&ns);
    ns.run(&[
        "reload",
        "deploy/blog",
        "--source",
        src.to_str().expect("utf8"),
    ])
    .success()
    .stdout_has(&format!(
        "to pod {pod}:{} (WARPDRIVE_SRC_ROOT of the container)",
        root.display()
    ));
    assert_eq!(expected(&src), snapshot(&root));
}

#[test]
fn sync_into_a_busybox_userland_over_v5_and_v4() {
    let Some(ns) = Ns::new("reload-busybox") else {
        return;
    };
    let busybox = Path::new("/usr/bin/busybox");
    assert!(busybox.exists(), "no /usr/bin/busybox: run .ci/setup");
    blog(&ns, 1);
    ns.run(&["reload", "deploy/blog", "--no-sync"]).success();
    let pod = the_pod(&ns);
    // A PATH of busybox applets only, as in an Alpine image: find without
    // -printf, busybox tar, stat, mv, xargs.
    let bin = ns.scratch("busybox-bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let list = std::process::Command::new(busybox)
        .arg("--list")
        .run()
        .success();
    for applet in list.stdout().lines().filter(|a| !a.is_empty()) {
        std::os::unix::fs::symlink(busybox, bin.join(applet)).expect("symlink");
    }
    pin_exec(&ns, &pod, &[("PATH", bin.to_str().expect("utf8"))]);
    ns.kubectl(&[
        "exec",
        &pod,
        "--",
        "sh",
        "-c",
        "tar --help 2>&1 | head -n 1",
    ])
    .success()
    .stdout_has("BusyBox");
    let src = source(&ns);
    for (protocols, want) in [(None, V5), (Some(V4), V4)] {
        let dest = ns.scratch("pod-root").join("app");
        let (s, d) = (src.to_str().expect("utf8"), dest.to_str().expect("utf8"));
        reload_via(&ns, protocols, want, &["--source", s, "--dest", d])
            .stdout_has("synced 5 files");
        assert_eq!(expected(&src), snapshot(&dest), "over {want}");
        std::thread::sleep(Duration::from_millis(1100));
        put(&src, "blog/views.py", &format!("VIEWS = {want:?}\n"));
        fs::remove_file(src.join("blog/__init__.py")).expect("rm");
        // busybox's manifest (stat) has no symlink targets: alias.py travels again.
        reload_via(
            &ns,
            protocols,
            want,
            &["--source", s, "--dest", d, "--delete"],
        )
        .stdout_has("synced 2 files, deleted 1,");
        assert_eq!(expected(&src), snapshot(&dest), "over {want}");
        put(&src, "blog/__init__.py", "");
    }
}

#[test]
fn bad_input_changes_nothing() {
    let Some(ns) = Ns::new("reload-bad-input") else {
        return;
    };
    blog(&ns, 2);
    let src = source(&ns);
    let s = src.to_str().expect("utf8");
    let gen = ns.get("deploy/blog")["metadata"]["generation"].clone();
    for args in [
        vec![
            "reload",
            "deploy/blog",
            "--source",
            s,
            "--dest",
            "relative/path",
        ],
        vec!["reload", "deploy/blog", "off", "--watch"],
        vec!["reload", "deploy/blog", "--source", "/nonexistent/dir"],
        vec!["reload", "deploy/blog", "--source", s, "--exclude", "[z-a]"],
        vec!["reload", "deploy/blog", "--timeout", "soon"],
        vec!["reload", "deploy/blog", "-c", "sidecar", "--no-sync"],
        vec!["reload", "deploy/nope", "--no-sync"],
    ] {
        ns.run(&args).bad_input();
    }
    let obj = ns.get("deploy/blog");
    assert_eq!(obj["metadata"]["generation"], gen);
    assert_eq!(obj["spec"]["replicas"], 2);
}

#[test]
fn escaping_symlinks_are_not_synced_and_nothing_lands_outside_dest() {
    let Some(ns) = Ns::new("reload-symlinks") else {
        return;
    };
    blog(&ns, 1);
    let src = source(&ns);
    let outside = ns.scratch("outside");
    fs::create_dir_all(&outside).expect("mkdir");
    std::os::unix::fs::symlink(&outside, src.join("escape")).expect("symlink");
    std::os::unix::fs::symlink("../../../etc/passwd", src.join("blog/pw")).expect("symlink");
    let dest = ns.scratch("pod-root").join("app");
    let (s, d) = (src.to_str().expect("utf8"), dest.to_str().expect("utf8"));
    let out = ns
        .run(&["reload", "deploy/blog", "--source", s, "--dest", d])
        .success();
    assert!(
        out.stderr().contains("escape") && out.stderr().contains("points outside"),
        "{}",
        out.stderr()
    );
    assert!(fs::symlink_metadata(dest.join("escape")).is_err());
    assert!(fs::symlink_metadata(dest.join("blog/pw")).is_err());
    assert_eq!(
        fs::read_link(dest.join("alias.py")).expect("link"),
        Path::new("app.py")
    );
    // A symlinked directory planted in the pod is not written through.
    fs::remove_dir_all(dest.join("blog")).expect("rm");
    std::os::unix::fs::symlink(&outside, dest.join("blog")).expect("symlink");
    ns.run(&["reload", "deploy/blog", "--source", s, "--dest", d])
        .failure()
        .stderr_has("refusing to write through the symlink");
    assert_eq!(fs::read_dir(&outside).expect("ls").count(), 0);
}

/// Writes `n` files of about `total / n` bytes in 100 directories.
fn make_tree(root: &Path, n: usize, total: u64) {
    let avg = total / n as u64;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..n {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let size = (avg / 2 + seed % avg.max(1)) as usize;
        let dir = root.join(format!("pkg{:02}/sub{}", i % 100, i % 7));
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(
            dir.join(format!("mod_{i}.py")),
            vec![b'a' + (i % 26) as u8; size],
        )
        .expect("write");
    }
}

#[test]
fn a_tree_of_10000_files_and_then_nothing_to_send() {
    let Some(ns) = Ns::new("reload-10000") else {
        return;
    };
    blog(&ns, 1);
    let src = ns.scratch("src");
    make_tree(&src, 10_000, 20 << 20);
    let dest = ns.scratch("pod-root").join("app");
    let (s, d) = (src.to_str().expect("utf8"), dest.to_str().expect("utf8"));
    ns.run(&["reload", "deploy/blog", "--source", s, "--dest", d])
        .success()
        .stdout_has("synced 10000 files");
    assert_eq!(expected(&src), snapshot(&dest));
    ns.run(&["reload", "deploy/blog", "--source", s, "--dest", d])
        .success()
        .stdout_has("synced 0 files");
}

/// A sparse file of `mb` MiB with a marker in each MiB.
fn big_file(path: &Path, mb: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = fs::File::create(path).expect("create");
    f.set_len(mb << 20).expect("set_len");
    for i in 0..mb {
        f.seek(SeekFrom::Start(i << 20)).expect("seek");
        f.write_all(format!("block {i} of {mb}").as_bytes())
            .expect("write");
    }
}

/// Files equal, compared in chunks.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (Ok(mut fa), Ok(mut fb)) = (fs::File::open(a), fs::File::open(b)) else {
        return false;
    };
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = fa.read(&mut ba).expect("read");
        let mut nb = 0;
        while nb < na {
            let n = fb.read(&mut bb[nb..na]).expect("read");
            if n == 0 {
                return false;
            }
            nb += n;
        }
        if na == 0 {
            return fb.read(&mut bb).expect("read") == 0;
        }
        if ba[..na] != bb[..na] {
            return false;
        }
    }
}

#[test]
fn a_200_mb_file_streams_through_the_real_apiserver_with_small_peak_memory() {
    let Some(ns) = Ns::new("reload-200mb") else {
        return;
    };
    blog(&ns, 1);
    let src = ns.scratch("src");
    fs::create_dir_all(&src).expect("mkdir");
    big_file(&src.join("data.bin"), 210);
    let dest = ns.scratch("pod-root").join("app");
    let mut cmd = ns.warpdrive();
    cmd.args(["reload", "deploy/blog", "--source"])
        .arg(&src)
        .arg("--dest")
        .arg(&dest)
        .args(["-n", &ns.name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = support::spawn(&mut cmd);
    let pid = guard.pid();
    let mut hwm = 0u64;
    let start = Instant::now();
    while !matches!(guard.child().try_wait(), Ok(Some(_))) {
        if let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                hwm = hwm.max(kb);
            }
        }
        assert!(
            start.elapsed() < support::slack(Duration::from_secs(300)),
            "timed out"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    guard
        .into_child()
        .wait_with_output()
        .expect("wait")
        .check()
        .success();
    assert!(same_file(&src.join("data.bin"), &dest.join("data.bin")));
    assert!(
        hwm < 64 * 1024,
        "peak RSS {hwm} kB: the file was not streamed"
    );
}

#[test]
fn a_killed_client_leaves_nothing_behind_in_the_pod() {
    let Some(ns) = Ns::new("reload-killed") else {
        return;
    };
    blog(&ns, 1);
    ns.run(&["reload", "deploy/blog", "--no-sync"]).success();
    let src = ns.scratch("src");
    fs::create_dir_all(&src).expect("mkdir");
    big_file(&src.join("data.bin"), 400);
    let dest = ns.scratch("pod-root").join("app");
    let mut cmd = ns.warpdrive();
    cmd.args(["reload", "deploy/blog", "--source"])
        .arg(&src)
        .arg("--dest")
        .arg(&dest)
        .args(["-n", &ns.name])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut guard = support::spawn(&mut cmd);
    // Wait until part of the file is staged in the "pod", then kill the client.
    let staged_part = || -> Option<u64> {
        let staging = fs::read_dir(&dest).ok()?.filter_map(|e| e.ok()).find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".warpdrive-staging.")
        })?;
        let mut stack = vec![staging.path()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).ok()?.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.file_name().is_some_and(|n| n == "data.bin") {
                    return fs::metadata(&p).ok().map(|m| m.len()).filter(|n| *n > 0);
                }
            }
        }
        None
    };
    super::wait_until(
        "part of data.bin in the staging dir",
        Duration::from_secs(120),
        || staged_part().is_some(),
    );
    unsafe {
        libc::kill(guard.pid() as i32, libc::SIGKILL);
    }
    guard.wait_timeout(Duration::from_secs(10));
    // The apiserver closes the stream, kwok ends the command's stdin, the pod
    // side sees a cut stream and removes its staging dir.
    super::wait_until("the pod side to clean up", Duration::from_secs(60), || {
        fs::read_dir(&dest)
            .map(|rd| rd.count() == 0)
            .unwrap_or(true)
    });
    assert!(!dest.join("data.bin").exists());
}

/// Lines of a child's stdout, as they come.
pub(super) fn line_reader(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
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

pub(super) fn wait_line(rx: &mpsc::Receiver<String>, what: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + support::slack(Duration::from_secs(60));
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
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

#[test]
fn watch_sends_edits_creates_and_deletes_until_ctrl_c() {
    let Some(ns) = Ns::new("reload-watch") else {
        return;
    };
    blog(&ns, 2);
    let src = source(&ns);
    put(&src, "node_modules/pkg/index.js", "ignored");
    let dest = ns.scratch("pod-root").join("app");
    let mut cmd = ns.warpdrive();
    cmd.args(["reload", "deploy/blog", "--source"])
        .arg(&src)
        .arg("--dest")
        .arg(&dest)
        .args([
            "--watch",
            "--delete",
            "--exclude",
            "node_modules/",
            "-n",
            &ns.name,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = support::spawn(&mut cmd);
    let rx = line_reader(guard.child().stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    wait_line(&rx, "watching", &mut seen);
    let until = |what: &str, cond: &dyn Fn() -> bool| {
        super::wait_until(what, Duration::from_secs(60), cond)
    };
    put(&src, "blog/views.py", "VIEWS = 'edited'\n");
    until("the edit", &|| {
        fs::read_to_string(dest.join("blog/views.py")).is_ok_and(|t| t.contains("edited"))
    });
    put(&src, "newpkg/deep/mod.py", "DEEP = 1\n");
    until("a new directory", &|| {
        dest.join("newpkg/deep/mod.py").exists()
    });
    fs::remove_file(src.join("app.py")).expect("rm");
    until("the delete", &|| !dest.join("app.py").exists());
    put(&src, "node_modules/pkg/other.js", "ignored");
    put(&src, "last.py", "LAST = 1\n");
    until("the last file", &|| dest.join("last.py").exists());
    let mut want = expected(&src);
    want.retain(|p, _| !p.starts_with("node_modules"));
    until("equal trees", &|| want == snapshot(&dest));
    guard.signal(libc::SIGINT);
    let status = guard
        .wait_timeout(Duration::from_secs(30))
        .expect("stopped");
    assert!(status.success(), "{status:?}");
    wait_line(&rx, "stopped after", &mut seen);
}
