//! resource-dispatcher as a sidecar charm in the local model: its workload container is a
//! juju-local Pebble (the `pebble-server` binary) with the workload stand-in at `/main.py`; the
//! manifests the tester sends become files there. A container that comes up late, one that
//! restarts, a changed and a removed relation.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use interface_tests_common::{binary, charm_dir, failure_details, model};
use juju_local::{DeployOptions, Model};

const UNIT: &str = "resource-dispatcher/0";
const FOLDER: &str = "var/lib/pebble/default/resources";

struct Down<'a>(&'a Model);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = self.0.stop_containers();
    }
}

fn settle(m: &Model) {
    let report = m.settle(500).unwrap();
    assert!(
        report.errors.is_empty(),
        "{:?}\n{}",
        report.errors,
        failure_details(m)
    );
}

fn status(m: &Model) -> String {
    let st = m.state().unwrap();
    let s = &st.unit(UNIT).unwrap().status;
    format!("{}: {}", s.status, s.message)
}

/// The manifest files in the dispatcher's container, relative to the folder.
fn files(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let base = root.join(FOLDER);
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    out
}

/// Deploys the dispatcher (its container root holding the workload stand-in) and the tester.
fn deploy(m: &Model) -> PathBuf {
    binary("pebble-server");
    let charms = m.dir().parent().unwrap().join("charms");
    charm_dir("resource-dispatcher", &charms);
    charm_dir("manifests-tester", &charms);
    m.deploy(
        &charms.join("resource-dispatcher"),
        DeployOptions::default(),
    )
    .unwrap();
    m.deploy(
        &charms.join("manifests-tester"),
        DeployOptions {
            app: Some("tester".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let root = m.container_root(UNIT, "resource-dispatcher").unwrap();
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("main.py"), resource_dispatcher::WORKLOAD_STAND_IN).unwrap();
    root
}

fn service_running(m: &Model) -> bool {
    let socket = m.container_socket(UNIT, "resource-dispatcher").unwrap();
    let client = pebble::Client::new(socket);
    client
        .get_services(&["resource-dispatcher"])
        .is_ok_and(|s| s.first().is_some_and(|s| s.is_running()))
}

#[test]
fn manifests_arrive_as_files_change_with_the_requirer_and_go_with_the_relation() {
    let m = model("sidecar-files");
    let _down = Down(&m);
    let root = deploy(&m);
    settle(&m);
    assert_eq!(status(&m), "active: 0 manifests from 0 apps");
    assert!(service_running(&m));
    m.relate(
        "tester:service-accounts",
        "resource-dispatcher:service-accounts",
    )
    .unwrap();
    m.relate("tester:config-maps", "resource-dispatcher:config-maps")
        .unwrap();
    settle(&m);
    assert_eq!(status(&m), "active: 2 manifests from 1 app");
    assert_eq!(
        files(&root),
        [
            "service-accounts/_global/dummy-sa-1.yaml",
            "service-accounts/_global/other-dummy-sa-1.yaml"
        ]
    );
    // A change on the requirer rewrites the files.
    m.config(
        "tester",
        &[(
            "manifests".into(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team-a\ndata:\n  retries: \"3\"\n".into(),
        )],
        &[],
    )
    .unwrap();
    settle(&m);
    assert_eq!(status(&m), "active: 3 manifests from 1 app");
    let cm = root.join(FOLDER).join("config-maps/team-a/settings.yaml");
    let text = std::fs::read_to_string(&cm).unwrap();
    assert!(
        text.contains("retries: '3'") || text.contains("retries: \"3\""),
        "{text}"
    );
    // A removed relation removes its files (and the emptied namespace directory).
    m.remove_relation(
        "tester:config-maps",
        Some("resource-dispatcher:config-maps"),
    )
    .unwrap();
    settle(&m);
    assert_eq!(status(&m), "active: 2 manifests from 1 app");
    assert!(!cm.exists());
    assert!(!root.join(FOLDER).join("config-maps/team-a").exists());
    // The stand-in service saw the files.
    std::thread::sleep(Duration::from_millis(1500));
    let log = std::fs::read_to_string(root.join("dispatcher.log")).unwrap();
    assert!(
        log.contains("service-accounts/_global/dummy-sa-1.yaml"),
        "{log}"
    );
}

#[test]
fn a_container_that_comes_up_late_gets_everything_on_pebble_ready() {
    let m = model("sidecar-late");
    let _down = Down(&m);
    let root = deploy(&m);
    m.stop_container(UNIT, "resource-dispatcher").unwrap();
    m.relate(
        "tester:service-accounts",
        "resource-dispatcher:service-accounts",
    )
    .unwrap();
    settle(&m);
    assert_eq!(status(&m), "waiting: Container is not ready");
    assert!(files(&root).is_empty());
    m.start_container(UNIT, "resource-dispatcher").unwrap();
    settle(&m);
    assert_eq!(status(&m), "active: 2 manifests from 1 app");
    assert_eq!(files(&root).len(), 2, "{:?}", files(&root));
    assert!(service_running(&m));
}

#[test]
fn a_restarted_container_is_given_its_files_and_layer_again() {
    let m = model("sidecar-restart");
    let _down = Down(&m);
    let root = deploy(&m);
    m.relate(
        "tester:service-accounts",
        "resource-dispatcher:service-accounts",
    )
    .unwrap();
    settle(&m);
    assert_eq!(files(&root).len(), 2);
    // A restart: a fresh filesystem (as a new container has) and a Pebble with an empty plan.
    m.stop_container(UNIT, "resource-dispatcher").unwrap();
    std::fs::remove_dir_all(root.join("var")).unwrap();
    m.start_container(UNIT, "resource-dispatcher").unwrap();
    assert!(!service_running(&m), "a new Pebble has no layer yet");
    settle(&m);
    let ready = m
        .timeline()
        .unwrap()
        .iter()
        .filter(|r| r.unit == UNIT && r.hook.name == "resource-dispatcher-pebble-ready")
        .count();
    assert_eq!(ready, 2);
    assert_eq!(files(&root).len(), 2, "{:?}", files(&root));
    assert!(service_running(&m));
    assert_eq!(status(&m), "active: 2 manifests from 1 app");
}
