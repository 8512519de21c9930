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
    let mut session = env
        .transport
        .spawn(&remote::receiver_argv(dest.to_str().unwrap()), true)
        .unwrap();
    assert!(line(&mut session).starts_with("WD1 hello "));
    let mut req = format!("WD1 apply 0\nWD1 data {}\n", raw.len()).into_bytes();
    req.extend_from_slice(&raw);
    req.extend_from_slice(b"WD1 end 0\n");
    session.write_all(&req).unwrap();
    let done = answer(&mut session);
    assert!(!target.exists(), "written outside --dest: {done:?}");
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

/// The tar stream of `changes`, as the client would send it.
fn tar_bytes(syncer: &Syncer, changes: &Changes) -> Vec<u8> {
    let mut out = Vec::new();
    let bar = indicatif::ProgressBar::hidden();
    tarstream::write(&mut out, &syncer.source, changes, &bar, &mut |_| {}).unwrap();
    out
}

#[test]
fn the_stream_is_exactly_as_long_as_announced() {
    let env = Env::new();
    let s = env.src.path();
    // long names and a long symlink target (GNU long-name members)
    let long = "x".repeat(150);
    put(s, &format!("{long}/{long}.py"), "long\n");
    symlink(format!("{long}/{long}.py"), s.join("long-link")).unwrap();
    // member names and link targets around the header's 100-byte field
    for n in 98..=101 {
        put(s, &"b".repeat(n - "files/".len()), "edge\n");
        fs::create_dir_all(s.join("e".repeat(n - "files/".len()))).unwrap();
        symlink("t".repeat(n), s.join(format!("link{n}"))).unwrap();
    }
    let syncer = env.syncer(true, &[]);
    let mut changes = syncer.initial_changes(&mut |_| {}).unwrap();
    changes.delete.insert(PathBuf::from(format!("gone/{long}")));
    let want = tarstream::length(&changes).unwrap();
    assert_eq!(tar_bytes(&syncer, &changes).len() as u64, want);
    // a file skipped while reading keeps the length (its member is xfile/…)
    fs::write(s.join("app.py"), "print('a different size')\n").unwrap();
    let tar = tar_bytes(&syncer, &changes);
    assert_eq!(tar.len() as u64, want);
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.contains(&"xfile/app.py".to_string()), "{names:?}");
    assert!(!names.contains(&"files/app.py".to_string()), "{names:?}");
}

/// Reads one line from a raw receiver session.
fn line(session: &mut dyn Session) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while out.last() != Some(&b'\n') {
        let n = session
            .read(&mut b, std::time::Duration::from_secs(30))
            .unwrap();
        assert_eq!(n, 1, "the receiver ended after {out:?}");
        out.push(b[0]);
    }
    String::from_utf8(out).unwrap()
}

/// Reads a `WD1 KIND CODE N` answer and its N bytes.
fn answer(session: &mut dyn Session) -> (i32, String) {
    let head = line(session);
    let f: Vec<&str> = head.split_whitespace().collect();
    assert_eq!(f.len(), 4, "{head}");
    let n: usize = f[3].parse().unwrap();
    let mut text = vec![0u8; n];
    let mut got = 0;
    while got < n {
        got += session
            .read(&mut text[got..], std::time::Duration::from_secs(30))
            .unwrap();
    }
    (
        f[2].parse().unwrap(),
        String::from_utf8_lossy(&text).into_owned(),
    )
}

fn assert_empty_dir(dir: &Path) {
    let left: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn an_interrupted_stream_leaves_nothing_behind() {
    // cut in the middle of a chunk, and between two chunks
    for whole_chunk in [false, true] {
        let env = Env::new();
        let s = env.src.path();
        fs::write(s.join("big.bin"), vec![b'z'; 3 << 20]).unwrap();
        let syncer = env.syncer(false, &[]);
        let changes = syncer.initial_changes(&mut |_| {}).unwrap();
        let tar = tar_bytes(&syncer, &changes);
        let half = tar.len() / 2;
        let mut session = env
            .transport
            .spawn(&remote::receiver_argv(env.dest().to_str().unwrap()), true)
            .unwrap();
        assert!(line(&mut session).starts_with("WD1 hello "));
        let announced = if whole_chunk { half } else { tar.len() };
        let mut req = format!("WD1 apply 0\nWD1 data {announced}\n").into_bytes();
        req.extend_from_slice(&tar[..half]);
        session.write_all(&req).unwrap();
        // the connection drops: stdin ends
        let st = Box::new(session)
            .finish(std::time::Duration::from_secs(30))
            .unwrap();
        assert_eq!(st.code, 0, "{}", st.stderr_line());
        assert_empty_dir(&env.dest());
    }
}

#[test]
fn a_failed_or_aborted_request_is_drained_and_the_session_goes_on() {
    let env = Env::new();
    env.sync(false);
    let syncer = env.syncer(false, &[]);
    put(env.src.path(), "pkg/views.py", "def index(): return 2\n");
    let changes = syncer
        .changes_for(
            &[PathBuf::from("pkg/views.py")].into_iter().collect(),
            &|_| false,
            &mut |_| {},
        )
        .unwrap();
    let tar = tar_bytes(&syncer, &changes);
    let mut session = env
        .transport
        .spawn(&remote::receiver_argv(env.dest().to_str().unwrap()), true)
        .unwrap();
    assert!(line(&mut session).starts_with("WD1 hello "));
    // aborted: nothing changes, the answer is an error
    let mut req = format!("WD1 apply 0\nWD1 data {}\n", tar.len()).into_bytes();
    req.extend_from_slice(&tar);
    req.extend_from_slice(b"WD1 abort 0\n");
    session.write_all(&req).unwrap();
    assert_eq!(
        answer(&mut session),
        (5, "the request was cut off".to_string())
    );
    assert_eq!(
        fs::read_to_string(env.dest().join("pkg/views.py")).unwrap(),
        "def index(): pass\n"
    );
    // a request that fails in tar (garbage) is drained too
    let junk = vec![b'x'; 5000];
    let mut req = b"WD1 apply 0\nWD1 data 5000\n".to_vec();
    req.extend_from_slice(&junk);
    req.extend_from_slice(b"WD1 end 0\n");
    session.write_all(&req).unwrap();
    let (code, text) = answer(&mut session);
    assert_ne!(code, 0, "{text}");
    // and the next request lands
    let mut req = format!("WD1 apply 0\nWD1 data {}\n", tar.len()).into_bytes();
    req.extend_from_slice(&tar);
    req.extend_from_slice(b"WD1 end 0\nWD1 ping 0\n");
    session.write_all(&req).unwrap();
    assert_eq!(line(&mut session), "WD1 done 0 0\n");
    assert_eq!(line(&mut session), "WD1 pong 0 0\n");
    env.assert_equal();
    session.write_all(b"WD1 bye 0\n").unwrap();
    let st = Box::new(session)
        .finish(std::time::Duration::from_secs(30))
        .unwrap();
    assert_eq!(st.code, 0);
    let staging: Vec<_> = fs::read_dir(env.dest())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".warpdrive"))
        .collect();
    assert!(staging.is_empty(), "{staging:?}");
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
            wr.run(
                syncer,
                &rx,
                &mut |r| all.push(r.unwrap()),
                &mut || {},
                &mut |_| {},
            )
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
        fn open(
            &self,
            argv: &[String],
            stdin: bool,
        ) -> std::result::Result<Box<dyn Session + '_>, String> {
            let mut a = vec!["env".to_string(), format!("PATH={}", self.0)];
            a.extend_from_slice(argv);
            Ok(Box::new(LocalTransport::default().spawn(&a, stdin)?))
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
            "sh", "tar", "find", "stat", "mv", "rm", "mkdir", "xargs", "cat", "dd", "head", "wc",
        ] {
            symlink(bb, dir.path().join(applet)).unwrap();
        }
        Busybox(dir)
    }
}

impl Transport for Busybox {
    fn open(
        &self,
        argv: &[String],
        stdin: bool,
    ) -> std::result::Result<Box<dyn Session + '_>, String> {
        let mut a = vec![
            "/usr/bin/env".to_string(),
            format!("PATH={}", self.0.path().display()),
        ];
        a.extend_from_slice(argv);
        Ok(Box::new(LocalTransport::default().spawn(&a, stdin)?))
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

#[test]
fn a_file_swapped_between_the_walk_and_the_read_is_skipped_with_a_warning() {
    let env = Env::new();
    let secret = tempfile::tempdir().unwrap();
    fs::write(secret.path().join("secret"), "the target's content\n").unwrap();
    let syncer = env.syncer(false, &[]);
    // the walk
    let changes = syncer.initial_changes(&mut |_| {}).unwrap();
    let s = env.src.path();
    // then, before the read: a symlink out of the tree, another file
    // renamed over one (a new inode), and a fifo (which must not block)
    fs::remove_file(s.join("pkg/views.py")).unwrap();
    symlink(secret.path().join("secret"), s.join("pkg/views.py")).unwrap();
    fs::write(s.join("app.tmp"), "print('other')\n").unwrap();
    fs::rename(s.join("app.tmp"), s.join("app.py")).unwrap();
    fs::remove_file(s.join(".hidden")).unwrap();
    nix::unistd::mkfifo(
        &s.join(".hidden"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    // and one that grew in place
    fs::write(s.join("run.sh"), "#!/bin/sh\necho longer now\n").unwrap();
    let mut warnings = Vec::new();
    let stats = syncer
        .apply_warning(&changes, &mut |w| warnings.push(w))
        .unwrap();
    assert_eq!(stats.files, 9 - 4, "{stats:?} {warnings:?}");
    let warned = |name: &str, why: &str| {
        assert!(
            warnings.iter().any(|w| w.contains(name) && w.contains(why)),
            "{name}: {warnings:?}"
        )
    };
    warned("pkg/views.py", "became a symlink");
    warned("app.py", "replaced");
    warned(".hidden", "replaced");
    warned("run.sh", "changed");
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    let d = env.dest();
    assert!(!d.join("pkg/views.py").exists());
    assert!(!d.join("app.py").exists());
    assert!(!d.join(".hidden").exists());
    assert!(!d.join("run.sh").exists());
    assert_eq!(
        fs::read_to_string(d.join("pkg/__init__.py")).unwrap(),
        "",
        "the rest is sent"
    );
}

/// Issue 14's reproduction: a loop renames a symlink to a file outside the
/// tree, and a regular file, over `swap.py` in turn while 30 first syncs
/// run. The symlink's target (the same size as the file) never reaches the
/// pod; every try sends the file or skips it.
#[test]
fn a_file_swapped_for_a_symlink_in_a_loop_never_sends_the_target() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = Env::new();
    let s = env.src.path().to_path_buf();
    let secret = tempfile::tempdir().unwrap();
    fs::write(secret.path().join("secret"), "SECRET!\n").unwrap();
    put(&s, "swap.py", "plain()\n");
    let stop = AtomicBool::new(false);
    let (mut sent, mut skipped) = (0, 0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let tmp = s.join(format!(".swap.{i}"));
                if i.is_multiple_of(2) {
                    symlink(secret.path().join("secret"), &tmp).unwrap();
                } else {
                    fs::write(&tmp, "plain()\n").unwrap();
                }
                fs::rename(&tmp, s.join("swap.py")).unwrap();
            }
        });
        for round in 0..30 {
            let dest = env.pod.path().join(format!("try{round}"));
            let ex = Excludes::new(&s.canonicalize().unwrap(), &[]).unwrap();
            let syncer =
                Syncer::new(&s, dest.to_str().unwrap(), ex, false, &env.transport).unwrap();
            let r = sync_once(&syncer, &mut |_| {});
            let got = fs::symlink_metadata(dest.join("swap.py"))
                .ok()
                .map(|_| fs::read_to_string(dest.join("swap.py")).unwrap_or_default());
            if r.is_err() || got.as_deref().is_some_and(|g| g != "plain()\n") {
                stop.store(true, Ordering::Relaxed);
            }
            r.unwrap();
            match got.as_deref() {
                None => skipped += 1,
                Some("plain()\n") => sent += 1,
                Some(other) => panic!("try {round}: swap.py arrived as {other:?}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(sent + skipped, 30, "sent {sent}, skipped {skipped}");
}

#[test]
fn the_receiver_reads_exact_counts_with_dd_else_gnu_head_else_byte_by_byte() {
    // GNU coreutils here; busybox ≥ 1.33 has dd count_bytes too
    let env = Env::new();
    let syncer = env.syncer(false, &[]);
    sync_once(&syncer, &mut |_| {}).unwrap();
    assert_eq!(syncer.reader().as_deref(), Some("dd"));
    env.assert_equal();
    let bb = Busybox::new();
    // a dd without count_bytes (busybox before 1.33): GNU head, else bytes
    let old_dd = bb.0.path().join("dd");
    fs::remove_file(&old_dd).unwrap();
    fs::write(
        &old_dd,
        "#!/usr/bin/busybox sh\ncase \"$*\" in *count_bytes*) echo 'dd: invalid iflag' >&2; exit 1;; esac\nexec /usr/bin/busybox dd \"$@\"\n",
    )
    .unwrap();
    fs::set_permissions(&old_dd, fs::Permissions::from_mode(0o755)).unwrap();
    for (head, want) in [("/usr/bin/head", "head"), ("/usr/bin/busybox", "slow")] {
        let h = bb.0.path().join("head");
        let _ = fs::remove_file(&h);
        symlink(head, &h).unwrap();
        let env = Env::new();
        fs::write(env.src.path().join("big.bin"), vec![7u8; 300_000]).unwrap();
        let ex = Excludes::new(&env.src.path().canonicalize().unwrap(), &[]).unwrap();
        let syncer =
            Syncer::new(env.src.path(), env.dest().to_str().unwrap(), ex, true, &bb).unwrap();
        let stats = sync_once(&syncer, &mut |_| {}).unwrap();
        assert_eq!(syncer.reader().as_deref(), Some(want));
        assert_eq!(stats.files, 10);
        env.assert_equal();
    }
}

#[test]
fn an_editors_save_burst_becomes_one_sync() {
    use std::sync::mpsc;
    let env = Env::new();
    let syncer = env.syncer(false, &[]);
    sync_once(&syncer, &mut |_| {}).unwrap();
    let (tx, events) = mpsc::channel();
    let mut w = watch::Watcher::new(&syncer, tx, &mut |_| {}).unwrap();
    let s = env.src.path();
    // a safe-write save: a temp file, fsync, renamed over the file, chmod
    {
        use std::io::Write;
        let mut f = fs::File::create(s.join("pkg/views.py.tmp~")).unwrap();
        f.write_all(b"def index(): return 'saved'\n").unwrap();
        f.sync_all().unwrap();
    }
    fs::rename(s.join("pkg/views.py.tmp~"), s.join("pkg/views.py")).unwrap();
    fs::set_permissions(s.join("pkg/views.py"), fs::Permissions::from_mode(0o640)).unwrap();
    // an excluded file after it marks the end of the burst's events
    put(s, "end-of-burst.pyc", "x");
    let (tx, rx) = mpsc::channel();
    let mut n = 0;
    loop {
        let msg = events
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the file events");
        let last = matches!(&msg, watch::Msg::Fs(Ok(ev))
            if ev.paths.iter().any(|p| p.ends_with("end-of-burst.pyc")));
        n += 1;
        tx.send(msg).unwrap();
        if last {
            break;
        }
    }
    assert!(n >= 4, "{n} events");
    // the loop gets them all at once (as it does when they come faster
    // than the debounce), then stops
    tx.send(watch::Msg::Stop).unwrap();
    let mut syncs = Vec::new();
    w.run(
        &syncer,
        &rx,
        &mut |r| syncs.push(r.unwrap()),
        &mut || {},
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(syncs.len(), 1, "{syncs:?}");
    assert_eq!(syncs[0].files, 1, "{syncs:?}");
    env.assert_equal();
    let md = fs::metadata(env.dest().join("pkg/views.py")).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o640);
}

/// A notify event of `kind` on `paths`.
fn event(kind: notify::EventKind, paths: &[&str]) -> notify::Event {
    let mut ev = notify::Event::new(kind);
    for p in paths {
        ev = ev.add_path(PathBuf::from(p));
    }
    ev
}

/// Feeds `events` (milliseconds after the first, kind, paths) to a burst and
/// says how many syncs they make: a new one starts whenever an event comes
/// after the burst was due.
fn bursts(events: &[(f64, notify::EventKind, &[&str])]) -> (usize, std::time::Duration) {
    use std::time::{Duration, Instant};
    let t0 = Instant::now();
    let at = |ms: f64| t0 + Duration::from_secs_f64(ms / 1000.0);
    let mut burst: Option<watch::Burst> = None;
    let mut n = 0;
    for (ms, kind, paths) in events {
        let now = at(*ms);
        if burst.as_ref().is_none_or(|b| b.due() <= now) {
            burst = Some(watch::Burst::new(now));
            n += 1;
        }
        if let Some(b) = burst.as_mut() {
            b.add(&event(*kind, paths), now);
        }
    }
    let due = burst.map(|b| b.due() - t0).unwrap_or_default();
    (n, due)
}

#[test]
fn a_save_is_one_burst_even_when_its_fsync_is_slow() {
    use notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, MetadataKind, ModifyKind, RemoveKind,
        RenameMode,
    };
    use notify::EventKind as K;
    let debounce = DEBOUNCE.as_secs_f64() * 1000.0;
    let created = K::Create(CreateKind::File);
    let data = K::Modify(ModifyKind::Data(DataChange::Any));
    let closed = K::Access(AccessKind::Close(AccessMode::Write));
    let renamed = K::Modify(ModifyKind::Name(RenameMode::Both));
    let chmod = K::Modify(ModifyKind::Metadata(MetadataKind::Permissions));
    let removed = K::Remove(RemoveKind::File);
    for fsync_ms in [0.0, debounce * 3.0, 300.0] {
        // safe write: temp file, fsync, rename over, chmod
        let safe: &[(f64, K, &[&str])] = &[
            (0.0, created, &["/s/.v.tmp"]),
            (0.05, data, &["/s/.v.tmp"]),
            (0.1 + fsync_ms, closed, &["/s/.v.tmp"]),
            (0.2 + fsync_ms, renamed, &["/s/.v.tmp", "/s/v.py"]),
            (0.3 + fsync_ms, chmod, &["/s/v.py"]),
        ];
        let (n, due) = bursts(safe);
        assert_eq!(n, 1, "safe write, fsync {fsync_ms} ms");
        let done = (0.3 + fsync_ms + debounce) / 1000.0;
        assert!((due.as_secs_f64() - done).abs() < 1e-6, "{due:?}");
        // vim: rename to a backup, write anew, fsync, delete the backup
        let vim: &[(f64, K, &[&str])] = &[
            (0.0, renamed, &["/s/v.py", "/s/v.py~"]),
            (0.05, created, &["/s/v.py"]),
            (0.1, data, &["/s/v.py"]),
            (0.2 + fsync_ms, closed, &["/s/v.py"]),
            (0.3 + fsync_ms, removed, &["/s/v.py~"]),
        ];
        assert_eq!(bursts(vim).0, 1, "vim, fsync {fsync_ms} ms");
    }
    // two saves further apart than the debounce are two syncs
    let two: &[(f64, K, &[&str])] = &[
        (0.0, data, &["/s/v.py"]),
        (0.1, closed, &["/s/v.py"]),
        (0.2 + debounce * 2.0, data, &["/s/v.py"]),
        (0.3 + debounce * 2.0, closed, &["/s/v.py"]),
    ];
    assert_eq!(bursts(two).0, 2);
    // a file left open is waited for, up to MAX_WAIT
    let open: &[(f64, K, &[&str])] = &[(0.0, data, &["/s/log.txt"])];
    assert_eq!(bursts(open).1, watch::MAX_WAIT);
}
