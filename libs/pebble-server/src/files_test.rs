//! Tests of `files.rs.rs`.

use super::*;

#[test]
fn permissions_are_three_octal_digits() {
    assert_eq!(parse_permissions(None, 0o644), Ok(0o644));
    assert_eq!(parse_permissions(Some("600"), 0o644), Ok(0o600));
    assert_eq!(
        parse_permissions(Some("0644"), 0o644).map_err(|e| e.message),
        Err("permissions must be a 3-digit octal string, got \"0644\"".into())
    );
    assert!(parse_permissions(Some("800"), 0o644).is_err());
}

#[test]
fn errno_texts_are_go_s() {
    let e = io::Error::from_raw_os_error(libc::ENOENT);
    let fe = FileError::from_io("stat", "/q", &e);
    assert_eq!(
        (fe.kind, fe.message.as_str()),
        ("not-found", "stat /q: no such file or directory")
    );
    let e = io::Error::from_raw_os_error(libc::ENOTEMPTY);
    assert_eq!(
        FileError::from_io("remove", "/srv", &e).message,
        "remove /srv: directory not empty"
    );
    assert_eq!(
        FileError::from_io("x", "/a", &io::Error::from_raw_os_error(libc::EACCES)).kind,
        "permission-denied"
    );
}

#[test]
fn paths_clean_and_join() {
    assert_eq!(clean_path("/a//b/./c/"), "/a/b/c");
    assert_eq!(clean_path("/"), "/");
    assert_eq!(parent_of("/a/b"), "/a");
    assert_eq!(parent_of("/a"), "/");
    assert_eq!(join("/", "x"), "/x");
}
