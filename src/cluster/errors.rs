//! Errors of the cluster commands, each one line that names the object and
//! the way out. [`Error::BadInput`] exits 2 (nothing was changed); the rest 1.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong flags, values, target or kubeconfig. Exit 2, nothing changed.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    /// The API server refused the request, or could not be reached. Exit 1.
    #[error("{0}")]
    Failed(String),
    /// The rollout failed or did not finish in time. Exit 1.
    #[error("{0}")]
    Rollout(String),
}

impl Error {
    pub fn bad(msg: impl Into<String>) -> Self {
        Error::BadInput(crate::error::BadInput::new(msg))
    }
}

/// The most bytes one answer of the API server may have (see [`super::http`]).
pub const MAX_RESPONSE: u64 = 64 << 20;

/// The request (or its answer) took longer than `--request-timeout`.
#[derive(Debug, thiserror::Error)]
#[error("no complete answer within {}", humantime::format_duration(*.0))]
pub struct TimedOut(pub std::time::Duration);

/// The answer was larger than [`MAX_RESPONSE`].
#[derive(Debug, thiserror::Error)]
#[error("the answer is larger than {} MiB", MAX_RESPONSE >> 20)]
pub struct TooLarge;

/// The longest piece of server text (a message, a name) shown in a line.
pub const MAX_TEXT: usize = 300;

/// Text from the API server (or a file, or a plugin) for the terminal:
/// control characters escaped (`\u{1b}`), so that none can move the
/// cursor or clear the screen, and cut at [`MAX_TEXT`] characters.
pub fn shown(text: &str) -> String {
    shown_at(text, MAX_TEXT)
}

/// [`shown`], cut at `max` characters (marked with `…`).
pub fn shown_at(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// What a request was doing, to turn an API error into a useful sentence.
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    /// The RBAC verb: get, list, patch, update.
    pub verb: &'a str,
    /// `deployments.apps`, `deploymentconfigs.apps.openshift.io`, `pods`…
    pub resource: &'a str,
    /// `deployment`, `deploymentconfig`, `pod`…
    pub kind: &'a str,
    /// The object name (empty for lists).
    pub name: &'a str,
    pub namespace: &'a str,
    /// The API server URL.
    pub server: &'a str,
}

/// A kube error as one line of text, for messages built elsewhere (the
/// exec of a sync): an API error is its message and code, never kube's
/// `Status { … }` dump; server text escaped and cut.
pub fn api_text(err: &kube::Error) -> String {
    if let Some(e) = bounded_text(err) {
        return e;
    }
    match err {
        kube::Error::Api(s) => format!(
            "{} ({} {})",
            shown(s.message.trim()),
            s.code,
            shown(&s.reason)
        ),
        other => shown(&other.to_string()),
    }
}

fn bounded_text(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(t) = find::<TimedOut>(err) {
        return Some(format!(
            "no complete answer within {} (--request-timeout)",
            humantime::format_duration(t.0)
        ));
    }
    find::<TooLarge>(err).map(|e| e.to_string())
}

/// The HTTP status of an API error, if the server answered.
pub fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// The first error of `err`'s chain that is a `T`.
fn find<'e, T: std::error::Error + 'static>(
    err: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    let mut cur = Some(err);
    for _ in 0..16 {
        let e = cur?;
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// A bound of [`super::http`] that stopped the request, as a sentence.
fn bounded(err: &(dyn std::error::Error + 'static), op: Op<'_>) -> Option<Error> {
    if let Some(t) = find::<TimedOut>(err) {
        return Some(Error::Failed(format!(
            "{} {} in namespace {}: the API server at {} did not answer in time (no complete answer within {}, --request-timeout); raise --request-timeout or check the cluster",
            op.verb,
            object(op),
            op.namespace,
            op.server,
            humantime::format_duration(t.0)
        )));
    }
    if find::<TooLarge>(err).is_some() {
        return Some(Error::Failed(format!(
            "{} {} in namespace {}: the API server at {} sent an answer larger than {} MiB; stopped reading it (is --server an API server?)",
            op.verb,
            object(op),
            op.namespace,
            op.server,
            MAX_RESPONSE >> 20
        )));
    }
    None
}

/// Turns a kube error into a one-line [`Error`].
pub fn describe(err: kube::Error, op: Op<'_>) -> Error {
    if let Some(e) = bounded(&err, op) {
        return e;
    }
    let status = match err {
        kube::Error::Api(status) => status,
        kube::Error::HyperError(e) => return unreachable(op.server, &e),
        kube::Error::Service(e) => return unreachable(op.server, e.as_ref()),
        other => {
            return Error::Failed(format!(
                "{} {} in namespace {} failed: {}",
                op.verb,
                object(op),
                op.namespace,
                shown(&other.to_string())
            ))
        }
    };
    let message = shown(status.message.trim());
    match status.code {
        429 => Error::Failed(format!(
            "{} {} in namespace {}: the API server at {} is too busy (429 Too Many Requests: {message}) and asked to wait longer than the request may take; try again later or raise --request-timeout",
            op.verb,
            object(op),
            op.namespace,
            op.server
        )),
        403 => Error::Failed(format!(
            "cannot {} {} in namespace {}: {message}; ask a cluster admin for this permission or use another --context/--as",
            op.verb,
            op.resource,
            op.namespace
        )),
        404 => Error::bad(format!(
            "{} {:?} not found in namespace {}: check the name with `kubectl get {} -n {}`, or pass -n/--context",
            op.kind,
            op.name,
            op.namespace,
            op.resource,
            op.namespace
        )),
        422 => Error::bad(format!(
            "the API server rejected the change to {} in namespace {}: {message}",
            object(op),
            op.namespace
        )),
        401 => Error::Failed(format!(
            "the API server at {} did not accept your credentials ({message}): log in again (oc login) or fix the user in your kubeconfig",
            op.server
        )),
        code => Error::Failed(format!(
            "{} {} in namespace {} failed: {code} {}: {message}",
            op.verb,
            object(op),
            op.namespace,
            shown(&status.reason)
        )),
    }
}

fn object(op: Op<'_>) -> String {
    if op.name.is_empty() {
        op.resource.to_string()
    } else {
        format!("{}/{}", op.kind, shown_at(op.name, 253))
    }
}

fn unreachable(server: &str, err: &(dyn std::error::Error + 'static)) -> Error {
    let mut cause = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let cause = shown(&cause);
    if cause.contains("certificate") {
        return Error::Failed(format!(
            "the Kubernetes API server at {server} presented a certificate that is not trusted ({cause}); check certificate-authority/certificate-authority-data for this cluster in your kubeconfig"
        ));
    }
    if cause.contains("timed out") || cause.contains("elapsed") {
        return Error::Failed(format!(
            "the Kubernetes API server at {server} did not answer in time ({cause}); raise --request-timeout or check the cluster"
        ));
    }
    Error::Failed(format!(
        "cannot reach the Kubernetes API server at {server}: {cause}; check that the cluster is running and that --kubeconfig/--context point at it"
    ))
}
