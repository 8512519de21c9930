//! What one sync sends ([`Changes`]), and how a first sync finds it
//! ([`diff`]: the local tree against the pod's manifest).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::remote::RemoteEntry;
use super::tree::{Entry, EntryKind};

/// What to send in one sync.
#[derive(Debug, Default)]
pub struct Changes {
    /// Entries to write, by relative path.
    pub write: BTreeMap<PathBuf, Entry>,
    /// Relative paths to remove (recursively) in the container.
    pub delete: BTreeSet<PathBuf>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.delete.is_empty()
    }
}

/// Compares the local tree with the pod's manifest.
pub fn diff(
    local: &BTreeMap<PathBuf, Entry>,
    remote: &BTreeMap<PathBuf, RemoteEntry>,
    delete: bool,
) -> Changes {
    let mut changes = Changes::default();
    for (rel, e) in local {
        let same = match remote.get(rel) {
            None => false,
            Some(r) => match &e.kind {
                EntryKind::File => {
                    r.kind == EntryKind::File && r.size == e.size && r.mtime == e.mtime
                }
                EntryKind::Dir => r.kind == EntryKind::Dir,
                EntryKind::Symlink(t) => r.kind == EntryKind::Symlink(t.clone()),
            },
        };
        if !same {
            changes.write.insert(rel.clone(), e.clone());
        }
    }
    if delete {
        for rel in remote.keys() {
            if local.contains_key(rel) {
                continue;
            }
            // Only the topmost missing path: removing it removes the rest.
            let covered = rel
                .ancestors()
                .skip(1)
                .any(|a| !a.as_os_str().is_empty() && changes.delete.contains(a));
            if !covered {
                changes.delete.insert(rel.clone());
            }
        }
    }
    changes
}
