//! The ops probe through juju-local: a real `ops` 3.9 charm (Python, from `make python-peers`)
//! makes the hook-tool calls ops makes in normal use; every observation it records is asserted
//! here. A hook tool answering differently from Juju shows up as a wrong value or a failed hook.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::python::python_charm_dir;
use interface_tests_common::{charm_events, failure_details, model, timeline_len};
use juju_local::{ActionOutcome, DeployOptions, Model};
use serde_json::{Value, json};
use std::path::Path;

/// Deploys the probe charm as `app` with `units` units and `env`.
fn deploy(m: &Model, app: &str, units: u32, env: &[(&str, &str)]) {
    let charms = m.dir().parent().unwrap().join("charms");
    let dir = python_charm_dir(Path::new(ops_probe::CHARM), &charms, app);
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.deploy(
        &dir,
        DeployOptions {
            app: Some(app.into()),
            units: Some(units),
            env,
            ..Default::default()
        },
    )
    .unwrap();
}

/// Settles, insisting that no hook failed (an ops exception is a failed hook).
fn settle(m: &Model) {
    let report = m.settle(300).unwrap();
    assert!(
        report.errors.is_empty(),
        "hooks failed: {:?}\n{}",
        report.errors,
        failure_details(m)
    );
}

fn action(m: &Model, unit: &str, name: &str, params: &[(&str, &str)]) -> ActionOutcome {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.run_action(unit, name, &params).unwrap()
}

/// The JSON document an action returned as its `observed` result.
fn observed(out: &ActionOutcome) -> Value {
    assert_eq!(out.status, "completed", "{out:?}");
    let text = out.results["observed"].as_str().unwrap_or_default();
    serde_json::from_str(text).unwrap_or_else(|e| panic!("observed is not JSON ({e}): {out:?}"))
}

/// The single event `name` recorded by `unit` after `mark`.
fn one(m: &Model, mark: usize, name: &str, unit: &str) -> Value {
    let mut found: Vec<Value> = charm_events(m, mark, name)
        .into_iter()
        .filter(|(u, _)| u == unit)
        .map(|(_, f)| f)
        .collect();
    assert_eq!(found.len(), 1, "{name} on {unit}: {found:?}");
    found.remove(0)
}

/// The addresses juju-local seeds a unit bag with (spec: Juju does the same on entering scope).
fn seeded(address: &str) -> Value {
    json!({"egress-subnets": format!("{address}/32"), "ingress-address": address, "private-address": address})
}

#[test]
fn relations_actions_secrets_ports_and_teardown_as_ops_sees_them() {
    let m = model("ops-probe");
    deploy(&m, "probe", 2, &[]);
    deploy(&m, "peer", 1, &[]);
    let rel = m.relate("probe:db", "peer:upstream").unwrap();
    settle(&m);

    // Install phase: typed config, leadership, the ports and version set in install.
    let config = one(&m, 0, "config_changed", "probe/1");
    assert_eq!(
        config["config"],
        json!({"count": 3, "defer-broken": false, "defer-updates": false, "enabled": true,
               "greeting": "hello", "ratio": 0.5}),
        "an option without a default is absent"
    );
    assert_eq!(
        config["types"],
        json!({"count": "int", "defer-broken": "bool", "defer-updates": "bool", "enabled": "bool",
               "greeting": "str", "ratio": "float"})
    );
    assert_eq!(one(&m, 0, "start", "probe/0")["leader"], json!(true));
    assert_eq!(one(&m, 0, "start", "probe/1")["leader"], json!(false));
    let st = m.state().unwrap();
    let probe1 = st.unit("probe/1").unwrap();
    assert_eq!(probe1.workload_version, "1.2.3");
    assert_eq!(
        (
            probe1.status.status.as_str(),
            probe1.status.message.as_str()
        ),
        ("active", "hello from probe/1"),
        "collect-status set the unit status"
    );
    let app = &st.applications["probe"];
    assert_eq!(
        (app.status.status.as_str(), app.status.message.as_str()),
        ("active", "2 planned"),
        "collect_app_status ran on the leader (planned_units from goal-state)"
    );

    // Relation events: event.unit, event.app, relation.units and the bags ops reads.
    let joined = one(&m, 0, "db_relation_joined", "probe/0");
    assert_eq!(joined["app"], "peer");
    assert_eq!(joined["unit"], "peer/0");
    assert_eq!(joined["units"], json!(["peer/0"]));
    assert_eq!(joined["remote_unit_data"]["private-address"], "10.1.2.10");
    assert_eq!(
        joined["shared"], "created",
        "the leader created the shared secret"
    );
    let app_level: Vec<Value> = charm_events(&m, 0, "db_relation_changed")
        .into_iter()
        .filter(|(u, f)| u == "probe/1" && f["unit"].is_null())
        .map(|(_, f)| f)
        .collect();
    assert_eq!(
        app_level.len(),
        1,
        "a remote app bag change gives event.unit None"
    );
    assert_eq!(app_level[0]["remote_app_data"], json!({"leader": "peer/0"}));
    let peer_changed = charm_events(&m, 0, "cluster_relation_changed");
    assert!(
        peer_changed.iter().any(|(u, f)| u == "probe/1"
            && f["peer_app_data"] == json!({"leader": "probe/0"})
            && f["unit"] == "probe/0"),
        "a follower reads the peer app bag: {peer_changed:?}"
    );
    // The consumer read the shared secret by id, setting its own label.
    let consumer = charm_events(&m, 0, "upstream_relation_changed");
    assert!(
        consumer
            .iter()
            .any(|(_, f)| f["secret_content"] == json!({"token": "first-token"})),
        "{consumer:?}"
    );
    let bag = m.state().unwrap().bag(rel, "probe").unwrap();
    assert!(bag["secret-id"].starts_with("secret:"), "{bag:?}");
    assert_eq!(bag["leader"], "probe/0");

    // An action reading everything, on the leader and on a follower.
    let out = action(&m, "probe/0", "inspect", &[("tag", "x")]);
    assert_eq!(out.logs, vec!["inspecting"]);
    assert_eq!(
        out.results["nested"],
        json!({"depth": "1"}),
        "ops flattens nested results"
    );
    let o = observed(&out);
    let st = m.state().unwrap();
    assert_eq!(o["params"], json!({"tag": "x", "depth": 1}), "defaulted");
    assert_eq!(o["id"], json!(out.id.to_string()));
    assert_eq!(o["leader"], json!(true));
    assert_eq!(o["juju_version"], "3.6.14");
    assert_eq!(o["model"], json!([st.name, st.uuid]));
    assert_eq!(
        o["ports"],
        json!(["8080/tcp", "9000/udp", "None/icmp"]),
        "opened in install"
    );
    assert_eq!(o["planned_units"], json!(2));
    assert_eq!(o["bind_address"], "10.1.1.10");
    assert_eq!(o["ingress_address"], "10.1.1.10");
    assert_eq!(
        o["secret_ids"].as_array().map(Vec::len),
        Some(1),
        "{}",
        o["secret_ids"]
    );
    assert_eq!(
        o["cloud_spec"],
        "ModelError: ERROR cannot access cloud credentials: permission denied"
    );
    assert_eq!(o["missing_secret"], "SecretNotFoundError: ");
    assert_eq!(o["unit_status"], json!(["active", "hello from probe/0"]));
    assert_eq!(o["app_status"], json!(["active", "2 planned"]));
    let db = &o["relations"]["db"][0];
    assert_eq!(db["id"], json!(rel));
    assert_eq!(
        db["app"], "peer",
        "relation-list --app outside the relation's own hooks"
    );
    assert_eq!(db["units"], json!(["peer/0"]));
    assert_eq!(db["remote_model"], json!(st.uuid));
    assert_eq!(db["bind_address"], "10.1.1.10", "network-get -r");
    assert_eq!(db["app_bag"]["leader"], "probe/0");
    let mut own = seeded("10.1.1.10");
    own["hello"] = json!("probe/0");
    assert_eq!(db["unit_bag"], own);
    assert_eq!(o["relations"]["upstream"], json!([]));
    assert_eq!(o["relations"]["cluster"][0]["units"], json!(["probe/1"]));
    let f = observed(&action(&m, "probe/1", "inspect", &[]));
    assert_eq!(f["leader"], json!(false));
    assert!(
        f.get("app_status").is_none() && f["relations"]["db"][0].get("app_bag").is_none(),
        "a follower reads no app status and no own app bag"
    );
    assert_eq!(
        f["relations"]["cluster"][0]["app_bag"]["leader"], "probe/0",
        "but reads the peer app bag"
    );

    // action-fail: the action fails with the message, keeps its results and logs.
    let out = action(&m, "probe/0", "fail", &[("message", "boom")]);
    assert_eq!(
        (out.status.as_str(), out.message.as_str()),
        ("failed", "boom")
    );
    assert_eq!(out.results["partial"], "yes");
    assert_eq!(out.logs, vec!["about to fail"]);
    // An uncaught exception: ops tells the user on stderr, the action fails, the unit does not.
    let out = action(
        &m,
        "probe/1",
        "fail",
        &[("message", "kaput"), ("crash", "true")],
    );
    assert_eq!(
        (out.status.as_str(), out.message.as_str()),
        ("failed", "exit status 1")
    );
    assert_eq!(out.results["return-code"], "1");
    let stderr = out.results["stderr"].as_str().unwrap_or_default();
    assert!(
        stderr.contains("Uncaught RuntimeError in charm code: kaput"),
        "{stderr}"
    );
    assert!(
        m.state()
            .unwrap()
            .unit("probe/1")
            .unwrap()
            .agent
            .error
            .is_none()
    );

    // Owner-side secrets, one step per action.
    let step = |s: &str| observed(&action(&m, "probe/0", "owner-secrets", &[("step", s)]));
    assert_eq!(
        step("create"),
        json!({"step": "create", "app_id": true, "unit_id": true})
    );
    let update = step("update");
    assert_eq!(update["before"], json!({"alpha": "one"}));
    assert_eq!(
        update["created"],
        json!({"revision": 1, "rotation": "daily", "expires": true, "description": "first"})
    );
    let inspect = step("inspect");
    assert_eq!(inspect["info"]["revision"], json!(2));
    assert_eq!(inspect["info"]["label"], "owner-a");
    assert_eq!(inspect["info"]["description"], "second");
    assert_eq!(
        inspect["tracked"],
        json!({"alpha": "one"}),
        "the owner tracks revision 1"
    );
    assert_eq!(inspect["peek"], json!({"alpha": "two"}));
    assert_eq!(inspect["refreshed"], json!({"alpha": "two"}));
    assert_eq!(inspect["unit_peek"], json!({"beta": "b-two"}));
    assert_eq!(
        inspect["owned"],
        json!(3),
        "secret-ids: shared, owner-a, unit-owned"
    );
    assert_eq!(inspect["granted_and_revoked"], "peer/0");
    assert_eq!(step("remove")["removed"], json!(true));
    assert_eq!(
        step("gone"),
        json!({"step": "gone", "app": "SecretNotFoundError: ", "unit": "SecretNotFoundError: "})
    );
    let follower = observed(&action(
        &m,
        "probe/1",
        "owner-secrets",
        &[("step", "create")],
    ));
    assert_eq!(
        follower["error"],
        "ModelError: ERROR this unit is not the leader"
    );
    settle(&m);

    // A new revision of the shared secret: secret-changed on the consumer, then secret-remove of
    // the revision nobody tracks any more on the owner.
    let mark = timeline_len(&m);
    action(&m, "probe/0", "rotate", &[("token", "second")]);
    settle(&m);
    let changed = one(&m, mark, "secret_changed", "peer/0");
    assert_eq!(
        changed,
        json!({"label": "upstream-token", "id_matches": true, "peek": {"token": "second"},
               "refreshed": {"token": "second"}, "tracked": {"token": "second"}})
    );
    assert_eq!(
        one(&m, mark, "secret_remove", "probe/0"),
        json!({"label": "probe-shared", "revision": 1})
    );

    // Config: set_ports closes what is not listed; deferral re-emits before the next event.
    let mark = timeline_len(&m);
    m.config(
        "probe",
        &[
            ("count".into(), "4".into()),
            ("defer-updates".into(), "true".into()),
        ],
        &[],
    )
    .unwrap();
    settle(&m);
    assert_eq!(
        m.state().unwrap().unit("probe/1").unwrap().ports.len(),
        2,
        "8080/tcp and 8081/tcp"
    );
    m.run_hook(
        "probe/1",
        juju_local::state::HookSpec::simple("update-status"),
    )
    .unwrap();
    m.run_hook(
        "probe/1",
        juju_local::state::HookSpec::simple("update-status"),
    )
    .unwrap();
    let names: Vec<String> = m
        .timeline()
        .unwrap()
        .into_iter()
        .skip(mark)
        .filter(|r| r.unit == "probe/1")
        .flat_map(|r| r.events.into_iter().map(|e| e.event))
        .filter(|e| e != "dispatch")
        .collect();
    assert_eq!(
        names,
        [
            "config_changed",
            "deferred",
            "update_status",
            "update_status"
        ],
        "the deferred update-status ran first in the next dispatch"
    );
    let update = charm_events(&m, mark, "update_status");
    assert_eq!(update[0].1["ports"], json!(["8080/tcp", "8081/tcp"]));
    assert_eq!(
        update[0].1["unit_status"],
        json!(["active", "hello from probe/1"])
    );

    // Leadership moves; then a unit goes (departed) and the relation goes (broken).
    let mark = timeline_len(&m);
    m.set_leader("probe/1").unwrap();
    settle(&m);
    assert_eq!(charm_events(&m, mark, "leader_elected").len(), 1);
    one(&m, mark, "leader_elected", "probe/1");
    one(&m, mark, "leader_settings_changed", "probe/0");
    let mark = timeline_len(&m);
    m.remove_unit("probe/0").unwrap();
    settle(&m);
    let departed = one(&m, mark, "upstream_relation_departed", "peer/0");
    assert_eq!(
        (&departed["unit"], &departed["departing"]),
        (&json!("probe/0"), &json!("probe/0"))
    );
    assert_eq!(
        departed["units"],
        json!(["probe/1"]),
        "relation-list without the departing unit"
    );
    assert_eq!(
        departed["remote_unit_data"]["hello"], "probe/0",
        "ops keeps the departing unit's bag readable"
    );
    let own = one(&m, mark, "db_relation_departed", "probe/0");
    assert_eq!(
        own["departing"], "probe/0",
        "the departing unit sees its own name"
    );
    assert_eq!(own["units"], json!([]));
    let peer = one(&m, mark, "cluster_relation_departed", "probe/1");
    assert_eq!(
        (&peer["unit"], &peer["units"]),
        (&json!("probe/0"), &json!([]))
    );
    assert!(
        peer.get("remote_unit_data").is_none(),
        "ops does not add a departing peer unit to the relation data"
    );
    assert_eq!(charm_events(&m, mark, "cluster_relation_broken").len(), 0);
    one(&m, mark, "db_relation_broken", "probe/0");
    one(&m, mark, "stop", "probe/0");
    one(&m, mark, "remove", "probe/0");

    // peer/0 defers its relation-broken: ops re-emits it in the next dispatch, when the relation
    // is gone; the relation tools' "relation not found" must reach ops as RelationNotFoundError.
    m.config("peer", &[("defer-broken".into(), "true".into())], &[])
        .unwrap();
    settle(&m);
    let mark = timeline_len(&m);
    m.remove_relation("probe", Some("peer")).unwrap();
    settle(&m);
    let broken = one(&m, mark, "db_relation_broken", "probe/1");
    assert_eq!(
        (&broken["active"], &broken["unit"], &broken["units"]),
        (&json!(false), &Value::Null, &json!([]))
    );
    assert_eq!(broken["remote_app_data"], json!({"leader": "peer/0"}));
    assert_eq!(
        one(&m, mark, "deferred", "peer/0"),
        json!({"kind": "upstream_relation_broken"})
    );
    assert!(charm_events(&m, mark, "upstream_relation_broken").is_empty());
    let record = m
        .run_hook(
            "peer/0",
            juju_local::state::HookSpec::simple("update-status"),
        )
        .unwrap();
    assert_eq!(record.outcome, "ok", "{}", failure_details(&m));
    let gone = one(&m, mark, "upstream_relation_broken", "peer/0");
    assert_eq!(
        gone,
        json!({"endpoint": "upstream", "id": rel, "app": "probe", "unit": null, "units": [],
               "active": false}),
        "restored on a relation ops no longer finds: inactive, no remote app to read"
    );
    let calls: Vec<String> = record
        .tools
        .iter()
        .filter(|t| t.tool == "relation-list")
        .map(|t| format!("{} {}", t.exit, t.args.join(" ")))
        .collect();
    assert_eq!(
        calls,
        [
            format!("2 --format=json -r upstream:{rel}"),
            format!("2 --format=json --app -r upstream:{rel}")
        ],
        "Juju's flag error for a relation the unit left"
    );
}

#[test]
fn stored_state_in_juju_and_deferral() {
    let m = model("ops-probe-juju-storage");
    deploy(&m, "js", 1, &[("PROBE_JUJU_STORAGE", "1")]);
    m.config("js", &[("defer-updates".into(), "true".into())], &[])
        .unwrap();
    settle(&m);
    let spec = juju_local::state::HookSpec::simple("update-status");
    m.run_hook("js/0", spec.clone()).unwrap();
    let state = m.state().unwrap().unit("js/0").unwrap().charm_state.clone();
    assert!(
        state.keys().any(|k| k.contains("update_status")),
        "the deferred event is kept in Juju's charm state: {state:?}"
    );
    m.run_hook("js/0", spec).unwrap();
    let counts: Vec<Value> = charm_events(&m, 0, "dispatch")
        .into_iter()
        .map(|(_, f)| f["count"].clone())
        .collect();
    assert_eq!(
        counts,
        (1..=7).map(|n| json!(n)).collect::<Vec<_>>(),
        "StoredState survives every dispatch through state-get/state-set"
    );
    let names: Vec<String> = m
        .timeline()
        .unwrap()
        .into_iter()
        .flat_map(|r| r.events.into_iter().map(|e| e.event))
        .filter(|e| e == "deferred" || e == "update_status")
        .collect();
    assert_eq!(names, ["deferred", "update_status", "update_status"]);
    let state = m.state().unwrap().unit("js/0").unwrap().charm_state.clone();
    assert!(
        !state.keys().any(|k| k.contains("update_status")),
        "the re-emitted notice is gone: {state:?}"
    );
    assert!(
        !m.dir().join("units/js-0/charm/.unit-state.db").exists(),
        "nothing stored locally"
    );

    // Owner-only secret events: rotate (the handler makes a new revision), remove of the revision
    // nobody tracks, expired (the handler removes the revision, and so the secret).
    let out = m
        .run_action("js/0", "owner-secrets", &[("step".into(), "create".into())])
        .unwrap();
    assert_eq!(out.status, "completed", "{out:?}");
    let uri = m
        .state()
        .unwrap()
        .secrets
        .values()
        .find(|s| s.label.as_deref() == Some("owner-a"))
        .map(|s| s.uri())
        .expect("owner-a was created");
    let mark = timeline_len(&m);
    m.secret_rotate(&uri).unwrap();
    settle(&m);
    assert_eq!(
        one(&m, mark, "secret_rotate", "js/0"),
        json!({"label": "owner-a"})
    );
    assert_eq!(
        one(&m, mark, "secret_remove", "js/0"),
        json!({"label": "owner-a", "revision": 1})
    );
    let mark = timeline_len(&m);
    m.secret_expire(&uri, Some(2)).unwrap();
    settle(&m);
    assert_eq!(
        one(&m, mark, "secret_expired", "js/0"),
        json!({"label": "owner-a", "revision": 2})
    );
    let st = m.state().unwrap();
    assert!(
        !st.secrets
            .values()
            .any(|s| s.label.as_deref() == Some("owner-a")),
        "removing the last revision removes the secret"
    );
}
