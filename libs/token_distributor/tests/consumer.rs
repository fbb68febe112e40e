//! Harness tests of the consumer side, one unit at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use charm::state::DeferredEvent;
use charm::{Charm, Ctx, Error, Event, Status};
use charm_testing::{Harness, Relation, State};
use common::*;
use token_distributor::{ConsumerState, Joined, Phase, TokenGenerated, status_text};

const KEY: &str = "token_distributor.consumer:cluster";
const DIST: &str = "microcluster-token-distributor";

fn dist(units: &[(u32, &[(&str, &str)])]) -> Relation {
    let mut r = Relation::new("cluster", 7, DIST);
    for (n, pairs) in units {
        r = r.remote_unit(*n, pairs.iter().copied());
    }
    r
}

fn stored(state: &State) -> ConsumerState {
    state
        .stored
        .get(KEY)
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .unwrap_or_default()
}

fn in_cluster(bootstrapper: bool) -> serde_json::Value {
    serde_json::to_value(ConsumerState {
        in_cluster: true,
        bootstrapper,
        ..ConsumerState::default()
    })
    .unwrap()
}

#[test]
fn without_a_relation_it_waits_for_the_distributor() {
    let cli = FakeCli::new("n0");
    let out = consumer_ctx(&cli).run(Event::Install, State::default());
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::maintenance("Waiting for token distrbutor relation"))
    );
    assert!(cli.calls().is_empty());
}

#[test]
fn relation_created_publishes_the_hostname_only() {
    let cli = FakeCli::new("n0");
    let rel = dist(&[]);
    let out = consumer_ctx(&cli).run(rel.created(), State::default().leader(true).relation(rel));
    assert!(out.ok());
    assert_eq!(
        out.state.rel(7).unwrap().local_unit_data,
        charm_testing::bag([("hostname", "n0")])
    );
    // Nothing to decide yet: the distributor has not answered (LIBPATCH 2 bootstrapped here).
    assert!(cli.calls().is_empty());
    assert!(out.emitted.is_empty());
    assert_eq!(out.calls_to("relation-set"), 1);
}

#[test]
fn the_leader_bootstraps_once_the_mirror_is_up_and_prebootstrap_runs_first() {
    let cli = FakeCli::new("n0");
    let rel = dist(&[(
        0,
        &[
            ("mirror", "up"),
            ("mirror-n0", "empty"),
            ("mirror-n1", "empty"),
        ],
    )]);
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    // The charm's PreBootstrap handler ran before the bootstrap command.
    let journal = cli.0.journal.borrow().clone();
    let pos = |s: &str| journal.iter().position(|j| j == s).unwrap();
    assert!(
        pos("event PreBootstrap") < pos("cli bootstrap"),
        "{journal:?}"
    );
    assert!(
        pos("cli bootstrap") < pos("event Bootstrapped"),
        "{journal:?}"
    );
    // The library's events in order (the internal step is recorded too, wherever the core puts it).
    let names: Vec<&str> = out.emitted.iter().map(|e| e.name).collect();
    assert!(
        names.contains(&"token_distributor.bootstrap_step"),
        "{names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| !n.ends_with("_step"))
            .copied()
            .collect::<Vec<_>>(),
        [
            "token_distributor.cluster_pre_bootstrap",
            "token_distributor.cluster_bootstrapped",
            "token_distributor.cluster_joined",
            "token_distributor.token_generated",
        ]
    );
    assert_eq!(out.emitted::<Joined>(), [&Joined { bootstrapper: true }]);
    // It is the only voter: the communicator. It mints a token for n1, not for itself.
    assert_eq!(cli.subcommands(), ["bootstrap", "list", "add"]);
    assert_eq!(cli.calls()[2], ["mc", "add", "n1"]);
    assert_eq!(
        out.emitted::<TokenGenerated>(),
        [&TokenGenerated { node: "n1".into() }]
    );
    let mine = &out.state.rel(7).unwrap().local_unit_data;
    assert_eq!(
        *mine,
        charm_testing::bag([("hostname", "n0"), ("mirror", "up"), ("mirror-n1", "T-n1")])
    );
    assert_eq!(
        stored(&out.state),
        ConsumerState {
            in_cluster: true,
            bootstrapper: true,
            ..ConsumerState::default()
        }
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active(status_text::BOOTSTRAPPED))
    );
    assert_no_secret(&out, "T-n1");
}

#[test]
fn no_bootstrap_before_the_distributor_mirror_is_up() {
    for units in [
        dist(&[]),
        dist(&[(0, &[("mirror-n0", "empty")])]),
        dist(&[(0, &[("mirror", "down"), ("mirror-n0", "empty")])]),
    ] {
        let cli = FakeCli::new("n0");
        let out = consumer_ctx(&cli).run(
            units.changed(Some(0)),
            State::default().leader(true).relation(units),
        );
        assert!(out.ok());
        assert!(cli.calls().is_empty());
        assert_eq!(stored(&out.state).phase, Phase::TokenNotInMirror);
        assert_eq!(
            out.state.unit_status,
            Some(Status::maintenance("Token not in mirror"))
        );
    }
}

#[test]
fn bootstrap_follows_bootstrap_app_and_falls_back_to_the_libpatch_2_rule() {
    let up = [("mirror", "up"), ("mirror-n0", "empty")];
    // Named: bootstrap. Absent (LIBPATCH 2 distributor): bootstrap. Another app: wait.
    for (app_bag, bootstraps) in [
        (Some("microovn"), true),
        (None, true),
        (Some("ovn-agents"), false),
    ] {
        let cli = FakeCli::new("n0");
        let mut rel = dist(&[(0, &up)]);
        if let Some(app) = app_bag {
            rel = rel.remote_app_data([("bootstrap-app", app)]);
        }
        let out = consumer_ctx(&cli).run(
            rel.changed(Some(0)),
            State::default().leader(true).relation(rel),
        );
        assert!(out.ok());
        assert_eq!(cli.count("bootstrap") == 1, bootstraps, "{app_bag:?}");
        assert_eq!(stored(&out.state).in_cluster, bootstraps);
    }
}

#[test]
fn no_bootstrap_when_any_token_exists_or_not_leader() {
    // A token anywhere (even on a unit whose mirror is down) means a cluster exists.
    let rel = dist(&[
        (0, &[("mirror", "up"), ("mirror-n0", "empty")]),
        (1, &[("mirror", "down"), ("mirror-n9", "T-n9")]),
    ]);
    let cli = FakeCli::new("n0");
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert_eq!(cli.count("bootstrap"), 0);
    // A follower never bootstraps.
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n0", "empty")])]);
    let cli = FakeCli::new("n0");
    let out = consumer_ctx(&cli).run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(cli.count("bootstrap"), 0);
    assert_eq!(
        out.state.unit_status,
        Some(Status::maintenance("Token not in mirror"))
    );
}

#[test]
fn a_unit_with_a_token_joins_after_prejoin() {
    let cli = FakeCli::new("n1").with_members(&[("n0", "voter", "ONLINE")]);
    let rel = dist(&[(
        0,
        &[
            ("mirror", "up"),
            ("mirror-n1", "T-n1"),
            ("mirror-n0", "empty"),
        ],
    )]);
    let lib = consumer(&cli).join_args(|_: &mut Ctx| Ok(vec!["--config".into(), "a=b".into()]));
    let harness = Harness::new(consumer_charm(lib, &cli), CONSUMER_META);
    let out = harness.run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    let journal = cli.0.journal.borrow().clone();
    let pos = |s: &str| journal.iter().position(|j| j == s).unwrap();
    assert!(pos("event PreJoin") < pos("cli join"));
    assert_eq!(cli.calls()[0], ["mc", "join", "T-n1", "--config", "a=b"]);
    assert_eq!(
        out.emitted::<Joined>(),
        [&Joined {
            bootstrapper: false
        }]
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Joined cluster"))
    );
    // n0 is the lowest voter: n1 is no communicator and mints nothing.
    assert_eq!(cli.count("add"), 0);
    assert!(
        !out.state
            .rel(7)
            .unwrap()
            .local_unit_data
            .contains_key("mirror")
    );
    assert_no_secret(&out, "T-n1");
}

#[test]
fn a_join_that_fails_is_retried_at_the_next_hook() {
    let cli = FakeCli::new("n1").with_members(&[("n0", "voter", "ONLINE")]);
    cli.fail_next("join", 1);
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n1", "SECRET-T1")])]);
    *cli.0.members.borrow_mut() = vec![("n0".into(), "voter".into(), "ONLINE".into())];
    let harness = consumer_ctx(&cli);
    let out = harness.run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(out.ok(), "a failed join is not a failed hook");
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("Joining cluster failed"))
    );
    assert_eq!(stored(&out.state).phase, Phase::JoinFailed);
    assert_eq!(out.state.deferred.len(), 1);
    assert!(matches!(
        &out.state.deferred[0].event,
        DeferredEvent::Custom { name, .. } if name == "token_distributor.join_step"
    ));
    assert!(out.emitted::<Joined>().is_empty());
    assert_no_secret(&out, "SECRET-T1");
    // The fake rejects tokens not of the form T-<node>: use the right one now.
    let mut state = out.state;
    state.relations[0]
        .remote_units
        .get_mut(&0)
        .unwrap()
        .insert("mirror-n1".into(), "T-n1".into());
    let out = harness.run(Event::UpdateStatus, state);
    assert!(out.ok());
    assert_eq!(
        out.emitted::<Joined>(),
        [&Joined {
            bootstrapper: false
        }]
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Joined cluster"))
    );
    assert!(out.state.deferred.is_empty());
}

#[test]
fn a_bootstrap_that_fails_is_retried() {
    let cli = FakeCli::new("n0");
    cli.fail_next("bootstrap", 1);
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n0", "empty")])]);
    let harness = consumer_ctx(&cli);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("Unable to bootstrap cluster"))
    );
    assert_eq!(out.state.deferred.len(), 1);
    assert!(out.emitted::<Joined>().is_empty());
    let out = harness.run(Event::UpdateStatus, out.state);
    assert!(out.ok());
    assert_eq!(out.emitted::<Joined>(), [&Joined { bootstrapper: true }]);
    assert_eq!(cli.count("bootstrap"), 2);
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Cluster bootstrapped"))
    );
}

#[test]
fn the_joined_flag_survives_deferral_by_the_charm() {
    let cli = FakeCli::new("n0");
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut charm = Charm::new();
    charm.plugin(consumer(&cli));
    let s = seen.clone();
    charm.on_event(move |ctx: &mut Ctx, e: &Joined| {
        s.borrow_mut().push(e.bootstrapper);
        if s.borrow().len() == 1 {
            ctx.defer()?;
        }
        Ok::<(), Error>(())
    });
    let harness = Harness::new(charm, CONSUMER_META);
    let rel = dist(&[(0, &[("mirror", "up")])]);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    match &out.state.deferred[..] {
        [d] => assert_eq!(
            d.event,
            DeferredEvent::Custom {
                name: "token_distributor.cluster_joined".into(),
                data: serde_json::json!({"bootstrapper": true})
            }
        ),
        other => panic!("{other:?}"),
    }
    let out = harness.run(Event::UpdateStatus, out.state);
    assert!(out.ok());
    assert_eq!(*seen.borrow(), [true, true]);
    assert!(out.state.deferred.is_empty());
}

#[test]
fn the_communicator_mints_tokens_for_placeholders_only() {
    let cli =
        FakeCli::new("n0").with_members(&[("n0", "voter", "ONLINE"), ("n1", "voter", "ONLINE")]);
    let rel = dist(&[(
        0,
        &[
            ("mirror", "up"),
            ("mirror-n0", "empty"), // itself: a member
            ("mirror-n1", "empty"), // a member already
            ("mirror-n2", "empty"), // needs one
            ("mirror-n3", "empty"), // minted before (in own bag)
            ("mirror-n4", "T-n4"),  // has one
        ],
    )])
    .local_unit_data([("hostname", "n0"), ("mirror", "up"), ("mirror-n3", "T-n3")]);
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default().relation(rel).stored(KEY, in_cluster(true)),
    );
    assert!(out.ok());
    assert_eq!(cli.subcommands(), ["list", "add"]);
    assert_eq!(cli.calls()[1], ["mc", "add", "n2"]);
    assert_eq!(
        out.state.rel(7).unwrap().local_unit_data["mirror-n2"],
        "T-n2"
    );
    assert_eq!(out.calls_to("relation-set"), 1);
    // A second run with nothing new does nothing.
    cli.clear_calls();
    let out = consumer_ctx(&cli).run(
        out.state.rel(7).unwrap().changed(Some(0)),
        out.state.clone(),
    );
    assert_eq!(cli.subcommands(), ["list"]);
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_former_communicator_lowers_its_mirror() {
    let cli =
        FakeCli::new("n1").with_members(&[("n0", "voter", "ONLINE"), ("n1", "voter", "ONLINE")]);
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n2", "empty")])])
        .local_unit_data([("hostname", "n1"), ("mirror", "up")]);
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default()
            .relation(rel)
            .stored(KEY, in_cluster(false)),
    );
    assert!(out.ok());
    assert_eq!(out.state.rel(7).unwrap().local_unit_data["mirror"], "down");
    assert_eq!(cli.count("add"), 0);
    // An unreachable lowest voter does not count: n1 becomes the communicator.
    let cli = FakeCli::new("n1")
        .with_members(&[("n0", "voter", "UNREACHABLE"), ("n1", "voter", "ONLINE")]);
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n2", "empty")])])
        .local_unit_data([("hostname", "n1")]);
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default()
            .relation(rel)
            .stored(KEY, in_cluster(false)),
    );
    assert_eq!(out.state.rel(7).unwrap().local_unit_data["mirror"], "up");
    assert_eq!(cli.count("add"), 1);
}

#[test]
fn safe_mirror_down_keeps_a_token_only_this_unit_holds_up_and_never_fails() {
    // LIBPATCH 3 "safe mirror down": n1 is no longer the communicator, but the distributor still
    // shows n2 as `empty` while n1 holds n2's token: its mirror stays up so the token is copied.
    let run = |own: &[(&str, &str)], mirrored: &[(&str, &str)]| {
        let cli = FakeCli::new("n1")
            .with_members(&[("n0", "voter", "ONLINE"), ("n1", "voter", "ONLINE")]);
        let mut bag: Vec<(&str, &str)> = vec![("mirror", "up")];
        bag.extend_from_slice(mirrored);
        let rel = dist(&[(0, &bag)]).local_unit_data(own.iter().copied());
        let out = consumer_ctx(&cli).run(
            rel.changed(Some(0)),
            State::default()
                .relation(rel)
                .stored(KEY, in_cluster(false)),
        );
        assert!(out.ok(), "{:?}", out.error());
        assert_eq!(cli.count("add"), 0, "not the communicator: mints nothing");
        out.state
            .rel(7)
            .unwrap()
            .local_unit_data
            .get("mirror")
            .cloned()
    };
    let held = [("hostname", "n1"), ("mirror", "down"), ("mirror-n2", "T2")];
    assert_eq!(run(&held, &[("mirror-n2", "empty")]).as_deref(), Some("up"));
    let held_up = [("hostname", "n1"), ("mirror", "up"), ("mirror-n2", "T2")];
    assert_eq!(
        run(&held_up, &[("mirror-n2", "empty")]).as_deref(),
        Some("up")
    );
    // Mirrored already: down.
    assert_eq!(
        run(&held_up, &[("mirror-n2", "T2")]).as_deref(),
        Some("down")
    );
    // A placeholder for a node n1 never minted for (Python: KeyError, a failed hook): down.
    let own = [("hostname", "n1"), ("mirror", "up")];
    assert_eq!(
        run(&own, &[("mirror-n3", "empty")]).as_deref(),
        Some("down")
    );
    // Never a mirror: the key stays absent.
    let own = [("hostname", "n1"), ("mirror-n2", "T2")];
    assert_eq!(run(&own, &[("mirror-n2", "empty")]), None);
}

#[test]
fn a_member_stuck_pending_is_a_bounded_wait_then_a_retry() {
    let cli =
        FakeCli::new("n0").with_members(&[("n0", "voter", "ONLINE"), ("n5", "PENDING", "ONLINE")]);
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n2", "empty")])])
        .local_unit_data([("hostname", "n0")]);
    let harness = consumer_ctx(&cli);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().relation(rel).stored(KEY, in_cluster(true)),
    );
    assert!(out.ok(), "the bound is not a failed hook");
    assert_eq!(cli.subcommands(), ["list", "list", "list"]);
    assert_eq!(
        out.state.unit_status,
        Some(Status::waiting("Waiting on pending nodes"))
    );
    assert_eq!(out.state.deferred.len(), 1);
    assert!(
        !out.state
            .rel(7)
            .unwrap()
            .local_unit_data
            .contains_key("mirror")
    );
    // The member finishes joining: the deferred event goes through.
    cli.0.members.borrow_mut()[1].1 = "voter".into();
    cli.clear_calls();
    let out = harness.run(Event::UpdateStatus, out.state);
    assert!(out.ok());
    assert_eq!(cli.subcommands(), ["list", "add"]);
    assert!(out.state.deferred.is_empty());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Cluster bootstrapped"))
    );
}

#[test]
fn one_dispatch_waits_for_pending_members_only_once() {
    let cli =
        FakeCli::new("n0").with_members(&[("n0", "voter", "ONLINE"), ("n5", "PENDING", "ONLINE")]);
    let rel = dist(&[(0, &[("mirror", "up")]), (1, &[("mirror", "up")])])
        .local_unit_data([("hostname", "n0")]);
    let harness = consumer_ctx(&cli);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default()
            .relation(rel.clone())
            .stored(KEY, in_cluster(true)),
    );
    assert_eq!(cli.count("list"), 3);
    assert_eq!(out.state.deferred.len(), 1);
    // Next dispatch: the deferred event re-runs and waits; the new event reuses its answer.
    cli.clear_calls();
    let out = harness.run(rel.changed(Some(1)), out.state);
    assert!(out.ok());
    assert_eq!(cli.count("list"), 3, "not 6");
    assert_eq!(out.state.deferred.len(), 1, "one retry carries the work");
    assert_eq!(
        out.state.unit_status,
        Some(Status::waiting("Waiting on pending nodes"))
    );
}

#[test]
fn list_failures_and_garbage_are_statuses_not_panics() {
    let rel = dist(&[(0, &[("mirror", "up")])]).local_unit_data([("hostname", "n0")]);
    // Exit 1: the Python library leaves "Waiting on pending nodes"; we also retry.
    let cli = FakeCli::new("n0").with_members(&[("n0", "voter", "ONLINE")]);
    cli.fail_next("list", 1);
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default()
            .relation(rel.clone())
            .stored(KEY, in_cluster(true)),
    );
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::waiting("Waiting on pending nodes"))
    );
    assert_eq!(out.state.deferred.len(), 1);
    for (garbage, needle) in [
        ("Error: daemon not ready", "not JSON"),
        (
            r#"[{"name": "n0", "status": "ONLINE"}]"#,
            "missing field `role`",
        ),
        (
            r#"[{"name": "n0", "role": "boss", "status": "ONLINE"}]"#,
            "unknown variant `boss`",
        ),
        (r#"{"members": []}"#, "not a JSON array"),
    ] {
        let cli = FakeCli::new("n0");
        *cli.0.list_output.borrow_mut() = Some(garbage.into());
        let out = consumer_ctx(&cli).run(
            rel.changed(Some(0)),
            State::default()
                .relation(rel.clone())
                .stored(KEY, in_cluster(true)),
        );
        assert!(out.ok(), "{garbage}");
        let status = out.state.unit_status.clone().unwrap();
        assert_eq!(status.kind, charm::StatusKind::Blocked, "{garbage}");
        assert!(
            status
                .message
                .starts_with("cluster list: `list` printed unexpected output"),
            "{status}"
        );
        assert!(status.message.contains(needle), "{status}");
        assert_eq!(out.state.deferred.len(), 1);
    }
}

#[test]
fn bad_distributor_data_is_reported_and_not_trusted() {
    // A unit whose mirror flag is garbage is no mirror: its token is not used.
    let cli = FakeCli::new("n1");
    let rel = dist(&[(0, &[("mirror", "sideways"), ("mirror-n1", "T-n1")])]);
    let out = consumer_ctx(&cli).run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(out.ok());
    assert!(cli.calls().is_empty());
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, charm::StatusKind::Blocked);
    assert!(
        status
            .message
            .contains("relation cluster:7, unit microcluster-token-distributor/0")
            && status.message.contains("key \"mirror\""),
        "{status}"
    );
    // A token for another host is never used; a malformed token for us is refused.
    let cli = FakeCli::new("n1");
    let rel = dist(&[(
        0,
        &[
            ("mirror", "up"),
            ("mirror-ghost", "T-ghost"),
            ("mirror-stranger", "empty"),
        ],
    )]);
    let out = consumer_ctx(&cli).run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(cli.calls().is_empty());
    assert_eq!(
        out.state.unit_status,
        Some(Status::maintenance("Token not in mirror"))
    );
    let cli = FakeCli::new("n1");
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n1", "--help")])]);
    let out = consumer_ctx(&cli).run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(cli.calls().is_empty());
    let status = out.state.unit_status.unwrap();
    assert!(
        status
            .message
            .contains("key mirror-n1: the join token for n1 is unusable"),
        "{status}"
    );
    // A malformed bootstrap-app: no bootstrap, a status naming the key.
    let cli = FakeCli::new("n0");
    let rel = dist(&[(0, &[("mirror", "up")])]).remote_app_data([("bootstrap-app", "Not An App")]);
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert_eq!(cli.count("bootstrap"), 0);
    assert!(
        out.state
            .unit_status
            .unwrap()
            .message
            .contains("bootstrap-app")
    );
}

#[test]
fn two_distributor_mirrors_are_corroborated() {
    // During a distributor leader change two mirrors can be up; the most common token wins,
    // ties going to the lowest unit.
    let cli = FakeCli::new("n1").with_members(&[("n0", "voter", "ONLINE")]);
    let rel = dist(&[
        (0, &[("mirror", "up"), ("mirror-n1", "T-n1")]),
        (1, &[("mirror", "up"), ("mirror-n1", "T-other")]),
    ]);
    let out = consumer_ctx(&cli).run(rel.changed(Some(1)), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(cli.calls()[0][2], "T-n1");
}

#[test]
fn bad_config_blocks_and_the_work_resumes_when_fixed() {
    let cli = FakeCli::new("n0");
    let configured = std::rc::Rc::new(std::cell::Cell::new(false));
    let c = configured.clone();
    let lib = consumer(&cli).command_with(move |_: &mut Ctx| {
        if c.get() {
            Ok(vec!["mc".into()])
        } else {
            Err(Error::blocked("set cluster-command"))
        }
    });
    let harness = Harness::new(consumer_charm(lib, &cli), CONSUMER_META);
    let rel = dist(&[(0, &[("mirror", "up")])]);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("set cluster-command"))
    );
    assert_eq!(out.state.deferred.len(), 1);
    assert!(cli.calls().is_empty());
    configured.set(true);
    let out = harness.run(Event::ConfigChanged, out.state);
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Cluster bootstrapped"))
    );
}

#[test]
fn an_unusable_hostname_blocks() {
    let cli = FakeCli::new("n0");
    let lib = consumer(&cli).hostname(|| {
        Err(token_distributor::HostnameError::Invalid {
            name: "-x".into(),
            source_name: "$MICROCLUSTER_NODE_NAME".into(),
            why: "it must start with a letter or a digit",
        })
    });
    let harness = Harness::new(consumer_charm(lib, &cli), CONSUMER_META);
    let rel = dist(&[(0, &[("mirror", "up")])]);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, charm::StatusKind::Blocked);
    assert!(
        status.message.contains("MICROCLUSTER_NODE_NAME"),
        "{status}"
    );
    assert!(cli.calls().is_empty());
}

#[test]
fn remove_leaves_the_cluster_only_when_in_it() {
    let cli =
        FakeCli::new("n1").with_members(&[("n0", "voter", "ONLINE"), ("n1", "voter", "ONLINE")]);
    let out = consumer_ctx(&cli).run(
        Event::Remove,
        State::default().stored(KEY, in_cluster(false)),
    );
    assert!(out.ok());
    assert_eq!(cli.calls(), [["mc", "remove", "n1"]]);
    assert!(!stored(&out.state).in_cluster);
    let cli = FakeCli::new("n1");
    cli.fail_next("remove", 1);
    let out = consumer_ctx(&cli).run(
        Event::Remove,
        State::default().stored(KEY, in_cluster(false)),
    );
    assert!(out.ok(), "a failed remove is only logged, as in Python");
    assert!(out.logged("failed removing n1 from cluster"));
    let cli = FakeCli::new("n1");
    let out = consumer_ctx(&cli).run(Event::Remove, State::default());
    assert!(out.ok());
    assert!(cli.calls().is_empty());
}

#[test]
fn leader_elected_bootstraps_when_the_old_leader_never_did() {
    let cli = FakeCli::new("n3");
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n3", "empty")])]);
    let out = consumer_ctx(&cli).run(
        Event::LeaderElected,
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert_eq!(cli.count("bootstrap"), 1);
    // In the cluster already: leader-elected costs nothing.
    let cli = FakeCli::new("n3");
    let out = consumer_ctx(&cli).run(
        Event::LeaderElected,
        State::default()
            .leader(true)
            .relation(dist(&[]))
            .stored(KEY, in_cluster(false)),
    );
    assert!(cli.calls().is_empty());
    assert!(out.calls.is_empty() || out.calls.iter().all(|c| c.tool == "status-set"));
}

/// Hook-tool and CLI calls per hook, for the benchmark notes (run with --nocapture to see them).
#[test]
fn calls_per_hook_stay_small() {
    let report = |what: &str, out: &charm_testing::Output, cli: &FakeCli| {
        let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
        println!(
            "{what}: {} hook tools {tools:?}; CLI {:?}",
            tools.len(),
            cli.subcommands()
        );
        tools.len()
    };
    // relation-created.
    let cli = FakeCli::new("n0");
    let rel = dist(&[]);
    let out = consumer_ctx(&cli).run(rel.created(), State::default().leader(true).relation(rel));
    assert!(report("created", &out, &cli) <= 4);
    // Leader bootstrap with one placeholder to mint.
    let cli = FakeCli::new("n0");
    let rel = dist(&[(
        0,
        &[
            ("mirror", "up"),
            ("mirror-n0", "empty"),
            ("mirror-n1", "empty"),
        ],
    )]);
    let out = consumer_ctx(&cli).run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(report("changed: bootstrap + mint", &out, &cli) <= 8);
    // Steady state, in the cluster, nothing to do.
    let cli =
        FakeCli::new("n1").with_members(&[("n0", "voter", "ONLINE"), ("n1", "voter", "ONLINE")]);
    let rel = dist(&[(0, &[("mirror", "up"), ("mirror-n1", "T-n1")])])
        .local_unit_data([("hostname", "n1")]);
    let state = State::default()
        .relation(rel.clone())
        .stored(KEY, in_cluster(false))
        .leader(false);
    let mut state = state;
    state.unit_status = Some(Status::active("Joined cluster"));
    let out = consumer_ctx(&cli).run(rel.changed(Some(0)), state.clone());
    assert!(report("changed: steady state", &out, &cli) <= 4);
    assert_eq!(cli.count("list"), 1);
    // update-status in the cluster: nothing at all.
    let cli = FakeCli::new("n1");
    let out = consumer_ctx(&cli).run(Event::UpdateStatus, state);
    assert_eq!(report("update-status", &out, &cli), 0);
}
