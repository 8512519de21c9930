//! The completion engine behind the hidden `__complete WORD...`:
//! kubectl's plugin completion protocol.
//!
//! kubectl 1.26+ completes `kubectl warpdrive …` by running
//! `kubectl_complete-warpdrive` with the words typed after `warpdrive`, the
//! last one being the word under the cursor (often empty). The answer is
//! cobra's `__complete` format ([`Completion::render`]): one candidate per
//! line (`value<TAB>help`), then a `:N` line with a directive (4: no file
//! completion, 0: complete files, 16: complete directories).
//!
//! The candidates come from the clap definition (subcommands, flags, value
//! lists); `-n <TAB>` and TARGET ask the cluster through [`Lookups`] (see
//! [`lookups`]: a short timeout, and quietly nothing when there is no cluster).

pub mod lookups;

use std::path::PathBuf;

use clap::{Arg, ArgAction, ValueHint};

pub use lookups::Lookups;

use crate::cli::KubeArgs;

/// Let the shell complete file names.
pub const DIRECTIVE_FILES: u32 = 0;
/// No file-name completion.
pub const DIRECTIVE_NO_FILES: u32 = 4;
/// Let the shell complete directory names.
pub const DIRECTIVE_DIRS: u32 = 16;

/// What to print: candidates (value, one-line help) and the directive.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<(String, String)>,
    pub directive: u32,
}

impl Completion {
    /// cobra's `__complete` answer: `value<TAB>help` lines, then `:DIRECTIVE`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (value, help) in &self.candidates {
            out.push_str(value);
            if !help.is_empty() {
                out.push('\t');
                out.push_str(help);
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

/// Completes the last of `words` (the words after `warpdrive`) against
/// the command tree `root` (the plugin's, with completion-only value lists).
pub fn complete(mut root: clap::Command, words: &[String], lookups: &Lookups) -> Completion {
    root.build();
    let (current, typed) = match words.split_last() {
        Some((last, rest)) => (last.as_str(), rest),
        None => ("", &[][..]),
    };

    let mut cmd = &root;
    let mut pending: Option<&Arg> = None;
    let mut after_dashdash = false;
    let mut positionals = 0usize;
    // The first plain word after the subcommand (`tune deploy blog`: a TYPE).
    let mut first_word: Option<&str> = None;
    let mut seen: Vec<String> = Vec::new();
    let mut kube = KubeArgs::default();
    // The kubeconfig flags typed so far, for asking the cluster.
    let record = |arg: &Arg, value: &str, kube: &mut KubeArgs| {
        let v = Some(value.to_owned());
        match arg.get_id().as_str() {
            "kubeconfig" => kube.kubeconfig = v.map(PathBuf::from),
            "context" => kube.context = v,
            "cluster" => kube.cluster = v,
            "user" => kube.user = v,
            "as_user" => kube.as_user = v,
            "as_group" => kube.as_group.push(value.to_owned()),
            "request_timeout" => kube.request_timeout = v,
            "namespace" => kube.namespace = v,
            "server" => kube.server = v,
            "token" => kube.token = v,
            "certificate_authority" => kube.certificate_authority = v.map(PathBuf::from),
            "client_certificate" => kube.client_certificate = v.map(PathBuf::from),
            "client_key" => kube.client_key = v.map(PathBuf::from),
            "tls_server_name" => kube.tls_server_name = v,
            _ => {}
        }
    };
    for word in typed {
        if let Some(arg) = pending.take() {
            record(arg, word, &mut kube);
            continue;
        }
        if after_dashdash {
            continue;
        }
        if word == "--" {
            after_dashdash = true;
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            if let Some(arg) = find_long(cmd, name) {
                seen.push(arg.get_id().to_string());
                match value {
                    Some(v) => record(arg, v, &mut kube),
                    None if takes_value(arg) => pending = Some(arg),
                    None if arg.get_id() == "insecure_skip_tls_verify" => {
                        kube.insecure_skip_tls_verify = true;
                    }
                    None => {}
                }
            }
            continue;
        }
        if word.len() > 1 && word.starts_with('-') {
            // A cluster of short flags: `-y`, `-n ns`, `-nns`, `-yc NAME`.
            let shorts = &word[1..];
            for (i, ch) in shorts.char_indices() {
                let Some(arg) = find_short(cmd, ch) else {
                    break;
                };
                seen.push(arg.get_id().to_string());
                if takes_value(arg) {
                    let rest = &shorts[i + ch.len_utf8()..];
                    let rest = rest.strip_prefix('=').unwrap_or(rest);
                    if rest.is_empty() {
                        pending = Some(arg);
                    } else {
                        record(arg, rest, &mut kube);
                    }
                    break;
                }
            }
            continue;
        }
        if positionals == 0 {
            if let Some(sub) = find_subcommand(cmd, word) {
                cmd = sub;
                seen.clear();
                continue;
            }
            first_word = Some(word.as_str());
        }
        positionals += 1;
    }

    if let Some(arg) = pending {
        return complete_value(arg, current, None, &kube, lookups);
    }
    if after_dashdash {
        // `exec -- CMD…`: whatever the command takes, files are a good guess.
        return Completion {
            candidates: Vec::new(),
            directive: DIRECTIVE_FILES,
        };
    }
    // `--flag=VALUE` and `-f=VALUE` (the last short flag before the `=`):
    // the values alone, as cobra answers; kubectl's bash, zsh and fish
    // scripts put the `--flag=` back in front themselves.
    if let Some((flag, value)) = current.split_once('=').filter(|(f, _)| f.starts_with('-')) {
        let arg = match flag.strip_prefix("--") {
            Some(name) => find_long(cmd, name),
            None => flag.chars().last().and_then(|ch| find_short(cmd, ch)),
        };
        return match arg.filter(|a| takes_value(a)) {
            Some(arg) => complete_value(arg, value, None, &kube, lookups),
            None => Completion {
                candidates: Vec::new(),
                directive: DIRECTIVE_NO_FILES,
            },
        };
    }
    if current.starts_with('-') {
        return complete_flags(cmd, current, &seen);
    }

    let mut candidates = Vec::new();
    let visible_subs: Vec<&clap::Command> =
        cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    if positionals == 0 && !visible_subs.is_empty() {
        for sub in visible_subs {
            push_if_prefix(
                &mut candidates,
                current,
                sub.get_name(),
                &first_line(sub.get_about().map(|a| a.to_string())),
            );
        }
        return Completion {
            candidates,
            directive: DIRECTIVE_NO_FILES,
        };
    }
    // `tune TYPE NAME…` (as `kubectl set env` takes it): names of that kind.
    let kind_typed = first_word
        .filter(|w| positionals > 0 && cmd.get_name() == "tune" && !w.contains('/'))
        .filter(|w| crate::cluster::target::kind_word(w).is_some());
    match nth_positional(cmd, positionals) {
        Some(arg) => complete_value(arg, current, kind_typed, &kube, lookups),
        None => Completion {
            candidates,
            directive: DIRECTIVE_NO_FILES,
        },
    }
}

/// `--flag` (and `-f` unless `--` was typed) candidates for `cmd`, leaving
/// out flags already given once that cannot be repeated.
fn complete_flags(cmd: &clap::Command, current: &str, seen: &[String]) -> Completion {
    let mut candidates = Vec::new();
    for arg in cmd.get_arguments() {
        if arg.is_hide_set() || arg.is_positional() {
            continue;
        }
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if !repeatable && seen.iter().any(|s| s == arg.get_id().as_str()) {
            continue;
        }
        let help = first_line(arg.get_help().map(|h| h.to_string()));
        if let Some(long) = arg.get_long() {
            push_if_prefix(&mut candidates, current, &format!("--{long}"), &help);
        }
        if !current.starts_with("--") {
            if let Some(short) = arg.get_short() {
                push_if_prefix(&mut candidates, current, &format!("-{short}"), &help);
            }
        }
    }
    Completion {
        candidates,
        directive: DIRECTIVE_NO_FILES,
    }
}

/// Values for `arg`: its value list, namespaces or kubeconfig names, or a
/// hint to the shell to complete files/directories. `kind`: a TARGET after
/// a TYPE word (`tune deploy <TAB>`) is a bare name of that kind.
fn complete_value(
    arg: &Arg,
    current: &str,
    kind: Option<&str>,
    kube: &KubeArgs,
    lookups: &Lookups,
) -> Completion {
    let mut candidates = Vec::new();
    let values = arg.get_possible_values();
    if !values.is_empty() {
        for v in values.iter().filter(|v| !v.is_hide_set()) {
            let help = first_line(v.get_help().map(|h| h.to_string()));
            push_if_prefix(&mut candidates, current, v.get_name(), &help);
        }
    } else {
        let names = match arg.get_id().as_str() {
            "namespace" => (lookups.namespaces)(kube),
            "target" => match kind {
                Some(kind) => {
                    let prefix = format!("{kind}/");
                    (lookups.targets)(kube, &format!("{prefix}{current}"))
                        .into_iter()
                        .filter_map(|t| t.strip_prefix(&prefix).map(str::to_owned))
                        .collect()
                }
                None => (lookups.targets)(kube, current),
            },
            "context" | "cluster" | "user" => {
                lookups::kubeconfig_names(arg.get_id().as_str(), kube)
            }
            _ => {
                let value_name = arg
                    .get_value_names()
                    .and_then(|n| n.first())
                    .map(|n| n.as_str())
                    .unwrap_or("");
                let directive = match arg.get_value_hint() {
                    ValueHint::DirPath => DIRECTIVE_DIRS,
                    _ if value_name == "DIR" => DIRECTIVE_DIRS,
                    ValueHint::AnyPath | ValueHint::FilePath => DIRECTIVE_FILES,
                    _ if value_name.starts_with("FILE") => DIRECTIVE_FILES,
                    _ => DIRECTIVE_NO_FILES,
                };
                return Completion {
                    candidates,
                    directive,
                };
            }
        };
        for name in names {
            push_if_prefix(&mut candidates, current, &name, "");
        }
    }
    Completion {
        candidates,
        directive: DIRECTIVE_NO_FILES,
    }
}

fn push_if_prefix(out: &mut Vec<(String, String)>, current: &str, value: &str, help: &str) {
    if value.starts_with(current) {
        out.push((value.to_owned(), help.to_owned()));
    }
}

fn first_line(text: Option<String>) -> String {
    text.as_deref()
        .and_then(|t| t.lines().next())
        .unwrap_or("")
        .trim()
        .to_owned()
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

fn find_long<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
    })
}

fn find_short(cmd: &clap::Command, ch: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short() == Some(ch))
}

fn find_subcommand<'a>(cmd: &'a clap::Command, word: &str) -> Option<&'a clap::Command> {
    cmd.get_subcommands()
        .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
}

/// The positional that takes the `n`th plain word (a multi-value one takes
/// all the rest). `last = true` positionals only come after `--`.
fn nth_positional(cmd: &clap::Command, n: usize) -> Option<&Arg> {
    let positionals: Vec<&Arg> = cmd
        .get_positionals()
        .filter(|a| !a.is_last_set() && !a.is_hide_set())
        .collect();
    positionals.get(n).copied().or_else(|| {
        positionals
            .last()
            .copied()
            .filter(|a| a.get_num_args().is_some_and(|r| r.max_values() > 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        let mut w: Vec<String> = line.split(' ').map(str::to_owned).collect();
        if line.is_empty() {
            w = vec![String::new()];
        }
        w
    }

    fn values(line: &str) -> (Vec<String>, u32) {
        let namespaces = |_: &KubeArgs| vec!["default".into(), "kube-system".into()];
        // Echoes the namespace it was asked about, to check -n is passed on.
        let targets = |k: &KubeArgs, current: &str| {
            let ns = k.namespace.clone().unwrap_or_default();
            ["deploy/blog", "sts/db", "dc/shop"]
                .iter()
                .filter(|t| t.starts_with(current))
                .map(|t| format!("{t}@{ns}"))
                .collect()
        };
        let lookups = Lookups {
            namespaces: &namespaces,
            targets: &targets,
        };
        let root = crate::docs::annotated_command();
        let c = complete(root, &words(line), &lookups);
        (
            c.candidates.into_iter().map(|(v, _)| v).collect(),
            c.directive,
        )
    }

    #[test]
    fn subcommands_at_the_top() {
        let (v, d) = values("");
        assert_eq!(
            v,
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
            ]
        );
        assert_eq!(d, DIRECTIVE_NO_FILES);
        assert_eq!(values("sc").0, ["scale"]);
    }

    #[test]
    fn flags_values_and_namespaces() {
        assert!(values("tune --th").0 == ["--threads"]);
        assert_eq!(values("tune --output=y").0, ["yaml"]);
        assert_eq!(values("tune --namespace=").0, ["default", "kube-system"]);
        assert_eq!(values("tune -n=ku").0, ["kube-system"]);
        assert_eq!(values("scale x --dry-run=").0, ["none", "client", "server"]);
        assert!(values("tune --nope=").0.is_empty());
        assert_eq!(values("tune -o ").0, ["yaml", "json", "name"]);
        assert_eq!(values("scale --dry-run ").0, ["none", "client", "server"]);
        assert_eq!(values("exec --server-type mod").0, ["mod_wsgi"]);
        assert_eq!(values("tune -n ku").0, ["kube-system"]);
        assert_eq!(values("reload deploy/x ").0, ["on", "off"]);
        assert_eq!(
            values("completion ").0,
            ["bash", "elvish", "fish", "powershell", "zsh"]
        );
    }

    #[test]
    fn targets_come_from_the_cluster_in_the_typed_namespace() {
        assert_eq!(
            values("scale -n team ").0,
            ["deploy/blog@team", "sts/db@team", "dc/shop@team"]
        );
        assert_eq!(values("tune dc").0, ["dc/shop@"]);
        // `tune TYPE NAME…`: bare names of that kind.
        assert_eq!(values("tune sts ").0, ["db@"]);
        assert_eq!(values("tune -n x sts db@x ").0, ["db@x"]);
        assert!(values("scale sts ").0.is_empty());
        assert_eq!(values("reload deploy/blog ").0, ["on", "off"]);
    }

    #[test]
    fn flags_given_once_are_not_offered_again() {
        let (v, _) = values("tune --list --l");
        assert!(v.contains(&"--local".to_owned()) && !v.contains(&"--list".to_owned()));
        let (v, _) = values("tune --set A=1 --se");
        assert_eq!(v, ["--selector", "--set", "--server"]);
        let (v, _) = values("tune --server x --se");
        assert_eq!(v, ["--selector", "--set"]);
    }

    #[test]
    fn directories_files_and_after_dashdash() {
        assert_eq!(values("init --app-root ").1, DIRECTIVE_DIRS);
        assert_eq!(values("tune --local -f ").1, DIRECTIVE_FILES);
        assert_eq!(values("exec -- python ").1, DIRECTIVE_FILES);
        assert_eq!(values("tune deploy/x ").1, DIRECTIVE_NO_FILES);
    }
}
