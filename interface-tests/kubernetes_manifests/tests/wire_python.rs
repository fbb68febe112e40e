//! Wire fixtures both ways: the Rust provider reads what the Python requirer writes, and the Rust
//! requirer writes exactly what the Python requirer writes (so a Python provider reads it).
//!
//! The fixtures (`fixtures/*.json`) were written from the Python library's code and its upstream
//! unit-test inputs, and checked with PyYAML 6 + `json.dumps`.

// The helpers below walk fixture files; a fixture that does not have the expected shape is a broken
// test, and failing loudly there is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Charm, Ctx, Error};
use charm_testing::{Harness, Relation, Secret, State};
use kubernetes_manifests::{
    KubernetesManifest, KubernetesManifestsProvider, KubernetesManifestsRequirer, ManifestError,
    ManifestsUpdated, wire,
};
use kubernetes_manifests_contract::{YAML11, python_fixture};
use serde_json::Value;

const PROVIDER_META: &str = "name: dispatcher
provides:
  secrets: {interface: kubernetes_manifest}
  service-accounts: {interface: kubernetes_manifest}
";
const REQUIRER_META: &str = "name: tester
requires:
  secrets: {interface: kubernetes_manifest}
  service-accounts: {interface: kubernetes_manifest}
";

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn bag_of(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), str_of(v).to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// A provider charm that stores, on every update, what `manifests()` returned as JSON.
fn provider() -> Harness {
    fn on_updated(ctx: &mut Ctx, e: &ManifestsUpdated) -> Result<(), Error> {
        let received =
            KubernetesManifestsProvider::new(e.relation.endpoint.clone()).manifests(ctx)?;
        let items: Vec<Value> = received
            .manifests()
            .map(|m| Value::Object(m.as_object().clone()))
            .collect();
        let errors: Vec<String> = received.errors().map(ToString::to_string).collect();
        ctx.store("manifests", &items)?;
        ctx.store("errors", &errors)?;
        Ok(())
    }
    let mut charm = Charm::new();
    charm
        .plugin(KubernetesManifestsProvider::new("secrets"))
        .plugin(KubernetesManifestsProvider::new("service-accounts"))
        .on_event(on_updated);
    Harness::new(charm, PROVIDER_META)
}

/// Runs the provider on a fixture's relation-changed and returns (manifests, errors, output).
fn provider_reads(fixture: &Value) -> (Value, Value, charm_testing::Output) {
    let rel = Relation::new(
        str_of(&fixture["endpoint"]),
        u32::try_from(fixture["relation_id"].as_u64().unwrap()).unwrap(),
        str_of(&fixture["requirer_app"]),
    )
    .remote_app_data(bag_of(&fixture["app_bag"]));
    let mut state = State::default().relation(rel.clone());
    if let Some(secret) = fixture.get("secret") {
        let content: SecretContent = secret["content"]
            .as_object()
            .unwrap()
            .iter()
            .fold(SecretContent::new(), |c, (k, v)| {
                c.with(k.clone(), str_of(v))
            });
        state = state.secret(Secret::granted(str_of(&secret["id"]), content));
    }
    let out = provider().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.result);
    (
        out.state.stored["manifests"].clone(),
        out.state.stored["errors"].clone(),
        out,
    )
}

#[test]
fn rust_provider_reads_python_secret_mode() {
    for name in [
        "secret_mode",
        "secret_mode_rendered",
        "secret_mode_canonical_uri",
    ] {
        let fixture = python_fixture(name);
        let (manifests, errors, out) = provider_reads(&fixture);
        assert_eq!(errors, serde_json::json!([]), "{name}");
        assert_eq!(manifests, fixture["manifests"], "{name}");
        // The provider attached its own label, so secret-changed will find the relation.
        let secret = out
            .state
            .secret_by(str_of(&fixture["secret"]["id"]))
            .unwrap();
        let label = wire::secret_label(
            str_of(&fixture["endpoint"]),
            u32::try_from(fixture["relation_id"].as_u64().unwrap()).unwrap(),
        );
        assert_eq!(secret.label.as_deref(), Some(label.as_str()), "{name}");
        assert_eq!(secret.tracked, Some(secret.latest()), "{name}");
    }
}

#[test]
fn rust_provider_reads_python_plain_mode_and_empty_bags() {
    for name in ["plain_mode", "empty"] {
        let fixture = python_fixture(name);
        let (manifests, errors, out) = provider_reads(&fixture);
        assert_eq!(errors, serde_json::json!([]), "{name}");
        assert_eq!(manifests, fixture["manifests"], "{name}");
        assert_eq!(out.calls_to("secret-get"), 0, "{name}");
    }
}

#[test]
fn python_json_re_encodes_byte_exact() {
    // What the Rust side reads, it would write back identically (key order, floats, escapes).
    for name in ["secret_mode", "secret_mode_rendered"] {
        let fixture = python_fixture(name);
        let text = str_of(&fixture["secret"]["content"]["manifests"]);
        let items = wire::decode_manifest_list(text).unwrap();
        assert_eq!(wire::encode_manifest_list(&items), text, "{name}");
    }
    let text = str_of(&python_fixture("plain_mode")["app_bag"]["kubernetes_manifests"]).to_string();
    let items = wire::decode_manifest_list(&text).unwrap();
    assert_eq!(wire::encode_manifest_list(&items), text);
}

/// Runs a Rust requirer sending the fixture's YAML inputs and checks its bag and secret against
/// what the Python requirer writes.
fn rust_requirer_writes_like_python(name: &str) {
    let fixture = python_fixture(name);
    let endpoint = str_of(&fixture["endpoint"]).to_string();
    let id = u32::try_from(fixture["relation_id"].as_u64().unwrap()).unwrap();
    let items: Vec<KubernetesManifest> = fixture["inputs_yaml"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| KubernetesManifest::new(str_of(t)).unwrap())
        .collect();
    let mut charm = Charm::new();
    charm.plugin(KubernetesManifestsRequirer::new(endpoint.clone(), items));
    let harness = Harness::new(charm, REQUIRER_META);
    let rel = Relation::new(&endpoint, id, "resource-dispatcher");
    let out = harness.run(rel.created(), State::default().leader(true).relation(rel));
    assert!(out.ok(), "{:?}", out.result);

    let expected_secret = &fixture["secret"];
    let secret = out
        .state
        .secret_by(str_of(&expected_secret["owner_label"]))
        .unwrap_or_else(|| {
            panic!(
                "{name}: no secret labelled {}",
                expected_secret["owner_label"]
            )
        });
    // Bag: the same two keys; is_secret exactly "true" (the Python provider compares strings).
    let bag = &out.state.rel(id).unwrap().local_app_data;
    let expected_bag: Vec<(String, String)> = bag_of(&fixture["app_bag"])
        .into_iter()
        .map(|(k, v)| {
            if k == wire::KUBERNETES_MANIFESTS_FIELD {
                (k, secret.id.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    assert_eq!(bag, &charm_testing::bag(expected_bag), "{name}");
    // Secret content: one key, byte-exact JSON text.
    let content = &secret.revisions[&1];
    assert_eq!(content.len(), 1, "{name}");
    assert_eq!(
        content.get(wire::MANIFESTS_SECRET_KEY),
        Some(str_of(&expected_secret["content"]["manifests"])),
        "{name}"
    );
    // Owned by the application, granted to the relation.
    assert_eq!(
        secret.owner,
        Some(charm::SecretOwner::Application),
        "{name}"
    );
    assert!(
        secret.grants.get(&id).is_some_and(|u| u.is_empty()),
        "{name}"
    );
}

#[test]
fn rust_requirer_writes_what_python_writes() {
    rust_requirer_writes_like_python("secret_mode");
    rust_requirer_writes_like_python("secret_mode_rendered");
}

#[test]
fn yaml_1_1_cases_match_pyyaml_and_json_dumps() {
    let cases: Value = serde_json::from_str(YAML11).unwrap();
    for case in cases["cases"].as_array().unwrap() {
        let name = str_of(&case["name"]);
        let result = KubernetesManifest::new(str_of(&case["yaml"]));
        match (case.get("json"), case.get("error")) {
            (Some(json), _) => {
                let m = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(m.to_json(), str_of(json), "{name}");
            }
            (None, Some(kind)) => {
                let e = result.expect_err(name);
                match str_of(kind) {
                    "timestamp" => assert!(
                        matches!(e, ManifestError::Timestamp { .. }),
                        "{name}: {e:?}"
                    ),
                    _ => assert!(e.to_string().contains(str_of(kind)), "{name}: {e}"),
                }
            }
            _ => panic!("{name}: fixture has neither json nor error"),
        }
    }
}
