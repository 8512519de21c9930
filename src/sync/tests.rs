//! The engine against a local "container": the pod-side scripts run as local
//! processes on a temp directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use super::*;

/// A comparable picture of a tree: path → (kind, content or target, exec bit).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(dir) = stack.pop() {
        for de in fs::read_dir(root.join(&dir)).unwrap() {
            let de = de.unwrap();
            let rel = dir.join(de.file_name());
            let md = fs::symlink_metadata(root.join(&rel)).unwrap();
            let v = if md.is_dir() {
                stack.push(rel.clone());
                "dir".to_string()
            } else if md.file_type().is_symlink() {
                format!("link {}", fs::read_link(root.join(&rel)).unwrap().display())
            } else {
                let data = fs::read(root.join(&rel)).unwrap();
                format!(
                    "file {:o} {}",
                    md.permissions().mode() & 0o111,
                    String::from_utf8_lossy(&data)
                )
            };
            out.insert(rel, v);
        }
    }
    out
}

/// The local snapshot minus what is excluded by default.
fn expected(root: &Path) -> BTreeMap<PathBuf, String> {
    let ex = Excludes::new(&root.canonicalize().unwrap(), &[]).unwrap();
    snapshot(root)
        .into_iter()
        .filter(|(p, v)| !ex.is_excluded(p, v == "dir"))
        .collect()
}

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn sample(root: &Path) {
    put(root, "app.py", "print('hi')\n");
    put(root, "pkg/__init__.py", "");
    put(root, "pkg/views.py", "def index(): pass\n");
    put(root, "with space/ünïcödé ✓.txt", "unicode\n");
    put(root, ".hidden", "dot\n");
    put(root, "..dotdot", "two dots\n");
    put(root, "deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/a-rather-long-file-name-that-goes-past-one-hundred-bytes-in-total.py", "long\n");
    put(root, ".git/config", "git\n");
    put(root, "pkg/__pycache__/views.cpython-311.pyc", "bytecode");
    put(root, "stale.pyc", "bytecode");
    fs::create_dir_all(root.join("empty")).unwrap();
    symlink("pkg/views.py", root.join("link-inside")).unwrap();
    put(root, "run.sh", "#!/bin/sh\n");
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
}

struct Env {
    src: tempfile::TempDir,
    pod: tempfile::TempDir,
    transport: LocalTransport,
}

impl Env {
    fn new() -> Self {
        let src = tempfile::tempdir().unwrap();
        sample(src.path());
        Env {
            src,
            pod: tempfile::tempdir().unwrap(),
            transport: LocalTransport::default(),
        }
    }
    fn dest(&self) -> PathBuf {
        self.pod.path().join("app")
    }
    fn syncer(&self, delete: bool, extra: &[String]) -> Syncer<'_> {
        let ex = Excludes::new(&self.src.path().canonicalize().unwrap(), extra).unwrap();
        Syncer::new(
            self.src.path(),
            self.dest().to_str().unwrap(),
            ex,
            delete,
            &self.transport,
        )
        .unwrap()
    }
    fn sync(&self, delete: bool) -> (Stats, Vec<String>) {
        let mut warnings = Vec::new();
        let stats = sync_once(&self.syncer(delete, &[]), &mut |w| warnings.push(w)).unwrap();
        (stats, warnings)
    }
    fn assert_equal(&self) {
        assert_eq!(expected(self.src.path()), snapshot(&self.dest()));
    }
}

#[test]
fn initial_sync_makes_the_trees_equal_and_a_second_sends_nothing() {
    let env = Env::new();
    let (stats, _) = env.sync(false);
    env.assert_equal();
    assert_eq!(stats.files, 9, "{stats:?}");
    assert!(!env.dest().join(".git").exists());
    assert!(!env.dest().join("stale.pyc").exists());
    let (again, _) = env.sync(false);
    assert_eq!((again.files, again.deleted, again.bytes), (0, 0, 0));
}

#[test]
fn edits_send_only_the_changed_file() {
    let env = Env::new();
    env.sync(false);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    put(
        env.src.path(),
        "pkg/views.py",
        "def index(): return 'changed and longer'\n",
    );
    let syncer = env.syncer(false, &[]);
    let changes = syncer.initial_changes(&mut |_| {}).unwrap();
    assert_eq!(
        changes.write.keys().collect::<Vec<_>>(),
        vec![Path::new("pkg/views.py")]
    );
    syncer.apply(&changes).unwrap();
    env.assert_equal();
}

#[test]
fn delete_removes_only_with_the_flag_and_keeps_excluded_files() {
    let env = Env::new();
    env.sync(false);
    put(
        &env.dest(),
        "pkg/__pycache__/x.cpython-311.pyc",
        "pod bytecode",
    );
    fs::remove_file(env.src.path().join("app.py")).unwrap();
    fs::remove_dir_all(env.src.path().join("with space")).unwrap();
    let (stats, _) = env.sync(false);
    assert_eq!(stats.deleted, 0);
    assert!(env.dest().join("app.py").exists());
    let (stats, _) = env.sync(true);
    assert_eq!(stats.deleted, 2, "{stats:?}");
    assert!(!env.dest().join("app.py").exists());
    assert!(!env.dest().join("with space").exists());
    assert!(env
        .dest()
        .join("pkg/__pycache__/x.cpython-311.pyc")
        .exists());
}

#[test]
fn renames_and_type_changes_end_equal() {
    let env = Env::new();
    env.sync(true);
    let s = env.src.path();
    fs::rename(s.join("pkg"), s.join("package")).unwrap();
    fs::rename(s.join("app.py"), s.join("main.py")).unwrap();
    // a file becomes a directory and a directory becomes a file
    fs::remove_file(s.join(".hidden")).unwrap();
    put(s, ".hidden/inside", "now a dir\n");
    fs::remove_dir_all(s.join("empty")).unwrap();
    put(s, "empty", "now a file\n");
    env.sync(true);
    let mut want = expected(s);
    want.remove(Path::new("package/__pycache__"));
    let mut got = snapshot(&env.dest());
    // the pod's own __pycache__ is excluded, so --delete keeps it (none here)
    got.remove(Path::new("package/__pycache__"));
    assert_eq!(want, got);
}

#[test]
fn ignore_files_and_exclude_flags() {
    let env = Env::new();
    let s = env.src.path();
    put(s, ".gitignore", "*.log\nbuild/\n");
    put(s, "debug.log", "x");
    put(s, "build/out.txt", "x");
    put(s, "node_modules/m/index.js", "x");
    let ex = vec!["node_modules".to_string()];
    let syncer = env.syncer(false, &ex);
    sync_once(&syncer, &mut |_| {}).unwrap();
    let d = env.dest();
    assert!(d.join(".gitignore").exists());
    assert!(!d.join("debug.log").exists());
    assert!(!d.join("build").exists());
    assert!(!d.join("node_modules").exists());
    // .warpdrive/sync-ignore takes precedence over .gitignore
    put(s, ".warpdrive/sync-ignore", "*.txt\n");
    let syncer = env.syncer(false, &[]);
    assert!(syncer.excludes.is_excluded(Path::new("notes.txt"), false));
    assert!(!syncer.excludes.is_excluded(Path::new("debug.log"), false));
    // the built-in rules win over a negation
    put(s, ".warpdrive/sync-ignore", "!*.pyc\n!.git\n");
    let syncer = env.syncer(false, &[]);
    assert!(syncer.excludes.is_excluded(Path::new("a.pyc"), false));
    assert!(syncer.excludes.is_excluded(Path::new(".git/HEAD"), false));
}

#[test]
fn bad_exclude_and_dest_are_bad_input() {
    let env = Env::new();
    let root = env.src.path().canonicalize().unwrap();
    let err = Excludes::new(&root, &["[z-a]".to_string()]).unwrap_err();
    assert!(matches!(err, Error::BadInput(_)), "{err}");
    let ex = Excludes::new(&root, &[]).unwrap();
    let err = Syncer::new(&root, "relative/dir", ex, false, &env.transport)
        .err()
        .unwrap();
    assert!(err.to_string().contains("absolute"), "{err}");
}

#[test]
fn escaping_symlinks_are_not_sent() {
    let env = Env::new();
    let outside = tempfile::tempdir().unwrap();
    let s = env.src.path();
    symlink("/etc", s.join("abs-link")).unwrap();
    symlink("../../outside", s.join("pkg/rel-escape")).unwrap();
    symlink(outside.path(), s.join("dir-link")).unwrap();
    symlink("pkg/../app.py", s.join("ok-link")).unwrap();
    let (_, warnings) = env.sync(true);
    let d = env.dest();
    assert!(fs::symlink_metadata(d.join("abs-link")).is_err());
    assert!(fs::symlink_metadata(d.join("pkg/rel-escape")).is_err());
    assert!(fs::symlink_metadata(d.join("dir-link")).is_err());
    assert!(fs::symlink_metadata(d.join("ok-link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings
        .iter()
        .any(|w| w.contains("abs-link") && w.contains("outside")));
}

#[test]
fn traversal_names_are_rejected_on_both_sides() {
    assert!(check_rel(Path::new("../x")).is_err());
    assert!(check_rel(Path::new("a/../../x")).is_err());
    assert!(check_rel(Path::new("/etc/passwd")).is_err());
    assert!(check_rel(Path::new("a\nb")).is_err());
    assert!(check_rel(Path::new("a b/ü ..x")).is_ok());
    let env = Env::new();
    let syncer = env.syncer(true, &[]);
    let paths: BTreeSet<PathBuf> = [PathBuf::from("../escape")].into();
    assert!(syncer.changes_for(&paths, &|_| true, &mut |_| {}).is_err());

    // A hand-made hostile stream straight into the pod side: `..` members
    // and absolute names must not land outside --dest.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("pwned");
    let mut raw = Vec::new();
    {
        let mut ar = tar::Builder::new(&mut raw);
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        let evil = format!("files/../../../../../../../..{}", target.display());
        // bypass the tar crate's own checks by writing the name bytes directly
        h.as_gnu_mut().unwrap().name[..evil.len()].copy_from_slice(evil.as_bytes());
        h.set_cksum();
        ar.append(&h, &b"x"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        let abs = target.display().to_string();
        h.as_gnu_mut().unwrap().name[..abs.len()].copy_from_slice(abs.as_bytes());
        h.set_cksum();
        ar.append(&h, &b"y"[..]).unwrap();
        ar.finish().unwrap();
    }
    let dest = env.dest();
    let st = env
        .transport
        .exec(
            &remote::apply_argv(dest.to_str().unwrap()),
            Some(&mut &raw[..]),
            &mut Vec::new(),
        )
        .unwrap();
    assert!(!target.exists(), "written outside --dest: {st:?}");
    let left: Vec<_> = fs::read_dir(&dest).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_symlinked_directory_in_the_pod_is_refused_before_anything_changes() {
    let env = Env::new();
    env.sync(false);
    let outside = tempfile::tempdir().unwrap();
    fs::remove_dir_all(env.dest().join("pkg")).unwrap();
    symlink(outside.path(), env.dest().join("pkg")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    put(env.src.path(), "app.py", "changed\n");
    let err = sync_once(&env.syncer(false, &[]), &mut |_| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("refusing to write through the symlink"),
        "{err}"
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(
        fs::read_to_string(env.dest().join("app.py")).unwrap(),
        "print('hi')\n"
    );
}

#[test]
fn an_interrupted_stream_leaves_nothing_behind() {
    let env = Env::new();
    let s = env.src.path();
    let big = vec![b'z'; 3 << 20];
    fs::write(s.join("big.bin"), &big).unwrap();
    let syncer = env.syncer(false, &[]);
    let changes = syncer.initial_changes(&mut |_| {}).unwrap();
    let mut stream = Vec::new();
    tarstream::write(&mut stream, &syncer.source, &changes).unwrap();
    // cut the stream in the middle of big.bin
    stream.truncate(stream.len() / 2);
    let st = env
        .transport
        .exec(
            &remote::apply_argv(env.dest().to_str().unwrap()),
            Some(&mut &stream[..]),
            &mut Vec::new(),
        )
        .unwrap();
    assert_ne!(st.code, 0);
    let left: Vec<_> = fs::read_dir(env.dest())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn manifest_parsing() {
    let out = b"f 12 1700000000.5 a b/c\0\0d 4096 1700000000.0 dir\0\0l 3 1.0 ln\0target\0";
    let m = remote::parse_manifest(out).unwrap();
    assert_eq!(m[Path::new("a b/c")].size, 12);
    assert_eq!(m[Path::new("a b/c")].mtime, 1_700_000_000);
    assert_eq!(m[Path::new("dir")].kind, EntryKind::Dir);
    assert_eq!(m[Path::new("ln")].kind, EntryKind::Symlink("target".into()));
}

#[test]
fn watch_sends_edits_creates_and_deletes() {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    let env = Env::new();
    put(env.src.path(), "node_modules/x/y.js", "x");
    let ex = vec!["node_modules/".to_string(), "build/".to_string()];
    let syncer = env.syncer(true, &ex);
    sync_once(&syncer, &mut |_| {}).unwrap();
    let (tx, rx) = mpsc::channel();
    let mut w = watch::Watcher::new(&syncer, tx.clone(), &mut |_| {}).unwrap();
    assert!(!w.is_watched(Path::new("node_modules")));
    assert!(!w.is_watched(Path::new(".git")));
    assert!(w.is_watched(Path::new("pkg")));
    let src = env.src.path().to_path_buf();
    let dest = env.dest();
    let syncer = &syncer;
    let wr = &mut w;
    let stats = std::thread::scope(|s| {
        let h = s.spawn(move || {
            let mut all = Vec::new();
            wr.run(syncer, &rx, &mut |r| all.push(r.unwrap()), &mut |_| {})
                .unwrap();
            all
        });
        let wait_for = |cond: &dyn Fn() -> bool| {
            let t = Instant::now();
            while !cond() {
                assert!(
                    t.elapsed() < Duration::from_secs(10),
                    "change did not arrive"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        put(&src, "pkg/views.py", "edited\n");
        wait_for(&|| fs::read_to_string(dest.join("pkg/views.py")).unwrap() == "edited\n");
        put(&src, "newdir/sub/new.py", "new\n");
        wait_for(&|| dest.join("newdir/sub/new.py").exists());
        put(&src, "newdir/sub/later.py", "later\n");
        wait_for(&|| dest.join("newdir/sub/later.py").exists());
        fs::remove_file(src.join("app.py")).unwrap();
        wait_for(&|| !dest.join("app.py").exists());
        fs::rename(src.join("newdir"), src.join("moved")).unwrap();
        wait_for(&|| dest.join("moved/sub/later.py").exists() && !dest.join("newdir").exists());
        put(&src, "node_modules/x/z.js", "ignored");
        put(&src, "build/out.txt", "ignored by a dir-only pattern");
        put(&src, "moved/sub/last.py", "last\n");
        wait_for(&|| dest.join("moved/sub/last.py").exists());
        tx.send(watch::Msg::Stop).unwrap();
        h.join().unwrap()
    });
    assert!(!dest.join("node_modules").exists());
    assert!(!dest.join("build").exists());
    assert!(!w.is_watched(Path::new("build")));
    assert!(w.is_watched(Path::new("moved/sub")));
    assert!(stats.len() >= 6, "{stats:?}");
    assert_eq!(
        expected(env.src.path())
            .into_iter()
            .filter(|(p, _)| !p.starts_with("node_modules") && !p.starts_with("build"))
            .collect::<BTreeMap<_, _>>(),
        snapshot(&dest)
    );
}

#[test]
fn without_gnu_find_everything_is_sent_with_a_warning() {
    // A "container" whose find knows no -printf: a PATH with a failing find.
    let env = Env::new();
    env.sync(false);
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("find");
    fs::write(
        &fake,
        "#!/bin/sh\necho 'find: unrecognized: -printf' >&2\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    struct WithPath(String);
    impl Transport for WithPath {
        fn exec(
            &self,
            argv: &[String],
            stdin: Option<&mut (dyn std::io::Read + Send)>,
            stdout: &mut dyn std::io::Write,
        ) -> std::result::Result<ExecStatus, String> {
            let mut a = vec!["env".to_string(), format!("PATH={}", self.0)];
            a.extend_from_slice(argv);
            LocalTransport::default().exec(&a, stdin, stdout)
        }
    }
    let t = WithPath(path);
    let ex = Excludes::new(&env.src.path().canonicalize().unwrap(), &[]).unwrap();
    let syncer = Syncer::new(env.src.path(), env.dest().to_str().unwrap(), ex, true, &t).unwrap();
    let mut warnings = Vec::new();
    let stats = sync_once(&syncer, &mut |w| warnings.push(w)).unwrap();
    assert_eq!(stats.files, 9);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("-printf") && w.contains("--delete skipped")),
        "{warnings:?}"
    );
    env.assert_equal();
}

/// Runs every command with only busybox applets on PATH: an Alpine-like
/// container (ash, busybox tar/find/stat/mv/rm/xargs; no `find -printf`).
struct Busybox(tempfile::TempDir);

impl Busybox {
    fn new() -> Self {
        let bb = Path::new("/usr/bin/busybox");
        assert!(bb.exists(), "busybox is not installed: run .ci/setup");
        let dir = tempfile::tempdir().unwrap();
        for applet in [
            "sh", "tar", "find", "stat", "mv", "rm", "mkdir", "xargs", "cat",
        ] {
            symlink(bb, dir.path().join(applet)).unwrap();
        }
        Busybox(dir)
    }
}

impl Transport for Busybox {
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&mut (dyn std::io::Read + Send)>,
        stdout: &mut dyn std::io::Write,
    ) -> std::result::Result<ExecStatus, String> {
        let mut a = vec![
            "/usr/bin/env".to_string(),
            format!("PATH={}", self.0.path().display()),
        ];
        a.extend_from_slice(argv);
        LocalTransport::default().exec(&a, stdin, stdout)
    }
}

#[test]
fn a_busybox_container_gets_the_same_sync() {
    let env = Env::new();
    let t = Busybox::new();
    let ex = || Excludes::new(&env.src.path().canonicalize().unwrap(), &[]).unwrap();
    let dest = env.dest();
    let syncer = Syncer::new(env.src.path(), dest.to_str().unwrap(), ex(), true, &t).unwrap();
    let mut warnings = Vec::new();
    let stats = sync_once(&syncer, &mut |w| warnings.push(w)).unwrap();
    assert_eq!(stats.files, 9);
    env.assert_equal();
    // the stat fallback of the manifest: unchanged files are not sent again
    // (symlinks are, their targets being unknown), deletes work
    let remote = syncer.remote_manifest().unwrap();
    assert_eq!(remote[Path::new("pkg/views.py")].size, 18);
    assert_eq!(remote[Path::new("pkg")].kind, EntryKind::Dir);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    put(
        env.src.path(),
        "pkg/views.py",
        "def index(): return 'busybox'\n",
    );
    fs::remove_file(env.src.path().join("app.py")).unwrap();
    let changes = syncer.initial_changes(&mut |w| warnings.push(w)).unwrap();
    let written: Vec<_> = changes.write.keys().map(|p| p.to_str().unwrap()).collect();
    assert_eq!(written, vec!["link-inside", "pkg/views.py"]);
    assert_eq!(
        changes.delete.iter().collect::<Vec<_>>(),
        vec![Path::new("app.py")]
    );
    syncer.apply(&changes).unwrap();
    env.assert_equal();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_name_with_a_newline_is_skipped_with_a_warning() {
    let env = Env::new();
    put(env.src.path(), "bad\nname.py", "x");
    let (stats, warnings) = env.sync(false);
    assert_eq!(stats.files, 9);
    assert!(
        warnings.iter().any(|w| w.contains("newline")),
        "{warnings:?}"
    );
    assert!(!env.dest().join("bad\nname.py").exists());
}
