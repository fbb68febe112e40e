//! Tests of `storage.rs`.

use super::*;

#[test]
fn count_ranges_follow_juju() {
    let r = |t: &str| CountRange::parse(t);
    assert_eq!(
        r("3"),
        Some(CountRange {
            min: 3,
            max: Some(3)
        })
    );
    assert_eq!(
        r("1-10"),
        Some(CountRange {
            min: 1,
            max: Some(10)
        })
    );
    assert_eq!(r("0-"), Some(CountRange { min: 0, max: None }));
    assert_eq!(r("2+"), Some(CountRange { min: 2, max: None }));
    for bad in ["", "0", "-1", "3-1", "a", "1-b", "+", "1--2", "0-0"] {
        assert_eq!(r(bad), None, "{bad:?}");
    }
    let range = CountRange {
        min: 1,
        max: Some(3),
    };
    assert!(range.allows(3) && !range.allows(4) && !range.allows(0));
    assert_eq!(range.to_string(), "1-3");
    assert_eq!(CountRange { min: 2, max: None }.to_string(), "2+");
}

#[test]
fn metadata_storage_is_typed() {
    let meta = Metadata::from_json(
        r#"{"name":"x","storage":{
            "data":{"type":"filesystem","location":"/srv/data","multiple":{"range":"1-3"},"minimum-size":"1G"},
            "raw":{"type":"block","multiple":{"range":2},"read-only":true,"properties":["transient"]},
            "cache":{"type":"filesystem"}}}"#,
    )
    .unwrap_or_default();
    let storage = meta.storage().unwrap_or_default();
    assert_eq!(storage.len(), 3);
    assert_eq!(storage["data"].kind, StorageKind::Filesystem);
    assert_eq!(storage["data"].location.as_deref(), Some("/srv/data"));
    assert_eq!(
        storage["data"].count,
        CountRange {
            min: 1,
            max: Some(3)
        }
    );
    assert_eq!(storage["data"].minimum_size.as_deref(), Some("1G"));
    assert_eq!(storage["raw"].kind, StorageKind::Block);
    assert_eq!(
        storage["raw"].count,
        CountRange {
            min: 2,
            max: Some(2)
        }
    );
    assert!(storage["raw"].read_only);
    assert_eq!(storage["raw"].properties, vec!["transient"]);
    assert_eq!(storage["cache"].count, CountRange::ONE);
    // No storage section: none.
    assert!(Metadata::default().storage().unwrap_or_default().is_empty());
}

#[test]
fn bad_storage_metadata_names_the_storage() {
    for (json, needle) in [
        (r#"{"data":{"type":"tmpfs"}}"#, "tmpfs"),
        (
            r#"{"data":{"type":"block","multiple":{"range":"5-2"}}}"#,
            "5-2",
        ),
        (r#"{"Data":{"type":"block"}}"#, "not a valid storage name"),
        (r#"{"data":{"location":"/x"}}"#, "type"),
        (r#"{"data":{"type":"block","shared":"yes"}}"#, "boolean"),
    ] {
        let meta =
            Metadata::from_json(&format!(r#"{{"name":"x","storage":{json}}}"#)).unwrap_or_default();
        match meta.storage() {
            Err(e) => assert!(e.contains(needle), "{json}: {e}"),
            Ok(s) => unreachable!("{json} read as {s:?}"),
        }
    }
}

#[test]
fn storage_ids_are_checked() {
    let id = StorageId::parse("data/12").unwrap_or_else(|| unreachable!());
    assert_eq!((id.name.as_str(), id.index), ("data", 12));
    assert_eq!(id.to_string(), "data/12");
    for bad in [
        "data", "data/", "/1", "data/x", "-s/1", "data/1/2", "da ta/1", "data/+1",
    ] {
        assert_eq!(StorageId::parse(bad), None, "{bad:?}");
    }
    assert_eq!(StorageId::new("--help", 0), None);
}

#[test]
fn storage_get_output_is_checked() {
    let id = StorageId::parse("data/0").unwrap_or_else(|| unreachable!());
    let info = StorageInfo::from_json(&id, r#"{"kind":"filesystem","location":"/srv/data"}"#)
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(info.location, PathBuf::from("/srv/data"));
    assert_eq!(info.kind, StorageKind::Filesystem);
    for (bad, needle) in [
        (r#"{"kind":"tape","location":"/x"}"#, "tape"),
        (r#"{"kind":"block","location":"relative/dev"}"#, "absolute"),
        (r#"{"kind":"block"}"#, "location"),
        ("[]", "expected"),
    ] {
        match StorageInfo::from_json(&id, bad) {
            Err(e) => assert!(e.contains(needle), "{bad}: {e}"),
            Ok(i) => unreachable!("{bad} read as {i:?}"),
        }
    }
}
