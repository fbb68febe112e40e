//! Workload containers: a Pebble daemon (the `pebble-server` binary) per unit and container, the
//! socket at `/charm/containers/<c>/pebble.socket` inside the unit's hooks, and the workload hooks
//! Juju fires (`pebble-ready`, custom notices, checks) with their environment.
//!
//! Needs `target/debug/pebble-server`: `cargo build -p pebble-server --bins` first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use juju_local::Model;

const WEB_META: &str = "name: web\ncontainers:\n  web:\n    resource: web-image\nresources:\n  web-image: {type: oci-image}\n";

/// Every workload hook logs its name, its JUJU_* variables and whether the socket is where a
/// Kubernetes charm finds it (`sock`), and whether Pebble answers there (`up`).
const WORKLOAD_HOOK: &str = r#"s=/charm/containers/web/pebble.socket
test -S "$s" && sock=sock || sock=nosock
curl -s --max-time 5 --unix-socket "$s" http://localhost/v1/system-info | grep -q boot-id && up=up || up=down
echo "$JUJU_HOOK_NAME|$JUJU_WORKLOAD_NAME|$JUJU_NOTICE_ID|$JUJU_NOTICE_TYPE|$JUJU_NOTICE_KEY|$JUJU_PEBBLE_CHECK_NAME|$sock|$up" >> "$JUJU_CHARM_DIR/workload.log"
"#;

fn server_built() {
    let server = bin().parent().unwrap().join("pebble-server");
    assert!(
        server.exists(),
        "{} missing: run `cargo build -p pebble-server --bins` first",
        server.display()
    );
}

fn web_model(name: &str) -> (Model, std::path::PathBuf) {
    server_built();
    let (m, base) = model(name);
    let on: Vec<(&str, &str)> = [
        "web-pebble-ready",
        "web-pebble-custom-notice",
        "web-pebble-check-failed",
        "web-pebble-check-recovered",
        "update-status",
    ]
    .iter()
    .map(|h| (*h, WORKLOAD_HOOK))
    .collect();
    let charm = charm(&base, "web", WEB_META, None, None, &on);
    deploy(&m, &charm, "web", 1);
    (m, base)
}

fn workload_log(m: &Model, unit: &str) -> Vec<String> {
    std::fs::read_to_string(unit_dir(m, unit).join("workload.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Settles until `want` shows in the workload log (events arrive asynchronously), at most 20 s.
fn settle_until(m: &Model, unit: &str, want: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let report = m.settle(100).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let log = workload_log(m, unit);
        if log.iter().any(|l| l.starts_with(want)) {
            return log;
        }
        assert!(Instant::now() < deadline, "no {want} in {log:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops the daemons even when an assertion fails.
struct Down<'a>(&'a Model);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = self.0.stop_containers();
    }
}

#[test]
fn pebble_ready_fires_after_start_with_the_socket_at_the_kubernetes_path() {
    let (m, _base) = web_model("ready");
    let _down = Down(&m);
    m.settle(100).unwrap();
    let hooks = hooks_of(&m, "web/0");
    let start = hooks.iter().position(|h| h == "start").unwrap();
    let ready = hooks.iter().position(|h| h == "web-pebble-ready").unwrap();
    assert!(start < ready, "{hooks:?}");
    assert_eq!(
        workload_log(&m, "web/0"),
        vec!["web-pebble-ready|web|||||sock|up"]
    );
    // The host side is the same socket.
    let client = pebble::Client::new(m.container_socket("web/0", "web").unwrap());
    assert!(client.can_connect());
    assert_eq!(m.container_state("web/0", "web").unwrap(), "running");
    let status = m.status_text().unwrap();
    assert!(
        status.contains("Container")
            && status.contains("web/0                    web                      running"),
        "{status}"
    );
    // Settling again fires nothing new: the boot id was seen.
    m.settle(100).unwrap();
    assert_eq!(workload_log(&m, "web/0").len(), 1);
}

#[test]
fn a_custom_notice_fires_custom_notice_with_its_id_type_and_key() {
    let (m, _base) = web_model("notice");
    let _down = Down(&m);
    m.settle(100).unwrap();
    let client = pebble::Client::new(m.container_socket("web/0", "web").unwrap());
    let id = client
        .notify("example.com/db-ready", &BTreeMap::new(), None)
        .unwrap();
    let log = settle_until(&m, "web/0", "web-pebble-custom-notice");
    assert_eq!(
        log.last().unwrap(),
        &format!("web-pebble-custom-notice|web|{id}|custom|example.com/db-ready||sock|up")
    );
}

#[test]
fn a_check_crossing_its_threshold_fires_check_failed_then_recovered() {
    let (m, base) = web_model("checks");
    let _down = Down(&m);
    m.settle(100).unwrap();
    let flag = base.join("healthy");
    let client = pebble::Client::new(m.container_socket("web/0", "web").unwrap());
    let layer = format!(
        "checks:\n  up:\n    override: replace\n    period: 200ms\n    threshold: 1\n    exec:\n      command: test -f {}\n",
        flag.display()
    );
    client.add_layer_yaml("probe", &layer, false).unwrap();
    let log = settle_until(&m, "web/0", "web-pebble-check-failed");
    assert!(
        log.contains(&"web-pebble-check-failed|web||||up|sock|up".to_string()),
        "{log:?}"
    );
    std::fs::write(&flag, "").unwrap();
    let log = settle_until(&m, "web/0", "web-pebble-check-recovered");
    assert!(
        log.contains(&"web-pebble-check-recovered|web||||up|sock|up".to_string()),
        "{log:?}"
    );
}

#[test]
fn a_stopped_container_has_no_pebble_and_a_restart_fires_pebble_ready_again() {
    let (m, _base) = web_model("restart");
    let _down = Down(&m);
    m.settle(100).unwrap();
    m.stop_container("web/0", "web").unwrap();
    assert_eq!(m.container_state("web/0", "web").unwrap(), "down");
    // Settle does not bring a container stopped on purpose back.
    m.settle(100).unwrap();
    assert_eq!(m.container_state("web/0", "web").unwrap(), "down");
    let p = probe(&m, "web/0", "test -S /charm/containers/web/pebble.socket");
    assert_ne!(p.code, 0, "the socket is gone while the container is down");
    m.start_container("web/0", "web").unwrap();
    m.settle(100).unwrap();
    let ready: Vec<_> = hooks_of(&m, "web/0")
        .into_iter()
        .filter(|h| h == "web-pebble-ready")
        .collect();
    assert_eq!(ready.len(), 2, "one per boot");
}

#[test]
fn a_container_that_comes_up_late_gets_pebble_ready_only_then() {
    server_built();
    let (m, base) = model("late");
    let _down = Down(&m);
    let charm = charm(
        &base,
        "web",
        WEB_META,
        None,
        None,
        &[
            ("web-pebble-ready", WORKLOAD_HOOK),
            ("start", WORKLOAD_HOOK),
        ],
    );
    deploy(&m, &charm, "web", 1);
    m.stop_container("web/0", "web").unwrap();
    m.settle(100).unwrap();
    assert_eq!(workload_log(&m, "web/0"), vec!["start||||||nosock|down"]);
    m.start_container("web/0", "web").unwrap();
    m.settle(100).unwrap();
    assert_eq!(
        workload_log(&m, "web/0").last().unwrap(),
        "web-pebble-ready|web|||||sock|up"
    );
}

#[test]
fn units_see_only_their_own_container_and_removal_stops_the_daemon() {
    server_built();
    let (m, base) = model("units");
    let charm = charm(&base, "web", WEB_META, None, None, &[]);
    deploy(&m, &charm, "web", 2);
    m.settle(100).unwrap();
    let _down = Down(&m);
    let root0 = m.container_root("web/0", "web").unwrap();
    std::fs::write(root0.join("marker"), "zero").unwrap();
    let c0 = pebble::Client::new(m.container_socket("web/0", "web").unwrap());
    let c1 = pebble::Client::new(m.container_socket("web/1", "web").unwrap());
    assert_eq!(c0.pull("/marker").unwrap(), b"zero");
    assert!(c1.pull("/marker").is_err());
    // Each unit's hooks see its own daemon at the same path.
    let b0 = c0.system_info().unwrap().boot_id;
    let p = probe(
        &m,
        "web/1",
        "curl -s --max-time 5 --unix-socket /charm/containers/web/pebble.socket http://localhost/v1/system-info",
    );
    assert!(!p.stdout.contains(&b0), "{}", p.stdout);
    assert!(p.stdout.contains("boot-id"), "{}", p.stdout);
    m.remove_unit("web/1").unwrap();
    m.settle(100).unwrap();
    assert!(!c1.can_connect(), "the removed unit's daemon is stopped");
    assert!(c0.can_connect());
}

#[test]
fn a_container_not_declared_is_refused() {
    let (m, _base) = web_model("undeclared");
    let err = m.stop_container("web/0", "db").unwrap_err().to_string();
    assert!(err.contains("no container \"db\""), "{err}");
    let err = m.start_container("web/9", "web").unwrap_err().to_string();
    assert!(err.contains("web/9"), "{err}");
}

/// On pebble-ready the charm adds a layer and replans over the socket, as a sidecar charm does.
const ADD_LAYER: &str = r#"s=/charm/containers/web/pebble.socket
layer='services:\n  web:\n    override: replace\n    command: sleep 1000\n    startup: enabled\n'
curl -s --max-time 5 --unix-socket "$s" -d "{\"action\":\"add\",\"label\":\"web\",\"format\":\"yaml\",\"layer\":\"$layer\"}" http://localhost/v1/layers > /dev/null || exit 1
curl -s --max-time 10 --unix-socket "$s" -d '{"action":"replan"}' http://localhost/v1/services > /dev/null || exit 1
"#;

#[test]
fn scenario_steps_drive_containers_and_the_story_shows_them() {
    server_built();
    let base = tmp("scenario");
    let charm_dir = charm(
        &base,
        "web",
        WEB_META,
        None,
        None,
        &[
            ("web-pebble-ready", ADD_LAYER),
            ("web-pebble-custom-notice", WORKLOAD_HOOK),
        ],
    );
    let scenario = format!(
        r#"name: containers
steps:
  - deploy: {{charm: {charm}, app: web}}
  - expect:
      containers:
        web/0:
          web:
            state: running
            services: {{web: active}}
            plan: {{services: {{web: {{command: sleep 1000}}}}}}
            files: {{/etc/web.yaml: null}}
  - exec: {{unit: web/0, container: web, command: [sh, -c, "mkdir -p etc && echo 'port: 80' > etc/web.yaml && echo written"], expect: {{stdout: "written\n"}}}}
  - exec: {{unit: web/0, container: web, command: [sh, -c, "exit 3"], expect: {{exit: 3}}}}
  - expect:
      containers: {{web/0: {{web: {{files: {{/etc/web.yaml: "port: 80\n"}}}}}}}}
  - notify: {{unit: web/0, container: web, key: example.com/reload}}
  - await-hook: {{unit: web/0, hook: web-pebble-custom-notice}}
  - stop-container: {{unit: web/0, container: web}}
  - expect:
      containers: {{web/0: {{web: {{state: down}}}}}}
  - start-container: {{unit: web/0, container: web}}
  - expect:
      containers: {{web/0: {{web: {{state: running, services: {{web: active}}}}}}}}
"#,
        charm = charm_dir.display()
    );
    let file = base.join("containers.yaml");
    std::fs::write(&file, scenario).unwrap();
    let mut out = Vec::new();
    let result = juju_local::scenario::run_file_story(
        &file,
        juju_local::ModelOptions::new(bin()),
        &base.join("model"),
        &mut out,
    )
    .unwrap();
    let story = String::from_utf8_lossy(&out);
    assert!(result.passed, "{:?}\n{story}", result.failure());
    for line in [
        "exec sh -c mkdir -p etc",
        "|   written",
        "recorded in web of web/0",
        "web-pebble-custom-notice ran on web/0 (1 times)",
        "container web of web/0 stopped",
        "container web of web/0 started",
    ] {
        assert!(story.contains(line), "{line:?} missing from\n{story}");
    }
    assert_eq!(story.matches("web-pebble-ready").count(), 2, "{story}");
    // The scenario stopped its daemons.
    let m = Model::open(base.join("model"), juju_local::ModelOptions::new(bin())).unwrap();
    assert_eq!(m.container_state("web/0", "web").unwrap(), "exited");
}

#[test]
fn a_wrong_expectation_about_a_container_fails_the_scenario() {
    server_built();
    let base = tmp("scenario-bad");
    let charm_dir = charm(&base, "web", WEB_META, None, None, &[]);
    for (want, msg) in [
        ("{state: down}", "is running, expected down"),
        ("{services: {web: active}}", "service web is absent"),
        ("{files: {/nope: x}}", "/nope"),
        ("{plan: {services: {web: {}}}}", "plan: services"),
    ] {
        let scenario = format!(
            "name: bad\nsteps:\n  - deploy: {{charm: {}, app: web}}\n  - expect: {{containers: {{web/0: {{web: {want}}}}}}}\n",
            charm_dir.display()
        );
        let file = base.join("bad.yaml");
        std::fs::write(&file, scenario).unwrap();
        let model_dir = tmp("scenario-bad-model").join("m");
        let result = juju_local::scenario::run_file_with(
            &file,
            juju_local::ModelOptions::new(bin()),
            Some(&model_dir),
        )
        .unwrap();
        let failure = result.failure().unwrap_or_default();
        assert!(failure.contains(msg), "{want}: {failure}");
    }
}

#[test]
fn a_model_path_too_long_for_a_unix_socket_still_gets_its_pebble() {
    server_built();
    let base =
        tmp("long").join("a-directory-name-long-enough-to-push-the-socket-path-past-108-bytes");
    let m = Model::init(base.join("model"), juju_local::ModelOptions::new(bin())).unwrap();
    let _down = Down(&m);
    let charm = charm(
        &base,
        "web",
        WEB_META,
        None,
        None,
        &[("web-pebble-ready", WORKLOAD_HOOK)],
    );
    deploy(&m, &charm, "web", 1);
    m.settle(100).unwrap();
    let socket = m.container_socket("web/0", "web").unwrap();
    let in_unit_dir = m.dir().join("units/web-0/containers/web/pebble.socket");
    assert!(
        in_unit_dir.as_os_str().len() > 108,
        "{}",
        in_unit_dir.display()
    );
    assert!(socket.as_os_str().len() < 108, "{}", socket.display());
    assert!(pebble::Client::new(&socket).can_connect());
    assert_eq!(
        workload_log(&m, "web/0"),
        vec!["web-pebble-ready|web|||||sock|up"]
    );
    m.stop_container("web/0", "web").unwrap();
    assert!(!pebble::Client::new(&socket).can_connect());
}

#[test]
fn without_namespaces_hooks_get_the_pebble_crates_override() {
    server_built();
    let (m, base) = model("fallback");
    let _down = Down(&m);
    let hook = r#"d="$PEBBLE_CONTAINERS_DIR"
test -S "$d/web/pebble.socket" && sock=sock || sock=nosock
test -e /charm/containers/web/pebble.socket && mounted=mounted || mounted=unmounted
echo "$JUJU_HOOK_NAME|$d|$sock|$mounted" >> "$JUJU_CHARM_DIR/workload.log"
"#;
    let charm = charm(
        &base,
        "web",
        WEB_META,
        None,
        None,
        &[("web-pebble-ready", hook)],
    );
    deploy(&m, &charm, "web", 1);
    // The CLI in a process of its own, told that namespaces are unavailable.
    let out = std::process::Command::new(bin())
        .args(["--model"])
        .arg(m.dir())
        .arg("settle")
        .env("JUJU_LOCAL_NO_NAMESPACE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let containers = m.dir().join("units/web-0/containers");
    assert_eq!(
        workload_log(&m, "web/0"),
        vec![format!(
            "web-pebble-ready|{}|sock|unmounted",
            containers.display()
        )]
    );
}
