//! The compiled `hello-k8s` binary, run as Juju runs it, against stub hook tools and a real
//! Pebble (the workspace's server) at the socket override `PEBBLE_CONTAINERS_DIR` gives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use charm_testing::StubTools;
use pebble_server::{Server, ServerConfig};

fn run(stubs: &StubTools, charm_dir: &Path, sockets: &Path) -> Output {
    let path = format!(
        "{}:{}",
        stubs.bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(env!("CARGO_BIN_EXE_hello-k8s"))
        .env_clear()
        .env("PATH", path)
        .env("JUJU_DISPATCH_PATH", "hooks/web-pebble-ready")
        .env("JUJU_WORKLOAD_NAME", "web")
        .env("JUJU_UNIT_NAME", "hello-k8s/0")
        .env("JUJU_MODEL_NAME", "test")
        .env("JUJU_VERSION", "3.6.14")
        .env("JUJU_CHARM_DIR", charm_dir)
        .env("PEBBLE_CONTAINERS_DIR", sockets)
        .current_dir(charm_dir)
        .output()
        .unwrap()
}

#[test]
fn pebble_ready_reaches_pebble_at_the_override_or_waits_for_it() {
    let stubs = StubTools::new().unwrap();
    let charm_dir = stubs.root().join("charm");
    let sockets = stubs.root().join("containers");
    std::fs::create_dir_all(&charm_dir).unwrap();
    stubs
        .answer("config-get", r#"{"greeting": "hi", "port": 8080}"#)
        .unwrap();

    // No Pebble yet: Waiting, the event deferred, the hook succeeds.
    let out = run(&stubs, &charm_dir, &sockets);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = stubs
        .calls()
        .into_iter()
        .find(|c| c[0] == "status-set")
        .unwrap();
    assert_eq!(status[2], "waiting", "{status:?}");
    let state = std::fs::read_to_string(charm_dir.join(".charm-state.json")).unwrap();
    assert!(
        state.contains("web-pebble-ready") || state.contains("pebble-ready"),
        "{state}"
    );

    // Pebble up at the override's path: the charm pushes its config and adds its layer there.
    // The image's server is not on this host, so replan fails and the hook fails for a retry.
    let root = stubs.root().join("root");
    let mut config = ServerConfig::new(sockets.join("web/pebble.socket"), &root);
    config.okay_delay = Duration::from_millis(200);
    let server = Server::new(config).unwrap().spawn();
    stubs.clear_calls();
    let out = run(&stubs, &charm_dir, &sockets);
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hello/hello.conf")).unwrap(),
        "listen: 8080\ngreeting: \"hi\"\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fork/exec /usr/bin/hello-server: no such file or directory"),
        "{stderr}"
    );
    drop(server.stop());
}
