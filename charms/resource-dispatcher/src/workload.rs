//! The workload container `resource-dispatcher`: the only module of the charm that talks to
//! Pebble. It uses the `pebble` client directly today; when the framework's `ctx.container(name)`
//! handle lands, only this module changes.
//!
//! What it does, as upstream (`../README.md`): keep the Pebble layer of the dispatcher service
//! (replanned only when the service definition differs), and make each endpoint's folder under
//! [`FOLDER`] hold exactly the desired `<endpoint>/<namespace or _global>/<name>.yaml` files
//! (legacy flat `<endpoint>/<name>.yaml` files removed, emptied sub-directories removed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use pebble::plan::{Layer, Service, Startup};
use pebble::types::FileType;
use pebble::{Client, MakeDirOptions, PushOptions};

/// What went wrong in the container, as the charm acts on it (the rest of the charm never sees a
/// Pebble type).
#[derive(Debug)]
pub enum WorkloadError {
    /// Pebble cannot be reached (the container is not up, or went away): wait.
    NotReady(String),
    /// A service change failed (the service did not start).
    Service(String),
    /// Anything else (a refused request, a file error): a retry may help.
    Other(String),
}

impl std::fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkloadError::NotReady(m) | WorkloadError::Service(m) | WorkloadError::Other(m) => {
                f.write_str(m)
            }
        }
    }
}

impl From<pebble::Error> for WorkloadError {
    fn from(e: pebble::Error) -> WorkloadError {
        if e.is_connection() {
            WorkloadError::NotReady(e.to_string())
        } else if let pebble::Error::Change(c) = &e {
            WorkloadError::Service(c.to_string())
        } else {
            WorkloadError::Other(e.to_string())
        }
    }
}

type Error = WorkloadError;

/// The container's name in `metadata.yaml`.
pub const CONTAINER: &str = "resource-dispatcher";
/// The layer label and the service name, as upstream.
pub const SERVICE: &str = "resource-dispatcher";
/// Where the dispatcher service reads the manifests (upstream's `--folder`).
pub const FOLDER: &str = "/var/lib/pebble/default/resources";
/// The port the dispatcher serves its sync webhook on (upstream's `--port`).
pub const PORT: u16 = 8080;

/// The workload container of this unit.
#[derive(Debug, Clone)]
pub struct Workload {
    client: Client,
}

/// What a file sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    /// Files pushed (every desired file, changed or not, as upstream).
    pub pushed: usize,
    /// Stale files removed (including legacy flat ones).
    pub removed: Vec<String>,
}

/// The service command upstream runs, with the namespace label of the config.
pub fn service_command(label: &str) -> String {
    // Pebble splits the command shell-style: the label is quoted so that it stays one argument
    // whatever it holds (it comes from config).
    format!(
        "python3 main.py --port {PORT} --label {} --folder {FOLDER}",
        shell_quote(label)
    )
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"./-_=:@".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The layer upstream adds (label [`SERVICE`]).
pub fn layer(label: &str) -> Layer {
    let mut service = Service::replace(service_command(label));
    service.summary = "resource-dispatcher".into();
    service.startup = Some(Startup::Enabled);
    Layer {
        summary: "resource-dispatcher layer".into(),
        description: "Pebble layer of the resource-dispatcher service".into(),
        services: [(SERVICE.to_string(), service)].into(),
        ..Layer::default()
    }
}

/// The container path of one manifest's file.
pub fn file_path(endpoint: &str, namespace: Option<&str>, name: &str) -> String {
    format!(
        "{FOLDER}/{endpoint}/{}/{name}.yaml",
        namespace.unwrap_or("_global")
    )
}

impl Workload {
    /// The container at the socket Juju mounts for it (`/charm/containers/resource-dispatcher/
    /// pebble.socket`).
    pub fn new() -> Workload {
        let socket = pebble::container_socket(CONTAINER).unwrap_or_else(|| {
            PathBuf::from("/charm/containers/resource-dispatcher/pebble.socket")
        });
        Workload::at(socket)
    }

    /// The container at another socket (tests).
    pub fn at(socket: PathBuf) -> Workload {
        Workload {
            client: Client::new(socket),
        }
    }

    /// Whether Pebble answers.
    pub fn can_connect(&self) -> bool {
        self.client.can_connect()
    }

    /// Adds the layer and replans when the service differs from the desired one; returns
    /// whether it did.
    pub fn ensure_layer(&self, label: &str) -> Result<bool, Error> {
        let wanted = layer(label);
        let plan = self.client.get_plan()?;
        let current = plan.services.get(SERVICE);
        let desired = wanted.services.get(SERVICE);
        let same = match (current, desired) {
            (Some(c), Some(d)) => c.command == d.command && c.startup == d.startup,
            _ => false,
        };
        if same {
            return Ok(false);
        }
        self.client.add_layer(SERVICE, &wanted, true)?;
        self.client.replan_services()?;
        Ok(true)
    }

    /// The `*.yaml` files now in `endpoint`'s folder: legacy flat ones and one level down.
    fn existing(&self, endpoint: &str) -> Result<BTreeSet<String>, Error> {
        let dir = format!("{FOLDER}/{endpoint}");
        let entries = match self.client.list_files(&dir, None, false) {
            Ok(entries) => entries,
            Err(e) if e.is_not_found() => return Ok(BTreeSet::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = BTreeSet::new();
        for entry in entries {
            match entry.file_type {
                FileType::Directory => {
                    for inner in self.client.list_files(&entry.path, Some("*.yaml"), false)? {
                        if inner.file_type != FileType::Directory {
                            out.insert(inner.path);
                        }
                    }
                }
                _ if entry.name.ends_with(".yaml") => {
                    out.insert(entry.path);
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Makes `endpoint`'s folder hold exactly `desired` (container path → content).
    pub fn sync(
        &self,
        endpoint: &str,
        desired: &BTreeMap<String, String>,
    ) -> Result<Synced, Error> {
        let mut synced = Synced::default();
        let mut emptied: BTreeSet<String> = BTreeSet::new();
        for path in self.existing(endpoint)? {
            if desired.contains_key(&path) {
                continue;
            }
            match self.client.remove_path(&path, false) {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
            if let Some((parent, _)) = path.rsplit_once('/')
                && parent != format!("{FOLDER}/{endpoint}")
            {
                emptied.insert(parent.to_string());
            }
            synced.removed.push(path);
        }
        for dir in emptied {
            // Only if now empty (a non-recursive remove refuses a directory with files).
            if self
                .client
                .list_files(&dir, None, false)
                .is_ok_and(|e| e.is_empty())
            {
                let _ = self.client.remove_path(&dir, false);
            }
        }
        for (path, content) in desired {
            self.client.push(
                path,
                content.as_bytes(),
                &PushOptions::new().make_dirs(true),
            )?;
            synced.pushed += 1;
        }
        Ok(synced)
    }

    /// Creates the manifests folder (so the service can start before any relation).
    pub fn ensure_folder(&self) -> Result<(), Error> {
        // make_parents also accepts an existing directory.
        Ok(self.client.make_dir(
            FOLDER,
            &MakeDirOptions {
                make_parents: true,
                ..MakeDirOptions::default()
            },
        )?)
    }
}

impl Default for Workload {
    fn default() -> Workload {
        Workload::new()
    }
}
