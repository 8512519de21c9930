//! Showing and writing the files, then showing what `warpdrive exec` will run.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use similar::TextDiff;

use super::error::Error;
use super::files::File;
use crate::launcher;

/// What is on disk for a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    New,
    Unchanged,
    /// Exists with other content (or is not a readable file).
    Changed(String),
}

/// What is on disk at `f.path`, read the launcher's way
/// ([`launcher::app_file`]): a symlink on the way that leads out of the app,
/// a FIFO, a directory and the like are bad input, before anything is
/// written (so `init` never writes through a symlink out of the app).
pub fn state(f: &File, app_root: &Path) -> Result<State, Error> {
    Ok(match launcher::app_file::read_bytes(app_root, &f.path)? {
        Some(bytes) if bytes == f.text.as_bytes() => State::Unchanged,
        Some(bytes) => State::Changed(String::from_utf8_lossy(&bytes).into_owned()),
        None => State::New,
    })
}

/// `--dry-run`: every file, headed like `tail` does, on stdout.
pub fn print_dry_run(files: &[File], app_root: &Path) -> Result<(), Error> {
    let mut out = String::new();
    for f in files {
        let what = match state(f, app_root)? {
            State::New => "new",
            State::Unchanged => "unchanged",
            State::Changed(_) => "would replace the existing file",
        };
        out.push_str(&format!("==> {} ({what}) <==\n{}\n", f.rel, f.text));
    }
    out.push_str("dry run: nothing was written\n");
    crate::out!("{out}");
    Ok(())
}

/// A unified diff of an existing file against the new text.
pub fn diff(f: &File, old: &str) -> String {
    TextDiff::from_lines(old, f.text.as_str())
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{}", f.rel), &format!("b/{}", f.rel))
        .to_string()
}

/// Writes the files that are new or changed. Changed files need `--force`,
/// or a "yes" after their diff on a terminal; without a terminal they are an
/// error (exit 2) and nothing is written.
pub fn write_files(
    files: &[File],
    app_root: &Path,
    force: bool,
    interactive: bool,
) -> Result<(), Error> {
    let states = files
        .iter()
        .map(|f| state(f, app_root))
        .collect::<Result<Vec<State>, Error>>()?;
    let changed: Vec<(&File, &str)> = files
        .iter()
        .zip(&states)
        .filter_map(|(f, s)| match s {
            State::Changed(old) => Some((f, old.as_str())),
            _ => None,
        })
        .collect();
    if !changed.is_empty() && !force {
        let names: Vec<&str> = changed.iter().map(|(f, _)| f.rel.as_str()).collect();
        if !interactive {
            return Err(Error::bad(format!(
                "{} in {} already {} other content; rerun with --force to overwrite \
                 (or on a terminal to review the diff); nothing was written",
                names.join(", "),
                app_root.display(),
                if names.len() == 1 {
                    "exists with"
                } else {
                    "exist with"
                }
            )));
        }
        let mut text = String::new();
        for (f, old) in &changed {
            text.push_str(&diff(f, old));
        }
        eprint!("{text}");
        let _ = std::io::stderr().flush();
        let yes =
            super::ask::confirm(format!("Overwrite {}?", names.join(", ")), false).interact()?;
        if !yes {
            return Err(Error::Declined(
                "not overwriting; nothing was written".to_string(),
            ));
        }
    }
    for (f, s) in files.iter().zip(&states) {
        if *s == State::Unchanged {
            crate::outln!("unchanged {}", f.rel);
            continue;
        }
        write_atomic(f)?;
        crate::outln!("wrote {}", f.rel);
    }
    Ok(())
}

/// Writes through a temp file in the same directory and a rename, so the
/// file is never seen half-written.
pub fn write_atomic(f: &File) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let dir = f.path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".init-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("cannot create a temp file in {}", dir.display()), e))?;
    let context = || format!("cannot write {}", f.path.display());
    tmp.write_all(f.text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(context(), e))?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(f.mode))
        .map_err(|e| Error::io(context(), e))?;
    tmp.persist(&f.path)
        .map_err(|e| Error::io(context(), e.error))?;
    Ok(())
}

/// Resolves the way `warpdrive exec --dry-run` does, with an environment
/// that has none of the `WARPDRIVE_*`/`MOD_WSGI_*` settings of this shell
/// (only PATH, to find Python), and prints the command and the reasons.
pub fn print_resolution(app_root: &Path, env: &BTreeMap<String, String>) {
    let clean: BTreeMap<String, String> = env
        .iter()
        .filter(|(k, _)| *k == "PATH")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let opts = launcher::Options {
        app_root: Some(app_root.to_path_buf()),
        server_type: None,
        deploy_env: false,
    };
    match launcher::resolve(&opts, &clean) {
        Ok(plan) => {
            let line = shlex::try_join(plan.argv.iter().map(String::as_str))
                .unwrap_or_else(|_| plan.argv.join(" "));
            let mut out = format!(
                "`warpdrive exec` will run ({}, paths as on this machine):\n  {line}\nbecause:\n",
                plan.server_type.map(|t| t.name()).unwrap_or("command")
            );
            for part in plan.reason.split("; ") {
                out.push_str(&format!("  - {part}\n"));
            }
            crate::out!("{out}");
        }
        Err(e) => eprintln!(
            "warpdrive: warning: the files are written, but resolving them here failed: {e} \
             (this machine may lack what the container has)"
        ),
    }
}
