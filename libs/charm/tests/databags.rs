//! Juju's databag rules, enforced by the model before any hook tool runs, and the write path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Bag, Charm, Ctx, Error, Event, EventKind, Filter, ModelError, RelationEvent};
use charm_testing::{Harness, Relation, State, bag};

const META: &str = "name: app
requires:
  db: {interface: pg}
peers:
  cluster: {interface: app-peers}
";

/// A charm whose only handler runs `f` on every event.
fn harness_with(f: impl Fn(&mut Ctx, &Event) -> Result<(), Error> + 'static) -> Harness {
    let mut charm = Charm::new();
    charm.on(Filter::any(), f);
    Harness::new(charm, META)
}

fn db() -> Relation {
    Relation::new("db", 1, "pg")
        .remote_app_data([("host", "pg.internal")])
        .remote_unit(0, [("addr", "10.0.0.1")])
}

fn model_error(out: &charm_testing::Output) -> String {
    out.error().unwrap_or_default().to_string()
}

#[test]
fn follower_cannot_read_its_app_bag_on_a_regular_relation() {
    let harness = harness_with(|ctx, _| {
        ctx.read(&db().rid(), &Bag::LocalApp)?;
        Ok(())
    });
    let out = harness.run(Event::UpdateStatus, State::default().relation(db()));
    assert!(
        model_error(&out).contains("only the leader can read"),
        "{:?}",
        out.error()
    );
    assert_eq!(
        out.calls_to("relation-get"),
        0,
        "refused before calling Juju"
    );
    let out = harness.run(
        Event::UpdateStatus,
        State::default().leader(true).relation(db()),
    );
    assert!(out.ok());
}

#[test]
fn every_unit_reads_the_peer_app_bag_but_only_the_leader_writes_it() {
    let peers = || Relation::peer("cluster", 2, "app").local_app_data([("k", "v")]);
    let harness = harness_with(|ctx, _| {
        let rel = charm::RelationId::new("cluster", 2);
        let data = ctx.read(&rel, &Bag::LocalApp)?;
        if data.get("k").map(String::as_str) != Some("v") {
            return Err(Error::fail("peer app bag not readable"));
        }
        ctx.set(&rel, &Bag::LocalApp, "k", "w")?;
        Ok(())
    });
    let out = harness.run(Event::UpdateStatus, State::default().relation(peers()));
    assert!(
        model_error(&out).contains("only the leader can write"),
        "{:?}",
        out.error()
    );
    let out = harness.run(
        Event::UpdateStatus,
        State::default().leader(true).relation(peers()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.rel(2).unwrap().local_app_data["k"], "w");
}

#[test]
fn remote_bags_are_read_only() {
    for target in [Bag::RemoteApp, Bag::Unit("pg/0".into())] {
        let t = target.clone();
        let harness = harness_with(move |ctx, _| {
            ctx.set(&db().rid(), &t, "x", "y")?;
            Ok(())
        });
        let out = harness.run(
            Event::UpdateStatus,
            State::default().leader(true).relation(db()),
        );
        assert!(
            model_error(&out).contains("read-only"),
            "{target}: {:?}",
            out.error()
        );
    }
}

#[test]
fn writes_are_staged_visible_to_reads_and_sent_once_per_bag() {
    let harness = harness_with(|ctx, _| {
        let rel = db().rid();
        ctx.set(&rel, &Bag::LocalUnit, "a", "1")?;
        ctx.set(&rel, &Bag::LocalUnit, "b", "2")?;
        ctx.set(&rel, &Bag::LocalUnit, "old", "")?;
        let mine = ctx.read(&rel, &Bag::LocalUnit)?;
        assert_eq!(mine, bag([("a", "1"), ("b", "2")]));
        ctx.update(&rel, &Bag::LocalApp, [("x", "1"), ("y", "2")])?;
        Ok(())
    });
    let state = State::default()
        .leader(true)
        .relation(db().local_unit_data([("old", "gone soon")]));
    let out = harness.run(Event::UpdateStatus, state);
    assert!(out.ok(), "{:?}", out.error());
    let rel = out.state.rel(1).unwrap();
    assert_eq!(rel.local_unit_data, bag([("a", "1"), ("b", "2")]));
    assert_eq!(rel.local_app_data, bag([("x", "1"), ("y", "2")]));
    assert_eq!(out.calls_to("relation-set"), 2, "{:?}", out.calls);
    assert_eq!(
        out.calls_to("relation-get"),
        1,
        "the local unit bag is read once"
    );
}

#[test]
fn rewriting_identical_values_sends_nothing() {
    let harness = harness_with(|ctx, _| {
        let rel = db().rid();
        let mine = ctx.read(&rel, &Bag::LocalUnit)?;
        ctx.update(
            &rel,
            &Bag::LocalUnit,
            mine.iter().map(|(k, v)| (k.clone(), v.clone())),
        )?;
        ctx.set(&rel, &Bag::LocalUnit, "absent", "")?;
        Ok(())
    });
    let out = harness.run(
        Event::UpdateStatus,
        State::default().relation(db().local_unit_data([("a", "1")])),
    );
    assert!(out.ok());
    assert_eq!(out.calls_to("relation-set"), 0, "{:?}", out.calls);
}

#[test]
fn reads_are_cached_for_the_dispatch() {
    let harness = harness_with(|ctx, _| {
        for _ in 0..3 {
            ctx.read(&db().rid(), &Bag::RemoteApp)?;
            ctx.read(&db().rid(), &Bag::Unit("pg/0".into()))?;
            ctx.relations("db")?;
            ctx.remote_units(&db().rid())?;
            ctx.is_leader()?;
            ctx.config_map()?;
        }
        Ok(())
    });
    let out = harness.run(Event::UpdateStatus, State::default().relation(db()));
    assert!(out.ok());
    for tool in ["relation-ids", "is-leader", "config-get"] {
        assert_eq!(out.calls_to(tool), 1, "{tool}: {:?}", out.calls);
    }
    // Once for the remote app name (--app), once for the units.
    assert_eq!(out.calls_to("relation-list"), 2);
    // The remote app bag and one unit bag.
    assert_eq!(out.calls_to("relation-get"), 2);
}

#[test]
fn the_event_relation_gives_the_remote_app_without_a_call() {
    let harness = {
        let mut charm = Charm::new();
        charm.on(
            EventKind::RelationChanged,
            |ctx: &mut Ctx, rel: &RelationEvent| {
                let data = ctx.read(&rel.relation, &Bag::RemoteApp)?;
                assert_eq!(data["host"], "pg.internal");
                Ok(())
            },
        );
        Harness::new(charm, META)
    };
    let out = harness.run(db().changed(Some(0)), State::default().relation(db()));
    assert!(out.ok());
    assert_eq!(out.calls_to("relation-list"), 0, "{:?}", out.calls);
}

#[test]
fn relation_broken_hides_the_relation_and_refuses_writes() {
    let harness = harness_with(|ctx, event| {
        let Event::RelationBroken(rel) = event else {
            return Ok(());
        };
        assert!(
            ctx.relations("db")?.is_empty(),
            "the broken relation is left out"
        );
        assert!(ctx.remote_units(&rel.relation)?.is_empty());
        assert!(!ctx.relation(&rel.relation)?.active);
        // Remote data may still be read.
        assert_eq!(
            ctx.read(&rel.relation, &Bag::RemoteApp)?["host"],
            "pg.internal"
        );
        match ctx.set(&rel.relation, &Bag::LocalUnit, "k", "v") {
            Err(ModelError::RelationBroken(_)) => Ok(()),
            other => Err(Error::fail(format!("write during broken: {other:?}"))),
        }
    });
    let out = harness.run(db().broken(), State::default().relation(db()));
    assert!(out.ok(), "{:?}", out.error());
}

#[test]
fn relation_departed_leaves_the_unit_out_of_the_list_but_its_bag_readable() {
    let harness = harness_with(|ctx, event| {
        let Event::RelationDeparted(rel) = event else {
            return Ok(());
        };
        let departing = rel.departing_unit.clone().unwrap_or_default();
        assert_eq!(departing, "pg/0");
        assert!(!ctx.remote_units(&rel.relation)?.contains(&departing));
        assert_eq!(
            ctx.read(&rel.relation, &Bag::Unit(departing))?["addr"],
            "10.0.0.1"
        );
        Ok(())
    });
    let rel = db().remote_unit(1, [("addr", "10.0.0.2")]);
    let out = harness.run(rel.departed(0), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
}

#[test]
fn unknown_endpoints_are_an_error_not_a_crash() {
    let harness = harness_with(|ctx, _| {
        ctx.relations("nope")?;
        Ok(())
    });
    let out = harness.run(Event::UpdateStatus, State::default());
    assert!(
        model_error(&out).contains("\"nope\" is not declared"),
        "{:?}",
        out.error()
    );
}

#[test]
fn a_relation_juju_forgot_reads_as_empty() {
    let harness = harness_with(|ctx, _| {
        let gone = charm::RelationId::new("db", 99);
        assert!(ctx.read(&gone, &Bag::Unit("pg/0".into()))?.is_empty());
        assert!(ctx.remote_units(&gone)?.is_empty());
        Ok(())
    });
    let out = harness.run(Event::UpdateStatus, State::default());
    assert!(out.ok(), "{:?}", out.error());
}

#[test]
fn typed_bags_name_the_bad_key_and_block() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Remote {
        host: String,
        #[serde(default, with = "charm::databag::decimal")]
        port: Option<u16>,
    }
    let harness = harness_with(|ctx, _| {
        let _: Remote = ctx.load(&db().rid(), &Bag::RemoteApp)?;
        Ok(())
    });
    let rel = Relation::new("db", 1, "pg").remote_app_data([("host", "h"), ("port", "eighty")]);
    let out = harness.run(Event::UpdateStatus, State::default().relation(rel));
    // Bad remote data is not a failed hook: the unit is Blocked with a message naming the key.
    assert!(out.ok());
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, charm::StatusKind::Blocked);
    assert!(status.message.contains("\"port\""), "{status}");
    assert!(status.message.contains("db:1"), "{status}");
}

#[test]
fn a_failing_hook_tool_fails_the_hook_and_commits_nothing() {
    let harness = harness_with(|ctx, _| {
        ctx.set(&db().rid(), &Bag::LocalUnit, "a", "1")?;
        ctx.store("seen", &true)?;
        ctx.read(&db().rid(), &Bag::RemoteApp)?;
        Ok(())
    })
    .fail(
        "relation-get",
        "ERROR connection to the agent lost",
        Some(1),
    );
    let out = harness.run(Event::UpdateStatus, State::default().relation(db()));
    assert!(!out.ok());
    assert!(
        out.error()
            .unwrap()
            .contains("connection to the agent lost")
    );
    assert!(out.state.rel(1).unwrap().local_unit_data.is_empty());
    assert!(out.state.stored.is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}
