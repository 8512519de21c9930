//! kubectl's connection and identity flags on the real control plane: a
//! ServiceAccount token with `--server`/`--token` and
//! `--certificate-authority` (no kubeconfig), `-v=6`, `--user` that does not
//! exist, a `KUBECONFIG` list with a missing file, an exec credential plugin
//! (run once), and the User-Agent the apiserver sees.

use std::path::Path;
use std::time::Duration;

use super::{container, deployment, proxy, Ns};
use crate::support::{self, Outcome, RunExt};

/// A ServiceAccount `ci` allowed to edit the namespace, and a token for it
/// made by `kubectl create token`.
fn ci_token(ns: &Ns) -> String {
    ns.kubectl(&["create", "serviceaccount", "ci"]).success();
    ns.kubectl(&[
        "create",
        "rolebinding",
        "ci-edit",
        "--clusterrole=edit",
        &format!("--serviceaccount={}:ci", ns.name),
    ])
    .success();
    ns.kubectl(&["create", "token", "ci", "--duration=1h"])
        .success()
        .stdout()
        .trim()
        .to_string()
}

fn server(ns: &Ns) -> String {
    format!("https://{}", ns.plane.apiserver_addr())
}

/// The plugin with no kubeconfig at all: HOME empty, no KUBECONFIG.
fn bare(home: &Path, args: &[&str]) -> Outcome {
    let mut cmd = support::warpdrive();
    cmd.env("HOME", home)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(args);
    cmd.run_within(Duration::from_secs(150))
}

fn shop(ns: &Ns) {
    ns.apply(&[deployment(
        "shop",
        1,
        serde_json::json!([container("web", &[])]),
    )]);
    ns.rolled_out("deploy/shop");
}

#[test]
fn a_service_account_token_and_server_need_no_kubeconfig() {
    let Some(ns) = Ns::new("conn-token") else {
        return;
    };
    shop(&ns);
    let token = ci_token(&ns);
    let home = tempfile::tempdir().unwrap();
    let ca = ns.plane.ca_pem();
    let url = server(&ns);
    let out = bare(
        home.path(),
        &[
            "tune",
            "deploy/shop",
            "--threads",
            "4",
            "-n",
            &ns.name,
            "--server",
            &url,
            "--token",
            &token,
            "--certificate-authority",
            ca.to_str().unwrap(),
        ],
    )
    .success()
    .stdout_has("MOD_WSGI_THREADS  (unset) → 4")
    .stdout_has("deployment/shop successfully rolled out");
    eprintln!("--server/--token: {}", out.stdout().trim());
    assert_eq!(ns.env("deploy/shop", 0), ["MOD_WSGI_THREADS=4"]);
    // The write is the ServiceAccount's, as the apiserver recorded it.
    let managers = ns
        .kubectl(&["get", "deploy/shop", "--show-managed-fields", "-o", "json"])
        .success()
        .json();
    assert!(managers["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["manager"] == "kubectl-warpdrive" && f["operation"] == "Update"));
    // Without the CA the certificate is not trusted; with
    // --insecure-skip-tls-verify it is not checked.
    bare(
        home.path(),
        &[
            "tune",
            "deploy/shop",
            "--list",
            "-n",
            &ns.name,
            "--server",
            &url,
            "--token",
            &token,
        ],
    )
    .failure()
    .stderr_has(&url)
    .stderr_has("presented a certificate that is not trusted");
    bare(
        home.path(),
        &[
            "tune",
            "deploy/shop",
            "--list",
            "-n",
            &ns.name,
            "--server",
            &url,
            "--token",
            &token,
            "--insecure-skip-tls-verify",
        ],
    )
    .success()
    .stdout_has("MOD_WSGI_THREADS=4");
    // The serving certificate names 127.0.0.1 and localhost: another name fails.
    bare(
        home.path(),
        &[
            "tune",
            "deploy/shop",
            "--list",
            "-n",
            &ns.name,
            "--server",
            &url,
            "--token",
            &token,
            "--certificate-authority",
            ca.to_str().unwrap(),
            "--tls-server-name",
            "api.example.com",
        ],
    )
    .failure()
    .stderr_has("not trusted");
    // A token the apiserver does not know.
    bare(
        home.path(),
        &[
            "tune",
            "deploy/shop",
            "--list",
            "-n",
            &ns.name,
            "--server",
            &url,
            "--token",
            "not-a-token",
            "--certificate-authority",
            ca.to_str().unwrap(),
        ],
    )
    .failure()
    .stderr_has("did not accept your credentials");
    // The admin's client certificate through the flags.
    bare(
        home.path(),
        &[
            "tune",
            "deploy/shop",
            "--list",
            "-n",
            &ns.name,
            "--server",
            &url,
            "--certificate-authority",
            ca.to_str().unwrap(),
            "--client-certificate",
            ns.plane.admin_cert_pem().to_str().unwrap(),
            "--client-key",
            ns.plane.admin_key_pem().to_str().unwrap(),
        ],
    )
    .success()
    .stdout_has("MOD_WSGI_THREADS=4");
}

#[test]
fn verbosity_users_and_kubeconfig_lists() {
    let Some(ns) = Ns::new("conn-flags") else {
        return;
    };
    shop(&ns);
    let url = server(&ns);
    let out = ns
        .run(&["tune", "deploy/shop", "--threads", "4", "--no-wait", "-v=6"])
        .success();
    let out = out.stderr_matches(&format!(
        r"(?m)^GET {url}/apis/apps/v1/namespaces/{}/deployments/shop 200 OK in \d+ milliseconds$",
        ns.name
    ))
    .stderr_matches(&format!(
        r"(?m)^PATCH {url}/apis/apps/v1/namespaces/{}/deployments/shop\?fieldManager=kubectl-warpdrive 200 OK in \d+ milliseconds$",
        ns.name
    ));
    eprintln!("-v=6:\n{}", out.stderr().trim());
    // kubectl stops on a user that does not exist; so does the plugin.
    let kubectl = ns.kubectl(&["get", "deploy", "--user", "nope"]);
    assert_ne!(kubectl.code(), Some(0));
    ns.run(&["tune", "deploy/shop", "--list", "--user", "nope"])
        .bad_input()
        .stderr_has("user \"nope\" does not exist");
    // A missing file in KUBECONFIG is skipped, by kubectl and the plugin.
    let list = format!("/nonexistent/kubeconfig:{}", ns.plane.kubeconfig.display());
    ns.kubectl_cmd()
        .env("KUBECONFIG", &list)
        .args(["get", "deploy/shop", "-o", "name"])
        .run()
        .success();
    let mut cmd = support::warpdrive();
    cmd.env("KUBECONFIG", &list)
        .args(["tune", "deploy/shop", "--list", "-n", &ns.name]);
    cmd.run().success().stdout_has("MOD_WSGI_THREADS=4");
}

#[test]
fn an_exec_credential_plugin_runs_once_and_the_user_agent_is_sent() {
    let Some(ns) = Ns::new("conn-exec") else {
        return;
    };
    shop(&ns);
    let token = ci_token(&ns);
    let count = ns.scratch("plugin.count");
    let script = ns.scratch("plugin.sh");
    support::write(
        &script,
        &format!(
            "#!/bin/sh\necho run >> '{}'\nprintf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}}}'\n",
            count.display()
        ),
    );
    support::make_executable(&script);
    let kc = ns.scratch("kubeconfig-exec");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {{cluster: real, user: plugin, namespace: {}}}\nclusters:\n- name: real\n  cluster: {{server: '{}', certificate-authority: '{}'}}\nusers:\n- name: plugin\n  user:\n    exec: {{apiVersion: client.authentication.k8s.io/v1, command: '{}', interactiveMode: Never}}\n",
            ns.name,
            server(&ns),
            ns.plane.ca_pem().display(),
            script.display()
        ),
    )
    .unwrap();
    let out = support::warpdrive()
        .args([
            "tune",
            "deploy/shop",
            "--threads",
            "6",
            "-v=6",
            "--kubeconfig",
        ])
        .arg(&kc)
        .run_within(Duration::from_secs(150))
        .success()
        .stdout_has("successfully rolled out");
    let requests = out.stderr().matches(" milliseconds").count();
    let runs = std::fs::read_to_string(&count)
        .unwrap_or_default()
        .lines()
        .count();
    eprintln!("exec plugin: {runs} run(s) for {requests} requests");
    assert!(requests >= 3, "{}", out.stderr());
    assert_eq!(runs, 1);
    // What the apiserver is sent, through the logging proxy.
    ns.rolled_out("deploy/shop");
    let proxy = proxy::Proxy::start(ns.plane, proxy::Options::default());
    let kc = ns.proxy_kubeconfig(&proxy);
    support::warpdrive()
        .args([
            "tune",
            "deploy/shop",
            "--threads",
            "7",
            "--no-wait",
            "--kubeconfig",
        ])
        .arg(&kc)
        .run()
        .success();
    let want = format!("kubectl-warpdrive/v{} (linux/", env!("CARGO_PKG_VERSION"));
    let log = proxy.requests();
    assert_eq!(log.len(), 2, "{log:?}");
    for r in &log {
        assert!(r.user_agent.starts_with(&want), "{:?}", r.user_agent);
    }
}
