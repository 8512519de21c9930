//! The variables and the file people migrate with: the OpenShift S2I
//! Python image's `APP_SCRIPT`, `APP_FILE`, `APP_MODULE`, `APP_CONFIG`,
//! `DISABLE_MIGRATE`, `DISABLE_COLLECTSTATIC`, and Heroku's `Procfile`,
//! read here and given the meaning those platforms give them (the README's
//! "Coming from S2I or Heroku" table says which wins over what).
//! `APP_HOME`, `PORT` and `WEB_CONCURRENCY` are read where their warpdrive
//! twins are (`environment`, `resolve`).
//!
//! A value never reaches a shell and never names a file outside the app;
//! a bad one is a one-line error naming the variable. A Procfile line runs
//! without a shell unless its characters need one ([`Line::classify`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::app_file;
use super::args;
use super::detect::EntryPoint;
use super::error::Error;
use super::path;
use super::server_type::ServerType;

/// Heroku's process file, at the top of the source tree.
pub const PROCFILE: &str = "Procfile";

/// A variable's value, trimmed, when it is set and not empty.
pub fn var<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// A `DISABLE_*` switch: on when set to anything but empty, `0`, `false`,
/// `no` or `off` (any case). The S2I image counts any non-empty value.
pub fn switch(env: &BTreeMap<String, String>, name: &str) -> bool {
    var(env, name).is_some_and(|v| {
        !matches!(
            v.to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        )
    })
}

/// The file variable `name` names (`APP_SCRIPT`, `APP_FILE`, `APP_CONFIG`):
/// relative to the app's home, or absolute, and inside the source tree
/// (no `..`, no symlink out); `what` says what it must be, for the error.
/// `None` when the variable is unset.
pub fn file_var(
    src_root: &Path,
    home: &Path,
    env: &BTreeMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<PathBuf>, Error> {
    let Some(value) = var(env, name) else {
        return Ok(None);
    };
    let shown = crate::error::quoted(value);
    let bad = |why: &str| {
        Error::bad(format!(
            "{name}={shown}: {why}; set {name} to {what} inside the app {} (relative to {})",
            src_root.display(),
            home.display()
        ))
    };
    let file = if value.starts_with('/') {
        PathBuf::from(value)
    } else {
        home.join(value)
    };
    if app_file::confine(src_root, &file).is_err() {
        return Err(bad("it leads out of the app"));
    }
    if !file.is_file() {
        return Err(bad(&format!("{} is not a file", file.display())));
    }
    Ok(Some(file))
}

/// `APP_MODULE`, gunicorn's target (`MODULE` or `MODULE:CALLABLE`, where the
/// callable defaults to `application`), when set.
pub fn app_module(env: &BTreeMap<String, String>) -> Result<Option<EntryPoint>, Error> {
    let Some(value) = var(env, "APP_MODULE") else {
        return Ok(None);
    };
    EntryPoint::parse(value).map(Some).ok_or_else(|| {
        Error::bad(format!(
            "APP_MODULE={}: not a WSGI target; set APP_MODULE to MODULE or MODULE:CALLABLE \
             (e.g. myapp.wsgi:application)",
            crate::error::quoted(value)
        ))
    })
}

/// The type `auto` picks for the migration variables, before detection
/// looks at the files, in the S2I image's order: `APP_SCRIPT` (shell),
/// `APP_FILE` (python), `APP_MODULE` (gunicorn); then a Procfile `web:`
/// line (shell) when there is no `app.sh` or `app.py` (warpdrive's own
/// files, which win over it). `None`: detection decides.
pub fn auto(
    src_root: &Path,
    home: &Path,
    env: &BTreeMap<String, String>,
) -> Result<Option<(ServerType, String)>, Error> {
    for (name, t) in [
        ("APP_SCRIPT", ServerType::Shell),
        ("APP_FILE", ServerType::Python),
        ("APP_MODULE", ServerType::Gunicorn),
    ] {
        if let Some(v) = var(env, name) {
            return Ok(Some((
                t,
                format!(
                    "auto: {name}={} (as on the S2I image)",
                    crate::error::quoted(v)
                ),
            )));
        }
    }
    if home.join("app.sh").is_file() || home.join("app.py").is_file() {
        return Ok(None);
    }
    Ok(procfile(src_root)?.and_then(|p| {
        p.web
            .map(|_| (ServerType::Shell, "auto: Procfile has a web: line".into()))
    }))
}

/// What the launcher leaves out because the type that runs does not use
/// it, one note each (for the reason line); a Procfile `web:` line is
/// ignored unless `shell` runs it (no `APP_SCRIPT`, no `app.sh`). A
/// Procfile that cannot be read is not an error here.
pub fn ignored(
    server_type: ServerType,
    src_root: &Path,
    home: &Path,
    env: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let uses = |name: &str| match name {
        "APP_SCRIPT" => server_type == ServerType::Shell,
        "APP_FILE" => server_type == ServerType::Python,
        "APP_MODULE" => server_type.is_app_server(),
        _ => server_type == ServerType::Gunicorn,
    };
    for name in [
        "APP_SCRIPT",
        "APP_FILE",
        "APP_MODULE",
        "APP_CONFIG",
        "GUNICORN_CMD_ARGS",
    ] {
        if var(env, name).is_some() && !uses(name) {
            notes.push(format!(
                "{name} ignored (not used by {})",
                server_type.name()
            ));
        }
    }
    let shell_runs_it = server_type == ServerType::Shell
        && var(env, "APP_SCRIPT").is_none()
        && !home.join("app.sh").exists();
    if !shell_runs_it
        && procfile(src_root)
            .ok()
            .flatten()
            .is_some_and(|p| p.web.is_some())
    {
        notes.push(format!(
            "Procfile web: ignored ({} runs {})",
            server_type.name(),
            match server_type {
                ServerType::Shell if var(env, "APP_SCRIPT").is_some() => "APP_SCRIPT",
                ServerType::Shell => "app.sh",
                _ => "the app",
            }
        ));
    }
    notes
}

/// The Procfile's `web:` and `release:` commands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Procfile {
    pub path: PathBuf,
    pub web: Option<String>,
    pub release: Option<String>,
}

/// Reads `Procfile` at the top of the source tree: `TYPE: COMMAND` lines
/// (a type is letters, digits, `_` and `-`), blank lines and `#` comments.
/// Types other than `web` and `release` are allowed and not used. `None`
/// when there is no Procfile.
pub fn procfile(src_root: &Path) -> Result<Option<Procfile>, Error> {
    let path = src_root.join(PROCFILE);
    let Some(text) = app_file::read_text(src_root, &path)? else {
        return Ok(None);
    };
    let mut found = Procfile {
        path: path.clone(),
        ..Procfile::default()
    };
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{}:{}", path.display(), n + 1);
        let (name, command) = line
            .split_once(':')
            .filter(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
            .ok_or_else(|| {
                Error::bad(format!(
                    "{at}: expected `TYPE: COMMAND` (e.g. `web: gunicorn app:app`), found {}; \
                     fix the line",
                    crate::error::quoted(line)
                ))
            })?;
        let slot = match name {
            "web" => &mut found.web,
            "release" => &mut found.release,
            _ => continue,
        };
        let command = command.trim();
        if command.is_empty() {
            return Err(Error::bad(format!(
                "{at}: `{name}:` has no command; add one or remove the line"
            )));
        }
        if slot.is_some() {
            return Err(Error::bad(format!(
                "{at}: a second `{name}:` line; keep one"
            )));
        }
        *slot = Some(command.to_string());
    }
    Ok(Some(found))
}

/// How a Procfile line runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Split into words (the server_args rules, `$NAME` and `${NAME}`
    /// expanded) and run as they are, no shell.
    Words(Vec<String>),
    /// Run with `bash -c` (`sh -c` without bash), because of `why`.
    Shell { line: String, why: String },
}

/// Characters that mean something to a shell beyond words, quotes and
/// `$NAME`: operators, redirections, globbing, tilde and brace expansion,
/// command substitution, escapes and comments.
const SHELL_CHARS: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '`', '*', '?', '[', ']', '~', '!', '#', '\\', '{', '}',
];

/// Words a shell treats as its own at the start of a command.
const SHELL_WORDS: &[&str] = &[
    ".", ":", "[", "alias", "break", "case", "cd", "command", "continue", "eval", "exec", "exit",
    "export", "for", "function", "if", "local", "read", "readonly", "return", "set", "shift",
    "source", "test", "time", "trap", "ulimit", "umask", "unset", "until", "wait", "while",
];

/// What a variable's value may hold and still be one word that no shell
/// would split or glob.
fn plain_value(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
}

impl Line {
    /// Decides by the line's characters (and the values of the variables
    /// it names) whether it needs a shell: it does when it has one of
    /// [`SHELL_CHARS`] or a newline, a `$` other than `$NAME`/`${NAME}`,
    /// a `$NAME` that is unset, empty or whose value is not a plain word
    /// (a shell would split or glob it), or starts with an assignment or a
    /// shell word ([`SHELL_WORDS`]). Otherwise the words are exactly what
    /// `sh -c` would run, and the line runs without one.
    pub fn classify(line: &str, env: &BTreeMap<String, String>) -> Result<Line, Error> {
        match needs_shell(line, env) {
            Some(why) => Ok(Line::Shell {
                line: line.to_string(),
                why,
            }),
            None => {
                let words = args::split_and_expand(line, env)
                    .map_err(|e| Error::bad(format!("{PROCFILE}: {}", e.without_line())))?;
                if words.is_empty() {
                    return Err(Error::bad(format!(
                        "{PROCFILE}: the command is empty; write one after `web:`"
                    )));
                }
                Ok(Line::Words(words))
            }
        }
    }

    /// The command line to run, with `extra` arguments (server_args)
    /// after it (a shell line gets them as `$1`…).
    pub fn argv(&self, env: &BTreeMap<String, String>, extra: &[String]) -> Vec<String> {
        match self {
            Line::Words(w) => w.iter().chain(extra).cloned().collect(),
            Line::Shell { line, .. } => {
                let shell = shell_program(env);
                let mut argv = vec![shell, "-c".to_string(), line.clone(), PROCFILE.to_string()];
                argv.extend(extra.iter().cloned());
                argv
            }
        }
    }

    /// For the reason line.
    pub fn how(&self) -> String {
        match self {
            Line::Words(_) => "run without a shell".to_string(),
            Line::Shell { why, .. } => format!("run with a shell ({why})"),
        }
    }
}

/// `bash` when it is on PATH (Heroku runs Procfile lines with bash), else `sh`.
pub fn shell_program(env: &BTreeMap<String, String>) -> String {
    if path::find_on_path("bash", env).is_some() {
        "bash".to_string()
    } else {
        "sh".to_string()
    }
}

fn needs_shell(line: &str, env: &BTreeMap<String, String>) -> Option<String> {
    if line.contains('\n') {
        return Some("it has several lines".into());
    }
    let first = line.split_whitespace().next().unwrap_or("");
    if first.contains('=') {
        return Some(format!("it starts with the assignment {first}"));
    }
    if SHELL_WORDS.contains(&first) {
        return Some(format!("it starts with the shell word {first}"));
    }
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            let (name, end) = match chars.get(i + 1) {
                Some('{') => {
                    let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                        return Some("an unterminated ${".into());
                    };
                    let name: String = chars[i + 2..i + 2 + close].iter().collect();
                    (name, i + 3 + close)
                }
                _ => {
                    let name: String = chars[i + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .collect();
                    let len = name.chars().count();
                    (name, i + 1 + len)
                }
            };
            let is_name = name
                .chars()
                .next()
                .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
            if !is_name {
                return Some("a `$` other than $NAME or ${NAME}".into());
            }
            match env.get(&name) {
                None => return Some(format!("${name} is not set")),
                Some(v) if !plain_value(v) => {
                    return Some(format!("the value of ${name} is not one plain word"))
                }
                Some(_) => {}
            }
            i = end;
            continue;
        }
        if SHELL_CHARS.contains(&c) {
            return Some(format!("it has `{c}`"));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn switches_count_what_people_write() {
        for on in ["1", "true", "yes", "True", "x"] {
            assert!(switch(&env(&[("D", on)]), "D"), "{on}");
        }
        for off in ["", " ", "0", "false", "No", "off"] {
            assert!(!switch(&env(&[("D", off)]), "D"), "{off}");
        }
        assert!(!switch(&env(&[]), "D"));
    }

    #[test]
    fn plain_lines_run_without_a_shell() {
        let e = env(&[("PORT", "5000"), ("OPTS", "-w 3"), ("EMPTY", "")]);
        assert_eq!(
            Line::classify("gunicorn app:app --bind 0.0.0.0:$PORT", &e).unwrap(),
            Line::Words(
                ["gunicorn", "app:app", "--bind", "0.0.0.0:5000"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            Line::classify("python -m http.server \"${PORT}\" 'a b'", &e).unwrap(),
            Line::Words(
                ["python", "-m", "http.server", "5000", "a b"]
                    .map(String::from)
                    .to_vec()
            )
        );
        for (line, why) in [
            ("gunicorn app:app && echo done", "`&`"),
            ("gunicorn $OPTS app:app", "not one plain word"),
            ("gunicorn $NOPE app:app", "$NOPE is not set"),
            ("gunicorn $EMPTY app:app", "not one plain word"),
            ("gunicorn ${PORT:-80}", "`$` other than"),
            ("exec gunicorn app:app", "shell word exec"),
            ("FOO=1 gunicorn app:app", "assignment FOO=1"),
            ("gunicorn app:app > log", "`>`"),
            ("echo $(id)", "`$` other than"),
            ("ls *.py", "`*`"),
            ("cd src; gunicorn app:app", "shell word cd"),
        ] {
            match Line::classify(line, &e).unwrap() {
                Line::Shell { why: w, .. } => assert!(w.contains(why), "{line}: {w}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn procfile_lines_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(procfile(&root).unwrap(), None);
        std::fs::write(
            root.join(PROCFILE),
            "# processes\nweb: gunicorn app:app\nworker: celery -A app worker\n\nrelease:python manage.py migrate\n",
        )
        .unwrap();
        let p = procfile(&root).unwrap().unwrap();
        assert_eq!(p.web.as_deref(), Some("gunicorn app:app"));
        assert_eq!(p.release.as_deref(), Some("python manage.py migrate"));
        for (text, part) in [
            ("web gunicorn\n", ":1: expected `TYPE: COMMAND`"),
            ("web:\n", "has no command"),
            ("web: a\nweb: b\n", ":2: a second `web:` line"),
        ] {
            std::fs::write(root.join(PROCFILE), text).unwrap();
            let e = procfile(&root).unwrap_err().to_string();
            assert!(e.contains(part), "{text:?}: {e}");
            assert!(e.contains("Procfile"), "{e}");
        }
    }

    #[test]
    fn file_variables_stay_in_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(root.join("src/run.sh"), "").unwrap();
        std::fs::write(root.join("top.sh"), "").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("src/out")).unwrap();
        let home = root.join("src");
        let get = |v: &str| {
            file_var(
                &root,
                &home,
                &env(&[("APP_SCRIPT", v)]),
                "APP_SCRIPT",
                "a script",
            )
        };
        assert_eq!(get("run.sh").unwrap(), Some(home.join("run.sh")));
        assert_eq!(
            get(&root.join("top.sh").display().to_string()).unwrap(),
            Some(root.join("top.sh"))
        );
        for bad in [
            "../top.sh",
            "/etc/passwd",
            "out",
            "missing.sh",
            "; rm -rf /",
            ".",
        ] {
            let e = get(bad).unwrap_err().to_string();
            assert!(e.starts_with("APP_SCRIPT="), "{bad}: {e}");
            assert!(
                e.contains("set APP_SCRIPT to a script inside the app"),
                "{e}"
            );
        }
        assert_eq!(
            file_var(&root, &home, &env(&[]), "APP_SCRIPT", "x").unwrap(),
            None
        );
    }

    #[test]
    fn app_module_is_a_target() {
        let e = |v: &str| app_module(&env(&[("APP_MODULE", v)]));
        assert_eq!(e("wsgi").unwrap().unwrap().spec(), "wsgi:application");
        assert_eq!(e("pkg.app:app").unwrap().unwrap().spec(), "pkg.app:app");
        for bad in ["--config=/etc/x", "a b", "x:y; rm", "../x"] {
            let err = e(bad).unwrap_err().to_string();
            assert!(err.starts_with("APP_MODULE="), "{err}");
        }
    }
}
