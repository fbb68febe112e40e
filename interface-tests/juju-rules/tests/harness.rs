//! The table against the in-memory harness (`charm-testing`): its backend must answer every
//! case as Juju does, to a charm that calls the hook tools directly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use charm::{Charm, Ctx, Error, Event, Filter, SecretOwner};
use charm_testing::{Harness, Relation, Secret as HarnessSecret, State};
use juju_rules::op::{Case, Env, Hook, Outcome, Secret, Who, content, run_raw};

mod common;

const DB: u32 = 1;
const PEERS: u32 = 2;

/// The scene's secret ids in the harness.
fn secret_ids() -> BTreeMap<Secret, String> {
    BTreeMap::from([
        (Secret::AppOwned, "secret:cafe0000000000000010".to_string()),
        (Secret::UnitOwned, "secret:cafe0000000000000020".to_string()),
        (Secret::Granted, "secret:cafe0000000000000030".to_string()),
        (Secret::Ungranted, "secret:cafe0000000000000040".to_string()),
        (Secret::Missing, "secret:cafe0000000000000050".to_string()),
    ])
}

fn db() -> Relation {
    Relation::new("db", DB, "remote")
        .remote_app_data([("who", "remote")])
        .remote_unit(0, [("who", "remote/0")])
        .remote_unit(1, [("who", "remote/1")])
        .local_app_data([("who", "app")])
}

/// The scene as `who` sees it.
fn scene(who: Who) -> State {
    let ids = secret_ids();
    let unit = who.unit();
    let other = match who {
        Who::Leader => 1,
        Who::Follower => 0,
    };
    let db = db().local_unit_data([("who", unit)]);
    let peers = Relation::peer("peers", PEERS, "app")
        .local_app_data([("who", "app")])
        .local_unit_data([("who", unit)])
        .remote_unit(other, [("who", format!("app/{other}"))]);
    let app_secret = HarnessSecret::owned(&ids[&Secret::AppOwned], content("one"))
        .revision(content("two"))
        .label("app-secret");
    let unit_secret = match who {
        Who::Leader => HarnessSecret {
            owner: Some(SecretOwner::Unit),
            ..HarnessSecret::owned(&ids[&Secret::UnitOwned], content("mine")).label("unit-secret")
        },
        // Another unit's secret: it exists, and is not this unit's to read.
        Who::Follower => HarnessSecret::ungranted(&ids[&Secret::UnitOwned]),
    };
    let mut granted =
        HarnessSecret::granted(&ids[&Secret::Granted], content("r1")).revision(content("r2"));
    if who == Who::Leader {
        granted = granted.tracking(1);
    }
    let mut state = State::default()
        .leader(who == Who::Leader)
        .relation(db)
        .relation(peers)
        .secret(app_secret)
        .secret(unit_secret)
        .secret(granted)
        .secret(HarnessSecret::ungranted(&ids[&Secret::Ungranted]));
    state.juju_state = BTreeMap::from([("who".to_string(), unit.to_string())]);
    state
}

fn run_case(case: &Case) -> Vec<Outcome> {
    let env = Env {
        unit: case.who.unit().to_string(),
        db: DB,
        peers: PEERS,
        secrets: secret_ids(),
    };
    let outcomes = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&outcomes);
    let steps = case.steps;
    let mut charm = Charm::new();
    charm.on(
        Filter::any(),
        move |ctx: &mut Ctx, _: &Event| -> Result<(), Error> {
            for (op, _) in steps {
                let outcome = run_raw(ctx.tools(), &env, *op);
                seen.borrow_mut().push(outcome);
            }
            Ok(())
        },
    );
    let n = match case.who {
        Who::Leader => 0,
        Who::Follower => 1,
    };
    let harness = Harness::new(charm, juju_rules::PROBE_METADATA)
        .app("app")
        .unit(n);
    let state = scene(case.who);
    let out = match case.hook {
        Hook::UpdateStatus => harness.run(Event::UpdateStatus, state),
        Hook::Departed => harness.run(db().departed(1), state),
        Hook::Broken => harness.run(db().broken(), state),
        Hook::Action => harness.run_action("probe", serde_json::json!({"p": "given"}), state),
    };
    let committed = out.result.is_ok();
    if let Err(e) = &out.result {
        assert!(
            e.message().contains("when Juju committed it"),
            "{}: the hook failed otherwise: {e}",
            case.name
        );
    }
    let got = outcomes.borrow().clone();
    common::after_commit(got, committed)
}

#[test]
fn the_harness_answers_every_case_as_juju_does() {
    let failures = common::check_all("harness", |_, case| Some(run_case(case)));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
