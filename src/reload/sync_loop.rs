//! The sync of `reload on`: one sync, or with `--watch` one per burst of
//! changes until SIGINT/SIGTERM, with the recovery after a failed sync.

use std::io::Write;
use std::sync::mpsc;

use super::error::Error;
use crate::sync::{self, watch, Syncer};

fn warn(msg: String) {
    eprintln!("warning: {msg}");
}

/// The first sync, then (with `watch_mode`) one sync per burst of changes
/// until Ctrl-C, all over one session (one exec): see [`crate::sync`].
///
/// A failed sync or keepalive is followed by a full one (manifest compare,
/// in a new session when the old one broke), after `repod` had the chance
/// to switch to a replacement pod (it returns the new pod's name when it
/// did); if that fails too, the full sync is tried again after the next
/// change or keepalive.
pub fn sync_and_watch(
    syncer: &Syncer,
    watch_mode: bool,
    repod: &mut dyn FnMut() -> Option<String>,
) -> Result<(), Error> {
    let mut out = crate::output::Stdout;
    if !watch_mode {
        let stats = sync::sync_once(syncer, &mut warn)?;
        say_slow_reader(syncer);
        sync::say(&mut out, &stats.to_string());
        if let Err(e) = syncer.close() {
            warn(format!("ending the sync session: {e}"));
        }
        return Ok(());
    }
    let (tx, rx) = mpsc::channel();
    // Watch first, so nothing changed during the first sync is missed.
    let mut watcher = watch::Watcher::new(syncer, tx.clone(), &mut warn)?;
    let stats = sync::sync_once(syncer, &mut warn)?;
    say_slow_reader(syncer);
    sync::say(&mut out, &stats.to_string());
    // From here on Ctrl-C ends the loop after the current sync. (During the
    // first sync it just kills the process: the pod side then throws the
    // staging directory away.)
    stop_on_signals(tx)?;
    sync::say(
        &mut out,
        &format!(
            "watching {} ({} directories, excluded ones not watched); Ctrl-C to stop",
            syncer.source.display(),
            watcher.len()
        ),
    );
    let state = std::cell::RefCell::new(Loop {
        syncer,
        out,
        syncs: 0,
        behind: false,
        repod,
    });
    watcher.run(
        syncer,
        &rx,
        &mut |r| state.borrow_mut().synced(r),
        &mut || state.borrow_mut().idle(),
        &mut warn,
    )?;
    let mut state = state.into_inner();
    if let Err(e) = syncer.close() {
        warn(format!("ending the sync session: {e}"));
    }
    let _ = writeln!(state.out, "stopped after {} syncs", state.syncs);
    Ok(())
}

/// The `--watch` loop's state between syncs.
struct Loop<'s, 'a> {
    syncer: &'s Syncer<'a>,
    out: crate::output::Stdout,
    syncs: usize,
    /// The last full compare failed: the next change or keepalive retries it.
    behind: bool,
    repod: &'s mut dyn FnMut() -> Option<String>,
}

impl Loop<'_, '_> {
    /// After each watched sync.
    fn synced(&mut self, r: sync::Result<sync::Stats>) {
        match r {
            Ok(stats) => {
                self.syncs += 1;
                sync::say(&mut self.out, &stats.to_string());
                if !self.behind {
                    return;
                }
            }
            Err(e) => eprintln!("error: sync failed: {e}"),
        }
        self.recover();
    }

    /// After a quiet [`watch::KEEPALIVE`].
    fn idle(&mut self) {
        if !self.behind {
            match self.syncer.keepalive() {
                Ok(()) => return,
                Err(e) => eprintln!("error: the sync session broke: {e}"),
            }
        }
        self.recover();
    }

    /// Maybe a new pod, then a full compare.
    fn recover(&mut self) {
        if let Some(pod) = (self.repod)() {
            self.syncer.reset();
            sync::say(
                &mut self.out,
                &format!("the pod was replaced: syncing into {pod} now"),
            );
        }
        match sync::sync_once(self.syncer, &mut warn) {
            Ok(stats) => {
                self.behind = false;
                self.syncs += 1;
                sync::say(&mut self.out, &format!("{stats} (full compare)"));
            }
            Err(e) => {
                self.behind = true;
                eprintln!("error: sync failed: {e} (will retry after the next change)");
            }
        }
    }
}

/// Warns when the pod reads the stream one byte per `read` (no `dd`
/// with `count_bytes`, no GNU `head`).
fn say_slow_reader(syncer: &Syncer) {
    if syncer.reader().as_deref() == Some("slow") {
        warn(
            "the container's dd cannot copy an exact byte count (busybox before 1.33?) and its head is not GNU's: large syncs are slow"
                .into(),
        );
    }
}

/// Sends [`watch::Msg::Stop`] on SIGINT or SIGTERM. The handlers are in
/// place when this returns.
fn stop_on_signals(tx: mpsc::Sender<watch::Msg>) -> Result<(), Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Signals)?;
    let (mut int, mut term) = rt
        .block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        })
        .map_err(Error::Signals)?;
    std::thread::spawn(move || {
        rt.block_on(async {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        let _ = tx.send(watch::Msg::Stop);
    });
    Ok(())
}
