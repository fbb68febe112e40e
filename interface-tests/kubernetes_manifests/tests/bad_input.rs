//! Bad input on either side: each form gets a typed error and a clear status, never a panic, and
//! nothing already sent or received is lost.

use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Output, Relation, Secret, State};
use kubernetes_manifests::{
    KubernetesManifest, ListError, ManifestError, ManifestsPayload, RequirerError, wire,
};
use kubernetes_manifests_contract::{dispatcher, dispatcher_state, tester};

const GOOD: &str = r#"[{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "good"}}]"#;

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

/// The dispatcher with one good app (`good`, secrets:1) and one bad one (`bad`, secrets:2).
fn dispatcher_with_bad(bad_bag: &[(&str, &str)], bad_secret: Option<Secret>) -> Output {
    let good = Relation::new("secrets", 1, "good").remote_app_data([
        ("kubernetes_manifests", "secret:good0000000000000000"),
        ("is_secret", "true"),
    ]);
    let bad = Relation::new("secrets", 2, "bad").remote_app_data(bad_bag.iter().copied());
    let mut state = dispatcher_state()
        .leader(true)
        .relation(good)
        .relation(bad.clone())
        .secret(Secret::granted(
            "secret:good0000000000000000",
            SecretContent::new().with("manifests", GOOD),
        ));
    if let Some(s) = bad_secret {
        state = state.secret(s);
    }
    let out = dispatcher().run(bad.changed(None), state);
    assert!(
        out.ok(),
        "bad remote data must not fail the hook: {:?}",
        out.result
    );
    // The good app's manifest is still counted.
    let kept = &out.state.stored["summary"]["endpoints"]["secrets"]["manifests"];
    assert_eq!(kept.as_array().map(Vec::len), Some(1), "{kept}");
    assert_eq!(kept[0]["app"], "good");
    out
}

fn assert_status(out: &Output, kind: StatusKind, message: &str) {
    let s = status(out);
    assert_eq!(s.kind, kind, "{s:?}");
    assert_eq!(s.message, message);
}

#[test]
fn malformed_json_in_the_bag() {
    let out = dispatcher_with_bad(&[("kubernetes_manifests", "[{\"apiVersion\"")], None);
    assert_status(
        &out,
        StatusKind::Blocked,
        "relation secrets:2 (app bad): relation data kubernetes_manifests: invalid JSON at line 1, column 14: EOF while parsing an object",
    );
}

#[test]
fn malformed_json_in_the_secret() {
    let out = dispatcher_with_bad(
        &[
            ("kubernetes_manifests", "secret:bad00000000000000000"),
            ("is_secret", "true"),
        ],
        Some(Secret::granted(
            "secret:bad00000000000000000",
            SecretContent::new().with("manifests", "[1, 2"),
        )),
    );
    assert_status(
        &out,
        StatusKind::Blocked,
        "relation secrets:2 (app bad): secret secret:bad00000000000000000 key manifests: invalid JSON at line 1, column 5: EOF while parsing a list",
    );
}

#[test]
fn is_secret_true_with_a_capital() {
    let out = dispatcher_with_bad(
        &[
            ("kubernetes_manifests", "secret:bad00000000000000000"),
            ("is_secret", "True"),
        ],
        None,
    );
    assert_status(
        &out,
        StatusKind::Blocked,
        "relation secrets:2 (app bad): kubernetes_manifests holds a secret URI but is_secret is \"True\", not \"true\"",
    );
}

#[test]
fn a_secret_id_that_does_not_exist() {
    let out = dispatcher_with_bad(
        &[
            ("kubernetes_manifests", "secret:nope0000000000000000"),
            ("is_secret", "true"),
        ],
        None,
    );
    assert_status(
        &out,
        StatusKind::Waiting,
        "relation secrets:2 (app bad): secret secret:nope0000000000000000 does not exist or is not granted to this application",
    );
}

#[test]
fn json_that_is_a_dict_or_a_string() {
    let out = dispatcher_with_bad(&[("kubernetes_manifests", r#"{"kind": "Secret"}"#)], None);
    assert_status(
        &out,
        StatusKind::Blocked,
        "relation secrets:2 (app bad): relation data kubernetes_manifests: expected a JSON list of manifests, found a mapping",
    );
    let out = dispatcher_with_bad(&[("kubernetes_manifests", r#""apiVersion""#)], None);
    assert!(status(&out).message.ends_with("found a string"));
    assert_eq!(
        wire::decode_manifest_list(r#"{"a": 1}"#),
        Err(ListError::NotAList { found: "a mapping" })
    );
}

#[test]
fn a_list_of_non_objects() {
    let out = dispatcher_with_bad(&[("kubernetes_manifests", r#"["a", "b"]"#)], None);
    assert_status(
        &out,
        StatusKind::Blocked,
        "relation secrets:2 (app bad): relation data kubernetes_manifests: item 0 is a string, not a manifest object",
    );
}

#[test]
fn invalid_yaml_and_multi_document_yaml_in_one_manifest() {
    // The upstream test's invalid YAML: an unterminated quoted label.
    let invalid = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mlpipeline-minio-artifact\n  labels:\n    user.kubeflow.org/enabled: \"true\nstringData:\n  AWS_ACCESS_KEY_ID: access_key\n  AWS_SECRET_ACCESS_KEY: secret_access_key\n";
    let err = KubernetesManifest::new(invalid).unwrap_err();
    assert!(matches!(err, ManifestError::Yaml(_)), "{err:?}");
    assert!(!err.to_string().contains("secret_access_key"));
    let two = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n";
    assert_eq!(
        KubernetesManifest::new(two),
        Err(ManifestError::MultipleDocuments { line: 4 })
    );
    // In the tester's config (which splits documents), invalid YAML blocks and keeps what was sent.
    let rel = Relation::new("secrets", 1, "resource-dispatcher");
    let first = tester().run(
        Event::ConfigChanged,
        State::default()
            .leader(true)
            .relation(rel)
            .config("manifests", two),
    );
    assert_eq!(status(&first).kind, StatusKind::Active);
    let sent = first.state.secrets.clone();
    let out = tester().run(
        Event::ConfigChanged,
        first.state.config("manifests", invalid),
    );
    assert!(out.ok());
    assert_eq!(status(&out).kind, StatusKind::Blocked);
    assert!(
        status(&out)
            .message
            .starts_with("config manifests: invalid YAML: line 6")
    );
    assert_eq!(out.state.secrets, sent);
}

#[test]
fn a_five_megabyte_manifest() {
    let big = KubernetesManifest::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
        "data": {"blob": "x".repeat(5_000_000)},
    }))
    .unwrap();
    // Requirer: a typed error before anything is written.
    match ManifestsPayload::new(std::slice::from_ref(&big)) {
        Err(RequirerError::TooLarge {
            count: 1,
            bytes,
            limit: 1_000_000,
        }) => {
            assert!(bytes > 5_000_000)
        }
        other => panic!("{other:?}"),
    }
    // Provider: a LIBPATCH 1 plain bag has no such limit; it is read.
    let text = wire::encode_manifest_list(&[big]);
    let rel =
        Relation::new("config-maps", 1, "old").remote_app_data([("kubernetes_manifests", text)]);
    let out = dispatcher().run(rel.changed(None), dispatcher_state().relation(rel));
    assert!(out.ok());
    assert_eq!(status(&out), Status::active("1 manifest from 1 app"));
}
