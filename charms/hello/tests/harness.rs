//! The sample charm through the in-memory harness: short tests of whole hooks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Event, Port, Status, StatusKind};
use charm_testing::{Harness, Relation, State};

fn harness() -> Harness {
    Harness::new(hello::charm(), hello::METADATA).config_yaml(hello::CONFIG)
}

#[test]
fn the_leader_publishes_its_greeting_and_opens_its_port() {
    let rel = Relation::new("greeting", 3, "listener");
    let out = harness().run(
        Event::ConfigChanged,
        State::default()
            .leader(true)
            .config("greeting", "howdy")
            .relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["greeting"],
        "howdy"
    );
    assert_eq!(
        out.state.opened_ports.iter().copied().collect::<Vec<_>>(),
        [Port::Tcp(8080)]
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("nobody to listen to"))
    );
    assert_eq!(out.state.stored["hooks"], 1);
}

#[test]
fn followers_publish_nothing() {
    let out = harness().run(
        Event::ConfigChanged,
        State::default().relation(Relation::new("greeting", 3, "listener")),
    );
    assert!(out.ok());
    assert!(out.state.rel(3).unwrap().local_app_data.is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_listener_shows_what_it_heard() {
    let rel = Relation::new("listen", 4, "talker").remote_app_data([("greeting", "bonjour")]);
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("heard \"bonjour\" from talker"))
    );
    let quiet = Relation::new("listen", 4, "talker");
    let out = harness().run(quiet.changed(None), State::default().relation(quiet));
    assert_eq!(
        out.state.unit_status.map(|s| s.kind),
        Some(StatusKind::Waiting)
    );
}

#[test]
fn an_empty_greeting_blocks_and_keeps_what_was_published() {
    let rel = Relation::new("greeting", 3, "listener").local_app_data([("greeting", "hello")]);
    let out = harness().run(
        Event::ConfigChanged,
        State::default()
            .leader(true)
            .config("greeting", "  ")
            .relation(rel),
    );
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("config greeting must not be empty"))
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["greeting"],
        "hello"
    );
}

#[test]
fn a_port_out_of_range_blocks() {
    let out = harness().run(Event::ConfigChanged, State::default().config("port", 99999));
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("\"port\""), "{status}");
}

#[test]
fn the_greet_action() {
    let out = harness().run_action(
        "greet",
        serde_json::json!({"name": "Ada"}),
        State::default().config("greeting", "hi"),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["message"], "hi, Ada!");
    assert_eq!(out.action.logs, ["greeting Ada"]);
    let out = harness().run_action("greet", serde_json::json!({}), State::default());
    assert!(out.action.failed.unwrap().contains("name"));
}

#[test]
fn an_unchanged_model_costs_few_hook_tools() {
    let harness = harness();
    let first = harness.run(Event::UpdateStatus, State::default().leader(true));
    let out = harness.run(Event::UpdateStatus, first.state);
    // config-get, opened-ports, is-leader, relation-ids (greeting), relation-ids (listen):
    // no status-set (unchanged), no open-port (already open), no relation-set (nothing to say).
    assert_eq!(out.calls.len(), 5, "{:?}", out.calls);
}

#[test]
fn the_embedded_json_metadata_is_metadata_yaml() {
    let yaml: charm::Metadata = charm_yaml::from_str(hello::METADATA).unwrap();
    assert!(hello::METADATA_JSON.starts_with('{'));
    assert_eq!(
        charm::Metadata::from_json(hello::METADATA_JSON).unwrap(),
        yaml
    );
    assert!(yaml.is_peer("peers"));
}
