//! The clap command as the completion scripts and man pages show it, and the
//! names they use.

use clap::builder::PossibleValuesParser;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::launcher::ServerType;

/// The name of the binary the completion scripts and man pages describe.
pub const BIN: &str = "kubectl-warpdrive";

/// The shells `completions/` holds a script for.
pub const SHELLS: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell];

/// The executable kubectl 1.26+ runs to complete `kubectl warpdrive …`.
pub const COMPLETE_HOOK: &str = "kubectl_complete-warpdrive";

/// Its content: hand the words kubectl passes on to the binary's `__complete`.
pub const COMPLETE_HOOK_SCRIPT: &str = "#!/bin/sh
# kubectl 1.26+ runs this to complete `kubectl warpdrive ...`: it passes the
# words typed after `warpdrive` and reads candidates plus a `:N` directive.
# Install it next to kubectl-warpdrive on PATH (see README, section install).
exec kubectl-warpdrive __complete \"$@\"
";

/// The clap command as completion scripts and man pages show it: hidden
/// subcommands (`__complete`, `__generate`) left out, and value lists that
/// only help completion added. `--server-type` is parsed as text by its
/// subcommand (so the launcher can name the file a bad value came from), but
/// its values are still a fixed list worth offering.
pub fn annotated_command() -> clap::Command {
    let full = Cli::command();
    // clap has no way to remove a subcommand, and clap_complete lists hidden
    // ones; rebuild the root from the visible parts.
    let mut root = clap::Command::new(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(full.is_propagate_version_set())
        .arg_required_else_help(full.is_arg_required_else_help_set());
    if let Some(text) = full.get_about() {
        root = root.about(text.clone());
    }
    if let Some(text) = full.get_long_about() {
        root = root.long_about(text.clone());
    }
    if let Some(text) = full.get_after_help() {
        root = root.after_help(text.clone());
    }
    for arg in full.get_arguments() {
        root = root.arg(arg.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut sub = sub.clone();
        if sub.get_arguments().any(|a| a.get_id() == "server_type") {
            sub = sub.mut_arg("server_type", |a| {
                a.value_parser(PossibleValuesParser::new(ServerType::words()))
            });
        }
        root = root.subcommand(sub);
    }
    root
}

/// The example command lines at the end of a command's `--help`
/// (`after_help`: an `Examples:` line, then one indented command per line).
pub fn examples(cmd: &clap::Command) -> Vec<String> {
    let Some(text) = cmd.get_after_help().map(|t| t.to_string()) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("Examples:") {
        return Vec::new();
    }
    lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
