//! Real charm binaries through the local model: the framework against the real hook-tool protocol.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::{model, run_story, temp_dir, workspace_root};
use juju_local::state::HookSpec;
use juju_local::{DeployOptions, Model};
use std::path::PathBuf;

#[test]
fn the_hello_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("hello");
    assert!(result.passed, "{:?}", result.failure());
    assert!(result.hooks_run > 30);
}

#[test]
fn the_hello_k8s_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("hello_k8s");
    assert!(result.passed, "{:?}", result.failure());
    assert!(result.hooks_run >= 10, "{}", result.hooks_run);
}

fn probe_dir() -> PathBuf {
    let dir = temp_dir("probe").join("probe");
    std::fs::create_dir_all(&dir).unwrap();
    let src = workspace_root().join("interface-tests/hello/probe");
    for f in ["metadata.yaml", "config.yaml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::os::unix::fs::symlink(
        interface_tests_common::binary("probe"),
        dir.join("dispatch"),
    )
    .unwrap();
    dir
}

/// Two probe apps related out->in, `a` with two units (a/0 leader), `b` with one.
fn probes() -> (Model, u64) {
    let m = model("probe");
    let c = probe_dir();
    for (app, units) in [("a", 2), ("b", 1)] {
        m.deploy(
            &c,
            DeployOptions {
                app: Some(app.into()),
                units: Some(units),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let rel = m.relate("a:out", "b:in").unwrap();
    m.settle(200).unwrap();
    (m, rel)
}

fn probe(m: &Model, unit: &str, steps: &str) -> (i32, String) {
    let app = unit.split('/').next().unwrap();
    m.config(app, &[("do".into(), steps.into())], &[]).unwrap();
    m.settle(200).unwrap();
    let record = m.run_hook(unit, HookSpec::simple("update-status")).unwrap();
    let st = m.state().unwrap();
    let n: u32 = unit.split('/').nth(1).unwrap().parse().unwrap();
    let status = st.applications[app].units[&n].status.clone();
    (
        record.exit_code,
        format!("{} {}", status.status, status.message),
    )
}

#[test]
fn juju_local_refuses_what_juju_refuses_even_without_the_framework_checks() {
    let (m, _) = probes();
    let (_, status) = probe(&m, "a/1", "raw-set-app k=v");
    assert!(status.contains("permission denied"), "{status}");
    let (_, status) = probe(&m, "a/1", "raw-get-app");
    assert!(status.contains("permission denied"), "{status}");
    // The leader may.
    let (_, status) = probe(&m, "a/0", "raw-set-app k=v; raw-get-app");
    assert_eq!(status, "active done");
}

#[test]
fn the_framework_refuses_before_calling_juju() {
    let (m, _) = probes();
    let (_, status) = probe(&m, "a/1", "set-app k=v");
    assert!(status.contains("only the leader can write"), "{status}");
    let calls = m.timeline().unwrap().last().unwrap().tools.clone();
    assert!(calls.iter().all(|c| c.tool != "relation-set"), "{calls:?}");
}

#[test]
fn writes_commit_only_when_the_hook_succeeds() {
    let (m, rel) = probes();
    let (code, _) = probe(&m, "a/0", "set-unit k=kept");
    assert_eq!(code, 0);
    let (code, _) = probe(&m, "a/0", "set-unit k=lost; fail");
    assert_eq!(code, 1);
    let st = m.state().unwrap();
    assert_eq!(st.bag(rel, "a/0").unwrap()["k"], "kept");
    // The other side was told about the committed write only.
    let seen = m
        .timeline()
        .unwrap()
        .iter()
        .filter(|r| r.unit == "b/0" && r.hook.name == "in-relation-changed")
        .count();
    assert!(seen >= 2, "b/0 saw the first write");
}

#[test]
fn secrets_flow_from_owner_to_the_related_app() {
    let (m, rel) = probes();
    let (_, status) = probe(&m, "a/0", "secret-add creds=s3cr3t");
    assert_eq!(status, "active done");
    let st = m.state().unwrap();
    let uri = st.bag(rel, "a").unwrap()["secret"].clone();
    let (_, status) = probe(&m, "b/0", &format!("secret-read {uri}"));
    assert_eq!(status, "active s3cr3t");
    // A unit of the owning app that is not the leader cannot create an app secret.
    let (_, status) = probe(&m, "a/1", "secret-add other=x");
    assert!(status.contains("only the leader"), "{status}");
}
