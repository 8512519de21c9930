//! [`Transport`] over the Kubernetes exec API: a websocket speaking
//! `v5.channel.k8s.io` (which can close stdin: channel 255) or, from
//! servers before 1.30, `v4.channel.k8s.io` (which cannot). Every frame
//! starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the `Status`
//! when the command ends.
//!
//! kube's `AttachedProcess` hides the protocol it got and sends stdin in
//! 4 KiB frames, so the frames are spoken here, on kube's upgraded
//! connection: stdin goes out in frames of up to [`FRAME`], and while a
//! write waits, incoming frames are taken in (so a command that ends is
//! noticed instead of waited on forever). Everything runs on the caller's
//! thread inside `block_on`, on the runtime the client was made on.

use std::pin::Pin;
use std::time::Duration;

use futures::{Sink, SinkExt, Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio_tungstenite::tungstenite::{self as ws, Message};

use super::transport::{keep_tail, ExecStatus, Session, Transport};

/// The largest stdin frame sent.
pub const FRAME: usize = 256 * 1024;

/// A write that makes no progress for this long fails (the other side
/// stopped reading).
pub const STALL: Duration = Duration::from_secs(60);

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;

/// Runs commands in one container of one pod.
pub struct KubeTransport<'rt> {
    pub runtime: &'rt tokio::runtime::Runtime,
    pub pods: Api<Pod>,
    /// The pod; [`KubeTransport::set_pod`] switches to another one (after a
    /// rollout replaced it).
    pod: std::sync::Mutex<String>,
    pub container: String,
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

type WsSink = Pin<Box<dyn Sink<Message, Error = ws::Error> + Send>>;
type WsRecv = Pin<Box<dyn Stream<Item = Result<Message, ws::Error>> + Send>>;

impl Transport for KubeTransport<'_> {
    fn open(&self, argv: &[String], stdin: bool) -> Result<Box<dyn Session + '_>, String> {
        let pod = self.pod();
        let ap = AttachParams::default()
            .container(self.container.clone())
            .stdin(stdin)
            .stdout(true)
            .stderr(true);
        let mut req = kube::core::Request::new(self.pods.resource_url())
            .exec(&pod, argv.iter().cloned(), &ap)
            .map_err(|e| format!("pod {pod}: {e}"))?;
        req.extensions_mut().insert("exec");
        let client = self.pods.clone().into_client();
        let conn = self
            .runtime
            .block_on(client.connect(req))
            .map_err(|e| format!("pod {pod}: {}", crate::cluster::errors::api_text(&e)))?;
        let v5 = conn.supports_stream_close();
        let (sink, recv) = conn.into_stream().split();
        Ok(Box::new(KubeSession {
            runtime: self.runtime,
            sink: Box::pin(sink),
            inbox: Inbox {
                recv: Box::pin(recv),
                stdout: Vec::new(),
                read_from: 0,
                stderr: Vec::new(),
                status: None,
            },
            v5,
            stdin_open: stdin,
        }))
    }
}

/// What came back so far.
struct Inbox {
    recv: WsRecv,
    stdout: Vec<u8>,
    /// How much of `stdout` was read already.
    read_from: usize,
    stderr: Vec<u8>,
    /// Set once the command ended (or the connection did).
    status: Option<Result<i32, String>>,
}

impl Inbox {
    fn ended(&self) -> bool {
        self.status.is_some()
    }

    fn unread(&self) -> usize {
        self.stdout.len() - self.read_from
    }

    /// Waits for one frame and takes it in.
    async fn next(&mut self) {
        let msg = self.recv.next().await;
        self.take(msg);
    }

    fn take(&mut self, msg: Option<Result<Message, ws::Error>>) {
        match msg {
            Some(Ok(Message::Binary(b))) if b.len() > 1 => match b[0] {
                STDOUT => {
                    if self.read_from == self.stdout.len() {
                        self.stdout.clear();
                        self.read_from = 0;
                    }
                    self.stdout.extend_from_slice(&b[1..]);
                }
                STDERR => keep_tail(&mut self.stderr, &b[1..]),
                STATUS => {
                    let st = serde_json::from_slice::<Status>(&b[1..])
                        .map_err(|e| format!("unreadable exit status: {e}"))
                        .and_then(|st| remote_status(Some(st)));
                    self.status.get_or_insert(st);
                }
                _ => {}
            },
            // Pings are answered by tungstenite; the empty frames that
            // open each channel carry nothing.
            Some(Ok(Message::Close(_))) | None => {
                self.status
                    .get_or_insert(Err("the connection closed without an exit status".into()));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                self.status
                    .get_or_insert(Err(format!("the connection broke: {e}")));
            }
        }
    }
}

/// One exec websocket.
struct KubeSession<'rt> {
    runtime: &'rt tokio::runtime::Runtime,
    sink: WsSink,
    inbox: Inbox,
    v5: bool,
    stdin_open: bool,
}

impl KubeSession<'_> {
    /// Sends one message, taking in what arrives meanwhile; fails when the
    /// command ends first or nothing moves for [`STALL`].
    fn send(&mut self, msg: Message, stop_when_ended: bool) -> Result<(), String> {
        let KubeSession {
            runtime,
            sink,
            inbox,
            ..
        } = self;
        runtime.block_on(async {
            let send = sink.send(msg);
            tokio::pin!(send);
            loop {
                let stall = tokio::time::sleep(STALL);
                tokio::select! {
                    r = &mut send => return r.map_err(|e| format!("the connection broke: {e}")),
                    _ = inbox.next(), if !inbox.ended() => {
                        if stop_when_ended && inbox.ended() {
                            return Err(ended_message(inbox));
                        }
                    }
                    _ = stall => return Err(format!(
                        "the container took no input for {} s", STALL.as_secs()
                    )),
                }
            }
        })
    }
}

fn ended_message(inbox: &Inbox) -> String {
    let why = match &inbox.status {
        Some(Ok(code)) => format!("the command in the container exited (exit {code})"),
        Some(Err(e)) => e.clone(),
        None => "the command in the container ended".into(),
    };
    let line = super::transport::last_line(&inbox.stderr);
    if line.is_empty() {
        why
    } else {
        format!("{why}: {line}")
    }
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::binary(v)
}

impl Session for KubeSession<'_> {
    fn write_all(&mut self, data: &[u8]) -> Result<(), String> {
        if !self.stdin_open {
            return Err("stdin is closed".into());
        }
        if self.inbox.ended() {
            return Err(ended_message(&self.inbox));
        }
        for part in data.chunks(FRAME) {
            self.send(frame(STDIN, part), true)?;
        }
        Ok(())
    }

    fn write_framed(&mut self, mut frame: Vec<u8>) -> Result<(), String> {
        if !self.stdin_open {
            return Err("stdin is closed".into());
        }
        if self.inbox.ended() {
            return Err(ended_message(&self.inbox));
        }
        if frame.len() <= 1 {
            return Ok(());
        }
        frame[0] = STDIN;
        self.send(Message::binary(frame), true)
    }

    fn read(&mut self, buf: &mut [u8], wait: Duration) -> Result<usize, String> {
        let inbox = &mut self.inbox;
        if inbox.unread() == 0 && !inbox.ended() {
            let got = self.runtime.block_on(async {
                tokio::time::timeout(wait, async {
                    while inbox.unread() == 0 && !inbox.ended() {
                        inbox.next().await;
                    }
                })
                .await
            });
            if got.is_err() {
                return Err(format!(
                    "no answer from the container within {} s",
                    wait.as_secs()
                ));
            }
        }
        let n = buf.len().min(inbox.unread());
        buf[..n].copy_from_slice(&inbox.stdout[inbox.read_from..inbox.read_from + n]);
        inbox.read_from += n;
        if n == 0 {
            if let Some(Err(e)) = &inbox.status {
                return Err(e.clone());
            }
        }
        Ok(n)
    }

    fn close_stdin(&mut self) -> Result<bool, String> {
        if !self.v5 {
            // v4 can only close the whole websocket, which loses the
            // output and the exit status.
            return Ok(false);
        }
        if self.stdin_open && !self.inbox.ended() {
            self.stdin_open = false;
            self.send(Message::binary(vec![CLOSE, STDIN]), false)?;
        }
        Ok(true)
    }

    fn ping(&mut self) -> Result<(), String> {
        if self.inbox.ended() {
            return Err(ended_message(&self.inbox));
        }
        self.send(Message::Ping(Default::default()), true)
    }

    fn stderr_tail(&self) -> Vec<u8> {
        self.inbox.stderr.clone()
    }

    fn finish(mut self: Box<Self>, wait: Duration) -> Result<ExecStatus, String> {
        let _ = self.close_stdin();
        let KubeSession {
            runtime,
            sink,
            inbox,
            ..
        } = &mut *self;
        let waited = runtime.block_on(async {
            tokio::time::timeout(wait, async {
                while !inbox.ended() {
                    inbox.next().await;
                }
            })
            .await
        });
        let _ = runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(2), sink.close()).await });
        if waited.is_err() {
            return Err(format!(
                "the command did not end within {} s",
                wait.as_secs()
            ));
        }
        let code = inbox
            .status
            .clone()
            .unwrap_or_else(|| Err("no exit status".into()))?;
        Ok(ExecStatus {
            code,
            stderr: inbox.stderr.clone(),
        })
    }

    fn protocol(&self) -> &'static str {
        if self.v5 {
            "v5.channel.k8s.io"
        } else {
            "v4.channel.k8s.io"
        }
    }
}
