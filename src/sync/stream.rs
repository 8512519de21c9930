//! The client side of the pod's receiver ([`remote::RECEIVER_SCRIPT`]):
//! one [`Session`] per sync session, every request over it (the protocol
//! is described in [`remote`]).

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::ProgressBar;

use super::changes::Changes;
use super::error::{Error, Result};
use super::transport::{last_line, Session, Transport};
use super::{remote, tarstream};

/// How long the receiver may take to start (an exec through the API
/// server, the kubelet and the container runtime).
pub const HELLO_WAIT: Duration = Duration::from_secs(60);

/// How long an answer may take after the request's last byte.
pub const REPLY_WAIT: Duration = Duration::from_secs(120);

/// How long a keepalive's answer may take.
pub const PING_WAIT: Duration = Duration::from_secs(20);

/// The largest frame handed to the session.
pub const FRAME: usize = 256 * 1024;

/// The longest header line accepted from the receiver.
const MAX_LINE: usize = 256;

/// What one `apply` sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Files and symlinks in the stream (skipped ones left out).
    pub files: usize,
    /// Bytes written to the session: headers and the tar stream.
    pub bytes: u64,
}

/// A running receiver.
pub struct Stream<'t> {
    session: Box<dyn Session + 't>,
    /// How it reads exact byte counts: `dd`, `head` or `slow`.
    pub reader: String,
    pending: Vec<u8>,
}

fn broken(e: String) -> Error {
    Error::Transport(e)
}

impl<'t> Stream<'t> {
    /// Starts the receiver for `dest` and waits for its hello.
    pub fn open(transport: &'t dyn Transport, dest: &str) -> Result<Self> {
        let session = transport
            .open(&remote::receiver_argv(dest), true)
            .map_err(broken)?;
        let mut s = Stream {
            session,
            reader: String::new(),
            pending: Vec::new(),
        };
        let hello = s.header(HELLO_WAIT)?;
        match hello.as_slice() {
            [m, k, reader] if m == "WD1" && k == "hello" => s.reader = reader.clone(),
            _ => return Err(broken(format!("unexpected greeting {hello:?}"))),
        }
        Ok(s)
    }

    /// The wire protocol of the session.
    pub fn protocol(&self) -> &'static str {
        self.session.protocol()
    }

    /// The reason the session ended, for an error.
    fn gone(&self, what: &str) -> Error {
        let line = last_line(&self.session.stderr_tail());
        if line.is_empty() {
            broken(format!("the sync receiver in the container ended ({what})"))
        } else {
            broken(format!(
                "the sync receiver in the container ended ({what}): {line}"
            ))
        }
    }

    fn fill(&mut self, wait: Duration, what: &str) -> Result<()> {
        let mut buf = [0u8; 64 * 1024];
        let n = self.session.read(&mut buf, wait).map_err(broken)?;
        if n == 0 {
            return Err(self.gone(what));
        }
        self.pending.extend_from_slice(&buf[..n]);
        Ok(())
    }

    /// Reads one header line, split at spaces.
    fn header(&mut self, wait: Duration) -> Result<Vec<String>> {
        loop {
            if let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=i).collect();
                let text = String::from_utf8_lossy(&line[..i]);
                return Ok(text.split_whitespace().map(str::to_string).collect());
            }
            if self.pending.len() > MAX_LINE {
                return Err(broken(format!(
                    "unexpected output from the container: {:?}",
                    String::from_utf8_lossy(&self.pending[..MAX_LINE])
                )));
            }
            self.fill(wait, "waiting for an answer")?;
        }
    }

    /// Reads exactly `n` bytes.
    fn body(&mut self, n: usize, wait: Duration) -> Result<Vec<u8>> {
        while self.pending.len() < n {
            self.fill(wait, "reading an answer")?;
        }
        Ok(self.pending.drain(..n).collect())
    }

    /// Reads an answer `WD1 KIND CODE N` and its N bytes.
    fn answer(&mut self, kind: &str, wait: Duration) -> Result<(i32, Vec<u8>)> {
        let h = self.header(wait)?;
        let parsed = match h.as_slice() {
            [m, k, code, n] if m == "WD1" && k == kind => {
                code.parse::<i32>().ok().zip(n.parse::<usize>().ok())
            }
            _ => None,
        };
        let Some((code, n)) = parsed else {
            return Err(broken(format!(
                "unexpected answer from the container: {h:?} (wanted {kind})"
            )));
        };
        let body = self.body(n, wait)?;
        Ok((code, body))
    }

    /// The manifest of the destination: `Ok` with the raw listing, or the
    /// receiver's exit code and error text.
    pub fn list(&mut self) -> Result<std::result::Result<Vec<u8>, (i32, String)>> {
        self.session.write_all(b"WD1 list 0\n").map_err(broken)?;
        let (code, body) = self.answer("list", REPLY_WAIT)?;
        if code == 0 {
            Ok(Ok(body))
        } else {
            Ok(Err((code, last_line(&body))))
        }
    }

    /// Sends `changes` (files read from `root`) and waits until they are in
    /// place. `progress` counts files (its message) and bytes (its position).
    pub fn apply(
        &mut self,
        root: &Path,
        changes: &Changes,
        progress: &ProgressBar,
        warn: &mut dyn FnMut(String),
    ) -> Result<Sent> {
        let len = tarstream::length(changes)?;
        let head = format!("WD1 apply 0\nWD1 data {len}\n");
        // The files are read and framed on a thread of their own while
        // this one sends, so reading and sending overlap.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(FRAMES_AHEAD);
        let session = &mut *self.session;
        let (produced, sent) = std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                let mut w = Framer::new(tx, head.as_bytes(), len);
                let mut warnings = Vec::new();
                let written =
                    tarstream::write(&mut w, root, changes, progress, &mut |m| warnings.push(m));
                let done = match written {
                    Ok(files) if w.left == 0 => w.finish(b"WD1 end 0\n").map(|()| Ok(files)),
                    Ok(_) => Err(format!(
                        "the stream came out {} bytes short of its length",
                        w.left
                    )),
                    // Tell the receiver to throw the request away; its
                    // answer is read all the same, so the session goes on.
                    Err(e) => w.finish(b"WD1 abort 0\n").map(|()| Err(e)),
                };
                (done, warnings)
            });
            let mut sent = Ok(0u64);
            for frame in rx {
                let n = frame.len() as u64 - 1;
                if let Err(e) = session.write_framed(frame) {
                    sent = Err(e);
                    break;
                }
                if let Ok(total) = sent.as_mut() {
                    *total += n;
                }
            }
            let produced = producer
                .join()
                .unwrap_or_else(|_| (Err("the stream's reader panicked".into()), Vec::new()));
            (produced, sent)
        });
        let (done, warnings) = produced;
        for m in warnings {
            warn(m);
        }
        let bytes = sent.map_err(broken)?;
        let files = match done.map_err(broken)? {
            Ok(files) => files,
            Err(e) => {
                self.answer("done", REPLY_WAIT)?;
                return Err(e);
            }
        };
        let (code, body) = self.answer("done", REPLY_WAIT)?;
        if code != 0 {
            return Err(Error::Remote {
                what: "writing the files",
                code,
                stderr: last_line(&body),
            });
        }
        Ok(Sent { files, bytes })
    }

    /// The keepalive: a websocket ping where there is one, and a `ping`
    /// through the receiver and back.
    pub fn ping(&mut self) -> Result<()> {
        self.session.ping().map_err(broken)?;
        self.session.write_all(b"WD1 ping 0\n").map_err(broken)?;
        self.answer("pong", PING_WAIT)?;
        Ok(())
    }

    /// Says goodbye and waits (briefly) for the receiver to exit.
    pub fn close(mut self) -> Result<()> {
        self.session.write_all(b"WD1 bye 0\n").map_err(broken)?;
        let st = self
            .session
            .finish(Duration::from_secs(10))
            .map_err(broken)?;
        if st.code != 0 {
            return Err(Error::Remote {
                what: "the sync receiver",
                code: st.code,
                stderr: st.stderr_line(),
            });
        }
        Ok(())
    }
}

/// How many frames the reader may have ready before the sender takes them.
const FRAMES_AHEAD: usize = 4;

/// The one `data` chunk of an `apply` request (its length announced in
/// advance), as a `Write` that hands it to the sender in frames of
/// [`FRAME`] (byte 0 of each is the transport's, see
/// [`Session::write_framed`]).
struct Framer {
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    /// The next frame.
    buf: Vec<u8>,
    /// Bytes of the announced chunk still to come.
    left: u64,
}

impl Framer {
    fn new(tx: std::sync::mpsc::SyncSender<Vec<u8>>, head: &[u8], len: u64) -> Self {
        let mut buf = Vec::with_capacity(FRAME + 1);
        buf.push(0);
        buf.extend_from_slice(head);
        Framer { tx, buf, left: len }
    }

    fn send(&mut self) -> std::result::Result<(), String> {
        let mut next = Vec::with_capacity(FRAME + 1);
        next.push(0);
        let frame = std::mem::replace(&mut self.buf, next);
        self.tx
            .send(frame)
            .map_err(|_| "the connection to the container broke".to_string())
    }

    /// Zeros for what is left of the chunk (after a failure), then `last`.
    fn finish(&mut self, last: &[u8]) -> std::result::Result<(), String> {
        while self.left > 0 {
            let n = (FRAME + 1 - self.buf.len()).min(self.left as usize);
            self.buf.resize(self.buf.len() + n, 0);
            self.left -= n as u64;
            if self.buf.len() > FRAME {
                self.send()?;
            }
        }
        self.buf.extend_from_slice(last);
        self.send()
    }
}

impl Write for Framer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.len() as u64 > self.left {
            return Err(io::Error::other("the stream is longer than its length"));
        }
        let n = data.len().min(FRAME + 1 - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.left -= n as u64;
        if self.buf.len() > FRAME {
            self.send().map_err(io::Error::other)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
