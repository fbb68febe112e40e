//! Tests of `databag.rs`.

use super::*;
use serde::Deserialize;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Bag {
    access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, with = "json_text", skip_serializing_if = "Option::is_none")]
    tls_ca_chain: Option<Vec<String>>,
    #[serde(default, with = "decimal", skip_serializing_if = "Option::is_none")]
    days: Option<u32>,
}

fn bag(pairs: &[(&str, &str)]) -> BagData {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn round_trip_with_python_separators() {
    let value = Bag {
        access_key: "123".into(),
        path: None,
        tls_ca_chain: Some(vec!["a".into(), "b".into()]),
        days: Some(7),
    };
    let encoded = encode(&value).unwrap();
    assert_eq!(
        encoded,
        bag(&[
            ("access-key", "123"),
            ("tls-ca-chain", r#"["a", "b"]"#),
            ("days", "7")
        ])
    );
    assert_eq!(decode::<Bag>(&encoded).unwrap(), value);
}

#[test]
fn numbers_stay_strings_unless_declared() {
    let b: Bag = decode(&bag(&[("access-key", "123")])).unwrap();
    assert_eq!(b.access_key, "123");
}

#[test]
fn errors_name_the_key() {
    let err = decode::<Bag>(&bag(&[("access-key", "k"), ("tls-ca-chain", "[oops")])).unwrap_err();
    assert_eq!(err.key(), Some("tls-ca-chain"));
    assert!(err.to_string().contains("invalid JSON text"), "{err}");
    let err = decode::<Bag>(&bag(&[("access-key", "k"), ("days", "seven")])).unwrap_err();
    assert_eq!(err.key(), Some("days"));
    let err = decode::<Bag>(&bag(&[("path", "/x")])).unwrap_err();
    assert_eq!(err.key(), Some("access-key"));
    let err = decode::<Bag>(&bag(&[
        ("access-key", "k"),
        ("tls-ca-chain", r#"{"a": 1}"#),
    ]))
    .unwrap_err();
    assert_eq!(err.key(), Some("tls-ca-chain"));
}

#[test]
fn encode_rejects_non_strings() {
    #[derive(Serialize)]
    struct Bad {
        n: u32,
    }
    assert!(matches!(
        encode(&Bad { n: 1 }),
        Err(DatabagError::Encode(_))
    ));
    assert!(matches!(encode(&5), Err(DatabagError::Encode(_))));
}

#[test]
fn unknown_keys_are_ignored() {
    #[derive(Deserialize)]
    struct Only {
        a: String,
    }
    let v: Only = decode(&bag(&[("a", "1"), ("data", "{}")])).unwrap();
    assert_eq!(v.a, "1");
}
