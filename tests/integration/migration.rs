//! The variables people migrate with (issue 15 part 2): the OpenShift S2I
//! Python image's `APP_*`, `GUNICORN_CMD_ARGS`, `WEB_CONCURRENCY`, `PORT`,
//! `DISABLE_COLLECTSTATIC`, `DISABLE_MIGRATE`, and Heroku's Procfile, one
//! test each, through real servers and real requests; what wins over what
//! (the README's table); hostile values refused with exit 2, naming the
//! variable, before anything starts.

use std::path::Path;
use std::time::Duration;

use crate::apps;
use crate::exec::{dry_json, dry_run, start, start_with_port_in, Running};
use crate::support::{self, make_executable, repo, warpdrive, write, RunExt};

const RUN: Duration = Duration::from_secs(60);

fn put(dir: &Path, file: &str, text: &str) {
    write(&dir.join(".warpdrive").join(file), text);
    support::set_mode(&dir.join(".warpdrive"), 0o755);
}

fn canonical(p: &Path) -> String {
    p.canonicalize().unwrap().display().to_string()
}

fn body(running: &Running, path: &str) -> String {
    let r = running.get(path, &[]);
    assert_eq!(r.status, 200, "{path}: {}\nlog:\n{}", r.body, running.log());
    r.body
}

fn argv(plan: &serde_json::Value) -> Vec<String> {
    plan["argv"]
        .as_array()
        .unwrap_or_else(|| panic!("no argv: {plan}"))
        .iter()
        .map(|a| a.as_str().unwrap_or("").to_string())
        .collect()
}

/// A probe app `hello.py` (`app` answers `name`) beside the heroku shape's
/// `app.py` (which listens on `$PORT`).
fn heroku_with_module(name: &str) -> tempfile::TempDir {
    let app = apps::shape("heroku");
    write(
        &app.path().join("hello.py"),
        &format!("import probe\n\napp = probe.make({name:?})\n"),
    );
    app
}

/// The hostile values of a file variable, each refused naming it.
fn refuses_hostile_files(dir: &Path, name: &str, extra: &[(&str, &str)]) {
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("x.sh"), "#!/bin/sh\n");
    let outside_file = outside.path().join("x.sh").display().to_string();
    std::os::unix::fs::symlink(&outside_file, dir.join("escape")).unwrap();
    for bad in [
        "../x.sh",
        outside_file.as_str(),
        "escape",
        "; touch pwned",
        "$(touch pwned)",
        "missing.py",
    ] {
        let mut env = vec![(name, bad)];
        env.extend_from_slice(extra);
        dry_run(dir, &env, &[])
            .bad_input()
            .stderr_has(&format!("{name}="))
            .stderr_has(&format!("set {name} to"));
    }
    std::fs::remove_file(dir.join("escape")).unwrap();
    assert!(!dir.join("pwned").exists());
}

#[test]
fn app_script_runs_the_script_before_app_py() {
    let app = apps::shape("heroku");
    let a = app.path();
    std::fs::create_dir(a.join("bin")).unwrap();
    let script = a.join("bin/start");
    write(
        &script,
        "#!/bin/sh\nexport FROM_SCRIPT=\"script in $(pwd)\"\nexec python app.py\n",
    );
    make_executable(&script);
    let env = [("APP_SCRIPT", "bin/start")];
    let plan = dry_json(a, &env);
    assert_eq!(plan["server_type"], "shell", "{plan}");
    assert_eq!(argv(&plan), [canonical(&script)], "{plan}");
    let reason = plan["reason"].as_str().unwrap();
    assert!(reason.contains("APP_SCRIPT=\"bin/start\""), "{plan}");
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/"), "heroku");
    assert_eq!(
        body(&running, "/env/FROM_SCRIPT"),
        format!("script in {}", canonical(a))
    );
    running.stop();
    // Not executable: the fix.
    support::set_mode(&script, 0o644);
    dry_run(a, &env, &[])
        .bad_input()
        .stderr_has("APP_SCRIPT: ")
        .stderr_has("chmod +x");
    refuses_hostile_files(a, "APP_SCRIPT", &[]);
    // A configured type wins over it, and says so.
    apps::server_type(a, "python");
    support::set_mode(&script, 0o755);
    let plan = dry_json(a, &env);
    assert_eq!(plan["server_type"], "python", "{plan}");
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("APP_SCRIPT ignored (not used by python)"),
        "{plan}"
    );
}

#[test]
fn app_file_runs_python_on_the_file() {
    let app = apps::shape("heroku");
    let a = app.path();
    std::fs::rename(a.join("app.py"), a.join("serve.py")).unwrap();
    let env = [("APP_FILE", "serve.py")];
    let plan = dry_json(a, &env);
    assert_eq!(plan["server_type"], "python", "{plan}");
    assert_eq!(argv(&plan)[1], canonical(&a.join("serve.py")), "{plan}");
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/"), "heroku");
    running.stop();
    // `-c` is a file name here, never a Python option.
    refuses_hostile_files(a, "APP_FILE", &[]);
    dry_run(a, &[("APP_FILE", "-c")], &[])
        .bad_input()
        .stderr_has("APP_FILE=\"-c\"");
    // The python type takes it too.
    apps::server_type(a, "python");
    assert_eq!(argv(&dry_json(a, &env))[1], canonical(&a.join("serve.py")));
}

#[test]
fn app_module_is_gunicorns_target_and_wins_over_app_py() {
    let app = heroku_with_module("app module on gunicorn");
    let a = app.path();
    let env = [("APP_MODULE", "hello:app")];
    let plan = dry_json(a, &env);
    assert_eq!(plan["server_type"], "gunicorn", "{plan}");
    assert_eq!(argv(&plan).last().unwrap(), "hello:app", "{plan}");
    assert!(
        plan["reason"].as_str().unwrap().contains("from APP_MODULE"),
        "{plan}"
    );
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/"), "app module on gunicorn");
    assert!(
        running.log().contains("Booting worker"),
        "{}",
        running.log()
    );
    running.stop();
    // The target on another app server, and MOD_WSGI_ENTRY_POINT above it.
    apps::server_type(a, "waitress");
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/"), "app module on gunicorn");
    running.stop();
    let plan = dry_json(
        a,
        &[
            ("APP_MODULE", "hello:app"),
            ("MOD_WSGI_ENTRY_POINT", "other"),
        ],
    );
    assert!(
        argv(&plan).iter().any(|w| w.contains("other:application")),
        "{plan}"
    );
    for bad in ["--config=/etc/passwd", "hello:app; id", "a b", "../hello"] {
        dry_run(a, &[("APP_MODULE", bad)], &[])
            .bad_input()
            .stderr_has("APP_MODULE=")
            .stderr_has("MODULE:CALLABLE");
    }
}

#[test]
fn app_home_is_the_home_below_warpdrive_home() {
    let app = apps::shape("home");
    let a = app.path();
    std::fs::remove_file(a.join(".warpdrive/home")).unwrap();
    let src = a.join("src");
    let env = [("APP_HOME", "src"), ("WARPDRIVE_SERVER_TYPE", "gunicorn")];
    let plan = dry_json(a, &env);
    assert_eq!(plan["cwd"], canonical(&src), "{plan}");
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/"), "home with shared code");
    assert_eq!(body(&running, "/cwd"), canonical(&src));
    // The source tree stays on PYTHONPATH, after the home (S2I puts it there too).
    assert_eq!(
        body(&running, "/env/PYTHONPATH")
            .split(':')
            .take(2)
            .collect::<Vec<_>>(),
        [canonical(&src), canonical(a)]
    );
    running.stop();
    for bad in ["/etc", "..", "missing", "src/../.."] {
        dry_run(a, &[("APP_HOME", bad)], &[])
            .bad_input()
            .stderr_has("APP_HOME: ");
    }
    // .warpdrive/home and WARPDRIVE_APP_HOME win over it.
    std::fs::create_dir(a.join("other")).unwrap();
    write(&a.join("other/wsgi.py"), "application = None\n");
    put(a, "home", "other\n");
    assert_eq!(dry_json(a, &env)["cwd"], canonical(&a.join("other")));
    std::fs::remove_file(a.join(".warpdrive/home")).unwrap();
    let plan = dry_json(a, &[("APP_HOME", "src"), ("WARPDRIVE_APP_HOME", "other")]);
    assert_eq!(plan["cwd"], canonical(&a.join("other")), "{plan}");
}

#[test]
fn app_config_gives_gunicorn_its_settings() {
    let app = heroku_with_module("configured");
    let a = app.path();
    write(
        &a.join("gunicorn.conf"),
        "raw_env = [\"FROM_CONFIG=yes\"]\naccesslog = None\n",
    );
    let env = [("APP_MODULE", "hello:app"), ("APP_CONFIG", "gunicorn.conf")];
    let plan = dry_json(a, &env);
    let words = argv(&plan);
    let config = canonical(&a.join("gunicorn.conf"));
    assert!(
        words.windows(2).any(|w| w == ["--config", config.as_str()]),
        "{plan}"
    );
    // The S2I rule: the default bind, workers and log options are left out.
    for left_out in ["--bind", "--workers", "--threads", "--access-logfile"] {
        assert!(!words.iter().any(|w| w == left_out), "{left_out}: {plan}");
    }
    // gunicorn's own default binds 0.0.0.0:$PORT.
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/"), "configured");
    assert_eq!(body(&running, "/env/FROM_CONFIG"), "yes");
    running.stop();
    // A MOD_WSGI_* variable you set is still passed (and wins).
    let plan = dry_json(
        a,
        &[
            ("APP_MODULE", "hello:app"),
            ("APP_CONFIG", "gunicorn.conf"),
            ("MOD_WSGI_THREADS", "3"),
        ],
    );
    assert!(
        argv(&plan).windows(2).any(|w| w == ["--threads", "3"]),
        "{plan}"
    );
    for bad in ["/etc/passwd", "../gunicorn.conf", "python:os;id", "python:"] {
        dry_run(a, &[("APP_MODULE", "hello:app"), ("APP_CONFIG", bad)], &[])
            .bad_input()
            .stderr_has("APP_CONFIG=");
    }
}

#[test]
fn gunicorn_cmd_args_are_read_by_gunicorn_and_drop_the_defaults() {
    let app = heroku_with_module("cmd args");
    let a = app.path();
    let env = [
        ("APP_MODULE", "hello:app"),
        ("GUNICORN_CMD_ARGS", "--env FROM_ARGS=yes --workers 2"),
    ];
    let plan = dry_json(a, &env);
    let words = argv(&plan);
    assert!(
        !words.iter().any(|w| w == "--bind" || w == "--workers"),
        "{plan}"
    );
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/env/FROM_ARGS"), "yes");
    // Two workers, as the variable said (gunicorn logs each boot).
    let booted = wait_for_count(&running, "Booting worker", 2);
    assert_eq!(booted, 2, "{}", running.log());
    running.stop();
    // Not for other servers: said, not applied.
    apps::server_type(a, "waitress");
    let plan = dry_json(a, &env);
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("GUNICORN_CMD_ARGS ignored (not used by waitress)"),
        "{plan}"
    );
}

/// How many times `what` is in the log, once it reaches `want` (bounded).
fn wait_for_count(running: &Running, what: &str, want: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let n = running.log().matches(what).count();
        if n >= want || std::time::Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn web_concurrency_sets_the_processes_unless_mod_wsgi_processes_does() {
    let app = heroku_with_module("concurrent");
    let a = app.path();
    let env = [("APP_MODULE", "hello:app"), ("WEB_CONCURRENCY", "3")];
    let plan = dry_json(a, &env);
    assert!(
        argv(&plan).windows(2).any(|w| w == ["--workers", "3"]),
        "{plan}"
    );
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("3 processes from WEB_CONCURRENCY"),
        "{plan}"
    );
    let running = start(a, &env, &[]);
    assert_eq!(body(&running, "/"), "concurrent");
    assert_eq!(
        wait_for_count(&running, "Booting worker", 3),
        3,
        "{}",
        running.log()
    );
    running.stop();
    // mod_wsgi too.
    apps::server_type(a, "mod_wsgi");
    put(
        a,
        "server_args",
        "--application-type module --entry-point hello\n",
    );
    let plan = dry_json(a, &env);
    assert!(
        argv(&plan).windows(2).any(|w| w == ["--processes", "3"]),
        "{plan}"
    );
    // MOD_WSGI_PROCESSES wins.
    let plan = dry_json(a, &[("WEB_CONCURRENCY", "3"), ("MOD_WSGI_PROCESSES", "2")]);
    assert!(
        argv(&plan).windows(2).any(|w| w == ["--processes", "2"]),
        "{plan}"
    );
    for bad in ["lots", "0", "3; id", "-1", "1000"] {
        dry_run(a, &[("WEB_CONCURRENCY", bad)], &[])
            .bad_input()
            .stderr_has("WEB_CONCURRENCY=")
            .stderr_has("fix or unset WEB_CONCURRENCY");
    }
}

#[test]
fn port_alone_is_the_port_the_server_listens_on() {
    // The Heroku app reads $PORT; gunicorn is given it by the launcher.
    for server in [None, Some("gunicorn")] {
        let app = heroku_with_module("on PORT");
        let a = app.path();
        let mut env = vec![("WARPDRIVE_HTTP_PORT", "")];
        if server.is_some() {
            env.push(("APP_MODULE", "hello:app"));
        }
        let running = start_with_port_in("PORT", a, &env, &[]);
        let port = running.port.to_string();
        assert_eq!(body(&running, "/env/PORT"), port);
        assert_eq!(body(&running, "/env/WARPDRIVE_HTTP_PORT"), port);
        running.stop();
    }
    let app = apps::shape("heroku");
    for bad in ["http", "0", "70000", "80; id"] {
        dry_run(app.path(), &[("PORT", bad)], &[])
            .bad_input()
            .stderr_has("PORT=")
            .stderr_has("fix or unset PORT");
    }
    // WARPDRIVE_HTTP_PORT wins, and PORT follows it, with a warning.
    dry_run(
        app.path(),
        &[("PORT", "5000"), ("WARPDRIVE_HTTP_PORT", "9000")],
        &["-o", "json"],
    )
    .success()
    .stderr_has("PORT=\"5000\" and WARPDRIVE_HTTP_PORT=\"9000\" differ");
    let plan = dry_json(
        app.path(),
        &[("PORT", "5000"), ("WARPDRIVE_HTTP_PORT", "9000")],
    );
    assert_eq!(plan["env"]["PORT"], "9000", "{plan}");
}

/// examples/hello-django without STATIC_ROOT, collected files or
/// requirements (Django comes from the test venv on PATH).
fn django_without_static() -> tempfile::TempDir {
    let app = support::copy_app(&repo().join("examples/hello-django"));
    std::fs::remove_dir_all(app.path().join("static")).unwrap();
    std::fs::remove_file(app.path().join("requirements.txt")).unwrap();
    let settings = app.path().join("hello/settings.py");
    let text = std::fs::read_to_string(&settings).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("STATIC_ROOT"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(&settings, &text);
    app
}

#[test]
fn disable_collectstatic_skips_the_build_step() {
    let app = django_without_static();
    let a = app.path();
    let root = support::world_readable_tempdir();
    let build = |env: &[(&str, &str)]| {
        let mut cmd = warpdrive();
        cmd.arg("build")
            .arg("--app-root")
            .arg(a)
            .env("WARPDRIVE_APP_ROOT", root.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.run_within(Duration::from_secs(300)).success()
    };
    let env = [("WARPDRIVE_APP_ROOT", root.path().to_str().unwrap())];
    build(&[("DISABLE_COLLECTSTATIC", "1")])
        .stdout_has("build: collectstatic: skipped: DISABLE_COLLECTSTATIC is set");
    assert!(!root.path().join("static").exists());
    let running = start(a, &env, &[]);
    assert_eq!(
        body(&running, "/").trim(),
        "Hello from Django, served by warpdrive"
    );
    let css = running.get("/static/admin/css/base.css", &[]);
    assert_eq!(css.status, 404, "{}", running.log());
    running.stop();
    // `0` is not set: the step runs, and the files are served.
    build(&[("DISABLE_COLLECTSTATIC", "0")]).stdout_has(&format!(
        "build: collectstatic: into {}",
        root.path().join("static").display()
    ));
    let running = start(a, &env, &[]);
    let css = running.get("/static/admin/css/base.css", &[]);
    assert_eq!(css.status, 200, "{}", running.log());
    running.stop();
}

fn migrate(dir: &Path, env: &[(&str, &str)]) -> crate::support::Outcome {
    let rt = tempfile::tempdir().unwrap();
    let mut cmd = warpdrive();
    cmd.arg("migrate")
        .arg("--app-root")
        .arg(dir)
        .env("WARPDRIVE_RUNTIME_DIR", rt.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.run_within(RUN)
}

#[test]
fn migrate_runs_django_migrate_unless_disable_migrate() {
    let app = django_without_static();
    let a = app.path();
    let db = a.join("db.sqlite3");
    migrate(a, &[("DISABLE_MIGRATE", "1")])
        .success()
        .stderr_has("DISABLE_MIGRATE is set; manage.py migrate not run");
    assert!(!db.exists());
    migrate(a, &[("DISABLE_MIGRATE", "false")])
        .success()
        .stderr_has("python manage.py migrate --noinput");
    assert!(db.is_file());
    // A failing migrate passes its status through.
    write(&a.join("hello/settings.py"), "raise SystemExit(5)\n");
    migrate(a, &[]).status(5).stderr_has("manage.py migrate");
}

#[test]
fn procfile_web_runs_without_a_shell_unless_the_line_needs_one() {
    let app = apps::shape("heroku");
    let a = app.path();
    std::fs::rename(a.join("app.py"), a.join("server.py")).unwrap();
    write(
        &a.join("Procfile"),
        "web: python server.py\nworker: celery -A x worker\n",
    );
    let plan = dry_json(a, &[]);
    assert_eq!(plan["server_type"], "shell", "{plan}");
    assert_eq!(argv(&plan), ["python", "server.py"], "{plan}");
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("Procfile web: run without a shell"),
        "{plan}"
    );
    let running = start(a, &[], &[]);
    assert_eq!(body(&running, "/"), "heroku");
    running.stop();
    // A line that needs a shell gets one: an assignment, `exec`, `&&`.
    write(
        &a.join("Procfile"),
        "web: FROM_LINE=\"$PORT yes\" exec python server.py\n",
    );
    let plan = dry_json(a, &[]);
    assert_eq!(
        argv(&plan)[1..3],
        [
            "-c".to_string(),
            "FROM_LINE=\"$PORT yes\" exec python server.py".to_string()
        ],
        "{plan}"
    );
    let running = start(a, &[], &[]);
    assert_eq!(
        body(&running, "/env/FROM_LINE"),
        format!("{} yes", running.port)
    );
    running.stop();
    // A value is never shell text, even when the line runs in a shell.
    write(&a.join("Procfile"), "web: python server.py $EXTRA\n");
    let running = start(a, &[("EXTRA", "; touch pwned")], &[]);
    assert_eq!(body(&running, "/"), "heroku");
    running.stop();
    assert!(!a.join("pwned").exists());
    // app.py (warpdrive's own) wins over the Procfile, and a configured
    // type does, saying so; a bad line is refused.
    std::fs::rename(a.join("server.py"), a.join("app.py")).unwrap();
    let plan = dry_json(a, &[]);
    assert_eq!(plan["server_type"], "python", "{plan}");
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("Procfile web: ignored (python runs the app)"),
        "{plan}"
    );
    std::fs::remove_file(a.join("app.py")).unwrap();
    write(&a.join("Procfile"), "web python server.py\n");
    dry_run(a, &[], &[])
        .bad_input()
        .stderr_has("Procfile:1: expected `TYPE: COMMAND`");
}

#[test]
fn procfile_release_is_what_warpdrive_migrate_runs() {
    let app = apps::shape("heroku");
    let a = app.path();
    write(
        &a.join("Procfile"),
        "web: python app.py\nrelease: python -c \"import os; open('released', 'w').write(os.environ['PORT'])\"\n",
    );
    migrate(a, &[])
        .success()
        .stderr_has("Procfile release:")
        .stderr_has("run with a shell");
    assert_eq!(std::fs::read_to_string(a.join("released")).unwrap(), "8080");
    // Without a shell, and its status passes through.
    write(
        &a.join("Procfile"),
        "release: python -m nonexistent_module_xyz\n",
    );
    migrate(a, &[]).status(1).stderr_has("run without a shell");
    // The migrate hook wins over it.
    let hook = a.join(".warpdrive/action_hooks/migrate");
    write(&hook, "#!/bin/sh\necho hook > hook.ran\n");
    make_executable(&hook);
    support::set_mode(&a.join(".warpdrive"), 0o755);
    migrate(a, &[]).success().stderr_lacks("Procfile");
    assert!(a.join("hook.ran").is_file());
}
