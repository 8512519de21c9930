//! The documents made from the clap definition in `cli.rs`: the completion
//! scripts (`completions/`) and the man pages (`man/`), written by the
//! hidden `__generate` subcommand. Run `cargo run -- __generate` after
//! changing any flag; the `ship` integration test fails while the files are
//! stale.
//!
//! Everything here is a pure function of the clap definition (no dates, no
//! terminal width), so regenerating is byte-for-byte stable.
//!
//! * `command.rs`: the command as completions and man pages show it;
//! * `man.rs`: the pages, with EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES
//!   and SEE ALSO;
//! * `write.rs`: writing both under a directory;
//! * `error.rs`: what can fail (writing files).

mod command;
mod error;
mod man;
mod write;

pub use command::{annotated_command, examples, BIN, COMPLETE_HOOK, COMPLETE_HOOK_SCRIPT, SHELLS};
pub use error::Error;
pub use man::{man_pages, ENVIRONMENT, FILES, INTERNAL_VARS};
pub use write::generate;
