//! The double's `pods/exec` subresource: a websocket speaking the
//! Kubernetes remote-command protocol (`v5.channel.k8s.io`, else
//! `v4.channel.k8s.io`). Every frame starts with its channel byte: 0 stdin,
//! 1 stdout, 2 stderr, 3 the error channel (one `Status` JSON when the
//! command ends: Success, or Failure/NonZeroExitCode with the exit code as a
//! cause), and on v5 255 "close", which half-closes stdin.
//!
//! The command runs on the test host, standing in for the container; its
//! working directory is the pod's "filesystem", a temp dir the test owns.
//! Like a container's processes, it is killed when its pod is deleted (a
//! rollout replaced it).

use std::path::PathBuf;
use std::process::Stdio;

use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const V5: &str = "v5.channel.k8s.io";
pub const V4: &str = "v4.channel.k8s.io";

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const CLOSE: u8 = 255;

/// What the query string of an exec request asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecQuery {
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ExecQuery {
    /// Parses `command=sh&command=-c&…&stdin=true`.
    pub fn parse(raw: &str) -> ExecQuery {
        let mut q = ExecQuery::default();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v);
            let yes = v == "true" || v == "1";
            match decode(k).as_str() {
                "command" => q.command.push(v),
                "container" => q.container = Some(v),
                "stdin" => q.stdin = yes,
                "stdout" => q.stdout = yes,
                "stderr" => q.stderr = yes,
                "tty" => q.tty = yes,
                _ => {}
            }
        }
        q
    }
}

/// A Kubernetes `Status` failure response (for requests refused before the
/// upgrade).
pub fn status_response(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code.as_u16(),
    });
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `GET …/namespaces/NS/pods/POD/exec?command=…`: the pod must exist, exec
/// must not be denied (`create pods/exec`), and the container must be one of its own; the command gets that container's
/// env (literal values) and runs in [`super::State::exec_root`].
pub async fn handle(
    AxState(state): AxState<super::Shared>,
    Path((ns, pod)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let query = ExecQuery::parse(uri.query().unwrap_or(""));
    let (root, offer, spec) = {
        let st = state.lock().unwrap_or_else(|e| e.into_inner());
        let spec = st
            .objects
            .get(&("pods", ns.clone(), pod.clone()))
            .map(|p| p["spec"]["containers"].clone());
        (st.exec_root.clone(), st.exec_offer, spec)
    };
    let denied = state
        .lock()
        .map(|st| {
            st.deny
                .iter()
                .any(|(v, r)| v == "create" && r == "pods/exec")
        })
        .unwrap_or(false);
    let response = match (spec, ws) {
        // `ApiServer::deny("create", "pods/exec")`, as RBAC answers it.
        (Some(_), _) if denied => super::status(
            403,
            "Forbidden",
            format!("pods \"{pod}\" is forbidden: User \"tester\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"{ns}\""),
            json!({"name": pod, "kind": "pods"}),
        ),
        (None, _) => super::status(
            404,
            "NotFound",
            format!("pods \"{pod}\" not found"),
            json!({"name": pod, "kind": "pods"}),
        ),
        (Some(_), Err(_)) => status_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Upgrade request required",
        ),
        (Some(containers), Ok(ws)) => {
            let names: Vec<String> = containers
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect();
            let chosen = match &query.container {
                Some(c) => names.iter().find(|n| *n == c).cloned(),
                None if names.len() == 1 => names.first().cloned(),
                None => None,
            };
            match chosen {
                None => status_response(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!(
                        "container {:?} is not valid for pod {pod}; choose one of {names:?}",
                        query.container.clone().unwrap_or_default()
                    ),
                ),
                Some(name) => {
                    let env: Vec<(String, String)> = containers
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|c| c["name"] == name.as_str())
                        .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
                        .filter_map(|e| {
                            Some((
                                e["name"].as_str()?.to_string(),
                                e["value"].as_str()?.to_string(),
                            ))
                        })
                        .collect();
                    let alive = PodAlive {
                        state: state.clone(),
                        ns: ns.clone(),
                        pod: pod.clone(),
                    };
                    upgrade(ws, query, root, env, offer, alive)
                }
            }
        }
    };
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    st.log.push(super::Request {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        content_type: String::new(),
        impersonate_user: header("impersonate-user"),
        impersonate_groups: Vec::new(),
        authorization: header("authorization"),
        user_agent: header("user-agent"),
        status: response.status().as_u16(),
    });
    response
}

/// Which protocols the double offers (a test can offer only v4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Offer {
    #[default]
    V5AndV4,
    V4Only,
}

/// Says whether the pod of an exec still exists.
pub struct PodAlive {
    state: super::Shared,
    ns: String,
    pod: String,
}

impl PodAlive {
    fn alive(&self) -> bool {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.objects
            .contains_key(&("pods", self.ns.clone(), self.pod.clone()))
    }
}

/// Answers an exec upgrade: runs `query.command` in `cwd` with `env` added
/// and bridges its stdio to the websocket, until the command ends or the
/// pod is gone.
pub fn upgrade(
    ws: WebSocketUpgrade,
    query: ExecQuery,
    cwd: PathBuf,
    env: Vec<(String, String)>,
    offer: Offer,
    alive: PodAlive,
) -> Response {
    if query.command.is_empty() {
        return status_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "you must specify at least 1 command",
        );
    }
    let protocols: &[&'static str] = match offer {
        Offer::V5AndV4 => &[V5, V4],
        Offer::V4Only => &[V4],
    };
    let ws = ws.protocols(protocols.iter().copied());
    let Some(proto) = ws
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .map(str::to_string)
    else {
        return status_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "no supported websocket subprotocol (want v5.channel.k8s.io or v4.channel.k8s.io)",
        );
    };
    let v5 = proto == V5;
    ws.on_upgrade(move |socket| run(socket, query, cwd, env, v5, alive))
}

fn normal_close() -> Message {
    Message::Close(Some(axum::extract::ws::CloseFrame {
        code: axum::extract::ws::close_code::NORMAL,
        reason: Default::default(),
    }))
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::Binary(Bytes::from(v))
}

fn status_json(code: Option<i32>, argv: &[String], spawn_error: Option<String>) -> String {
    let st = match (code, spawn_error) {
        (_, Some(e)) => json!({
            "metadata": {}, "status": "Failure", "reason": "InternalError",
            "message": format!("failed to exec in container: {e}"),
        }),
        (Some(0), None) => json!({"metadata": {}, "status": "Success"}),
        (code, None) => {
            let code = code.unwrap_or(137);
            json!({
                "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                "message": format!("command terminated with non-zero exit code: error executing command {argv:?}, exit code {code}"),
                "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
            })
        }
    };
    st.to_string()
}

async fn run(
    socket: WebSocket,
    query: ExecQuery,
    cwd: PathBuf,
    env: Vec<(String, String)>,
    v5: bool,
    alive: PodAlive,
) {
    let (mut tx, mut rx) = socket.split();
    // Like the kubelet: one empty frame per open output channel first.
    for ch in [STDOUT, STDERR, ERROR] {
        if tx.send(frame(ch, &[])).await.is_err() {
            return;
        }
    }
    let mut cmd = tokio::process::Command::new(&query.command[0]);
    cmd.args(&query.command[1..])
        .current_dir(&cwd)
        .envs(env)
        .stdin(if query.stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = tx
                .send(frame(
                    ERROR,
                    status_json(None, &query.command, Some(e.to_string())).as_bytes(),
                ))
                .await;
            let _ = tx.send(normal_close()).await;
            return;
        }
    };
    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");

    // stdin: client frames → the process, until close (v5), websocket close
    // or disconnect; any of them closes the process's stdin.
    let input = async move {
        while let Some(msg) = rx.next().await {
            match msg {
                Ok(Message::Binary(b)) if !b.is_empty() => match b[0] {
                    STDIN => {
                        if let Some(w) = stdin.as_mut() {
                            if w.write_all(&b[1..]).await.is_err() {
                                stdin = None;
                            }
                        }
                    }
                    CLOSE if v5 && b.get(1) == Some(&STDIN) => {
                        if let Some(mut w) = stdin.take() {
                            let _ = w.shutdown().await;
                        }
                    }
                    _ => {}
                },
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        drop(stdin);
    };
    let input = tokio::spawn(input);

    // stdout/stderr → frames, in order, until both end.
    let (otx, mut orx) = tokio::sync::mpsc::channel::<Message>(8);
    let pump = |mut r: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
                ch: u8,
                otx: tokio::sync::mpsc::Sender<Message>| async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if otx.send(frame(ch, &buf[..n])).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let p1 = tokio::spawn(pump(Box::new(stdout), STDOUT, otx.clone()));
    let p2 = tokio::spawn(pump(Box::new(stderr), STDERR, otx));
    let mut client_gone = false;
    let mut check = tokio::time::interval(std::time::Duration::from_millis(20));
    let mut killed = false;
    loop {
        tokio::select! {
            m = orx.recv() => {
                let Some(m) = m else { break };
                if !client_gone && tx.send(m).await.is_err() {
                    client_gone = true;
                }
            }
            _ = check.tick(), if !killed => {
                if !alive.alive() {
                    // the whole group, like a container's processes
                    killed = true;
                    if let Some(pid) = child.id() {
                        unsafe {
                            libc::kill(-(pid as i32), libc::SIGKILL);
                        }
                    }
                }
            }
        }
    }
    let _ = p1.await;
    let _ = p2.await;
    let code = child.wait().await.ok().and_then(|s| {
        use std::os::unix::process::ExitStatusExt;
        s.code().or_else(|| s.signal().map(|sig| 128 + sig))
    });
    input.abort();
    if !client_gone {
        let _ = tx
            .send(frame(
                ERROR,
                status_json(code, &query.command, None).as_bytes(),
            ))
            .await;
        // a normal closure, as the apiserver does (kubectl takes 1005,
        // "no status", for an error)
        let _ = tx.send(normal_close()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = ExecQuery::parse("command=sh&command=-c&command=echo%20%22a%20b%22&container=app&stdin=true&stdout=true&stderr=true&tty=false");
        assert_eq!(q.command, vec!["sh", "-c", "echo \"a b\""]);
        assert_eq!(q.container.as_deref(), Some("app"));
        assert!(q.stdin && q.stdout && q.stderr && !q.tty);
    }
}
