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

/// The HTTP status of an API error, if the server answered.
pub fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Turns a kube error into a one-line [`Error`].
pub fn describe(err: kube::Error, op: Op<'_>) -> Error {
    let status = match err {
        kube::Error::Api(status) => status,
        kube::Error::HyperError(e) => return unreachable(op.server, &e),
        kube::Error::Service(e) => return unreachable(op.server, e.as_ref()),
        other => {
            return Error::Failed(format!(
                "{} {} in namespace {} failed: {other}",
                op.verb,
                object(op),
                op.namespace
            ))
        }
    };
    let message = status.message.trim().to_string();
    match status.code {
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
            status.reason
        )),
    }
}

fn object(op: Op<'_>) -> String {
    if op.name.is_empty() {
        op.resource.to_string()
    } else {
        format!("{}/{}", op.kind, op.name)
    }
}

fn unreachable(server: &str, err: &(dyn std::error::Error + 'static)) -> Error {
    let mut cause = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
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
