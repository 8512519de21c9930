//! App shapes in use today (issue 11, items 6–13), each served by a real
//! server and checked with a real request: application factories, a
//! callable named `app`, the `MOD_WSGI_*` entry-point knobs, uWSGI's
//! `--module`/`--callable`, PasteDeploy configs, Django layouts, ASGI apps,
//! and the dead ends.

use std::path::Path;
use std::time::Duration;

use crate::apps;
use crate::exec::{dry_json, dry_run, start};
use crate::support::{self, warpdrive, write, RunExt};

pub const WSGI_SERVERS: [&str; 4] = ["mod_wsgi", "gunicorn", "waitress", "uwsgi"];

fn put(dir: &Path, file: &str, text: &str) {
    write(&dir.join(".warpdrive").join(file), text);
    support::set_mode(&dir.join(".warpdrive"), 0o755);
}

/// Starts the app with `env`, GETs `path`, and checks status 200 and `body`.
fn serves(dir: &Path, env: &[(&str, &str)], path: &str, body: &str) {
    let running = start(dir, env, &[]);
    let r = running.get(path, &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, body),
        "{env:?}\nlog:\n{}",
        running.log()
    );
    running.stop();
}

fn argv(plan: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(plan["argv"].clone()).expect("argv")
}

#[test]
fn a_callable_named_app_in_auto_mode() {
    let app = apps::shape("flask_app");
    let plan = dry_json(app.path(), &[]);
    assert_eq!(plan["server_type"], "mod_wsgi", "{plan}");
    let line = argv(&plan).join(" ");
    assert!(line.contains("--callable-object app"), "{line}");
    serves(app.path(), &[], "/", "flask app");
}

#[test]
fn a_callable_named_app_on_every_wsgi_server() {
    let app = apps::shape("plain_app");
    for server in WSGI_SERVERS {
        serves(
            app.path(),
            &[("WARPDRIVE_SERVER_TYPE", server)],
            "/",
            "plain app",
        );
    }
    // Through the wrapper too (trusted proxy headers).
    serves(
        app.path(),
        &[
            ("WARPDRIVE_SERVER_TYPE", "gunicorn"),
            ("WARPDRIVE_TRUST_PROXY_HEADERS", "X-Forwarded-For"),
        ],
        "/",
        "plain app",
    );
}

#[test]
fn mod_wsgi_knobs_win_over_detected_values() {
    let app = apps::shape("two_callables");
    let env = [("MOD_WSGI_CALLABLE_OBJECT", "other")];
    let plan = dry_json(app.path(), &env);
    let line = argv(&plan).join(" ");
    assert_eq!(line.matches("--callable-object").count(), 1, "{line}");
    assert!(line.contains("--callable-object other"), "{line}");
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("MOD_WSGI_CALLABLE_OBJECT"),
        "{plan}"
    );
    serves(app.path(), &env, "/", "other");
    serves(
        app.path(),
        &[("WARPDRIVE_SERVER_TYPE", "gunicorn"), env[0]],
        "/",
        "other",
    );
    // MOD_WSGI_ENTRY_POINT names the module: another file, `application` in it.
    write(
        &app.path().join("elsewhere.py"),
        "import probe\napplication = probe.make('elsewhere')\n",
    );
    for server in ["mod_wsgi", "waitress"] {
        // mod_wsgi-express takes an entry point without a type for a script.
        let env = [
            ("WARPDRIVE_SERVER_TYPE", server),
            ("MOD_WSGI_ENTRY_POINT", "elsewhere"),
            ("MOD_WSGI_APPLICATION_TYPE", "module"),
        ];
        let line = argv(&dry_json(app.path(), &env)).join(" ");
        assert_eq!(
            line.matches("--entry-point").count(),
            if server == "mod_wsgi" { 1 } else { 0 },
            "{line}"
        );
        serves(app.path(), &env, "/", "elsewhere");
    }
}

#[test]
fn gunicorn_factories_with_and_without_arguments() {
    let app = apps::shape("flask_factory");
    put(app.path(), "server_type", "gunicorn");
    for (spec, body) in [
        ("hello:create_app()", "flask factory production"),
        ("hello:create_app('staging')", "flask factory staging"),
    ] {
        put(app.path(), "server_args", &format!("\"{spec}\"\n"));
        serves(app.path(), &[], "/", body);
        // Through the wrapper: it calls the factory, then wraps the app.
        let env = [("WARPDRIVE_TRUST_PROXY_HEADERS", "X-Forwarded-For")];
        let plan = dry_json(app.path(), &env);
        assert_eq!(plan["env"]["WARPDRIVE_WSGI_TARGET"], spec, "{plan}");
        let running = start(app.path(), &env, &[]);
        let r = running.get("/remote", &[("X-Forwarded-For", "203.0.113.9")]);
        assert_eq!((r.status, r.body.as_str()), (200, "203.0.113.9 http"));
        running.stop();
    }
}

#[test]
fn waitress_call_with_trusted_proxy_headers() {
    let app = apps::shape("flask_factory");
    put(app.path(), "server_type", "waitress");
    put(app.path(), "server_args", "--call hello:create_app\n");
    serves(app.path(), &[], "/", "flask factory production");
    let env = [(
        "WARPDRIVE_TRUST_PROXY_HEADERS",
        "X-Forwarded-For,X-Forwarded-Proto",
    )];
    let plan = dry_json(app.path(), &env);
    let line = argv(&plan).join(" ");
    assert!(
        !line.contains("--call"),
        "the wrapper is not a factory: {line}"
    );
    assert_eq!(plan["env"]["WARPDRIVE_WSGI_TARGET"], "hello:create_app()");
    let running = start(app.path(), &env, &[]);
    let r = running.get(
        "/remote",
        &[
            ("X-Forwarded-For", "203.0.113.9"),
            ("X-Forwarded-Proto", "https"),
        ],
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "203.0.113.9 https"),
        "{}",
        running.log()
    );
    running.stop();
}

#[test]
fn a_recorded_factory_on_every_wsgi_server() {
    let app = apps::shape("flask_factory");
    put(
        app.path(),
        "application",
        "entry_point = hello:create_app('recorded')\n",
    );
    for server in WSGI_SERVERS {
        serves(
            app.path(),
            &[("WARPDRIVE_SERVER_TYPE", server)],
            "/",
            "flask factory recorded",
        );
    }
    // A bare factory on waitress is its own --call.
    put(
        app.path(),
        "application",
        "entry_point = hello:create_app()\n",
    );
    let plan = dry_json(app.path(), &[("WARPDRIVE_SERVER_TYPE", "waitress")]);
    assert!(
        argv(&plan).join(" ").ends_with("--call hello:create_app"),
        "{plan}"
    );
}

#[test]
fn init_records_a_factory() {
    let app = apps::shape("flask_factory");
    warpdrive()
        .args([
            "init",
            "--yes",
            "--server-type",
            "gunicorn",
            "--entry-point",
        ])
        .arg("hello:create_app()")
        .arg("--app-root")
        .arg(app.path())
        .run_within(Duration::from_secs(60))
        .success();
    let record = std::fs::read_to_string(app.path().join(".warpdrive/application")).unwrap();
    assert!(
        record.contains("entry_point = hello:create_app()"),
        "{record}"
    );
    serves(app.path(), &[], "/", "flask factory production");
    warpdrive()
        .args([
            "init",
            "--yes",
            "--dry-run",
            "--server-type",
            "gunicorn",
            "--entry-point",
            "hello:create_app(__import__('os'))",
        ])
        .arg("--app-root")
        .arg(app.path())
        .run_within(Duration::from_secs(60))
        .bad_input()
        .stderr_has("module:create_app()");
}

#[test]
fn uwsgi_module_and_callable() {
    let app = apps::shape("flask_app");
    put(app.path(), "server_type", "uwsgi");
    put(app.path(), "server_args", "--module wsgi --callable app\n");
    let plan = dry_json(app.path(), &[]);
    assert_eq!(plan["env"]["WARPDRIVE_WSGI_TARGET"], "wsgi:app", "{plan}");
    assert!(!argv(&plan).contains(&"--callable".to_string()), "{plan}");
    serves(app.path(), &[], "/", "flask app");
    put(app.path(), "server_args", "--callable=app\n");
    serves(app.path(), &[], "/", "flask app");
}

#[test]
fn deploy_mode_uwsgi_like_v6() {
    let app = apps::django_path();
    put(app.path(), "deploy_mode", "uwsgi\n");
    put(
        app.path(),
        "server_args",
        "--module hello.wsgi --callable application --static-map /static=static\n",
    );
    let running = start(app.path(), &[], &[]);
    let r = running.get("/", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, "Hello from Django, served by warpdrive"),
        "{}",
        running.log()
    );
    let r = running.get("/static/hello.txt", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, "static file served by warpdrive")
    );
    running.stop();
}

#[test]
fn auto_prefers_production_ini_and_says_so() {
    let app = apps::shape("paste_ini");
    std::fs::remove_file(app.path().join("site.ini")).unwrap();
    let plan = dry_json(app.path(), &[]);
    assert_eq!(plan["server_type"], "paste", "{plan}");
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("found production.ini with [app:main] (preferred over development.ini)"),
        "{plan}"
    );
    serves(app.path(), &[], "/", "paste production");
    // Without an [app:main], production.ini is passed over.
    write(
        &app.path().join("production.ini"),
        "[server:main]\nport = 1\n",
    );
    serves(app.path(), &[], "/", "paste development");
}

#[test]
fn the_paste_type_takes_any_ini_from_server_args() {
    let app = apps::shape("paste_ini");
    put(app.path(), "server_type", "paste");
    put(app.path(), "server_args", "site.ini\n");
    serves(app.path(), &[], "/", "paste site");
    put(app.path(), "server_args", "missing.ini\n");
    dry_run(app.path(), &[], &[])
        .bad_input()
        .stderr_has("missing.ini");
    // gunicorn's --paste takes a path; PasteDeploy's config: form works too.
    put(app.path(), "server_type", "gunicorn");
    put(
        app.path(),
        "server_args",
        "--paste config:$WARPDRIVE_SRC_ROOT/site.ini\n",
    );
    serves(app.path(), &[], "/", "paste site");
}

#[test]
fn django_settings_packages_and_the_environment_winning() {
    let app = apps::shape("django_settings_pkg");
    let plan = dry_json(app.path(), &[]);
    assert_eq!(plan["server_type"], "django", "{plan}");
    assert_eq!(
        plan["env"]["DJANGO_SETTINGS_MODULE"], "proj.settings.production",
        "{plan}"
    );
    let running = start(app.path(), &[], &[]);
    assert_eq!(running.get("/", &[]).body, "django production");
    let r = running.get("/static/hello.txt", &[]);
    assert_eq!((r.status, r.body.trim()), (200, "collected static file"));
    running.stop();
    let staging = [("DJANGO_SETTINGS_MODULE", "proj.settings.staging")];
    let plan = dry_json(app.path(), &staging);
    assert!(
        plan["reason"]
            .as_str()
            .unwrap()
            .contains("DJANGO_SETTINGS_MODULE=proj.settings.staging in the environment"),
        "{plan}"
    );
    serves(app.path(), &staging, "/", "django staging");
    serves(
        app.path(),
        &[staging[0], ("WARPDRIVE_SERVER_TYPE", "gunicorn")],
        "/static/hello.txt",
        "collected static file",
    );
}

#[test]
fn a_conditional_setdefault_is_no_default() {
    let app = apps::shape("django_settings_pkg");
    write(
        &app.path().join("manage.py"),
        "import os, sys\n\nif os.environ.get('STAGE') == 'staging':\n    \
         os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings.staging')\nelse:\n    \
         os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings.production')\n",
    );
    dry_run(app.path(), &[], &[])
        .bad_input()
        .stderr_has("manage.py:4: DJANGO_SETTINGS_MODULE is chosen inside a condition")
        .stderr_has(".warpdrive/environment");
    serves(
        app.path(),
        &[("DJANGO_SETTINGS_MODULE", "proj.settings.staging")],
        "/",
        "django staging",
    );
}

#[test]
fn manage_py_one_level_down_is_named_with_the_fix() {
    let dir = support::world_readable_tempdir();
    let project = apps::shape("django_settings_pkg");
    let site = dir.path().join("mysite");
    std::fs::create_dir(&site).unwrap();
    support::set_mode(&site, 0o755);
    support::copy_tree(project.path(), &site);
    std::fs::create_dir(dir.path().join(".warpdrive")).unwrap();
    support::set_mode(&dir.path().join(".warpdrive"), 0o755);
    support::copy_tree(&site.join(".warpdrive"), &dir.path().join(".warpdrive"));
    std::fs::remove_dir_all(site.join(".warpdrive")).unwrap();
    dry_run(dir.path(), &[], &[])
        .bad_input()
        .stderr_has("no app found")
        .stderr_has("a Django manage.py in mysite/ (write `mysite` to .warpdrive/home)");
    put(dir.path(), "home", "mysite\n");
    serves(dir.path(), &[], "/", "django production");
}

#[test]
fn the_django_type_uses_an_entry_point_from_server_args_or_says_why_not() {
    let app = apps::shape("django_settings_pkg");
    put(app.path(), "server_type", "django");
    put(app.path(), "server_args", "proj.wsgi:application\n");
    dry_run(app.path(), &[], &[])
        .bad_input()
        .stderr_has("\"proj.wsgi:application\" is an entry point in gunicorn's form")
        .stderr_has("--entry-point proj.wsgi --callable-object application");
    write(
        &app.path().join("proj/other_wsgi.py"),
        "import probe\napplication = probe.make('the entry point from server_args')\n",
    );
    put(
        app.path(),
        "server_args",
        "--application-type module --entry-point proj.other_wsgi --callable-object application\n",
    );
    let plan = dry_json(app.path(), &[]);
    let line = argv(&plan).join(" ");
    assert_eq!(line.matches("--entry-point").count(), 1, "{line}");
    serves(app.path(), &[], "/", "the entry point from server_args");
}

const SPOOF: [(&str, &str); 2] = [
    ("X-Forwarded-For", "203.0.113.9"),
    ("X-Forwarded-Proto", "https"),
];
const TRUST: (&str, &str) = (
    "WARPDRIVE_TRUST_PROXY_HEADERS",
    "X-Forwarded-For,X-Forwarded-Proto",
);

#[test]
fn auto_picks_uvicorn_for_an_asgi_py_alone() {
    let app = apps::shape("asgi_plain");
    let plan = dry_json(app.path(), &[]);
    assert_eq!(plan["server_type"], "uvicorn", "{plan}");
    let line = argv(&plan).join(" ");
    assert!(line.contains("--no-proxy-headers"), "{line}");
    assert!(line.ends_with("asgi:application"), "{line}");
    serves(app.path(), &[], "/", "plain asgi 127.0.0.1 http");
    // Spoofed headers do nothing untrusted, and apply trusted.
    let running = start(app.path(), &[], &[]);
    assert_eq!(running.get("/", &SPOOF).body, "plain asgi 127.0.0.1 http");
    running.stop();
    let running = start(app.path(), &[TRUST], &[]);
    assert_eq!(
        running.get("/", &SPOOF).body,
        "plain asgi 203.0.113.9 https"
    );
    running.stop();
    // With a wsgi.py beside it, auto keeps mod_wsgi.
    write(
        &app.path().join("wsgi.py"),
        "import probe\napplication = probe.make('w')\n",
    );
    assert_eq!(dry_json(app.path(), &[])["server_type"], "mod_wsgi");
}

#[test]
fn uvicorn_knobs_workers_and_reload() {
    let app = apps::shape("asgi_plain");
    put(app.path(), "server_type", "uvicorn");
    let line = argv(&dry_json(app.path(), &[("MOD_WSGI_PROCESSES", "3")])).join(" ");
    assert!(line.contains("--workers 3"), "{line}");
    let line = argv(&dry_json(
        app.path(),
        &[("MOD_WSGI_RELOAD_ON_CHANGES", "1")],
    ))
    .join(" ");
    assert!(line.contains("--reload --reload-dir"), "{line}");
    assert!(!line.contains("--workers"), "{line}");
    serves(
        app.path(),
        &[("MOD_WSGI_PROCESSES", "2")],
        "/",
        "plain asgi 127.0.0.1 http",
    );
}

#[test]
fn starlette_apps_and_factories_on_uvicorn() {
    let app = apps::shape("starlette_app");
    // main.py alone is not detected, but named with its fix.
    dry_run(app.path(), &[], &[])
        .bad_input()
        .stderr_has("an ASGI app main:app (set server_type uvicorn and server_args `main:app`)");
    put(app.path(), "server_type", "uvicorn");
    put(app.path(), "server_args", "main:app\n");
    serves(app.path(), &[], "/", "starlette app 127.0.0.1 http");
    let running = start(app.path(), &[TRUST], &[]);
    assert_eq!(
        running.get("/", &SPOOF).body,
        "starlette app 203.0.113.9 https"
    );
    running.stop();
    // A factory: uvicorn's own --factory, and through the twin.
    put(app.path(), "server_args", "--factory main:create_app\n");
    serves(app.path(), &[], "/", "starlette factory 127.0.0.1 http");
    let plan = dry_json(app.path(), &[TRUST]);
    assert_eq!(
        plan["env"]["WARPDRIVE_ASGI_TARGET"], "main:create_app()",
        "{plan}"
    );
    assert!(!argv(&plan).contains(&"--factory".to_string()), "{plan}");
    let running = start(app.path(), &[TRUST], &[]);
    assert_eq!(
        running.get("/", &SPOOF).body,
        "starlette factory 203.0.113.9 https"
    );
    running.stop();
    put(app.path(), "server_args", "\"main:create_app('named')\"\n");
    serves(app.path(), &[], "/", "starlette named 127.0.0.1 http");
}

#[test]
fn django_asgi_on_uvicorn_with_static_files_by_whitenoise() {
    let app = apps::shape("django_settings_pkg");
    put(app.path(), "server_type", "uvicorn");
    let plan = dry_json(app.path(), &[]);
    assert_eq!(
        plan["env"]["WARPDRIVE_ASGI_TARGET"], "proj.asgi:application",
        "{plan}"
    );
    let running = start(app.path(), &[], &[]);
    assert_eq!(running.get("/", &[]).body, "django production");
    let r = running.get("/static/hello.txt", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, "collected static file"),
        "{}",
        running.log()
    );
    running.stop();
    serves(
        app.path(),
        &[("DJANGO_SETTINGS_MODULE", "proj.settings.staging")],
        "/",
        "django staging",
    );
}

#[test]
fn gunicorn_with_an_asgi_worker_gets_no_wsgi_wrapper() {
    let app = apps::shape("asgi_plain");
    put(app.path(), "server_type", "gunicorn");
    for args in [
        "-k uvicorn.workers.UvicornWorker asgi:application\n",
        "--worker-class=uvicorn.workers.UvicornWorker\n",
    ] {
        put(app.path(), "server_args", args);
        let plan = dry_json(app.path(), &[TRUST]);
        assert!(plan["env"].get("WARPDRIVE_WSGI_TARGET").is_none(), "{plan}");
        assert_eq!(
            plan["env"]["WARPDRIVE_ASGI_TARGET"], "asgi:application",
            "{plan}"
        );
        let running = start(app.path(), &[TRUST], &[]);
        let r = running.get("/", &SPOOF);
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "plain asgi 203.0.113.9 https"),
            "{args}: {}",
            running.log()
        );
        assert_eq!(running.get("/", &[]).body, "plain asgi 127.0.0.1 http");
        running.stop();
    }
}

#[test]
fn init_records_the_asgi_app_for_uvicorn() {
    let app = apps::shape("asgi_plain");
    warpdrive()
        .args(["init", "--yes", "--server-type", "uvicorn", "--app-root"])
        .arg(app.path())
        .run_within(Duration::from_secs(60))
        .success();
    let record = std::fs::read_to_string(app.path().join(".warpdrive/application")).unwrap();
    assert!(
        record.contains("entry_point = asgi:application"),
        "{record}"
    );
    serves(app.path(), &[], "/", "plain asgi 127.0.0.1 http");
}

/// Item 13: as root, Apache runs as www-data, which cannot write the app's
/// root-owned SQLite database. The launcher warns with the fix before the
/// start, the write fails as the warning says, and after the fix it warns no
/// more and the write works.
#[test]
fn root_mod_wsgi_warns_about_an_sqlite_database_apache_cannot_write() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: only a root launcher runs Apache as another account");
        return;
    }
    let app = apps::shape("sqlite_app");
    // An empty file is an empty SQLite database.
    write(&app.path().join("db.sqlite3"), "");
    let warning = "Apache runs as www-data, which cannot write the SQLite database db.sqlite3";
    dry_run(app.path(), &[], &[])
        .success()
        .stderr_has(warning)
        .stderr_has("chown www-data:www-data");
    let running = start(app.path(), &[], &[]);
    let r = running.get("/write", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (500, "attempt to write a readonly database"),
        "log:\n{}",
        running.log()
    );
    running.stop();

    // The fix the warning names: the file and its directory to www-data.
    let www = nix::unistd::User::from_name("www-data")
        .expect("passwd")
        .expect("www-data");
    for p in [app.path().join("db.sqlite3"), app.path().to_path_buf()] {
        nix::unistd::chown(&p, Some(www.uid), Some(www.gid)).expect("chown");
    }
    dry_run(app.path(), &[], &[])
        .success()
        .stderr_lacks("SQLite");
    let running = start(app.path(), &[], &[]);
    let r = running.get("/write", &[]);
    assert_eq!(
        (r.status, r.body.trim()),
        (200, "wrote 1 rows"),
        "log:\n{}",
        running.log()
    );
    running.stop();

    // A database two levels down whose directory Apache cannot write
    // (SQLite writes its journal beside the file) is named too.
    let data = app.path().join("var/data");
    write(&data.join("app.db"), "");
    nix::unistd::chown(&data.join("app.db"), Some(www.uid), Some(www.gid)).expect("chown");
    dry_run(app.path(), &[], &[])
        .success()
        .stderr_has("cannot write the SQLite database var/data/app.db");
}

/// Item 13: mod_wsgi-express takes its locale from LC_ALL/LANG and calls C
/// and POSIX "unsupported" at every start; the launcher passes
/// `--locale C.UTF-8` for them (and for C.UTF-8 itself), keeps any other
/// locale, and never overrides a `--locale` in server_args.
#[test]
fn mod_wsgi_gets_c_utf8_for_c_and_posix_locales() {
    let app = apps::shape("plain_app");
    let locale_args = |env: &[(&str, &str)]| -> Vec<String> {
        let argv = argv(&dry_json(app.path(), env));
        argv.windows(2)
            .filter(|w| w[0] == "--locale")
            .map(|w| w[1].clone())
            .collect()
    };
    for lang in ["C", "POSIX", "C.UTF-8", "C.utf8"] {
        let env = [("LANG", lang), ("LC_ALL", "")];
        assert_eq!(locale_args(&env), ["C.UTF-8"], "LANG={lang}");
        let running = start(app.path(), &env, &[]);
        let r = running.get("/", &[]);
        let log = running.log();
        running.stop();
        assert_eq!((r.status, r.body.trim()), (200, "plain app"), "{log}");
        assert!(!log.contains("Unsupported locale"), "LANG={lang}:\n{log}");
        assert!(log.contains("Locale Setting     : C.UTF-8"), "{log}");
    }
    // LC_ALL wins over LANG, as in libc.
    let env = [("LANG", "de_DE.UTF-8"), ("LC_ALL", "POSIX")];
    assert_eq!(locale_args(&env), ["C.UTF-8"]);
    // Any other locale is the user's choice, passed on by mod_wsgi-express.
    let env = [("LANG", "de_DE.UTF-8"), ("LC_ALL", "")];
    assert!(locale_args(&env).is_empty());
    // server_args' own --locale is the only one.
    put(app.path(), "server_args", "--locale en_US.UTF-8\n");
    let env = [("LANG", "C"), ("LC_ALL", "")];
    assert_eq!(locale_args(&env), ["en_US.UTF-8"]);
}

// ------------------------------------------------- shapes × server types

/// The server types of the table's columns (`auto` first).
const TABLE_TYPES: [&str; 9] = [
    "auto", "mod_wsgi", "gunicorn", "waitress", "uwsgi", "uvicorn", "django", "paste", "python",
];

/// A row of the table: the shape's directory in `tests/apps`, what the
/// row adds to it, how the README names it, and how its answer starts.
struct Row {
    shape: &'static str,
    setup: fn(&Path),
    name: &'static str,
    body: &'static str,
}

fn table_rows() -> Vec<Row> {
    vec![
        Row {
            shape: "plain_app",
            setup: |_| {},
            name: "`wsgi.py` binding `app` (no `application`)",
            body: "plain app",
        },
        Row {
            shape: "flask_app",
            setup: |_| {},
            name: "Flask app in `wsgi.py` (`app = Flask(...)`)",
            body: "flask app",
        },
        Row {
            shape: "flask_factory",
            setup: |d| {
                put(
                    d,
                    "application",
                    "entry_point = hello:create_app('recorded')\n",
                )
            },
            name: "Flask factory `hello:create_app('recorded')` in `.warpdrive/application`",
            body: "flask factory recorded",
        },
        Row {
            shape: "paste_ini",
            setup: |d| std::fs::remove_file(d.join("site.ini")).expect("site.ini"),
            name: "PasteDeploy `production.ini` and `development.ini`",
            body: "paste production",
        },
        Row {
            shape: "hello_world",
            setup: |_| {},
            name: "Django as in the seed's examples (`manage.py` guard, `hello_world/`)",
            body: "Hello World!",
        },
        Row {
            shape: "django_settings_pkg",
            setup: |_| {},
            name: "Django settings package (`proj/settings/production.py`), static files",
            body: "django ",
        },
        Row {
            shape: "home",
            setup: |_| {},
            name: "`wsgi.py` in `src/` named by `.warpdrive/home`",
            body: "home ",
        },
        Row {
            shape: "asgi_plain",
            setup: |_| {},
            name: "plain ASGI callable in `asgi.py`",
            body: "plain asgi",
        },
        Row {
            shape: "starlette_app",
            setup: |d| put(d, "server_args/uvicorn", "main:app\n"),
            name: "Starlette `main.py`, `.warpdrive/server_args/uvicorn` = `main:app`",
            body: "starlette app",
        },
        Row {
            shape: "heroku",
            setup: |_| {},
            name: "Heroku-style `app.py` serving on `$PORT`",
            body: "heroku",
        },
    ]
}

/// One cell: `exit N` when the launcher refuses (or the server exits)
/// before answering, else the HTTP status of `GET /` (with `(other app)`
/// when something else answered); for `auto`, the type it picked first.
fn table_cell(app: &Path, server: &str, body: &str) -> String {
    let env: Vec<(&str, &str)> = if server == "auto" {
        vec![]
    } else {
        vec![("WARPDRIVE_SERVER_TYPE", server)]
    };
    let dry = dry_run(app, &env, &["-o", "json"]);
    if dry.code() != Some(0) {
        return format!("exit {}", dry.code().unwrap_or(-1));
    }
    let picked = dry.json()["server_type"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    let port = support::free_port();
    let mut cmd = warpdrive();
    cmd.arg("exec").arg("--app-root").arg(app);
    cmd.env("WARPDRIVE_HTTP_PORT", port.to_string());
    for (k, v) in &env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut guard = support::spawn(&mut cmd);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(r) = support::get(port, "/", &[]) {
            break if r.status == 200 && !r.body.starts_with(body) {
                "200 (other app)".to_string()
            } else {
                r.status.to_string()
            };
        }
        if let Ok(Some(s)) = guard.child().try_wait() {
            break format!("exit {}", s.code().unwrap_or(-1));
        }
        if std::time::Instant::now() > deadline {
            break "no answer in 60 s".to_string();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    guard.signal(libc::SIGTERM);
    let _ = guard.wait_timeout(Duration::from_secs(30));
    if server == "auto" {
        format!("{picked}: {status}")
    } else {
        status
    }
}

/// The README's table of app shapes × server types is what the launcher
/// does today: every cell is measured here (a real server, `GET /`), and
/// the table between the README's `shapes-table` markers must be the one
/// measured. On a mismatch the message holds the measured table.
#[test]
fn the_readme_table_of_shapes_by_server_types_is_measured() {
    let rows = table_rows();
    let mut lines = vec![
        format!("| app shape | {} |", TABLE_TYPES.join(" | ")),
        format!("| --- |{}", " --- |".repeat(TABLE_TYPES.len())),
    ];
    // Two rows at a time: each cell starts at most one server.
    let measured: Vec<Vec<String>> = rows
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|s| {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|row| {
                        s.spawn(move || {
                            TABLE_TYPES
                                .iter()
                                .map(|server| {
                                    let app = apps::shape(row.shape);
                                    (row.setup)(app.path());
                                    table_cell(app.path(), server, row.body)
                                })
                                .collect::<Vec<String>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("row"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (row, cells) in rows.iter().zip(&measured) {
        lines.push(format!("| {} | {} |", row.name, cells.join(" | ")));
    }
    let table = lines.join("\n");
    let readme = std::fs::read_to_string(support::repo().join("README.md")).expect("README");
    let inside = readme
        .split("<!-- shapes-table -->")
        .nth(1)
        .map(str::trim)
        .unwrap_or("");
    assert_eq!(
        inside, table,
        "the README's shapes table (between two `<!-- shapes-table -->` lines) is not what \
         was measured; measured:\n{table}\n"
    );
}

/// Item 12: an `app.py` that exits with status 0 before anything asked it
/// to stop (it only defines the app, or runs once) gets a warning that it
/// started no server, from the supervisor (PID 1 in a pod, `--supervise`
/// here); a server that exits 0 when asked to stop gets none.
#[test]
fn an_app_py_that_exits_with_status_0_gets_a_warning() {
    let app = support::world_readable_tempdir();
    write(
        &app.path().join("app.py"),
        "from flask import Flask\n\napp = Flask(__name__)\n",
    );
    warpdrive()
        .args(["exec", "--supervise", "--app-root"])
        .arg(app.path())
        .run_within(Duration::from_secs(60))
        .success()
        .stderr_has("warning: python exited with status 0 after")
        .stderr_has("so it started no server; an app.py must serve on $PORT");
    // `exec -- CMD` runs a command, which may well end with 0.
    warpdrive()
        .args(["exec", "--supervise", "--app-root"])
        .arg(app.path())
        .args(["--", "true"])
        .run_within(Duration::from_secs(60))
        .success()
        .stderr_lacks("started no server");

    let app = apps::shape("heroku");
    let text = std::fs::read_to_string(app.path().join("app.py")).unwrap();
    write(
        &app.path().join("app.py"),
        &format!(
            "import signal, sys\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n{text}"
        ),
    );
    let port = support::free_port();
    let log = tempfile::NamedTempFile::new().expect("log");
    let mut cmd = warpdrive();
    cmd.args(["exec", "--supervise", "--app-root"])
        .arg(app.path())
        .env("WARPDRIVE_HTTP_PORT", port.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"));
    let mut guard = support::spawn(&mut cmd);
    let r = support::wait_for_200(port, "/", Duration::from_secs(40));
    assert_eq!(r.map(|r| r.body).as_deref(), Some("heroku"));
    guard.signal(libc::SIGTERM);
    let status = guard
        .wait_timeout(Duration::from_secs(30))
        .expect("stopped");
    let text = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("sending SIGTERM"), "{text}");
    assert!(!text.contains("started no server"), "{text}");
}
