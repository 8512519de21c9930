//! Completion of TARGETs and namespaces from the real control plane, asked
//! the way a shell asks: through the real kubectl's plugin completion
//! (`kubectl __complete warpdrive …` runs `kubectl_complete-warpdrive`).

use std::process::Command;

use serde_json::json;

use super::{container, deployment, deploymentconfig, statefulset, Ns};
use crate::support::{self, Outcome, RunExt};

/// `kubectl __complete warpdrive WORDS…` with the plugin and its completion
/// hook first on PATH.
fn complete(ns: &Ns, words: &[&str]) -> (Vec<String>, String) {
    complete_with(ns, Some(&ns.plane.kubeconfig), words)
}

/// [`complete`] with `KUBECONFIG` as given (unset for `None`).
fn complete_with(
    ns: &Ns,
    kubeconfig: Option<&std::path::Path>,
    words: &[&str],
) -> (Vec<String>, String) {
    let dir = ns.scratch("plugin-path");
    if !dir.exists() {
        std::fs::create_dir_all(&dir).expect("mkdir");
    }
    std::os::unix::fs::symlink(support::bin(), dir.join("kubectl-warpdrive")).expect("symlink");
    std::fs::copy(
        support::repo().join("completions/kubectl_complete-warpdrive"),
        dir.join("kubectl_complete-warpdrive"),
    )
    .expect("copy hook");
    let mut cmd = Command::new(ns.plane.kubectl_path());
    match kubeconfig {
        Some(k) => cmd.env("KUBECONFIG", k),
        None => cmd.env_remove("KUBECONFIG"),
    };
    let out = cmd
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", dir.display()),
        )
        .env("HOME", &dir)
        .env("WARPDRIVE_COMPLETE_TIMEOUT", "30s")
        .env_remove("NO_COLOR")
        .arg("__complete")
        .arg("warpdrive")
        .args(words)
        .run()
        .success();
    parse(&out)
}

fn parse(out: &Outcome) -> (Vec<String>, String) {
    let mut lines: Vec<&str> = out.stdout().lines().collect();
    let directive = lines.pop().unwrap_or_default().to_owned();
    if !(directive.starts_with(':') && directive[1..].parse::<u32>().is_ok()) {
        out.fail("the last line must be a :N directive");
    }
    let values = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    (values, directive)
}

#[test]
fn targets_and_namespaces_complete_from_the_cluster() {
    let Some(ns) = Ns::new("complete") else {
        return;
    };
    ns.apply(&[
        deployment("blog", 0, json!([container("web", &[])])),
        deployment("shop", 0, json!([container("web", &[])])),
        deploymentconfig("legacy", 0, json!([container("web", &[])])),
        statefulset("db", 0, json!([container("web", &[])])),
    ]);
    let n = ns.name.as_str();
    let (values, directive) = complete(&ns, &["tune", "-n", n, ""]);
    assert_eq!(
        values,
        ["deploy/blog", "deploy/shop", "sts/db", "dc/legacy"]
    );
    assert_eq!(directive, ":4");
    let (values, _) = complete(&ns, &["scale", "--namespace", n, "deploy/s"]);
    assert_eq!(values, ["deploy/shop"]);
    let (values, _) = complete(&ns, &["reload", "-n", n, "dc/"]);
    assert_eq!(values, ["dc/legacy"]);
    let (values, _) = complete(&ns, &["tune", "-n", n, "sts/"]);
    assert_eq!(values, ["sts/db"]);
    let (values, _) = complete(&ns, &["scale", "-n", n, "statefulset/"]);
    assert_eq!(values, ["statefulset/db"]);
    // `tune TYPE NAME…`: bare names of that kind, also after a first name.
    let (values, _) = complete(&ns, &["tune", "-n", n, "deploy", ""]);
    assert_eq!(values, ["blog", "shop"]);
    let (values, _) = complete(&ns, &["tune", "-n", n, "deployment", "blog", "s"]);
    assert_eq!(values, ["shop"]);
    // `--namespace=VALUE` and `-n=VALUE`: the values alone, as cobra
    // answers (kubectl's shell scripts put the flag back in front).
    let (values, _) = complete(
        &ns,
        &["tune", &format!("--namespace={}", &n[..n.len() - 1])],
    );
    assert!(values.iter().any(|v| v == n), "{values:?}");
    assert!(values.iter().all(|v| !v.starts_with("--")), "{values:?}");
    let (values, _) = complete(&ns, &["reload", &format!("-n={n}")]);
    assert_eq!(values, [n]);
    let (values, _) = complete(&ns, &["scale", &format!("--namespace={n}"), "sts/"]);
    assert_eq!(values, ["sts/db"]);
    // The kind as typed (long or short) is kept; a namespace without
    // workloads offers none.
    let (values, _) = complete(&ns, &["reload", "-n", n, "deployment/s"]);
    assert_eq!(values, ["deployment/shop"]);
    let (values, _) = complete(&ns, &["scale", "-n", "no-such-namespace", ""]);
    assert!(values.is_empty(), "{values:?}");
    // --context completes from the kubeconfig.
    let (values, directive) = complete(&ns, &["reload", "--context", ""]);
    assert_eq!(values, ["warpdrive-test"]);
    assert_eq!(directive, ":4");
    // Namespaces: this test's among the cluster's own.
    let (values, directive) = complete(&ns, &["tune", "-n", ""]);
    for want in ["default", "kube-system", n] {
        assert!(values.iter().any(|v| v == want), "{want} not in {values:?}");
    }
    assert_eq!(directive, ":4");
    let (values, _) = complete(&ns, &["scale", "--namespace", &n[..n.len() - 1]]);
    assert!(values.iter().any(|v| v == n), "{values:?}");
    assert!(
        values.iter().all(|v| v.starts_with(&n[..n.len() - 1])),
        "{values:?}"
    );
    // --kubeconfig typed on the line is used (no KUBECONFIG in the environment).
    let admin = ns.plane.kubeconfig.to_str().expect("utf8");
    let (values, _) = complete_with(
        &ns,
        None,
        &[
            "scale",
            "--kubeconfig",
            admin,
            "--namespace",
            &n[..n.len() - 1],
        ],
    );
    assert!(values.iter().any(|v| v == n), "{values:?}");
    assert!(
        values.iter().all(|v| v.starts_with(&n[..n.len() - 1])),
        "{values:?}"
    );
    // What the user typed as --as reaches the cluster: a user who may list
    // nothing gets no candidates, quietly.
    let (values, _) = complete(&ns, &["tune", "--as", "nobody", "-n", n, ""]);
    assert!(values.is_empty(), "{values:?}");
}
