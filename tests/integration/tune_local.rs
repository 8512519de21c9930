//! `tune --local -f`: manifests edited without a cluster, checked against
//! `kubectl set env --local -f FILE K=V -o yaml` as the oracle.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{repo, warpdrive, Checked, RunExt};

fn manifest(name: &str) -> PathBuf {
    repo().join("tests/integration/manifests").join(name)
}

/// Parses multi-document YAML (or JSON) and flattens `kind: List`.
fn objects(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v: Value = serde::Deserialize::deserialize(doc).expect("yaml");
        if v.is_null() {
            continue;
        }
        if v["kind"] == "List" {
            out.extend(v["items"].as_array().cloned().unwrap_or_default());
        } else {
            out.push(v);
        }
    }
    out
}

/// Semantic equality as the API server sees it: `status` is the server's,
/// and null/empty fields mean "not set" (kubectl's round trip through Go
/// types adds `creationTimestamp: null`, `resources: {}`, `strategy: {}`).
fn normalize(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let m: serde_json::Map<String, Value> = m
                .iter()
                .filter(|(k, _)| k.as_str() != "status")
                .filter_map(|(k, v)| normalize(v).map(|v| (k.clone(), v)))
                .collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        Value::Array(a) => {
            let a: Vec<Value> = a.iter().filter_map(normalize).collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        other => Some(other.clone()),
    }
}

fn oracle(file: &Path, container: Option<&str>, env: &[&str]) -> Vec<Value> {
    let mut cmd = Command::new("kubectl");
    cmd.args(["set", "env", "--local", "-o", "yaml", "-f"])
        .arg(file);
    if let Some(c) = container {
        cmd.args(["-c", c]);
    }
    cmd.args(env);
    let out = cmd.run_within(Duration::from_secs(60)).success();
    objects(out.stdout()).iter().filter_map(normalize).collect()
}

fn ours(args: &[&str]) -> Vec<Value> {
    let mut cmd = warpdrive();
    cmd.arg("tune").arg("--local").args(args);
    let out = cmd.run_within(Duration::from_secs(60)).success();
    objects(out.stdout()).iter().filter_map(normalize).collect()
}

fn check(name: &str, container: Option<&str>, our_flags: &[&str], kubectl_env: &[&str]) {
    let file = manifest(name);
    let expected = oracle(&file, container, kubectl_env);
    let mut args = vec!["-f", file.to_str().unwrap()];
    args.extend(our_flags);
    let got = ours(&args);
    assert_eq!(got, expected, "{name}: ours vs kubectl set env --local");
    assert!(!got.is_empty());
}

#[test]
fn matches_kubectl_set_env_on_a_simple_deployment() {
    check(
        "simple.yaml",
        None,
        &["--processes", "3", "--threads", "15"],
        &["MOD_WSGI_PROCESSES=3", "MOD_WSGI_THREADS=15"],
    );
    check(
        "simple.yaml",
        None,
        &["--unset", "MOD_WSGI_PROCESSES"],
        &["MOD_WSGI_PROCESSES-"],
    );
    check(
        "simple.yaml",
        None,
        &["--set", "MOD_WSGI_ACCESS_LOG=1", "-o", "json"],
        &["MOD_WSGI_ACCESS_LOG=1"],
    );
}

#[test]
fn matches_kubectl_with_two_containers_and_the_default_container_annotation() {
    // We pick the annotated container; kubectl needs -c to do the same.
    check(
        "two-containers.yaml",
        Some("web"),
        &["--threads", "20"],
        &["MOD_WSGI_THREADS=20"],
    );
    check(
        "two-containers.yaml",
        Some("proxy"),
        &["-c", "proxy", "--threads", "20"],
        &["MOD_WSGI_THREADS=20"],
    );
}

#[test]
fn matches_kubectl_next_to_value_from_variables_and_refuses_to_overwrite_them() {
    check(
        "value-from.yaml",
        None,
        &["--threads", "10"],
        &["MOD_WSGI_THREADS=10"],
    );
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--processes", "2", "-f"])
        .arg(manifest("value-from.yaml"));
    // Nothing printed on error.
    let out = cmd
        .run_within(Duration::from_secs(60))
        .bad_input()
        .stdout_empty();
    let err = out.stderr();
    assert!(
        err.contains("deployment/api (in ")
            && err.contains(
                "MOD_WSGI_PROCESSES is set from configmap tuning, key processes (valueFrom)"
            ),
        "{err}"
    );
}

#[test]
fn matches_kubectl_on_multi_document_yaml_and_lists() {
    check(
        "multi.yaml",
        None,
        &["--threads", "6"],
        &["MOD_WSGI_THREADS=6"],
    );
    check(
        "list.json",
        None,
        &["--processes", "2", "--threads", "8"],
        &["MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=8"],
    );
}

#[test]
fn handles_deploymentconfigs_which_kubectl_rejects() {
    let file = manifest("deploymentconfig.yaml");
    let out = Command::new("kubectl")
        .args([
            "set",
            "env",
            "--local",
            "-o",
            "yaml",
            "MOD_WSGI_THREADS=15",
            "-f",
        ])
        .arg(&file)
        .run_within(Duration::from_secs(60));
    assert_ne!(
        out.code(),
        Some(0),
        "kubectl is expected to reject DeploymentConfig"
    );
    let got = ours(&[
        "-f",
        file.to_str().unwrap(),
        "--processes",
        "3",
        "--threads",
        "15",
    ]);
    let original = objects(&std::fs::read_to_string(&file).unwrap());
    let mut expected = original[0].clone();
    expected["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "MOD_WSGI_PROCESSES", "value": "3"}, {"name": "MOD_WSGI_THREADS", "value": "15"}]);
    assert_eq!(got, vec![normalize(&expected).unwrap()]);
}

#[test]
fn stdin_directories_in_place_and_other_kinds() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["simple.yaml", "list.json", "deploymentconfig.yaml"] {
        std::fs::copy(manifest(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("README.txt"), "not a manifest").unwrap();
    let svc =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: blog\nspec:\n  ports:\n  - port: 80\n";
    std::fs::write(dir.path().join("service.yml"), svc).unwrap();
    // A directory: every manifest, printed; the Service passes through untouched.
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--threads", "4", "-f"])
        .arg(dir.path());
    let out = cmd.run_within(Duration::from_secs(60)).success();
    let objs = objects(out.stdout());
    let kinds: Vec<&str> = objs.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "DeploymentConfig",
            "Deployment",
            "Deployment",
            "Service",
            "Deployment"
        ]
    );
    out.stderr_has("skipped Service in");
    // Nothing was written without --in-place.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("simple.yaml")).unwrap(),
        std::fs::read_to_string(manifest("simple.yaml")).unwrap()
    );
    // --in-place writes each file back; equal to the kubectl oracle afterwards.
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--in-place", "--threads", "4", "-f"])
        .arg(dir.path());
    cmd.run_within(Duration::from_secs(60)).success();
    let written = objects(&std::fs::read_to_string(dir.path().join("simple.yaml")).unwrap());
    assert_eq!(
        written.iter().filter_map(normalize).collect::<Vec<_>>(),
        oracle(&manifest("simple.yaml"), None, &["MOD_WSGI_THREADS=4"])
    );
    let json_back: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("list.json")).unwrap())
            .expect("list.json stays JSON");
    assert_eq!(
        json_back["items"][1]["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "MOD_WSGI_THREADS", "value": "4"}])
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("service.yml")).unwrap(),
        svc
    );
    // Key order survives the round trip.
    let text = std::fs::read_to_string(dir.path().join("simple.yaml")).unwrap();
    assert!(
        text.starts_with("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: blog"),
        "{text}"
    );
    // stdin.
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "-f", "-", "--threads", "9"]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        std::fs::read(manifest("simple.yaml")).unwrap().as_slice(),
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap().check().success();
    assert_eq!(
        objects(out.stdout())
            .iter()
            .filter_map(normalize)
            .collect::<Vec<_>>(),
        oracle(&manifest("simple.yaml"), None, &["MOD_WSGI_THREADS=9"])
    );
    // --in-place cannot write to stdin; a file without workloads is bad input.
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--in-place", "-f", "-", "--threads", "9"]);
    cmd.run_within(Duration::from_secs(60)).bad_input();
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--threads", "9", "-f"])
        .arg(dir.path().join("service.yml"));
    cmd.run_within(Duration::from_secs(60))
        .bad_input()
        .stderr_has("no Deployment, DeploymentConfig or StatefulSet");
}

#[test]
fn local_list_and_recommend() {
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--list", "-f"])
        .arg(manifest("two-containers.yaml"));
    // Every container, as kubectl set env --list; -c picks one.
    cmd.run_within(Duration::from_secs(60)).success().stdout_is(
        "# Deployment shop, container proxy\nMOD_WSGI_THREADS=99\n# Deployment shop, container web\nMOD_WSGI_THREADS=5\n",
    );
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--list", "-c", "web", "-f"])
        .arg(manifest("two-containers.yaml"));
    cmd.run_within(Duration::from_secs(60))
        .success()
        .stdout_is("# Deployment shop, container web\nMOD_WSGI_THREADS=5\n");
    let mut cmd = warpdrive();
    cmd.args(["tune", "--local", "--recommend", "--apply", "-f"])
        .arg(manifest("two-containers.yaml"));
    let out = cmd
        .run_within(Duration::from_secs(60))
        .success()
        .stderr_has("recommended: 2 processes × 15 threads");
    let objs = objects(out.stdout());
    assert_eq!(
        objs[0]["spec"]["template"]["spec"]["containers"][1]["env"],
        json!([{"name": "MOD_WSGI_THREADS", "value": "15"}, {"name": "MOD_WSGI_PROCESSES", "value": "2"}])
    );
}
