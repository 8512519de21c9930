//! One file per subcommand. [`dispatch`] parses argv and calls the right one.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};

pub mod build;
pub mod complete;
pub mod completion;
pub mod exec;
pub mod generate;
pub mod init;
pub mod lifecycle;
pub mod reload;
pub mod scale;
pub mod tune;

/// How the binary was invoked, from `argv[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `kubectl-warpdrive` (found by kubectl/oc as a plugin): usage reads `kubectl warpdrive`.
    Plugin,
    /// `kubectl_complete-warpdrive`: kubectl's plugin completion hook.
    CompleteHook,
    /// `warpdrive` (in the container) or anything else.
    Launcher,
}

impl Invocation {
    pub fn from_argv0(argv0: Option<&OsString>) -> Self {
        let name = argv0
            .and_then(|a| Path::new(a).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("kubectl_complete-") {
            Invocation::CompleteHook
        } else if name.starts_with("kubectl-") {
            Invocation::Plugin
        } else {
            Invocation::Launcher
        }
    }

    /// The name shown in usage text.
    pub fn display_name(self) -> &'static str {
        match self {
            Invocation::Plugin | Invocation::CompleteHook => "kubectl warpdrive",
            Invocation::Launcher => "warpdrive",
        }
    }
}

/// The process environment as UTF-8 pairs, the configuration `exec` and
/// `init` read (a variable that is not UTF-8 cannot be configuration).
fn environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Parses `args` (including argv[0]) and runs the subcommand.
pub fn dispatch(mut args: Vec<OsString>) -> anyhow::Result<i32> {
    let invocation = Invocation::from_argv0(args.first());
    if invocation == Invocation::CompleteHook {
        // kubectl calls `kubectl_complete-warpdrive WORD...`: same as `__complete WORD...`.
        args.insert(1, OsString::from("__complete"));
    }
    if args.get(1).is_some_and(|a| a == "__complete") {
        return complete::run_words(&args[2..]); // raw words: `--help`, `--` are just text
    }
    let name = invocation.display_name();
    let matches = Cli::command()
        .name(name)
        .bin_name(name)
        .try_get_matches_from(args);
    let matches = match matches {
        Ok(m) => m,
        Err(e) => {
            // --help / --version print and exit 0; usage errors exit 2.
            // A reader that stops early (`--help | head`) is not an error.
            if let Err(io) = e.print() {
                if io.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(io.into());
                }
            }
            return Ok(e.exit_code());
        }
    };
    let cli = Cli::from_arg_matches(&matches)?;
    match cli.command {
        Command::Exec(a) => exec::run(a, &environment()),
        Command::Init(a) => init::run(a, &environment()),
        Command::Build(a) => build::run(a, &environment()),
        Command::Alive(a) => lifecycle::hook("alive", a, &environment()),
        Command::Ready(a) => lifecycle::ready(a, &environment()),
        Command::Migrate(a) => lifecycle::migrate(a, &environment()),
        Command::Setup(a) => lifecycle::hook("setup", a, &environment()),
        Command::Verify(a) => lifecycle::hook("verify", a, &environment()),
        Command::Env(a) => lifecycle::env(a, &environment()),
        Command::Shell(a) => lifecycle::shell(a, &environment()),
        Command::Tune(a) => tune::run(a),
        Command::Scale(a) => scale::run(a),
        Command::Reload(a) => reload::run(a),
        Command::Completion(a) => completion::run(a, name),
        Command::Complete(a) => complete::run(a),
        Command::Generate(a) => generate::run(a),
    }
}
