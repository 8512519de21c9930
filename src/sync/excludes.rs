//! What is never synced: `.git`, `__pycache__` and `*.pyc` always; the
//! patterns of `.warpdrive/sync-ignore` (or, when it does not exist,
//! `.gitignore`) at the top of the source tree, with gitignore rules; and
//! each `--exclude`.

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::error::{Error, Result};

/// Names that are never synced, whatever the ignore files say.
pub const ALWAYS: &[&str] = &[".git", "__pycache__"];

/// The exclusion matcher for one source tree.
#[derive(Debug, Clone)]
pub struct Excludes {
    matcher: Gitignore,
    /// Which ignore file was read, if any (for messages).
    pub file: Option<std::path::PathBuf>,
}

impl Excludes {
    /// Builds the matcher for `root` (already canonical) and the extra
    /// patterns (`reload --exclude`).
    pub fn new(root: &Path, extra: &[String]) -> Result<Self> {
        let mut b = GitignoreBuilder::new(root);
        let mut file = None;
        for name in [".warpdrive/sync-ignore", ".gitignore"] {
            let path = root.join(name);
            if path.is_file() {
                if let Some(e) = b.add(&path) {
                    return Err(Error::bad(format!(
                        "{}: {e}: fix the pattern",
                        path.display()
                    )));
                }
                file = Some(path);
                break;
            }
        }
        for pat in extra {
            b.add_line(None, pat).map_err(|e| {
                Error::bad(format!(
                    "exclude pattern {pat:?}: {e}: give a gitignore-style pattern"
                ))
            })?;
        }
        let matcher = b
            .build()
            .map_err(|e| Error::bad(format!("exclude patterns: {e}")))?;
        Ok(Excludes { matcher, file })
    }

    /// Is the relative path `rel` (or one of its parents) excluded?
    pub fn is_excluded(&self, rel: &Path, is_dir: bool) -> bool {
        for c in rel.components() {
            let name = c.as_os_str();
            if ALWAYS.iter().any(|a| name == *a) {
                return true;
            }
        }
        if rel
            .file_name()
            .is_some_and(|n| n.as_encoded_bytes().ends_with(b".pyc"))
        {
            return true;
        }
        if rel.as_os_str().is_empty() || rel.has_root() {
            return false;
        }
        self.matcher
            .matched_path_or_any_parents(rel, is_dir)
            .is_ignore()
    }
}
