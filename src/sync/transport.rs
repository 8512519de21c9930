//! "Run this argv in the container, and give me its stdin and stdout": a
//! [`Session`] stays open as long as the caller likes (the sync's receiver
//! runs for a whole `--watch`), [`Transport::exec`] is the one-shot form on
//! top of it. The Kubernetes exec API implements it
//! ([`super::kube::KubeTransport`]); so does a local process
//! ([`LocalTransport`]), which the tests use against a temp directory.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long [`Transport::exec`] waits for output or the exit status.
pub const EXEC_WAIT: Duration = Duration::from_secs(60);

/// How much of a command's stderr a session keeps (the end of it).
const STDERR_KEEP: usize = 8 * 1024;

/// How a command in the container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecStatus {
    /// The exit code (0 for success).
    pub code: i32,
    pub stderr: Vec<u8>,
}

impl ExecStatus {
    /// The last non-empty line of stderr, for one-line errors.
    pub fn stderr_line(&self) -> String {
        last_line(&self.stderr)
    }
}

/// The last non-empty line of `bytes`, trimmed.
pub fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Keeps the end of a stream (stderr) within [`STDERR_KEEP`] bytes.
pub fn keep_tail(tail: &mut Vec<u8>, more: &[u8]) {
    tail.extend_from_slice(more);
    if tail.len() > STDERR_KEEP {
        let cut = tail.len() - STDERR_KEEP;
        tail.drain(..cut);
    }
}

/// A running command in the container. Every call is bounded: writes give
/// up when the other side stops taking bytes for long, reads take a wait.
pub trait Session: Send {
    /// Writes all of `data` to the command's stdin.
    fn write_all(&mut self, data: &[u8]) -> Result<(), String>;
    /// Writes `frame[1..]` to the command's stdin; `frame[0]` is the
    /// transport's to use (the websocket's channel byte, so the frame goes
    /// out without a copy).
    fn write_framed(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.write_all(frame.get(1..).unwrap_or_default())
    }
    /// Reads some of the command's stdout into `buf`, waiting at most
    /// `wait` for it; `Ok(0)` when stdout has ended (the command exited).
    fn read(&mut self, buf: &mut [u8], wait: Duration) -> Result<usize, String>;
    /// Ends the command's stdin where the protocol can say so (a close
    /// frame on `v5.channel.k8s.io`, closing the pipe locally); `false` when
    /// it cannot (`v4.channel.k8s.io`: stdin stays open until the command exits).
    fn close_stdin(&mut self) -> Result<bool, String>;
    /// Keeps the connection alive where the transport has a way of its own
    /// (a websocket ping); nothing by default.
    fn ping(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// The end of the command's stderr so far (for error messages).
    fn stderr_tail(&self) -> Vec<u8>;
    /// Closes stdin where possible and waits at most `wait` for the exit status.
    fn finish(self: Box<Self>, wait: Duration) -> Result<ExecStatus, String>;
    /// The wire protocol: `v5.channel.k8s.io`, `v4.channel.k8s.io` or `local`.
    fn protocol(&self) -> &'static str;
}

/// Runs commands in the container.
pub trait Transport: Sync {
    /// Starts `argv`, with a stdin when `stdin` is true (else it reads
    /// nothing). `Err` means the command could not be started at all.
    fn open(&self, argv: &[String], stdin: bool) -> Result<Box<dyn Session + '_>, String>;

    /// Runs `argv` to its end: streams `stdin` to it (then closes it where
    /// the protocol can: on `v4.channel.k8s.io` a command that reads stdin
    /// to its end never ends), and its stdout into `stdout`.
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&mut (dyn Read + Send)>,
        stdout: &mut dyn Write,
    ) -> Result<ExecStatus, String> {
        let mut session = self.open(argv, stdin.is_some())?;
        let mut buf = vec![0u8; 64 * 1024];
        if let Some(input) = stdin {
            loop {
                let n = input.read(&mut buf).map_err(|e| format!("stdin: {e}"))?;
                // A command that exits early stops reading: stop quietly.
                if n == 0 || session.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = session.close_stdin();
        }
        loop {
            let n = session.read(&mut buf, EXEC_WAIT)?;
            if n == 0 {
                break;
            }
            stdout
                .write_all(&buf[..n])
                .map_err(|e| format!("writing output: {e}"))?;
        }
        session.finish(EXEC_WAIT)
    }
}

/// Runs the command as a local process (for tests and benchmarks: the
/// "container" is this machine).
#[derive(Debug, Default, Clone)]
pub struct LocalTransport {
    /// Working directory of the commands.
    pub cwd: Option<PathBuf>,
}

impl LocalTransport {
    /// Starts `argv` as a local process.
    pub fn spawn(&self, argv: &[String], stdin: bool) -> Result<LocalSession, String> {
        let (prog, args) = argv.split_first().ok_or("empty command")?;
        let mut cmd = Command::new(prog);
        cmd.args(args);
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        LocalSession::start(cmd, stdin)
    }
}

impl Transport for LocalTransport {
    fn open(&self, argv: &[String], stdin: bool) -> Result<Box<dyn Session + '_>, String> {
        Ok(Box::new(self.spawn(argv, stdin)?))
    }
}

/// A local process as a [`Session`]: its stdout and stderr are read by two
/// threads, so reads can be bounded.
pub struct LocalSession {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Receiver<Vec<u8>>,
    pending: Vec<u8>,
    ended: bool,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl LocalSession {
    /// Spawns `cmd` with piped stdout and stderr (and stdin, when `stdin`).
    pub fn start(mut cmd: Command, stdin: bool) -> Result<Self, String> {
        let prog = cmd.get_program().to_string_lossy().into_owned();
        cmd.stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("{prog}: {e}"))?;
        let mut child_out = child.stdout.take().ok_or("no stdout")?;
        let mut child_err = child.stderr.take().ok_or("no stderr")?;
        let (tx, out) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = child_out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 8 * 1024];
            while let Ok(n) = child_err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut t) = tail.lock() {
                    keep_tail(&mut t, &buf[..n]);
                }
            }
        });
        Ok(LocalSession {
            stdin: child.stdin.take(),
            child,
            out,
            pending: Vec::new(),
            ended: false,
            stderr,
        })
    }
}

impl Session for LocalSession {
    fn write_all(&mut self, data: &[u8]) -> Result<(), String> {
        let w = self.stdin.as_mut().ok_or("stdin is closed")?;
        w.write_all(data)
            .map_err(|e| format!("the command stopped reading: {e}"))
    }

    fn read(&mut self, buf: &mut [u8], wait: Duration) -> Result<usize, String> {
        if self.pending.is_empty() && !self.ended {
            match self.out.recv_timeout(wait) {
                Ok(v) => self.pending = v,
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no output within {} s", wait.as_secs()))
                }
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }

    fn close_stdin(&mut self) -> Result<bool, String> {
        self.stdin = None;
        Ok(true)
    }

    fn stderr_tail(&self) -> Vec<u8> {
        self.stderr.lock().map(|t| t.clone()).unwrap_or_default()
    }

    fn finish(mut self: Box<Self>, wait: Duration) -> Result<ExecStatus, String> {
        self.stdin = None;
        let deadline = Instant::now() + wait;
        let status = loop {
            match self.child.try_wait().map_err(|e| e.to_string())? {
                Some(st) => break st,
                None if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(format!(
                        "the command did not end within {} s",
                        wait.as_secs()
                    ));
                }
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        };
        // Let the stderr thread see the end of the pipe.
        let until = Instant::now() + Duration::from_millis(200);
        while Arc::strong_count(&self.stderr) > 1 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        let code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        });
        Ok(ExecStatus {
            code,
            stderr: self.stderr_tail(),
        })
    }

    fn protocol(&self) -> &'static str {
        "local"
    }
}

impl Drop for LocalSession {
    fn drop(&mut self) {
        // Closing stdin ends a receiver; a command still running after that
        // is not waited for (the tests' commands all end on EOF).
        self.stdin = None;
        if let Ok(None) = self.child.try_wait() {
            let until = Instant::now() + Duration::from_millis(500);
            while Instant::now() < until {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
