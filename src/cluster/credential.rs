//! The kubeconfig user's exec credential plugin (`users[].user.exec`, as
//! `kubelogin`, `aws eks get-token` or `gke-gcloud-auth-plugin`), run once
//! per command.
//!
//! kube's own client runs the plugin each time it builds a part of the
//! connection (three times per command). Here [`take`] removes it from the
//! config before the client is built, runs it once, and keeps what it
//! printed for the whole command:
//!
//! * a token goes into every request's `Authorization` header ([`Plugin::header`]);
//!   when the plugin gave an `expirationTimestamp`, the plugin runs again
//!   once the token is within [`REFRESH_BEFORE`] of it;
//! * a client certificate and key become the user's
//!   `client-certificate-data`/`client-key-data` (TLS is set up once; a
//!   command outliving that certificate needs to be started again).
//!
//! As kubectl does, the plugin gets `KUBERNETES_EXEC_INFO` (with the cluster
//! when `provideClusterInfo` is set), inherits stderr, and gets stdin only
//! when it may be interactive and stdin is a terminal. It must finish
//! within [`PLUGIN_TIMEOUT`].

use std::io::{IsTerminal, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use k8s_openapi::jiff::Timestamp;
use kube::config::{ExecConfig, ExecInteractiveMode};
use serde_json::{json, Value};

use super::errors::{shown, Error};

/// How long the plugin may take (a browser login included).
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(300);
/// A token this close to its expiry is fetched again.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(10);
/// The most of the plugin's stdout that is read.
const MAX_OUTPUT: u64 = 1 << 20;

/// A token from the plugin and what is needed to get a new one.
pub struct Plugin {
    exec: ExecConfig,
    /// The token and when it expires (`None`: for the whole command).
    token: Mutex<(String, Option<Timestamp>)>,
}

/// What one run of the plugin gave.
enum Given {
    Token(String, Option<Timestamp>),
    Certificate { cert: String, key: String },
}

/// Takes the exec plugin out of `config` (so that kube never runs it) and
/// runs it once. A token is returned as a [`Plugin`] to put into each
/// request; a certificate is put into the config.
pub fn take(config: &mut kube::Config, server: &str) -> Result<Option<Arc<Plugin>>, Error> {
    let Some(exec) = config.auth_info.exec.take() else {
        return Ok(None);
    };
    let has_other = config.auth_info.token.is_some() || config.auth_info.token_file.is_some();
    if has_other {
        // kubectl prefers a static token over the plugin.
        return Ok(None);
    }
    match run(&exec, server)? {
        Given::Token(token, expiry) => Ok(Some(Arc::new(Plugin {
            exec,
            token: Mutex::new((token, expiry)),
        }))),
        Given::Certificate { cert, key } => {
            let b64 = base64::engine::general_purpose::STANDARD;
            config.auth_info.client_certificate = None;
            config.auth_info.client_key = None;
            config.auth_info.client_certificate_data = Some(b64.encode(cert));
            config.auth_info.client_key_data = Some(b64.encode(key).into());
            Ok(None)
        }
    }
}

impl Plugin {
    /// The `Authorization` header value: the token, fetched again first
    /// when it is about to expire.
    pub async fn header(self: &Arc<Self>, server: &str) -> Result<::http::HeaderValue, Error> {
        let stale = {
            let guard = self.token.lock().unwrap_or_else(|e| e.into_inner());
            guard.1.is_some_and(|at| {
                Timestamp::now()
                    .checked_add(REFRESH_BEFORE)
                    .map(|soon| soon >= at)
                    .unwrap_or(true)
            })
        };
        if stale {
            let me = self.clone();
            let server = server.to_string();
            let given = tokio::task::spawn_blocking(move || run(&me.exec, &server))
                .await
                .map_err(|e| Error::Failed(format!("credential plugin: {e}")))??;
            match given {
                Given::Token(t, at) => {
                    *self.token.lock().unwrap_or_else(|e| e.into_inner()) = (t, at);
                }
                Given::Certificate { .. } => {
                    return Err(Error::Failed(format!(
                        "the credential plugin {} gave a client certificate where it gave a token before; run the command again",
                        command_name(&self.exec)
                    )))
                }
            }
        }
        let token = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone();
        let mut value = ::http::HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
            Error::Failed(format!(
                "the credential plugin {} printed a token that is not a valid header value",
                command_name(&self.exec)
            ))
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

fn command_name(exec: &ExecConfig) -> String {
    shown(exec.command.as_deref().unwrap_or("(none)"))
}

/// Runs the plugin and reads its `ExecCredential`.
fn run(exec: &ExecConfig, server: &str) -> Result<Given, Error> {
    let name = command_name(exec);
    let Some(program) = exec.command.as_deref().filter(|c| !c.is_empty()) else {
        return Err(Error::bad(
            "the kubeconfig user's exec plugin names no command: fix users[].user.exec.command",
        ));
    };
    let hint = exec
        .install_hint
        .as_deref()
        .map(|h| format!(" ({})", shown(h.trim())))
        .unwrap_or_default();
    let terminal = std::io::stdin().is_terminal();
    let interactive = match exec.interactive_mode {
        Some(ExecInteractiveMode::Never) => false,
        Some(ExecInteractiveMode::Always) => {
            if !terminal {
                return Err(Error::Failed(format!(
                    "the credential plugin {name} needs a terminal (interactiveMode: Always) and stdin is not one; log in on a terminal first"
                )));
            }
            true
        }
        Some(ExecInteractiveMode::IfAvailable) | None => terminal,
    };
    let api_version = exec
        .api_version
        .clone()
        .unwrap_or_else(|| "client.authentication.k8s.io/v1".into());
    let mut spec = json!({ "interactive": interactive });
    if exec.provide_cluster_info {
        if let Some(cluster) = &exec.cluster {
            spec["cluster"] = serde_json::to_value(cluster).unwrap_or(Value::Null);
        } else {
            spec["cluster"] = json!({ "server": server });
        }
    }
    let info = json!({ "apiVersion": api_version, "kind": "ExecCredential", "spec": spec });
    let mut cmd = Command::new(program);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(k), Some(v)) = (pair.get("name"), pair.get("value")) {
            cmd.env(k, v);
        }
    }
    for k in exec.drop_env.iter().flatten() {
        cmd.env_remove(k);
    }
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(if interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Failed(format!(
                "the kubeconfig user's credential plugin {name} was not found{hint}: install it or fix users[].user.exec.command"
            ))
        } else {
            Error::Failed(format!("cannot run the credential plugin {name}: {e}"))
        }
    })?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(MAX_OUTPUT).read_to_end(&mut out);
        }
        out
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= PLUGIN_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Failed(format!(
                    "the credential plugin {name} did not finish within {}; check it on its own",
                    humantime::format_duration(PLUGIN_TIMEOUT)
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(Error::Failed(format!("credential plugin {name}: {e}"))),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::Failed(format!(
            "the credential plugin {name} failed ({status}){hint}; run it on its own to see why"
        )));
    }
    parse(&out, &name, &api_version)
}

/// Reads the `ExecCredential` the plugin printed.
fn parse(out: &[u8], name: &str, api_version: &str) -> Result<Given, Error> {
    let bad = |why: &str| {
        Error::Failed(format!(
            "the credential plugin {name} printed {why}; it must print an ExecCredential ({api_version})"
        ))
    };
    let doc: Value = serde_json::from_slice(out).map_err(|_| bad("no JSON"))?;
    if doc.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return Err(bad(&format!(
            "apiVersion {}",
            shown(
                doc.get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("(none)")
            )
        )));
    }
    let status = doc.get("status").ok_or_else(|| bad("no status"))?;
    let text = |k: &str| status.get(k).and_then(Value::as_str).map(str::to_string);
    let expiry = match text("expirationTimestamp") {
        Some(t) => Some(
            t.parse::<Timestamp>()
                .map_err(|_| bad(&format!("expirationTimestamp {} (not RFC 3339)", shown(&t))))?,
        ),
        None => None,
    };
    if let (Some(cert), Some(key)) = (text("clientCertificateData"), text("clientKeyData")) {
        return Ok(Given::Certificate { cert, key });
    }
    match text("token").filter(|t| !t.is_empty()) {
        Some(t) => Ok(Given::Token(t, expiry)),
        None => Err(bad("neither a token nor a client certificate and key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tokens_certificates_and_expiry() {
        let v1 = "client.authentication.k8s.io/v1";
        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2030-01-02T03:04:05Z"}}"#;
        match parse(out, "p", v1).unwrap() {
            Given::Token(t, Some(at)) => {
                assert_eq!(t, "t");
                assert_eq!(at.to_string(), "2030-01-02T03:04:05Z");
            }
            _ => panic!("a token with an expiry"),
        }
        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"C","clientKeyData":"K"}}"#;
        assert!(matches!(
            parse(out, "p", v1).unwrap(),
            Given::Certificate { .. }
        ));
        let err = parse(b"{}", "p", v1).err().unwrap().to_string();
        assert!(err.contains("apiVersion (none)"), "{err}");
        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1","status":{}}"#;
        assert!(parse(out, "p", v1).is_err());
    }
}
