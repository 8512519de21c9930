//! `reload` against the real control plane: the rollout through the real
//! controllers, the sync through the real apiserver's exec into kwok, which
//! runs the pod-side commands on this machine (so the "pod's" files land in a
//! temp dir here).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::proxy::{self, Proxy};
use super::{container, deployment, Ns};
use crate::support::{Outcome, RunExt};

const V4: &str = "v4.channel.k8s.io";
const V5: &str = "v5.channel.k8s.io";

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write");
}

/// path → content ("dir" for directories, "link T" for symlinks).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
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
fn expected(src: &Path) -> BTreeMap<PathBuf, String> {
    let mut want = snapshot(src);
    want.retain(|p, _| {
        !p.components()
            .any(|c| c.as_os_str() == "__pycache__" || c.as_os_str() == ".git")
    });
    want
}

fn source(ns: &Ns) -> PathBuf {
    let src = ns.scratch("src");
    put(&src, "app.py", "def application(env, start):\n    pass\n");
    put(&src, "blog/__init__.py", "");
    put(&src, "blog/views.py", "VIEWS = 1\n");
    put(&src, "blog/ünï cödé.py", "x = 1\n");
    put(&src, "blog/__pycache__/views.cpython-311.pyc", "bytecode");
    std::os::unix::fs::symlink("app.py", src.join("alias.py")).expect("symlink");
    src
}

fn blog(ns: &Ns, replicas: i64) {
    ns.apply(&[deployment(
        "blog",
        replicas,
        json!([container("web", &[("OTHER", "x")])]),
    )]);
    ns.rolled_out("deploy/blog");
}

/// The one live pod of deploy/blog.
fn the_pod(ns: &Ns) -> String {
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
    let gen = ns.get("deploy/blog")["metadata"]["generation"]
        .as_i64()
        .unwrap_or_default();
    ns.run(&["reload", "deploy/blog", "--no-sync"])
        .success()
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
fn pin_exec(ns: &Ns, pod: &str, envs: &[(&str, &str)]) {
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
