//! JSON Schemas of each side's bags and of the secret content, generated from the Rust types and
//! checked into `schemas/` (run with `UPDATE_SCHEMAS=1` to rewrite them after a reviewed change).

use interface_tests_common::check_schema;
use kubernetes_manifests::KubernetesManifest;
use kubernetes_manifests::wire::{ManifestsSecretContent, ProviderAppBag, RequirerAppBag};
use kubernetes_manifests_contract::python_fixture;
use serde_json::Value;

const DIR: &str = "interface-tests/kubernetes_manifests/schemas";

fn check<T: schemars::JsonSchema>(file: &str) -> Result<Value, String> {
    check_schema::<T>(&format!("{DIR}/{file}")).map_err(|e| e.to_string())
}

/// A minimal check of a flat string bag against a generated schema: required keys present,
/// no undeclared keys, every value a string, `enum` respected.
fn conforms(bag: &Value, schema: &Value) -> Result<(), String> {
    let bag = bag.as_object().ok_or("bag is not an object")?;
    let props = schema["properties"]
        .as_object()
        .ok_or("schema has no properties")?;
    for key in schema["required"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        if !bag.contains_key(key) {
            return Err(format!("missing required key {key}"));
        }
    }
    for (k, v) in bag {
        let prop = props.get(k).ok_or(format!("undeclared key {k}"))?;
        if !v.is_string() {
            return Err(format!("{k} is not a string"));
        }
        if let Some(allowed) = prop.get("enum").and_then(Value::as_array)
            && !allowed.contains(v)
        {
            return Err(format!("{k}={v} not in {allowed:?}"));
        }
    }
    Ok(())
}

#[test]
fn requirer_bag_schema() {
    let schema = check::<RequirerAppBag>("requirer.json").unwrap();
    assert_eq!(
        schema["required"],
        serde_json::json!(["kubernetes_manifests"])
    );
    assert_eq!(
        schema["properties"]["is_secret"]["enum"],
        serde_json::json!(["true"])
    );
    for name in ["secret_mode", "secret_mode_rendered", "plain_mode"] {
        let bag = &python_fixture(name)["app_bag"];
        conforms(bag, &schema).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let wrong = serde_json::json!({"kubernetes_manifests": "secret:00000000000000000000", "is_secret": "True"});
    assert!(conforms(&wrong, &schema).is_err());
}

#[test]
fn provider_bag_schema() {
    let schema = check::<ProviderAppBag>("provider.json").unwrap();
    assert_eq!(
        schema["properties"].as_object().map(serde_json::Map::len),
        Some(0)
    );
}

#[test]
fn secret_content_schema() {
    let schema = check::<ManifestsSecretContent>("secret-content.json").unwrap();
    assert_eq!(schema["properties"]["manifests"]["type"], "string");
    let content = &python_fixture("secret_mode")["secret"]["content"];
    conforms(content, &schema).unwrap();
}

#[test]
fn manifest_list_schema() {
    let schema = check::<Vec<KubernetesManifest>>("manifest-list.json").unwrap();
    assert_eq!(schema["type"], "array");
}

#[test]
fn what_the_rust_requirer_writes_conforms() {
    let requirer = check::<RequirerAppBag>("requirer.json").unwrap();
    let secret = check::<ManifestsSecretContent>("secret-content.json").unwrap();
    let harness = kubernetes_manifests_contract::tester();
    let rel = charm_testing::Relation::new("service-accounts", 1, "resource-dispatcher");
    let out = harness.run(
        charm::Event::LeaderElected,
        charm_testing::State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    let bag = serde_json::to_value(&out.state.rel(1).unwrap().local_app_data).unwrap();
    conforms(&bag, &requirer).unwrap();
    let s = out.state.secret_by("manifest.service-accounts.1").unwrap();
    let content = serde_json::to_value(&s.revisions[&1]).unwrap();
    conforms(&content, &secret).unwrap();
}
