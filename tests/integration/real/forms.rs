//! `tune`'s kubectl forms on the real control plane, with kubectl as the
//! oracle: `-o name`, a bare `--dry-run`, `--list` (every container, kubectl's
//! header), positional `KEY=VALUE`/`KEY-`, `TYPE NAME…`, `-l`, `--all`,
//! `--recommend`'s pasteable command, `--timeout 0`.

use serde_json::json;

use super::proxy::{self, Proxy};
use super::{container, deployment, Ns};
use crate::support::{self, RunExt};

fn labelled(name: &str, tier: &str) -> serde_json::Value {
    let mut d = deployment(name, 1, json!([container("web", &[])]));
    d["metadata"]["labels"] = json!({"app": name, "tier": tier});
    d
}

#[test]
fn list_matches_kubectl_set_env_list() {
    let Some(ns) = Ns::new("forms-list") else {
        return;
    };
    let mut two = deployment(
        "two",
        1,
        json!([
            {"name": "web", "image": "app", "env": [
                {"name": "MOD_WSGI_THREADS", "value": "4"},
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}
            ]},
            {"name": "side", "image": "app"}
        ]),
    );
    two["spec"]["template"]["spec"]["initContainers"] =
        json!([{"name": "init", "image": "app", "env": [{"name": "I", "value": "1"}]}]);
    ns.apply(&[two]);
    for extra in [&[][..], &["-c", "side"]] {
        let mut kargs = vec!["set", "env", "deploy/two", "--list"];
        kargs.extend_from_slice(extra);
        let want = ns.kubectl(&kargs).success().stdout().to_string();
        let mut args = vec!["tune", "deploy/two", "--list"];
        args.extend_from_slice(extra);
        ns.run(&args).success().stdout_is(&want);
    }
    // kubectl refuses --list with -o; so does tune.
    assert_ne!(
        ns.kubectl(&["set", "env", "deploy/two", "--list", "-o", "json"])
            .code(),
        Some(0)
    );
    ns.run(&["tune", "deploy/two", "--list", "-o", "json"])
        .bad_input()
        .stderr_has("--list prints KEY=VALUE lines and takes no -o");
    ns.run(&["tune", "deploy/two", "--list", "-c", "nope"])
        .bad_input()
        .stderr_has("has no container \"nope\": use -c with one of web, side, init");
}

#[test]
fn positional_env_output_name_and_bare_dry_run_as_kubectl() {
    let Some(ns) = Ns::new("forms-env") else {
        return;
    };
    let start = [("MOD_WSGI_PROCESSES", "2"), ("OTHER", "x")];
    ns.apply(&[
        deployment("mine", 1, json!([container("web", &start)])),
        deployment("theirs", 1, json!([container("web", &start)])),
    ]);
    ns.rolled_out("deploy/mine");
    ns.run(&[
        "tune",
        "deploy",
        "mine",
        "MOD_WSGI_THREADS=15",
        "MOD_WSGI_PROCESSES-",
        "-o",
        "name",
    ])
    .success()
    .stdout_is("deployment.apps/mine\n")
    .stderr_has("MOD_WSGI_THREADS    (unset) → 15")
    .stderr_has("MOD_WSGI_PROCESSES  2 → (unset)");
    ns.kubectl(&[
        "set",
        "env",
        "deploy/theirs",
        "MOD_WSGI_THREADS=15",
        "MOD_WSGI_PROCESSES-",
    ])
    .success();
    assert_eq!(ns.env("deploy/mine", 0), ns.env("deploy/theirs", 0));
    assert_eq!(ns.env("deploy/mine", 0), ["OTHER=x", "MOD_WSGI_THREADS=15"]);
    let name = ns.kubectl(&["get", "deploy/mine", "-o", "name"]).success();
    assert_eq!(name.stdout(), "deployment.apps/mine\n");
    // A bare --dry-run is client: the next word is the TARGET, nothing is sent.
    let before = ns.get("deploy/mine")["metadata"]["resourceVersion"].clone();
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    ns.warpdrive()
        .args([
            "tune",
            "--dry-run",
            "deploy/mine",
            "MOD_WSGI_THREADS=3",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .run()
        .success()
        .stderr_has("dry run (client): nothing was sent");
    assert_eq!(ns.get("deploy/mine")["metadata"]["resourceVersion"], before);
    // One GET, no write.
    let log = proxy.requests();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].method, "GET", "{log:?}");
    // --timeout 0 waits as long as it takes (kubectl's meaning).
    ns.run(&[
        "tune",
        "deploy/mine",
        "MOD_WSGI_THREADS=4",
        "--timeout",
        "0",
    ])
    .success()
    .stdout_has("deployment/mine successfully rolled out");
}

#[test]
fn type_name_selector_and_all() {
    let Some(ns) = Ns::new("forms-many") else {
        return;
    };
    ns.apply(&[
        labelled("a", "web"),
        labelled("b", "web"),
        labelled("c", "db"),
    ]);
    for d in ["a", "b", "c"] {
        ns.rolled_out(&format!("deploy/{d}"));
    }
    ns.run(&["tune", "deploy", "a", "b", "MOD_WSGI_THREADS=3"])
        .success()
        .stdout_has("deployment/a, container web:\n  MOD_WSGI_THREADS  (unset) → 3\n")
        .stdout_has("deployment/b, container web:\n  MOD_WSGI_THREADS  (unset) → 3\n")
        .stdout_has("deployment/a successfully rolled out\ndeployment/b successfully rolled out\n");
    assert!(ns.env("deploy/c", 0).is_empty());
    ns.run(&["tune", "deploy", "-l", "tier=web", "--threads", "4"])
        .success()
        .stdout_has("deployment/a successfully rolled out\ndeployment/b successfully rolled out\n");
    assert_eq!(ns.env("deploy/a", 0), ["MOD_WSGI_THREADS=4"]);
    assert!(ns.env("deploy/c", 0).is_empty());
    let out = ns
        .run(&["tune", "deploy", "--all", "--threads", "4", "-o", "name"])
        .success();
    out.stdout_is("deployment.apps/a\ndeployment.apps/b\ndeployment.apps/c\n");
    assert_eq!(ns.env("deploy/c", 0), ["MOD_WSGI_THREADS=4"]);
    // The set kubectl selects is the set tune tuned.
    let sel = ns
        .kubectl(&["get", "deploy", "-l", "tier=web", "-o", "name"])
        .success();
    assert_eq!(sel.stdout(), "deployment.apps/a\ndeployment.apps/b\n");
    // --no-wait: one line per workload.
    ns.run(&[
        "tune",
        "deploy",
        "-l",
        "tier=web",
        "--threads",
        "7",
        "--no-wait",
    ])
    .success()
    .stdout_has("deployment/a: changed (--no-wait)\ndeployment/b: changed (--no-wait)\n");
    assert_eq!(ns.env("deploy/b", 0), ["MOD_WSGI_THREADS=7"]);
    assert_eq!(ns.env("deploy/c", 0), ["MOD_WSGI_THREADS=4"]);
    ns.run(&["tune", "deploy", "--all", "--threads", "7", "--no-wait"])
        .success()
        .stdout_has("deployment/a: nothing to change\ndeployment/b: nothing to change\ndeployment/c: changed (--no-wait)\n");
    ns.run(&["tune", "deploy/a", "deploy/c", "--list"])
        .success()
        .stdout_is("# Deployment a, container web\nMOD_WSGI_THREADS=7\n# Deployment c, container web\nMOD_WSGI_THREADS=7\n");
    ns.run(&["tune", "deploy", "-l", "tier=none", "--threads", "4"])
        .bad_input()
        .stderr_has(&format!(
            "no deployments in namespace {} match -l tier=none",
            ns.name
        ));
    // -o json: one List of the objects.
    let doc = ns
        .run(&[
            "tune",
            "deploy",
            "-l",
            "tier=web",
            "--threads",
            "8",
            "--no-wait",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(doc["kind"], "List");
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(2));
    // One failing workload of several fails the command and spares the others.
    ns.run(&[
        "tune",
        "deploy",
        "a",
        "gone",
        "c",
        "--threads",
        "5",
        "--no-wait",
    ])
    .failure()
    .stdout_has("deployment/a: changed (--no-wait)\n")
    .stdout_has(&format!(
        "deployment/gone: failed: deployment \"gone\" not found in namespace {}",
        ns.name
    ))
    .stdout_has("deployment/c: changed (--no-wait)\n")
    .stderr_has("error: 1 of 3 workloads failed: deployment/gone");
    assert_eq!(ns.env("deploy/a", 0), ["MOD_WSGI_THREADS=5"]);
    assert_eq!(ns.env("deploy/c", 0), ["MOD_WSGI_THREADS=5"]);
}

#[test]
fn the_recommended_command_tunes_the_same_namespace_when_pasted() {
    let (Some(here), Some(there)) = (Ns::new("forms-rec"), Ns::new("forms-rec-other")) else {
        return;
    };
    let shop = || {
        deployment(
            "shop",
            1,
            json!([{"name": "web", "image": "app", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}}]),
        )
    };
    here.apply(&[shop()]);
    there.apply(&[shop()]);
    let kc = here.plane.kubeconfig.display().to_string();
    // Run with --kubeconfig and -n, from the other namespace's point of view
    // (KUBECONFIG unset: the pasted line must carry everything).
    let out = support::warpdrive()
        .args([
            "tune",
            "deploy/shop",
            "--recommend",
            "--kubeconfig",
            &kc,
            "-n",
            &here.name,
        ])
        .run()
        .success();
    let line = out
        .stdout()
        .lines()
        .find(|l| l.starts_with("kubectl warpdrive tune "))
        .unwrap_or_else(|| panic!("no command in {}", out.stdout()))
        .to_string();
    assert!(line.contains(&format!(" -n {} ", here.name)), "{line}");
    let words = shlex::split(&line).expect("one shell line");
    support::warpdrive()
        .args(&words[2..])
        .arg("--no-wait")
        .run()
        .success();
    assert_eq!(
        here.env("deploy/shop", 0),
        ["MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=15"]
    );
    assert!(there.env("deploy/shop", 0).is_empty());
    // --context and a kubeconfig path that needs quoting are carried too.
    let spaced = here.scratch("two words");
    std::fs::copy(&here.plane.kubeconfig, &spaced).expect("copy kubeconfig");
    let out = support::warpdrive()
        .args([
            "tune",
            "deploy/shop",
            "--recommend",
            "-n",
            &there.name,
            "--context",
            "warpdrive-test",
            "--kubeconfig",
        ])
        .arg(&spaced)
        .run()
        .success();
    out.stdout_has(&format!(
        "kubectl warpdrive tune deployment/shop -n {} --context warpdrive-test --kubeconfig '{}' --processes 2 --threads 15\n",
        there.name,
        spaced.display()
    ));
}
