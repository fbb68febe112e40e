//! Each upstream patch, LIBPATCH 3 to 8, pinned by its wire fixture (`fixtures/libpatch{N}.json`,
//! answering the situations of `fixtures/scenario.json`), on both sides:
//!
//! - the model of the old peers (`token_distributor_contract::legacy`, which the
//!   `worker-cluster-legacy` charm runs in the local-model matrix) writes exactly the fixture;
//! - our distributor writes what LIBPATCH 8 writes, except for the documented divergences (a
//!   fresh consumer token replaces a held one; `bootstrap-app` moves on when its app has left);
//! - our consumer decides to bootstrap as each patch's consumer does wherever that patch can
//!   bootstrap at all, and falls back to the LIBPATCH 2 rule where LIBPATCH 7/8 would deadlock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{BagData, Event};
use charm_testing::{Harness, Relation, State};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use token_distributor::{CommandOutput, CommandRunner, PendingWait};
use token_distributor_contract::legacy::{self, Bag, LegacyError, ProviderRelation};

const SCENARIO: &str = include_str!("../fixtures/scenario.json");
const PATCH_FILES: [(u8, &str); 6] = [
    (3, include_str!("../fixtures/libpatch3.json")),
    (4, include_str!("../fixtures/libpatch4.json")),
    (5, include_str!("../fixtures/libpatch5.json")),
    (6, include_str!("../fixtures/libpatch6.json")),
    (7, include_str!("../fixtures/libpatch7.json")),
    (8, include_str!("../fixtures/libpatch8.json")),
];
const LIBPATCH2: &str = include_str!("../fixtures/libpatch2.json");
const DIST: &str = "microcluster-token-distributor";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn scenario() -> Value {
    json(SCENARIO)
}

fn patch(n: u8) -> Value {
    json(PATCH_FILES.iter().find(|(p, _)| *p == n).unwrap().1)
}

/// A fixture object as a bag (its `about` note left out).
fn bag(v: &Value) -> Bag {
    v.as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "about")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// The relations of a scenario state.
fn state(name: &str) -> Vec<ProviderRelation> {
    scenario()["states"][name]["relations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| ProviderRelation {
            id: u32::try_from(r["id"].as_u64().unwrap()).unwrap(),
            remote_app: r["app"].as_str().unwrap().to_string(),
            own_unit: bag(&r["own_unit"]),
            own_app: bag(&r["own_app"]),
            units: r["units"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(n, b)| (n.parse().unwrap(), bag(b)))
                .collect(),
        })
        .collect()
}

/// The hooks of the scenario: (name, state, hook, relation of the event).
fn hooks() -> Vec<(String, String, String, Option<u32>)> {
    scenario()["hooks"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "about")
        .map(|(k, h)| {
            (
                k.clone(),
                h["state"].as_str().unwrap().to_string(),
                h["hook"].as_str().unwrap().to_string(),
                h["relation"].as_u64().map(|r| u32::try_from(r).unwrap()),
            )
        })
        .collect()
}

/// Every relation's (unit bag, app bag) after a hook, by relation id.
type After = BTreeMap<u32, (Bag, Bag)>;

fn expected(patch_file: &Value, hook: &str) -> Result<After, String> {
    let w = &patch_file["provider"][hook];
    if let Some(e) = w.get("error") {
        return Err(e.as_str().unwrap().to_string());
    }
    Ok(w.as_object()
        .unwrap()
        .iter()
        .map(|(id, r)| (id.parse().unwrap(), (bag(&r["unit"]), bag(&r["app"]))))
        .collect())
}

fn legacy_after(n: u8, state_name: &str, hook: &str, event: Option<u32>) -> Result<After, String> {
    let mut rels = state(state_name);
    match hook {
        "relation-changed" => legacy::provider_changed(n, &mut rels, event.unwrap()),
        "leader-elected" => {
            legacy::provider_leader_elected(n, true, &mut rels).map_err(|e| match e {
                LegacyError::TooManyRelatedApps => "TooManyRelatedApps".to_string(),
            })?
        }
        other => panic!("no hook {other}"),
    }
    Ok(rels
        .into_iter()
        .map(|r| (r.id, (r.own_unit, r.own_app)))
        .collect())
}

// ----- the old peers' model writes the fixtures -----

#[test]
fn every_fixture_answers_every_hook_of_the_scenario() {
    for (n, _) in PATCH_FILES {
        let f = patch(n);
        assert_eq!(f["libpatch"], n);
        for (name, state_name, _, _) in hooks() {
            let after = expected(&f, &name);
            if let Ok(after) = after {
                let ids: Vec<u32> = state(&state_name).iter().map(|r| r.id).collect();
                assert_eq!(after.keys().copied().collect::<Vec<_>>(), ids, "{n} {name}");
            }
        }
    }
}

#[test]
fn the_legacy_provider_writes_what_each_patch_writes() {
    for (n, _) in PATCH_FILES {
        let f = patch(n);
        for (name, state_name, hook, event) in hooks() {
            assert_eq!(
                legacy_after(n, &state_name, &hook, event),
                expected(&f, &name),
                "LIBPATCH {n}, {name}"
            );
        }
    }
}

#[test]
fn the_legacy_provider_2_is_the_provider_3_and_matches_the_libpatch2_fixture() {
    for (_, state_name, hook, event) in hooks() {
        assert_eq!(
            legacy_after(2, &state_name, &hook, event),
            legacy_after(3, &state_name, &hook, event)
        );
    }
    // The LIBPATCH 2 fixture (written earlier, in another form) agrees with the model.
    let f = json(LIBPATCH2);
    let units: BTreeMap<u32, Bag> = (0..3u32)
        .map(|n| (n, bag(&f["consumer_units"][n.to_string().as_str()])))
        .collect();
    let mut rels = vec![ProviderRelation {
        id: 4,
        remote_app: "microovn".into(),
        units,
        ..Default::default()
    }];
    legacy::provider_changed(2, &mut rels, 4);
    assert_eq!(rels[0].own_unit, bag(&f["provider_leader_after"]));
    assert!(rels[0].own_app.is_empty());
}

#[test]
fn patches_differ_where_the_spec_says() {
    // Guard against fixtures that were copied without their differences.
    let two = |n: u8, hook: &str| expected(&patch(n), hook);
    assert_ne!(
        two(3, "two_apps_leader_elected"),
        two(4, "two_apps_leader_elected")
    );
    assert_ne!(two(4, "two_apps_changed_4"), two(5, "two_apps_changed_4"));
    assert_ne!(two(4, "conflict_changed_4"), two(5, "conflict_changed_4"));
    assert_eq!(
        two(5, "two_apps_leader_elected"),
        two(6, "two_apps_leader_elected")
    );
    // bootstrap-app arrives in 7 (not 6), on leader-elected only; 8 adds relation-changed.
    assert_ne!(
        two(6, "two_apps_leader_elected"),
        two(7, "two_apps_leader_elected")
    );
    assert_eq!(two(6, "two_apps_changed_4"), two(7, "two_apps_changed_4"));
    assert_ne!(two(7, "late_app_changed_9"), two(8, "late_app_changed_9"));
    let late7 = two(7, "late_app_changed_9").unwrap();
    assert!(
        late7[&9].1.is_empty(),
        "LIBPATCH 7 leaves a late relation without bootstrap-app"
    );
    let late8 = two(8, "late_app_changed_9").unwrap();
    assert_eq!(late8[&9].1["bootstrap-app"], "microovn");
    for n in 3..=6 {
        for (name, ..) in hooks() {
            if let Ok(after) = two(n, &name) {
                for (id, (_, app)) in after {
                    let before = state(scenario()["hooks"][&name]["state"].as_str().unwrap())
                        .into_iter()
                        .find(|r| r.id == id)
                        .unwrap()
                        .own_app;
                    assert_eq!(
                        app, before,
                        "LIBPATCH {n} never writes the app bag ({name})"
                    );
                }
            }
        }
    }
}

#[test]
fn the_legacy_consumer_decides_as_each_patch_does() {
    let views = &scenario()["consumer_views"];
    for (n, _) in PATCH_FILES {
        let f = patch(n);
        assert_eq!(
            f["consumer"]["bootstrap_hook"],
            legacy::consumer_bootstrap_hook(n)
        );
        for (view, want) in f["consumer"]["joined"].as_object().unwrap() {
            let unit = bag(&views[view]["unit"]);
            let app = bag(&views[view]["app"]);
            let d = legacy::consumer_bootstrap_decision(n, "microovn", true, false, &[&unit], &app);
            assert_eq!(d.defers, want["defers"].as_bool().unwrap(), "{n} {view}");
            assert_eq!(
                d.bootstraps,
                want["bootstraps"].as_bool().unwrap(),
                "{n} {view}"
            );
            // Never a bootstrap off the leader or in the cluster.
            assert!(
                !legacy::consumer_bootstrap_decision(n, "microovn", false, false, &[&unit], &app)
                    .bootstraps
            );
            assert!(
                !legacy::consumer_bootstrap_decision(n, "microovn", true, true, &[&unit], &app)
                    .bootstraps
            );
        }
        let mv = &scenario()["mirror_views"];
        for (case, want) in f["consumer"]["mirror_flag"].as_object().unwrap() {
            if case == "about" {
                continue;
            }
            let got = legacy::consumer_mirror_flag(
                n,
                false,
                &bag(&mv[case]["own"]),
                &bag(&mv[case]["relevant"]),
            );
            match want.as_str() {
                Some(flag) => assert_eq!(got, Ok(Some(flag)), "{n} {case}"),
                None => assert!(got.is_err(), "{n} {case}: {got:?}"),
            }
        }
    }
    assert_eq!(legacy::consumer_bootstrap_hook(2), "relation-created");
}

// ----- our distributor against the LIBPATCH 8 fixture -----

fn our_provider_after(state_name: &str, hook: &str, event: Option<u32>) -> After {
    let harness = Harness::new(
        microcluster_token_distributor::charm(),
        microcluster_token_distributor::METADATA,
    );
    let rels = state(state_name);
    let mut st = State::default().leader(true);
    for r in &rels {
        let mut rel = Relation::new("microcluster-cluster", r.id, &r.remote_app)
            .local_unit_data(r.own_unit.clone())
            .local_app_data(r.own_app.clone());
        for (n, b) in &r.units {
            rel = rel.remote_unit(*n, b.clone());
        }
        st = st.relation(rel);
    }
    let event = match hook {
        "relation-changed" => {
            let id = event.unwrap();
            let r = rels.iter().find(|r| r.id == id).unwrap();
            let unit = *r.units.keys().next().unwrap();
            Relation::new("microcluster-cluster", id, &r.remote_app).changed(Some(unit))
        }
        "leader-elected" => Event::LeaderElected,
        other => panic!("no hook {other}"),
    };
    let out = harness.run(event, st);
    assert!(out.ok(), "{state_name} {hook}: {:?}", out.error());
    rels.iter()
        .map(|r| {
            let got = out.state.rel(r.id).unwrap();
            (
                r.id,
                (to_bag(&got.local_unit_data), to_bag(&got.local_app_data)),
            )
        })
        .collect()
}

fn to_bag(b: &BagData) -> Bag {
    b.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[test]
fn our_distributor_writes_what_libpatch8_writes() {
    let f = patch(8);
    for (name, state_name, hook, event) in hooks() {
        let mut want = expected(&f, &name).unwrap();
        let got = our_provider_after(&state_name, &hook, event);
        match name.as_str() {
            // Divergence 1 (README): a token fresh from the up communicator replaces a held one;
            // LIBPATCH 8 keeps the held one. A placeholder never replaces a token, as in 8.
            "conflict_changed_4" => {
                let unit = &mut want.get_mut(&4).unwrap().0;
                assert_eq!(unit["mirror-ovn-1"], "T-old");
                unit.insert("mirror-ovn-1".into(), "T-new".into());
                assert_eq!(got[&4].0["mirror-ovn-2"], "T-held");
            }
            // Divergence 2 (README): LIBPATCH 8 keeps naming an app that has left (nobody can
            // bootstrap any more); ours names the app of the oldest relation still there.
            "sticky_changed_9" => {
                for (_, app) in want.values_mut() {
                    assert_eq!(app["bootstrap-app"], "microovn");
                    app.insert("bootstrap-app".into(), "agents".into());
                }
            }
            _ => {}
        }
        assert_eq!(got, want, "{name}");
    }
}

// ----- our consumer against the distributors of every patch -----

/// A CLI where `list` shows the bootstrapper once it exists; records subcommands.
struct Cli {
    calls: RefCell<Vec<String>>,
}

impl CommandRunner for Cli {
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        let sub = argv.get(2).cloned().unwrap_or_default();
        self.calls.borrow_mut().push(sub.clone());
        Ok(match sub.as_str() {
            "list" => CommandOutput::ok(
                r#"[{"name":"ovn-0","address":"10.0.0.1:6443","role":"voter","status":"ONLINE"}]"#,
            ),
            "add" => CommandOutput::ok("T-minted\n"),
            _ => CommandOutput::ok(""),
        })
    }
}

/// Whether our microovn leader, not in the cluster, bootstraps on relation-changed from a
/// distributor showing `view` (its unit 0 and app bags).
fn our_consumer_bootstraps(view: &str) -> bool {
    let views = &scenario()["consumer_views"];
    let cli = Rc::new(Cli {
        calls: RefCell::new(Vec::new()),
    });
    let runner: Rc<dyn CommandRunner> = cli.clone();
    let options = microcluster_node::Options {
        runner: Some(runner),
        hostname: Some(Rc::new(|| Ok("ovn-0".to_string()))),
        wait: Some(PendingWait {
            attempts: 1,
            interval: Duration::ZERO,
        }),
    };
    let meta = microcluster_node::METADATA.replacen("name: microcluster-node", "name: microovn", 1);
    let harness = Harness::new(microcluster_node::charm_with(options), &meta)
        .config_yaml(microcluster_node::CONFIG);
    let rel = Relation::new("cluster", 4, DIST)
        .remote_unit(0, bag(&views[view]["unit"]))
        .remote_app_data(bag(&views[view]["app"]));
    let out = harness.run(
        rel.changed(Some(0)),
        State::default()
            .leader(true)
            .config("cluster-command", "microovn cluster")
            .relation(rel),
    );
    assert!(out.ok(), "{view}: {:?}", out.error());
    let calls = cli.calls.borrow().clone();
    calls.iter().any(|c| c == "bootstrap")
}

#[test]
fn our_consumer_bootstraps_as_each_patch_does_except_where_old_ones_would_deadlock() {
    let views = &scenario()["consumer_views"];
    let ours: BTreeMap<String, bool> = views
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "about")
        .map(|k| (k.clone(), our_consumer_bootstraps(k)))
        .collect();
    // Ours waits until a mirror is up (one round trip later), then follows bootstrap-app when the
    // distributor names one, and the LIBPATCH 2 rule when it does not.
    assert_eq!(
        ours,
        BTreeMap::from([
            ("no_mirror".to_string(), false),
            ("mirror_no_app".to_string(), true),
            ("app_names_us".to_string(), true),
            ("app_names_other".to_string(), false),
            ("app_without_key".to_string(), true),
            ("token_exists".to_string(), false),
        ])
    );
    for (n, _) in PATCH_FILES {
        let f = patch(n);
        for (view, want) in f["consumer"]["joined"].as_object().unwrap() {
            let theirs = want["bootstraps"].as_bool().unwrap();
            let divergence = match view.as_str() {
                // Ours never bootstraps before a mirror is up; the decision waits a hook.
                "no_mirror" => true,
                // LIBPATCH 7/8 never bootstrap without bootstrap-app (the deadlock with ≤6 and
                // late relations on 7); ours falls back to the LIBPATCH 2 rule.
                "mirror_no_app" | "app_without_key" => n >= 7,
                // A ≤6 consumer ignores bootstrap-app, so each app would bootstrap its own cluster.
                "app_names_other" => n <= 6,
                _ => false,
            };
            if !divergence {
                assert_eq!(ours[view], theirs, "LIBPATCH {n}, {view}");
            }
        }
    }
}

#[test]
fn our_former_communicator_keeps_its_mirror_up_while_it_holds_a_token_the_distributor_lacks() {
    let mv = &scenario()["mirror_views"];
    let f = patch(8);
    for case in [
        "token_only_we_hold",
        "token_everywhere",
        "placeholder_we_never_minted",
    ] {
        let cli = Rc::new(Cli {
            calls: RefCell::new(Vec::new()),
        });
        let runner: Rc<dyn CommandRunner> = cli.clone();
        let options = microcluster_node::Options {
            runner: Some(runner),
            hostname: Some(Rc::new(|| Ok("ovn-1".to_string()))),
            wait: Some(PendingWait {
                attempts: 1,
                interval: Duration::ZERO,
            }),
        };
        let harness = Harness::new(
            microcluster_node::charm_with(options),
            microcluster_node::METADATA,
        )
        .config_yaml(microcluster_node::CONFIG)
        .unit(1);
        let mut distributor = bag(&mv[case]["relevant"]);
        distributor.insert("mirror".into(), "up".into());
        let rel = Relation::new("cluster", 4, DIST)
            .remote_unit(0, distributor)
            .local_unit_data(bag(&mv[case]["own"]))
            .local_app_data(BagData::new());
        let mut st = State::default()
            .config("cluster-command", "microovn cluster")
            .relation(rel);
        st.stored.insert(
            "token_distributor.consumer:cluster".into(),
            serde_json::json!({"in_cluster": true}),
        );
        let out = harness.run(Relation::new("cluster", 4, DIST).changed(Some(0)), st);
        // Where Python fails the hook with KeyError, ours lowers the mirror.
        assert!(out.ok(), "{case}: {:?}", out.error());
        let want = f["consumer"]["mirror_flag"][case]
            .as_str()
            .unwrap_or("down");
        assert_eq!(
            out.state.rel(4).unwrap().local_unit_data["mirror"],
            want,
            "{case}"
        );
    }
}
