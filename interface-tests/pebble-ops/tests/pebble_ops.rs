//! ops' own Pebble client against juju-local's Pebble (the `pebble-server` binary): the probe
//! charm's observations, and what the container holds afterwards seen from the host side.
//!
//! Needs `make python-peers` and `cargo build --workspace --bins` (for `pebble-server`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use interface_tests_common::python::python_charm_dir;
use interface_tests_common::{binary, failure_details, model};
use juju_local::state::HookSpec;
use juju_local::{DeployOptions, Model};
use serde_json::{Value, json};

const UNIT: &str = "pebble-probe/0";

fn observed(m: &Model) -> Vec<Value> {
    let path = m.dir().join("units/pebble-probe-0/charm/observed.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn settle(m: &Model) {
    let report = m.settle(100).unwrap();
    assert!(
        report.errors.is_empty(),
        "hooks failed: {:?}\n{}",
        report.errors,
        failure_details(m)
    );
}

/// Settles until the probe recorded `event` `n` times (events arrive asynchronously).
fn await_event(m: &Model, event: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        settle(m);
        let seen: Vec<Value> = observed(m)
            .into_iter()
            .filter(|d| d["event"] == event)
            .collect();
        if seen.len() >= n {
            return seen[n - 1].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {event} #{n} in {:?}",
            observed(m)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Down<'a>(&'a Model);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = self.0.stop_containers();
    }
}

#[test]
fn ops_drives_our_pebble_layers_files_exec_checks_notices_and_restarts() {
    binary("pebble-server");
    let m = model("pebble-ops");
    let _down = Down(&m);
    let base = m.dir().parent().unwrap().to_path_buf();
    let flag = base.join("healthy");
    let dir = python_charm_dir(
        Path::new(pebble_ops::CHARM),
        &base.join("charms"),
        "pebble-probe",
    );
    m.deploy(
        &dir,
        DeployOptions {
            env: vec![("PROBE_FLAG".into(), flag.to_string_lossy().into_owned())],
            ..Default::default()
        },
    )
    .unwrap();
    settle(&m);

    // pebble-ready: layer, replan, push, pull, list, exec (stdin, env, working dir), errors.
    let ready = await_event(&m, "pebble-ready", 1);
    assert_eq!(
        ready,
        json!({
            "event": "pebble-ready",
            "can_connect": true,
            "plan_command": "sleep 1000",
            "service": "active",
            "pulled": "port: 8080\n",
            "listed": [["config.yaml", "file", "0o640"]],
            "exec_stdout": "port: 8080\nhi\ngot line\n",
            "exec_failed": {"exit_code": 3, "stderr": "oops\n"},
            "missing_kind": "not-found",
        })
    );
    // The host side agrees: the file under the container root, the service really running.
    let root = m.container_root(UNIT, "web").unwrap();
    let meta = std::fs::metadata(root.join("etc/web/config.yaml")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    let client = pebble::Client::new(m.container_socket(UNIT, "web").unwrap());
    let services = client.get_services(&["web"]).unwrap();
    assert!(services[0].is_running(), "{services:?}");

    // The check fails (no flag file), then recovers: ops reads the check's info lazily.
    let failed = await_event(&m, "check-failed", 1);
    assert_eq!(
        failed,
        json!({"event": "check-failed", "check": "up", "status": "down"})
    );
    std::fs::write(&flag, "").unwrap();
    let recovered = await_event(&m, "check-recovered", 1);
    assert_eq!(
        recovered,
        json!({"event": "check-recovered", "check": "up", "status": "up"})
    );

    // A custom notice recorded through the API reaches ops with its id, key and data.
    let data = BTreeMap::from([("path".to_string(), "/etc/web".to_string())]);
    let id = client
        .notify("example.com/config-changed", &data, None)
        .unwrap();
    let notice = await_event(&m, "custom-notice", 1);
    assert_eq!(
        notice,
        json!({
            "event": "custom-notice",
            "id": id,
            "type": "custom",
            "key": "example.com/config-changed",
            "occurrences": 1,
            "data": {"path": "/etc/web"},
        })
    );

    // The container goes away: ops sees can_connect() false and the charm waits.
    m.stop_container(UNIT, "web").unwrap();
    m.run_hook(UNIT, HookSpec::simple("update-status")).unwrap();
    let last = observed(&m).pop().unwrap();
    assert_eq!(
        last,
        json!({"event": "update-status", "can_connect": false})
    );
    assert_eq!(
        m.state().unwrap().unit(UNIT).unwrap().status.status,
        "waiting"
    );

    // Back with a new boot (and an empty plan, as a restarted container has): pebble-ready
    // again, and the charm puts everything back.
    m.start_container(UNIT, "web").unwrap();
    let again = await_event(&m, "pebble-ready", 2);
    assert_eq!(again["service"], "active");
    assert_eq!(again["pulled"], "port: 8080\n");
}
