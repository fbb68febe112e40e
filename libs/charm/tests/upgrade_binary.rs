//! Deferral across an upgrade with a real compiled charm and its state file: revision A defers,
//! revision B (handlers reordered) re-runs the event by the handler that deferred it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm_testing::StubTools;
use std::path::Path;
use std::process::{Command, Output};

fn run(stubs: &StubTools, charm_dir: &Path, hook: &str, env: &[(&str, &str)]) -> Output {
    let path = format!(
        "{}:{}",
        stubs.bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deferral-probe"));
    cmd.env_clear()
        .env("PATH", path)
        .env("JUJU_DISPATCH_PATH", hook)
        .env("JUJU_UNIT_NAME", "probe/0")
        .env("JUJU_MODEL_NAME", "test")
        .env("JUJU_VERSION", "3.6.14")
        .env("JUJU_CHARM_DIR", charm_dir)
        .current_dir(charm_dir)
        .envs(env.iter().copied());
    cmd.output().unwrap()
}

fn state(charm_dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(charm_dir.join(".charm-state.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_new_revision_with_reordered_handlers_reruns_the_deferred_event_by_its_handler() {
    let stubs = StubTools::new().unwrap();
    let charm_dir = stubs.root().join("charm");
    std::fs::create_dir_all(&charm_dir).unwrap();
    let out = run(
        &stubs,
        &charm_dir,
        "hooks/update-status",
        &[("PROBE_REVISION", "A")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = state(&charm_dir);
    assert_eq!(
        doc["stored"]["log"],
        serde_json::json!(["x update-status", "y update-status"])
    );
    let record = &doc["deferred"][0];
    assert_eq!(record["filter"], "update-status");
    assert!(
        record["observer"].as_str().unwrap().contains("{{closure}}"),
        "{record}"
    );
    // Revision B registers y first. The deferred update-status goes to x, then config-changed
    // to y.
    let out = run(
        &stubs,
        &charm_dir,
        "hooks/config-changed",
        &[("PROBE_REVISION", "B"), ("PROBE_GATE", "open")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = state(&charm_dir);
    assert_eq!(
        doc["stored"]["log"],
        serde_json::json!([
            "x update-status",
            "y update-status",
            "x update-status",
            "y config-changed"
        ])
    );
    assert_eq!(doc["deferred"], serde_json::json!([]));
}
