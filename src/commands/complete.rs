//! Hidden `__complete WORD...` (and `kubectl_complete-warpdrive WORD...`):
//! answers kubectl's plugin completion protocol with [`crate::complete`],
//! over the plugin's command tree.

use std::ffi::OsString;

use crate::cli::CompleteArgs;
use crate::complete::{self, Lookups};
use crate::docs::annotated_command;

pub fn run(args: CompleteArgs) -> anyhow::Result<i32> {
    run_words(
        &args
            .words
            .into_iter()
            .map(OsString::from)
            .collect::<Vec<_>>(),
    )
}

/// Entry point for `__complete` and `kubectl_complete-warpdrive`; the words
/// are taken verbatim (no clap parsing, so `--help` or `--` are just words).
pub fn run_words(words: &[OsString]) -> anyhow::Result<i32> {
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let completion = complete::complete(annotated_command(), &words, &Lookups::live());
    // A closed pipe (the shell gave up) is not worth an error message.
    crate::output::print(&completion.render());
    Ok(0)
}
