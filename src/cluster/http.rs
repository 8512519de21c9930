//! The HTTP side of the client: what every request to the API server gets,
//! as one tower layer over kube's stack ([`client`]).
//!
//! * `User-Agent: kubectl-warpdrive/vVERSION (OS/ARCH)` ([`user_agent`]).
//! * The exec credential plugin's token ([`super::credential`]), on every attempt.
//! * `--request-timeout` bounds each request **as a whole**: from sending it
//!   until the last byte of the answer, retries included
//!   ([`TimedOut`]); a server that trickles bytes cannot stretch it.
//! * 429 and 503 with `Retry-After: N` are retried up to [`MAX_RETRIES`]
//!   times, waiting at most [`MAX_RETRY_AFTER`], and never when the wait
//!   would go past the request's deadline: then the 429 is the answer.
//! * An answer may be at most [`MAX_RESPONSE`] bytes ([`TooLarge`]).
//! * `-v=6` and above: one line per request on stderr, `GET URL 200 OK in 5 milliseconds`
//!   (the status line arrives before the body), and one per retry.
//!
//! An upgraded connection (exec) is bounded only until the `101` arrives.

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use kube::client::{Body, ClientBuilder, DynBody};
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Service, ServiceExt as _};

use super::credential::Plugin;
use super::errors::{TimedOut, TooLarge, MAX_RESPONSE};

/// The longest wait a `Retry-After` gets.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Retries of one request after 429/503 with `Retry-After`.
pub const MAX_RETRIES: u32 = 5;
/// The connect timeout when `--request-timeout` is 0.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// `-v`: set once per command by `connect`.
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// The `-v` level of this command.
pub fn verbosity() -> u8 {
    VERBOSITY.load(Ordering::Relaxed)
}

/// Go's name for the CPU (`amd64`, `arm64`), as kubectl's User-Agent has it.
fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// `kubectl-warpdrive/v0.1.0 (linux/amd64)`.
pub fn user_agent() -> String {
    format!(
        "kubectl-warpdrive/v{} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        arch()
    )
}

/// kube's client with this module's layer on top.
pub fn client(
    mut config: kube::Config,
    timeout: Option<Duration>,
    credential: Option<Arc<Plugin>>,
) -> Result<kube::Client, kube::Error> {
    // Retries are done here, bounded; kube's would wait out any Retry-After.
    config.default_retry = false;
    // The whole-request deadline replaces the per-read timeout, which would
    // also cut an idle exec session.
    config.read_timeout = None;
    config.connect_timeout = Some(timeout.unwrap_or(CONNECT_TIMEOUT).min(CONNECT_TIMEOUT));
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let ua = ::http::HeaderValue::try_from(user_agent())
        .unwrap_or(::http::HeaderValue::from_static("kubectl-warpdrive"));
    let builder = ClientBuilder::try_from(config)?;
    let layer = Layer(Arc::new(Shared {
        timeout,
        credential,
        ua,
        server,
    }));
    Ok(builder.with_layer(&layer).build())
}

struct Shared {
    timeout: Option<Duration>,
    credential: Option<Arc<Plugin>>,
    ua: ::http::HeaderValue,
    server: String,
}

struct Layer(Arc<Shared>);

impl<S> tower::Layer<S> for Layer {
    type Service = Warp<S>;
    fn layer(&self, inner: S) -> Warp<S> {
        Warp {
            inner: Arc::new(tokio::sync::Mutex::new(inner)),
            shared: self.0.clone(),
        }
    }
}

/// The service of [`Layer`].
pub struct Warp<S> {
    inner: Arc<tokio::sync::Mutex<S>>,
    shared: Arc<Shared>,
}

impl<S> Clone for Warp<S> {
    fn clone(&self) -> Self {
        Warp {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

type Inner = ::http::Response<Box<DynBody>>;

impl<S> Service<::http::Request<Body>> for Warp<S>
where
    S: Service<::http::Request<Body>, Response = Inner, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = ::http::Response<Bounded>;
    type Error = BoxError;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ::http::Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let shared = self.shared.clone();
        Box::pin(send(inner, shared, req))
    }
}

/// A copy of a request whose body is in memory (all of this client's are).
fn copy(req: &::http::Request<Body>) -> Option<::http::Request<Body>> {
    let body = req.body().try_clone()?;
    let mut out = ::http::Request::new(body);
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.version_mut() = req.version();
    *out.headers_mut() = req.headers().clone();
    *out.extensions_mut() = req.extensions().clone();
    Some(out)
}

/// `Retry-After` in seconds (the only form the API server sends).
fn retry_after(res: &Inner) -> Option<Duration> {
    let code = res.status().as_u16();
    if code != 429 && code != 503 {
        return None;
    }
    res.headers()
        .get(::http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

async fn send<S>(
    inner: Arc<tokio::sync::Mutex<S>>,
    shared: Arc<Shared>,
    mut req: ::http::Request<Body>,
) -> Result<::http::Response<Bounded>, BoxError>
where
    S: Service<::http::Request<Body>, Response = Inner, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
{
    let start = Instant::now();
    let deadline = shared.timeout.map(|t| start + t);
    let verbose = verbosity() >= 6;
    let url = format!("{}{}", shared.server, req.uri());
    let method = req.method().clone();
    req.headers_mut()
        .insert(::http::header::USER_AGENT, shared.ua.clone());
    let mut retries = 0;
    loop {
        let again = copy(&req);
        if let Some(plugin) = &shared.credential {
            let value = plugin
                .header(&shared.server)
                .await
                .map_err(BoxError::from)?;
            req.headers_mut()
                .insert(::http::header::AUTHORIZATION, value);
        }
        let sent = Instant::now();
        let future = {
            let mut svc = inner.lock().await;
            svc.ready().await?;
            svc.call(req)
        };
        let res = match deadline {
            Some(at) => match tokio::time::timeout_at(at, future).await {
                Ok(r) => r?,
                Err(_) => {
                    if verbose {
                        eprintln!(
                            "{method} {url} timed out after {} milliseconds",
                            sent.elapsed().as_millis()
                        );
                    }
                    return Err(Box::new(TimedOut(shared.timeout.unwrap_or_default())));
                }
            },
            None => future.await?,
        };
        if verbose {
            eprintln!(
                "{method} {url} {} in {} milliseconds",
                res.status(),
                sent.elapsed().as_millis()
            );
        }
        if let (Some(wait), Some(next)) = (retry_after(&res), again) {
            let wait_for = wait.min(MAX_RETRY_AFTER);
            let in_time = deadline.is_none_or(|at| Instant::now() + wait_for < at);
            if retries < MAX_RETRIES && in_time {
                retries += 1;
                if verbose {
                    eprintln!(
                        "{method} {url}: Retry-After {}s, retrying in {}s ({retries} of {MAX_RETRIES})",
                        wait.as_secs(),
                        wait_for.as_secs()
                    );
                }
                tokio::time::sleep(wait_for).await;
                req = next;
                continue;
            }
        }
        let timeout = shared.timeout.unwrap_or_default();
        return Ok(res.map(|body| Bounded {
            inner: body,
            read: 0,
            deadline: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
            timeout,
        }));
    }
}

/// An answer's body, cut at the deadline and at [`MAX_RESPONSE`].
pub struct Bounded {
    inner: Box<DynBody>,
    read: u64,
    deadline: Option<Pin<Box<Sleep>>>,
    timeout: Duration,
}

impl HttpBody for Bounded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let timeout = self.timeout;
        if let Some(sleep) = self.deadline.as_mut() {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(Err(Box::new(TimedOut(timeout)))));
            }
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.read += data.len() as u64;
                if self.read > MAX_RESPONSE {
                    return Poll::Ready(Some(Err(Box::new(TooLarge))));
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

use std::future::Future as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_version_os_and_arch() {
        let ua = user_agent();
        assert!(
            ua.starts_with(&format!(
                "kubectl-warpdrive/v{} (",
                env!("CARGO_PKG_VERSION")
            )),
            "{ua}"
        );
        assert!(ua.ends_with(')') && ua.contains('/'), "{ua}");
    }
}
