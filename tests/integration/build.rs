//! `warpdrive build` and the lifecycle commands: real pip from the local
//! wheelhouse (`.ci/setup`, tests/wheelhouse.txt; never an index), a real
//! collectstatic, then a real HTTP 200 on `/static/…` through `exec` with no
//! Python run before the server starts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::exec;
use crate::support::{self, repo, warpdrive, Outcome, RunExt};

/// The bound on a build and on making a venv (ensurepip): a guard against a
/// hang, not a timing. A venv took over 120 s at a load average of 38 on
/// 2 cores.
const BUILD: Duration = Duration::from_secs(300);

/// The wheelhouse `.ci/setup` built from tests/wheelhouse.txt.
pub fn wheelhouse() -> PathBuf {
    let out = Command::new("sha256sum")
        .arg(repo().join("tests/wheelhouse.txt"))
        .output()
        .expect("sha256sum");
    let key: String = String::from_utf8_lossy(&out.stdout)
        .chars()
        .take(16)
        .collect();
    let root = std::env::var("WARPDRIVE_WHEELHOUSE_CACHE")
        .unwrap_or_else(|_| "/var/cache/warpdrive-wheelhouse".into());
    let dir = Path::new(&root).join(key);
    assert!(
        dir.join(".complete").is_file(),
        "no wheelhouse at {}: run `sudo .ci/setup`",
        dir.display()
    );
    dir
}

/// A fresh virtual environment (Debian's python3, readable by Apache's user).
fn venv(parent: &Path) -> PathBuf {
    let dir = parent.join("venv");
    let out = Command::new("/usr/bin/python3")
        .args(["-m", "venv"])
        .arg(&dir)
        .run_within(BUILD);
    out.success();
    dir
}

/// `$WARPDRIVE_APP_ROOT` (not a venv) with the app copied to `src/`, the
/// wheelhouse copied to `.warpdrive/wheelhouse/`, and a venv beside it.
struct Layout {
    _dir: tempfile::TempDir,
    app_root: PathBuf,
    src: PathBuf,
    venv: PathBuf,
}

fn layout(app: &Path) -> Layout {
    let dir = support::world_readable_tempdir();
    let app_root = dir.path().join("app-root");
    let src = app_root.join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    support::set_mode(&app_root, 0o755);
    support::set_mode(&src, 0o755);
    support::copy_tree(app, &src);
    let wheels = src.join(".warpdrive/wheelhouse");
    std::fs::create_dir_all(&wheels).expect("mkdir");
    for e in std::fs::read_dir(wheelhouse())
        .expect("wheelhouse")
        .flatten()
    {
        if e.file_name().to_string_lossy().ends_with(".whl") {
            std::fs::copy(e.path(), wheels.join(e.file_name())).expect("copy wheel");
        }
    }
    let venv = venv(dir.path());
    Layout {
        _dir: dir,
        app_root,
        src,
        venv,
    }
}

impl Layout {
    fn path(&self) -> String {
        format!("{}/bin:/usr/bin:/bin", self.venv.display())
    }

    /// Whether the venv's Python imports `module`.
    fn imports(&self, module: &str) -> bool {
        Command::new(self.venv.join("bin/python"))
            .args(["-c", &format!("import {module}")])
            .current_dir("/")
            .run_within(Duration::from_secs(30))
            .code()
            == Some(0)
    }

    /// `warpdrive build`, pip offline: `--no-index`, and an index URL
    /// nothing answers, so a pip that tried one would fail.
    fn build(&self) -> Command {
        let mut cmd = warpdrive();
        cmd.arg("build")
            .arg("--app-root")
            .arg(&self.src)
            .env("PATH", self.path())
            .env("WARPDRIVE_APP_ROOT", &self.app_root)
            .env("WARPDRIVE_PIP_NO_INDEX", "1")
            .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
            .env("PIP_CACHE_DIR", self.app_root.join("pip-cache"));
        cmd
    }
}

/// examples/hello-django without its collected static files and without
/// STATIC_ROOT, needing Django from requirements.txt. Its settings end in a
/// star import, as split settings often do, so the launcher cannot read them
/// statically: without the build's record, `exec` would import them with
/// Python.
fn django_app() -> tempfile::TempDir {
    let app = support::copy_app(&repo().join("examples/hello-django"));
    std::fs::remove_dir_all(app.path().join("static")).expect("rm static");
    let settings = app.path().join("hello/settings.py");
    let text = std::fs::read_to_string(&settings).expect("settings");
    let mut text: String = text
        .lines()
        .filter(|l| !l.starts_with("STATIC_ROOT"))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str("from hello.message import *  # noqa: F401,F403\n");
    support::write(&settings, &text);
    support::write(&app.path().join("requirements.txt"), "Django==5.2.19\n");
    app
}

/// A `python`/`python3` first on PATH that logs each run and then runs the
/// venv's: any Python the launcher starts shows up in the log.
fn python_shims(dir: &Path, venv: &Path, log: &Path) -> PathBuf {
    let bin = dir.join("shims");
    std::fs::create_dir_all(&bin).expect("mkdir");
    support::set_mode(&bin, 0o755);
    for name in ["python", "python3"] {
        let path = bin.join(name);
        support::write(
            &path,
            &format!(
                "#!/bin/sh\necho \"$0 $*\" >> '{}'\nexec '{}/bin/python3' \"$@\"\n",
                log.display(),
                venv.display()
            ),
        );
        support::make_executable(&path);
    }
    bin
}

#[test]
fn django_build_collects_static_and_exec_serves_it_with_no_python_first() {
    let app = django_app();
    let l = layout(app.path());
    let out = l.build().run_within(BUILD).success();
    let lines: Vec<&str> = out.stdout().lines().collect();
    let steps: Vec<&str> = lines
        .iter()
        .map(|l| l.split(':').nth(1).unwrap_or("").trim())
        .collect();
    assert_eq!(
        steps,
        [
            "pre-build",
            "environment",
            "pip",
            "server",
            "build",
            "collectstatic",
            "record"
        ],
        "{}",
        out.stdout()
    );
    let static_dir = l.app_root.join("static");
    assert!(
        lines[2].contains("installed -r requirements.txt"),
        "{}",
        out.stdout()
    );
    assert!(lines[3].contains("installed mod_wsgi"), "{}", out.stdout());
    assert!(
        lines[5].contains(&format!("into {}", static_dir.display())),
        "{}",
        out.stdout()
    );
    assert!(static_dir.join("admin/css/base.css").is_file());
    let record = std::fs::read_to_string(l.src.join(".warpdrive/application")).expect("record");
    assert!(
        record.contains("entry_point = hello.wsgi:application"),
        "{record}"
    );
    assert!(
        record.contains(&format!("static_root = {}", static_dir.display())),
        "{record}"
    );

    // A second build redoes nothing.
    let again = l.build().run_within(BUILD).success();
    again
        .stdout_has("build: pip: up to date (-r requirements.txt)")
        .stdout_has("build: server: mod_wsgi-express present")
        .stdout_has("build: record: .warpdrive/application is up to date");

    // exec: every python on PATH logs; none may run before the server answers.
    let log = l.app_root.join("python.log");
    let shims = python_shims(l.app_root.parent().expect("parent"), &l.venv, &log);
    let path = format!("{}:{}", shims.display(), l.path());
    let running = exec::start(&l.src, &[("PATH", path.as_str())], &[]);
    let css = running.get("/static/admin/css/base.css", &[]);
    assert_eq!(css.status, 200, "log:\n{}", running.log());
    assert!(css.body.contains("body"), "{}", css.body);
    let page = running.get("/", &[]);
    assert_eq!(page.status, 200);
    running.stop();
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(ran, "", "exec ran Python before the server: {ran}");

    // The check above can fail: a Python run through PATH is logged, and
    // without the build's record exec runs one (it imports the settings).
    Command::new(shims.join("python"))
        .args(["-c", "pass"])
        .run_within(Duration::from_secs(30))
        .success();
    assert!(std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("-c pass"));
    std::fs::remove_file(&log).expect("rm log");
    std::fs::remove_file(l.src.join(".warpdrive/application")).expect("rm record");
    let running = exec::start(&l.src, &[("PATH", path.as_str())], &[]);
    running.stop();
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        ran.contains("hello.settings"),
        "exec without the record ran no Python: {ran:?}"
    );

    // With STATIC_ROOT set (the example as it is), manage.py collectstatic
    // collects into it.
    let settings = l.src.join("hello/settings.py");
    let text = std::fs::read_to_string(&settings).expect("settings");
    support::write(
        &settings,
        &format!("{text}STATIC_ROOT = BASE_DIR / 'static'\n"),
    );
    l.build().run_within(BUILD).success().stdout_has(&format!(
        "build: collectstatic: into {}\n",
        l.src.join("static").display()
    ));
    assert!(l.src.join("static/admin/css/base.css").is_file());

    // That build recorded static_root; a record's value wins over the
    // settings, so collectstatic collects where exec will serve from.
    support::write(
        &settings,
        &format!("{text}STATIC_ROOT = BASE_DIR / 'elsewhere'\n"),
    );
    std::fs::remove_dir_all(l.src.join("static")).expect("rm static");
    l.build().run_within(BUILD).success().stdout_has(&format!(
        "build: collectstatic: into {}\n",
        l.src.join("static").display()
    ));
    assert!(l.src.join("static/admin/css/base.css").is_file());
    assert!(!l.src.join("elsewhere").exists());
}

/// Step 4 on a venv without the server: the build installs the server the
/// app will run on, and whitenoise for the static files it serves, from the
/// wheelhouse (never an index); a second build finds the server; exec then
/// serves `/static/` through WhiteNoise. hello-django keeps its STATIC_ROOT
/// (`static/hello.txt`); only auto and django collect, so collectstatic is
/// skipped.
fn server_and_whitenoise_installed_when_missing(server: &str, program: &str) {
    let app = support::copy_app(&repo().join("examples/hello-django"));
    support::write(
        &app.path().join(".warpdrive/server_type"),
        &format!("{server}\n"),
    );
    let l = layout(app.path());
    let bin = l.venv.join("bin").join(program);
    assert!(!bin.exists(), "the fresh venv has {program}");
    assert!(!l.imports("whitenoise"), "the fresh venv has whitenoise");
    l.build()
        .run_within(BUILD)
        .success()
        .stdout_has("build: pip: installed -r requirements.txt\n")
        .stdout_has(&format!("build: server: installed {server}, whitenoise\n"))
        .stdout_has(&format!("build: collectstatic: skipped for {server} "));
    assert!(bin.is_file(), "the build did not install {program}");
    assert!(
        l.imports("whitenoise"),
        "the build did not install whitenoise"
    );
    l.build()
        .run_within(BUILD)
        .success()
        .stdout_has(&format!("build: server: {program} present\n"));

    let path = l.path();
    let running = exec::start(&l.src, &[("PATH", path.as_str())], &[]);
    let file = running.get("/static/hello.txt", &[]);
    assert_eq!(file.status, 200, "log:\n{}", running.log());
    assert_eq!(file.body.trim(), "static file served by warpdrive");
    assert!(
        running.log().contains("via WhiteNoise"),
        "log:\n{}",
        running.log()
    );
    running.stop();
}

#[test]
fn gunicorn_and_whitenoise_are_installed_when_missing() {
    server_and_whitenoise_installed_when_missing("gunicorn", "gunicorn");
}

#[test]
fn waitress_and_whitenoise_are_installed_when_missing() {
    server_and_whitenoise_installed_when_missing("waitress", "waitress-serve");
}

/// No static files: the server alone, no whitenoise. The packages come from
/// the files WARPDRIVE_PIP_PACKAGES names (a comma and a space between them).
#[test]
fn a_server_without_static_files_gets_no_whitenoise() {
    let app = support::world_readable_tempdir();
    support::write(
        &app.path().join("wsgi.py"),
        "def application(environ, start_response):\n    \
         start_response('200 OK', [('Content-Type', 'text/plain')])\n    \
         return [b'plain']\n",
    );
    support::write(&app.path().join(".warpdrive/server_type"), "waitress\n");
    support::write(&app.path().join("reqs/a.txt"), "sqlparse==0.6.1\n");
    support::write(&app.path().join("b.txt"), "asgiref==3.13.0\n");
    let l = layout(app.path());
    l.build()
        .env("WARPDRIVE_PIP_PACKAGES", "reqs/a.txt, b.txt")
        .run_within(BUILD)
        .success()
        .stdout_has("build: pip: installed -r reqs/a.txt -r b.txt\n")
        .stdout_has("build: server: installed waitress\n")
        .stdout_lacks("whitenoise");
    assert!(l.imports("sqlparse") && l.imports("asgiref"));
    assert!(l.venv.join("bin/waitress-serve").is_file());
    assert!(
        !l.imports("whitenoise"),
        "whitenoise installed for no static files"
    );
    let path = l.path();
    let running = exec::start(&l.src, &[("PATH", path.as_str())], &[]);
    let page = running.get("/", &[]);
    assert_eq!(page.body, "plain", "log:\n{}", running.log());
    running.stop();
}

#[test]
fn pyproject_app_is_installed_editable() {
    let app = support::world_readable_tempdir();
    support::write(
        &app.path().join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"hellopkg\"\nversion = \"0.1\"\n\n[tool.setuptools]\npy-modules = [\"hellopkg\"]\n",
    );
    support::write(&app.path().join("hellopkg.py"), "WORD = 'first'\n");
    support::write(&app.path().join("app.py"), "import hellopkg\n");
    let l = layout(app.path());
    l.build()
        .run_within(BUILD)
        .success()
        .stdout_has("build: pip: installed -e .")
        .stdout_has("build: server: python needs no server package")
        .stdout_has("build: collectstatic: not a Django app");
    // Editable: a change to the source is what the installed package gives.
    support::write(&l.src.join("hellopkg.py"), "WORD = 'second'\n");
    let out = Command::new(l.venv.join("bin/python"))
        .args(["-c", "import hellopkg; print(hellopkg.WORD)"])
        .current_dir("/")
        .run_within(Duration::from_secs(30))
        .success();
    assert_eq!(out.stdout().trim(), "second");
}

/// A build with no Python work to do, for the step and hook tests.
fn bare_app() -> tempfile::TempDir {
    let app = support::world_readable_tempdir();
    support::write(&app.path().join("app.sh"), "#!/bin/sh\nexit 0\n");
    support::make_executable(&app.path().join("app.sh"));
    app
}

/// `warpdrive build` of `app` as it is (the test's environment, the index allowed).
fn build_in(app: &Path) -> Outcome {
    warpdrive()
        .args(["build", "--app-root"])
        .arg(app)
        .run_within(BUILD)
}

fn hook(app: &Path, name: &str, body: &str) {
    let path = app.join(".warpdrive/action_hooks").join(name);
    support::write(&path, body);
    support::make_executable(&path);
}

#[test]
fn a_failing_step_stops_the_build_with_its_status() {
    let app = bare_app();
    hook(app.path(), "pre-build", "#!/bin/sh\nexit 3\n");
    build_in(app.path())
        .status(3)
        .stderr_has("build step pre-build (")
        .stderr_has("failed with exit status 3")
        .stdout_empty();

    let app = bare_app();
    hook(
        app.path(),
        "build",
        "#!/bin/sh\necho \"$FROM_ENVIRONMENT|$FROM_BUILD_ENV\" > seen\nexit 4\n",
    );
    // .warpdrive/environment first, then build-env, which sees it.
    support::write(
        &app.path().join(".warpdrive/environment"),
        "FROM_ENVIRONMENT='x y'\n",
    );
    hook(
        app.path(),
        "build-env",
        "FROM_BUILD_ENV=\"$FROM_ENVIRONMENT+a b\"\n",
    );
    build_in(app.path())
        .status(4)
        .stderr_has("build step build (")
        .stdout_has("build: environment: ")
        .stdout_has("build-env applied")
        .stdout_lacks("collectstatic");
    assert_eq!(
        std::fs::read_to_string(app.path().join("seen")).expect("seen"),
        "x y|x y+a b\n"
    );
}

#[test]
fn a_hook_that_is_not_executable_is_skipped_with_a_warning() {
    let app = bare_app();
    let path = app.path().join(".warpdrive/action_hooks/pre-build");
    support::write(&path, "#!/bin/sh\nexit 3\n");
    build_in(app.path())
        .success()
        .stderr_has("pre-build is not executable")
        .stdout_has("build: pre-build: no hook");
}

#[test]
fn lifecycle_hooks_pass_their_status_through() {
    let rt = tempfile::tempdir().expect("rt");
    for (i, name) in ["alive", "ready", "migrate", "setup", "verify"]
        .iter()
        .enumerate()
    {
        let app = bare_app();
        // No hook: exit 0.
        let run = || {
            warpdrive()
                .arg(name)
                .arg("--app-root")
                .arg(app.path())
                .env("WARPDRIVE_RUNTIME_DIR", rt.path().join(name))
                .run_within(BUILD)
        };
        run().success();
        let status = 10 + i as i32;
        hook(
            app.path(),
            name,
            &format!("#!/bin/sh\necho \"$WARPDRIVE_HTTP_PORT $PORT\" >> ran\nexit {status}\n"),
        );
        hook(app.path(), "deploy-cfg", "#!/bin/sh\necho cfg >> cfg.log\n");
        for _ in 0..2 {
            run().status(status);
        }
        let ran = std::fs::read_to_string(app.path().join("ran")).expect("ran");
        assert_eq!(ran, "8080 8080\n8080 8080\n", "{name}");
        // deploy-cfg once per container (runtime directory).
        let cfg = std::fs::read_to_string(app.path().join("cfg.log")).expect("cfg");
        assert_eq!(cfg, "cfg\n", "{name}");
    }
}

#[test]
fn eval_of_env_round_trips_spaces_and_quotes() {
    let app = bare_app();
    let value = r#"it's a "b c" $HOME `x` \ end"#;
    hook(
        app.path(),
        "deploy-env",
        &format!(
            "GREETING={}\nexport GREETING\n",
            shlex::try_quote(value).expect("quote")
        ),
    );
    let exports = warpdrive()
        .args(["env", "--app-root"])
        .arg(app.path())
        .run_within(BUILD)
        .success()
        .stdout_has("export GREETING=")
        .stdout_has("export WARPDRIVE_HTTP_PORT=8080")
        .stdout()
        .to_string();
    let out = Command::new("bash")
        .arg("-c")
        .arg("eval \"$1\" && printf '%s|%s' \"$GREETING\" \"$WARPDRIVE_SRC_ROOT\"")
        .arg("bash")
        .arg(&exports)
        .env_remove("GREETING")
        .run_within(Duration::from_secs(30))
        .success();
    let src = app.path().canonicalize().expect("canonical");
    assert_eq!(out.stdout(), format!("{value}|{}", src.display()));
}

#[test]
fn shell_runs_with_the_runtime_environment() {
    let app = bare_app();
    hook(app.path(), "deploy-env", "export GREETING='hi there'\n");
    let script = app.path().join("fake-shell");
    support::write(
        &script,
        "#!/bin/sh\nprintf '%s|%s' \"$GREETING\" \"$(pwd)\"\n",
    );
    support::make_executable(&script);
    let src = app.path().canonicalize().expect("canonical");
    warpdrive()
        .args(["shell", "--app-root"])
        .arg(app.path())
        .env("SHELL", &script)
        .run_within(BUILD)
        .success()
        .stdout_is(&format!("hi there|{}", src.display()));
}

/// A directory holding `warpdrive`, the binary under test, for scripts.
fn warpdrive_on_path(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::os::unix::fs::symlink(support::bin(), bin.join("warpdrive")).expect("symlink");
    format!("{}:{}", bin.display(), support::venv_path())
}

#[test]
fn s2i_assemble_moves_the_source_and_builds_it() {
    let work = support::world_readable_tempdir();
    let upload = work.path().join("upload");
    std::fs::create_dir_all(&upload).expect("mkdir");
    let app = bare_app();
    support::copy_tree(app.path(), &upload);
    hook(&upload, "build", "#!/bin/sh\npwd > built\n");
    let src = work.path().join("app-root/src");
    let path = warpdrive_on_path(work.path());
    Command::new(repo().join("s2i/bin/assemble"))
        .env("PATH", &path)
        .env("WARPDRIVE_SRC_ROOT", &src)
        .env("WARPDRIVE_S2I_UPLOAD", &upload)
        .env("WARPDRIVE_APP_ROOT", work.path().join("app-root"))
        .run_within(BUILD)
        .success()
        .stdout_has("---> Installing application source")
        .stdout_has("build: build: ran .warpdrive/action_hooks/build")
        .stdout_has("build: record: nothing detected to record");
    assert!(!upload.exists(), "the upload is left behind");
    assert!(src.join("app.sh").is_file());
    let built = std::fs::read_to_string(src.join("built")).expect("built");
    assert_eq!(
        Path::new(built.trim()),
        src.canonicalize().expect("canonical")
    );
    Command::new(repo().join("s2i/bin/usage"))
        .run_within(Duration::from_secs(10))
        .success()
        .stdout_has("oc new-app");

    // run: warpdrive exec on the assembled app (app.sh, which exits).
    support::write(
        &src.join("app.sh"),
        "#!/bin/sh\necho \"served from $(pwd)\"\n",
    );
    support::make_executable(&src.join("app.sh"));
    let rt = tempfile::tempdir().expect("rt");
    Command::new(repo().join("s2i/bin/run"))
        .env("PATH", &path)
        .env("WARPDRIVE_SRC_ROOT", &src)
        .env("WARPDRIVE_RUNTIME_DIR", rt.path())
        .run_within(BUILD)
        .success()
        .stdout_has(&format!(
            "served from {}",
            src.canonicalize().expect("canonical").display()
        ));
}

/// The builder image and its OpenShift objects fit together: the
/// BuildConfig builds s2i/Containerfile into the ImageStream's tag, the
/// image's S2I label points where s2i/bin is copied, and the example image
/// builds its app with `warpdrive build`.
#[test]
fn the_s2i_builder_image_and_its_openshift_objects_fit_together() {
    use serde::Deserialize;
    let text = std::fs::read_to_string(repo().join("examples/openshift/builder.yaml"))
        .expect("builder.yaml");
    let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_json::Value::deserialize(d).expect("yaml"))
        .collect();
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k} in builder.yaml"))
    };
    let stream = kind("ImageStream")["metadata"]["name"]
        .as_str()
        .expect("ImageStream name");
    let bc = kind("BuildConfig");
    assert_eq!(bc["spec"]["strategy"]["type"], "Docker");
    let dockerfile = bc["spec"]["strategy"]["dockerStrategy"]["dockerfilePath"]
        .as_str()
        .expect("dockerfilePath");
    assert_eq!(dockerfile, "s2i/Containerfile");
    assert_eq!(bc["spec"]["output"]["to"]["kind"], "ImageStreamTag");
    assert_eq!(
        bc["spec"]["output"]["to"]["name"],
        format!("{stream}:latest")
    );

    let containerfile =
        std::fs::read_to_string(repo().join(dockerfile)).expect("s2i/Containerfile");
    let scripts = containerfile
        .split("io.openshift.s2i.scripts-url=\"image://")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the io.openshift.s2i.scripts-url label");
    assert!(
        containerfile.contains(&format!("COPY s2i/bin/ {scripts}/")),
        "s2i/bin is not copied to {scripts}"
    );
    for script in ["assemble", "run", "usage"] {
        assert!(repo().join("s2i/bin").join(script).is_file(), "{script}");
    }
    let example =
        std::fs::read_to_string(repo().join("examples/Containerfile")).expect("Containerfile");
    assert!(
        example.contains("warpdrive build"),
        "examples/Containerfile does not run warpdrive build"
    );
}
