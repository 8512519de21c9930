//! DeploymentConfigs: the CRD with the real field layout, the harness's
//! mini-controller ([`super::dc`]) making ReplicationControllers, the real
//! ReplicationController manager and kwok making the pods.

use std::time::Duration;

use serde_json::{json, Value};

use super::proxy::{self, Proxy};
use super::{container, deployment, deploymentconfig, Ns};
use crate::support::RunExt;

fn shop(ns: &Ns, replicas: i64) {
    ns.apply(&[deploymentconfig(
        "shop",
        replicas,
        json!([container("web", &[("OTHER", "x")])]),
    )]);
    wait_rolled_out(ns, "shop", 1);
}

/// Waits until the DC's version `version` is rolled out, as the controller reports it.
fn wait_rolled_out(ns: &Ns, name: &str, version: i64) {
    ns.wait_until(
        &format!("dc/{name} version {version} to roll out"),
        Duration::from_secs(120),
        || {
            let dc = ns.get(&format!("dc/{name}"));
            dc["status"]["latestVersion"] == version
                && dc["status"]["observedGeneration"] == dc["metadata"]["generation"]
                && progressing_reason(&dc) == "NewReplicationControllerAvailable"
        },
    );
}

fn progressing_reason(dc: &Value) -> String {
    dc["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing")
        .and_then(|c| c["reason"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn live_pods(ns: &Ns, selector: &str) -> Vec<Value> {
    let list = ns
        .kubectl(&["get", "pods", "-l", selector, "-o", "json"])
        .success()
        .json();
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .collect()
}

#[test]
fn the_controller_makes_replication_controllers_with_openshifts_labels() {
    let Some(ns) = Ns::new("dc-controller") else {
        return;
    };
    shop(&ns, 2);
    let rc = ns.get("rc/shop-1");
    assert_eq!(rc["spec"]["replicas"], 2);
    assert_eq!(
        rc["spec"]["selector"],
        json!({"deployment": "shop-1", "deploymentconfig": "shop"})
    );
    assert_eq!(
        rc["spec"]["template"]["metadata"]["labels"]["deployment"],
        "shop-1"
    );
    assert_eq!(
        rc["spec"]["template"]["metadata"]["labels"]["deploymentconfig"],
        "shop"
    );
    assert_eq!(
        rc["metadata"]["annotations"]["openshift.io/deployment-config.latest-version"],
        "1"
    );
    assert_eq!(
        rc["metadata"]["annotations"]["openshift.io/deployment.phase"],
        "Complete"
    );
    assert_eq!(
        rc["metadata"]["ownerReferences"][0]["kind"],
        "DeploymentConfig"
    );
    let pods = live_pods(&ns, "deploymentconfig=shop");
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert_eq!(p["metadata"]["labels"]["deployment"], "shop-1");
        assert_eq!(
            p["metadata"]["annotations"]["openshift.io/deployment.name"],
            "shop-1"
        );
        assert_eq!(p["spec"]["nodeName"], "kwok-node-0");
    }
    let dc = ns.get("dc/shop");
    assert_eq!(dc["status"]["replicas"], 2);
    assert_eq!(dc["status"]["readyReplicas"], 2);
    assert_eq!(dc["status"]["updatedReplicas"], 2);
    assert_eq!(dc["status"]["selector"], "deploymentconfig=shop");
    // The scale subresource reads through the CRD's paths.
    let scale = ns
        .kubectl(&[
            "get",
            "--raw",
            &format!(
                "/apis/apps.openshift.io/v1/namespaces/{}/deploymentconfigs/shop/scale",
                ns.name
            ),
        ])
        .success()
        .json();
    assert_eq!(scale["status"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "deploymentconfig=shop");
}

#[test]
fn tune_on_a_deploymentconfig_waits_for_the_new_replication_controller() {
    let Some(ns) = Ns::new("dc-tune") else { return };
    shop(&ns, 2);
    ns.run(&["tune", "dc/shop", "--processes", "2", "--threads", "8"])
        .success()
        .stdout_has("deploymentconfig/shop, container web:")
        .stdout_has("deploymentconfig/shop successfully rolled out");
    // Right when it returns: version 2 serves, version 1 is scaled away.
    let dc = ns.get("dc/shop");
    assert_eq!(dc["status"]["latestVersion"], 2, "{dc:#}");
    assert_eq!(progressing_reason(&dc), "NewReplicationControllerAvailable");
    assert_eq!(
        super::env_of(&dc, 0),
        ["OTHER=x", "MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=8"]
    );
    assert_eq!(ns.get("rc/shop-1")["spec"]["replicas"], 0);
    assert_eq!(ns.get("rc/shop-2")["status"]["readyReplicas"], 2);
    for p in live_pods(&ns, "deploymentconfig=shop") {
        assert_eq!(p["metadata"]["labels"]["deployment"], "shop-2");
    }
    // A bare name finds the DeploymentConfig; the JSON patch is accepted by
    // the CRD (which refuses strategic merge).
    ns.run(&["tune", "shop", "--threads", "9"])
        .success()
        .stdout_has("MOD_WSGI_THREADS  8 → 9");
    assert_eq!(ns.get("dc/shop")["status"]["latestVersion"], 3);
    let out = ns
        .kubectl(&["get", "dc/shop", "-o", "yaml", "--show-managed-fields"])
        .success();
    assert!(
        out.stdout().contains("manager: kubectl-warpdrive"),
        "{}",
        out.stdout()
    );
    // -o name: kind.group/name, as kubectl prints it.
    ns.run(&[
        "tune",
        "dc/shop",
        "--threads",
        "10",
        "-o",
        "name",
        "--no-wait",
    ])
    .success()
    .stdout_is("deploymentconfig.apps.openshift.io/shop\n");
}

#[test]
fn scale_on_a_deploymentconfig_waits_for_ready_pods() {
    let Some(ns) = Ns::new("dc-scale") else {
        return;
    };
    shop(&ns, 1);
    let proxy = Proxy::start(ns.plane, proxy::Options::default());
    let kubeconfig = ns.proxy_kubeconfig(&proxy);
    let out = ns
        .warpdrive()
        .args(["scale", "dc/shop", "--replicas", "3", "--kubeconfig"])
        .arg(&kubeconfig)
        .run()
        .success()
        .stdout_has("deploymentconfig/shop scaled from 1 to 3 replicas")
        .stdout_has("deploymentconfig/shop: 3 of 3 pods ready");
    assert_eq!(ns.get("dc/shop")["status"]["readyReplicas"], 3);
    let rows = out
        .stdout()
        .lines()
        .filter(|l| l.starts_with("shop-1-"))
        .count();
    assert_eq!(rows, 3, "{}", out.stdout());
    // Through the CRD's scale subresource, once.
    let puts: Vec<String> = proxy
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.line())
        .collect();
    assert_eq!(
        puts,
        [format!(
            "PUT /apis/apps.openshift.io/v1/namespaces/{}/deploymentconfigs/shop/scale",
            ns.name
        )]
    );
    ns.run(&["scale", "dc/shop", "--replicas", "1"])
        .success()
        .stdout_has("deploymentconfig/shop: 1 of 1 pods ready");
    assert_eq!(ns.get("rc/shop-1")["spec"]["replicas"], 1);
}

#[test]
fn reload_on_and_off_on_a_deploymentconfig() {
    let Some(ns) = Ns::new("dc-reload") else {
        return;
    };
    shop(&ns, 2);
    // On, with a sync into the DC's pod (kwok runs it here).
    let src = ns.scratch("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("wsgi.py"), "x = 1\n").expect("write");
    let dest = ns.scratch("pod-root").join("dc-src");
    ns.run(&[
        "reload",
        "dc/shop",
        "--source",
        src.to_str().expect("utf8"),
        "--dest",
        dest.to_str().expect("utf8"),
    ])
    .success()
    .stdout_has("deploymentconfig/shop: replicas 2 → 1");
    assert_eq!(
        std::fs::read_to_string(dest.join("wsgi.py")).expect("synced"),
        "x = 1\n"
    );
    let dc = ns.get("dc/shop");
    assert_eq!(
        dc["metadata"]["annotations"]["warpdrive/reload-replicas"],
        "2"
    );
    assert_eq!(
        super::env_of(&dc, 0),
        ["OTHER=x", "MOD_WSGI_RELOAD_ON_CHANGES=1"]
    );
    assert_eq!(dc["status"]["latestVersion"], 2);
    assert_eq!(dc["status"]["replicas"], 1);
    assert_eq!(live_pods(&ns, "deploymentconfig=shop").len(), 1);
    ns.run(&["reload", "dc/shop", "off"])
        .success()
        .stdout_has("deploymentconfig/shop: reload is off");
    let dc = ns.get("dc/shop");
    assert_eq!(
        (
            dc["spec"]["replicas"].as_i64(),
            dc["status"]["readyReplicas"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(super::env_of(&dc, 0), ["OTHER=x"]);
}

#[test]
fn a_bare_name_that_is_both_kinds_is_refused() {
    let Some(ns) = Ns::new("dc-both") else { return };
    ns.apply(&[
        deployment("blog", 0, json!([container("web", &[])])),
        deploymentconfig("blog", 0, json!([container("web", &[])])),
    ]);
    ns.run(&["tune", "blog", "--threads", "3"])
        .bad_input()
        .stderr_has(&format!(
            "both deployment/blog and deploymentconfig/blog exist in namespace {}",
            ns.name
        ))
        .stderr_has("deploy/blog or dc/blog");
    ns.run(&["tune", "dc/blog", "--threads", "3", "--no-wait"])
        .success();
    assert_eq!(super::env_of(&ns.get("dc/blog"), 0), ["MOD_WSGI_THREADS=3"]);
    assert!(super::env_of(&ns.get("deploy/blog"), 0).is_empty());
}
