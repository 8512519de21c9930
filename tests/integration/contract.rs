//! The original warpdrive's contract (issue 11, items 1–5): `.warpdrive/deploy_mode`,
//! `.warpdrive/home`, `.warpdrive/environment`, `action_hooks/deploy-env`,
//! and the runtime variables, each through a real server and a real request.

use std::path::Path;
use std::time::Duration;

use crate::apps;
use crate::exec::{dry_json, dry_run, start};
use crate::support::{self, make_executable, warpdrive, write, RunExt};

const DJANGO_HELLO: &str = "Hello from Django, served by warpdrive";

fn put(dir: &Path, file: &str, text: &str) {
    write(&dir.join(".warpdrive").join(file), text);
    support::set_mode(&dir.join(".warpdrive"), 0o755);
}

fn canonical(p: &Path) -> String {
    p.canonicalize().unwrap().display().to_string()
}

/// The Django example with `.warpdrive/deploy_mode` and server_args as the
/// seed's example repositories keep them today: the type is `expect`, `/`
/// answers, and so does `/static/…` when `static_served`.
fn example_repository(mode: &str, server_args: Option<&str>, expect: &str, static_served: bool) {
    let app = apps::django_path();
    put(app.path(), "deploy_mode", &format!("{mode}\n"));
    if let Some(args) = server_args {
        put(app.path(), "server_args", &format!("{args}\n"));
    }
    let plan = dry_json(app.path(), &[]);
    assert_eq!(plan["server_type"], expect, "{plan}");
    assert!(
        plan["reason"].as_str().unwrap().contains("deploy_mode"),
        "{plan}"
    );
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, DJANGO_HELLO),
        "{}",
        running.log()
    );
    if static_served {
        let r = running.get("/static/hello.txt", &[]);
        assert_eq!(
            (r.status, r.body.trim()),
            (200, "static file served by warpdrive"),
            "{}",
            running.log()
        );
    }
    running.stop();
}

#[test]
fn deploy_mode_django_like_v2() {
    example_repository("django", None, "django", true);
}

#[test]
fn deploy_mode_gunicorn_like_v3() {
    example_repository(
        "gunicorn",
        Some("hello.wsgi:application"),
        "gunicorn",
        false,
    );
}

#[test]
fn deploy_mode_waitress_like_v4() {
    example_repository(
        "waitress",
        Some("hello.wsgi:application"),
        "waitress",
        false,
    );
}

#[test]
fn deploy_mode_mod_wsgi_like_v5() {
    example_repository(
        "mod_wsgi",
        Some(
            "--application-type module --entry-point hello.wsgi --url-alias /static/ static/ \
             --trust-proxy-header X-Forwarded-For --trust-proxy-header X-Forwarded-Port \
             --trust-proxy-header X-Forwarded-Proto",
        ),
        "mod_wsgi",
        true,
    );
}

#[test]
fn deploy_mode_and_server_type_together() {
    // (server_type, deploy_mode, the type that runs)
    let cases = [
        ("gunicorn", "waitress", "waitress"),
        ("gunicorn", "auto", "gunicorn"),
        ("uwsgi", "django", "uwsgi"),
        ("shell", "django", "django"),
        ("waitress", "wsgi", "waitress"),
        ("auto", "wsgi", "mod_wsgi"),
        ("django", "django", "django"),
    ];
    for (server_type, deploy_mode, runs) in cases {
        let app = apps::django_path();
        put(app.path(), "server_type", server_type);
        put(app.path(), "deploy_mode", deploy_mode);
        let plan = dry_json(app.path(), &[]);
        assert_eq!(
            plan["server_type"], runs,
            "server_type {server_type}, deploy_mode {deploy_mode}: {plan}"
        );
    }
    // The flag and the variable still win over both files.
    let app = apps::django_path();
    put(app.path(), "deploy_mode", "waitress");
    let plan = dry_json(app.path(), &[("WARPDRIVE_SERVER_TYPE", "gunicorn")]);
    assert_eq!(plan["server_type"], "gunicorn", "{plan}");
    put(app.path(), "deploy_mode", "nginx");
    dry_run(app.path(), &[], &[])
        .bad_input()
        .stderr_has("deploy_mode")
        .stderr_has("unknown server type");
    // deploy_mode django with server_type gunicorn: gunicorn serves Django.
    let app = apps::django_path();
    put(app.path(), "server_type", "gunicorn");
    put(app.path(), "deploy_mode", "django");
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!((r.status, r.body.trim()), (200, DJANGO_HELLO));
    assert!(
        running.log().contains("[INFO] Booting worker"),
        "{}",
        running.log()
    );
    running.stop();
}

#[test]
fn home_is_the_working_directory_and_where_detection_looks() {
    let app = apps::shape("home");
    let home = app.path().join("src");
    for server in ["mod_wsgi", "gunicorn"] {
        let env: &[(&str, &str)] = &[("WARPDRIVE_SERVER_TYPE", server)];
        let plan = dry_json(app.path(), env);
        assert_eq!(plan["cwd"], canonical(&home), "{plan}");
        assert_eq!(
            plan["env"]["WARPDRIVE_APP_HOME"],
            canonical(&home),
            "{plan}"
        );
        let running = start(app.path(), env, &[]);
        let r = running.get("/", &[]);
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "home with shared code"),
            "{server}: {}",
            running.log()
        );
        assert_eq!(running.get("/cwd", &[]).body, canonical(&home), "{server}");
        assert_eq!(
            running.get("/env/WARPDRIVE_APP_HOME", &[]).body,
            canonical(&home)
        );
        running.stop();
    }
    // auto finds src/wsgi.py through the home.
    assert_eq!(dry_json(app.path(), &[])["server_type"], "mod_wsgi");
    // A home outside the source tree is refused.
    put(app.path(), "home", "/etc\n");
    dry_run(app.path(), &[], &[])
        .bad_input()
        .stderr_has(".warpdrive/home")
        .stderr_has("inside the source tree");
}

#[test]
fn environment_file_and_deploy_env_reach_the_server_and_the_hooks() {
    let app = apps::shape("heroku");
    let a = app.path();
    put(
        a,
        "environment",
        "# set for every start\nGREETING=\"hello from $WARPDRIVE_APP_HOME\"\n\
         QUOTED='$NOT_EXPANDED'\nexport POD_WINS=${POD_WINS:-file}\n",
    );
    put(
        a,
        "action_hooks/deploy-env",
        "echo deploy-env says hi\nFROM_SCRIPT=\"script saw $GREETING\"\n",
    );
    let hook = a.join(".warpdrive/action_hooks/deploy");
    write(
        &hook,
        "#!/bin/sh\necho \"$GREETING|$FROM_SCRIPT|$PORT|$(pwd)\" > hook.out\n",
    );
    make_executable(&hook);
    let running = start(a, &[("POD_WINS", "pod")], &[]);
    let root = canonical(a);
    let get = |var: &str| running.get(&format!("/env/{var}"), &[]).body;
    assert_eq!(get("GREETING"), format!("hello from {root}"));
    assert_eq!(get("FROM_SCRIPT"), format!("script saw hello from {root}"));
    assert_eq!(get("QUOTED"), "$NOT_EXPANDED");
    assert_eq!(get("POD_WINS"), "pod");
    // The Heroku-style app listens on $PORT, which is WARPDRIVE_HTTP_PORT.
    assert_eq!(get("PORT"), running.port.to_string());
    assert_eq!(get("WARPDRIVE_SRC_ROOT"), root);
    assert_eq!(get("WARPDRIVE_APP_ROOT"), "/opt/app-root");
    assert!(
        running.log().contains("deploy-env says hi"),
        "{}",
        running.log()
    );
    let port = running.port;
    running.stop();
    assert_eq!(
        std::fs::read_to_string(a.join("hook.out")).unwrap().trim(),
        format!("hello from {root}|script saw hello from {root}|{port}|{root}")
    );
}

#[test]
fn a_failing_deploy_env_stops_the_start_with_its_status() {
    let app = apps::shape("heroku");
    put(app.path(), "action_hooks/deploy-env", "exit 9\n");
    warpdrive()
        .args(["exec", "--app-root"])
        .arg(app.path())
        .run_within(Duration::from_secs(30))
        .status(9)
        .stderr_has("deploy-env");
    put(app.path(), "action_hooks/deploy-env", "X=1\n");
    put(app.path(), "environment", "A=two words\n");
    dry_run(app.path(), &[], &[])
        .bad_input()
        .stderr_has(".warpdrive/environment:1")
        .stderr_has("quote it");
}

#[test]
fn exec_command_gets_the_runtime_environment() {
    let app = apps::shape("home");
    put(app.path(), "environment", "GREETING=hi\n");
    put(
        app.path(),
        "action_hooks/deploy-env",
        "LATER=\"$GREETING again\"\n",
    );
    let home = canonical(&app.path().join("src"));
    warpdrive()
        .args(["exec", "--app-root"])
        .arg(app.path())
        .args([
            "--",
            "sh",
            "-c",
            "echo \"$GREETING|$LATER|$PORT|$WARPDRIVE_APP_HOME|$(pwd)|$PYTHONPATH\"",
        ])
        .run_within(Duration::from_secs(30))
        .success()
        .stdout_is(&format!(
            "hi|hi again|8080|{home}|{home}|{home}:{}\n",
            canonical(app.path())
        ));
}

#[test]
fn server_args_see_the_runtime_variables() {
    let app = apps::shape("paste_ini");
    put(app.path(), "server_type", "gunicorn");
    put(
        app.path(),
        "server_args",
        "--paste $WARPDRIVE_SRC_ROOT/production.ini\n",
    );
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!((r.status, r.body.as_str()), (200, "paste production"));
    running.stop();
}

#[test]
fn a_venv_at_the_app_root_comes_first_on_path() {
    let app = apps::wsgi_module("served from the app root's venv");
    apps::server_type(app.path(), "gunicorn");
    let root = support::world_readable_tempdir();
    let bin = root.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    write(&bin.join("activate"), "# a venv\n");
    std::os::unix::fs::symlink(support::venv().join("bin/gunicorn"), bin.join("gunicorn")).unwrap();
    let env = [
        ("WARPDRIVE_APP_ROOT", root.path().to_str().unwrap()),
        ("PATH", "/usr/bin:/bin"),
    ];
    let plan = dry_json(app.path(), &env);
    assert_eq!(
        plan["env"]["PATH"],
        format!("{}:/usr/bin:/bin", bin.display()),
        "{plan}"
    );
    let running = start(app.path(), &env, &[]);
    let r = running.get("/", &[]);
    assert_eq!(r.body.trim(), "served from the app root's venv");
    running.stop();
}

/// The seed's example repositories, reproduced in `tests/apps/hello_world`
/// (their layout, `manage.py` with the setdefault under `if __name__ ==
/// "__main__":`, os.path settings; Django 5 urls) with each version's
/// `.warpdrive/deploy_mode` and `server_args` as they are in the
/// repository. v3–v6 set `STATIC_ROOT = static` and collect into it in
/// their build hook; here the collected file is written directly. Started
/// with no variables at all (auto), `/` must answer "Hello World!" on the
/// version's server, and `/static/` where the version serves it.
fn seed_example(version: u8) {
    let app = apps::shape("hello_world");
    let (mode, args, static_served) = match version {
        2 => ("django", None, false),
        3 => ("gunicorn", Some("hello_world.wsgi:application"), false),
        4 => ("waitress", Some("hello_world.wsgi:application"), false),
        5 => (
            "mod_wsgi",
            Some(
                "--application-type module --entry-point hello_world.wsgi --url-alias /static/ \
                 static/ --trust-proxy-header X-Forwarded-For --trust-proxy-header \
                 X-Forwarded-Port --trust-proxy-header X-Forwarded-Proto",
            ),
            true,
        ),
        6 => (
            "uwsgi",
            Some("--module hello_world.wsgi --callable application --static-map /static=static"),
            true,
        ),
        _ => unreachable!("v2 to v6"),
    };
    put(app.path(), "deploy_mode", &format!("{mode}\n"));
    if let Some(args) = args {
        put(app.path(), "server_args", &format!("{args}\n"));
    }
    if version >= 3 {
        let settings = app.path().join("hello_world/settings.py");
        let text = std::fs::read_to_string(&settings).unwrap();
        write(
            &settings,
            &format!("{text}\nSTATIC_ROOT = os.path.join(BASE_DIR, 'static')\n"),
        );
        write(&app.path().join("static/hello.txt"), "collected\n");
        support::set_mode(&app.path().join("static"), 0o755);
    }
    let plan = dry_json(app.path(), &[]);
    assert_eq!(plan["server_type"], mode, "v{version}: {plan}");
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, "Hello World!"),
        "v{version}: {}",
        running.log()
    );
    if static_served {
        let r = running.get("/static/hello.txt", &[]);
        assert_eq!(
            (r.status, r.body.trim()),
            (200, "collected"),
            "v{version}: {}",
            running.log()
        );
    }
    running.stop();
}

#[test]
fn seed_example_v2_django() {
    seed_example(2);
}

#[test]
fn seed_example_v3_gunicorn() {
    seed_example(3);
}

#[test]
fn seed_example_v4_waitress() {
    seed_example(4);
}

#[test]
fn seed_example_v5_mod_wsgi() {
    seed_example(5);
}

#[test]
fn seed_example_v6_uwsgi() {
    seed_example(6);
}
