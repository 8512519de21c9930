//! The runtime environment: what every program the launcher starts sees
//! (the app server, `warpdrive exec -- CMD`, the action hooks), computed in
//! one place, [`runtime`], as the original warpdrive's `warpdrive env` did.
//!
//! In order, each step seeing the result of the ones before:
//!
//! 1. the inherited environment;
//! 2. the runtime variables: `WARPDRIVE_SRC_ROOT` (the app's source tree),
//!    `WARPDRIVE_APP_ROOT` (default `/opt/app-root`), `WARPDRIVE_APP_HOME`
//!    (from `.warpdrive/home`, else `$WARPDRIVE_APP_HOME`, else the S2I
//!    image's `$APP_HOME`), `WARPDRIVE_HTTP_PORT` (default `$PORT`, as on
//!    Heroku and the S2I image, else 8080), `PORT` (= `WARPDRIVE_HTTP_PORT`
//!    when unset), `PYTHONUNBUFFERED=1` when unset;
//!    `PYTHONPATH` gets the home and the source tree first; a virtual
//!    environment at `$WARPDRIVE_APP_ROOT` (a `bin/activate` or
//!    `pyvenv.cfg`) puts its `bin` first on `PATH`;
//! 3. `.warpdrive/environment`: `KEY=VALUE` lines (an `export ` before the
//!    key is allowed), `#` comments, quotes and `$VAR`/`${VAR:-default}`
//!    expansion by the server_args rules ([`args`]); never a shell. Each
//!    line is an assignment, as the original's `eval` made it: it replaces
//!    an inherited value, so write `KEY=${KEY:-value}` for a default the
//!    pod's environment may override;
//! 4. `.warpdrive/action_hooks/deploy-env`, by contract a shell script the
//!    original sourced: it is run with `sh` (`set -a; . deploy-env`), its
//!    stdout sent to stderr, and the variables it exports or changes are
//!    taken (a variable it unsets is not: the launcher only adds). A failure
//!    stops the start with its exit status. It runs only when the caller
//!    asks ([`runtime`]'s `deploy_env`), so `init` on a laptop never runs it.
//!
//! In the end `PORT` and `WARPDRIVE_HTTP_PORT` name one port, the one the
//! server listens on: a variable set in steps 3–4 carries the other along
//! when that one was only a default; when both were set and differ,
//! `WARPDRIVE_HTTP_PORT` wins and `PORT` is set to it, with a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::app_file;
use super::args;
use super::error::Error;
use super::hooks::HOOK_DIR;

/// `.warpdrive/home`, relative to the source tree.
pub const HOME_FILE: &str = ".warpdrive/home";
/// `.warpdrive/environment`, relative to the source tree.
pub const ENVIRONMENT_FILE: &str = ".warpdrive/environment";

/// The default of `WARPDRIVE_APP_ROOT`, as in the original's images.
pub const DEFAULT_APP_ROOT: &str = "/opt/app-root";

/// The result of [`runtime`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runtime {
    /// The source tree (`WARPDRIVE_SRC_ROOT`), canonical; `.warpdrive/` is here.
    pub src_root: PathBuf,
    /// The app's home (`WARPDRIVE_APP_HOME`), canonical, inside the source
    /// tree: the working directory, and where detection looks.
    pub home: PathBuf,
    /// The whole environment: the inherited one with [`Runtime::set`] applied.
    pub all: BTreeMap<String, String>,
    /// Only what the launcher sets or changes on top of the inherited
    /// environment (what a child is given in addition to it).
    pub set: BTreeMap<String, String>,
}

impl Runtime {
    fn put(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        self.all.insert(key.to_string(), value.clone());
        self.set.insert(key.to_string(), value);
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.all
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `$WARPDRIVE_APP_ROOT`.
    pub fn app_root(&self) -> PathBuf {
        PathBuf::from(self.get("WARPDRIVE_APP_ROOT").unwrap_or(DEFAULT_APP_ROOT))
    }
}

/// The runtime environment for the app whose source tree is `src_root`
/// (canonical), from the inherited environment `inherited`. With
/// `deploy_env`, `.warpdrive/action_hooks/deploy-env` is run (see the module
/// documentation); without, it is left alone.
pub fn runtime(
    src_root: &Path,
    inherited: &BTreeMap<String, String>,
    deploy_env: bool,
) -> Result<Runtime, Error> {
    let mut rt = Runtime {
        src_root: src_root.to_path_buf(),
        home: src_root.to_path_buf(),
        all: inherited.clone(),
        set: BTreeMap::new(),
    };
    rt.put("WARPDRIVE_SRC_ROOT", src_root.display().to_string());
    if rt.get("WARPDRIVE_APP_ROOT").is_none() {
        rt.put("WARPDRIVE_APP_ROOT", DEFAULT_APP_ROOT);
    }
    rt.home = home(src_root, inherited)?;
    rt.put("WARPDRIVE_APP_HOME", rt.home.display().to_string());
    let http_given = rt.get("WARPDRIVE_HTTP_PORT").is_some();
    let port_given = rt.get("PORT").is_some();
    if !http_given {
        let port = rt.get("PORT").unwrap_or(DEFAULT_PORT).to_string();
        rt.put("WARPDRIVE_HTTP_PORT", port);
    }
    if !port_given {
        let port = rt.all["WARPDRIVE_HTTP_PORT"].clone();
        rt.put("PORT", port);
    }
    if !rt.all.contains_key("PYTHONUNBUFFERED") {
        rt.put("PYTHONUNBUFFERED", "1");
    }
    let mut pythonpath = vec![rt.home.display().to_string()];
    if rt.home != src_root {
        pythonpath.push(src_root.display().to_string());
    }
    if let Some(old) = rt.get("PYTHONPATH") {
        pythonpath.push(old.to_string());
    }
    rt.put("PYTHONPATH", pythonpath.join(":"));
    let venv = PathBuf::from(&rt.all["WARPDRIVE_APP_ROOT"]);
    if venv.join("bin/activate").is_file() || venv.join("pyvenv.cfg").is_file() {
        let bin = venv.join("bin").display().to_string();
        let path = rt.get("PATH").unwrap_or("");
        if path.split(':').next() != Some(bin.as_str()) {
            let path = if path.is_empty() {
                bin
            } else {
                format!("{bin}:{path}")
            };
            rt.put("PATH", path);
        }
    }
    let port_before = rt.all["WARPDRIVE_HTTP_PORT"].clone();
    let port_var_before = rt.all.get("PORT").cloned();
    environment_file(&mut rt)?;
    if deploy_env {
        source_hook(&mut rt, "deploy-env")?;
    }
    settle_port(
        &mut rt,
        &port_before,
        port_var_before.as_deref(),
        http_given,
        port_given,
    )?;
    Ok(rt)
}

/// The default port, as on the S2I image.
pub const DEFAULT_PORT: &str = "8080";

/// Makes `WARPDRIVE_HTTP_PORT` and `PORT` one port after the files ran:
/// the one a file changed follows to the other when the other was only a
/// default; otherwise `WARPDRIVE_HTTP_PORT` wins and `PORT` is set to it
/// (with a warning), so the server and a `$PORT`-reading app listen on the
/// same port. A `PORT` that is the port and not a port number is an error
/// naming `PORT`.
fn settle_port(
    rt: &mut Runtime,
    http_before: &str,
    port_before: Option<&str>,
    http_given: bool,
    port_given: bool,
) -> Result<(), Error> {
    let port = rt.get("PORT").map(str::to_string);
    let http = match rt.get("WARPDRIVE_HTTP_PORT") {
        Some(h) => h.to_string(),
        None => {
            let h = port.clone().unwrap_or_else(|| DEFAULT_PORT.to_string());
            rt.put("WARPDRIVE_HTTP_PORT", h.clone());
            h
        }
    };
    let Some(port) = port else {
        rt.put("PORT", http);
        return Ok(());
    };
    if port != http {
        let http_changed = http != http_before;
        let port_changed = Some(port.as_str()) != port_before;
        if port_changed && !http_changed && !http_given {
            rt.put("WARPDRIVE_HTTP_PORT", port.clone());
        } else {
            if !(http_changed && !port_changed && !port_given) {
                eprintln!(
                    "warpdrive: warning: PORT={} and WARPDRIVE_HTTP_PORT={} differ; the server \
                     listens on {} and PORT is set to it (unset one of them)",
                    crate::error::quoted(&port),
                    crate::error::quoted(&http),
                    crate::error::quoted(&http)
                );
            }
            rt.put("PORT", http);
            return Ok(());
        }
    }
    if !http_given && !valid_port(&port) {
        return Err(Error::bad(format!(
            "PORT={} is not valid: expected a port from 1 to 65535 (the port the server \
             listens on); fix or unset PORT",
            crate::error::quoted(&port)
        )));
    }
    Ok(())
}

fn valid_port(p: &str) -> bool {
    p.trim().parse::<u16>().is_ok_and(|n| n > 0)
}

/// The app's home: `.warpdrive/home` (first line, trimmed), else
/// `$WARPDRIVE_APP_HOME`, else `$APP_HOME` (the S2I image's), else the source tree; relative to the source tree
/// or absolute, and always inside it.
pub fn home(src_root: &Path, inherited: &BTreeMap<String, String>) -> Result<PathBuf, Error> {
    let file = src_root.join(HOME_FILE);
    let (text, origin) = match read(src_root, &file)? {
        Some(text) => (
            text.lines().next().unwrap_or("").trim().to_string(),
            file.display().to_string(),
        ),
        None => {
            let var = ["WARPDRIVE_APP_HOME", "APP_HOME"]
                .into_iter()
                .find_map(|name| {
                    inherited
                        .get(name)
                        .map(|h| h.trim())
                        .filter(|h| !h.is_empty())
                        .map(|h| (h.to_string(), name.to_string()))
                });
            match var {
                Some(found) => found,
                None => return Ok(src_root.to_path_buf()),
            }
        }
    };
    if text.is_empty() {
        return Ok(src_root.to_path_buf());
    }
    let dir = src_root.join(&text);
    let shown = crate::error::cut(&text);
    let real = dir.canonicalize().map_err(|e| {
        Error::bad(format!(
            "{origin}: the app home {shown} cannot be used ({e}); name a directory of the \
             source tree, relative to {}",
            src_root.display()
        ))
    })?;
    if !real.is_dir() || !real.starts_with(src_root) {
        return Err(Error::bad(format!(
            "{origin}: the app home {shown} is not a directory inside the source tree {}; \
             name one relative to it (e.g. `src` or `.`)",
            src_root.display()
        )));
    }
    Ok(real)
}

/// Applies `.warpdrive/environment`.
fn environment_file(rt: &mut Runtime) -> Result<(), Error> {
    let file = rt.src_root.join(ENVIRONMENT_FILE);
    let Some(text) = read(&rt.src_root, &file)? else {
        return Ok(());
    };
    for (n, raw) in text.lines().enumerate() {
        let at = || format!("{}:{}", file.display(), n + 1);
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let (key, value) = line.split_once('=').ok_or_else(|| {
            Error::bad(format!(
                "{}: expected KEY=VALUE, found {}; fix or remove the line",
                at(),
                crate::error::quoted(line)
            ))
        })?;
        if !is_name(key) {
            return Err(Error::bad(format!(
                "{}: {} is not a variable name (letters, digits and _, not starting with a \
                 digit); fix the line",
                at(),
                crate::error::quoted(key)
            )));
        }
        let value = args::expand_value(value, &rt.all)
            .map_err(|e| Error::bad(format!("{}: {}", at(), e.without_line())))?;
        rt.put(key, value);
    }
    Ok(())
}

/// The fixed text `sh` runs for deploy-env: the script's path is `$1`.
/// `set -a` exports whatever it assigns (as the original's sourcing did);
/// `cat /proc/self/environ` then prints the exported variables, NUL-separated.
const DEPLOY_ENV_SH: &str = "set -a; . \"$1\" >&2 || exit; exec cat /proc/self/environ";

/// Variables `sh` itself sets, never taken from deploy-env.
const SHELL_NOISE: &[&str] = &["PWD", "OLDPWD", "SHLVL", "_"];

/// Runs `.warpdrive/action_hooks/<name>` (an env hook such as `deploy-env`
/// or `build-env`: by contract a shell script to source) with `sh` and
/// takes what it sets; `Ok(false)` when there is none. The path is `sh`'s
/// `$1`, never part of the script. A failure is [`Error::HookFailed`] with
/// its status.
pub fn source_hook(rt: &mut Runtime, name: &str) -> Result<bool, Error> {
    let file = rt.src_root.join(HOOK_DIR).join(name);
    if read(&rt.src_root, &file)?.is_none() {
        return Ok(false);
    }
    let name = file.display().to_string();
    let out = Command::new("sh")
        .args(["-c", DEPLOY_ENV_SH, "deploy-env"])
        .arg(&file)
        .env_clear()
        .envs(&rt.all)
        .current_dir(&rt.src_root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Error::io(format!("cannot run sh for {name}"), e))?;
    if !out.status.success() {
        use std::os::unix::process::ExitStatusExt;
        let status = out
            .status
            .code()
            .or_else(|| out.status.signal().map(|s| 128 + s))
            .unwrap_or(1);
        return Err(Error::HookFailed(crate::error::ExitStatus {
            what: name,
            status,
        }));
    }
    for entry in out.stdout.split(|&b| b == 0) {
        let Ok(entry) = std::str::from_utf8(entry) else {
            continue;
        };
        let Some((key, value)) = entry.split_once('=') else {
            continue;
        };
        if SHELL_NOISE.contains(&key) || !is_name(key) {
            continue;
        }
        if rt.all.get(key).map(String::as_str) != Some(value) {
            rt.put(key, value);
        }
    }
    Ok(true)
}

fn is_name(key: &str) -> bool {
    key.chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && key.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Reads a `.warpdrive` file of the source tree; `None` when it is missing.
fn read(src_root: &Path, path: &Path) -> Result<Option<String>, Error> {
    app_file::read_text(src_root, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".warpdrive/action_hooks")).unwrap();
        (dir, root)
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn runtime_variables_have_defaults_and_respect_the_environment() {
        let (_d, root) = app();
        let rt = runtime(&root, &env(&[("PATH", "/usr/bin")]), false).unwrap();
        let r = root.display().to_string();
        assert_eq!(rt.set["WARPDRIVE_SRC_ROOT"], r);
        assert_eq!(rt.set["WARPDRIVE_APP_HOME"], r);
        assert_eq!(rt.set["WARPDRIVE_APP_ROOT"], "/opt/app-root");
        assert_eq!(rt.set["WARPDRIVE_HTTP_PORT"], "8080");
        assert_eq!(rt.set["PORT"], "8080");
        assert_eq!(rt.set["PYTHONPATH"], r);
        assert!(!rt.set.contains_key("PATH"));
        let rt = runtime(
            &root,
            &env(&[
                ("WARPDRIVE_HTTP_PORT", "9000"),
                ("PORT", "5000"),
                ("PYTHONPATH", "/lib"),
            ]),
            false,
        )
        .unwrap();
        assert!(!rt.set.contains_key("WARPDRIVE_HTTP_PORT"));
        // Both set and different: WARPDRIVE_HTTP_PORT wins, PORT follows.
        assert_eq!(rt.set["PORT"], "9000");
        assert_eq!(rt.set["PYTHONPATH"], format!("{r}:/lib"));
        // PORT alone is the port (Heroku, S2I).
        let rt = runtime(&root, &env(&[("PORT", "5000")]), false).unwrap();
        assert_eq!(rt.set["WARPDRIVE_HTTP_PORT"], "5000");
        assert!(!rt.set.contains_key("PORT"));
        for bad in ["http", "0", "70000", "-1"] {
            let e = runtime(&root, &env(&[("PORT", bad)]), false).unwrap_err();
            assert!(matches!(e, Error::BadInput(_)), "{bad}: {e}");
            assert!(e.to_string().starts_with("PORT="), "{e}");
        }
        // A PORT set by .warpdrive/environment carries WARPDRIVE_HTTP_PORT along.
        std::fs::write(root.join(ENVIRONMENT_FILE), "PORT=6000\n").unwrap();
        let rt = runtime(&root, &env(&[]), false).unwrap();
        assert_eq!(
            (
                rt.set["PORT"].as_str(),
                rt.set["WARPDRIVE_HTTP_PORT"].as_str()
            ),
            ("6000", "6000")
        );
    }

    #[test]
    fn home_is_relative_or_absolute_and_stays_inside() {
        let (_d, root) = app();
        std::fs::create_dir_all(root.join("src/proj")).unwrap();
        std::fs::write(root.join(HOME_FILE), "src/proj\n").unwrap();
        let rt = runtime(&root, &env(&[]), false).unwrap();
        assert_eq!(rt.home, root.join("src/proj"));
        assert_eq!(
            rt.set["PYTHONPATH"],
            format!("{}:{}", root.join("src/proj").display(), root.display())
        );
        std::fs::write(
            root.join(HOME_FILE),
            format!("{}\n", root.join("src").display()),
        )
        .unwrap();
        assert_eq!(home(&root, &env(&[])).unwrap(), root.join("src"));
        for bad in ["/tmp", "..", "missing", "src/../.."] {
            std::fs::write(root.join(HOME_FILE), bad).unwrap();
            let e = home(&root, &env(&[])).unwrap_err();
            assert!(matches!(e, Error::BadInput(_)), "{bad}: {e}");
            assert!(e.to_string().contains(".warpdrive/home"), "{e}");
        }
        std::fs::remove_file(root.join(HOME_FILE)).unwrap();
        assert_eq!(
            home(&root, &env(&[("WARPDRIVE_APP_HOME", "src")])).unwrap(),
            root.join("src")
        );
        // The S2I image's APP_HOME, after WARPDRIVE_APP_HOME.
        assert_eq!(
            home(&root, &env(&[("APP_HOME", "src/proj")])).unwrap(),
            root.join("src/proj")
        );
        assert_eq!(
            home(
                &root,
                &env(&[("APP_HOME", "src/proj"), ("WARPDRIVE_APP_HOME", "src")])
            )
            .unwrap(),
            root.join("src")
        );
        for bad in ["/etc", "../..", "nope"] {
            let e = home(&root, &env(&[("APP_HOME", bad)])).unwrap_err();
            assert!(e.to_string().starts_with("APP_HOME: "), "{e}");
        }
    }

    #[test]
    fn environment_file_assigns_in_order_with_expansion() {
        let (_d, root) = app();
        std::fs::write(
            root.join(ENVIRONMENT_FILE),
            "# settings\nexport A=1\nB=\"$A two\" # note\nC=${UNSET:-d}\nD=${D:-kept}\n\
             E='$A'\nF=$WARPDRIVE_SRC_ROOT/x\nEMPTY=\n",
        )
        .unwrap();
        let rt = runtime(&root, &env(&[("D", "from pod")]), false).unwrap();
        assert_eq!(rt.set["A"], "1");
        assert_eq!(rt.set["B"], "1 two");
        assert_eq!(rt.set["C"], "d");
        assert_eq!(rt.all["D"], "from pod");
        assert_eq!(rt.set["E"], "$A");
        assert_eq!(rt.set["F"], format!("{}/x", root.display()));
        assert_eq!(rt.set["EMPTY"], "");
        for (text, part) in [
            ("A=b c\n", ":1: the value is 2 words"),
            ("\nnothing here\n", ":2: expected KEY=VALUE"),
            ("1A=x\n", "is not a variable name"),
            ("A=$NOPE\n", "variable NOPE is not set"),
        ] {
            std::fs::write(root.join(ENVIRONMENT_FILE), text).unwrap();
            let e = runtime(&root, &env(&[]), false).unwrap_err().to_string();
            assert!(e.contains(part), "{text:?}: {e}");
            assert!(e.contains(".warpdrive/environment"), "{e}");
        }
    }

    #[test]
    fn deploy_env_is_sourced_by_sh_only_when_asked() {
        let (_d, root) = app();
        std::fs::write(root.join(ENVIRONMENT_FILE), "WARPDRIVE_HTTP_PORT=7000\n").unwrap();
        std::fs::write(
            root.join(HOOK_DIR).join("deploy-env"),
            "echo talking\nGREETING=\"hello $A\"\nexport B=2\nif true; then C=3; fi\ncd /\n",
        )
        .unwrap();
        let rt = runtime(&root, &env(&[("A", "x"), ("PATH", "/usr/bin:/bin")]), true).unwrap();
        assert_eq!(rt.set["GREETING"], "hello x");
        assert_eq!(rt.set["B"], "2");
        assert_eq!(rt.set["C"], "3");
        assert!(!rt.set.contains_key("PWD"), "{:?}", rt.set);
        assert!(!rt.set.contains_key("A"));
        // PORT follows a port set by the files.
        assert_eq!(rt.set["PORT"], "7000");
        let rt = runtime(&root, &env(&[("PATH", "/usr/bin:/bin")]), false).unwrap();
        assert!(!rt.set.contains_key("GREETING"));
        std::fs::write(root.join(HOOK_DIR).join("deploy-env"), "exit 3\n").unwrap();
        match runtime(&root, &env(&[("PATH", "/usr/bin:/bin")]), true) {
            Err(Error::HookFailed(e)) => assert_eq!(e.status, 3),
            other => panic!("expected HookFailed, got {other:?}"),
        }
    }

    #[test]
    fn a_venv_at_the_app_root_goes_first_on_path() {
        let (_d, root) = app();
        let venv = tempfile::tempdir().unwrap();
        std::fs::create_dir(venv.path().join("bin")).unwrap();
        std::fs::write(venv.path().join("bin/activate"), "").unwrap();
        let bin = venv.path().join("bin").display().to_string();
        let e = env(&[
            ("WARPDRIVE_APP_ROOT", venv.path().to_str().unwrap()),
            ("PATH", "/usr/bin"),
        ]);
        let rt = runtime(&root, &e, false).unwrap();
        assert_eq!(rt.set["PATH"], format!("{bin}:/usr/bin"));
        let again = runtime(&root, &rt.all, false).unwrap();
        assert!(!again.set.contains_key("PATH"));
    }
}
