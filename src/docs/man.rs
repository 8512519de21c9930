//! The man pages: clap_mangen's sections, then EXIT STATUS, ENVIRONMENT,
//! FILES (each page has the entries its command reads), EXAMPLES (from
//! `--help`) and SEE ALSO.

use super::command::{annotated_command, examples, BIN};
use super::error::Error;

/// `(file name, roff)` for the main page and one page per visible subcommand.
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut root = annotated_command()
        .name(BIN)
        .bin_name(BIN)
        .disable_help_subcommand(true);
    root.build();
    let subs: Vec<&clap::Command> = root
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .collect();
    let mut pages = vec![man_page(&root, &subs)?];
    for sub in &subs {
        pages.push(man_page(sub, &[&root])?);
    }
    Ok(pages)
}

/// One page: clap_mangen's sections, with the `--help` examples moved from
/// its EXTRA section into EXAMPLES, and a SEE ALSO section.
fn man_page(cmd: &clap::Command, see_also: &[&clap::Command]) -> Result<(String, Vec<u8>), Error> {
    use clap_mangen::roff::{bold, roman, Roff};
    let version = cmd.get_version().unwrap_or_default();
    let man = clap_mangen::Man::new(cmd.clone().after_help(None::<&str>))
        .source(format!("{BIN} {version}"))
        .manual("kubectl-warpdrive manual");
    let name = man.get_filename();
    let mut buf = Vec::new();
    man.render(&mut buf).map_err(|source| Error::Render {
        page: name.clone(),
        source,
    })?;

    let mut extra = Roff::new();
    // The main page has every entry; a subcommand's page those it reads.
    let page = (!see_also.is_empty() && see_also[0].get_name() == BIN).then(|| cmd.get_name());
    extra.control("SH", ["EXIT STATUS"]);
    for (code, text) in exit_status(page) {
        extra.control("TP", []);
        extra.text([bold(code)]);
        extra.text([roman(text)]);
    }
    let env = environment(page);
    if !env.is_empty() {
        extra.control("SH", ["ENVIRONMENT"]);
        for (name, text) in env {
            extra.control("TP", []);
            extra.text([bold(name)]);
            extra.text([roman(text)]);
        }
    }
    let files = files(page);
    if !files.is_empty() {
        extra.control("SH", ["FILES"]);
        for (name, text) in files {
            extra.control("TP", []);
            extra.text([bold(name)]);
            extra.text([roman(text)]);
        }
    }
    let examples = examples(cmd);
    if !examples.is_empty() {
        extra.control("SH", ["EXAMPLES"]);
        extra.control("nf", []);
        extra.control("RS", ["4"]);
        for line in examples {
            extra.text([roman(line)]);
        }
        extra.control("RE", []);
        extra.control("fi", []);
    }
    extra.control("SH", ["SEE ALSO"]);
    let mut refs = Vec::new();
    for (i, other) in see_also.iter().enumerate() {
        if i > 0 {
            refs.push(roman(", "));
        }
        refs.push(bold(other.get_display_name().unwrap_or(other.get_name())));
        refs.push(roman("(1)"));
    }
    refs.push(roman(", "));
    refs.push(bold("kubectl"));
    refs.push(roman("(1)"));
    extra.text(refs);
    // `render` starts with clap_mangen's two-line apostrophe preamble, which
    // the page already has.
    let text = extra.render();
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| l.starts_with(".ie ") || l.starts_with(".el "))
        .collect();
    for line in body {
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
    }
    Ok((name, buf))
}

/// The subcommands that run in the container and read the app's
/// `.warpdrive/` and the launcher's environment (`init` reads what `exec`
/// would see).
const LAUNCHER: &[&str] = &[
    "exec", "build", "alive", "ready", "migrate", "setup", "verify", "env", "shell", "init",
];
/// The subcommands that talk to the cluster (and completion, which may).
const CLUSTER: &[&str] = &["tune", "scale", "reload", "completion"];
/// Every page.
const ALL: &[&str] = &["*"];

/// The `WARPDRIVE_*` (and other non-knob) variables: name, meaning, the
/// pages they go on. The `MOD_WSGI_*` knobs come from [`crate::knobs::KNOBS`].
/// A test checks that every `WARPDRIVE_*` name in `src/` is here or in
/// [`INTERNAL_VARS`].
pub const ENVIRONMENT: &[(&str, &str, &[&str])] = &[
    ("WARPDRIVE_SRC_ROOT", "The app's source tree (default: the current directory); set for the children. reload syncs into it when the container sets it (else /opt/app-root/src).", &["exec", "build", "alive", "ready", "migrate", "setup", "verify", "env", "shell", "init", "reload"]),
    ("WARPDRIVE_APP_ROOT", "The runtime root (default /opt/app-root): a venv there goes first on PATH; set for the children.", LAUNCHER),
    ("WARPDRIVE_APP_HOME", "The app's home when there is no .warpdrive/home; set for the children.", LAUNCHER),
    ("WARPDRIVE_SERVER_TYPE", "The server type (overrides .warpdrive/server_type; --server-type overrides it).", LAUNCHER),
    ("WARPDRIVE_HTTP_PORT", "The port every server listens on, on 0.0.0.0 (default 8080).", LAUNCHER),
    ("PORT", "Set to WARPDRIVE_HTTP_PORT for the children when unset.", LAUNCHER),
    ("WARPDRIVE_RUNTIME_DIR", "Writable directory for the launcher's files (default ${TMPDIR:-/tmp}/warpdrive-UID).", LAUNCHER),
    ("WARPDRIVE_USER", "The account Apache runs as when the launcher is root (default www-data).", &["exec"]),
    ("WARPDRIVE_GROUP", "The group Apache runs as when the launcher is root (default: WARPDRIVE_USER's group).", &["exec"]),
    ("WARPDRIVE_AUTO_PROCESSES", "1: compute MOD_WSGI_PROCESSES from the cgroup limits when it is unset.", &["exec", "env"]),
    ("WARPDRIVE_CGROUP_ROOT", "Where the cgroup files are (default /sys/fs/cgroup; for tests).", &["exec", "env"]),
    ("WARPDRIVE_TRUST_PROXY_HEADERS", "Comma list of proxy headers to trust (X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Proto, X-Forwarded-Scheme, Forwarded).", &["exec"]),
    ("WARPDRIVE_TRUST_PROXY", "Comma list of peer addresses or CIDRs allowed to send those headers (default: any).", &["exec"]),
    ("WARPDRIVE_RELOAD_EXTENSIONS", "Extra file suffixes the launcher's own reloader watches (MOD_WSGI_RELOAD_ON_CHANGES on waitress, python, shell).", &["exec"]),
    ("WARPDRIVE_SUPERVISE", "1: stay as the supervisor even when not PID 1.", &["exec"]),
    ("WARPDRIVE_DRAIN_SECONDS", "Seconds to keep serving after SIGTERM before the server's stop signal (default 5; 0 for none).", &["exec"]),
    ("WARPDRIVE_STOP_TIMEOUT", "Seconds the server gets after its stop signal before SIGKILL of its process group (default 20).", &["exec"]),
    ("WARPDRIVE_PIP_PACKAGES", "The requirements files build installs, space- or comma-separated (default requirements.txt).", &["build"]),
    ("WARPDRIVE_PIP_NO_INDEX", "1: build passes --no-index to pip (wheels from .warpdrive/wheelhouse only).", &["build"]),
    ("KUBECONFIG", "Colon-separated kubeconfig files, merged as kubectl merges them (a missing one is skipped); --kubeconfig wins. Default ~/.kube/config.", CLUSTER),
    ("WARPDRIVE_COMPLETE_TIMEOUT", "How long kubectl warpdrive TAB completion may wait for the cluster (default 3s).", &["completion"]),
    ("NO_COLOR", "When set, --help is never coloured.", ALL),
];

/// `WARPDRIVE_*` names the launcher sets for its own support modules (the
/// WSGI/ASGI wrappers), not for users: not in the man pages.
pub const INTERNAL_VARS: &[&str] = &[
    "WARPDRIVE_WSGI_TARGET",
    "WARPDRIVE_ASGI_TARGET",
    "WARPDRIVE_UNTRUSTED_PEER",
    "WARPDRIVE_STATIC_URL",
    "WARPDRIVE_STATIC_ROOT",
];

/// The files: path, meaning, pages. `.warpdrive/*` as README's
/// "`.warpdrive/` files" table has them (a test compares).
pub const FILES: &[(&str, &str, &[&str])] = &[
    (".warpdrive/server_type", "One word, the server type (auto, shell, python, paste, django, gunicorn, mod_wsgi, waitress, uwsgi, uvicorn); written by init.", LAUNCHER),
    (".warpdrive/deploy_mode", "The original warpdrive's name for server_type.", LAUNCHER),
    (".warpdrive/home", "The app's directory inside the source tree.", LAUNCHER),
    (".warpdrive/environment", "KEY=VALUE lines applied to the server and the hooks.", LAUNCHER),
    (".warpdrive/server_args, .warpdrive/server_args/<type>", "Extra server options, shell-word split, never run through a shell; or a directory of one file per server type (server_args/gunicorn, ...); written by init.", LAUNCHER),
    (".warpdrive/application", "What init detected (entry point, static files); read by exec.", LAUNCHER),
    (".warpdrive/action_hooks/deploy-env", "A shell script sourced with sh; the variables it sets apply to the server and the hooks.", LAUNCHER),
    (".warpdrive/action_hooks/deploy-cfg", "Run once per container before the first start.", &["exec"]),
    (".warpdrive/action_hooks/deploy", "Run before every start; a non-zero exit stops the start with that status. init can write a skeleton.", &["exec", "init"]),
    (".warpdrive/action_hooks/pre-build, .warpdrive/action_hooks/build", "Run by build before and after the installs.", &["build"]),
    (".warpdrive/action_hooks/build-env", "A shell script build sources; its exports hold for the build.", &["build"]),
    (".warpdrive/action_hooks/alive, ready, migrate, setup, verify", "Run by the matching command.", &["alive", "ready", "migrate", "setup", "verify"]),
    (".warpdrive/wheelhouse/", "Wheels given to pip as --find-links.", &["build"]),
    (".warpdrive/.build-stamps", "Written by build: the key of the last pip install.", &["build"]),
    (".warpdrive/sync-ignore", "gitignore-style patterns of files reload does not copy (instead of .gitignore).", &["reload"]),
    ("~/.kube/config", "The kubeconfig when neither --kubeconfig nor KUBECONFIG is given.", CLUSTER),
];

fn on_page(pages: &[&str], page: Option<&str>) -> bool {
    match page {
        None => true,
        Some(p) => pages.iter().any(|x| *x == "*" || *x == p),
    }
}

/// `(code, meaning)` for a page (`None`: the main page).
fn exit_status(page: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("0", "Success.")];
    let failed = match page {
        Some("tune") => "The operation failed: the cluster refused, a rollout failed or --timeout ran out; with several workloads, any of them failed (one line each).",
        Some("scale") | Some("reload") => "The operation failed: the cluster refused, the rollout failed or --timeout ran out. A reload on that fails after its write puts the workload back and exits with the cause's status; if putting it back fails too, 1.",
        Some("exec") => "The launcher failed (for example the server could not be started).",
        Some("init") => "Existing files would change and the answer to Overwrite? was no: nothing was written.",
        _ => "The operation failed (the cluster refused, a rollout timed out, a server could not start, ...).",
    };
    out.push(("1", failed));
    out.push(("2", "Bad input (flags, files, environment): one line on stderr naming the file or resource and the fix; nothing was changed."));
    match page {
        Some("exec") | None => {
            out.push(("N", "exec: the server's own exit status, 128+N when signal N ended it; a failing hook's status. A SIGTERM or SIGINT that ends the launcher gives 128+15 or 128+2."));
        }
        Some("build" | "alive" | "ready" | "migrate" | "setup" | "verify" | "shell") => {
            out.push((
                "N",
                "The exit status of the failing hook or step (128+N when signal N ended it).",
            ));
        }
        _ => {}
    }
    if page == Some("init") {
        out.push((
            "130",
            "Ctrl-C at a question (killed by SIGINT): nothing was written.",
        ));
    }
    out
}

/// `(name, meaning)` of the variables a page documents.
fn environment(page: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = ENVIRONMENT
        .iter()
        .filter(|(_, _, pages)| on_page(pages, page))
        .map(|(n, t, _)| (n.to_string(), t.to_string()))
        .collect();
    let knobs_here = match page {
        None => true,
        Some(p) => ["exec", "env", "init", "tune"].contains(&p),
    };
    if knobs_here {
        let how = if page == Some("tune") {
            "tune sets it in the workload"
        } else {
            "read by exec"
        };
        for k in crate::knobs::KNOBS {
            let what = match k.help {
                // Units read after the numbers: `0 to 86400 seconds`.
                "seconds" | "bytes per second" => format!("{} {}", kind_text(&k.kind), k.help),
                help => format!("{}; {}", capital(help), kind_text(&k.kind)),
            };
            out.push((
                k.name.to_string(),
                format!("{what} ({how}; mod_wsgi-express {}).", k.mod_wsgi),
            ));
        }
    } else if page == Some("reload") {
        out.push((
            crate::cluster::workload::RELOAD_VAR.to_string(),
            "reload on sets it to 1 in the container (with one replica); off removes it."
                .to_string(),
        ));
    }
    out
}

/// The values a knob takes, for its man page line.
fn kind_text(kind: &crate::knobs::ValueKind) -> String {
    use crate::knobs::ValueKind;
    match kind {
        ValueKind::Int { min, max } => format!("{min} to {max}"),
        ValueKind::Float { min, max } => format!("{min} to {max}"),
        ValueKind::Flag => "1/true/yes/on or 0/false/no/off".to_string(),
        ValueKind::Choice(words) => words.join(", "),
        ValueKind::Text => "text".to_string(),
    }
}

fn capital(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `(path, meaning)` of the files a page documents.
fn files(page: Option<&str>) -> Vec<(&'static str, &'static str)> {
    FILES
        .iter()
        .filter(|(_, _, pages)| on_page(pages, page))
        .map(|(n, t, _)| (*n, *t))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn repo_file(rel: &str) -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap_or_default()
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs" || x == "py") {
                out.push(p);
            }
        }
    }

    /// Every `"WARPDRIVE_X"` literal in src/ is documented or internal.
    #[test]
    fn every_warpdrive_variable_is_in_the_man_pages() {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 20);
        let mut names = std::collections::BTreeSet::new();
        for f in files {
            // (This file's own doc comments name a placeholder.)
            if f.ends_with("docs/man.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for part in text.split('"').skip(1).step_by(2) {
                if part.starts_with("WARPDRIVE_")
                    && part.len() > 10
                    && part
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                {
                    names.insert(part.to_string());
                }
            }
        }
        assert!(names.contains("WARPDRIVE_HTTP_PORT"), "{names:?}");
        for n in &names {
            assert!(
                ENVIRONMENT.iter().any(|(e, _, _)| e == n) || INTERNAL_VARS.contains(&n.as_str()),
                "{n} is read in src/ but neither in docs::ENVIRONMENT nor INTERNAL_VARS"
            );
        }
        // And the README's environment table names the same ones.
        let readme = repo_file("README.md");
        for (n, _, _) in ENVIRONMENT {
            assert!(
                readme.contains(&format!("`{n}")),
                "{n} is not in the README"
            );
        }
    }

    /// The FILES section and README's `.warpdrive/` table name the same files.
    #[test]
    fn files_match_the_readme_table() {
        let readme = repo_file("README.md");
        let table = readme
            .split("<!-- section: files -->")
            .nth(1)
            .and_then(|t| t.split("\n\n").find(|b| b.starts_with("| file |")))
            .unwrap_or_default()
            .to_string();
        let mut readme_names = Vec::new();
        for row in table.lines().skip(2) {
            let first = row
                .trim_start_matches('|')
                .split('|')
                .next()
                .unwrap_or_default();
            for name in first.split('`').skip(1).step_by(2) {
                readme_names.push(name.trim_end_matches('/').to_string());
            }
        }
        assert!(readme_names.len() > 10, "{readme_names:?}");
        let ours: String = FILES.iter().map(|(n, _, _)| format!("{n}, ")).collect();
        for name in &readme_names {
            assert!(
                ours.contains(name.as_str()),
                "{name} (README) is not in docs::FILES"
            );
        }
        for (n, _, _) in FILES
            .iter()
            .filter(|(n, _, _)| n.starts_with(".warpdrive/"))
        {
            let first = n
                .trim_start_matches(".warpdrive/")
                .split(',')
                .next()
                .unwrap_or_default();
            assert!(
                readme_names
                    .iter()
                    .any(|r| r == first.trim_end_matches('/')),
                "{n} is not in README's .warpdrive/ table"
            );
        }
    }

    #[test]
    fn pages_have_the_sections_for_what_they_read() {
        let pages = man_pages().unwrap();
        let page = |name: &str| {
            String::from_utf8(pages.iter().find(|(n, _)| n == name).unwrap().1.clone()).unwrap()
        };
        let main = page("kubectl-warpdrive.1");
        for want in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            "WARPDRIVE_HTTP_PORT",
            "MOD_WSGI_THREADS",
            "KUBECONFIG",
            ".warpdrive/server_type",
        ] {
            assert!(main.contains(want), "main page lacks {want}");
        }
        let exec = page("kubectl-warpdrive-exec.1");
        assert!(exec.contains("WARPDRIVE_DRAIN_SECONDS") && exec.contains("MOD_WSGI_PROCESSES"));
        assert!(!exec.contains("KUBECONFIG"));
        let tune = page("kubectl-warpdrive-tune.1");
        assert!(tune.contains("KUBECONFIG") && tune.contains("MOD_WSGI_THREADS"));
        assert!(
            !tune.contains("WARPDRIVE_DRAIN_SECONDS") && !tune.contains(".warpdrive/server_type")
        );
        let init = page("kubectl-warpdrive-init.1");
        assert!(init.contains("130") && init.contains(".warpdrive/action_hooks/deploy"));
        for (name, text) in &pages {
            let text = String::from_utf8_lossy(text);
            assert!(text.contains(".SH \"EXIT STATUS\""), "{name}");
        }
    }
}
