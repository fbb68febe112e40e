//! The table against the framework: the charm's `Ctx` over the real `ProcessBackend`, with stub
//! hook tools that answer reads as Juju would in the scene and accept everything else.
//!
//! Where Juju refuses for a reason the unit knows itself (`Op::refusal_is_local`: its
//! leadership, the hook it runs in) the framework must refuse first, without running the tool.
//! Everything else it must hand to Juju: an operation Juju accepts must succeed (with Juju's
//! value), one only Juju can judge must reach the tool.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use charm::backend::ProcessBackend;
use charm::state::{MemoryStore, StateDoc};
use charm::{
    ActionEvent, Bag as FwBag, Charm, Ctx, Error, Event, Filter, JujuEnv, JujuVersion, ModelError,
    NewSecret, RelationEvent, RelationId, SecretOwner, SecretRead, SecretUpdate,
};
use charm_testing::StubTools;
use juju_rules::cases::CASES;
use juju_rules::op::{Bag, Case, Env, Expect, Hook, Op, Read, Rel, Secret, Who, content};

const DB: u32 = 1;
const PEERS: u32 = 2;

fn secret_ids() -> BTreeMap<Secret, String> {
    BTreeMap::from([
        (Secret::AppOwned, "secret:cafe0000000000000010".to_string()),
        (Secret::UnitOwned, "secret:cafe0000000000000020".to_string()),
        (Secret::Granted, "secret:cafe0000000000000030".to_string()),
        (Secret::Ungranted, "secret:cafe0000000000000040".to_string()),
        (Secret::Missing, "secret:cafe0000000000000050".to_string()),
    ])
}

/// The framework's way of doing `op`, or `None` where it offers none (the charm then calls the
/// tool itself, which the other runners cover).
fn framework_op(ctx: &mut Ctx, env: &Env, op: Op) -> Option<Result<String, ModelError>> {
    let rid = |rel: Rel| env.relation(rel);
    let sid = |s: Secret| env.secret(s).map_err(ModelError::from);
    let none = |r: Result<(), ModelError>| r.map(|()| String::new());
    Some(match op {
        Op::ReadBag(rel, bag) => {
            let bag = match bag {
                Bag::OwnUnit => FwBag::LocalUnit,
                Bag::OwnApp => FwBag::LocalApp,
                Bag::RemoteApp => FwBag::RemoteApp,
                Bag::RemoteUnit(n) => FwBag::Unit(format!("{}/{n}", rel.remote_app())),
            };
            ctx.read(&rid(rel), &bag)
                .map(|b| b.get("who").cloned().unwrap_or_default())
        }
        Op::WriteBag(rel, app, value) => {
            let bag = if app {
                FwBag::LocalApp
            } else {
                FwBag::LocalUnit
            };
            none(ctx.set(&rid(rel), &bag, "who", value))
        }
        Op::RelationList(rel) => ctx.remote_units(&rid(rel)).map(|mut u| {
            u.sort();
            u.join(",")
        }),
        Op::RelationIds(rel) => ctx.relations(rel.endpoint()).map(|r| r.len().to_string()),
        Op::IsLeader => ctx.is_leader().map(|l| l.to_string()),
        Op::SetStatus { app: true } => none(ctx.set_app_status(charm::Status::active("rules"))),
        Op::SetStatus { app: false } => none(ctx.set_unit_status(charm::Status::active("rules"))),
        Op::SecretAdd { app_owned, label } => ctx
            .add_secret(&NewSecret {
                content: content("new"),
                label: label.map(str::to_string),
                owner: if app_owned {
                    SecretOwner::Application
                } else {
                    SecretOwner::Unit
                },
                ..NewSecret::default()
            })
            .map(|_| String::new()),
        Op::SecretGet(s, label, read) => {
            let read = match read {
                Read::Tracked => SecretRead::Tracked,
                Read::Peek => SecretRead::Peek,
                Read::Refresh => SecretRead::Refresh,
            };
            sid(s).and_then(|id| {
                ctx.get_secret(Some(&id), label, read)
                    .map(|_| String::new())
            })
        }
        Op::SecretGetByLabel(label) => ctx
            .get_secret(None, Some(label), SecretRead::Tracked)
            .map(|_| String::new()),
        Op::SecretSet(s, value) => sid(s).and_then(|id| {
            let update = SecretUpdate {
                content: Some(content(value)),
                ..SecretUpdate::default()
            };
            none(ctx.set_secret(&id, &update))
        }),
        Op::SecretInfo(s) => sid(s).and_then(|id| {
            ctx.secret_info(Some(&id), None)
                .map(|i| i.revision.to_string())
        }),
        Op::SecretGrant(s) => {
            sid(s).and_then(|id| none(ctx.grant_secret(&id, &rid(Rel::Db), None)))
        }
        Op::SecretRevoke(s) => {
            sid(s).and_then(|id| none(ctx.revoke_secret(&id, &rid(Rel::Db), None)))
        }
        Op::SecretRemove(s, revision) => {
            sid(s).and_then(|id| none(ctx.remove_secret(&id, revision)))
        }
        Op::SecretIds => ctx.secret_ids().map(|ids| ids.len().to_string()),
        Op::ActionGet => ctx.action_params::<serde_json::Value>().map(|p| {
            p.get("p")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        }),
        Op::ActionSet => none(ctx.action_set(&serde_json::json!({"k": "v"}))),
        Op::ActionLog => none(ctx.action_log("working")),
        Op::ActionFail => none(ctx.action_fail("failed on purpose")),
        Op::GetStatus { .. } | Op::StateGet(_) | Op::StateSet(..) | Op::StateDelete(_) => {
            return None;
        }
    })
}

/// Operations whose value the stubs give as Juju would, so the framework's must match.
fn value_checked(op: Op) -> bool {
    matches!(
        op,
        Op::ReadBag(..) | Op::RelationList(_) | Op::RelationIds(_) | Op::IsLeader | Op::ActionGet
    )
}

/// Stub tools answering the scene's reads as `who` sees them in `hook`.
fn stubs(who: Who, hook: Hook) -> StubTools {
    let s = StubTools::new().unwrap();
    let json = |v: serde_json::Value| v.to_string();
    s.answer("is-leader", &json((who == Who::Leader).into()))
        .unwrap();
    let db_ids: Vec<String> = if hook == Hook::Broken {
        Vec::new()
    } else {
        vec![format!("db:{DB}")]
    };
    s.answer_for("relation-ids", "db", &json(db_ids.into()))
        .unwrap();
    s.answer_for(
        "relation-ids",
        "peers",
        &json(vec![format!("peers:{PEERS}")].into()),
    )
    .unwrap();
    let remotes: Vec<&str> = match hook {
        Hook::Broken => Vec::new(),
        Hook::Departed => vec!["remote/0"],
        _ => vec!["remote/0", "remote/1"],
    };
    s.answer_for("relation-list", &format!("db:{DB}"), &json(remotes.into()))
        .unwrap();
    s.answer_for_app("relation-list", &format!("db:{DB}"), "\"remote\"")
        .unwrap();
    s.answer_for_app("relation-list", &format!("peers:{PEERS}"), "\"app\"")
        .unwrap();
    let peer = match who {
        Who::Leader => "app/1",
        Who::Follower => "app/0",
    };
    s.answer_for(
        "relation-list",
        &format!("peers:{PEERS}"),
        &json(vec![peer].into()),
    )
    .unwrap();
    s.answer("relation-get", "{}").unwrap();
    for owner in ["app", "app/0", "app/1", "remote", "remote/0", "remote/1"] {
        s.answer_for(
            "relation-get",
            owner,
            &json(serde_json::json!({ "who": owner })),
        )
        .unwrap();
    }
    s.answer("secret-add", "secret:cafe0000000000000060\n")
        .unwrap();
    s.answer("secret-get", &json(serde_json::json!({"value": "any"})))
        .unwrap();
    s.answer("secret-ids", "[]").unwrap();
    for uri in secret_ids().values() {
        let xid = &uri["secret:".len()..];
        let info = serde_json::json!({ xid: {"revision": 2, "owner": "application"} });
        s.answer_for("secret-info-get", uri, &json(info)).unwrap();
    }
    s.answer("action-get", &json(serde_json::json!({"p": "given"})))
        .unwrap();
    s
}

fn event(hook: Hook) -> Event {
    let db = || RelationEvent {
        relation: RelationId::new("db", DB),
        remote_app: Some("remote".into()),
        remote_unit: None,
        departing_unit: None,
    };
    match hook {
        Hook::UpdateStatus => Event::UpdateStatus,
        Hook::Departed => Event::RelationDeparted(RelationEvent {
            remote_unit: Some("remote/1".into()),
            departing_unit: Some("remote/1".into()),
            ..db()
        }),
        Hook::Broken => Event::RelationBroken(db()),
        Hook::Action => Event::Action(ActionEvent {
            name: "probe".into(),
            id: "1".into(),
        }),
    }
}

/// One step as the framework handled it.
struct Step {
    result: Result<String, ModelError>,
    /// Calls of the step's tool made during the step.
    calls: usize,
}

fn calls_to(stubs: &StubTools, tool: &str) -> usize {
    stubs.calls().iter().filter(|c| c[0] == tool).count()
}

/// Runs the case through the framework; `None` when it offers no way to do some step.
fn run_case(case: &Case) -> Option<(Vec<Step>, StubTools)> {
    let env = Env {
        unit: case.who.unit().to_string(),
        db: DB,
        peers: PEERS,
        secrets: secret_ids(),
    };
    let stubs = Rc::new(stubs(case.who, case.hook));
    let steps = Rc::new(RefCell::new(Vec::new()));
    let supported = Rc::new(RefCell::new(true));
    let (seen, ok, tools) = (Rc::clone(&steps), Rc::clone(&supported), Rc::clone(&stubs));
    let ops = case.steps;
    let mut charm = Charm::new();
    charm.metadata(juju_rules::PROBE_METADATA_JSON);
    charm.on(
        Filter::any(),
        move |ctx: &mut Ctx, _: &Event| -> Result<(), Error> {
            for (op, _) in ops {
                let before = calls_to(&tools, op.tool());
                let Some(result) = framework_op(ctx, &env, *op) else {
                    *ok.borrow_mut() = false;
                    return Ok(());
                };
                let calls = calls_to(&tools, op.tool()) - before;
                seen.borrow_mut().push(Step { result, calls });
            }
            Ok(())
        },
    );
    let juju = JujuEnv {
        unit: case.who.unit().into(),
        app: "app".into(),
        model_name: "rules".into(),
        model_uuid: "00000000-0000-4000-8000-000000000001".into(),
        juju_version: JujuVersion {
            major: 3,
            minor: 6,
            patch: 14,
        },
        charm_dir: stubs.root().to_path_buf(),
        dispatch_path: match case.hook {
            Hook::Action => "actions/probe".into(),
            other => format!("hooks/{}", event(other).hook_name()),
        },
        event: event(case.hook),
        debug: false,
        host: Default::default(),
    };
    let mut backend = ProcessBackend::new("app").with_tools_dir(stubs.bin());
    let mut store = MemoryStore {
        doc: StateDoc::default(),
    };
    let _ = charm.dispatch(&juju, &mut backend, &mut store);
    drop(charm);
    if !*supported.borrow() {
        return None;
    }
    let steps = Rc::try_unwrap(steps).ok()?.into_inner();
    let stubs = Rc::try_unwrap(stubs).ok()?;
    Some((steps, stubs))
}

fn check(i: usize, case: &Case, steps: &[Step], stubs: &StubTools, failures: &mut Vec<String>) {
    let mut fail = |k: usize, op: Op, why: String| {
        failures.push(format!(
            "framework: {:?} {} (case {i}), step {k} {op:?}: {why}",
            case.who, case.name
        ));
    };
    let mut accepted_writes = 0;
    for (k, ((op, expect), step)) in case.steps.iter().zip(steps).enumerate() {
        let (op, expect) = (*op, *expect);
        let juju_error = matches!(step.result, Err(ModelError::HookTool(_)));
        if expect.refused() && op.refusal_is_local(expect) {
            if step.result.is_ok() || juju_error || step.calls > 0 {
                fail(
                    k,
                    op,
                    format!(
                        "Juju refuses ({expect:?}) for a reason the unit knows: the framework must refuse before running {}, got {:?} after {} call(s)",
                        op.tool(),
                        step.result,
                        step.calls
                    ),
                );
            }
            continue;
        }
        if expect.refused() {
            // Only Juju can judge: the call must reach it.
            if step.calls == 0 && !juju_error {
                fail(
                    k,
                    op,
                    format!(
                        "only Juju can refuse this ({expect:?}): the framework must run {}, got {:?}",
                        op.tool(),
                        step.result
                    ),
                );
            }
            continue;
        }
        if matches!(op, Op::WriteBag(..)) {
            accepted_writes += 1;
        }
        match (&step.result, expect) {
            (Err(e), _) => fail(k, op, format!("Juju accepts ({expect:?}): got {e}")),
            (Ok(got), Expect::Value(want)) if value_checked(op) && got != want => {
                fail(k, op, format!("Juju answers {want:?}, got {got:?}"));
            }
            _ => {}
        }
    }
    // Staged writes reach Juju when the dispatch ends: exactly the accepted ones.
    let writes = calls_to(stubs, "relation-set");
    if writes != accepted_writes {
        failures.push(format!(
            "framework: {} (case {i}): {writes} relation-set call(s) for {accepted_writes} accepted write(s)",
            case.name
        ));
    }
}

#[test]
fn the_framework_refuses_what_the_unit_knows_juju_refuses_and_passes_the_rest() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for (i, case) in CASES.iter().enumerate() {
        let Some((steps, stubs)) = run_case(case) else {
            continue;
        };
        ran += 1;
        assert_eq!(steps.len(), case.steps.len(), "{}", case.name);
        check(i, case, &steps, &stubs, &mut failures);
    }
    assert!(ran * 2 > CASES.len(), "the framework ran only {ran} cases");
    let local = CASES
        .iter()
        .flat_map(|c| c.steps)
        .filter(|(op, expect)| expect.refused() && op.refusal_is_local(*expect))
        .count();
    assert!(
        local >= 10,
        "only {local} refusals are the framework's to make"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
