//! kubectl's connection and identity flags, against the API-server double:
//! `--server`/`--token` with no kubeconfig, the TLS flags, `-v=6`,
//! `--user` that does not exist, a `KUBECONFIG` list with a missing file,
//! the exec credential plugin (run once), the User-Agent, and the
//! fieldManager of every write.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::apiserver::{container, ApiServer};
use crate::support::{Outcome, RunExt};

fn blog(server: &ApiServer) {
    server.add_deployment("blog", 1, json!([container("web", &[])]));
}

/// The binary with HOME in an empty dir, no KUBECONFIG, no in-cluster
/// service account: only the flags say where the cluster is.
fn bare(home: &Path, args: &[&str]) -> Outcome {
    let mut cmd = crate::support::warpdrive();
    cmd.env("HOME", home)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(args);
    cmd.run_within(Duration::from_secs(60))
}

#[test]
fn server_and_token_need_no_kubeconfig() {
    let server = ApiServer::start();
    blog(&server);
    let home = tempfile::tempdir().unwrap();
    bare(
        home.path(),
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--no-wait",
            "--server",
            &server.url,
            "--token",
            "ci-token",
        ],
    )
    .success()
    .stdout_has("MOD_WSGI_THREADS  (unset) → 4");
    let log = server.requests();
    assert_eq!(log.len(), 2, "{log:?}");
    for r in &log {
        assert_eq!(r.authorization.as_deref(), Some("Bearer ci-token"));
        assert!(r.path.contains("/namespaces/default/"), "{}", r.path);
    }
    // -s is --server; --token replaces the kubeconfig user's token.
    server.clear_log();
    server
        .run(&[
            "tune",
            "deploy/blog",
            "--threads",
            "5",
            "--no-wait",
            "-s",
            &server.url,
            "--token=other",
        ])
        .success();
    assert!(server
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer other")));
    // Without --server and without a kubeconfig: one line saying what to pass.
    bare(home.path(), &["tune", "deploy/blog", "--threads", "4"])
        .bad_input()
        .stderr_has("--server URL --token TOKEN");
    bare(
        home.path(),
        &[
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--server",
            "http://[x",
        ],
    )
    .bad_input()
    .stderr_has("--server");
}

#[test]
fn tls_flags_choose_how_the_server_certificate_is_checked() {
    let server = ApiServer::start_tls();
    blog(&server);
    let home = tempfile::tempdir().unwrap();
    let ca = server.dir().join("ca.pem");
    assert!(ca.exists(), "the double wrote its CA");
    let ca = ca.to_str().unwrap();
    let base = [
        "tune",
        "deploy/blog",
        "--threads",
        "4",
        "--no-wait",
        "--server",
        &server.url,
        "--token",
        "t",
    ];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        bare(home.path(), &args)
    };
    with(&[])
        .failure()
        .stderr_has("presented a certificate that is not trusted");
    with(&["--certificate-authority", ca]).success();
    with(&["--insecure-skip-tls-verify"]).success();
    // The certificate names 127.0.0.1 and localhost, not this name.
    with(&[
        "--certificate-authority",
        ca,
        "--tls-server-name",
        "api.example.com",
    ])
    .failure()
    .stderr_has("not trusted");
    with(&[
        "--certificate-authority",
        ca,
        "--tls-server-name",
        "localhost",
    ])
    .success();
    with(&["--certificate-authority", ca, "--insecure-skip-tls-verify"])
        .bad_input()
        .stderr_has("cannot go together");
    with(&["--certificate-authority", "/nonexistent/ca.pem"])
        .bad_input()
        .stderr_has("--certificate-authority /nonexistent/ca.pem: no such file");
}

#[test]
fn verbosity_6_prints_one_line_per_request() {
    let server = ApiServer::start();
    blog(&server);
    let out = server
        .run(&["tune", "deploy/blog", "--threads", "4", "--no-wait", "-v=6"])
        .success();
    let url = regex_escape(&server.url);
    out.stderr_matches(&format!(
        r"(?m)^GET {url}/apis/apps/v1/namespaces/default/deployments/blog 200 OK in \d+ milliseconds\nPATCH {url}/apis/apps/v1/namespaces/default/deployments/blog\?fieldManager=kubectl-warpdrive 200 OK in \d+ milliseconds\n"
    ));
    // Each form of the flag; below 6 nothing is printed.
    for v in [["--v=6"].as_slice(), &["-v", "7"], &["-v6"]] {
        let mut args = vec!["tune", "deploy/blog", "--list"];
        args.extend_from_slice(v);
        server.run(&args).success().stderr_has(" 200 OK in ");
    }
    server
        .run(&["tune", "deploy/blog", "--list", "-v=5"])
        .success()
        .stderr_empty();
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == ':' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn a_user_or_context_that_does_not_exist_stops_before_any_request() {
    let server = ApiServer::start();
    blog(&server);
    server
        .run(&["tune", "deploy/blog", "--threads", "4", "--user", "nope"])
        .bad_input()
        .stderr_has("user \"nope\" does not exist");
    server
        .run(&["tune", "deploy/blog", "--threads", "4", "--cluster", "nope"])
        .bad_input()
        .stderr_has("cluster \"nope\" does not exist");
    // A context whose user entry is missing.
    let kc = server.dir().join("broken-user");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {{cluster: d, user: gone}}\nclusters:\n- name: d\n  cluster: {{server: '{}'}}\n", server.url),
    )
    .unwrap();
    crate::support::warpdrive()
        .args(["tune", "deploy/blog", "--threads", "4", "--kubeconfig"])
        .arg(&kc)
        .run()
        .bad_input()
        .stderr_has("user \"gone\" of context \"c\" does not exist");
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn a_missing_file_in_the_kubeconfig_list_is_skipped() {
    let server = ApiServer::start();
    blog(&server);
    let list = format!(
        "{}:/nonexistent/kubeconfig:{}",
        server.dir().join("also-missing").display(),
        server.kubeconfig().display()
    );
    let mut cmd = crate::support::warpdrive();
    cmd.env("KUBECONFIG", &list)
        .args(["tune", "deploy/blog", "--list"]);
    cmd.run().success().stdout_has("blog, container web");
    // Only missing files: as if there were no kubeconfig.
    let home = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::warpdrive();
    cmd.env("KUBECONFIG", "/nonexistent/a:/nonexistent/b")
        .env("HOME", home.path())
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(["tune", "deploy/blog", "--list"]);
    cmd.run().bad_input().stderr_has("no kubeconfig found");
}

/// A kubeconfig whose user is an exec plugin: a script that appends a line
/// to `count` on each run and prints a token expiring at `expiry`.
fn plugin_kubeconfig(
    server: &ApiServer,
    name: &str,
    expiry: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = server.dir();
    let count = dir.join(format!("{name}.count"));
    let script = dir.join(format!("{name}.sh"));
    crate::support::write(
        &script,
        &format!(
            "#!/bin/sh\necho \"$KUBERNETES_EXEC_INFO\" >> '{}'\nprintf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"from-plugin\",\"expirationTimestamp\":\"{expiry}\"}}}}'\n",
            count.display()
        ),
    );
    crate::support::make_executable(&script);
    let kc = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {{cluster: d, user: p}}\nclusters:\n- name: d\n  cluster: {{server: '{}'}}\nusers:\n- name: p\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n      provideClusterInfo: true\n", server.url, script.display()),
    )
    .unwrap();
    (kc, count)
}

fn runs(count: &Path) -> Vec<String> {
    std::fs::read_to_string(count)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_exec_credential_plugin_runs_once_per_command() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(20));
    blog(&server);
    let (kc, count) = plugin_kubeconfig(&server, "lasting", "2099-01-01T00:00:00Z");
    crate::support::warpdrive()
        .args(["tune", "deploy/blog", "--threads", "4", "--kubeconfig"])
        .arg(&kc)
        .run()
        .success()
        .stdout_has("successfully rolled out");
    let log = server.requests();
    assert!(
        log.len() >= 3,
        "a GET, the PATCH and the rollout polls: {log:?}"
    );
    assert!(log
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer from-plugin")));
    let seen = runs(&count);
    assert_eq!(
        seen.len(),
        1,
        "the plugin ran {} times for {} requests",
        seen.len(),
        log.len()
    );
    // It was told it is not interactive, and which cluster it is for.
    let info: serde_json::Value = serde_json::from_str(&seen[0]).unwrap();
    assert_eq!(info["kind"], "ExecCredential");
    assert_eq!(info["spec"]["interactive"], false);
    assert_eq!(info["spec"]["cluster"]["server"], server.url.as_str());
}

#[test]
fn an_expired_plugin_token_is_fetched_again_before_each_request() {
    let server = ApiServer::start();
    blog(&server);
    let (kc, count) = plugin_kubeconfig(&server, "expired", "2000-01-01T00:00:00Z");
    crate::support::warpdrive()
        .args([
            "tune",
            "deploy/blog",
            "--threads",
            "4",
            "--no-wait",
            "--kubeconfig",
        ])
        .arg(&kc)
        .run()
        .success();
    // One run when connecting, then one per request (a GET and a PATCH).
    assert_eq!(server.requests().len(), 2);
    assert_eq!(runs(&count).len(), 3);
}

#[test]
fn a_failing_or_missing_plugin_is_one_line() {
    let server = ApiServer::start();
    blog(&server);
    let kc = server.dir().join("missing-plugin");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {{cluster: d, user: p}}\nclusters:\n- name: d\n  cluster: {{server: '{}'}}\nusers:\n- name: p\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /nonexistent/kubelogin\n      installHint: 'install kubelogin from your admin'\n      interactiveMode: Never\n", server.url),
    )
    .unwrap();
    let out = crate::support::warpdrive()
        .args(["tune", "deploy/blog", "--threads", "4", "--kubeconfig"])
        .arg(&kc)
        .run()
        .failure()
        .stderr_has("credential plugin /nonexistent/kubelogin was not found (install kubelogin from your admin)");
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    assert!(server.requests().is_empty());
}

#[test]
fn every_request_carries_the_user_agent() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(20));
    blog(&server);
    server
        .run(&["tune", "deploy/blog", "--threads", "4"])
        .success();
    let want = format!(
        "kubectl-warpdrive/v{} ({}/",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    );
    let log = server.requests();
    assert!(log.len() >= 3);
    for r in &log {
        let ua = r.user_agent.as_deref().unwrap_or_default();
        assert!(ua.starts_with(&want) && ua.ends_with(')'), "{ua:?}");
    }
    assert!(
        log.iter()
            .filter(|r| r.method != "GET")
            .all(|r| r.query.contains("fieldManager=kubectl-warpdrive")),
        "{log:?}"
    );
}

/// Every write of every command carries `fieldManager=kubectl-warpdrive`:
/// tune (also a server dry run), scale, reload on and off, and the write
/// that puts a workload back after a failed `reload on`.
#[test]
fn every_write_of_every_command_names_the_field_manager() {
    let server = ApiServer::start();
    server.set_rollout_delay(Duration::from_millis(20));
    blog(&server);
    let src = tempfile::tempdir().unwrap();
    crate::support::write(&src.path().join("app.py"), "x = 1\n");
    let src = src.path().to_str().unwrap();
    server
        .run(&["tune", "deploy/blog", "--threads", "4"])
        .success();
    server
        .run(&["tune", "deploy/blog", "--threads", "6", "--dry-run=server"])
        .success();
    server
        .run(&["scale", "deploy/blog", "--replicas", "2"])
        .success();
    server
        .run(&["reload", "deploy/blog", "--no-sync"])
        .success();
    server.run(&["reload", "deploy/blog", "off"]).success();
    server.deny("create", "pods/exec");
    server
        .run(&["reload", "deploy/blog", "--source", src])
        .failure()
        .stderr_has("was put back as it was");
    let writes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    // tune, its dry run, scale, on, off, on again and its put-back.
    assert!(writes.len() >= 7, "{writes:?}");
    for w in &writes {
        assert!(
            w.query
                .split('&')
                .any(|q| q == "fieldManager=kubectl-warpdrive"),
            "{} {}?{} has no fieldManager",
            w.method,
            w.path,
            w.query
        );
    }
}
