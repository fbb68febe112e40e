//! The consistency check: a State the charm's metadata makes impossible fails before the run,
//! naming the mismatch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Charm, Event};
use charm_testing::{Harness, Relation, State, StorageInstance, default_network};

const META: &str = "name: app
requires:
  db: {interface: pg, limit: 1}
provides:
  web: {interface: http}
peers:
  cluster: {interface: app-peers}
storage:
  data: {type: filesystem, multiple: {range: 1-2}}
extra-bindings:
  admin:
";
const CONFIG: &str = "options:\n  port: {type: int, default: 80}\n  name: {type: string}\n";

fn harness() -> Harness {
    Harness::new(Charm::new(), META).config_yaml(CONFIG)
}

fn problems(state: State, event: Event) -> String {
    harness().check(&event, &state).unwrap_err()
}

#[test]
fn a_consistent_state_passes() {
    let db = Relation::new("db", 1, "pg").remote_unit(0, [("a", "b")]);
    let state = State::default()
        .relation(db.clone())
        .relation(Relation::new("web", 2, "proxy"))
        .relation(Relation::peer("cluster", 3, "app"))
        .relation(Relation::new("juju-info", 4, "agent"))
        .storage(StorageInstance::new("data", 0))
        .network("admin", default_network())
        .network("db", default_network())
        .config("port", 8080)
        .config("name", "x");
    harness().check(&db.changed(Some(0)), &state).unwrap();
    assert!(harness().run(db.changed(Some(0)), state).ok());
}

#[test]
fn each_mismatch_is_named() {
    for (state, event, needle) in [
        (
            State::default().relation(Relation::new("cache", 1, "redis")),
            Event::Install,
            "endpoint \"cache\", which metadata.yaml does not declare",
        ),
        (
            State::default().relation(Relation::peer("friends", 1, "app")),
            Event::Install,
            "peer relation on \"friends\"",
        ),
        (
            State::default().relation(Relation::peer("db", 1, "app")),
            Event::Install,
            "declared under requires, the relation is a peer relation",
        ),
        (
            State::default().relation(Relation::new("cluster", 1, "other")),
            Event::Install,
            "declared under peers, the relation is not a peer relation",
        ),
        (
            State::default()
                .relation(Relation::new("db", 1, "pg"))
                .relation(Relation::new("db", 2, "pg2")),
            Event::Install,
            "endpoint \"db\" has 2 relations, over its limit of 1",
        ),
        (
            State::default()
                .relation(Relation::new("web", 1, "a"))
                .relation(Relation::new("db", 1, "b")),
            Event::Install,
            "relation id 1 is used twice",
        ),
        (
            State::default().storage(StorageInstance::new("logs", 0)),
            Event::Install,
            "storage \"logs\", which metadata.yaml does not declare",
        ),
        (
            State::default()
                .storage(StorageInstance::new("data", 0))
                .storage(StorageInstance::new("data", 1))
                .storage(StorageInstance::new("data", 2)),
            Event::Install,
            "3 instances, more than the 1-2",
        ),
        (
            State::default().network("mgmt", default_network()),
            Event::Install,
            "network for \"mgmt\"",
        ),
        (
            State::default().config("colour", "red"),
            Event::Install,
            "config key \"colour\" is not an option",
        ),
        (
            State::default(),
            Relation::new("db", 9, "pg").joined(0),
            "relation db:9, which the state does not hold",
        ),
    ] {
        let got = problems(state, event);
        assert!(got.contains(needle), "expected {needle:?} in {got:?}");
    }
}

#[test]
#[should_panic(
    expected = "inconsistent with the charm's metadata: relation 1 is on endpoint \"cache\""
)]
fn run_refuses_an_inconsistent_state() {
    let _ = harness().run(
        Event::Install,
        State::default().relation(Relation::new("cache", 1, "redis")),
    );
}
