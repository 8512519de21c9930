//! The pip command lines of the build, and the stamp that lets a second
//! build skip an install whose inputs have not changed.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use super::error::Error;
use crate::launcher::app_file;

/// The app's own wheels, given to pip as `--find-links`.
pub const WHEELHOUSE: &str = ".warpdrive/wheelhouse";
/// Where the build keeps its stamps (inside the app, beside its configuration).
pub const STAMP_FILE: &str = ".warpdrive/.build-stamps";

/// What step 3 installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packages {
    /// `-r FILE` for each file (relative to the app).
    Requirements(Vec<String>),
    /// `-e .` (a `pyproject.toml` or `setup.py` project).
    Editable,
    /// Nothing to install.
    Nothing,
}

/// `WARPDRIVE_PIP_PACKAGES` (space- or comma-separated files, default
/// `requirements.txt`), else `-e .` for a pyproject/setup.py project. A file
/// named in the variable that is missing is bad input.
pub fn packages(app_root: &Path, env: &BTreeMap<String, String>) -> Result<Packages, Error> {
    if let Some(list) = env
        .get("WARPDRIVE_PIP_PACKAGES")
        .filter(|v| !v.trim().is_empty())
    {
        let files: Vec<String> = list
            .split([' ', ',', '\t', '\n'])
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        for f in &files {
            let path = app_root.join(f);
            app_file::confine(app_root, &path)?;
            if !path.is_file() {
                return Err(Error::bad(format!(
                    "WARPDRIVE_PIP_PACKAGES names {}, which is not a file in {}; \
                     add it or fix the variable",
                    crate::error::quoted(f),
                    app_root.display()
                )));
            }
        }
        return Ok(Packages::Requirements(files));
    }
    if app_root.join("requirements.txt").is_file() {
        app_file::confine(app_root, &app_root.join("requirements.txt"))?;
        return Ok(Packages::Requirements(vec!["requirements.txt".into()]));
    }
    if app_root.join("pyproject.toml").is_file() || app_root.join("setup.py").is_file() {
        return Ok(Packages::Editable);
    }
    Ok(Packages::Nothing)
}

/// The options every `pip install` of the build gets: quiet, no version
/// check, the app's wheelhouse as `--find-links`, and `--no-index` when
/// `WARPDRIVE_PIP_NO_INDEX=1`.
pub fn common_args(app_root: &Path, env: &BTreeMap<String, String>) -> Result<Vec<String>, Error> {
    let mut args: Vec<String> = ["-m", "pip", "install", "--disable-pip-version-check", "-q"]
        .map(String::from)
        .to_vec();
    if env
        .get("WARPDRIVE_PIP_NO_INDEX")
        .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"))
    {
        args.push("--no-index".into());
    }
    let wheelhouse = app_root.join(WHEELHOUSE);
    app_file::confine(app_root, &wheelhouse)?;
    if wheelhouse.is_dir() {
        args.push("--find-links".into());
        args.push(wheelhouse.display().to_string());
    }
    Ok(args)
}

/// The arguments after [`common_args`] for `packages`.
pub fn package_args(packages: &Packages) -> Vec<String> {
    match packages {
        Packages::Requirements(files) => files
            .iter()
            .flat_map(|f| ["-r".to_string(), f.clone()])
            .collect(),
        Packages::Editable => vec!["-e".into(), ".".into()],
        Packages::Nothing => Vec::new(),
    }
}

/// A key for an install: the Python (its path and the identity of the
/// file), the command line, and the content of the files it reads (the
/// requirements files, or the project files for `-e .`, and the names in
/// the wheelhouse). A change in any of them makes a new key.
pub fn key(
    app_root: &Path,
    python: &Path,
    args: &[String],
    packages: &Packages,
) -> Result<String, Error> {
    use std::os::unix::fs::MetadataExt;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    python.hash(&mut h);
    if let Ok(m) = std::fs::metadata(python) {
        (m.dev(), m.ino(), m.mtime()).hash(&mut h);
    }
    args.hash(&mut h);
    let files: Vec<PathBuf> = match packages {
        Packages::Requirements(files) => files.iter().map(|f| app_root.join(f)).collect(),
        Packages::Editable => ["pyproject.toml", "setup.py", "setup.cfg"]
            .iter()
            .map(|f| app_root.join(f))
            .collect(),
        Packages::Nothing => Vec::new(),
    };
    for f in files {
        f.hash(&mut h);
        app_file::read_bytes(app_root, &f)?.hash(&mut h);
    }
    if let Ok(entries) = std::fs::read_dir(app_root.join(WHEELHOUSE)) {
        let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
        names.sort();
        names.hash(&mut h);
    }
    Ok(format!("{:016x}", h.finish()))
}

/// Whether the stamp file holds `step key`.
pub fn stamped(app_root: &Path, step: &str, key: &str) -> Result<bool, Error> {
    let path = app_root.join(STAMP_FILE);
    let text = app_file::read_text(app_root, &path)?.unwrap_or_default();
    Ok(text.lines().any(|l| l == format!("{step} {key}")))
}

/// Records `step key` in the stamp file, replacing an older key for `step`.
pub fn stamp(app_root: &Path, step: &str, key: &str) -> Result<(), Error> {
    let path = app_root.join(STAMP_FILE);
    let old = app_file::read_text(app_root, &path)?.unwrap_or_default();
    let mut lines: Vec<String> = old
        .lines()
        .filter(|l| l.split(' ').next() != Some(step))
        .map(str::to_string)
        .collect();
    lines.push(format!("{step} {key}"));
    crate::init::write::write_atomic(&crate::init::files::File {
        path,
        rel: STAMP_FILE.into(),
        text: lines.join("\n") + "\n",
        mode: 0o644,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let env = BTreeMap::new();
        assert_eq!(packages(root, &env).unwrap(), Packages::Nothing);
        std::fs::write(root.join("pyproject.toml"), "").unwrap();
        assert_eq!(packages(root, &env).unwrap(), Packages::Editable);
        std::fs::write(root.join("requirements.txt"), "").unwrap();
        assert_eq!(
            packages(root, &env).unwrap(),
            Packages::Requirements(vec!["requirements.txt".into()])
        );
        let env = BTreeMap::from([("WARPDRIVE_PIP_PACKAGES".to_string(), "a.txt b.txt".into())]);
        assert!(packages(root, &env).is_err());
        std::fs::write(root.join("a.txt"), "").unwrap();
        std::fs::write(root.join("b.txt"), "").unwrap();
        assert_eq!(
            package_args(&packages(root, &env).unwrap()),
            ["-r", "a.txt", "-r", "b.txt"]
        );
    }

    #[test]
    fn no_index_and_the_wheelhouse() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let base = ["-m", "pip", "install", "--disable-pip-version-check", "-q"];
        assert_eq!(common_args(root, &BTreeMap::new()).unwrap(), base);
        std::fs::create_dir_all(root.join(WHEELHOUSE)).unwrap();
        for (value, no_index) in [("1", true), ("true", true), ("0", false), ("", false)] {
            let env = BTreeMap::from([("WARPDRIVE_PIP_NO_INDEX".to_string(), value.to_string())]);
            let args = common_args(root, &env).unwrap();
            assert_eq!(
                args.contains(&"--no-index".to_string()),
                no_index,
                "{value:?}"
            );
            let at = args
                .iter()
                .position(|a| a == "--find-links")
                .expect("--find-links");
            assert_eq!(args[at + 1], root.join(WHEELHOUSE).display().to_string());
        }
    }

    #[test]
    fn stamps_replace_and_keys_follow_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("requirements.txt"), "a\n").unwrap();
        let p = Packages::Requirements(vec!["requirements.txt".into()]);
        let py = Path::new("/usr/bin/python3");
        let k1 = key(root, py, &[], &p).unwrap();
        assert!(!stamped(root, "pip", &k1).unwrap());
        stamp(root, "pip", &k1).unwrap();
        stamp(root, "server", "x").unwrap();
        assert!(stamped(root, "pip", &k1).unwrap());
        std::fs::write(root.join("requirements.txt"), "b\n").unwrap();
        let k2 = key(root, py, &[], &p).unwrap();
        assert_ne!(k1, k2);
        stamp(root, "pip", &k2).unwrap();
        assert!(!stamped(root, "pip", &k1).unwrap());
        assert!(stamped(root, "server", "x").unwrap());
    }
}
