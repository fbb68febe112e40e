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

// ----- storage instances remembered across hooks -----

fn storage_env(hook: &str, storage: Option<&str>) -> crate::JujuEnv {
    let base = env("update-status", None);
    let storage = storage.map(str::to_string);
    crate::JujuEnv::from_vars(|k| match k {
        "JUJU_UNIT_NAME" => Some(base.unit.clone()),
        "JUJU_MODEL_NAME" => Some(base.model_name.clone()),
        "JUJU_MODEL_UUID" => Some(base.model_uuid.clone()),
        "JUJU_VERSION" => Some("3.6.0".into()),
        "JUJU_CHARM_DIR" => Some("/nonexistent".into()),
        "JUJU_DISPATCH_PATH" => Some(format!("hooks/{hook}")),
        "JUJU_STORAGE_ID" => storage.clone(),
        _ => None,
    })
    .unwrap()
}

fn storage_gets(s: &charm_testing::StubTools) -> usize {
    s.calls().iter().filter(|c| c[0] == "storage-get").count()
}

#[test]
fn a_storage_instance_is_asked_once_while_attached_and_dropped_when_it_detaches() {
    let s = charm_testing::StubTools::new().unwrap();
    s.answer(
        "storage-get",
        r#"{"kind":"filesystem","location":"/srv/data/0"}"#,
    )
    .unwrap();
    let mut tools = crate::backend::ProcessBackend::new("app").with_tools_dir(s.bin());
    let data0 = crate::storage::StorageId::parse("data/0").unwrap();

    let juju = storage_env("data-storage-attached", Some("data/0"));
    let mut ctx = Ctx::new(&juju, &mut tools, None, crate::state::StateDoc::default());
    let info = ctx.storage(&data0).unwrap();
    assert_eq!(info.location, std::path::PathBuf::from("/srv/data/0"));
    let state = ctx.state.clone();
    assert_eq!(storage_gets(&s), 1);
    assert!(state.storage.contains_key("data/0"));
    // The document round-trips through its JSON form.
    let text = serde_json::to_string(&state).unwrap();
    let back: crate::state::StateDoc = serde_json::from_str(&text).unwrap();
    assert_eq!(back, state);

    // A later hook reads it from the state.
    let juju = storage_env("update-status", None);
    let mut ctx = Ctx::new(&juju, &mut tools, None, back);
    assert_eq!(ctx.storage(&data0).unwrap(), info);
    assert_eq!(storage_gets(&s), 1);

    // Its detaching hook asks Juju again and keeps nothing.
    let juju = storage_env("data-storage-detaching", Some("data/0"));
    let mut ctx = Ctx::new(&juju, &mut tools, None, state);
    assert!(ctx.state.storage.is_empty());
    assert_eq!(ctx.storage(&data0).unwrap(), info);
    assert!(ctx.state.storage.is_empty());
    assert_eq!(storage_gets(&s), 2);
}
