//! A logging HTTP/1.1 proxy in front of the real apiserver.
//!
//! The plugin talks plain HTTP to `127.0.0.1:PORT` (see
//! [`super::Ns::proxy_kubeconfig`]); each connection is forwarded over TLS to
//! the apiserver with the admin client certificate, so the apiserver
//! authenticates the admin (impersonation headers such as `--as` pass through
//! untouched). Every request is forced to `Connection: close`, one request per
//! connection, so that each one is seen and logged: method, path with query,
//! content type, User-Agent, the impersonation headers, the offered websocket subprotocols and the
//! status the apiserver answered.
//!
//! Options: [`Options::ws_protocols`] replaces the `Sec-WebSocket-Protocol`
//! offer of an upgrade (kube offers `v5.channel.k8s.io, v4.channel.k8s.io`;
//! offering only v4 makes the real apiserver speak v4, as one before
//! Kubernetes 1.30 would), and [`Options::before`] runs a hook before a
//! request is forwarded (to let a real second client write at that moment).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use super::ControlPlane;

/// One request as the proxy saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub content_type: String,
    /// The `Sec-WebSocket-Protocol` the client offered (before any rewrite).
    pub ws_offered: String,
    /// The `Sec-WebSocket-Protocol` the apiserver chose.
    pub ws_chosen: String,
    /// The apiserver's status code (0 if none arrived).
    pub status: u16,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// `Impersonate-User` (`--as`), empty if none.
    pub impersonate_user: String,
    /// Every `Impersonate-Group` (`--as-group`), in order.
    pub impersonate_groups: Vec<String>,
}

impl Request {
    /// `METHOD /path` without the query.
    pub fn line(&self) -> String {
        let path = self.target.split('?').next().unwrap_or_default();
        format!("{} {path}", self.method)
    }

    /// The query parameter `key`, if present.
    pub fn query(&self, key: &str) -> Option<String> {
        let (_, q) = self.target.split_once('?')?;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == key).then(|| v.to_string())
        })
    }
}

type Hook = Arc<dyn Fn(&Request) + Send + Sync>;

#[derive(Clone, Default)]
pub struct Options {
    /// Replace the offered websocket subprotocols with this value.
    pub ws_protocols: Option<String>,
    /// Called (on a blocking thread) before each request is forwarded.
    pub before: Option<Hook>,
}

/// A running proxy; stops on drop.
pub struct Proxy {
    pub port: u16,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    pub fn start(plane: &ControlPlane, options: Options) -> Proxy {
        let tls = connector(plane);
        let upstream = plane.apiserver_addr();
        let log = Arc::new(Mutex::new(Vec::new()));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("addr").port();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = log.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("listener");
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((conn, _)) = accepted else { continue };
                            let (tls, upstream, log, options) =
                                (tls.clone(), upstream.clone(), shared.clone(), options.clone());
                            tokio::spawn(async move {
                                let _ = tokio::time::timeout(
                                    Duration::from_secs(300),
                                    serve(conn, tls, upstream, log, options),
                                )
                                .await;
                            });
                        }
                    }
                }
            });
        });
        Proxy {
            port,
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The requests so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn connector(plane: &ControlPlane) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(plane.ca_pem()).expect("read ca.crt") {
        roots.add(cert.expect("ca cert")).expect("add ca");
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(plane.admin_cert_pem())
        .expect("read admin.crt")
        .map(|c| c.expect("admin cert"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(plane.admin_key_pem()).expect("read admin.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .expect("client cert");
    TlsConnector::from(Arc::new(config))
}

/// Reads up to the end of the head (`\r\n\r\n`); returns the head and what
/// came after it.
async fn read_head<R: AsyncReadExt + Unpin>(r: &mut R) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((buf, rest));
        }
        if buf.len() > 256 * 1024 {
            return None;
        }
        let n = r.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
    lines.iter().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn serve(
    mut client: TcpStream,
    tls: TlsConnector,
    upstream: String,
    log: Arc<Mutex<Vec<Request>>>,
    options: Options,
) {
    let Some((head, rest)) = read_head(&mut client).await else {
        return;
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let lines: Vec<String> = text
        .trim_end_matches("\r\n")
        .split("\r\n")
        .map(str::to_string)
        .collect();
    let mut first = lines[0].split(' ');
    let mut req = Request {
        method: first.next().unwrap_or_default().to_string(),
        target: first.next().unwrap_or_default().to_string(),
        content_type: header(&lines, "content-type")
            .unwrap_or_default()
            .to_string(),
        ws_offered: header(&lines, "sec-websocket-protocol")
            .unwrap_or_default()
            .to_string(),
        user_agent: header(&lines, "user-agent").unwrap_or_default().to_string(),
        impersonate_user: header(&lines, "impersonate-user")
            .unwrap_or_default()
            .to_string(),
        impersonate_groups: lines
            .iter()
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("impersonate-group")
                    .then(|| v.trim().to_string())
            })
            .collect(),
        ..Default::default()
    };
    let upgrade = header(&lines, "upgrade").is_some();
    if let Some(hook) = &options.before {
        let (hook, seen) = (hook.clone(), req.clone());
        let _ = tokio::task::spawn_blocking(move || hook(&seen)).await;
    }
    let index = {
        let mut l = log.lock().expect("log");
        l.push(req.clone());
        l.len() - 1
    };
    // The forwarded head.
    let mut out = format!("{}\r\n", lines[0]);
    for l in lines.iter().skip(1) {
        let name = l
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "host" => out.push_str(&format!("Host: {upstream}\r\n")),
            "connection" if !upgrade => {}
            "keep-alive" | "proxy-connection" => {}
            "sec-websocket-protocol" if options.ws_protocols.is_some() => {}
            _ => {
                out.push_str(l);
                out.push_str("\r\n");
            }
        }
    }
    if !upgrade {
        out.push_str("Connection: close\r\n");
    }
    if let (true, Some(p)) = (upgrade, &options.ws_protocols) {
        out.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    out.push_str("\r\n");

    let Ok(tcp) = TcpStream::connect(&upstream).await else {
        return;
    };
    let Ok(name) = ServerName::try_from("127.0.0.1") else {
        return;
    };
    let Ok(mut server) = tls.connect(name.to_owned(), tcp).await else {
        return;
    };
    if server.write_all(out.as_bytes()).await.is_err() || server.write_all(&rest).await.is_err() {
        return;
    }
    let (mut sr, mut sw) = tokio::io::split(server);
    let (mut cr, mut cw) = client.split();
    let to_server = async {
        let _ = tokio::io::copy(&mut cr, &mut sw).await;
        // Keep the server side open: a websocket client does not half-close.
        std::future::pending::<()>().await;
    };
    let to_client = async {
        let mut buf = vec![0u8; 64 * 1024];
        let mut head: Option<Vec<u8>> = Some(Vec::new());
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(h) = head.as_mut() {
                h.extend_from_slice(&buf[..n]);
                if let Some(end) = h.windows(4).position(|w| w == b"\r\n\r\n") {
                    let text = String::from_utf8_lossy(&h[..end]).into_owned();
                    let lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
                    let status = lines[0]
                        .split(' ')
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    let chosen = header(&lines, "sec-websocket-protocol")
                        .unwrap_or_default()
                        .to_string();
                    if let Ok(mut l) = log.lock() {
                        l[index].status = status;
                        l[index].ws_chosen = chosen;
                    }
                    head = None;
                }
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = cw.shutdown().await;
    };
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
    }
    req.status = 0;
}
