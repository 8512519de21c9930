//! "Run this argv in the container with this stdin; give me stdout, stderr
//! and the exit status." The Kubernetes exec API implements it
//! ([`super::kube::KubeTransport`]); so does a local process
//! ([`LocalTransport`]), which the tests use against a temp directory.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

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
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

/// Runs commands in the container.
pub trait Transport: Sync {
    /// Runs `argv`; streams `stdin` to it (then closes it), and its stdout
    /// into `stdout`. `Err` means the command could not be run at all.
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&mut (dyn Read + Send)>,
        stdout: &mut dyn Write,
    ) -> Result<ExecStatus, String>;
}

/// Runs the command as a local process (for tests and benchmarks: the
/// "container" is this machine).
#[derive(Debug, Default, Clone)]
pub struct LocalTransport {
    /// Working directory of the commands.
    pub cwd: Option<PathBuf>,
}

impl Transport for LocalTransport {
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&mut (dyn Read + Send)>,
        stdout: &mut dyn Write,
    ) -> Result<ExecStatus, String> {
        let (prog, args) = argv.split_first().ok_or("empty command")?;
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        let mut child = cmd.spawn().map_err(|e| format!("{prog}: {e}"))?;
        let mut child_in = child.stdin.take();
        let mut child_out = child.stdout.take().ok_or("no stdout")?;
        let mut child_err = child.stderr.take().ok_or("no stderr")?;
        let stderr = std::thread::scope(|s| {
            if let (Some(input), Some(mut pipe)) = (stdin, child_in.take()) {
                s.spawn(move || {
                    // A command that exits early closes the pipe: stop quietly.
                    let _ = std::io::copy(input, &mut pipe);
                });
            }
            let err = s.spawn(move || {
                let mut v = Vec::new();
                let _ = child_err.read_to_end(&mut v);
                v
            });
            let copied = std::io::copy(&mut child_out, stdout);
            let stderr = err.join().unwrap_or_default();
            copied.map(|_| stderr)
        })
        .map_err(|e| format!("reading output: {e}"))?;
        let status = child.wait().map_err(|e| e.to_string())?;
        let code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        });
        Ok(ExecStatus { code, stderr })
    }
}
