//! The storage sample through the in-memory harness.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::network::{Host, Network};
use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Relation, State, StorageInstance, default_network};

fn harness() -> Harness {
    Harness::new(hello_storage::charm(), hello_storage::METADATA).config_yaml(hello_storage::CONFIG)
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hello-storage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn attached_storage_gets_the_greeting_and_more_is_asked_for() {
    let dir = tmp("attach");
    let data0 = StorageInstance::new("data", 0).at(&dir);
    let out = harness().run(
        data0.attached(),
        State::default()
            .config("greeting", "bonjour")
            .config("instances", 3)
            .storage(data0.clone()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        std::fs::read_to_string(dir.join(hello_storage::GREETING_FILE)).unwrap(),
        "bonjour"
    );
    assert_eq!(out.state.storage_requests.get("data"), Some(&2));
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("1 data instances; admin on 192.0.2.0"))
    );
}

#[test]
fn the_leader_publishes_the_website_ingress_address() {
    let mut website = default_network();
    website.ingress_addresses = vec![Host::Name("hello.example.com".into())];
    let mut admin: Network = default_network();
    admin.interfaces[0].addresses[0].address = "10.9.0.2".parse().unwrap();
    let dir = tmp("website");
    let out = harness().run(
        Event::ConfigChanged,
        State::default()
            .leader(true)
            .relation(Relation::new("website", 4, "proxy"))
            .network("website", website)
            .network("admin", admin)
            .storage(StorageInstance::new("data", 0).at(&dir)),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.get_relation(4).local_app_data["url"],
        "http://hello.example.com:8080"
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("1 data instances; admin on 10.9.0.2"))
    );
    assert!(out.state.storage_requests.is_empty());
}

#[test]
fn instances_outside_the_range_block_and_ask_for_nothing() {
    let dir = tmp("range");
    let out = harness().run(
        Event::ConfigChanged,
        State::default()
            .config("instances", 7)
            .storage(StorageInstance::new("data", 0).at(&dir)),
    );
    assert!(out.ok(), "{:?}", out.error());
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("1 to 3"), "{}", status.message);
    assert_eq!(out.calls_to("storage-add"), 0);
}

#[test]
fn an_unwritable_instance_fails_the_hook_for_a_retry() {
    let out = harness().run(
        Event::ConfigChanged,
        State::default().storage(StorageInstance::new("data", 0).at("/nonexistent/hello-storage")),
    );
    assert!(!out.ok());
    assert!(out.error().unwrap().contains("cannot write"));
}
