//! The sync of `reload on`: one sync, or with `--watch` one per burst of
//! changes until SIGINT/SIGTERM, with the recovery after a failed sync.

use std::io::Write;
use std::sync::mpsc;

use super::Error;
use crate::sync::{self, watch, Syncer};

fn warn(msg: String) {
    eprintln!("warning: {msg}");
}

/// The first sync, then (with `watch_mode`) one sync per burst of changes
/// until Ctrl-C.
///
/// A failed sync is followed by a full one (manifest compare), after
/// `repod` had the chance to switch to a replacement pod (it returns the
/// new pod's name when it did); if that fails too, the full sync is tried
/// again after the next change.
pub fn sync_and_watch(
    syncer: &Syncer,
    watch_mode: bool,
    repod: &mut dyn FnMut() -> Option<String>,
) -> Result<(), Error> {
    let mut out = crate::output::Stdout;
    if !watch_mode {
        let stats = sync::sync_once(syncer, &mut warn)?;
        sync::say(&mut out, &stats.to_string());
        return Ok(());
    }
    let (tx, rx) = mpsc::channel();
    // Watch first, so nothing changed during the first sync is missed.
    let mut watcher = watch::Watcher::new(syncer, tx.clone(), &mut warn)?;
    let stats = sync::sync_once(syncer, &mut warn)?;
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
    let mut syncs = 0usize;
    let mut behind = false;
    watcher.run(
        syncer,
        &rx,
        &mut |r| {
            match r {
                Ok(stats) => {
                    syncs += 1;
                    sync::say(&mut out, &stats.to_string());
                    if !behind {
                        return;
                    }
                }
                Err(e) => {
                    eprintln!("error: sync failed: {e}");
                    if let Some(pod) = repod() {
                        sync::say(
                            &mut out,
                            &format!("the pod was replaced: syncing into {pod} now"),
                        );
                    }
                }
            }
            match sync::sync_once(syncer, &mut warn) {
                Ok(stats) => {
                    behind = false;
                    syncs += 1;
                    sync::say(&mut out, &format!("{stats} (full compare)"));
                }
                Err(e) => {
                    behind = true;
                    eprintln!("error: sync failed: {e} (will retry after the next change)");
                }
            }
        },
        &mut warn,
    )?;
    let _ = writeln!(out, "stopped after {syncs} syncs");
    Ok(())
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
