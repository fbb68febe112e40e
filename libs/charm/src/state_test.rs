//! Tests of `state.rs`.

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("charm-state-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn file_round_trip_and_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("rt");
    let store = FileStore::in_dir(&dir);
    assert_eq!(store.read().unwrap(), StateDoc::default());
    let mut doc = StateDoc::default();
    doc.stored.insert("count".into(), serde_json::json!(3));
    doc.deferred.push(Deferred {
        seq: 0,
        observer: "h#0".into(),
        event: DeferredEvent::Juju(Event::UpdateStatus),
    });
    doc.next_seq = 1;
    store.write(&doc).unwrap();
    assert_eq!(store.read().unwrap(), doc);
    let mode = std::fs::metadata(store.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(store.path()).unwrap();
    assert!(text.contains(r#""kind":"update-status""#), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_or_future_files_are_errors_not_panics() {
    let dir = temp_dir("bad");
    let store = FileStore::in_dir(&dir);
    std::fs::write(store.path(), b"{not json").unwrap();
    assert!(matches!(store.read(), Err(StateError::Corrupt { .. })));
    std::fs::write(store.path(), br#"{"version": 99}"#).unwrap();
    let err = store.read().unwrap_err();
    assert!(err.to_string().contains("unknown version 99"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
