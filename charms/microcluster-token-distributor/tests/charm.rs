//! Harness tests of the distributor charm.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Event, Status};
use charm_testing::{Harness, Relation, State, bag};
use microcluster_token_distributor::{CONFIG, METADATA, charm};

fn harness() -> Harness {
    Harness::new(charm(), METADATA).config_yaml(CONFIG)
}

fn consumers() -> Relation {
    Relation::new("microcluster-cluster", 4, "microcluster-node")
        .remote_unit(
            0,
            [("hostname", "n0"), ("mirror", "up"), ("mirror-n1", "T1")],
        )
        .remote_unit(1, [("hostname", "n1")])
        .remote_unit(2, [("hostname", "n2")])
}

#[test]
fn without_consumers_it_waits() {
    let out = harness().run(Event::Install, State::default().leader(true));
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::waiting("waiting for consumers"))
    );
    // Install costs one status-set and nothing else.
    assert_eq!(out.calls.len(), 1);
}

#[test]
fn the_leader_mirrors_and_says_how_much() {
    let rel = consumers();
    let out = harness().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("mirroring 3 nodes, 1 tokens"))
    );
    let r = out.state.rel(4).unwrap();
    assert_eq!(
        r.local_unit_data,
        bag([
            ("mirror", "up"),
            ("mirror-n0", "empty"),
            ("mirror-n1", "T1"),
            ("mirror-n2", "empty")
        ])
    );
    assert_eq!(r.local_app_data["bootstrap-app"], "microcluster-node");
    // update-status reads nothing.
    let out = harness().run(Event::UpdateStatus, out.state.clone());
    assert!(out.calls.is_empty(), "{:?}", out.calls);
}

#[test]
fn a_follower_is_a_standby_mirror() {
    let rel = consumers();
    let out = harness().run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("standby mirror"))
    );
    assert!(out.state.rel(4).unwrap().local_unit_data.is_empty());
}

#[test]
fn leader_change_moves_the_mirror() {
    let rel = consumers().local_unit_data([("mirror", "up"), ("mirror-n0", "empty")]);
    // The old leader, now a follower, hears from a consumer: its mirror goes down.
    let out = harness().run(rel.changed(Some(1)), State::default().relation(rel.clone()));
    assert_eq!(out.state.rel(4).unwrap().local_unit_data["mirror"], "down");
    // The new leader (another unit, empty bag) is elected: its mirror goes up with everything.
    let fresh = consumers();
    let out = harness().unit(1).run(
        Event::LeaderElected,
        State::default().leader(true).relation(fresh),
    );
    assert!(out.ok());
    assert_eq!(out.state.rel(4).unwrap().local_unit_data["mirror"], "up");
    assert_eq!(out.state.rel(4).unwrap().local_unit_data["mirror-n1"], "T1");
}

#[test]
fn bad_consumer_data_blocks_with_the_culprit_named() {
    let rel = Relation::new("microcluster-cluster", 4, "microcluster-node")
        .remote_unit(0, [("hostname", "n0"), ("mirror", "maybe")]);
    let out = harness().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "bad remote data never fails the hook");
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, charm::StatusKind::Blocked);
    assert!(
        status.message.contains("unit microcluster-node/0") && status.message.contains("maybe"),
        "{status}"
    );
    // What could be served was served.
    assert_eq!(
        out.state.rel(4).unwrap().local_unit_data["mirror-n0"],
        "empty"
    );
}

#[test]
fn the_last_consumer_leaving_means_waiting_again() {
    let rel = consumers();
    let out = harness().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel.clone()),
    );
    let out = harness().run(rel.broken(), out.state.clone());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::waiting("waiting for consumers"))
    );
}
