//! [`Transport`] over the Kubernetes exec API (kube's `ws` feature:
//! websocket, `v5.channel.k8s.io` first, which can half-close stdin).

use std::io::{Read, Write};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::transport::{ExecStatus, Transport};

/// Chunk size of the stdin pump and the stdout reader.
const CHUNK: usize = 64 * 1024;

/// Runs commands in one container of one pod.
pub struct KubeTransport<'rt> {
    pub runtime: &'rt tokio::runtime::Runtime,
    pub pods: Api<Pod>,
    /// The pod; [`KubeTransport::set_pod`] switches to another one (after a
    /// rollout replaced it).
    pod: std::sync::Mutex<String>,
    pub container: String,
    /// Half-close stdin when it is used up. kube does that with a close
    /// frame on `v5.channel.k8s.io`, but on `v4` (Kubernetes before 1.30)
    /// only by closing the whole websocket, which loses the output and the
    /// exit status. The sync's streams end by themselves (a padded tar
    /// stream), so it leaves stdin open until the command exits and works
    /// on both.
    pub half_close_stdin: bool,
}

impl<'rt> KubeTransport<'rt> {
    pub fn new(
        runtime: &'rt tokio::runtime::Runtime,
        pods: Api<Pod>,
        pod: &str,
        container: &str,
    ) -> Self {
        KubeTransport {
            runtime,
            pods,
            pod: std::sync::Mutex::new(pod.to_string()),
            container: container.to_string(),
            half_close_stdin: false,
        }
    }

    /// The pod commands run in.
    pub fn pod(&self) -> String {
        self.pod.lock().map(|p| p.clone()).unwrap_or_default()
    }

    pub fn set_pod(&self, pod: &str) {
        if let Ok(mut p) = self.pod.lock() {
            *p = pod.to_string();
        }
    }
}

/// The remote command's exit status, from the exec `Status` (channel 3): 0 on Success,
/// the `ExitCode` cause of a NonZeroExitCode failure, else an error.
pub fn remote_status(status: Option<Status>) -> Result<i32, String> {
    let Some(st) = status else {
        return Err("the connection closed without an exit status".into());
    };
    if st.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    if st.reason.as_deref() == Some("NonZeroExitCode") {
        let code = st
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
            .and_then(|c| c.message.as_deref())
            .and_then(|m| m.parse().ok());
        return code.ok_or_else(|| format!("exit status without a code: {:?}", st.message));
    }
    Err(st.message.unwrap_or_else(|| "exec failed".into()))
}

impl Transport for KubeTransport<'_> {
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&mut (dyn Read + Send)>,
        stdout: &mut dyn Write,
    ) -> Result<ExecStatus, String> {
        let has_stdin = stdin.is_some();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        std::thread::scope(|s| {
            if let Some(input) = stdin {
                // Blocking reads stay off the runtime thread.
                s.spawn(move || loop {
                    let mut buf = vec![0u8; CHUNK];
                    match input.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            buf.truncate(n);
                            if tx.blocking_send(buf).is_err() {
                                break;
                            }
                        }
                    }
                });
            } else {
                drop(tx);
            }
            self.runtime.block_on(async {
                let ap = AttachParams::default()
                    .container(self.container.clone())
                    .stdin(has_stdin)
                    .stdout(true)
                    .stderr(true)
                    .max_stdin_buf_size(CHUNK)
                    .max_stdout_buf_size(CHUNK);
                let pod = self.pod();
                let mut proc = self
                    .pods
                    .exec(&pod, argv.to_vec(), &ap)
                    .await
                    .map_err(|e| format!("pod {pod}: {e}"))?;
                let status = proc.take_status().ok_or("no status channel")?;
                let mut out = proc.stdout().ok_or("no stdout")?;
                let mut err = proc.stderr().ok_or("no stderr")?;
                let writer = proc.stdin();
                let half_close = self.half_close_stdin;
                let pump = async move {
                    let mut writer = writer;
                    if let Some(w) = writer.as_mut() {
                        while let Some(chunk) = rx.recv().await {
                            if w.write_all(&chunk).await.is_err() {
                                break;
                            }
                        }
                        let _ = w.flush().await;
                    }
                    rx.close();
                    if half_close {
                        if let Some(mut w) = writer.take() {
                            let _ = w.shutdown().await;
                        }
                    }
                    // Otherwise kept open (returned) until the command exits.
                    writer
                };
                let read_out = async {
                    let mut buf = vec![0u8; CHUNK];
                    loop {
                        let n = out.read(&mut buf).await.map_err(|e| e.to_string())?;
                        if n == 0 {
                            return Ok::<(), String>(());
                        }
                        stdout.write_all(&buf[..n]).map_err(|e| e.to_string())?;
                    }
                };
                let read_err = async {
                    let mut v = Vec::new();
                    let _ = err.read_to_end(&mut v).await;
                    v
                };
                let (open_stdin, out_res, stderr) = tokio::join!(pump, read_out, read_err);
                let code = remote_status(status.await)?;
                drop(open_stdin);
                out_res?;
                let _ = proc.join().await;
                Ok(ExecStatus { code, stderr })
            })
        })
    }
}
