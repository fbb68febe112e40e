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
        observer: "h".into(),
        filter: Some("update-status".into()),
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

#[test]
fn corrupt_file_errors_name_the_file_and_the_way_out() {
    let dir = temp_dir("hint");
    let store = FileStore::in_dir(&dir);
    std::fs::write(store.path(), b"{not json").unwrap();
    let message = store.read().unwrap_err().to_string();
    assert!(
        message.contains(&store.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("move it aside"), "{message}");
    assert!(message.contains("stored state in it are lost"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writes_remove_stale_temporary_files_and_never_follow_a_planted_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("stale");
    let store = FileStore::in_dir(&dir);
    // Left by interrupted writes: this version's name and the pid-suffixed name of older ones.
    std::fs::write(dir.join(".charm-state.json.tmp"), b"{half").unwrap();
    std::fs::write(dir.join(".charm-state.tmp4242"), b"{half").unwrap();
    // Files that only look similar are not ours to remove.
    std::fs::write(dir.join(".charm-state.tmpx"), b"keep").unwrap();
    store.write(&StateDoc::default()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".charm-state.json", ".charm-state.tmpx"]);

    // A symlink at the temporary path is replaced, not written through.
    let victim = dir.join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join(".charm-state.json.tmp")).unwrap();
    let mut doc = StateDoc::default();
    doc.stored.insert("k".into(), serde_json::json!(1));
    store.write(&doc).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(store.read().unwrap(), doc);
    let meta = std::fs::symlink_metadata(store.path()).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(!dir.join(".charm-state.json.tmp").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
