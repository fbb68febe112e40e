//! Tests of `wire.rs`.

use super::*;
use charm::secret::SecretId;

#[test]
fn labels_match_the_whole_label() {
    assert_eq!(secret_label("secrets", 7), "manifest.secrets.7");
    assert_eq!(
        parse_secret_label("manifest.secrets.7"),
        Some(("secrets", 7))
    );
    assert_eq!(
        parse_secret_label("manifest.service-accounts.12"),
        Some(("service-accounts", 12))
    );
    for bad in [
        "manifest.a.b.3",
        "manifest..3",
        "manifest.a.",
        "manifest.a.x",
        "manifest.a.-1",
        "manifests.a.1",
        "other.a.1",
        "manifest.a.99999999999",
    ] {
        assert_eq!(parse_secret_label(bad), None, "{bad}");
    }
    assert_eq!(label_relation_id("manifest.secrets.7", "secrets"), Some(7));
    // The original matched any endpoint name; we do not.
    assert_eq!(label_relation_id("manifest.roles.7", "secrets"), None);
}

#[test]
fn bag_modes() {
    let id = SecretId::parse("secret:abc00000000000000000").unwrap();
    let bag = RequirerAppBag::secret(&id);
    assert_eq!(bag.data(), RequirerData::Secret { id });
    // Secret mode with something that is not a secret id: never a Secret.
    for bad in [
        "--output=/tmp/x",
        "-o",
        "secret:abc",
        "secret:abc00000000000000000 -o",
    ] {
        let bag = RequirerAppBag {
            kubernetes_manifests: Some(bad.into()),
            is_secret: Some("true".into()),
        };
        assert!(
            matches!(bag.data(), RequirerData::BadSecretId(_)),
            "{bad}: {:?}",
            bag.data()
        );
    }
    let bag = RequirerAppBag {
        kubernetes_manifests: Some("secret:abc00000000000000000".into()),
        is_secret: Some("True".into()),
    };
    assert_eq!(
        bag.data(),
        RequirerData::Plain {
            json: "secret:abc00000000000000000".into(),
            is_secret: Some("True".into())
        }
    );
    let bag = RequirerAppBag {
        kubernetes_manifests: None,
        is_secret: Some("true".into()),
    };
    assert_eq!(bag.data(), RequirerData::SecretWithoutId);
    assert_eq!(RequirerAppBag::default().data(), RequirerData::Empty);
}

#[test]
fn list_encoding_is_python_json_dumps() {
    let items = [
        KubernetesManifest::new("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n")
            .unwrap(),
        KubernetesManifest::new("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n")
            .unwrap(),
    ];
    assert_eq!(
        encode_manifest_list(&items),
        r#"[{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}}, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "b"}}]"#
    );
    assert_eq!(encode_manifest_list(&[]), "[]");
    let back = decode_manifest_list(&encode_manifest_list(&items)).unwrap();
    assert_eq!(back, items);
}

#[test]
fn decoding_rejects_what_is_not_a_list_of_manifests() {
    assert!(matches!(
        decode_manifest_list("[{"),
        Err(ListError::InvalidJson { line: 1, .. })
    ));
    assert!(matches!(
        decode_manifest_list("secret:cs1q2000000000000000"),
        Err(ListError::InvalidJson { .. })
    ));
    assert_eq!(
        decode_manifest_list(r#"{"apiVersion": "v1"}"#),
        Err(ListError::NotAList { found: "a mapping" })
    );
    assert_eq!(
        decode_manifest_list(r#""abc""#),
        Err(ListError::NotAList { found: "a string" })
    );
    assert_eq!(
        decode_manifest_list(
            r#"[{"apiVersion": "v1", "kind": "A", "metadata": {"name": "n"}}, 3]"#
        ),
        Err(ListError::NotAnObject {
            index: 1,
            found: "a number"
        })
    );
    assert_eq!(
        decode_manifest_list(r#"[{"kind": "A"}]"#),
        Err(ListError::InvalidManifest {
            index: 0,
            source: ManifestError::MissingField {
                field: "apiVersion"
            }
        })
    );
    assert_eq!(decode_manifest_list("[]"), Ok(vec![]));
    let err = decode_manifest_list("[1,").unwrap_err();
    assert!(!err.to_string().contains(" at line 1 column"), "{err}");
}

#[test]
fn debug_never_shows_manifests() {
    let text = r#"[{"kind": "Secret", "stringData": {"password": "hunter2"}}]"#;
    let bag = RequirerAppBag {
        kubernetes_manifests: Some(text.into()),
        is_secret: None,
    };
    let content = ManifestsSecretContent {
        manifests: text.into(),
    };
    for shown in [
        format!("{bag:?}"),
        format!("{content:?}"),
        format!("{:?}", bag.data()),
    ] {
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains(&format!("<{} bytes>", text.len())),
            "{shown}"
        );
    }
    let id = SecretId::parse("secret:00000000000000000000").unwrap();
    assert!(format!("{:?}", RequirerAppBag::secret(&id)).contains("secret:00000000000000000000"));
}

#[test]
fn secret_content_defaults_to_an_empty_list() {
    let c = ManifestsSecretContent::from_content(&SecretContent::new().with("other", "x"));
    assert_eq!(c.manifests, "[]");
    let c = ManifestsSecretContent {
        manifests: "[]".into(),
    };
    assert_eq!(c.to_content().get("manifests"), Some("[]"));
}
