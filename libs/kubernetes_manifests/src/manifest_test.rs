//! Tests of `manifest.rs`.

use super::*;

const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: dummy-sa-1\nsecrets:\n- name: dummy\n";

#[test]
fn loads_a_service_account_and_writes_python_json() {
    let m = KubernetesManifest::new(SA).unwrap();
    assert_eq!(
        (m.api_version(), m.kind(), m.name(), m.namespace()),
        ("v1", "ServiceAccount", "dummy-sa-1", None)
    );
    assert_eq!(
        m.to_json(),
        r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dummy-sa-1"}, "secrets": [{"name": "dummy"}]}"#
    );
}

#[test]
fn yaml_1_1_scalars_load_as_pyyaml_does() {
    let m = KubernetesManifest::new(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: yes\n  b: no\n  c: on\n  d: off\n  e: 0755\n  f: ~\n  g: \"yes\"\n  h: '0755'\n  i: 1e3\n  j: 0x1F\n  k: 1_000\n  l: Yes\n  m: y\n",
        )
        .unwrap();
    assert_eq!(
        m.to_json(),
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": true, "b": false, "c": true, "d": false, "e": 493, "f": null, "g": "yes", "h": "0755", "i": "1e3", "j": 31, "k": 1000, "l": true, "m": "y"}}"#
    );
}

#[test]
fn non_ascii_is_escaped_like_json_dumps() {
    let m = KubernetesManifest::new(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {greeting: héllo, emoji: \"😀\"}\n",
        )
        .unwrap();
    assert!(
        m.to_json()
            .ends_with(r#""data": {"greeting": "h\u00e9llo", "emoji": "\ud83d\ude00"}}"#),
        "{}",
        m.to_json()
    );
}

#[test]
fn timestamps_are_rejected_without_showing_the_value() {
    let err = KubernetesManifest::new(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {expires: 2031-05-04}\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        ManifestError::Timestamp {
            line: 4,
            column: 23
        }
    );
    assert!(!err.to_string().contains("2031"), "{err}");
    // Quoted, it is a string.
    let m = KubernetesManifest::new(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {expires: '2031-05-04'}\n",
    )
    .unwrap();
    assert!(m.to_json().contains(r#""expires": "2031-05-04""#));
}

#[test]
fn invalid_yaml_is_a_typed_error() {
    // The upstream test's invalid YAML: an unterminated quoted label.
    let err = KubernetesManifest::new(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: m\n  labels:\n    user.kubeflow.org/enabled: \"true\nstringData:\n  AWS_ACCESS_KEY_ID: access_key\n",
        )
        .unwrap_err();
    assert!(matches!(err, ManifestError::Yaml(_)), "{err:?}");
    assert!(err.to_string().starts_with("invalid YAML: line 6"), "{err}");
    assert!(!err.to_string().contains("access_key"));
}

#[test]
fn one_document_only() {
    let err = KubernetesManifest::new(&format!("{SA}---\n{SA}")).unwrap_err();
    assert_eq!(err, ManifestError::MultipleDocuments { line: 7 });
}

#[test]
fn shape_is_checked() {
    let cases = [
        ("", ManifestError::Empty),
        ("~", ManifestError::Empty),
        ("- a\n", ManifestError::NotAMapping { found: "a list" }),
        (
            "just text",
            ManifestError::NotAMapping { found: "a string" },
        ),
        (
            "kind: A\nmetadata: {name: n}\n",
            ManifestError::MissingField {
                field: "apiVersion",
            },
        ),
        (
            "apiVersion: v1\nmetadata: {name: n}\n",
            ManifestError::MissingField { field: "kind" },
        ),
        (
            "apiVersion: v1\nkind: A\n",
            ManifestError::MissingField { field: "metadata" },
        ),
        (
            "apiVersion: v1\nkind: A\nmetadata: {}\n",
            ManifestError::MissingField {
                field: "metadata.name",
            },
        ),
        (
            "apiVersion: 1\nkind: A\nmetadata: {name: n}\n",
            ManifestError::InvalidField {
                field: "apiVersion",
                expected: "a non-empty string",
                found: "a number",
            },
        ),
        (
            "apiVersion: v1\nkind: ''\nmetadata: {name: n}\n",
            ManifestError::InvalidField {
                field: "kind",
                expected: "a non-empty string",
                found: "an empty string",
            },
        ),
        (
            "apiVersion: v1\nkind: A\nmetadata: [n]\n",
            ManifestError::InvalidField {
                field: "metadata",
                expected: "a mapping",
                found: "a list",
            },
        ),
        (
            "apiVersion: v1\nkind: A\nmetadata: {name: yes}\n",
            ManifestError::InvalidField {
                field: "metadata.name",
                expected: "a non-empty string",
                found: "a boolean",
            },
        ),
        (
            "apiVersion: v1\nkind: A\nmetadata: {name: n, namespace: 7}\n",
            ManifestError::InvalidField {
                field: "metadata.namespace",
                expected: "a non-empty string",
                found: "a number",
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            KubernetesManifest::new(text).unwrap_err(),
            expected,
            "{text:?}"
        );
    }
}

#[test]
fn streams_split_into_manifests_and_name_the_bad_document() {
    let two = KubernetesManifest::all_from_yaml(&format!(
        "---\n{SA}---\n---\n{}",
        SA.replace("dummy-sa-1", "b")
    ))
    .unwrap();
    assert_eq!(
        two.iter().map(|m| m.name()).collect::<Vec<_>>(),
        ["dummy-sa-1", "b"]
    );
    assert!(KubernetesManifest::all_from_yaml("").unwrap().is_empty());
    let err = KubernetesManifest::all_from_yaml(&format!("{SA}---\n- x\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "document 2: a manifest must be a mapping, not a list"
    );
}

#[test]
fn debug_shows_identity_only() {
    let m = KubernetesManifest::new(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {AWS_SECRET_ACCESS_KEY: hunter2}\n",
        )
        .unwrap();
    let shown = format!("{m:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("\"s\"") && shown.contains("\"ns\""),
        "{shown}"
    );
    assert_eq!(m.to_string(), "Secret ns/s");
}

#[test]
fn serde_round_trip_validates() {
    let m = KubernetesManifest::new(SA).unwrap();
    let value = serde_json::to_value(&m).unwrap();
    let back: KubernetesManifest = serde_json::from_value(value).unwrap();
    assert_eq!(back, m);
    assert!(
        serde_json::from_value::<KubernetesManifest>(serde_json::json!({"kind": "x"})).is_err()
    );
}
