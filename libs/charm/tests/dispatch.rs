//! The dispatcher: deferral with ops' semantics, custom events, reconcile, collect-status,
//! the error policy, stored state and actions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::state::{Deferred, DeferredEvent};
use charm::{
    ActionEvent, Bag, Charm, Ctx, CustomEvent, Error, Event, EventKind, Filter, RelationEvent,
    Status, StatusCollector, StatusKind,
};
use charm_testing::{Harness, Relation, State};
use serde::{Deserialize, Serialize};

const META: &str = "name: app
requires:
  db: {interface: pg}
";

fn db() -> Relation {
    Relation::new("db", 1, "pg").remote_unit(0, [("ready", "yes")])
}

/// Appends what ran to stored state `log`, so tests can see the order across dispatches.
fn note(ctx: &mut Ctx, what: &str) -> Result<(), Error> {
    let mut log: Vec<String> = ctx.stored("log")?.unwrap_or_default();
    log.push(what.to_string());
    ctx.store("log", &log)?;
    Ok(())
}

fn log_of(state: &State) -> Vec<String> {
    state
        .stored
        .get("log")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Defers `update-status` while stored `gate` is false; defers relation-changed likewise.
fn deferring() -> Harness {
    let mut charm = Charm::new();
    charm
        .on(EventKind::UpdateStatus, |ctx: &mut Ctx, _: &Event| {
            note(ctx, "update-status")?;
            if !ctx.stored::<bool>("gate")?.unwrap_or(false) {
                ctx.defer()?;
            }
            Ok(())
        })
        .on(
            EventKind::RelationChanged,
            |ctx: &mut Ctx, rel: &RelationEvent| {
                note(ctx, &format!("changed {}", rel.relation))?;
                if !ctx.stored::<bool>("gate")?.unwrap_or(false) {
                    ctx.defer()?;
                }
                Ok(())
            },
        )
        .on(EventKind::ConfigChanged, |ctx: &mut Ctx, _: &Event| {
            note(ctx, "config-changed")?;
            ctx.store("gate", &true)?;
            Ok(())
        });
    Harness::new(charm, META)
}

#[test]
fn deferred_events_rerun_first_oldest_first_without_duplicates() {
    let harness = deferring();
    let rel = db();
    let s = State::default().relation(rel.clone());
    let s = harness.run(Event::UpdateStatus, s).state;
    assert_eq!(s.deferred.len(), 1);
    let s = harness.run(rel.changed(Some(0)), s).state;
    // update-status re-ran (and deferred again, keeping its place), then relation-changed deferred.
    assert_eq!(
        log_of(&s),
        ["update-status", "update-status", "changed db:1"]
    );
    assert_eq!(s.deferred.len(), 2);
    assert!(s.deferred[0].seq < s.deferred[1].seq);
    // Another update-status: the queued copy re-runs; the new one is a duplicate and is skipped.
    let s = harness.run(Event::UpdateStatus, s).state;
    assert_eq!(s.deferred.len(), 2, "{:?}", s.deferred);
    assert_eq!(
        log_of(&s)[3..],
        ["update-status", "changed db:1"],
        "re-runs in order, new duplicate skipped"
    );
    // config-changed opens the gate, but deferred events run before it, so they wait once more ...
    let s = harness.run(Event::ConfigChanged, s).state;
    assert_eq!(
        log_of(&s)[5..],
        ["update-status", "changed db:1", "config-changed"]
    );
    assert_eq!(s.deferred.len(), 2);
    // ... and succeed at the start of the next dispatch, whatever it is for.
    let s = harness.run(Event::Start, s).state;
    assert_eq!(log_of(&s)[8..], ["update-status", "changed db:1"]);
    assert!(s.deferred.is_empty());
}

#[test]
fn deferred_events_of_a_removed_relation_are_dropped() {
    let harness = deferring();
    let rel = db();
    let s = harness
        .run(rel.changed(Some(0)), State::default().relation(rel))
        .state;
    assert_eq!(s.deferred.len(), 1);
    let s = State {
        relations: vec![],
        ..s
    };
    let out = harness.run(Event::ConfigChanged, s);
    assert!(out.ok());
    assert!(out.state.deferred.is_empty());
    assert_eq!(log_of(&out.state), ["changed db:1", "config-changed"]);
    assert!(out.logged("the relation is gone"), "{:?}", out.logs);
}

#[test]
fn deferred_events_survive_a_failed_hook() {
    let mut charm = Charm::new();
    charm
        .on(EventKind::UpdateStatus, |ctx: &mut Ctx, _: &Event| {
            ctx.defer()?;
            Ok(())
        })
        .on(EventKind::Start, |_: &mut Ctx, _: &Event| {
            Err(Error::fail("boom"))
        });
    let harness = Harness::new(charm, META);
    let s = harness.run(Event::UpdateStatus, State::default()).state;
    assert_eq!(s.deferred.len(), 1);
    let out = harness.run(Event::Start, s.clone());
    assert!(!out.ok());
    assert_eq!(out.state.deferred, s.deferred);
}

#[test]
fn some_events_cannot_be_deferred() {
    let mut charm = Charm::new();
    charm.on(Filter::any(), |ctx: &mut Ctx, _: &Event| {
        ctx.defer()?;
        Ok(())
    });
    let harness = Harness::new(charm, META);
    for event in [Event::Remove, Event::Stop] {
        let out = harness.run(event, State::default());
        assert!(out.error().unwrap().contains("cannot be deferred"));
        assert!(out.state.deferred.is_empty());
    }
    let out = harness.run_action("x", serde_json::json!({}), State::default());
    assert!(!out.ok());
    assert!(out.action.failed.unwrap().contains("cannot be deferred"));
}

#[test]
fn stale_deferred_records_from_an_older_charm_are_dropped() {
    let harness = deferring();
    let state = State {
        deferred: vec![Deferred {
            seq: 0,
            observer: "a handler that no longer exists#0".into(),
            filter: None,
            event: DeferredEvent::Juju(Event::UpdateStatus),
        }],
        ..State::default()
    };
    let out = harness.run(Event::ConfigChanged, state);
    assert!(out.ok());
    assert!(out.state.deferred.is_empty());
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ready {
    relation: u32,
    first: bool,
}

impl CustomEvent for Ready {
    const NAME: &'static str = "app.ready";
}

/// A tiny library: turns relation-changed into `Ready` when the remote unit says so.
fn library(charm: &mut Charm) {
    charm.on(
        EventKind::RelationChanged.on("db"),
        |ctx: &mut Ctx, rel: &RelationEvent| {
            let Some(unit) = &rel.remote_unit else {
                return Ok(());
            };
            let data = ctx.read(&rel.relation, &Bag::Unit(unit.clone()))?;
            if data.get("ready").map(String::as_str) == Some("yes") {
                let first = ctx.stored::<bool>("ready-seen")?.is_none();
                ctx.store("ready-seen", &true)?;
                ctx.emit(Ready {
                    relation: rel.relation.id,
                    first,
                });
            }
            Ok(())
        },
    );
}

#[test]
fn libraries_emit_typed_events_that_charms_handle() {
    let mut charm = Charm::new();
    charm.plugin(library).on_event(|ctx: &mut Ctx, e: &Ready| {
        ctx.set(
            &charm::RelationId::new("db", e.relation),
            &Bag::LocalUnit,
            "ack",
            "1",
        )
        .map_err(Into::into)
    });
    let harness = Harness::new(charm, META);
    let out = harness.run(db().changed(Some(0)), State::default().relation(db()));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.emitted::<Ready>(),
        vec![&Ready {
            relation: 1,
            first: true
        }]
    );
    assert_eq!(out.state.rel(1).unwrap().local_unit_data["ack"], "1");
    // Not ready: no event.
    let rel = Relation::new("db", 1, "pg").remote_unit(0, [("ready", "no")]);
    let out = harness.run(rel.changed(Some(0)), State::default().relation(rel));
    assert!(out.emitted::<Ready>().is_empty());
}

#[test]
fn custom_events_can_be_deferred_and_come_back_intact() {
    let mut charm = Charm::new();
    charm.plugin(library).on_event(|ctx: &mut Ctx, e: &Ready| {
        note(ctx, &format!("ready first={}", e.first))?;
        if !ctx.stored::<bool>("gate")?.unwrap_or(false) {
            ctx.defer()?;
        }
        Ok(())
    });
    charm.on(EventKind::ConfigChanged, |ctx: &mut Ctx, _: &Event| {
        ctx.store("gate", &true).map_err(Into::into)
    });
    let harness = Harness::new(charm, META);
    let s = harness
        .run(db().changed(Some(0)), State::default().relation(db()))
        .state;
    assert!(
        matches!(&s.deferred[0].event, DeferredEvent::Custom { name, .. } if name == "app.ready")
    );
    let s = harness.run(Event::UpdateStatus, s).state;
    let s = harness.run(Event::ConfigChanged, s).state;
    assert_eq!(s.deferred.len(), 1);
    let s = harness.run(Event::UpdateStatus, s).state;
    // The field set when the event was first emitted (`first: true`) survived every deferral.
    assert_eq!(log_of(&s), ["ready first=true"; 4]);
    assert!(s.deferred.is_empty());
}

#[test]
fn plugins_with_a_key_can_be_added_once() {
    struct Lib;
    impl charm::Plugin for Lib {
        fn build(self, charm: &mut Charm) {
            library(charm);
        }
        fn key(&self) -> Option<String> {
            Some("lib:db".into())
        }
    }
    let mut charm = Charm::new();
    charm.plugin(Lib).plugin(Lib);
    let out = Harness::new(charm, META).run(Event::Install, State::default());
    assert!(
        out.error()
            .unwrap()
            .contains("plugin lib:db was added twice")
    );
}

fn holistic() -> Harness {
    let mut charm = Charm::new();
    charm
        .reconcile(|ctx: &mut Ctx| note(ctx, "reconcile"))
        .on(
            EventKind::RelationChanged,
            |ctx: &mut Ctx, _: &RelationEvent| note(ctx, "handler"),
        )
        .action("go", |ctx: &mut Ctx, _: &ActionEvent| note(ctx, "action"));
    Harness::new(charm, META)
}

#[test]
fn reconcile_runs_after_handlers_for_state_changing_events_only() {
    let harness = holistic();
    let s = harness
        .run(db().changed(Some(0)), State::default().relation(db()))
        .state;
    assert_eq!(log_of(&s), ["handler", "reconcile"]);
    let s = harness.run_action("go", serde_json::json!({}), s).state;
    assert_eq!(log_of(&s)[2..], ["action"]);
    let s = harness.run(Event::Remove, s).state;
    assert_eq!(log_of(&s).len(), 3, "no reconcile on remove");
    let s = harness
        .run(
            Event::Unknown {
                hook: "leader-deposed".into(),
            },
            s,
        )
        .state;
    assert_eq!(log_of(&s).len(), 3, "unknown hooks run nothing");
    let s = harness.run(Event::CollectMetrics, s).state;
    assert_eq!(log_of(&s).len(), 3, "restricted context runs nothing");
}

fn statuses(unit: Vec<Status>, app: Vec<Status>) -> Harness {
    let mut charm = Charm::new();
    charm.collect_status(move |_: &mut Ctx, c: &mut StatusCollector| {
        unit.iter().cloned().for_each(|s| c.add_unit(s));
        app.iter().cloned().for_each(|s| c.add_app(s));
        Ok(())
    });
    Harness::new(charm, META)
}

#[test]
fn collect_status_picks_the_most_severe_and_skips_unchanged() {
    let harness = statuses(
        vec![
            Status::active("fine"),
            Status::waiting("for db"),
            Status::blocked("no config"),
        ],
        vec![Status::active("app ok")],
    );
    let out = harness.run(Event::UpdateStatus, State::default().leader(true));
    assert_eq!(out.state.unit_status, Some(Status::blocked("no config")));
    assert_eq!(out.state.app_status, Some(Status::active("app ok")));
    assert_eq!(out.calls_to("status-set"), 2);
    // Same statuses again: no status-set at all.
    let out = harness.run(Event::UpdateStatus, out.state);
    assert_eq!(out.calls_to("status-set"), 0, "{:?}", out.calls);
    // A follower does not set the app status.
    let out = harness.run(Event::UpdateStatus, State::default());
    assert_eq!(out.state.app_status, None);
    assert_eq!(out.calls_to("status-set"), 1);
}

#[test]
fn blocked_errors_become_statuses_and_keep_what_was_written() {
    let mut charm = Charm::new();
    charm
        .on(EventKind::ConfigChanged, |ctx: &mut Ctx, _: &Event| {
            ctx.set(&db().rid(), &Bag::LocalUnit, "sent", "yes")?;
            Err(Error::blocked("port must be a number"))
        })
        .on(EventKind::ConfigChanged, |ctx: &mut Ctx, _: &Event| {
            note(ctx, "second handler ran")
        })
        .collect_status(|_: &mut Ctx, c: &mut StatusCollector| {
            c.add_unit(Status::active("ready"));
            Ok(())
        });
    let out = Harness::new(charm, META).run(Event::ConfigChanged, State::default().relation(db()));
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("port must be a number"))
    );
    assert_eq!(out.state.rel(1).unwrap().local_unit_data["sent"], "yes");
    assert_eq!(log_of(&out.state), ["second handler ran"]);
}

#[test]
fn waiting_errors_become_waiting() {
    let mut charm = Charm::new();
    charm.reconcile(|_: &mut Ctx| Err(Error::waiting("database not ready")));
    let out = Harness::new(charm, META).run(Event::UpdateStatus, State::default());
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status.map(|s| s.kind),
        Some(StatusKind::Waiting)
    );
}

#[test]
fn failed_hooks_forget_the_status_cache() {
    // Juju applies status-set at once; after a failed hook the charm must not trust its record.
    let mut charm = Charm::new();
    charm
        .on(EventKind::Start, |ctx: &mut Ctx, _: &Event| {
            ctx.set_unit_status(Status::maintenance("starting"))?;
            Err(Error::fail("crashed"))
        })
        .collect_status(|_: &mut Ctx, c: &mut StatusCollector| {
            c.add_unit(Status::active("ready"));
            Ok(())
        });
    let harness = Harness::new(charm, META);
    let out = harness.run(
        Event::Start,
        State::default().stored("x", serde_json::json!(1)),
    );
    assert!(!out.ok());
    assert_eq!(out.state.unit_status, Some(Status::maintenance("starting")));
    let out = harness.run(Event::UpdateStatus, out.state);
    assert_eq!(out.state.unit_status, Some(Status::active("ready")));
}

#[test]
fn stored_state_persists_between_dispatches() {
    let mut charm = Charm::new();
    charm.reconcile(|ctx: &mut Ctx| {
        let n: u32 = ctx.stored("n")?.unwrap_or(0);
        ctx.store("n", &(n + 1)).map_err(Into::into)
    });
    let harness = Harness::new(charm, META);
    let mut s = State::default();
    for _ in 0..3 {
        s = harness.run(Event::UpdateStatus, s).state;
    }
    assert_eq!(s.stored["n"], 3);
    // A value of the wrong type is a typed error, not a panic.
    let out = harness.run(
        Event::UpdateStatus,
        State::default().stored("n", serde_json::json!("three")),
    );
    assert!(
        out.error().unwrap().contains("stored state \"n\""),
        "{:?}",
        out.error()
    );
}

#[test]
fn actions_get_typed_params_and_set_flattened_results() {
    #[derive(Deserialize)]
    struct Params {
        name: String,
        times: u32,
    }
    let mut charm = Charm::new();
    charm.action("greet", |ctx: &mut Ctx, _: &ActionEvent| {
        let p: Params = ctx.action_params()?;
        ctx.action_log("working")?;
        ctx.action_set(
            &serde_json::json!({"greeting": {"text": format!("hi {}", p.name), "times": p.times}}),
        )?;
        Ok(())
    });
    let harness = Harness::new(charm, META);
    let out = harness.run_action(
        "greet",
        serde_json::json!({"name": "ann", "times": 2}),
        State::default(),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["greeting.text"], "hi ann");
    assert_eq!(out.action.results["greeting.times"], "2");
    assert_eq!(out.action.logs, ["working"]);
    // Bad parameters: the action fails with a message naming the field; no unit status change.
    let out = harness.run_action(
        "greet",
        serde_json::json!({"name": "ann", "times": "x"}),
        State::default(),
    );
    assert!(!out.ok());
    assert!(out.action.failed.unwrap().contains("times"));
    assert_eq!(out.state.unit_status, None);
}

#[test]
fn action_tools_are_refused_outside_actions() {
    let mut charm = Charm::new();
    charm.on(EventKind::UpdateStatus, |ctx: &mut Ctx, _: &Event| {
        ctx.action_set(&serde_json::json!({"a": "b"}))?;
        Ok(())
    });
    let out = Harness::new(charm, META).run(Event::UpdateStatus, State::default());
    assert!(
        out.error()
            .unwrap()
            .contains("only possible while running an action")
    );
    assert_eq!(out.calls_to("action-set"), 0);
}

#[test]
fn typed_config_errors_block_with_the_option_name() {
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Config {
        port: u16,
    }
    let mut charm = Charm::new();
    charm.reconcile(|ctx: &mut Ctx| {
        let _: Config = ctx.config()?;
        Ok(())
    });
    let harness =
        Harness::new(charm, META).config_yaml("options:\n  port: {type: int, default: 80}\n");
    assert!(
        harness
            .run(Event::ConfigChanged, State::default())
            .state
            .unit_status
            .is_none()
    );
    let out = harness.run(Event::ConfigChanged, State::default().config("port", 70000));
    assert!(out.ok());
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("\"port\""), "{status}");
}

#[test]
fn logs_go_to_juju_log_with_levels() {
    let mut charm = Charm::new();
    charm.reconcile(|_: &mut Ctx| {
        tracing::debug!("details");
        tracing::warn!(relation = "db:1", "careful");
        Ok(())
    });
    let out = Harness::new(charm, META).run(Event::UpdateStatus, State::default());
    assert!(out.logs.contains(&(
        charm::LogLevel::Warning,
        "careful relation=db:1".to_string()
    )));
    assert!(
        out.logs
            .contains(&(charm::LogLevel::Debug, "details".to_string()))
    );
}

#[test]
fn blocked_errors_in_actions_fail_the_action_not_the_unit() {
    let mut charm = Charm::new();
    charm.action("check", |_: &mut Ctx, _: &ActionEvent| {
        Err(Error::blocked("nothing to check"))
    });
    let out =
        Harness::new(charm, META).run_action("check", serde_json::json!({}), State::default());
    assert!(out.ok(), "the hook itself succeeds");
    assert_eq!(out.action.failed.as_deref(), Some("nothing to check"));
    assert_eq!(out.state.unit_status, None);
}

#[test]
fn action_results_too_large_for_a_command_line_fail_the_action_with_a_clear_message() {
    let mut charm = Charm::new();
    charm.action("dump", |ctx: &mut Ctx, _: &ActionEvent| {
        let size: usize = ctx.action_params::<serde_json::Value>()?["size"]
            .as_u64()
            .unwrap_or(0) as usize;
        ctx.action_set(&serde_json::json!({"small": "ok", "dump": "y".repeat(size)}))?;
        Ok(())
    });
    let harness = Harness::new(charm, META);
    // Fits: "dump=" plus 131066 bytes is exactly the 131071 one argument holds.
    let out = harness.run_action(
        "dump",
        serde_json::json!({"size": 131_066}),
        State::default(),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["dump"].len(), 131_066);
    // One byte more: no action-set at all (it would be E2BIG), the action fails saying why.
    let out = harness.run_action(
        "dump",
        serde_json::json!({"size": 131_067}),
        State::default(),
    );
    assert!(
        out.ok(),
        "a retry cannot shrink the result: the hook succeeds"
    );
    assert_eq!(out.calls_to("action-set"), 0);
    assert!(out.action.results.is_empty());
    let failed = out.action.failed.unwrap();
    assert!(
        failed.starts_with("the action result \"dump\" is too large to return: it takes 131072 bytes and one action-set argument holds at most 131071"),
        "{failed}"
    );
    assert_eq!(out.state.unit_status, None);
    // Many results that each fit but not together.
    let mut charm = Charm::new();
    charm.action("dump", |ctx: &mut Ctx, _: &ActionEvent| {
        let many: serde_json::Map<String, serde_json::Value> = (0..30)
            .map(|i| (format!("part{i}"), serde_json::json!("z".repeat(100_000))))
            .collect();
        ctx.action_set(&serde_json::Value::Object(many))?;
        Ok(())
    });
    let out = Harness::new(charm, META).run_action("dump", serde_json::json!({}), State::default());
    let failed = out.action.failed.unwrap();
    assert!(
        failed.starts_with("the action result set is too large to return"),
        "{failed}"
    );
}

#[test]
fn long_failure_messages_are_cut_and_status_messages_cleaned() {
    let mut charm = Charm::new();
    charm.action("fail", |_: &mut Ctx, _: &ActionEvent| {
        Err(Error::blocked(format!("bad: {}", "m".repeat(1 << 20))))
    });
    charm.on(EventKind::UpdateStatus, |_: &mut Ctx, _: &Event| {
        Err(Error::blocked(format!(
            "host {}\n{}",
            "h".repeat(1 << 20),
            "tail"
        )))
    });
    let harness = Harness::new(charm, META);
    let out = harness.run_action("fail", serde_json::json!({}), State::default());
    let failed = out.action.failed.unwrap();
    assert!(
        failed.len() <= charm::model::MAX_ACTION_MESSAGE,
        "{}",
        failed.len()
    );
    assert!(failed.starts_with("bad: mmm") && failed.ends_with('\u{2026}'));
    let out = harness.run(Event::UpdateStatus, State::default());
    assert!(out.ok());
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.len() <= charm::status::MAX_STATUS_MESSAGE);
    assert!(status.message.starts_with("host hhh"));
    assert!(!status.message.contains('\n'));
}

#[test]
fn event_names_must_be_unique() {
    #[derive(Debug, Serialize, Deserialize)]
    struct Other;
    impl CustomEvent for Other {
        const NAME: &'static str = "app.ready";
    }
    let mut charm = Charm::new();
    charm
        .on_event(|_: &mut Ctx, _: &Ready| Ok(()))
        .on_event(|_: &mut Ctx, _: &Ready| Ok(()))
        .on_event(|_: &mut Ctx, _: &Other| Ok(()));
    let out = Harness::new(charm, META).run(Event::Install, State::default());
    assert!(
        out.error()
            .unwrap()
            .contains("two event types are named \"app.ready\"")
    );
}

#[test]
fn scratch_values_live_for_one_dispatch() {
    #[derive(Default)]
    struct Seen(Vec<&'static str>);
    let mut charm = Charm::new();
    charm
        .on(EventKind::UpdateStatus, |ctx: &mut Ctx, _: &Event| {
            ctx.scratch::<Seen>().0.push("handler");
            Ok(())
        })
        .reconcile(|ctx: &mut Ctx| {
            ctx.scratch::<Seen>().0.push("reconcile");
            let seen = ctx.scratch::<Seen>().0.join(",");
            ctx.store("seen", &seen).map_err(Into::into)
        });
    let harness = Harness::new(charm, META);
    let out = harness.run(Event::UpdateStatus, State::default());
    assert_eq!(out.state.stored["seen"], "handler,reconcile");
    let out = harness.run(Event::UpdateStatus, out.state);
    assert_eq!(
        out.state.stored["seen"], "handler,reconcile",
        "not carried over"
    );
}

#[test]
fn events_whose_handler_failed_are_still_reported() {
    let mut charm = Charm::new();
    charm
        .plugin(library)
        .on_event(|_: &mut Ctx, _: &Ready| Err(Error::fail("handler broke")));
    let out = Harness::new(charm, META).run(db().changed(Some(0)), State::default().relation(db()));
    assert!(!out.ok());
    assert_eq!(out.emitted::<Ready>().len(), 1);
}

#[test]
fn the_context_can_name_the_app_and_unit() {
    let mut charm = Charm::new();
    charm.reconcile(|ctx: &mut Ctx| {
        let who = format!("{} {}", ctx.app_name(), ctx.unit_name());
        ctx.store("who", &who).map_err(Into::into)
    });
    let out = Harness::new(charm, META)
        .app("other")
        .unit(3)
        .run(Event::Start, State::default());
    assert_eq!(out.state.stored["who"], "other other/3");
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OnRelation {
    relation: charm::RelationId,
}

impl CustomEvent for OnRelation {
    const NAME: &'static str = "app.on_relation";

    fn live_relation(&self) -> Option<&charm::RelationId> {
        Some(&self.relation)
    }
}

#[test]
fn deferred_custom_events_of_a_removed_relation_are_dropped() {
    let mut charm = Charm::new();
    charm
        .on(
            EventKind::RelationChanged,
            |ctx: &mut Ctx, rel: &RelationEvent| {
                ctx.emit(OnRelation {
                    relation: rel.relation.clone(),
                });
                Ok(())
            },
        )
        .on_event(|ctx: &mut Ctx, _: &OnRelation| {
            note(ctx, "on-relation")?;
            ctx.defer().map_err(Into::into)
        });
    let harness = Harness::new(charm, META);
    let s = harness
        .run(db().changed(Some(0)), State::default().relation(db()))
        .state;
    assert_eq!(s.deferred.len(), 1);
    // While the relation lives, the deferred event keeps coming back ...
    let s = harness.run(Event::UpdateStatus, s).state;
    assert_eq!(log_of(&s), ["on-relation", "on-relation"]);
    // ... and once it is gone, it is dropped instead of running against a dead relation.
    let out = harness.run(
        Event::UpdateStatus,
        State {
            relations: vec![],
            ..s
        },
    );
    assert!(out.state.deferred.is_empty());
    assert_eq!(log_of(&out.state).len(), 2);
    assert!(
        out.logged("dropping a deferred app.on_relation"),
        "{:?}",
        out.logs
    );
}

#[derive(Clone)]
struct Lib {
    tag: &'static str,
}

impl Lib {
    fn on_changed(&self, ctx: &mut Ctx, rel: &RelationEvent) -> Result<(), Error> {
        note(ctx, &format!("{} {}", self.tag, rel.relation))?;
        ctx.defer().map_err(Into::into)
    }
}

#[test]
fn methods_register_with_their_receiver_and_are_named_by_path() {
    let mut charm = Charm::new();
    charm.on_method(
        EventKind::RelationChanged,
        &Lib { tag: "lib" },
        Lib::on_changed,
    );
    let harness = Harness::new(charm, META);
    let out = harness.run(db().changed(Some(0)), State::default().relation(db()));
    assert_eq!(log_of(&out.state), ["lib db:1"]);
    // The deferral record names the method, not an anonymous closure.
    assert!(
        out.state.deferred[0].observer.contains("Lib::on_changed"),
        "{:?}",
        out.state.deferred
    );
}
