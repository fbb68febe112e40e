//! Deferred events across an upgrade: revision A of a charm defers an event, revision B (handlers
//! reordered, added, renamed or re-filtered) runs on the state A left. A deferred event is re-run
//! only by the handler that deferred it, and only while that handler's filter still matches it;
//! otherwise it is dropped with a warning, never handed to another handler.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::state::{Deferred, DeferredEvent};
use charm::{Charm, Ctx, CustomEvent, Error, Event, EventKind, Filter, Plugin, RelationEvent};
use charm_testing::{Harness, Relation, State};
use serde::{Deserialize, Serialize};

const META: &str = "name: app
requires:
  db: {interface: pg}
  cache: {interface: redis}
";

/// Appends what ran to stored state `log`.
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

/// Defers until stored `gate` is true.
fn defer_until_gate(ctx: &mut Ctx) -> Result<(), Error> {
    if !ctx.stored::<bool>("gate")?.unwrap_or(false) {
        ctx.defer()?;
    }
    Ok(())
}

fn db() -> Relation {
    Relation::new("db", 1, "pg").remote_unit(0, [("x", "1")])
}

/// Runs `event` through revision A, opens the gate, then runs `next` through revision B.
fn upgrade(a: Charm, b: Charm, event: Event, next: Event, state: State) -> charm_testing::Output {
    let rev_a = Harness::new(a, META);
    let out = rev_a.run(event, state);
    assert!(out.ok(), "revision A: {:?}", out.error());
    assert_eq!(out.state.deferred.len(), 1, "{:?}", out.state.deferred);
    let mut state = out.state;
    state.stored.insert("gate".into(), serde_json::json!(true));
    state.stored.remove("log");
    Harness::new(b, META).run(next, state)
}

/// One charm, three revisions: the same closures (so the same type names, as closures written in
/// one `main`). `x` defers update-status; `y` sees every event; `z` also takes update-status.
/// A: x, y. B: y, x (reordered). C: z, x, y (z added, with x's filter).
fn closures(revision: char) -> Charm {
    let x = |ctx: &mut Ctx, e: &Event| {
        note(ctx, &format!("x {}", e.hook_name()))?;
        defer_until_gate(ctx)
    };
    let y = |ctx: &mut Ctx, e: &Event| note(ctx, &format!("y {}", e.hook_name()));
    let z = |ctx: &mut Ctx, e: &Event| note(ctx, &format!("z {}", e.hook_name()));
    let mut charm = Charm::new();
    match revision {
        'A' => charm.on(EventKind::UpdateStatus, x).on(Filter::any(), y),
        'B' => charm.on(Filter::any(), y).on(EventKind::UpdateStatus, x),
        _ => charm
            .on(EventKind::UpdateStatus, z)
            .on(EventKind::UpdateStatus, x)
            .on(Filter::any(), y),
    };
    charm
}

#[test]
fn reordered_closures_keep_their_deferred_events() {
    let out = upgrade(
        closures('A'),
        closures('B'),
        Event::UpdateStatus,
        Event::ConfigChanged,
        State::default(),
    );
    assert!(out.ok(), "{:?}", out.error());
    // The deferred update-status went back to x, not to y (first in revision B); then the new
    // event went to y.
    assert_eq!(log_of(&out.state), ["x update-status", "y config-changed"]);
    assert!(out.state.deferred.is_empty());
}

#[test]
fn an_added_closure_with_the_same_filter_never_receives_anothers_deferred_event() {
    // Closures are told apart only by function and filter: once revision C has two closures on
    // update-status in one function, the record could mean either.
    let out = upgrade(
        closures('A'),
        closures('C'),
        Event::UpdateStatus,
        Event::ConfigChanged,
        State::default(),
    );
    assert!(out.ok(), "{:?}", out.error());
    // Neither x nor z re-ran it; config-changed went to y as usual.
    assert_eq!(log_of(&out.state), ["y config-changed"]);
    assert!(out.state.deferred.is_empty());
    assert!(
        out.logged("dropping a deferred update-status: 2 handlers are named"),
        "{:?}",
        out.logs
    );
}

#[test]
fn a_closure_that_cannot_be_told_apart_may_not_defer() {
    let x = |ctx: &mut Ctx, _: &Event| ctx.defer().map_err(Error::from);
    let z = |_: &mut Ctx, _: &Event| Ok(());
    let mut charm = Charm::new();
    charm
        .on(EventKind::UpdateStatus, z)
        .on(EventKind::UpdateStatus, x);
    let harness = Harness::new(charm, META);
    let out = harness.run(Event::UpdateStatus, State::default());
    let error = out.error().unwrap();
    assert!(error.contains("cannot defer"), "{error}");
    assert!(error.contains("on_named"), "{error}");
    assert!(out.state.deferred.is_empty());
}

/// Named closures: revision B reorders them and adds an unnamed one on the same filter.
fn named(revision: char) -> Charm {
    let gate = |ctx: &mut Ctx, e: &Event| {
        note(ctx, &format!("gate {}", e.hook_name()))?;
        defer_until_gate(ctx)
    };
    let other = |ctx: &mut Ctx, e: &Event| note(ctx, &format!("other {}", e.hook_name()));
    let added = |ctx: &mut Ctx, e: &Event| note(ctx, &format!("added {}", e.hook_name()));
    let mut charm = Charm::new();
    match revision {
        'A' => charm
            .on_named("gate", EventKind::UpdateStatus, gate)
            .on_named("other", EventKind::UpdateStatus, other),
        _ => charm
            .on(EventKind::UpdateStatus, added)
            .on_named("other", EventKind::UpdateStatus, other)
            .on_named("gate", EventKind::UpdateStatus, gate),
    };
    charm
}

#[test]
fn named_handlers_keep_their_deferred_events_whatever_is_added_around_them() {
    let out = upgrade(
        named('A'),
        named('B'),
        Event::UpdateStatus,
        Event::ConfigChanged,
        State::default(),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(log_of(&out.state), ["gate update-status"]);
    assert_eq!(out.handler_calls, 1);
    // The record names the handler and its filter.
    let rev_a = Harness::new(named('A'), META);
    let s = rev_a.run(Event::UpdateStatus, State::default()).state;
    assert_eq!(s.deferred[0].observer, "gate");
    assert_eq!(s.deferred[0].filter.as_deref(), Some("update-status"));
}

#[test]
fn a_handler_whose_filter_no_longer_matches_does_not_get_the_event() {
    let mut b = Charm::new();
    b.on_named(
        "gate",
        EventKind::ConfigChanged,
        |ctx: &mut Ctx, e: &Event| note(ctx, &format!("gate {}", e.hook_name())),
    );
    let out = upgrade(
        named('A'),
        b,
        Event::UpdateStatus,
        Event::Start,
        State::default(),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert!(log_of(&out.state).is_empty(), "{:?}", log_of(&out.state));
    assert!(out.state.deferred.is_empty());
    assert!(
        out.logged("no handler gate takes this event any more"),
        "{:?}",
        out.logs
    );
    // A named handler whose filter changed but still takes the event keeps it.
    let mut b = Charm::new();
    b.on_named("gate", Filter::any(), |ctx: &mut Ctx, e: &Event| {
        note(ctx, &format!("gate {}", e.hook_name()))
    });
    let out = upgrade(
        named('A'),
        b,
        Event::UpdateStatus,
        Event::Start,
        State::default(),
    );
    assert_eq!(log_of(&out.state), ["gate update-status", "gate start"]);
}

#[test]
fn explicit_names_must_be_unique_per_filter() {
    let mut charm = Charm::new();
    charm
        .on_named(
            "h",
            EventKind::UpdateStatus,
            |_: &mut Ctx, _: &Event| Ok(()),
        )
        .on_named(
            "h",
            EventKind::UpdateStatus,
            |_: &mut Ctx, _: &Event| Ok(()),
        )
        // The same name for other events is the same handler for several filters: fine.
        .on_named("g", EventKind::Start, |_: &mut Ctx, _: &Event| Ok(()))
        .on_named("g", EventKind::Install, |_: &mut Ctx, _: &Event| Ok(()));
    let out = Harness::new(charm, META).run(Event::Start, State::default());
    let error = out.error().unwrap();
    assert!(error.contains("two handlers are named \"h\""), "{error}");
    assert!(!error.contains("\"g\""), "{error}");
}

fn on_x(ctx: &mut Ctx, e: &Event) -> Result<(), Error> {
    note(ctx, &format!("on_x {}", e.hook_name()))?;
    defer_until_gate(ctx)
}

fn on_y(ctx: &mut Ctx, e: &Event) -> Result<(), Error> {
    note(ctx, &format!("on_y {}", e.hook_name()))
}

#[test]
fn records_from_before_handler_names_are_matched_only_when_safe() {
    let mut b = Charm::new();
    b.on(EventKind::UpdateStatus, on_y)
        .on(EventKind::UpdateStatus, on_x);
    let harness = Harness::new(b, META);
    let old = |observer: String| State {
        deferred: vec![Deferred {
            seq: 0,
            observer,
            filter: None,
            event: DeferredEvent::Juju(Event::UpdateStatus),
        }],
        stored: [("gate".to_string(), serde_json::json!(false))].into(),
        ..State::default()
    };
    // A fn's old id (`<path>#<n>`) names one fn: it gets the event, and the record is rewritten
    // in the current form when the fn defers again.
    let fn_id = format!("{}#0", std::any::type_name_of_val(&on_x));
    let out = harness.run(Event::ConfigChanged, old(fn_id));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(log_of(&out.state), ["on_x update-status"]);
    let record = &out.state.deferred[0];
    assert_eq!(record.observer, std::any::type_name_of_val(&on_x));
    assert_eq!(record.filter.as_deref(), Some("update-status"));
    // A closure's old id gave only its position, which a new revision may have changed: dropped.
    let closure_id = "app::main::{{closure}}#0".to_string();
    let out = harness.run(Event::ConfigChanged, old(closure_id));
    assert!(out.ok(), "{:?}", out.error());
    assert!(log_of(&out.state).is_empty(), "{:?}", log_of(&out.state));
    assert!(out.state.deferred.is_empty());
    assert!(out.logged("cannot be matched safely"), "{:?}", out.logs);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ready {
    n: u32,
}

impl CustomEvent for Ready {
    const NAME: &'static str = "app.ready";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Gone {}

impl CustomEvent for Gone {
    const NAME: &'static str = "app.gone";
}

/// Library events: closures for two event types, reordered between revisions.
fn custom(revision: char) -> Charm {
    let emit = |ctx: &mut Ctx, _: &Event| {
        ctx.emit(Ready { n: 7 });
        Ok(())
    };
    let on_ready = |ctx: &mut Ctx, e: &Ready| {
        note(ctx, &format!("ready {}", e.n))?;
        defer_until_gate(ctx)
    };
    let on_gone = |ctx: &mut Ctx, _: &Gone| note(ctx, "gone");
    let mut charm = Charm::new();
    charm.on(EventKind::UpdateStatus, emit);
    match revision {
        'A' => charm.on_event(on_ready).on_event(on_gone),
        _ => charm.on_event(on_gone).on_event(on_ready),
    };
    charm
}

#[test]
fn reordered_library_event_handlers_keep_their_deferred_events() {
    let out = upgrade(
        custom('A'),
        custom('B'),
        Event::UpdateStatus,
        Event::ConfigChanged,
        State::default(),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(log_of(&out.state), ["ready 7"]);
    assert!(out.state.deferred.is_empty());
}

/// A library registered once per endpoint, whose method handles a charm-wide event: the plugin's
/// key keeps the instances apart.
#[derive(Clone)]
struct Lib {
    endpoint: &'static str,
}

impl Lib {
    fn on_config(&self, ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
        note(ctx, &format!("lib {}", self.endpoint))?;
        if self.endpoint == "db" {
            defer_until_gate(ctx)?;
        }
        Ok(())
    }

    fn on_changed(&self, ctx: &mut Ctx, rel: &RelationEvent) -> Result<(), Error> {
        note(ctx, &format!("lib {} {}", self.endpoint, rel.relation))
    }
}

impl Plugin for Lib {
    fn key(&self) -> Option<String> {
        Some(format!("lib:{}", self.endpoint))
    }

    fn build(self, charm: &mut Charm) {
        charm
            .on_method(EventKind::ConfigChanged, &self, Lib::on_config)
            .on_method(
                EventKind::RelationChanged.on(self.endpoint),
                &self,
                Lib::on_changed,
            );
    }
}

fn two_libs(revision: char) -> Charm {
    let mut charm = Charm::new();
    match revision {
        'A' => charm
            .plugin(Lib { endpoint: "db" })
            .plugin(Lib { endpoint: "cache" }),
        _ => charm
            .plugin(Lib { endpoint: "cache" })
            .plugin(Lib { endpoint: "db" }),
    };
    charm
}

#[test]
fn two_instances_of_one_library_keep_their_own_deferred_events() {
    let out = upgrade(
        two_libs('A'),
        two_libs('B'),
        Event::ConfigChanged,
        db().changed(Some(0)),
        State::default().relation(db()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(log_of(&out.state), ["lib db", "lib db db:1"]);
    let rev_a = Harness::new(two_libs('A'), META);
    let s = rev_a.run(Event::ConfigChanged, State::default()).state;
    assert!(
        s.deferred[0].observer.starts_with("lib:db/")
            && s.deferred[0].observer.contains("Lib::on_config"),
        "{:?}",
        s.deferred
    );
}
