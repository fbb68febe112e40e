#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn a_path_candidate_is_the_directory_a_slash_and_the_name_or_nothing_when_too_long() {
    use super::fast::join_path;
    let mut buf = [0u8; 16];
    assert_eq!(
        join_path(&mut buf, b"/usr/bin", b"sh\0"),
        Some(&b"/usr/bin/sh\0"[..])
    );
    // An empty PATH entry is the current directory: the name alone.
    assert_eq!(join_path(&mut buf, b"", b"sh\0"), Some(&b"sh\0"[..]));
    // Exactly the buffer's size fits; one more byte does not.
    assert_eq!(
        join_path(&mut buf, b"/aaaaaaaaa", b"bbbb\0"),
        Some(&b"/aaaaaaaaa/bbbb\0"[..])
    );
    assert_eq!(join_path(&mut buf, b"/aaaaaaaaaa", b"bbbb\0"), None);
}

#[test]
fn a_reaped_child_reports_its_status_again_without_waiting() {
    let mut started = spawn(OsStr::new("sh"), &["-c".into(), "exit 7".into()], false).unwrap();
    let status = started.child.wait().unwrap();
    assert_eq!(status.code(), Some(7));
    // Reaped once: asking again answers from memory (a second waitpid would fail ECHILD).
    let again = started.child.try_wait().unwrap();
    assert_eq!(again.and_then(|s| s.code()), Some(7));
    assert!(started.child.exec_error().is_none());
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn a_program_that_cannot_start_is_known_once_reaped() {
    // The fast path learns of the execve's failure from the child's block, after reaping it.
    let mut started = spawn(OsStr::new("/nonexistent/program"), &[], false).unwrap();
    assert!(started.child.exec_error().is_none(), "not reaped yet");
    started.child.wait().unwrap();
    let error = started.child.exec_error();
    assert_eq!(
        error.map(|e| e.kind()),
        Some(io::ErrorKind::NotFound),
        "the execve's ENOENT comes back"
    );
}
