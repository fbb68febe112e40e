//! Harness tests of the provider (distributor) side.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use charm::{Charm, Event};
use charm_testing::{Harness, Relation, State, bag};
use common::PROVIDER_META;
use token_distributor::{MirrorSummary, TokenDistributorProvider};

const EP: &str = "microcluster-cluster";
const KEY: &str = "token_distributor.provider:microcluster-cluster";

fn harness() -> Harness {
    let mut charm = Charm::new();
    charm.plugin(TokenDistributorProvider::new(EP));
    Harness::new(charm, PROVIDER_META)
}

fn consumers(id: u32, app: &str, units: &[(u32, &[(&str, &str)])]) -> Relation {
    let mut r = Relation::new(EP, id, app);
    for (n, pairs) in units {
        r = r.remote_unit(*n, pairs.iter().copied());
    }
    r
}

fn summary(state: &State) -> MirrorSummary {
    serde_json::from_value(state.stored[KEY].clone()).unwrap()
}

#[test]
fn the_leader_mirrors_hostnames_as_placeholders() {
    let rel = consumers(
        3,
        "microovn",
        &[(0, &[("hostname", "n0")]), (1, &[("hostname", "n1")])],
    );
    let out = harness().run(
        rel.changed(Some(1)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let r = out.state.rel(3).unwrap();
    assert_eq!(
        r.local_unit_data,
        bag([
            ("mirror", "up"),
            ("mirror-n0", "empty"),
            ("mirror-n1", "empty")
        ])
    );
    assert_eq!(r.local_app_data, bag([("bootstrap-app", "microovn")]));
    assert!(out.logged("added mirror-n0 to mirror"));
    let s = summary(&out.state);
    assert_eq!(
        (s.mirror_up, s.relations, s.nodes, s.tokens),
        (true, 1, 2, 0)
    );
    // Nothing changed: a second run writes nothing and reads no app bag.
    let out = harness().run(r.changed(Some(0)), out.state.clone());
    assert_eq!(out.calls_to("relation-set"), 0);
    assert!(!out.calls.iter().any(|c| c.args.contains("--app -")));
}

#[test]
fn tokens_are_copied_from_consumer_units_whose_mirror_is_up() {
    let rel = consumers(
        3,
        "microovn",
        &[
            (
                0,
                &[
                    ("hostname", "n0"),
                    ("mirror", "up"),
                    ("mirror-n1", "T1"),
                    ("xmirror-n9", "not by prefix"),
                ],
            ),
            (
                1,
                &[
                    ("hostname", "n1"),
                    ("mirror", "down"),
                    ("mirror-n2", "STALE"),
                ],
            ),
            (2, &[("hostname", "n2"), ("mirror-n2", "NOT-UP")]),
        ],
    );
    let out = harness().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_unit_data,
        bag([
            ("mirror", "up"),
            ("mirror-n0", "empty"),
            ("mirror-n1", "T1"),
            ("mirror-n2", "empty"),
        ])
    );
    assert_eq!(summary(&out.state).tokens, 1);
}

#[test]
fn a_token_is_never_overwritten_by_the_placeholder() {
    // LIBPATCH 2 copied whatever an up consumer held, `empty` included.
    let rel = consumers(
        3,
        "microovn",
        &[(
            0,
            &[("hostname", "n0"), ("mirror", "up"), ("mirror-n1", "empty")],
        )],
    )
    .local_unit_data([("mirror", "up"), ("mirror-n1", "T1")]);
    let out = harness().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert_eq!(out.state.rel(3).unwrap().local_unit_data["mirror-n1"], "T1");
}

#[test]
fn two_communicators_at_once_resolve_to_the_lowest_unit() {
    let rel = consumers(
        3,
        "microovn",
        &[
            (10, &[("mirror", "up"), ("mirror-n5", "FROM-10")]),
            (
                2,
                &[
                    ("mirror", "up"),
                    ("mirror-n5", "FROM-2"),
                    ("mirror-n6", "SIX"),
                ],
            ),
        ],
    );
    let out = harness().run(
        rel.changed(Some(10)),
        State::default().leader(true).relation(rel),
    );
    let mine = &out.state.rel(3).unwrap().local_unit_data;
    assert_eq!(mine["mirror-n5"], "FROM-2");
    assert_eq!(mine["mirror-n6"], "SIX");
}

#[test]
fn followers_write_nothing_but_lower_a_stale_mirror() {
    let rel = consumers(3, "microovn", &[(0, &[("hostname", "n0")])]);
    let out = harness().run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(out.ok());
    assert!(out.state.rel(3).unwrap().local_unit_data.is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
    let rel = consumers(3, "microovn", &[(0, &[("hostname", "n0")])])
        .local_unit_data([("mirror", "up"), ("mirror-n0", "T0")]);
    let out = harness().run(rel.changed(Some(0)), State::default().relation(rel));
    assert_eq!(
        out.state.rel(3).unwrap().local_unit_data,
        bag([("mirror", "down"), ("mirror-n0", "T0")])
    );
    assert!(!summary(&out.state).mirror_up);
}

#[test]
fn leader_elected_mirrors_every_relation_and_merges_them() {
    // The seed raised TooManyRelatedApps here with two relations.
    let a = consumers(
        3,
        "microovn",
        &[(
            0,
            &[("hostname", "a0"), ("mirror", "up"), ("mirror-b0", "TB0")],
        )],
    );
    let b = consumers(5, "ovn-agents", &[(0, &[("hostname", "b0")])]);
    let out = harness().run(
        Event::LeaderElected,
        State::default().leader(true).relation(a).relation(b),
    );
    assert!(out.ok(), "{:?}", out.error());
    let expected = bag([
        ("mirror", "up"),
        ("mirror-a0", "empty"),
        ("mirror-b0", "TB0"),
    ]);
    for id in [3, 5] {
        let r = out.state.rel(id).unwrap();
        assert_eq!(r.local_unit_data, expected, "relation {id}");
        assert_eq!(r.local_app_data, bag([("bootstrap-app", "microovn")]));
    }
    assert_eq!(summary(&out.state).relations, 2);
}

#[test]
fn leader_elected_on_a_follower_lowers_its_mirror() {
    let a = consumers(3, "microovn", &[]).local_unit_data([("mirror", "up")]);
    let b = consumers(5, "ovn-agents", &[]);
    let out = harness().run(
        Event::LeaderElected,
        State::default().relation(a).relation(b),
    );
    assert_eq!(out.state.rel(3).unwrap().local_unit_data["mirror"], "down");
    assert!(out.state.rel(5).unwrap().local_unit_data.is_empty());
}

#[test]
fn bootstrap_app_is_sticky_while_its_app_is_related() {
    let a = consumers(3, "microovn", &[]).local_app_data([("bootstrap-app", "ovn-agents")]);
    let b = consumers(5, "ovn-agents", &[]).local_app_data([("bootstrap-app", "ovn-agents")]);
    let out = harness().run(
        a.changed(None),
        State::default()
            .leader(true)
            .relation(a.clone())
            .relation(b.clone()),
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["bootstrap-app"],
        "ovn-agents"
    );
    // ovn-agents goes away: the oldest remaining relation's app is chosen.
    let out = harness().run(
        b.broken(),
        State::default().leader(true).relation(a).relation(b),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["bootstrap-app"],
        "microovn"
    );
    assert_eq!(summary(&out.state).relations, 1);
}

#[test]
fn bad_consumer_data_is_reported_and_the_rest_still_served() {
    let rel = consumers(
        3,
        "microovn",
        &[
            (
                0,
                &[
                    ("hostname", "n0"),
                    ("mirror", "sideways"),
                    ("mirror-n1", "T1"),
                ],
            ),
            (1, &[("hostname", "bad host")]),
            (2, &[("hostname", "n2")]),
        ],
    );
    let out = harness().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert_eq!(
        out.state.rel(3).unwrap().local_unit_data,
        bag([
            ("mirror", "up"),
            ("mirror-n0", "empty"),
            ("mirror-n2", "empty")
        ])
    );
    let s = summary(&out.state);
    assert_eq!(s.problems.len(), 2);
    assert!(s.problems[0].contains("unit microovn/0") && s.problems[0].contains("\"mirror\""));
    assert!(s.problems[1].contains("unit microovn/1") && s.problems[1].contains("bad host"));
}

/// Hook-tool calls per hook, for the benchmark notes (run with --nocapture to see them).
#[test]
fn calls_per_hook() {
    let rel = consumers(
        3,
        "microovn",
        &[
            (0, &[("hostname", "n0"), ("mirror", "up")]),
            (1, &[("hostname", "n1")]),
            (2, &[("hostname", "n2")]),
        ],
    );
    let out = harness().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    let first: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    println!("leader changed (first): {} {first:?}", first.len());
    assert!(first.len() <= 11);
    let r = out.state.rel(3).unwrap().clone();
    let out = harness().run(r.changed(Some(1)), out.state.clone());
    let steady: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    println!("leader changed (steady): {} {steady:?}", steady.len());
    assert!(steady.len() <= 7);
    let mut fresh = r.clone();
    fresh.local_unit_data.clear();
    let out = harness().run(
        fresh.changed(Some(1)),
        State::default().relation(fresh.clone()),
    );
    let follower: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    println!("follower changed: {} {follower:?}", follower.len());
    assert!(follower.len() <= 3);
    // A former leader stands down once: one more call.
    let out = harness().run(r.changed(Some(1)), State::default().relation(r.clone()));
    let former: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    println!("former leader changed: {} {former:?}", former.len());
    assert_eq!(former.len(), 4);
}
