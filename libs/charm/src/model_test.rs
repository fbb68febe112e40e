//! Tests of `model.rs`.

use super::*;

#[test]
fn result_keys() {
    for good in ["a", "ab", "a.b", "x-y.z1", "0"] {
        assert!(valid_result_key(good), "{good}");
    }
    for bad in [
        "",
        "A",
        "-a",
        "a-",
        "a..b",
        "stdout",
        "stderr-encoding",
        "a_b",
        "a b",
    ] {
        assert!(!valid_result_key(bad), "{bad}");
    }
}

#[test]
fn flattening() {
    let mut out = BTreeMap::new();
    flatten(
        "",
        &serde_json::json!({"a": {"b": "x", "c": 2}, "d": true, "e": ["1"]}),
        &mut out,
    );
    let expected: BTreeMap<String, String> =
        [("a.b", "x"), ("a.c", "2"), ("d", "true"), ("e", "[\"1\"]")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(out, expected);
}

// ----- remote applications remembered across hooks -----

fn env(hook: &str, relation: Option<(&str, &str)>) -> crate::JujuEnv {
    let mut vars: BTreeMap<&str, String> = BTreeMap::from([
        ("JUJU_UNIT_NAME", "app/0".to_string()),
        ("JUJU_MODEL_NAME", "m".to_string()),
        (
            "JUJU_MODEL_UUID",
            "00000000-0000-4000-8000-000000000001".to_string(),
        ),
        ("JUJU_VERSION", "3.6.0".to_string()),
        ("JUJU_CHARM_DIR", "/nonexistent".to_string()),
        ("JUJU_DISPATCH_PATH", format!("hooks/{hook}")),
    ]);
    if let Some((id, app)) = relation {
        vars.insert("JUJU_RELATION_ID", id.to_string());
        vars.insert("JUJU_RELATION", "db".to_string());
        vars.insert("JUJU_REMOTE_APP", app.to_string());
    }
    crate::JujuEnv::from_vars(|k| vars.get(k).cloned()).unwrap()
}

fn relation_lists(s: &charm_testing::StubTools) -> usize {
    s.calls().iter().filter(|c| c[0] == "relation-list").count()
}

#[test]
fn a_remote_app_is_asked_once_per_relation_life_and_dropped_when_it_breaks() {
    let s = charm_testing::StubTools::new().unwrap();
    s.answer("relation-list", "\"pg\"\n").unwrap();
    let mut tools = crate::backend::ProcessBackend::new("app").with_tools_dir(s.bin());
    let rel = RelationId::new("db", 3);

    // A hook about something else asks Juju, and remembers the answer in the state.
    let juju = env("update-status", None);
    let mut ctx = Ctx::new(&juju, &mut tools, None, crate::state::StateDoc::default());
    assert_eq!(ctx.remote_app(&rel).unwrap().as_deref(), Some("pg"));
    let state = ctx.state.clone();
    assert_eq!(relation_lists(&s), 1);
    assert_eq!(
        state.remote_apps.get("db:3").map(String::as_str),
        Some("pg")
    );

    // The next hook (any kind) finds it there without a call.
    let juju = env("config-changed", None);
    let mut ctx = Ctx::new(&juju, &mut tools, None, state.clone());
    assert_eq!(ctx.remote_app(&rel).unwrap().as_deref(), Some("pg"));
    assert_eq!(relation_lists(&s), 1);

    // Its relation-broken forgets it, so a later document does not grow with dead relations.
    let juju = env("db-relation-broken", Some(("db:3", "pg")));
    let mut ctx = Ctx::new(&juju, &mut tools, None, state);
    assert_eq!(ctx.remote_app(&rel).unwrap().as_deref(), Some("pg"));
    assert!(ctx.state.remote_apps.is_empty());
    assert_eq!(relation_lists(&s), 1);
}

#[test]
fn the_event_s_own_remote_app_is_remembered_once_asked_for() {
    let s = charm_testing::StubTools::new().unwrap();
    let mut tools = crate::backend::ProcessBackend::new("app").with_tools_dir(s.bin());
    let juju = env("db-relation-created", Some(("db:4", "mysql")));
    let mut ctx = Ctx::new(&juju, &mut tools, None, crate::state::StateDoc::default());
    // Not asked for: the state does not change (no write at the end of the hook).
    assert!(ctx.state.remote_apps.is_empty());
    assert_eq!(
        ctx.remote_app(&RelationId::new("db", 4))
            .unwrap()
            .as_deref(),
        Some("mysql")
    );
    assert_eq!(
        ctx.state.remote_apps.get("db:4").map(String::as_str),
        Some("mysql")
    );
    assert_eq!(relation_lists(&s), 0);
}
