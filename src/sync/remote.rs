//! The pod side: one fixed `sh` script, the receiver, started once per
//! sync session (a whole `--watch`) with `--dest` as `$1`. Every path
//! reaches it inside the request bodies on stdin; no user text is ever put
//! into shell code.
//!
//! The protocol is line headers and exact byte counts, so nothing waits
//! for an end of file (busybox `tar` reads until stdin closes, and
//! `v4.channel.k8s.io` cannot close stdin). Each request is one header
//! line, `WD1 KIND N`:
//!
//! * `apply`: a tar stream follows in chunks, `WD1 data N` and N bytes
//!   each, then `WD1 end 0` (or `WD1 abort 0`: the client failed, throw it
//!   away). The receiver extracts it into a staging directory inside
//!   `--dest` and moves it into place (see [`RECEIVER_SCRIPT`]). Answer:
//!   `WD1 done CODE N` and N bytes of error text.
//! * `list`: answer `WD1 list CODE N` and N bytes: the manifest (see
//!   [`parse_manifest`]), or the error text when CODE is not 0.
//! * `ping`: answer `WD1 pong 0 0` (the keepalive).
//! * `bye`: exit 0.
//!
//! Before the first request it says `WD1 hello READER`: how it reads an
//! exact byte count (`dd` with `iflag=count_bytes,fullblock`, GNU and
//! busybox ≥ 1.33; GNU `head -c`; else `slow`, `dd bs=1`). busybox
//! `head -c` reads ahead, so it is never used.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::error::{Error, Result};
use super::paths::check_rel;
use super::tree::EntryKind;

/// The receiver. Per `apply`: `mkdir` a staging directory, `dd` each
/// chunk into `tar -x`, check that the stream ended with `end`, refuse
/// (exit 3, before changing anything) to write or delete through a
/// symlinked directory in the destination, delete what `delete` lists
/// (NUL-separated), then for each directory of `dirs` (parents first) that
/// exists in the destination, one `mv` takes its files and its new
/// subdirectories (whole): rename(2), never a half-written file. A failed
/// or cut request leaves nothing behind but is drained to its end, so the
/// next header is read where it starts. Staging directories of receivers
/// that are gone are removed at start.
pub const RECEIVER_SCRIPT: &str = r#"export LC_ALL=C
D=$1
if [ "$(printf abcd | dd bs=2 count=3 iflag=count_bytes,fullblock 2>/dev/null)" = abc ]; then
  R=dd
else
  case $(head --version 2>/dev/null) in
    *GNU*) R=head ;;
    *) R=slow ;;
  esac
fi
if find . -maxdepth 0 -printf '' 2>/dev/null; then L=gnu; else L=stat; fi
rd() {
  case $R in
    dd) dd bs=65536 count="$1" iflag=count_bytes,fullblock 2>/dev/null ;;
    head) head -c "$1" ;;
    *) dd bs=1 count="$1" 2>/dev/null ;;
  esac
}
chunks() {
  while IFS=' ' read -r m k c; do
    [ "$m" = WD1 ] || exit 4
    case $k in
      data) rd "$c" ;;
      end) if [ -n "$S" ]; then : > "$S/end"; fi; exit 0 ;;
      abort) exit 0 ;;
      *) exit 4 ;;
    esac
  done
  exit 5
}
move_in() (
  set -eu
  cd -P -- "$D"
  D=$PWD
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
)
apply() {
  n=$((n + 1))
  S=$D/.warpdrive-staging.$$.$n
  msg=$(
    if ! { [ -d "$D" ] || mkdir -p -- "$D"; } || ! mkdir -- "$S"; then
      S=
      (chunks) >/dev/null
      exit 6
    fi 2>&1
    chunks | {
      tar -x -o -f - -C "$S" 2>&1 >/dev/null
      t=$?
      cat >/dev/null
      [ "$t" -eq 0 ] || exit "$t"
      [ -f "$S/end" ] || { echo "the request was cut off"; exit 5; }
      move_in 2>&1 >/dev/null
    }
  )
  r=$?
  rm -rf -- "$S"
  printf 'WD1 done %s %s\n%s' "$r" "${#msg}" "$msg"
}
list() {
  if [ ! -d "$D" ]; then
    printf 'WD1 list 0 0\n'
    return
  fi
  T=$D/.warpdrive-staging.$$.list
  if (
    cd -- "$D" || exit
    if [ "$L" = gnu ]; then
      exec find . -mindepth 1 -name '.warpdrive-staging.*' -prune -o -printf '%y %s %T@ %P\0%l\0'
    fi
    printf 'stat\n'
    exec find . -mindepth 1 -name '.warpdrive-staging.*' -prune -o -exec stat -c '%f %s %Y %n' {} +
  ) > "$T" 2> "$T.err"; then
    r=0
    set -- "$T"
  else
    r=$?
    set -- "$T.err"
  fi
  c=$(wc -c < "$1" 2>/dev/null)
  if [ -n "$c" ]; then
    printf 'WD1 list %s %s\n' "$r" "$c"
    cat -- "$1"
  else
    [ "$r" -ne 0 ] || r=1
    printf 'WD1 list %s 0\n' "$r"
  fi
  rm -f -- "$T" "$T.err"
}
for s in "$D"/.warpdrive-staging.*; do
  [ -e "$s" ] || continue
  p=${s##*/.warpdrive-staging.}
  p=${p%%.*}
  if [ "$p" = $$ ] || ! kill -0 "$p" 2>/dev/null; then rm -rf -- "$s"; fi
done
n=0
printf 'WD1 hello %s\n' "$R"
while IFS=' ' read -r m k c; do
  [ "$m" = WD1 ] || { echo "warpdrive-sync: unexpected input" >&2; exit 4; }
  case $k in
    apply) apply ;;
    list) list ;;
    ping) printf 'WD1 pong 0 0\n' ;;
    bye) exit 0 ;;
    *) echo "warpdrive-sync: unknown request $k" >&2; exit 4 ;;
  esac
done
"#;

/// The argv that starts the receiver for `dest`.
pub fn receiver_argv(dest: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        RECEIVER_SCRIPT.into(),
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

/// Parses the manifest (the answer to `list`): `TYPE SIZE MTIME PATH\0LINKTARGET\0`
/// per entry from GNU find, or, without it (busybox), `stat` and then one
/// `HEXMODE SIZE MTIME ./PATH` line per entry from `stat -c`. Other kinds (fifos, sockets) are
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
