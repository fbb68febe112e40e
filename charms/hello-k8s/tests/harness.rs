//! The sidecar charm through the in-memory harness, Scenario style: a state with the `web`
//! container, one event, assertions on the container and statuses after it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::pebble::types::{CheckStatus, ServiceStatus};
use charm::{Event, Status, StatusKind};
use charm_testing::{Container, ExecHandler, Harness, State};
use hello_k8s::{CONFIG_PATH, SERVER, SERVICE};

fn harness() -> Harness {
    Harness::new(hello_k8s::charm(), hello_k8s::METADATA).config_yaml(hello_k8s::CONFIG)
}

/// The `web` container with Pebble up and the server's `--version` answered.
fn web() -> Container {
    Container::new("web").exec(ExecHandler::new([SERVER, "--version"]).stdout("1.4.2\n"))
}

#[test]
fn pebble_ready_configures_and_starts_the_server() {
    let state = State::default().container(web());
    let out = harness().run(state.get_container("web").pebble_ready(), state);
    assert!(out.ok(), "{:?}", out.error());
    let web = out.state.get_container("web");
    let service = &web.plan().services[SERVICE];
    assert_eq!(service.command, format!("{SERVER} --config {CONFIG_PATH}"));
    assert_eq!(service.environment["HELLO_PORT"], "8080");
    assert_eq!(web.service(SERVICE), ServiceStatus::Active);
    assert_eq!(
        web.read_text(CONFIG_PATH).as_deref(),
        Some("listen: 8080\ngreeting: \"hello\"\n")
    );
    assert_eq!(web.fs[CONFIG_PATH].permissions, 0o600);
    assert_eq!(web.check_infos["hello-up"].status, CheckStatus::Up);
    assert_eq!(out.exec_history["web"][0].command, [SERVER, "--version"]);
    assert_eq!(out.state.workload_version.as_deref(), Some("1.4.2"));
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("serving on port 8080"))
    );
}

#[test]
fn without_pebble_it_waits_and_defers() {
    let state = State::default().container(web().can_connect(false));
    let out = harness().run(state.get_container("web").pebble_ready(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status.as_ref().unwrap().kind,
        StatusKind::Waiting
    );
    assert_eq!(out.state.deferred.len(), 1);
    assert!(out.state.get_container("web").fs.is_empty());
    assert!(out.exec_history.is_empty());
}

#[test]
fn a_config_change_rewrites_the_file_and_merges_into_the_same_layer() {
    let first = harness().run(Event::ConfigChanged, State::default().container(web()));
    assert!(first.ok());
    let state = first
        .state
        .config("port", 9000)
        .config("greeting", "hi \"there\"\nevil: key");
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    let web = out.state.get_container("web");
    assert_eq!(web.layers.layers().len(), 1, "combined into the one layer");
    assert_eq!(
        web.plan().services[SERVICE].environment["HELLO_PORT"],
        "9000"
    );
    assert_eq!(
        web.read_text(CONFIG_PATH).as_deref(),
        Some("listen: 9000\ngreeting: \"hi \\\"there\\\"\\nevil: key\"\n")
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("serving on port 9000"))
    );
}

#[test]
fn a_bad_port_is_blocked_and_touches_nothing() {
    let state = State::default().container(web()).config("port", 70000);
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("config port 70000 is not a port (1-65535)"))
    );
    assert!(out.state.get_container("web").fs.is_empty());
}

#[test]
fn a_failing_version_command_fails_the_hook_for_a_retry() {
    let broken = Container::new("web").exec(
        ExecHandler::new([SERVER])
            .exit_code(2)
            .stderr("no such flag"),
    );
    let state = State::default().container(broken);
    let out = harness().run(state.get_container("web").pebble_ready(), state);
    assert!(!out.ok());
    assert!(
        out.error().unwrap().contains("exited with code 2"),
        "{:?}",
        out.error()
    );
}

#[test]
fn a_failed_check_restarts_the_service() {
    let configured = harness()
        .run(Event::ConfigChanged, State::default().container(web()))
        .state;
    let mut down = configured.get_container("web").check_infos["hello-up"].clone();
    down.status = CheckStatus::Down;
    let container = configured.get_container("web").clone().check_info(down);
    let event = container.check_failed("hello-up");
    let state = State {
        containers: vec![container.service_status(SERVICE, ServiceStatus::Backoff)],
        ..configured
    };
    let out = harness().run(event, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.get_container("web").service(SERVICE),
        ServiceStatus::Active
    );
    assert!(out.logged("check hello-up failed"));
}
