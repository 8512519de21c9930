//! Shipping as a kubectl/oc plugin: generated completions and man pages are
//! current, kubectl's plugin completion protocol, plugin discovery and help
//! through the real kubectl, the krew manifest, the Containerfile, output rules.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use clap::{CommandFactory, Parser};
use serde::Deserialize;

use crate::support::{self, bin, repo, Checked, Outcome, RunExt};

const TIMEOUT: Duration = Duration::from_secs(60);
const KUBECTL: &str = "/usr/bin/kubectl";

fn run(cmd: &mut Command) -> Outcome {
    cmd.run_within(TIMEOUT)
}

/// A directory to put first on PATH holding `kubectl-warpdrive` (a symlink
/// to the binary under test) and the shipped `kubectl_complete-warpdrive`.
struct PluginPath {
    dir: tempfile::TempDir,
}

impl PluginPath {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(bin(), dir.path().join("kubectl-warpdrive")).expect("symlink");
        std::fs::copy(
            repo().join("completions/kubectl_complete-warpdrive"),
            dir.path().join("kubectl_complete-warpdrive"),
        )
        .expect("copy hook");
        PluginPath { dir }
    }

    /// PATH with the plugin first and only system directories after it.
    fn path(&self) -> String {
        format!("{}:/usr/local/bin:/usr/bin:/bin", self.dir.path().display())
    }

    fn kubectl(&self) -> Command {
        let mut cmd = Command::new(KUBECTL);
        cmd.env("PATH", self.path())
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .env_remove("NO_COLOR")
            // Cluster completions give up after 3 s by default; a loaded test
            // machine must not turn a slow answer into no answer.
            .env("WARPDRIVE_COMPLETE_TIMEOUT", "30s");
        cmd
    }
}

/// Candidates (value before any tab) and the directive of a `__complete` answer.
fn parse_completion(out: &Outcome) -> (Vec<String>, String) {
    if out.code() != Some(0) {
        out.fail("expected success (exit 0)");
    }
    let mut lines: Vec<&str> = out.stdout().lines().collect();
    let directive = lines.pop().unwrap_or_default().to_owned();
    if !(directive.starts_with(':') && directive[1..].parse::<u32>().is_ok()) {
        out.fail("last line must be a :N directive");
    }
    let values = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    (values, directive)
}

// ---------------------------------------------------------------- generated files

fn files_in(dir: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let entry = entry.expect("entry");
        let meta = entry.metadata().expect("metadata");
        let executable = meta.permissions().mode() & 0o111 != 0;
        files.insert(
            entry.file_name().to_string_lossy().into_owned(),
            (std::fs::read(entry.path()).expect("read"), executable),
        );
    }
    files
}

#[test]
fn generated_completions_and_man_pages_are_current() {
    let out_dir = tempfile::tempdir().expect("tempdir");
    run(support::warpdrive()
        .arg("__generate")
        .arg("--out-dir")
        .arg(out_dir.path()))
    .success();
    for sub in ["completions", "man"] {
        let want = files_in(&out_dir.path().join(sub));
        let have = files_in(&repo().join(sub));
        assert_eq!(
            have.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{sub}/ holds other files than the CLI definition produces: run `cargo run -- __generate`"
        );
        for (name, (bytes, exec)) in &want {
            let (have_bytes, have_exec) = &have[name];
            assert!(
                have_bytes == bytes,
                "{sub}/{name} is stale: run `cargo run -- __generate` and commit the result"
            );
            assert_eq!(have_exec, exec, "{sub}/{name}: wrong executable bit");
        }
    }
    // The main page plus one per visible subcommand.
    let visible = warpdrive::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .count();
    assert_eq!(files_in(&repo().join("man")).len(), visible + 1);

    // Deterministic: a second run writes the same bytes.
    let again = tempfile::tempdir().expect("tempdir");
    run(support::warpdrive()
        .arg("__generate")
        .arg("--out-dir")
        .arg(again.path()))
    .success();
    for sub in ["completions", "man"] {
        assert_eq!(
            files_in(&again.path().join(sub)),
            files_in(&out_dir.path().join(sub))
        );
    }
}

#[test]
fn generate_outside_the_repository_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(support::warpdrive()
        .arg("__generate")
        .current_dir(dir.path()));
    out.bad_input().stderr_has("repository root");
    assert_eq!(std::fs::read_dir(dir.path()).expect("read_dir").count(), 0);
}

#[test]
fn completion_subcommand_prints_the_shipped_scripts() {
    for (shell, file) in [
        ("bash", "kubectl-warpdrive.bash"),
        ("zsh", "_kubectl-warpdrive"),
        ("fish", "kubectl-warpdrive.fish"),
        ("powershell", "_kubectl-warpdrive.ps1"),
    ] {
        let out = run(support::warpdrive().args(["completion", shell]));
        let out = out.success();
        let shipped = std::fs::read(repo().join("completions").join(file)).expect("read");
        assert!(
            out.output().stdout == shipped,
            "completion {shell} differs from completions/{file}"
        );
        assert!(
            !out.stdout().contains("__complete") && !out.stdout().contains("__generate"),
            "hidden subcommands leak into the {shell} script"
        );
    }
    let out = run(support::warpdrive().args(["completion", "bash"]));
    // bash must accept the script.
    let script = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(script.path(), out.stdout()).expect("write");
    run(Command::new("bash").arg("-n").arg(script.path())).success();
}

// ---------------------------------------------------------------- man pages

#[test]
fn man_pages_render_without_warnings() {
    let man_dir = repo().join("man");
    let pages = files_in(&man_dir);
    assert!(pages.contains_key("kubectl-warpdrive.1"));
    assert!(pages.contains_key("kubectl-warpdrive-tune.1"));
    for name in pages.keys() {
        let path = man_dir.join(name);
        run(Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&path))
        .success()
        .stderr_empty();
        let man = run(Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat"))
        .success()
        .stderr_empty();
        let text = man.stdout();
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"] {
            assert!(text.contains(section), "{name} has no {section}:\n{text}");
        }
        if name != "kubectl-warpdrive.1" {
            assert!(text.contains("EXAMPLES"), "{name} has no EXAMPLES:\n{text}");
        }
    }
}

// ---------------------------------------------------------------- completion protocol

#[test]
fn kubectl_completes_subcommands_flags_and_values_through_the_hook() {
    let plugin = PluginPath::new();
    // Exactly what kubectl does for `kubectl warpdrive <TAB>`: run
    // kubectl_complete-warpdrive from PATH with the words after `warpdrive`.
    let complete = |words: &[&str]| {
        let out = run(plugin
            .kubectl()
            .arg("__complete")
            .arg("warpdrive")
            .args(words));
        parse_completion(&out)
    };

    let (values, directive) = complete(&[""]);
    for sub in ["exec", "init", "tune", "scale", "reload", "completion"] {
        assert!(
            values.contains(&sub.to_owned()),
            "{sub} missing: {values:?}"
        );
    }
    assert!(!values.iter().any(|v| v.starts_with("__")), "{values:?}");
    assert_eq!(directive, ":4");

    let (values, _) = complete(&["tune", "--"]);
    for flag in [
        "--processes",
        "--threads",
        "--set",
        "--namespace",
        "--dry-run",
        "--output",
    ] {
        assert!(
            values.contains(&flag.to_owned()),
            "{flag} missing: {values:?}"
        );
    }
    assert!(values.iter().all(|v| v.starts_with("--")), "{values:?}");

    let (values, _) = complete(&["tune", "deploy/blog", "--thr"]);
    assert_eq!(values, ["--threads"]);

    let (values, directive) = complete(&["exec", "--server-type", ""]);
    assert_eq!(
        values,
        [
            "auto", "shell", "python", "paste", "django", "gunicorn", "mod_wsgi", "waitress",
            "uwsgi", "uvicorn"
        ]
    );
    assert_eq!(directive, ":4");

    // After `--flag=` the values alone, as cobra answers: kubectl's shell
    // scripts put the `--flag=` back themselves.
    let (values, _) = complete(&["scale", "blog", "--dry-run="]);
    assert_eq!(values, ["none", "client", "server"]);
    let (values, _) = complete(&["tune", "blog", "-o=j"]);
    assert_eq!(values, ["json"]);

    let (values, _) = complete(&["tune", "blog", "-o", ""]);
    assert_eq!(values, ["yaml", "json", "name"]);

    // Directories for --app-root: the shell completes them.
    let (values, directive) = complete(&["init", "--app-root", ""]);
    assert!(values.is_empty());
    assert_eq!(directive, ":16");
}

/// `kubectl warpdrive …<TAB>` in a real bash with kubectl's own completion
/// script (bash-completion's `_get_comp_words_by_ref -n =:` shimmed, as it
/// is not installed here: bash splits `--namespace=ku` into `--namespace`,
/// `=`, `ku`, and the shim joins them back, as bash-completion does).
/// COMPREPLY replaces the part after the `=` (readline's word), so it must
/// hold the values alone: `--namespace=<TAB>` once answered
/// `--namespace=--namespace=default`.
#[test]
fn bash_completes_kubectl_warpdrive_through_kubectls_script() {
    let plugin = PluginPath::new();
    let api = FakeApiServer::start(&["default", "kube-system", "team-a"]);
    let config = kubeconfig(plugin.dir.path(), &format!("http://127.0.0.1:{}", api.port));
    let script = r#"
_get_comp_words_by_ref() {
  local i w; words=()
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    w=${COMP_WORDS[i]}
    if ((i > 1)) && [[ $w == "=" || ${words[-1]} == -*= ]]; then words[-1]+=$w; else words+=("$w"); fi
    ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
  done
  cur=${words[cword]}; prev=${words[cword-1]}
}
source <(kubectl completion bash)
complete_line() { COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); __start_kubectl 2>/dev/null; printf '%s\n' "${COMPREPLY[@]}"; echo ---; }
complete_line kubectl warpdrive ""
complete_line kubectl warpdrive tune --thr
complete_line kubectl warpdrive exec --server-type mod
complete_line kubectl warpdrive tune --namespace =
complete_line kubectl warpdrive scale --namespace = te
complete_line kubectl warpdrive tune blog --output = y
complete_line kubectl warpdrive scale blog --dry-run =
"#;
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(script)
        .env("PATH", plugin.path())
        .env("HOME", plugin.dir.path())
        .env("KUBECONFIG", &config)
        .env("WARPDRIVE_COMPLETE_TIMEOUT", "30s");
    let out = run(&mut bash);
    let out = out.success();
    let text = out.stdout();
    let answers: Vec<Vec<&str>> = text
        .split("---\n")
        .map(|a| a.lines().filter(|l| !l.is_empty()).collect())
        .collect();
    assert_eq!(
        answers[0],
        [
            "exec",
            "build",
            "alive",
            "ready",
            "migrate",
            "setup",
            "verify",
            "env",
            "shell",
            "init",
            "tune",
            "scale",
            "reload",
            "completion",
            "help"
        ],
        "{text}"
    );
    assert_eq!(answers[1], ["--threads"], "{text}");
    assert_eq!(answers[2], ["mod_wsgi"], "{text}");
    assert_eq!(answers[3], ["default", "kube-system", "team-a"], "{text}");
    assert_eq!(answers[4], ["team-a"], "{text}");
    assert_eq!(answers[5], ["yaml"], "{text}");
    assert_eq!(answers[6], ["none", "client", "server"], "{text}");
}

#[test]
fn the_hook_script_and_a_symlink_named_like_it_answer_the_same() {
    let plugin = PluginPath::new();
    let hook = plugin.dir.path().join("kubectl_complete-warpdrive");
    let linked = tempfile::tempdir().expect("tempdir");
    let link = linked.path().join("kubectl_complete-warpdrive");
    std::os::unix::fs::symlink(bin(), &link).expect("symlink");

    for program in [&hook, &link] {
        let out = run(Command::new(program)
            .args(["tune", "--th"])
            .env("PATH", plugin.path()));
        let (values, directive) = parse_completion(&out);
        assert_eq!(values, ["--threads"], "{}", program.display());
        assert_eq!(directive, ":4");
        // `--help` and `--` are words to complete, not options of the hook.
        let out = run(Command::new(program)
            .args(["--he"])
            .env("PATH", plugin.path()));
        assert_eq!(parse_completion(&out).0, ["--help"]);
    }
}

/// A stand-in API server answering the namespace list, over plain HTTP.
struct FakeApiServer {
    port: u16,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApiServer {
    fn start(names: &'static [&'static str]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let items: Vec<serde_json::Value> = names
                    .iter()
                    .map(|n| {
                        serde_json::json!({
                            "kind": "PartialObjectMetadata",
                            "apiVersion": "meta.k8s.io/v1",
                            "metadata": {"name": n}
                        })
                    })
                    .collect();
                let body = serde_json::json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"resourceVersion": "1"},
                    "items": items
                });
                let app = axum::Router::new().route(
                    "/api/v1/namespaces",
                    axum::routing::get(move || async move { axum::Json(body) }),
                );
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        FakeApiServer {
            port,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {server}
users:
- name: tester
  user:
    token: not-a-secret
contexts:
- name: test
  context:
    cluster: test
    user: tester
    namespace: default
- name: other
  context:
    cluster: test
    user: tester
current-context: test
"
        ),
    )
    .expect("write kubeconfig");
    path
}

#[test]
fn dash_n_without_a_cluster_offers_nothing_quietly() {
    let plugin = PluginPath::new();
    // A port nothing listens on, and one that accepts but never answers.
    let port = support::free_port();
    let refused = kubeconfig(plugin.dir.path(), &format!("http://127.0.0.1:{port}"));
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hung_dir = tempfile::tempdir().expect("tempdir");
    let hung = kubeconfig(
        hung_dir.path(),
        &format!(
            "http://127.0.0.1:{}",
            silent.local_addr().expect("addr").port()
        ),
    );
    for env in [Some(refused.as_path()), Some(hung.as_path()), None] {
        let mut cmd = Command::new(plugin.dir.path().join("kubectl_complete-warpdrive"));
        cmd.env("PATH", plugin.path())
            .env("HOME", plugin.dir.path())
            .env("WARPDRIVE_COMPLETE_TIMEOUT", "500ms")
            .args(["tune", "-n", ""]);
        match env {
            Some(c) => cmd.env("KUBECONFIG", c),
            None => cmd.env_remove("KUBECONFIG"),
        };
        let out = run(&mut cmd);
        let (values, directive) = parse_completion(&out);
        if !values.is_empty() {
            out.fail("expected no candidates");
        }
        assert_eq!(directive, ":4");
        out.stderr_empty();
    }
}

// ---------------------------------------------------------------- plugin discovery and help

#[test]
fn kubectl_plugin_list_finds_the_binary_on_path() {
    let plugin = PluginPath::new();
    let out = run(plugin.kubectl().args(["plugin", "list"]));
    let out = out.success();
    let want = plugin.dir.path().join("kubectl-warpdrive");
    if !out
        .stdout()
        .lines()
        .any(|l| l.trim() == want.to_str().expect("utf8"))
    {
        out.fail(&format!(
            "kubectl plugin list does not list {}",
            want.display()
        ));
    }
}

#[test]
fn help_through_kubectl_reads_kubectl_warpdrive() {
    let plugin = PluginPath::new();
    let out = run(plugin.kubectl().args(["warpdrive", "--help"]));
    let out = out.success();
    let text = out.stdout();
    assert!(
        text.contains("Usage: kubectl warpdrive <COMMAND>"),
        "{text}"
    );
    assert!(text.contains("Examples:"), "{text}");

    let out = run(plugin.kubectl().args(["warpdrive", "tune", "--help"]));
    let out = out.success();
    let text = out.stdout();
    assert!(
        text.contains("Usage: kubectl warpdrive tune [OPTIONS]"),
        "{text}"
    );
    assert!(text.contains("--processes"), "{text}");

    // A usage error shows the plugin name too, and exits 2.
    let out = run(plugin
        .kubectl()
        .args(["warpdrive", "scale", "--no-such-flag"]));
    out.status(2).stderr_has("Usage: kubectl warpdrive scale");

    // Installed as `warpdrive` in a container, usage says `warpdrive`.
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(bin(), dir.path().join("warpdrive")).expect("symlink");
    run(Command::new(dir.path().join("warpdrive")).args(["exec", "--help"]))
        .stdout_has("Usage: warpdrive exec");
}

/// Words of an example line after the program name, or None for other programs.
fn example_args(line: &str) -> Vec<String> {
    let mut words = shlex::split(line).unwrap_or_else(|| panic!("cannot split {line:?}"));
    if let Some(i) = words.iter().position(|w| w.starts_with('>') || w == "|") {
        words.truncate(i);
    }
    match words.first().map(String::as_str) {
        Some("kubectl") | Some("oc") => {
            assert_eq!(
                words.get(1).map(String::as_str),
                Some("warpdrive"),
                "{line}"
            );
            words.drain(..2);
        }
        Some("warpdrive") => {
            words.remove(0);
        }
        _ => panic!("example {line:?} does not start with kubectl/oc warpdrive or warpdrive"),
    }
    words
}

#[test]
fn every_help_ends_with_two_or_three_examples_that_parse() {
    let cli = warpdrive::cli::Cli::command();
    let mut commands: Vec<Vec<String>> = vec![vec![]];
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        commands.push(vec![sub.get_name().to_owned()]);
    }
    for path in commands {
        let out = run(support::warpdrive().args(&path).arg("--help"));
        let out = out.success();
        let text = out.stdout();
        let lines: Vec<&str> = text.trim_end().lines().collect();
        let at = lines
            .iter()
            .rposition(|l| *l == "Examples:")
            .unwrap_or_else(|| panic!("{path:?} --help has no Examples:\n{text}"));
        let examples = &lines[at + 1..];
        assert!(
            (2..=3).contains(&examples.len()),
            "{path:?}: want 2-3 examples at the end, got {examples:?}"
        );
        for example in examples {
            let args = example_args(example.trim());
            let argv = std::iter::once("kubectl-warpdrive".to_owned()).chain(args);
            if let Err(e) = warpdrive::cli::Cli::try_parse_from(argv) {
                panic!("example {example:?} of {path:?} does not parse:\n{e}");
            }
        }
    }
}

// ---------------------------------------------------------------- krew manifest

/// `./a/./b` → `a/b`.
fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

#[test]
fn krew_manifest_follows_the_offline_checkable_rules() {
    let path = repo().join("plugins/warpdrive.yaml");
    let text = std::fs::read_to_string(&path).expect("read manifest");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("manifest is YAML");
    let s = |v: &serde_yaml::Value| v.as_str().map(str::to_owned);

    assert_eq!(
        s(&doc["apiVersion"]).as_deref(),
        Some("krew.googlecontainertools.github.com/v1alpha2")
    );
    assert_eq!(s(&doc["kind"]).as_deref(), Some("Plugin"));
    // The name matches the file name.
    let name = s(&doc["metadata"]["name"]).expect("metadata.name");
    assert_eq!(
        Some(name.as_str()),
        path.file_stem().and_then(|n| n.to_str())
    );
    // The version is semver with a leading v, and is Cargo's.
    let spec = &doc["spec"];
    let version = s(&spec["version"]).expect("spec.version");
    let semver = version
        .strip_prefix('v')
        .unwrap_or_else(|| panic!("version {version} has no leading v"));
    let core = semver.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    assert!(
        parts.len() == 3
            && parts.iter().all(|p| !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))),
        "version {version} is not semver"
    );
    assert_eq!(
        semver,
        env!("CARGO_PKG_VERSION"),
        "spec.version must follow Cargo.toml"
    );
    // Every versioned path in the file (uri, caveats) names this version.
    for (i, _) in text.match_indices("/v") {
        let rest = &text[i + 1..];
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let numbers = &word[1..];
        if numbers.contains('.') && numbers.chars().all(|c| c.is_ascii_digit() || c == '.') {
            assert_eq!(
                word, version,
                "a path names {word}, spec.version is {version}"
            );
        }
    }
    // shortDescription is short.
    let short = s(&spec["shortDescription"]).expect("shortDescription");
    assert!(
        !short.is_empty() && short.len() <= 50,
        "shortDescription too long: {short:?}"
    );
    assert!(s(&spec["description"]).is_some_and(|d| d.len() > short.len()));

    let platforms = spec["platforms"].as_sequence().expect("platforms");
    assert!(!platforms.is_empty());
    let mut seen = Vec::new();
    for p in platforms {
        let labels = &p["selector"]["matchLabels"];
        let os = s(&labels["os"]).expect("selector.matchLabels.os");
        let arch = s(&labels["arch"]).expect("selector.matchLabels.arch");
        assert!(
            ["linux", "darwin", "windows"].contains(&os.as_str()),
            "os {os}"
        );
        assert!(
            ["amd64", "arm64", "386", "arm"].contains(&arch.as_str()),
            "arch {arch}"
        );
        assert!(
            !seen.contains(&(os.clone(), arch.clone())),
            "{os}/{arch} twice"
        );
        seen.push((os.clone(), arch.clone()));

        let uri = s(&p["uri"]).expect("uri");
        assert!(
            uri.starts_with("https://") && uri.ends_with(".tar.gz"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("-{os}-{arch}.")),
            "{uri} is not the {os}/{arch} archive"
        );
        let sha = s(&p["sha256"]).expect("sha256");
        assert!(
            sha.len() == 64
                && sha
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "sha256 {sha:?}"
        );
        assert!(
            sha.chars().any(|c| c != sha.chars().next().unwrap_or('0')),
            "sha256 {sha} is a placeholder: run plugins/package.sh"
        );

        // bin and files are consistent: bin is a file the `files` put in place.
        let bin = s(&p["bin"]).expect("bin");
        let files = p["files"].as_sequence().expect("files");
        let mut installed = Vec::new();
        for f in files {
            let from = s(&f["from"]).expect("files.from");
            let to = s(&f["to"]).expect("files.to");
            let base = Path::new(&from).file_name().expect("from names a file");
            installed.push(normalize(&Path::new(&to).join(base)));
            // What the archive holds (plugins/package.sh packs these).
            let in_archive = [
                "kubectl-warpdrive",
                "kubectl_complete-warpdrive",
                "LICENSE",
                "README.md",
            ];
            assert!(
                in_archive.contains(&from.as_str()),
                "{from} is not in the archive"
            );
        }
        let bin_path = normalize(Path::new(&bin));
        assert!(
            installed.contains(&bin_path),
            "bin {bin} is not among files {installed:?}"
        );
        assert_eq!(bin, "kubectl-warpdrive");
    }
    // The files the archive is built from exist.
    for f in [
        "LICENSE",
        "README.md",
        "completions/kubectl_complete-warpdrive",
    ] {
        assert!(repo().join(f).is_file(), "{f} missing");
    }
}

// ---------------------------------------------------------------- output rules

#[test]
fn help_colour_follows_the_terminal_and_no_color() {
    let colored = |no_color: Option<&str>| -> bool {
        let mut cmd = Command::new(bin());
        cmd.args(["tune", "--help"]).env("TERM", "xterm");
        match no_color {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        cmd.env_remove("CLICOLOR_FORCE");
        let mut session =
            rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
        let text = session.exp_eof().expect("eof");
        assert!(text.contains("Usage:"), "{text}");
        text.contains('\u{1b}')
    };
    assert!(colored(None), "no colour on a terminal");
    assert!(!colored(Some("1")), "colour despite NO_COLOR=1");

    // Not a terminal: no escape codes at all.
    let out = run(support::warpdrive()
        .args(["tune", "--help"])
        .env("TERM", "xterm")
        .env_remove("NO_COLOR"));
    out.stdout_lacks("\u{1b}");
}

// ---------------------------------------------------------------- Containerfile

/// `INSTRUCTION args` lines of a Containerfile, continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(body) = line.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let (ins, args) = current.split_once(' ').unwrap_or((&current, ""));
        out.push((ins.to_ascii_uppercase(), args.trim().to_owned()));
        current.clear();
    }
    out
}

#[test]
fn containerfile_refers_to_files_that_exist() {
    let text = std::fs::read_to_string(repo().join("examples/Containerfile")).expect("read");
    let ins = instructions(&text);
    let stages: Vec<String> = ins
        .iter()
        .filter(|(i, _)| i == "FROM")
        .filter_map(|(_, a)| {
            a.split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .find(|w| w[0].eq_ignore_ascii_case("AS"))
                .map(|w| w[1].to_owned())
        })
        .collect();
    assert!(
        stages.contains(&"builder".to_owned()),
        "no builder stage: {stages:?}"
    );

    let mut destinations = Vec::new();
    let mut builder_copies_binary = false;
    for (i, args) in &ins {
        if i != "COPY" {
            continue;
        }
        let words: Vec<&str> = args.split_whitespace().collect();
        let from = words.iter().find_map(|w| w.strip_prefix("--from="));
        let paths: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !w.starts_with("--"))
            .collect();
        let (dest, sources) = paths.split_last().expect("COPY has a destination");
        destinations.push(dest.to_string());
        match from {
            Some(stage) => {
                assert!(
                    stages.iter().any(|s| s == stage),
                    "COPY --from={stage}: no such stage"
                );
                for src in sources {
                    if src.ends_with("/target/release/kubectl-warpdrive") {
                        builder_copies_binary = true;
                    }
                }
            }
            None => {
                for src in sources {
                    assert!(
                        repo().join(src).exists(),
                        "COPY {src}: no such file in the repository (the build context)"
                    );
                }
            }
        }
    }
    assert!(
        builder_copies_binary,
        "the binary is not copied from the builder stage"
    );

    // ENTRYPOINT is the exec form of `warpdrive exec` at a path a COPY wrote.
    let entry = ins
        .iter()
        .rev()
        .find(|(i, _)| i == "ENTRYPOINT")
        .map(|(_, a)| a.clone())
        .expect("ENTRYPOINT");
    let argv: Vec<String> = serde_json::from_str(&entry).expect("ENTRYPOINT in exec (JSON) form");
    assert!(argv.len() >= 2 && argv[1] == "exec", "{argv:?}");
    assert!(
        Path::new(&argv[0])
            .file_name()
            .is_some_and(|n| n == "warpdrive"),
        "{argv:?}"
    );
    assert!(
        destinations.contains(&argv[0]),
        "{} is not written by a COPY",
        argv[0]
    );
    let cli_args = std::iter::once("warpdrive".to_owned()).chain(argv[1..].iter().cloned());
    warpdrive::cli::Cli::try_parse_from(cli_args).expect("ENTRYPOINT parses");

    // Arbitrary UIDs (OpenShift): a numeric non-root user, group-0 writable app dirs.
    let user = ins
        .iter()
        .rev()
        .find(|(i, _)| i == "USER")
        .map(|(_, a)| a.clone())
        .expect("USER");
    assert!(
        user.parse::<u32>().is_ok_and(|u| u != 0),
        "USER {user} must be a numeric non-root UID"
    );
    let runs: String = ins
        .iter()
        .filter(|(i, _)| i == "RUN")
        .map(|(_, a)| a.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        runs.contains("chgrp -R 0") && runs.contains("chmod -R g=u"),
        "{runs}"
    );
}

/// Machine output is the whole of stdout: `-o json` output parses as one
/// JSON document, human text goes to stderr.
#[test]
fn machine_output_is_alone_on_stdout() {
    let app = support::copy_app(&repo().join("examples/hello-django"));
    let out = run(support::warpdrive()
        .args(["exec", "--dry-run", "-o", "json", "--app-root"])
        .arg(app.path()));
    let out = out.success().stdout_lacks("\u{1b}");
    let doc = out.json();
    assert_eq!(doc["server_type"], "django", "{doc}");
}

/// Every `--help` example that finishes on its own is run for real, in a copy
/// of examples/hello-django, against the API-server double (a Deployment
/// `blog`, or a DeploymentConfig `blog` for `dc/` examples). Only examples
/// that run until stopped (`warpdrive exec` serving, `reload --watch`) or
/// ask questions (`init` without `--yes`) are left to the parse check above.
#[test]
fn help_examples_run_for_real() {
    use crate::apiserver::{container, ApiServer};
    let mut ran = 0;
    let root = warpdrive::docs::annotated_command();
    let mut all = warpdrive::docs::examples(&root);
    for sub in root.get_subcommands() {
        all.extend(warpdrive::docs::examples(sub));
    }
    for example in all {
        let args = example_args(&example);
        let serves = args.first().is_some_and(|a| a == "exec")
            && !args.iter().any(|a| a == "--dry-run" || a == "--");
        // `init` without --yes asks questions on a terminal.
        let asks = args.first().is_some_and(|a| a == "init") && !args.iter().any(|a| a == "--yes");
        // `build` installs packages (tests/integration/build.rs runs it
        // with a local wheelhouse); `shell` is interactive.
        let builds_or_waits = args.first().is_some_and(|a| a == "build" || a == "shell");
        if serves || asks || builds_or_waits || args.iter().any(|a| a == "--watch") {
            continue;
        }
        let app = support::copy_app(&repo().join("examples/hello-django"));
        std::fs::copy(
            repo().join("tests/integration/manifests/simple.yaml"),
            app.path().join("deploy.yaml"),
        )
        .expect("deploy.yaml");
        let server = if example.contains(" dc/") {
            let s = ApiServer::openshift();
            s.add_deploymentconfig("blog", 3, serde_json::json!([container("app", &[])]));
            s
        } else {
            let s = ApiServer::start();
            let dest = s.exec_root().join("opt/app-root/src");
            let dest = dest.to_str().expect("utf8");
            s.add_deployment(
                "blog",
                1,
                serde_json::json!([container("app", &[("WARPDRIVE_SRC_ROOT", dest)])]),
            );
            s
        };
        server.set_rollout_delay(Duration::from_millis(20));
        run(support::warpdrive()
            .args(&args)
            .current_dir(app.path())
            .env("KUBECONFIG", server.kubeconfig()))
        .success();
        ran += 1;
    }
    assert!(ran >= 15, "only {ran} examples ran");
}

/// Runs `cmd` with stdout piped and stderr on a fresh pseudo-terminal (so
/// progress bars are live), returning stdout and everything written to the
/// terminal.
fn run_with_stderr_on_a_pty(mut cmd: Command) -> (Output, String) {
    use std::io::Read as _;
    use std::os::fd::FromRawFd as _;
    use std::process::Stdio;
    // SAFETY: plain libc calls on fds this function owns.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
    assert!(master >= 0, "posix_openpt");
    let mut master = unsafe { std::fs::File::from_raw_fd(master) };
    let mut name = [0 as libc::c_char; 128];
    unsafe {
        use std::os::fd::AsRawFd as _;
        assert_eq!(libc::grantpt(master.as_raw_fd()), 0);
        assert_eq!(libc::unlockpt(master.as_raw_fd()), 0);
        assert_eq!(
            libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()),
            0
        );
    }
    let slave_path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
        .to_str()
        .expect("pts name")
        .to_owned();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave_path)
        .expect("open pts");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave));
    let child = support::spawn(&mut cmd);
    drop(cmd); // closes our copy of the slave: the master sees EOF/EIO when the child is done
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.pid();
    let waiter = std::thread::spawn(move || {
        let out = child.into_child().wait_with_output().expect("wait");
        let _ = tx.send(());
        out
    });
    if rx.recv_timeout(TIMEOUT).is_err() {
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
        panic!("timed out");
    }
    let out = waiter.join().expect("join");
    (out, reader.join().expect("reader"))
}

/// `-o json`/`-o yaml` leave stdout to the document even when the command
/// waits for a rollout with a live progress display on the terminal.
#[test]
fn machine_output_stays_alone_while_progress_is_on_the_terminal() {
    use crate::apiserver::{container, ApiServer};
    for (args, format) in [
        (
            &["tune", "deploy/blog", "--threads", "4", "-o", "json"][..],
            "json",
        ),
        (
            &["tune", "deploy/blog", "--processes", "2", "-o", "yaml"][..],
            "yaml",
        ),
        (
            &["scale", "deploy/blog", "--replicas", "3", "-o", "json"][..],
            "json",
        ),
    ] {
        let server = ApiServer::start();
        server.add_deployment("blog", 1, serde_json::json!([container("app", &[])]));
        server.set_rollout_delay(Duration::from_millis(200));
        let mut cmd = support::warpdrive();
        cmd.args(args)
            .env("KUBECONFIG", server.kubeconfig())
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        let (out, terminal) = run_with_stderr_on_a_pty(cmd);
        let out = out.check();
        if out.code() != Some(0) {
            out.fail(&format!("{args:?} failed; terminal: {terminal}"));
        }
        let parsed = match format {
            "json" => {
                serde_json::from_str::<serde_json::Value>(out.stdout()).map_err(|e| e.to_string())
            }
            _ => serde_yaml::from_str::<serde_json::Value>(out.stdout()).map_err(|e| e.to_string()),
        };
        let doc = parsed.unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not one {format} document ({e}):\n{}",
                out.stdout()
            )
        });
        assert!(doc.is_object(), "{args:?}: {doc}");
        out.stdout_lacks("\u{1b}");
        assert!(!terminal.is_empty(), "{args:?}: nothing on the terminal");
    }
}

/// The shipped shell scripts pass shellcheck and the Containerfile passes
/// hadolint (both installed by .ci/setup).
#[test]
fn shipped_scripts_and_containerfile_pass_their_linters() {
    let shellcheck = Path::new("/usr/bin/shellcheck");
    assert!(shellcheck.exists(), "no shellcheck: run .ci/setup");
    let out = run(Command::new(shellcheck)
        .arg(repo().join("plugins/package.sh"))
        .arg(repo().join("completions/kubectl_complete-warpdrive"))
        .arg(repo().join("s2i/bin/assemble"))
        .arg(repo().join("s2i/bin/run"))
        .arg(repo().join("s2i/bin/usage")));
    out.success();

    let hadolint = support::venv().join("bin/hadolint");
    assert!(
        hadolint.exists(),
        "no {}: run .ci/setup",
        hadolint.display()
    );
    let out = run(Command::new(hadolint)
        .arg("--no-color")
        .arg(repo().join("examples/Containerfile"))
        .arg(repo().join("s2i/Containerfile")));
    out.success();
}

/// examples/openshift/hello-django.yaml: `tune --local` edits its
/// DeploymentConfig, it leaves the UID to OpenShift, and the runtime dir it
/// sets is a mounted emptyDir.
#[test]
fn openshift_example_is_a_deploymentconfig_tune_can_edit() {
    let file = repo().join("examples/openshift/hello-django.yaml");
    let out = run(support::warpdrive()
        .args(["tune", "--local", "--threads", "10", "-o", "json", "-f"])
        .arg(&file));
    let out = out.success();
    let edited: serde_json::Value = serde_json::from_str(out.stdout()).expect("json");
    // One object or a List of what tune edited.
    let dc = match edited["kind"].as_str() {
        Some("List") => edited["items"]
            .as_array()
            .and_then(|i| i.iter().find(|o| o["kind"] == "DeploymentConfig"))
            .cloned()
            .expect("DeploymentConfig in the list"),
        _ => edited,
    };
    assert_eq!(dc["kind"], "DeploymentConfig", "{dc}");
    let pod = &dc["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let env = c["env"].as_array().expect("env");
    let var = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(var("MOD_WSGI_THREADS").as_deref(), Some("10"));
    assert!(
        c["securityContext"].get("runAsUser").is_none()
            && pod["securityContext"].get("runAsUser").is_none()
    );
    let runtime = var("WARPDRIVE_RUNTIME_DIR").expect("WARPDRIVE_RUNTIME_DIR");
    let mount = c["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["mountPath"] == runtime.as_str()))
        .unwrap_or_else(|| panic!("{runtime} is not mounted"));
    let volume = pod["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == mount["name"]))
        .expect("volume");
    assert!(volume.get("emptyDir").is_some(), "{volume}");
    assert_eq!(c["ports"][0]["containerPort"], 8080);
}

/// examples/kubernetes/hello-django.yaml: `tune --local` edits its Deployment,
/// the pod runs as the Containerfile's USER, the runtime dir is an emptyDir,
/// and the Service selects the pods.
#[test]
fn kubernetes_example_is_a_deployment_tune_can_edit() {
    let file = repo().join("examples/kubernetes/hello-django.yaml");
    let out = run(support::warpdrive()
        .args(["tune", "--local", "--processes", "2", "-o", "json", "-f"])
        .arg(&file))
    .success();
    let edited = out.json();
    let items = match edited["kind"].as_str() {
        Some("List") => edited["items"].as_array().cloned().expect("items"),
        _ => vec![edited],
    };
    let deploy = items
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap_or_else(|| out.fail("no Deployment in the output"));
    let pod = &deploy["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let var = |name: &str| {
        c["env"]
            .as_array()
            .and_then(|env| env.iter().find(|e| e["name"] == name))
            .and_then(|e| e["value"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(var("MOD_WSGI_PROCESSES").as_deref(), Some("2"));
    let containerfile =
        std::fs::read_to_string(repo().join("examples/Containerfile")).expect("Containerfile");
    let user = containerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER in the Containerfile")
        .trim();
    assert_eq!(pod["securityContext"]["runAsUser"].to_string(), user);
    let runtime = var("WARPDRIVE_RUNTIME_DIR").expect("WARPDRIVE_RUNTIME_DIR");
    let mount = c["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["mountPath"] == runtime.as_str()))
        .unwrap_or_else(|| panic!("{runtime} is not mounted"));
    let volume = pod["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == mount["name"]))
        .expect("volume");
    assert!(volume.get("emptyDir").is_some(), "{volume}");
    assert_eq!(c["ports"][0]["containerPort"], 8080);

    // The Service (left as it was by tune) selects the pod template's labels.
    let text = std::fs::read_to_string(&file).expect("read");
    let service: serde_json::Value = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_json::Value::deserialize(d).expect("yaml"))
        .find(|o| o["kind"] == "Service")
        .expect("a Service");
    let labels = &deploy["spec"]["template"]["metadata"]["labels"];
    for (k, v) in service["spec"]["selector"].as_object().expect("selector") {
        assert_eq!(&labels[k], v, "the Service selects {k}={v}");
    }
}
