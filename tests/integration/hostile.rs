//! Hostile input, each case reproduced against the real binary (issue 11,
//! items 14–18): values that would reach mod_wsgi-express's generated shell
//! script, odd files in `.warpdrive/`, a closed stdout, and `init` asked to
//! write through symlinks. The proxy-header cases live in `middleware.rs`.
//!
//! `WARPDRIVE_TEST_BIN=/path/to/old/kubectl-warpdrive cargo test --test
//! integration hostile::` runs them against another build.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{self, Checked, Outcome, RunExt};

/// A small WSGI app (`wsgi.py`), world-readable, for Apache's worker user.
fn wsgi_app() -> tempfile::TempDir {
    let dir = support::world_readable_tempdir();
    support::write(
        &dir.path().join("wsgi.py"),
        "def application(environ, start_response):\n    \
         start_response('200 OK', [('Content-Type', 'text/plain')])\n    \
         return [b'ok']\n",
    );
    dir
}

fn exec_in(app: &Path) -> Command {
    let mut cmd = support::warpdrive();
    cmd.arg("exec").arg("--app-root").arg(app);
    cmd
}

// ------------------------------------------------------------ closed stdout

/// Runs `cmd` with its stdout a pipe nobody reads (the read end is closed
/// before the command starts), as `cmd | true` after `true` exited.
fn run_with_closed_stdout(cmd: &mut Command) -> Outcome {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped());
    let mut guard = support::spawn(cmd);
    let mut stderr = guard.child().stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut text);
        text
    });
    let status = guard
        .wait_timeout(Duration::from_secs(60))
        .expect("the command did not finish with a closed stdout");
    let stderr = reader.join().expect("stderr reader");
    Output {
        status,
        stdout: Vec::new(),
        stderr,
    }
    .check()
}

#[test]
fn a_closed_stdout_ends_exec_dry_run_quietly() {
    let app = wsgi_app();
    for extra in [&[][..], &["-o", "json"][..]] {
        run_with_closed_stdout(exec_in(app.path()).arg("--dry-run").args(extra))
            .success()
            .stderr_lacks("panicked")
            .stderr_lacks("error");
    }
}

#[test]
fn a_closed_stdout_ends_init_quietly_and_init_still_writes() {
    let app = wsgi_app();
    let mut dry = support::warpdrive();
    dry.arg("init")
        .arg("--app-root")
        .arg(app.path())
        .args(["--yes", "--dry-run"]);
    run_with_closed_stdout(&mut dry)
        .success()
        .stderr_lacks("panicked");
    let mut init = support::warpdrive();
    init.arg("init")
        .arg("--app-root")
        .arg(app.path())
        .arg("--yes");
    run_with_closed_stdout(&mut init)
        .success()
        .stderr_lacks("panicked");
    assert!(app.path().join(".warpdrive/server_type").is_file());
}

#[test]
fn a_closed_stdout_ends_tune_local_and_list_quietly() {
    let manifest = support::repo().join("tests/integration/manifests/simple.yaml");
    for args in [&["--threads", "4"][..], &["--list"][..]] {
        let mut cmd = support::warpdrive();
        cmd.args(["tune", "--local", "-f"])
            .arg(&manifest)
            .args(args);
        run_with_closed_stdout(&mut cmd)
            .success()
            .stderr_lacks("panicked");
    }
}

// ------------------------------------------------------------ .warpdrive files

/// The `.warpdrive` files the launcher reads.
const READ_FILES: &[&str] = &["server_type", "server_args", "application"];

/// `exec --dry-run` and a real `exec` (which would start Apache) of `app`
/// must both refuse at once; the real one must start nothing.
fn both_refuse(app: &Path) -> Vec<Outcome> {
    let bound = Duration::from_secs(20);
    vec![
        exec_in(app).arg("--dry-run").run_within(bound).bad_input(),
        exec_in(app).run_within(bound).bad_input(),
    ]
}

fn mkfifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
}

#[test]
fn a_fifo_in_warpdrive_is_refused_instead_of_hanging() {
    for name in READ_FILES {
        let app = wsgi_app();
        std::fs::create_dir(app.path().join(".warpdrive")).unwrap();
        mkfifo(&app.path().join(".warpdrive").join(name));
        for out in both_refuse(app.path()) {
            out.stderr_has(&format!(".warpdrive/{name}: is a FIFO"));
        }
    }
}

#[test]
fn a_symlink_out_of_the_app_is_refused_and_its_target_never_shown() {
    // /etc/shadow exists where tests run as root; any readable file outside
    // the app makes the point where they do not.
    let secret = ["/etc/shadow", "/etc/passwd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("a file outside the app");
    let first_line = std::fs::read_to_string(secret)
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string))
        .unwrap_or_else(|| "root:".to_string());
    for name in READ_FILES {
        let app = wsgi_app();
        std::fs::create_dir(app.path().join(".warpdrive")).unwrap();
        std::os::unix::fs::symlink(secret, app.path().join(".warpdrive").join(name)).unwrap();
        for out in both_refuse(app.path()) {
            out.stderr_lacks(&first_line)
                .stderr_lacks("root:")
                .stderr_has(&format!(
                    ".warpdrive/{name}: a symlink leading out of the app"
                ));
        }
    }
    // .warpdrive itself pointing elsewhere.
    let elsewhere = support::world_readable_tempdir();
    support::write(&elsewhere.path().join("server_type"), "gunicorn\n");
    let app = wsgi_app();
    std::os::unix::fs::symlink(elsewhere.path(), app.path().join(".warpdrive")).unwrap();
    for out in both_refuse(app.path()) {
        out.stderr_has(".warpdrive: a symlink leading out of the app");
    }
}

/// The app's own files that detection reads without Python (`manage.py`,
/// the settings module it names, `production.ini`/`development.ini`) get
/// the same checks as `.warpdrive/`: a FIFO is refused at once (it hung
/// `exec` forever when opened), a symlink out of the app is refused and
/// its target never shown; a symlink inside the app is followed.
#[test]
fn app_sources_detection_reads_get_the_same_checks() {
    const MANAGE: &str =
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n";
    let django = || {
        let app = support::world_readable_tempdir();
        support::write(&app.path().join("manage.py"), MANAGE);
        support::write(&app.path().join("proj/__init__.py"), "");
        app
    };
    type Make = fn(&Path);
    let fifo: Make = |p| mkfifo(p);
    let out: Make = |p| std::os::unix::fs::symlink("/etc/passwd", p).unwrap();
    for (make, says) in [
        (fifo, "is a FIFO (named pipe), not a regular file"),
        (out, "a symlink leading out of the app (to /etc/passwd)"),
    ] {
        for file in ["manage.py", "proj/settings.py"] {
            let app = django();
            let path = app.path().join(file);
            let _ = std::fs::remove_file(&path);
            make(&path);
            for o in both_refuse(app.path()) {
                o.stderr_has(&format!("{file}: {says}"))
                    .stderr_lacks("root:");
            }
        }
        for file in ["production.ini", "development.ini"] {
            let app = support::world_readable_tempdir();
            make(&app.path().join(file));
            for o in both_refuse(app.path()) {
                o.stderr_has(&format!("{file}: {says}"));
            }
        }
    }
    // Inside the app, a symlinked settings module is read as usual.
    let app = django();
    support::write(
        &app.path().join("conf/settings.py"),
        "WSGI_APPLICATION = 'proj.wsgi.application'\n",
    );
    std::os::unix::fs::symlink("../conf/settings.py", app.path().join("proj/settings.py")).unwrap();
    exec_in(app.path())
        .arg("--dry-run")
        .run()
        .success()
        .stdout_has("--entry-point proj.wsgi");
}

#[test]
fn a_symlink_inside_the_app_is_followed() {
    let app = wsgi_app();
    support::write(&app.path().join("config/type"), "gunicorn\n");
    std::fs::create_dir(app.path().join(".warpdrive")).unwrap();
    std::os::unix::fs::symlink("../config/type", app.path().join(".warpdrive/server_type"))
        .unwrap();
    exec_in(app.path())
        .arg("--dry-run")
        .run()
        .success()
        .stdout_has("gunicorn --bind");
}

#[test]
fn odd_files_in_warpdrive_exit_2_name_the_file_and_say_the_os_error_once() {
    type Make = fn(&Path);
    let cases: [(&str, Make, &str); 3] = [
        (
            "non-UTF-8 content",
            |p| std::fs::write(p, b"gunicorn \xff\xfe\n").unwrap(),
            "not UTF-8",
        ),
        (
            "a directory",
            |p| std::fs::create_dir(p).unwrap(),
            "is a directory",
        ),
        (
            "a symlink loop",
            |p| std::os::unix::fs::symlink(p.file_name().unwrap(), p).unwrap(),
            "os error",
        ),
    ];
    for (what, make, says) in cases {
        for name in ["server_type", "application"] {
            let app = wsgi_app();
            std::fs::create_dir(app.path().join(".warpdrive")).unwrap();
            make(&app.path().join(".warpdrive").join(name));
            for out in both_refuse(app.path()) {
                let out = out
                    .stderr_has(&format!(".warpdrive/{name}: "))
                    .stderr_has(says);
                assert!(
                    out.stderr().matches("os error").count() <= 1,
                    "{what} in {name}: the OS error is said more than once: {}",
                    out.stderr()
                );
            }
        }
    }
}

#[test]
fn long_values_are_cut_in_messages() {
    let app = wsgi_app();
    let long = format!("gunicorn{}", "x".repeat(5000));
    support::write(&app.path().join(".warpdrive/server_type"), &long);
    let out = exec_in(app.path())
        .arg("--dry-run")
        .run()
        .bad_input()
        .stderr_has("unknown server type")
        .stderr_has("…")
        .stderr_lacks(&"x".repeat(100));
    assert!(out.stderr().len() < 400, "{}", out.stderr());
}

#[test]
fn a_hook_that_is_a_symlink_out_of_the_app_never_runs() {
    let outside = support::world_readable_tempdir();
    let marker = outside.path().join("ran");
    let script = outside.path().join("hook.sh");
    support::write(&script, &format!("#!/bin/sh\ntouch {}\n", marker.display()));
    support::make_executable(&script);
    let app = support::world_readable_tempdir();
    support::write(&app.path().join("app.sh"), "#!/bin/sh\nexit 0\n");
    support::make_executable(&app.path().join("app.sh"));
    std::fs::create_dir_all(app.path().join(".warpdrive/action_hooks")).unwrap();
    std::os::unix::fs::symlink(&script, app.path().join(".warpdrive/action_hooks/deploy")).unwrap();
    exec_in(app.path())
        .run_within(Duration::from_secs(20))
        .bad_input()
        .stderr_has(".warpdrive/action_hooks/deploy: a symlink leading out of the app");
    assert!(!marker.exists(), "the hook outside the app ran");
}

// ------------------------------------------------------------ init and symlinks

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn init_never_writes_through_a_symlink_out_of_the_app() {
    // (link in the app, what it points at, extra init flags)
    let cases: [(&str, &[&str]); 4] = [
        (".warpdrive", &[]),
        (".warpdrive/server_args", &[]),
        (".warpdrive/action_hooks", &["--deploy-hook"]),
        (".warpdrive/server_type", &[]),
    ];
    for (link, flags) in cases {
        let outside = support::world_readable_tempdir();
        let app = wsgi_app();
        let link_path = app.path().join(link);
        std::fs::create_dir_all(link_path.parent().unwrap()).unwrap();
        let target = if link.ends_with("server_type") {
            let f = outside.path().join("victim");
            support::write(&f, "precious\n");
            f
        } else {
            outside.path().to_path_buf()
        };
        std::os::unix::fs::symlink(&target, &link_path).unwrap();
        let before = files_under(outside.path());
        let mut init = support::warpdrive();
        init.arg("init")
            .arg("--app-root")
            .arg(app.path())
            .args(["--yes", "--force"])
            .args(flags);
        init.run()
            .bad_input()
            .stderr_has(&format!("{link}: a symlink leading out of the app"));
        assert_eq!(
            files_under(outside.path()),
            before,
            "{link}: init wrote outside the app"
        );
        if link.ends_with("server_type") {
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        }
    }
}

// ------------------------------------------------------------ mod_wsgi-express

/// A real `exec` of `app` on mod_wsgi (port `port`), bounded: a refusal
/// returns at once; the binary before the fix started Apache and ran the
/// injected command.
fn exec_mod_wsgi(app: &Path, port: u16, env: &[(&str, &str)]) -> Outcome {
    let runtime = app.join(".runtime");
    let mut cmd = exec_in(app);
    cmd.args(["--server-type", "mod_wsgi"])
        .env("WARPDRIVE_HTTP_PORT", port.to_string())
        .env("WARPDRIVE_RUNTIME_DIR", &runtime)
        .envs(env.iter().copied());
    cmd.run_within(Duration::from_secs(30))
}

fn nothing_listens(port: u16) {
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something started on port {port}"
    );
}

#[test]
fn shell_syntax_in_a_mod_wsgi_knob_is_refused_and_never_runs() {
    let app = wsgi_app();
    let marker = app.path().join("PWNED");
    let port = support::free_port();
    let value = format!("{}$(touch {})", app.path().display(), marker.display());
    exec_mod_wsgi(app.path(), port, &[("MOD_WSGI_WORKING_DIRECTORY", &value)])
        .bad_input()
        .stderr_has("MOD_WSGI_WORKING_DIRECTORY=")
        .stderr_has("without `$`")
        .stderr_has("apachectl");
    assert!(!marker.exists(), "the injected command ran");
    nothing_listens(port);
    for (name, value) in [
        (
            "MOD_WSGI_WORKING_DIRECTORY",
            format!("{}`id`", app.path().display()),
        ),
        (
            "MOD_WSGI_CALLABLE_OBJECT",
            "application'; import os; '".to_string(),
        ),
        ("MOD_WSGI_ENTRY_POINT", "wsgi\\".to_string()),
    ] {
        exec_mod_wsgi(app.path(), port, &[(name, &value)])
            .bad_input()
            .stderr_has(&format!("{name}="));
    }
}

#[test]
fn shell_syntax_in_server_args_for_mod_wsgi_is_refused_and_never_runs() {
    let app = wsgi_app();
    let marker = app.path().join("PWNED");
    let port = support::free_port();
    for line in [
        format!(
            "--working-directory '{}$(touch {})'",
            app.path().display(),
            marker.display()
        ),
        format!(
            "--working-dir={}`touch {}`",
            app.path().display(),
            marker.display()
        ),
        format!("--locale \"C.UTF-8'; touch {}; '\"", marker.display()),
        format!("--server-root '/tmp/x;touch {}'", marker.display()),
    ] {
        support::write(
            &app.path().join(".warpdrive/server_args"),
            &format!("{line}\n"),
        );
        exec_mod_wsgi(app.path(), port, &[])
            .bad_input()
            .stderr_has(".warpdrive/server_args: --")
            .stderr_has("mod_wsgi-express writes this value into");
        assert!(!marker.exists(), "{line}: the injected command ran");
        nothing_listens(port);
    }
}

#[test]
fn a_line_break_in_a_mod_wsgi_value_is_refused() {
    let app = wsgi_app();
    let port = support::free_port();
    let injected = support::free_port();
    let value = format!("{}\nListen 127.0.0.1:{injected}", app.path().display());
    exec_mod_wsgi(app.path(), port, &[("MOD_WSGI_WORKING_DIRECTORY", &value)])
        .bad_input()
        .stderr_has("a line break");
    support::write(
        &app.path().join(".warpdrive/server_args"),
        &format!("--server-name \"x\nListen 127.0.0.1:{injected}\"\n"),
    );
    exec_mod_wsgi(app.path(), port, &[])
        .bad_input()
        .stderr_has(".warpdrive/server_args: --server-name")
        .stderr_has("a line break");
    nothing_listens(port);
    nothing_listens(injected);
}

#[test]
fn the_locale_from_the_environment_is_checked_too() {
    let app = wsgi_app();
    let port = support::free_port();
    exec_mod_wsgi(app.path(), port, &[("LANG", "C.UTF-8'$(id)'")])
        .bad_input()
        .stderr_has("LANG=");
    nothing_listens(port);
}

#[test]
fn tune_set_refuses_the_same_values_before_anything_is_sent() {
    use crate::apiserver::{container, ApiServer};
    let server = ApiServer::start();
    server.add_deployment(
        "blog",
        1,
        serde_json::json!([container("web", &[("MOD_WSGI_PROCESSES", "1")])]),
    );
    for value in ["/x$(touch /tmp/F)", "/srv/app\nListen 9999", "/x`id`"] {
        server
            .run(&[
                "tune",
                "deploy/blog",
                "--set",
                &format!("MOD_WSGI_WORKING_DIRECTORY={value}"),
            ])
            .bad_input()
            .stderr_has("--set: MOD_WSGI_WORKING_DIRECTORY=");
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    let manifest = support::repo().join("tests/integration/manifests/simple.yaml");
    support::warpdrive()
        .args(["tune", "--local", "-f"])
        .arg(&manifest)
        .args(["--set", "MOD_WSGI_CALLABLE_OBJECT=app'x"])
        .run()
        .bad_input()
        .stderr_has("MOD_WSGI_CALLABLE_OBJECT=");
}

#[test]
fn ordinary_mod_wsgi_values_still_start() {
    let app = wsgi_app();
    let port = support::free_port();
    support::write(
        &app.path().join(".warpdrive/server_args"),
        "--setenv GREETING 'hello world' --access-log-format '%h \\\"%r\\\"'\n",
    );
    let mut cmd = exec_in(app.path());
    cmd.args(["--server-type", "mod_wsgi"])
        .env("WARPDRIVE_HTTP_PORT", port.to_string())
        .env("WARPDRIVE_RUNTIME_DIR", app.path().join(".runtime"))
        .env("MOD_WSGI_WORKING_DIRECTORY", app.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _server = support::spawn(&mut cmd);
    let r = support::wait_for_200(port, "/", Duration::from_secs(60));
    assert_eq!(r.map(|r| r.body).as_deref(), Some("ok"));
}
