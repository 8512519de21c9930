//! Hidden `__generate --out-dir DIR`: writes `completions/` and `man/` from the
//! clap definition in `cli.rs`. Run `cargo run -- __generate` after changing
//! any flag; the `ship` integration test fails while the files are stale.
//!
//! Everything written here is a pure function of the clap definition (no
//! dates, no terminal width), so regenerating is byte-for-byte stable.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use clap::builder::PossibleValuesParser;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, GenerateArgs};
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

pub fn run(args: GenerateArgs) -> anyhow::Result<i32> {
    let out_dir = match args.out_dir {
        Some(dir) => dir,
        None => {
            // `cargo run -- __generate` from somewhere else would scatter files.
            let manifest = std::fs::read_to_string("Cargo.toml").unwrap_or_default();
            if !manifest.contains("name = \"kubectl-warpdrive\"") {
                return Err(crate::error::BadInput::new(
                    "__generate: the current directory is not the kubectl-warpdrive repository (no Cargo.toml for it): run it from the repository root or pass --out-dir DIR",
                )
                .into());
            }
            std::path::PathBuf::from(".")
        }
    };
    let written = generate(&out_dir)?;
    for path in written {
        // A closed pipe (`| head`) is no reason to fail: the files are written.
        crate::outln!("{path}");
    }
    Ok(0)
}

/// Writes `completions/` and `man/` under `out_dir`; returns the relative
/// paths written. Stale man pages (for removed subcommands) are deleted.
pub fn generate(out_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();

    let comp_dir = out_dir.join("completions");
    create_dir(&comp_dir)?;
    for shell in SHELLS {
        let mut cmd = annotated_command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
        let file = clap_complete::Generator::file_name(&shell, BIN);
        write_file(&comp_dir.join(&file), &buf, 0o644)?;
        written.push(format!("completions/{file}"));
    }
    write_file(
        &comp_dir.join(COMPLETE_HOOK),
        COMPLETE_HOOK_SCRIPT.as_bytes(),
        0o755,
    )?;
    written.push(format!("completions/{COMPLETE_HOOK}"));

    let man_dir = out_dir.join("man");
    create_dir(&man_dir)?;
    let pages = man_pages()?;
    for entry in
        std::fs::read_dir(&man_dir).with_context(|| format!("reading {}", man_dir.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(BIN) && name.ends_with(".1") && !pages.iter().any(|(n, _)| *n == name) {
            let stale = man_dir.join(&name);
            std::fs::remove_file(&stale)
                .with_context(|| format!("removing stale {}", stale.display()))?;
        }
    }
    for (name, text) in pages {
        write_file(&man_dir.join(&name), &text, 0o644)?;
        written.push(format!("man/{name}"));
    }
    Ok(written)
}

/// `(file name, roff)` for the main page and one page per visible subcommand.
pub fn man_pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
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
fn man_page(cmd: &clap::Command, see_also: &[&clap::Command]) -> anyhow::Result<(String, Vec<u8>)> {
    use clap_mangen::roff::{bold, roman, Roff};
    let version = cmd.get_version().unwrap_or_default();
    let man = clap_mangen::Man::new(cmd.clone().after_help(None::<&str>))
        .source(format!("{BIN} {version}"))
        .manual("kubectl-warpdrive manual");
    let name = man.get_filename();
    let mut buf = Vec::new();
    man.render(&mut buf).context("rendering man page")?;

    let mut extra = Roff::new();
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

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut f =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot chmod {}", path.display()))?;
    Ok(())
}
