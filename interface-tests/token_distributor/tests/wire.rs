//! Wire fixtures, both ways: what the Python library (LIBPATCH 2) writes is read correctly by the
//! Rust side, and what the Rust side writes is byte for byte what the Python side writes in the
//! same situation (so a Python peer reads it as it reads its own kind).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{BagData, Status};
use charm_testing::{Harness, Relation, State};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use token_distributor::{
    CommandOutput, CommandRunner, ConsumerUnitBag, MirrorFlag, MirrorValue, PendingWait,
    ProviderUnitBag,
};

const FIXTURES: &str = include_str!("../fixtures/libpatch2.json");
const DIST: &str = "microcluster-token-distributor";

fn fixtures() -> Value {
    serde_json::from_str(FIXTURES).unwrap()
}

/// A fixture object as a bag (its `about` note left out).
fn bag(v: &Value) -> BagData {
    v.as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "about")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn token(host: &str) -> String {
    fixtures()["tokens"][host].as_str().unwrap().to_string()
}

fn provider() -> Harness {
    Harness::new(
        microcluster_token_distributor::charm(),
        microcluster_token_distributor::METADATA,
    )
}

/// A microovn CLI answering from the fixtures; records every call.
struct FixtureCli {
    voters: Vec<&'static str>,
    calls: RefCell<Vec<Vec<String>>>,
}

impl CommandRunner for FixtureCli {
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        self.calls.borrow_mut().push(argv.to_vec());
        let sub = argv.get(2).map(String::as_str).unwrap_or("");
        Ok(match sub {
            "add" => match fixtures()["tokens"].get(argv[3].as_str()) {
                Some(t) => CommandOutput::ok(format!("{}\n", t.as_str().unwrap())),
                None => CommandOutput::failed(1, "Error: already a member"),
            },
            "list" => {
                let rows: Vec<Value> = self
                    .voters
                    .iter()
                    .map(|n| serde_json::json!({"name": n, "address": "10.10.0.1:6443", "role": "voter", "status": "ONLINE"}))
                    .collect();
                CommandOutput::ok(Value::Array(rows).to_string())
            }
            _ => CommandOutput::ok(""),
        })
    }
}

fn consumer(host: &'static str, cli: &Rc<FixtureCli>, unit: u32) -> Harness {
    let runner: Rc<dyn CommandRunner> = cli.clone();
    let options = microcluster_node::Options {
        runner: Some(runner),
        hostname: Some(Rc::new(move || Ok(host.to_string()))),
        wait: Some(PendingWait {
            attempts: 1,
            interval: Duration::ZERO,
        }),
    };
    let meta = microcluster_node::METADATA.replacen("name: microcluster-node", "name: microovn", 1);
    Harness::new(microcluster_node::charm_with(options), &meta)
        .config_yaml(microcluster_node::CONFIG)
        .unit(unit)
}

fn cli(voters: &[&'static str]) -> Rc<FixtureCli> {
    Rc::new(FixtureCli {
        voters: voters.to_vec(),
        calls: RefCell::new(Vec::new()),
    })
}

fn python_distributor() -> Relation {
    let f = fixtures();
    Relation::new("cluster", 4, DIST)
        .remote_unit(0, bag(&f["provider_units"]["0"]))
        .remote_unit(1, bag(&f["provider_units"]["1"]))
}

fn python_consumers() -> Relation {
    let f = fixtures();
    let mut rel = Relation::new("microcluster-cluster", 4, "microovn");
    for n in 0..3u32 {
        rel = rel.remote_unit(n, bag(&f["consumer_units"][n.to_string().as_str()]));
    }
    rel
}

// ----- Python writes, Rust reads -----

#[test]
fn python_consumer_bags_decode() {
    let f = fixtures();
    let b0 = ConsumerUnitBag::decode(&bag(&f["consumer_units"]["0"])).unwrap();
    assert_eq!(b0.hostname.as_deref(), Some("juju-7f3a-0"));
    assert_eq!(b0.mirror, Some(MirrorFlag::Up));
    assert_eq!(
        b0.entries.get("juju-7f3a-1").unwrap().as_wire(),
        token("juju-7f3a-1")
    );
    let b2 = ConsumerUnitBag::decode(&bag(&f["consumer_units"]["2"])).unwrap();
    assert_eq!(b2.mirror, Some(MirrorFlag::Down));
    let p = ProviderUnitBag::decode(&bag(&f["provider_units"]["0"])).unwrap();
    assert_eq!(p.entries.get("juju-7f3a-0"), Some(&MirrorValue::Empty));
    assert_eq!(p.entries.tokens(), 1);
}

#[test]
fn our_distributor_reads_python_consumers_and_writes_what_python_writes() {
    let f = fixtures();
    let rel = python_consumers();
    let out = provider().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let r = out.state.rel(4).unwrap();
    // Byte for byte what the Python distributor leader writes for the same consumers.
    assert_eq!(r.local_unit_data, bag(&f["provider_leader_after"]));
    // The app bag carries `bootstrap-app` (LIBPATCH 7+); a LIBPATCH 2 consumer never reads it.
    assert_eq!(
        r.local_app_data,
        charm_testing::bag([("bootstrap-app", "microovn")])
    );
    // Hostnames only: placeholders for everyone.
    let only_hosts = Relation::new("microcluster-cluster", 4, "microovn")
        .remote_unit(0, [("hostname", "juju-7f3a-0")])
        .remote_unit(1, [("hostname", "juju-7f3a-1")])
        .remote_unit(2, [("hostname", "juju-7f3a-2")]);
    let out = provider().run(
        only_hosts.changed(Some(2)),
        State::default().leader(true).relation(only_hosts),
    );
    assert_eq!(
        out.state.rel(4).unwrap().local_unit_data,
        bag(&f["provider_placeholders_only"])
    );
}

#[test]
fn our_consumer_joins_with_the_token_a_python_distributor_mirrors() {
    let c = cli(&["juju-7f3a-0"]);
    let rel = python_distributor();
    let out = consumer("juju-7f3a-1", &c, 1).run(
        rel.changed(Some(0)),
        State::default()
            .config("cluster-command", "microovn cluster")
            .relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        c.calls.borrow()[0],
        ["microovn", "cluster", "join", token("juju-7f3a-1").as_str()]
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Joined cluster"))
    );
}

#[test]
fn a_down_mirror_and_placeholders_are_no_token() {
    // juju-7f3a-2: a placeholder on the up unit, a stale token on the down one.
    let c = cli(&["juju-7f3a-0"]);
    let rel = python_distributor();
    let out = consumer("juju-7f3a-2", &c, 2).run(
        rel.changed(Some(1)),
        State::default()
            .config("cluster-command", "microovn cluster")
            .relation(rel),
    );
    assert!(out.ok());
    assert!(c.calls.borrow().is_empty());
    assert_eq!(
        out.state.unit_status,
        Some(Status::maintenance("Token not in mirror"))
    );
    // The leader does not bootstrap a second cluster: tokens exist.
    let c = cli(&[]);
    let rel = python_distributor();
    let out = consumer("juju-7f3a-0", &c, 0).run(
        rel.changed(Some(0)),
        State::default()
            .leader(true)
            .config("cluster-command", "microovn cluster")
            .relation(rel),
    );
    assert!(out.ok());
    assert!(c.calls.borrow().is_empty());
}

// ----- Rust writes, Python reads -----

#[test]
fn our_consumer_publishes_its_hostname_as_python_does() {
    let f = fixtures();
    let c = cli(&[]);
    let rel = Relation::new("cluster", 4, DIST);
    let out = consumer("juju-7f3a-1", &c, 1).run(
        rel.created(),
        State::default()
            .config("cluster-command", "microovn cluster")
            .relation(rel),
    );
    assert_eq!(
        out.state.rel(4).unwrap().local_unit_data,
        bag(&f["consumer_hostname_only"])
    );
}

#[test]
fn our_communicator_publishes_what_a_python_communicator_publishes() {
    let f = fixtures();
    // A LIBPATCH 2 distributor: placeholders for all three, no bootstrap-app.
    let rel =
        Relation::new("cluster", 4, DIST).remote_unit(0, bag(&f["provider_placeholders_only"]));
    let c = cli(&["juju-7f3a-0"]);
    let out = consumer("juju-7f3a-0", &c, 0).run(
        rel.changed(Some(0)),
        State::default()
            .leader(true)
            .config("cluster-command", "microovn cluster")
            .relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    // It bootstrapped (LIBPATCH 2 rule: leader, no token anywhere), then minted as communicator.
    let subs: Vec<String> = c.calls.borrow().iter().map(|a| a[2].clone()).collect();
    assert_eq!(subs, ["bootstrap", "list", "add", "add"]);
    // Byte for byte the Python communicator's bag.
    assert_eq!(
        out.state.rel(4).unwrap().local_unit_data,
        bag(&f["consumer_units"]["0"])
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Cluster bootstrapped"))
    );
}

#[test]
fn our_distributor_output_is_what_a_python_consumer_reads() {
    // A Python consumer finds mirrors by `mirror == "up"` and its token under
    // `mirror-<hostname>`, `empty` meaning none: check our bag in those terms.
    let rel = python_consumers();
    let out = provider().run(
        rel.changed(Some(1)),
        State::default().leader(true).relation(rel),
    );
    let mine = out.state.rel(4).unwrap().local_unit_data.clone();
    assert_eq!(mine.get("mirror").map(String::as_str), Some("up"));
    assert_eq!(mine["mirror-juju-7f3a-1"], token("juju-7f3a-1"));
    assert_eq!(mine["mirror-juju-7f3a-0"], "empty");
    assert!(
        mine.keys()
            .all(|k| k == "mirror" || k.starts_with("mirror-"))
    );
}

// ----- Deliberate differences, pinned -----

#[test]
fn keys_are_copied_by_prefix_not_by_substring() {
    // LIBPATCH 2 copied any key containing `mirror-` (e.g. `xmirror-a`); no consumer reads those.
    let rel = Relation::new("microcluster-cluster", 4, "microovn").remote_unit(
        0,
        [
            ("hostname", "h0"),
            ("mirror", "up"),
            ("xmirror-a", "X"),
            ("mirror-h1", "T1"),
        ],
    );
    let out = provider().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    let mine = &out.state.rel(4).unwrap().local_unit_data;
    assert!(!mine.contains_key("xmirror-a"));
    assert_eq!(mine["mirror-h1"], "T1");
}

#[test]
fn two_communicators_resolve_to_the_lowest_unit_number() {
    // Python let the last unit of an unordered set win; we take the lowest unit number.
    let rel = Relation::new("microcluster-cluster", 4, "microovn")
        .remote_unit(
            1,
            [
                ("hostname", "h1"),
                ("mirror", "up"),
                ("mirror-h3", "FROM-1"),
            ],
        )
        .remote_unit(
            0,
            [
                ("hostname", "h0"),
                ("mirror", "up"),
                ("mirror-h3", "FROM-0"),
            ],
        );
    for changed in [0, 1] {
        let out = provider().run(
            rel.changed(Some(changed)),
            State::default().leader(true).relation(rel.clone()),
        );
        assert_eq!(
            out.state.rel(4).unwrap().local_unit_data["mirror-h3"],
            "FROM-0"
        );
    }
}

#[test]
fn mirror_values_other_than_up_and_down_are_not_mirrors() {
    for garbage in ["UP", "true", "1", "upp"] {
        // On the distributor side: a consumer with such a flag is not copied, and reported.
        let rel = Relation::new("microcluster-cluster", 4, "microovn").remote_unit(
            0,
            [("hostname", "h0"), ("mirror", garbage), ("mirror-h1", "T1")],
        );
        let out = provider().run(
            rel.changed(Some(0)),
            State::default().leader(true).relation(rel),
        );
        assert!(out.ok());
        let mine = &out.state.rel(4).unwrap().local_unit_data;
        assert!(!mine.contains_key("mirror-h1"), "{garbage}");
        assert_eq!(mine["mirror-h0"], "empty");
        let status = out.state.unit_status.clone().unwrap();
        assert!(status.message.contains(garbage), "{status}");
        // On the consumer side: a distributor unit with such a flag is no mirror.
        let c = cli(&[]);
        let rel = Relation::new("cluster", 4, DIST)
            .remote_unit(0, [("mirror", garbage), ("mirror-juju-7f3a-1", "T1")]);
        let out = consumer("juju-7f3a-1", &c, 1).run(
            rel.changed(Some(0)),
            State::default()
                .config("cluster-command", "microovn cluster")
                .relation(rel),
        );
        assert!(out.ok());
        assert!(c.calls.borrow().is_empty(), "{garbage}");
        assert_eq!(
            out.state.unit_status.unwrap().kind,
            charm::StatusKind::Blocked
        );
    }
}

#[test]
fn tokens_for_unknown_hosts_are_carried_but_never_used() {
    // A token for a host no unit has: the distributor carries it (as Python does)...
    let rel = Relation::new("microcluster-cluster", 4, "microovn").remote_unit(
        0,
        [("hostname", "h0"), ("mirror", "up"), ("mirror-ghost", "TG")],
    );
    let out = provider().run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert_eq!(
        out.state.rel(4).unwrap().local_unit_data["mirror-ghost"],
        "TG"
    );
    // ...and a consumer never joins with a token that is not for its own name.
    let c = cli(&[]);
    let rel = Relation::new("cluster", 4, DIST).remote_unit(
        0,
        [
            ("mirror", "up"),
            ("mirror-ghost", "TG"),
            ("mirror-juju-7f3a-1", "empty"),
        ],
    );
    let out = consumer("juju-7f3a-1", &c, 1).run(
        rel.changed(Some(0)),
        State::default()
            .config("cluster-command", "microovn cluster")
            .relation(rel),
    );
    assert!(c.calls.borrow().is_empty());
    assert_eq!(
        out.state.unit_status,
        Some(Status::maintenance("Token not in mirror"))
    );
}
