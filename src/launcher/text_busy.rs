//! Running a file that was just written: retry while the kernel says
//! "Text file busy" (`ETXTBSY`).
//!
//! `execve` refuses a file that any process holds open for writing. A
//! program that writes an executable (a test writing `app.sh` or a hook,
//! `oc rsync` or an editor replacing one) closes its descriptor before
//! anyone runs the file, but if another thread of that program forked in
//! the meantime, the child holds a copy of the descriptor until it execs
//! (std opens files with `O_CLOEXEC`, so the copy goes away at that exec, not
//! before). Until then, running the file fails with `ETXTBSY`, through no
//! fault of the file. Writing through a temp file and a rename does not
//! help: the copy refers to the same inode. The writer cannot know when an
//! unrelated child execs, so the one who runs the file waits: like Go's
//! toolchain when it runs a binary it has just built, the launcher retries
//! a run that fails with `ETXTBSY` a bounded number of times with a short
//! backoff, and reports the error if the file stays busy.

use std::io;
use std::time::Duration;

/// The waits between attempts: 1 ms, doubling up to 200 ms, about 2 s in all.
fn backoff() -> impl Iterator<Item = Duration> {
    let mut delay = Duration::from_millis(1);
    let mut total = Duration::ZERO;
    std::iter::from_fn(move || {
        if total >= Duration::from_secs(2) {
            return None;
        }
        let d = delay;
        total += d;
        delay = (delay * 2).min(Duration::from_millis(200));
        Some(d)
    })
}

/// Calls `run` (a spawn or an exec) until it does not fail with `ETXTBSY`,
/// or the backoff is used up; returns the last result.
pub fn retry<T>(mut run: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut waits = backoff();
    loop {
        match run() {
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) => match waits.next() {
                Some(d) => std::thread::sleep(d),
                None => return Err(e),
            },
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_retried_until_it_clears_and_other_errors_are_not() {
        let mut calls = 0;
        let got = retry(|| {
            calls += 1;
            if calls < 4 {
                Err(io::Error::from_raw_os_error(nix::libc::ETXTBSY))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(got.unwrap(), 4);
        let mut calls = 0;
        let err = retry::<()>(|| {
            calls += 1;
            Err(io::Error::from_raw_os_error(nix::libc::ENOENT))
        })
        .unwrap_err();
        assert_eq!((err.raw_os_error(), calls), (Some(nix::libc::ENOENT), 1));
    }

    #[test]
    fn the_backoff_is_bounded() {
        let waits: Vec<Duration> = backoff().collect();
        let total: Duration = waits.iter().sum();
        assert!(waits.len() < 30, "{waits:?}");
        assert!(total >= Duration::from_secs(2), "{total:?}");
        assert!(total < Duration::from_secs(3), "{total:?}");
        assert_eq!(waits[0], Duration::from_millis(1));
        assert!(waits.iter().all(|d| *d <= Duration::from_millis(200)));
    }
}
