//! The workload module against a real Pebble (the `pebble-server` crate, over its Unix socket):
//! what the harness's in-memory Pebble cannot prove — the files land on a real filesystem with
//! the layout the dispatcher service reads, the layer's command really runs the workload (the
//! stand-in at `/main.py`), a service that exits at once is reported as not started, and a
//! socket nobody serves is "not ready".

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use charm::Container;
use resource_dispatcher::workload::{self, Folder, Workload, WorkloadError};

/// A container: a temporary root served by a Pebble of its own.
struct Pod {
    dir: PathBuf,
    server: Option<pebble_server::RunningServer>,
}

impl Pod {
    /// A pod whose root holds `/main.py` when `stand_in` is set.
    fn start(stand_in: bool) -> Pod {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rd-real-pebble-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(dir.join("root")).unwrap();
        if stand_in {
            std::fs::write(
                dir.join("root/main.py"),
                resource_dispatcher::WORKLOAD_STAND_IN,
            )
            .unwrap();
        }
        let config = pebble_server::ServerConfig::new(dir.join("pebble.socket"), dir.join("root"));
        let server = pebble_server::Server::new(config).unwrap().spawn();
        Pod {
            dir,
            server: Some(server),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// The workload through the framework's handle over this pod's socket.
    fn workload(&self) -> Workload {
        Workload::new(Container::with_client(
            workload::CONTAINER,
            pebble::Client::new(self.dir.join("pebble.socket")),
        ))
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every file under `dir`, as paths relative to `root` with a leading `/`.
fn files(root: &Path, dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push(format!("/{}", p.strip_prefix(root).unwrap().display()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, root, &mut out);
    out.sort();
    out
}

/// What one endpoint's sync did.
struct Synced {
    pushed: usize,
    removed: Vec<String>,
}

/// One endpoint's files made exactly `desired`, as the charm does it: prune, then push.
fn sync(
    w: &Workload,
    folder: &Folder,
    endpoint: &str,
    desired: &BTreeMap<String, String>,
) -> Result<Synced, WorkloadError> {
    let removed = w.prune(folder, endpoint, desired)?;
    w.push_files(desired)?;
    Ok(Synced {
        pushed: desired.len(),
        removed,
    })
}

#[test]
fn files_land_in_the_layout_the_service_reads_and_the_service_runs() {
    let pod = Pod::start(true);
    let folder = pod.root().join("var/lib/pebble/default/resources");
    // Left from an older charm: a legacy flat file and a namespace that is no longer sent.
    std::fs::create_dir_all(folder.join("secrets/old-ns")).unwrap();
    std::fs::write(folder.join("secrets/legacy.yaml"), "x: 1\n").unwrap();
    std::fs::write(folder.join("secrets/old-ns/gone.yaml"), "x: 1\n").unwrap();
    let w = pod.workload();
    assert!(w.probe().is_ok());
    w.ensure_folder(&Folder::Unknown).unwrap();
    let desired = BTreeMap::from([
        (
            workload::file_path("secrets", None, "one"),
            "kind: Secret\n".to_string(),
        ),
        (
            workload::file_path("secrets", Some("team"), "two"),
            "kind: Secret\n".to_string(),
        ),
    ]);
    let synced = sync(&w, &Folder::Unknown, "secrets", &desired).unwrap();
    assert_eq!(synced.pushed, 2);
    assert_eq!(
        synced.removed,
        [
            "/var/lib/pebble/default/resources/secrets/legacy.yaml",
            "/var/lib/pebble/default/resources/secrets/old-ns/gone.yaml",
        ]
    );
    assert_eq!(
        files(&pod.root(), &folder),
        [
            "/var/lib/pebble/default/resources/secrets/_global/one.yaml",
            "/var/lib/pebble/default/resources/secrets/team/two.yaml",
        ]
    );
    assert!(
        !folder.join("secrets/old-ns").exists(),
        "emptied directory removed"
    );
    // The layer is added once; the service is the stand-in, really running.
    assert!(w.ensure_layer("user.kubeflow.org/enabled").unwrap());
    assert!(!w.ensure_layer("user.kubeflow.org/enabled").unwrap());
    let client = pebble::Client::new(pod.dir.join("pebble.socket"));
    assert!(client.get_services(&["resource-dispatcher"]).unwrap()[0].is_running());
    // A new label changes the command: added again and replanned.
    assert!(w.ensure_layer("team's label").unwrap());
    assert_eq!(
        client.get_plan().unwrap().services["resource-dispatcher"].command,
        workload::service_command("team's label")
    );
    assert!(client.get_services(&["resource-dispatcher"]).unwrap()[0].is_running());
}

#[test]
fn a_service_that_exits_at_once_is_reported_as_not_started() {
    // No /main.py in this image: `python3 main.py` exits with an error straight away.
    let pod = Pod::start(false);
    let w = pod.workload();
    match w.ensure_layer("user.kubeflow.org/enabled") {
        Err(WorkloadError::Service(message)) => assert!(!message.is_empty()),
        other => panic!("expected a service error, got {other:?}"),
    }
}

#[test]
fn a_socket_nobody_serves_is_not_ready() {
    let missing = std::env::temp_dir().join(format!("rd-no-pebble-{}", std::process::id()));
    let w = Workload::new(Container::with_client(
        workload::CONTAINER,
        pebble::Client::new(missing.join("pebble.socket")),
    ));
    assert!(matches!(w.probe(), Err(WorkloadError::NotReady(_))));
    assert!(matches!(
        w.ensure_folder(&Folder::Unknown),
        Err(WorkloadError::NotReady(_))
    ));
    assert!(matches!(
        sync(&w, &Folder::Unknown, "secrets", &BTreeMap::new()),
        Err(WorkloadError::NotReady(_))
    ));
}

#[test]
fn one_listing_of_the_folder_says_what_exists_and_syncing_with_it_gives_the_same_files() {
    let pod = Pod::start(false);
    let folder = pod.root().join("var/lib/pebble/default/resources");
    let w = pod.workload();
    // Nothing yet: the folder is missing, created by ensure_folder.
    let seen = w.probe().unwrap();
    assert_eq!(seen, Folder::Missing);
    w.ensure_folder(&seen).unwrap();
    assert!(folder.is_dir());
    assert_eq!(w.probe().unwrap(), Folder::Holds(Default::default()));
    // Stale files of one endpoint; another endpoint has no folder.
    std::fs::create_dir_all(folder.join("roles/team")).unwrap();
    std::fs::write(folder.join("roles/legacy.yaml"), "x: 1\n").unwrap();
    std::fs::write(folder.join("roles/team/gone.yaml"), "x: 1\n").unwrap();
    // A directory that keeps a desired file stays.
    std::fs::create_dir_all(folder.join("roles/keep")).unwrap();
    std::fs::write(folder.join("roles/keep/stale.yaml"), "x: 1\n").unwrap();
    std::fs::write(folder.join("roles/keep/two.yaml"), "x: 1\n").unwrap();
    let seen = w.probe().unwrap();
    assert_eq!(seen, Folder::Holds(["roles".to_string()].into()));
    let desired = |endpoint: &str| {
        BTreeMap::from([(
            workload::file_path(endpoint, None, "one"),
            "kind: Role\n".to_string(),
        )])
    };
    let mut roles = desired("roles");
    roles.insert(
        workload::file_path("roles", Some("keep"), "two"),
        "kind: Role\n".to_string(),
    );
    let synced = sync(&w, &seen, "roles", &roles).unwrap();
    assert_eq!(
        synced.removed,
        [
            "/var/lib/pebble/default/resources/roles/keep/stale.yaml",
            "/var/lib/pebble/default/resources/roles/legacy.yaml",
            "/var/lib/pebble/default/resources/roles/team/gone.yaml",
        ]
    );
    assert!(
        !folder.join("roles/team").exists(),
        "emptied directory removed"
    );
    let synced = sync(&w, &seen, "role-bindings", &desired("role-bindings")).unwrap();
    assert_eq!(synced.pushed, 1);
    assert!(synced.removed.is_empty());
    assert_eq!(
        files(&pod.root(), &folder),
        [
            "/var/lib/pebble/default/resources/role-bindings/_global/one.yaml",
            "/var/lib/pebble/default/resources/roles/_global/one.yaml",
            "/var/lib/pebble/default/resources/roles/keep/two.yaml",
        ]
    );
    // A file where the folder should be: not known, so every step checks for itself.
    let other = Pod::start(false);
    let path = other.root().join("var/lib/pebble/default");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("resources"), "not a folder\n").unwrap();
    let w = other.workload();
    let seen = w.probe().unwrap();
    assert_eq!(seen, Folder::Unknown);
    assert!(w.ensure_folder(&seen).is_err());
}

#[test]
fn the_files_of_several_endpoints_are_pushed_at_once() {
    let pod = Pod::start(false);
    let folder = pod.root().join("var/lib/pebble/default/resources");
    let w = pod.workload();
    w.ensure_folder(&Folder::Unknown).unwrap();
    let wanted = BTreeMap::from([
        (
            workload::file_path("config-maps", None, "cm"),
            "kind: ConfigMap\n".to_string(),
        ),
        (
            workload::file_path("roles", Some("team"), "r"),
            "kind: Role\n".to_string(),
        ),
    ]);
    w.push_files(&wanted).unwrap();
    assert_eq!(
        files(&pod.root(), &folder),
        [
            "/var/lib/pebble/default/resources/config-maps/_global/cm.yaml",
            "/var/lib/pebble/default/resources/roles/team/r.yaml",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("roles/team/r.yaml")).unwrap(),
        "kind: Role\n"
    );
    // Nothing to write is no request at all, and no error.
    w.push_files(&BTreeMap::new()).unwrap();
}
