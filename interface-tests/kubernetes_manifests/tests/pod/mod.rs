//! A real Pebble (the pebble-server crate) for the dispatcher's workload container in harness
//! tests: one per test thread, with the workload stand-in at the container's `/main.py`.
#![allow(dead_code, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

struct Pod {
    dir: PathBuf,
    server: Option<pebble_server::RunningServer>,
}

impl Drop for Pod {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

thread_local! {
    static POD: Pod = {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "km-pod-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let root = dir.join("root");
        let made = std::fs::create_dir_all(&root)
            .and_then(|()| std::fs::write(root.join("main.py"), resource_dispatcher::WORKLOAD_STAND_IN));
        assert!(made.is_ok(), "cannot prepare {}: {made:?}", root.display());
        let config = pebble_server::ServerConfig::new(dir.join("pebble.socket"), root);
        let server = match pebble_server::Server::new(config) {
            Ok(server) => server.spawn(),
            Err(e) => panic!("cannot start a Pebble for the test: {e}"),
        };
        Pod { dir, server: Some(server) }
    };
}

/// This test's container socket.
pub fn socket() -> PathBuf {
    POD.with(|p| p.dir.join("pebble.socket"))
}

/// This test's container root on the host.
pub fn root() -> PathBuf {
    POD.with(|p| p.dir.join("root"))
}
