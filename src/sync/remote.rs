//! The pod side: two fixed `sh` scripts. Every path reaches them as an
//! argument (`$1` is `--dest`) or inside the tar stream on stdin; no user
//! text is ever put into shell code.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::{check_rel, EntryKind, Error, Result};

/// Prints `TYPE SIZE MTIME PATH\0LINKTARGET\0` for everything under `$1`
/// (nothing when it does not exist yet), leaving staging directories out.
/// Without GNU find (busybox images) it prints `stat` and then one
/// `HEXMODE SIZE MTIME ./PATH` line per entry from `stat -c`.
pub const MANIFEST_SCRIPT: &str = r#"cd -- "$1" 2>/dev/null || exit 0
if find . -maxdepth 0 -printf '' 2>/dev/null; then
  exec find . -mindepth 1 -name '.warpdrive-staging.*' -prune -o -printf '%y %s %T@ %P\0%l\0'
fi
printf 'stat\n'
exec find . -mindepth 1 -name '.warpdrive-staging.*' -prune -o -exec stat -c '%f %s %Y %n' {} +
"#;

/// Reads a tar stream on stdin into a staging directory inside `$1`, then
/// deletes what `delete` lists (NUL-separated), then moves everything into
/// place with rename(2), never half-written: for each directory of `dirs`
/// (parents first) that exists in the destination, one `mv` takes its files
/// and its new subdirectories (whole). Refuses (exit 3), before changing
/// anything, to write or delete through a symlinked directory in the
/// destination. Spawns about five processes whatever the tree's size.
pub const APPLY_SCRIPT: &str = r#"set -eu
D=$1
[ -d "$D" ] || mkdir -p -- "$D"
cd -P -- "$D"
D=$PWD
for s in .warpdrive-staging.*; do
  if [ -d "$s" ]; then rm -rf -- "$s"; fi
done
S=$D/.warpdrive-staging.$$
trap 'rm -rf -- "$S"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -- "$S"
tar -x -o -f - -C "$S"
F=$S/files
[ -f "$S/dirs" ] || exit 0
while IFS= read -r d; do
  if [ -L "$D/$d" ]; then
    echo "refusing to write through the symlink $D/$d" >&2
    exit 3
  fi
done < "$S/dirs"
if [ -s "$S/delete" ]; then
  xargs -0 rm -rf -- < "$S/delete"
fi
while IFS= read -r d; do
  [ -d "$F/$d" ] || continue
  [ -d "$D/$d" ] || continue
  set --
  for f in "$F/$d"/* "$F/$d"/.[!.]* "$F/$d"/..?*; do
    if [ ! -e "$f" ] && [ ! -L "$f" ]; then continue; fi
    t=$D/$d/${f##*/}
    if [ -d "$f" ] && [ ! -L "$f" ]; then
      if [ -d "$t" ]; then continue; fi
      if [ -e "$t" ] || [ -L "$t" ]; then rm -f -- "$t"; fi
    elif [ -d "$t" ] && [ ! -L "$t" ]; then
      rm -rf -- "$t"
    fi
    set -- "$@" "$f"
    if [ $# -ge 200 ]; then
      mv -f -- "$@" "$D/$d/"
      set --
    fi
  done
  if [ $# -gt 0 ]; then mv -f -- "$@" "$D/$d/"; fi
done < "$S/dirs"
"#;

/// The argv that prints the manifest of `dest`.
pub fn manifest_argv(dest: &str) -> Vec<String> {
    argv(MANIFEST_SCRIPT, dest)
}

/// The argv that applies a sync stream to `dest`.
pub fn apply_argv(dest: &str) -> Vec<String> {
    argv(APPLY_SCRIPT, dest)
}

fn argv(script: &str, dest: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        "warpdrive-sync".into(),
        dest.into(),
    ]
}

/// One entry of the pod's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteEntry {
    pub kind: EntryKind,
    pub size: u64,
    pub mtime: i64,
}

/// Parses [`MANIFEST_SCRIPT`]'s output. Other kinds (fifos, sockets) are
/// kept as `File` with size `u64::MAX`, so they never compare equal.
pub fn parse_manifest(out: &[u8]) -> Result<BTreeMap<PathBuf, RemoteEntry>> {
    let bad =
        |what: &str| Error::Transport(format!("unreadable file list from the container: {what}"));
    if let Some(lines) = out.strip_prefix(b"stat\n") {
        return Ok(parse_stat_lines(lines));
    }
    let mut map = BTreeMap::new();
    let mut fields = out.split(|b| *b == 0);
    while let Some(head) = fields.next() {
        if head.is_empty() {
            break;
        }
        let link = fields.next().ok_or_else(|| bad("truncated"))?;
        let mut parts = head.splitn(4, |b| *b == b' ');
        let ty = parts.next().ok_or_else(|| bad("no type"))?;
        let size = parts.next().ok_or_else(|| bad("no size"))?;
        let mtime = parts.next().ok_or_else(|| bad("no mtime"))?;
        let path = parts.next().ok_or_else(|| bad("no path"))?;
        let num = |b: &[u8]| -> Option<i64> {
            let s = std::str::from_utf8(b).ok()?;
            let int = s.split('.').next()?;
            int.parse().ok()
        };
        let size = num(size).ok_or_else(|| bad("size"))? as u64;
        let mtime = num(mtime).ok_or_else(|| bad("mtime"))?;
        let rel = PathBuf::from(OsStr::from_bytes(path));
        if check_rel(&rel).is_err() {
            continue;
        }
        let (kind, size) = match ty {
            b"f" => (EntryKind::File, size),
            b"d" => (EntryKind::Dir, 0),
            b"l" => (
                EntryKind::Symlink(PathBuf::from(OsStr::from_bytes(link))),
                0,
            ),
            _ => (EntryKind::File, u64::MAX),
        };
        map.insert(rel, RemoteEntry { kind, size, mtime });
    }
    Ok(map)
}

/// Parses the `stat -c '%f %s %Y %n'` fallback. Symlink targets are not
/// known there, so symlinks never compare equal (they are small and sent
/// again); a line that does not parse (a name with a newline) is skipped.
fn parse_stat_lines(out: &[u8]) -> BTreeMap<PathBuf, RemoteEntry> {
    let mut map = BTreeMap::new();
    for line in out.split(|b| *b == b'\n') {
        let mut parts = line.splitn(4, |b| *b == b' ');
        let (Some(mode), Some(size), Some(mtime), Some(path)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_string);
        let (Some(mode), Some(size), Some(mtime)) = (
            text(mode).and_then(|m| u32::from_str_radix(&m, 16).ok()),
            text(size).and_then(|s| s.parse::<u64>().ok()),
            text(mtime).and_then(|m| m.parse::<i64>().ok()),
        ) else {
            continue;
        };
        let Some(path) = path.strip_prefix(b"./") else {
            continue;
        };
        let rel = PathBuf::from(OsStr::from_bytes(path));
        if check_rel(&rel).is_err() {
            continue;
        }
        let (kind, size) = match mode & 0o170000 {
            0o040000 => (EntryKind::Dir, 0),
            0o100000 => (EntryKind::File, size),
            0o120000 => (EntryKind::Symlink(PathBuf::new()), 0),
            _ => (EntryKind::File, u64::MAX),
        };
        map.insert(rel, RemoteEntry { kind, size, mtime });
    }
    map
}
