//! Writes `completions/` and `man/` under a directory.

use std::io::Write as _;
use std::path::Path;

use super::command::{annotated_command, BIN, COMPLETE_HOOK, COMPLETE_HOOK_SCRIPT, SHELLS};
use super::error::Error;
use super::man::man_pages;

/// Writes `completions/` and `man/` under `out_dir`; returns the relative
/// paths written. Stale man pages (for removed subcommands) are deleted.
pub fn generate(out_dir: &Path) -> Result<Vec<String>, Error> {
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
    for entry in std::fs::read_dir(&man_dir).map_err(Error::io("read", &man_dir))? {
        let name = entry
            .map_err(Error::io("read", &man_dir))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.starts_with(BIN) && name.ends_with(".1") && !pages.iter().any(|(n, _)| *n == name) {
            let stale = man_dir.join(&name);
            std::fs::remove_file(&stale).map_err(Error::io("remove the stale", &stale))?;
        }
    }
    for (name, text) in pages {
        write_file(&man_dir.join(&name), &text, 0o644)?;
        written.push(format!("man/{name}"));
    }
    Ok(written)
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(Error::io("create", dir))
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mut f = std::fs::File::create(path).map_err(Error::io("write", path))?;
    f.write_all(bytes).map_err(Error::io("write", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(Error::io("chmod", path))?;
    Ok(())
}

// ---------------------------------------------------------------- EXIT STATUS, ENVIRONMENT, FILES
