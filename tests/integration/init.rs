//! `kubectl warpdrive init`: non-interactive per layout (files compared byte
//! for byte with tests/fixtures/init/), prompts through a pseudo-terminal,
//! bad input, and the round trip into `warpdrive exec`.
//!
//! `WARPDRIVE_BLESS=1 cargo test --test integration init::` rewrites the
//! fixtures from what init writes (review the diff before committing).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::apps;
use crate::exec::{bad_input_naming, start};
use crate::support::{self, repo, warpdrive, write, Checked, Outcome, RunExt};

const T: Duration = Duration::from_secs(60);

fn init(dir: &Path, args: &[&str]) -> Outcome {
    warpdrive()
        .arg("init")
        .arg("--app-root")
        .arg(dir)
        .args(args)
        .run_within(T)
}

#[track_caller]
fn init_ok(dir: &Path, args: &[&str]) -> Outcome {
    init(dir, args).success()
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/init").join(name)
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).expect("prefix").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `.warpdrive/` of `app` holds exactly the files of fixture `name`, byte for byte.
fn assert_files(app: &Path, name: &str) {
    let wd = app.join(".warpdrive");
    let fx = fixture(name);
    if std::env::var_os("WARPDRIVE_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&fx);
        std::fs::create_dir_all(&fx).expect("mkdir");
        support::copy_tree(&wd, &fx);
    }
    assert_eq!(tree(&wd), tree(&fx), "files in {}", wd.display());
    for rel in tree(&fx) {
        let got = std::fs::read(wd.join(&rel)).expect("read");
        let want = std::fs::read(fx.join(&rel)).expect("read fixture");
        assert!(
            got == want,
            "{} differs from {} (- fixture, + written):\n{}",
            rel.display(),
            fx.join(&rel).display(),
            support::check::diff(
                &String::from_utf8_lossy(&want),
                &String::from_utf8_lossy(&got)
            )
        );
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// `warpdrive exec --dry-run -o json` for the app, as the container would run it.
fn plan(dir: &Path) -> serde_json::Value {
    warpdrive()
        .args(["exec", "--dry-run", "-o", "json", "--app-root"])
        .arg(dir)
        .run_within(T)
        .success()
        .json()
}

fn argv(plan: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(plan["argv"].clone()).expect("argv")
}

/// `needle` occurs as consecutive words of `argv`.
fn has_words(argv: &[String], needle: &[&str]) -> bool {
    argv.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------- layouts

#[test]
fn django_path_static_root_with_yes() {
    let app = apps::django_path();
    let out = init_ok(app.path(), &["--yes"]);
    assert_files(app.path(), "django");
    // init prints what exec will run, from the same resolution.
    let s = out.stdout();
    assert!(
        s.contains("--entry-point hello.wsgi --callable-object application"),
        "{s}"
    );
    assert!(s.contains(".warpdrive/server_type says django"), "{s}");
    let argv = argv(&plan(app.path()));
    let static_dir = format!("{}/static/", app.path().canonicalize().unwrap().display());
    assert!(
        has_words(&argv, &["--url-alias", "/static/", &static_dir]),
        "{argv:?}"
    );
    assert_eq!(mode(&app.path().join(".warpdrive/server_type")), 0o644);
}

#[test]
fn django_string_static_root_gives_the_same_files() {
    let app = apps::django_str();
    init_ok(app.path(), &["--yes"]);
    assert_files(app.path(), "django");
}

#[test]
fn wsgi_module_with_yes() {
    let app = apps::wsgi_module("hi");
    init_ok(app.path(), &["--yes"]);
    assert_files(app.path(), "wsgi-module");
    let plan = plan(app.path());
    assert_eq!(plan["server_type"], "mod_wsgi");
    assert!(has_words(
        &argv(&plan),
        &["--entry-point", "wsgi", "--callable-object", "application"]
    ));
}

#[test]
fn wsgi_package_with_yes() {
    let app = apps::wsgi_package("hi");
    init_ok(app.path(), &["--yes"]);
    assert_files(app.path(), "wsgi-module");
}

#[test]
fn paste_with_yes_and_with_options() {
    let app = apps::paste("hi");
    init_ok(app.path(), &["--yes"]);
    assert_files(app.path(), "paste");
    // Every question by flag, no --yes: static files become --url-alias,
    // headers --trust-proxy-header, in mod_wsgi-express syntax.
    let app = apps::paste("hi");
    init_ok(
        app.path(),
        &[
            "--server-type",
            "paste",
            "--static-url",
            "assets",
            "--static-root",
            "public files",
            "--trust-proxy-header",
            "x-forwarded-for",
            "--trust-proxy-header",
            "X-Forwarded-Proto",
            "--processes",
            "2",
            "--threads",
            "8",
        ],
    );
    assert_files(app.path(), "paste-options");
    let argv = argv(&plan(app.path()));
    assert!(
        has_words(&argv, &["--url-alias", "/assets/", "public files/"]),
        "{argv:?}"
    );
    assert!(
        has_words(&argv, &["--trust-proxy-header", "X-Forwarded-For"]),
        "{argv:?}"
    );
    assert!(
        has_words(&argv, &["--processes", "2", "--threads", "8"]),
        "{argv:?}"
    );
}

#[test]
fn python_app_with_yes() {
    let app = apps::python_app("hi");
    init_ok(app.path(), &["--yes"]);
    assert_files(app.path(), "python");
    assert_eq!(plan(app.path())["server_type"], "python");
}

#[test]
fn shell_app_with_yes_and_deploy_hook() {
    let app = apps::shell_app("hi");
    init_ok(app.path(), &["--yes", "--deploy-hook"]);
    assert_files(app.path(), "shell");
    let hook = app.path().join(".warpdrive/action_hooks/deploy");
    assert_eq!(mode(&hook), 0o755);
    assert_eq!(plan(app.path())["server_type"], "shell");
}

/// Each WSGI server gets capacity and proxy headers in the form it
/// understands, and `exec` applies them.
#[test]
fn per_server_options_round_trip() {
    let common = [
        "--entry-point",
        "wsgi:application",
        "--no-static",
        "--trust-proxy-header",
        "X-Forwarded-For",
        "--threads",
        "4",
    ];
    // gunicorn: --workers; headers through the launcher's middleware.
    let app = apps::wsgi_module("hi");
    let mut args = vec!["--server-type", "gunicorn", "--processes", "2"];
    args.extend(common);
    init_ok(app.path(), &args);
    assert_files(app.path(), "wsgi-gunicorn");
    let plan_g = plan(app.path());
    let a = argv(&plan_g);
    assert!(
        has_words(
            &a,
            &[
                "--workers",
                "2",
                "--threads",
                "4",
                "warpdrive_wsgi:application"
            ]
        ),
        "{a:?}"
    );
    assert_eq!(plan_g["env"]["WARPDRIVE_WSGI_TARGET"], "wsgi:application");
    assert_eq!(
        plan_g["env"]["WARPDRIVE_TRUST_PROXY_HEADERS"],
        "X-Forwarded-For"
    );
    assert!(plan_g["reason"]
        .as_str()
        .unwrap()
        .contains("trusted proxy headers X-Forwarded-For"));
    // uwsgi: --processes.
    let app = apps::wsgi_module("hi");
    let mut args = vec!["--server-type", "uwsgi", "--processes", "2"];
    args.extend(common);
    init_ok(app.path(), &args);
    let a = argv(&plan(app.path()));
    assert!(
        has_words(
            &a,
            &[
                "--processes",
                "2",
                "--threads",
                "4",
                "--module",
                "warpdrive_wsgi:application"
            ]
        ),
        "{a:?}"
    );
    // waitress: threads only; more than one process is refused.
    let app = apps::wsgi_module("hi");
    let mut args = vec!["--server-type", "waitress"];
    args.extend(common);
    init_ok(app.path(), &args);
    let a = argv(&plan(app.path()));
    assert!(
        has_words(&a, &["--threads", "4", "warpdrive_wsgi:application"]),
        "{a:?}"
    );
    let app = apps::wsgi_module("hi");
    let out = init(
        app.path(),
        &["--yes", "--server-type", "waitress", "--processes", "2"],
    );
    bad_input_naming(out, &["waitress is single-process"]);
    // mod_wsgi: native options.
    let app = apps::wsgi_module("hi");
    let mut args = vec!["--server-type", "mod_wsgi", "--processes", "2"];
    args.extend(common);
    init_ok(app.path(), &args);
    let a = argv(&plan(app.path()));
    assert!(
        has_words(
            &a,
            &[
                "--trust-proxy-header",
                "X-Forwarded-For",
                "--processes",
                "2",
                "--threads",
                "4"
            ]
        ),
        "{a:?}"
    );
}

#[test]
fn per_type_server_args_directory_is_kept() {
    let app = apps::wsgi_module("hi");
    std::fs::create_dir_all(app.path().join(".warpdrive/server_args")).unwrap();
    write(
        &app.path().join(".warpdrive/server_args/uwsgi"),
        "--buffer-size 8192\n",
    );
    init_ok(
        app.path(),
        &["--yes", "--server-type", "gunicorn", "--threads", "3"],
    );
    let text = std::fs::read_to_string(app.path().join(".warpdrive/server_args/gunicorn")).unwrap();
    assert!(text.ends_with("\n--threads 3\n"), "{text}");
    assert!(!app.path().join(".warpdrive/server_args").is_file());
    let a = argv(&plan(app.path()));
    assert!(
        has_words(&a, &["--threads", "3", "wsgi:application"]),
        "{a:?}"
    );
}

// ---------------------------------------------------------------- no terminal

#[test]
fn no_terminal_and_no_yes_exits_2_at_once_and_writes_nothing() {
    let app = apps::django_path();
    // stdin is a pipe that stays open: a prompt would wait forever.
    let mut cmd = warpdrive();
    cmd.arg("init").arg("--app-root").arg(app.path());
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = support::spawn(&mut cmd);
    let status = guard.wait_timeout(Duration::from_secs(20));
    assert!(
        status.is_some(),
        "init waited on a prompt without a terminal"
    );
    let out = guard.into_child().wait_with_output().unwrap().check();
    bad_input_naming(
        out,
        &[
            "not a terminal",
            "--server-type",
            "--entry-point",
            "--no-static",
            "--no-proxy-headers",
            "--yes",
        ],
    );
    assert!(!app.path().join(".warpdrive").exists());
    // One answer missing is still refused, naming that flag only.
    let out = init(
        app.path(),
        &[
            "--server-type",
            "django",
            "--entry-point",
            "hello.wsgi",
            "--no-static",
        ],
    );
    bad_input_naming(
        out,
        &["--trust-proxy-header NAME (repeatable) or --no-proxy-headers"],
    )
    .stderr_lacks("--entry-point");
    assert!(!app.path().join(".warpdrive").exists());
}

#[test]
fn existing_files_need_force_without_a_terminal() {
    let app = apps::wsgi_module("hi");
    init_ok(app.path(), &["--yes"]);
    // Same answers again: nothing changes, nothing to confirm.
    let out = init_ok(app.path(), &["--yes"]);
    out.stdout_has("unchanged .warpdrive/server_type");
    let out = init(app.path(), &["--yes", "--server-type", "gunicorn"]);
    bad_input_naming(out, &[".warpdrive/server_type", "--force"]);
    assert_files(app.path(), "wsgi-module");
    let out = init_ok(
        app.path(),
        &["--yes", "--server-type", "gunicorn", "--force"],
    );
    out.stdout_has("wrote .warpdrive/server_type");
    let text = std::fs::read_to_string(app.path().join(".warpdrive/server_type")).unwrap();
    assert_eq!(text, "gunicorn\n");
    // No temp files are left behind.
    assert!(tree(&app.path().join(".warpdrive"))
        .iter()
        .all(|p| !p.to_string_lossy().contains(".init-")));
}

#[test]
fn dry_run_prints_the_files_and_writes_nothing() {
    let app = apps::django_path();
    let out = init_ok(app.path(), &["--yes", "--dry-run", "--deploy-hook"]);
    let s = out.stdout();
    assert!(
        s.contains("==> .warpdrive/server_type (new) <==\ndjango\n"),
        "{s}"
    );
    assert!(s.contains("entry_point = hello.wsgi:application"), "{s}");
    assert!(
        s.contains("==> .warpdrive/action_hooks/deploy (new) <=="),
        "{s}"
    );
    assert!(!app.path().join(".warpdrive").exists());
}

#[test]
fn bad_input_is_one_line_exit_2_and_writes_nothing() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--entry-point", "hello wsgi:app"],
            &["--entry-point", "module:callable"],
        ),
        (
            &["--entry-point", "$(touch x):app"],
            &["--entry-point", "not a WSGI entry point"],
        ),
        (
            &["--static-root", "../elsewhere"],
            &["--static-root", "outside the app"],
        ),
        (
            &["--static-root", "/etc"],
            &["--static-root", "outside the app"],
        ),
        (&["--static-root", "."], &["the app directory itself"]),
        (
            &["--static-url", "https://cdn.example/s/"],
            &["--static-url", "--no-static"],
        ),
        (
            &["--server-type", "tomcat"],
            &["--server-type", "unknown server type", "gunicorn"],
        ),
        (
            &[
                "--server-type",
                "django",
                "--trust-proxy-header",
                "Forwarded",
            ],
            &["Forwarded", "mod_wsgi"],
        ),
        (
            &["--trust-proxy-header", "X-Evil"],
            &["--trust-proxy-header", "unknown header"],
        ),
        (&["--threads", "0"], &["--threads", "1 to 512"]),
        (
            &["--server-type", "shell", "--processes", "2"],
            &["--processes", "shell"],
        ),
        (
            &["--server-type", "paste", "--entry-point", "a:b"],
            &["--entry-point", "paste"],
        ),
    ];
    for (args, needles) in cases {
        let app = apps::django_path();
        let mut all = vec!["--yes"];
        all.extend_from_slice(args);
        let out = init(app.path(), &all);
        bad_input_naming(out, needles);
        assert!(
            !app.path().join(".warpdrive").exists(),
            "{args:?} wrote files"
        );
    }
    // A symlink that leads out of the app is outside too.
    let app = apps::django_path();
    std::os::unix::fs::symlink("/etc", app.path().join("link")).unwrap();
    let out = init(app.path(), &["--yes", "--static-root", "link/static"]);
    bad_input_naming(out, &["outside the app"]);
    // `.warpdrive` as a file.
    let app = apps::django_path();
    write(&app.path().join(".warpdrive"), "django\n");
    let out = init(app.path(), &["--yes"]);
    bad_input_naming(out, &[".warpdrive", "is a file"]);
    assert_eq!(
        std::fs::read_to_string(app.path().join(".warpdrive")).unwrap(),
        "django\n"
    );
    // Nothing to detect and no type given.
    let empty = support::world_readable_tempdir();
    let out = init(empty.path(), &["--yes"]);
    bad_input_naming(out, &["no app found", "--server-type"]);
    assert!(!empty.path().join(".warpdrive").exists());
}

// ---------------------------------------------------------------- terminal

const DOWN: &str = "\x1b[B";

fn pty(dir: &Path, args: &[&str]) -> rexpect::session::PtySession {
    let mut cmd = warpdrive();
    cmd.arg("init").arg("--app-root").arg(dir).args(args);
    cmd.env("TERM", "xterm");
    rexpect::session::spawn_with_options(
        cmd,
        rexpect::reader::Options::new()
            .timeout_ms(Some(30_000))
            .strip_ansi_escape_codes(true),
    )
    .expect("spawn in a pty")
}

/// Types keys (rexpect buffers what is sent until a flush).
fn keys(p: &mut rexpect::session::PtySession, s: &str) {
    p.send(s).expect("send");
    p.flush().expect("flush");
}

fn exit_code(p: &mut rexpect::session::PtySession) -> i32 {
    use rexpect::process::WaitStatus;
    match p.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("init did not exit normally: {other:?}"),
    }
}

/// The select (moved off the detected default), text inputs with and
/// without their default, the multi-select, and the hook confirmation.
#[test]
fn interactive_flow_writes_the_chosen_answers() {
    let app = apps::django_path();
    let mut p = pty(app.path(), &[]);
    p.exp_string("Server type").unwrap();
    // The detected type is first, with why; every type has a line.
    p.exp_string("django    mod_wsgi-express hosting the Django project")
        .unwrap();
    p.exp_string("(detected: manage.py sets DJANGO_SETTINGS_MODULE=hello.settings)")
        .unwrap();
    p.exp_string("uwsgi     uWSGI").unwrap();
    p.exp_string("auto      detect the layout again").unwrap();
    // django, shell, python, paste, gunicorn: four down.
    keys(&mut p, &DOWN.repeat(4));
    keys(&mut p, "\r");
    p.exp_string("WSGI entry point (module:callable) [hello.wsgi:application]")
        .unwrap();
    keys(&mut p, "\r"); // the default
    p.exp_string("Static files URL (empty for none) [/static/]")
        .unwrap();
    keys(&mut p, "/assets/\r");
    p.exp_string("Static files directory (relative to the app) [static]")
        .unwrap();
    keys(&mut p, "\r");
    p.exp_string("Proxy headers to trust").unwrap();
    p.exp_string("Forwarded").unwrap();
    // X-Forwarded-For, then three down to X-Forwarded-Proto.
    keys(&mut p, " ");
    keys(&mut p, &DOWN.repeat(3));
    keys(&mut p, " \r");
    p.exp_string("Processes (empty: leave to MOD_WSGI_PROCESSES, default 1)")
        .unwrap();
    keys(&mut p, "3\r");
    p.exp_string("Threads (empty: leave to MOD_WSGI_THREADS, default 5)")
        .unwrap();
    keys(&mut p, "\r");
    p.exp_string("action_hooks/deploy skeleton").unwrap();
    p.exp_string("[y/N]").unwrap();
    keys(&mut p, "y\r");
    p.exp_string("wrote .warpdrive/action_hooks/deploy")
        .unwrap();
    p.exp_string("`warpdrive exec` will run (gunicorn").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
    assert_files(app.path(), "django-interactive");
}

/// Changing existing files shows the diff and asks; "n" writes nothing,
/// "y" writes (each taken with Enter).
#[test]
fn interactive_overwrite_shows_the_diff_and_asks() {
    let app = apps::django_path();
    init_ok(app.path(), &["--yes", "--server-type", "gunicorn"]);
    let before = std::fs::read(app.path().join(".warpdrive/server_type")).unwrap();

    let mut p = pty(app.path(), &["--yes"]);
    p.exp_string("--- a/.warpdrive/server_type").unwrap();
    p.exp_string("+++ b/.warpdrive/server_type").unwrap();
    p.exp_string("-gunicorn").unwrap();
    p.exp_string("+django").unwrap();
    p.exp_string("Overwrite .warpdrive/server_type, .warpdrive/server_args? [y/N]")
        .unwrap();
    keys(&mut p, "n\r");
    p.exp_string("nothing was written").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 1);
    assert_eq!(
        std::fs::read(app.path().join(".warpdrive/server_type")).unwrap(),
        before
    );

    let mut p = pty(app.path(), &["--yes"]);
    p.exp_string("Overwrite").unwrap();
    keys(&mut p, "y\r");
    p.exp_string("wrote .warpdrive/server_type").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
    assert_files(app.path(), "django");
}

/// Every answer but the deploy hook's given as flags, over files written
/// for gunicorn: two y/N questions in a row.
fn two_questions(app: &Path) -> rexpect::session::PtySession {
    pty(
        app,
        &[
            "--server-type",
            "django",
            "--entry-point",
            "hello.wsgi:application",
            "--static-url",
            "/static/",
            "--static-root",
            "static",
            "--no-proxy-headers",
            "--processes",
            "2",
            "--threads",
            "5",
        ],
    )
}

/// A y/N answer is a key and Enter: `n` alone answers nothing (once it
/// answered the hook question, and its Enter said "no" to "Overwrite?",
/// so the session was thrown away); the last key before Enter counts.
#[test]
fn a_y_or_n_is_taken_with_enter_and_enter_alone_is_the_default() {
    let app = apps::django_path();
    init_ok(app.path(), &["--yes", "--server-type", "gunicorn"]);
    let before = std::fs::read(app.path().join(".warpdrive/server_type")).unwrap();

    let mut p = two_questions(app.path());
    p.exp_string("action_hooks/deploy skeleton").unwrap();
    p.exp_string("[y/N]").unwrap();
    keys(&mut p, "n\r");
    p.exp_string("Overwrite .warpdrive/server_type").unwrap();
    p.exp_string("[y/N]").unwrap();
    // `n`, then `y`, then Enter: yes.
    keys(&mut p, "n");
    keys(&mut p, "y");
    keys(&mut p, "\r");
    p.exp_string("wrote .warpdrive/server_type").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
    assert_eq!(
        std::fs::read_to_string(app.path().join(".warpdrive/server_type")).unwrap(),
        "django\n"
    );
    assert!(!app.path().join(".warpdrive/action_hooks/deploy").exists());

    // Enter alone takes the default shown, N: no hook, and no overwrite.
    init_ok(
        app.path(),
        &["--yes", "--server-type", "gunicorn", "--force"],
    );
    let mut p = two_questions(app.path());
    p.exp_string("[y/N]").unwrap();
    keys(&mut p, "\r");
    p.exp_string("Overwrite").unwrap();
    p.exp_string("[y/N]").unwrap();
    keys(&mut p, "\r");
    p.exp_string("not overwriting; nothing was written")
        .unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 1);
    assert_eq!(
        std::fs::read(app.path().join(".warpdrive/server_type")).unwrap(),
        before
    );
}

/// A pty session that keeps the escape codes (to see the cursor shown).
fn raw_pty(dir: &Path, args: &[&str]) -> rexpect::session::PtySession {
    let mut cmd = warpdrive();
    cmd.arg("init").arg("--app-root").arg(dir).args(args);
    cmd.env("TERM", "xterm");
    rexpect::session::spawn_with_options(
        cmd,
        rexpect::reader::Options::new()
            .timeout_ms(Some(30_000))
            .strip_ansi_escape_codes(false),
    )
    .expect("spawn in a pty")
}

/// Ctrl-C in a prompt that hides the cursor (the select, a y/N question):
/// the cursor is shown again, init dies of SIGINT as any program does on
/// Ctrl-C (the shell's `$?` is 130), and nothing is written.
#[test]
fn ctrl_c_shows_the_cursor_again_exits_like_sigint_and_writes_nothing() {
    use rexpect::process::{Signal, WaitStatus};
    const HIDE: &str = "\x1b[?25l";
    const SHOW: &str = "\x1b[?25h";
    let interrupted = |p: &mut rexpect::session::PtySession| {
        keys(p, "\x03");
        let rest = p.exp_eof().unwrap();
        let shown = rest.rfind(SHOW).expect("the cursor is shown again");
        assert!(rest.rfind(HIDE).is_none_or(|h| h < shown), "{rest:?}");
        match p.process().wait().expect("wait") {
            WaitStatus::Signaled(_, Signal::SIGINT, _) => {}
            other => panic!("expected death by SIGINT, got {other:?}"),
        }
    };

    // In the select, before any file exists.
    let app = apps::django_path();
    let mut p = raw_pty(app.path(), &[]);
    // (The select hides the cursor before it draws the items.)
    p.exp_string(HIDE).unwrap();
    p.exp_string("detect the layout again").unwrap();
    interrupted(&mut p);
    assert!(!app.path().join(".warpdrive").exists());

    // In "Overwrite?", after the diff: the old files stay.
    init_ok(app.path(), &["--yes", "--server-type", "gunicorn"]);
    let before = tree(&app.path().join(".warpdrive"));
    let server_type = std::fs::read(app.path().join(".warpdrive/server_type")).unwrap();
    let mut p = raw_pty(app.path(), &["--yes"]);
    p.exp_string("Overwrite").unwrap();
    p.exp_string(HIDE).unwrap();
    interrupted(&mut p);
    assert_eq!(tree(&app.path().join(".warpdrive")), before);
    assert_eq!(
        std::fs::read(app.path().join(".warpdrive/server_type")).unwrap(),
        server_type
    );
}

// ---------------------------------------------------------------- real servers

#[test]
fn django_after_init_serves_pages_and_static_files() {
    let app = apps::django_path();
    init_ok(app.path(), &["--yes"]);
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!(r.status, 200, "{}", running.log());
    assert!(r.body.contains("Hello from Django"), "{}", r.body);
    let r = running.get("/static/hello.txt", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, "static file served by warpdrive")
    );
    running.stop();
    // The recorded values are what exec uses: no settings import at start.
    assert!(plan(app.path())["reason"]
        .as_str()
        .unwrap()
        .contains("recorded in"));
}

/// The header chosen at init is recorded, and the launcher's middleware
/// applies it under gunicorn (and strips the untrusted X-Real-IP).
#[test]
fn wsgi_module_after_init_on_gunicorn_trusts_the_chosen_header() {
    let app = apps::wsgi_module("hello from init");
    init_ok(
        app.path(),
        &[
            "--yes",
            "--server-type",
            "gunicorn",
            "--trust-proxy-header",
            "X-Forwarded-For",
            "--processes",
            "2",
        ],
    );
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!((r.status, r.body.trim()), (200, "hello from init"));
    let r = running.get(
        "/env",
        &[("X-Forwarded-For", "203.0.113.9"), ("X-Real-IP", "6.6.6.6")],
    );
    let env: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(env["REMOTE_ADDR"], "203.0.113.9", "{env}");
    assert!(env.get("HTTP_X_REAL_IP").is_none(), "{env}");
    running.stop();
}

#[test]
fn wsgi_module_after_init_on_mod_wsgi_serves() {
    let app = apps::wsgi_module("hello mod_wsgi");
    init_ok(app.path(), &["--yes", "--processes", "2"]);
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!((r.status, r.body.trim()), (200, "hello mod_wsgi"));
    running.stop();
}

#[test]
fn forwarded_is_recorded_for_the_middleware_with_a_warning() {
    let app = apps::wsgi_module("hi");
    let out = init_ok(
        app.path(),
        &[
            "--yes",
            "--server-type",
            "uwsgi",
            "--trust-proxy-header",
            "forwarded",
        ],
    );
    out.stderr_has("Forwarded is recorded, but");
    let record = std::fs::read_to_string(app.path().join(".warpdrive/application")).unwrap();
    assert!(
        record.contains("\ntrust_proxy_headers = Forwarded\n"),
        "{record}"
    );
}
