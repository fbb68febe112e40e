//! `container_socket` and its override for local models (`PEBBLE_CONTAINERS_DIR`). The variable
//! is read from the environment, so each case runs this test binary again with it set.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// Run by [`the_override_replaces_the_directory_only_when_absolute`] in a child process: prints
/// what `container_socket("web")` gives there.
#[test]
fn print_socket_for_parent() {
    if std::env::var_os("PEBBLE_TEST_CHILD").is_some() {
        println!(
            "SOCKET={}",
            pebble::container_socket("web")
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
}

fn socket_with(dir: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "print_socket_for_parent", "--nocapture"])
        .env("PEBBLE_TEST_CHILD", "1")
        .env_remove(pebble::CONTAINERS_DIR_ENV);
    if let Some(d) = dir {
        cmd.env(pebble::CONTAINERS_DIR_ENV, d);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("SOCKET="))
        .unwrap_or_else(|| panic!("no SOCKET line in {text}"))
        .to_string()
}

#[test]
fn the_override_replaces_the_directory_only_when_absolute() {
    assert_eq!(socket_with(None), "/charm/containers/web/pebble.socket");
    assert_eq!(
        socket_with(Some("/model/units/web-0/containers")),
        "/model/units/web-0/containers/web/pebble.socket"
    );
    // A relative value is ignored: the socket stays where Juju mounts it.
    assert_eq!(
        socket_with(Some("relative/dir")),
        "/charm/containers/web/pebble.socket"
    );
    assert_eq!(
        PathBuf::from(socket_with(Some(""))),
        PathBuf::from("/charm/containers/web/pebble.socket")
    );
}

#[test]
fn a_container_name_that_is_not_a_label_has_no_socket() {
    for bad in ["", "Web", "-web", "web-", "../x", "a/b", &"x".repeat(64)] {
        assert_eq!(pebble::container_socket(bad), None, "{bad:?}");
    }
    assert!(pebble::container_socket("web-2").is_some());
}
