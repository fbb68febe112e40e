//! The workload container `resource-dispatcher`: the only module of the charm that talks to
//! Pebble, through the framework's handle (`ctx.container(CONTAINER)`), so the charm never picks
//! a socket or builds a client (the harness gives the handle an in-memory Pebble).
//!
//! What it does, as upstream (`../README.md`): keep the Pebble layer of the dispatcher service
//! (replanned only when the service definition differs), and make each endpoint's folder under
//! [`FOLDER`] hold exactly the desired `<endpoint>/<namespace or _global>/<name>.yaml` files
//! (legacy flat `<endpoint>/<name>.yaml` files removed, emptied sub-directories removed).

use std::collections::{BTreeMap, BTreeSet};

use charm::Container;
use charm::pebble;
use charm::pebble::plan::{Layer, Service, Startup};
use charm::pebble::types::FileType;
use charm::pebble::{MakeDirOptions, PushOptions};

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
    container: Container,
}

/// What one listing of [`FOLDER`] showed: the first request of a hook that may write, so it also
/// tells whether Pebble answers, and it spares a listing of every endpoint folder that is not
/// there (and the creation of a folder that is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Folder {
    /// [`FOLDER`] does not exist.
    Missing,
    /// [`FOLDER`] is a directory with these entries (names).
    Holds(BTreeSet<String>),
    /// Not known (Pebble refused the listing, or the path is not a directory): every step
    /// checks for itself.
    Unknown,
}

impl Folder {
    /// Whether `endpoint`'s folder may exist.
    fn may_hold(&self, endpoint: &str) -> bool {
        match self {
            Folder::Missing => false,
            Folder::Holds(names) => names.contains(endpoint),
            Folder::Unknown => true,
        }
    }
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
    /// The workload behind a container handle (`ctx.container(CONTAINER)`).
    pub fn new(container: Container) -> Workload {
        Workload { container }
    }

    /// Lists [`FOLDER`]: [`WorkloadError::NotReady`] when Pebble cannot be reached, else what
    /// the folder holds (any other refusal is [`Folder::Unknown`], as Pebble did answer).
    pub fn probe(&self) -> Result<Folder, Error> {
        match self.container.list_files(FOLDER, None, false) {
            // A path that is not a directory lists as itself.
            Ok(entries) if entries.iter().any(|e| e.path == FOLDER) => Ok(Folder::Unknown),
            Ok(entries) => Ok(Folder::Holds(entries.into_iter().map(|e| e.name).collect())),
            Err(e) if e.is_not_found() => Ok(Folder::Missing),
            Err(e) if e.is_connection() => Err(e.into()),
            Err(_) => Ok(Folder::Unknown),
        }
    }

    /// Adds the layer and replans when the service differs from the desired one; returns
    /// whether it did.
    pub fn ensure_layer(&self, label: &str) -> Result<bool, Error> {
        let wanted = layer(label);
        let plan = self.container.get_plan()?;
        let current = plan.services.get(SERVICE);
        let desired = wanted.services.get(SERVICE);
        let same = match (current, desired) {
            (Some(c), Some(d)) => c.command == d.command && c.startup == d.startup,
            _ => false,
        };
        if same {
            return Ok(false);
        }
        self.container.add_layer(SERVICE, &wanted, true)?;
        self.container.replan()?;
        Ok(true)
    }

    /// The `*.yaml` files now in `endpoint`'s folder: legacy flat ones and one level down.
    fn existing(&self, folder: &Folder, endpoint: &str) -> Result<BTreeSet<String>, Error> {
        if !folder.may_hold(endpoint) {
            return Ok(BTreeSet::new());
        }
        let dir = format!("{FOLDER}/{endpoint}");
        let entries = match self.container.list_files(&dir, None, false) {
            Ok(entries) => entries,
            Err(e) if e.is_not_found() => return Ok(BTreeSet::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = BTreeSet::new();
        for entry in entries {
            match entry.file_type {
                FileType::Directory => {
                    for inner in self
                        .container
                        .list_files(&entry.path, Some("*.yaml"), false)?
                    {
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

    /// Removes the files of `endpoint`'s folder that are not in `desired` (and the directories
    /// this empties); returns their paths. The desired files are written by
    /// [`push_files`](Self::push_files), which can take several endpoints' files at once.
    pub fn prune(
        &self,
        folder: &Folder,
        endpoint: &str,
        desired: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, Error> {
        let mut removed = Vec::new();
        let mut emptied: BTreeSet<String> = BTreeSet::new();
        for path in self.existing(folder, endpoint)? {
            if desired.contains_key(&path) {
                continue;
            }
            match self.container.remove_path(&path, false) {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
            if let Some((parent, _)) = path.rsplit_once('/')
                && parent != format!("{FOLDER}/{endpoint}")
            {
                emptied.insert(parent.to_string());
            }
            removed.push(path);
        }
        for dir in emptied {
            // Only if now empty: a non-recursive remove refuses a directory that still holds
            // files (Pebble's os.Remove), so no listing is needed first.
            let _ = self.container.remove_path(&dir, false);
        }
        Ok(removed)
    }

    /// Writes every file (container path → content, every desired file, changed or not, as
    /// upstream), in one request: each file costs the charm a request otherwise.
    pub fn push_files(&self, files: &BTreeMap<String, String>) -> Result<(), Error> {
        let files: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(path, content)| (path.as_str(), content.as_bytes()))
            .collect();
        Ok(self
            .container
            .push_many(&files, &PushOptions::new().make_dirs(true))?)
    }

    /// Creates the manifests folder (so the service can start before any relation), unless
    /// `folder` (from [`probe`](Self::probe)) shows it is there.
    pub fn ensure_folder(&self, folder: &Folder) -> Result<(), Error> {
        if let Folder::Holds(_) = folder {
            return Ok(());
        }
        // make_parents also accepts an existing directory.
        Ok(self.container.make_dir(
            FOLDER,
            &MakeDirOptions {
                make_parents: true,
                ..MakeDirOptions::default()
            },
        )?)
    }
}
