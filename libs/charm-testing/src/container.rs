//! A workload container in the test [`State`](crate::State), as Scenario describes one:
//! whether Pebble answers, its layers, service statuses, a filesystem, exec handlers, check
//! infos and notices. The charm reaches it through `ctx.container(name)`; the output state holds
//! it as the event left it, and [`Output::exec_history`](crate::Output::exec_history) what ran.

use std::collections::BTreeMap;
use std::path::Path;

use charm::pebble::plan::{Layer, LayerStack, Plan, Startup};
use charm::pebble::types::{
    CheckInfo, CheckStatus, ExecRequest, Notice, NoticeType, ServiceInfo, ServiceStatus,
};
use charm::{Event, PebbleCheckEvent, PebbleNoticeEvent, WorkloadEvent};

/// A file or directory of a container's filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsEntry {
    /// The content of a file; `None` for a directory.
    pub content: Option<Vec<u8>>,
    /// Permission bits (`0o644` for files, `0o755` for directories by default).
    pub permissions: u32,
    /// Owner name, as pushed.
    pub user: Option<String>,
    /// Owner UID, as pushed.
    pub user_id: Option<u32>,
    /// Group name, as pushed.
    pub group: Option<String>,
    /// Group GID, as pushed.
    pub group_id: Option<u32>,
}

impl FsEntry {
    /// A regular file, mode 644.
    pub fn file(content: impl Into<Vec<u8>>) -> FsEntry {
        FsEntry {
            content: Some(content.into()),
            permissions: 0o644,
            user: None,
            user_id: None,
            group: None,
            group_id: None,
        }
    }

    /// A directory, mode 755.
    pub fn dir() -> FsEntry {
        FsEntry {
            content: None,
            ..FsEntry::file(Vec::new())
        }
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.content.is_none()
    }
}

/// What a command matching [`ExecHandler::prefix`] does: its exit code and output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecHandler {
    /// The argv prefix it answers (the longest matching prefix wins; empty matches all).
    pub prefix: Vec<String>,
    /// The exit code (non-zero: the charm gets `pebble::Error::Exec` with the output).
    pub exit_code: i64,
    /// What the command writes on stdout.
    pub stdout: Vec<u8>,
    /// What the command writes on stderr.
    pub stderr: Vec<u8>,
    /// The command runs past its timeout: Pebble kills it and the charm gets
    /// `pebble::Error::Change` (exit code -1), as from a real timeout.
    pub times_out: bool,
}

impl ExecHandler {
    /// A handler for commands starting with `prefix`: exit 0, no output.
    pub fn new<S: Into<String>>(prefix: impl IntoIterator<Item = S>) -> ExecHandler {
        ExecHandler {
            prefix: prefix.into_iter().map(Into::into).collect(),
            exit_code: 0,
            stdout: Vec::new(),
            stderr: Vec::new(),
            times_out: false,
        }
    }

    /// Makes the command run past its timeout.
    pub fn times_out(mut self) -> ExecHandler {
        self.times_out = true;
        self
    }

    /// Sets the exit code.
    pub fn exit_code(mut self, code: i64) -> ExecHandler {
        self.exit_code = code;
        self
    }

    /// Sets stdout.
    pub fn stdout(mut self, out: impl Into<Vec<u8>>) -> ExecHandler {
        self.stdout = out.into();
        self
    }

    /// Sets stderr.
    pub fn stderr(mut self, err: impl Into<Vec<u8>>) -> ExecHandler {
        self.stderr = err.into();
        self
    }
}

/// A command the charm ran, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCall {
    /// The argv.
    pub command: Vec<String>,
    /// The environment the charm asked for.
    pub environment: BTreeMap<String, String>,
    /// The working directory it asked for.
    pub working_dir: Option<String>,
    /// What it fed to stdin.
    pub stdin: Vec<u8>,
    /// The whole request (user, group, timeout, service context, combined stderr).
    pub request: ExecRequest,
}

/// A workload container of the unit under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// Its name (declared in the metadata's `containers`).
    pub name: String,
    /// Whether Pebble answers; when not, every call is a connection error.
    pub can_connect: bool,
    /// The layers, bottom first, and the plan they make (Pebble's merge rules).
    pub layers: LayerStack,
    /// Service statuses by name (a service of the plan not listed is `inactive`).
    pub service_statuses: BTreeMap<String, ServiceStatus>,
    /// The filesystem: absolute paths to files and directories (`/` always exists).
    pub fs: BTreeMap<String, FsEntry>,
    /// How commands answer.
    pub execs: Vec<ExecHandler>,
    /// Check infos by name.
    pub check_infos: BTreeMap<String, CheckInfo>,
    /// Notices, in the order they were recorded.
    pub notices: Vec<Notice>,
}

/// A time for notices the test records (the harness has no clock).
pub(crate) const NOTICE_TIME: &str = "2026-01-01T00:00:00Z";

impl Container {
    /// A container whose Pebble answers, with no layers, files or handlers.
    pub fn new(name: &str) -> Container {
        Container {
            name: name.to_string(),
            can_connect: true,
            layers: LayerStack::new(),
            service_statuses: BTreeMap::new(),
            fs: BTreeMap::new(),
            execs: Vec::new(),
            check_infos: BTreeMap::new(),
            notices: Vec::new(),
        }
    }

    /// Sets whether Pebble answers.
    pub fn can_connect(mut self, yes: bool) -> Container {
        self.can_connect = yes;
        self
    }

    /// Adds a layer on top (as `add_layer` without `combine`).
    ///
    /// # Panics
    /// If Pebble would refuse it (a bug in the test).
    #[allow(clippy::panic)]
    pub fn layer(mut self, label: &str, layer: Layer) -> Container {
        if let Err(e) = self.layers.add(label, layer, false, false) {
            panic!("test container {}: layer {label:?}: {e}", self.name);
        }
        self
    }

    /// Adds a layer from YAML text.
    ///
    /// # Panics
    /// If the YAML is not a layer Pebble accepts.
    #[allow(clippy::panic)]
    pub fn layer_yaml(self, label: &str, yaml: &str) -> Container {
        match Layer::parse(label, yaml, &[]) {
            Ok(layer) => self.layer(label, layer),
            Err(e) => panic!("test container {}: layer {label:?}: {e}", self.name),
        }
    }

    /// Sets a service's status.
    pub fn service_status(mut self, service: &str, status: ServiceStatus) -> Container {
        self.service_statuses.insert(service.to_string(), status);
        self
    }

    /// Puts a file (mode 644) at `path`, creating its parent directories.
    pub fn file(mut self, path: &str, content: impl Into<Vec<u8>>) -> Container {
        self.put(path, FsEntry::file(content));
        self
    }

    /// Puts a directory at `path`, creating its parents.
    pub fn dir(mut self, path: &str) -> Container {
        self.put(path, FsEntry::dir());
        self
    }

    /// Copies the local tree `local` into the container at `path` (files keep their bytes and
    /// permission bits).
    ///
    /// # Panics
    /// If `local` cannot be read.
    #[allow(clippy::panic)]
    pub fn files_from(mut self, path: &str, local: &Path) -> Container {
        if let Err(e) = self.copy_tree(path, local) {
            panic!(
                "test container {}: cannot read {}: {e}",
                self.name,
                local.display()
            );
        }
        self
    }

    fn copy_tree(&mut self, path: &str, local: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(local)?;
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            self.put(
                path,
                FsEntry {
                    permissions: mode,
                    ..FsEntry::dir()
                },
            );
            for entry in std::fs::read_dir(local)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let child = format!("{}/{name}", path.trim_end_matches('/'));
                self.copy_tree(&child, &entry.path())?;
            }
        } else {
            let content = std::fs::read(local)?;
            self.put(
                path,
                FsEntry {
                    permissions: mode,
                    ..FsEntry::file(content)
                },
            );
        }
        Ok(())
    }

    /// Puts `entry` at `path` with its parents (test setup, no rules).
    fn put(&mut self, path: &str, entry: FsEntry) {
        let path = crate::pebble::normalize(path).unwrap_or_else(|| path.to_string());
        let mut parent = String::new();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            parent.push('/');
            parent.push_str(part);
            self.fs.entry(parent.clone()).or_insert_with(FsEntry::dir);
        }
        self.fs.insert(path, entry);
    }

    /// Adds a command handler.
    ///
    /// # Panics
    /// If a handler for the same prefix exists (Scenario's consistency rule).
    #[allow(clippy::panic)]
    pub fn exec(mut self, handler: ExecHandler) -> Container {
        if self.execs.iter().any(|h| h.prefix == handler.prefix) {
            panic!(
                "test container {}: two exec handlers for {:?}",
                self.name, handler.prefix
            );
        }
        self.execs.push(handler);
        self
    }

    /// Adds a check info. It should name a check of the plan.
    pub fn check_info(mut self, info: CheckInfo) -> Container {
        self.check_infos.insert(info.name.clone(), info);
        self
    }

    /// Records a custom notice with this key (ID = its position, from 1).
    pub fn notice(mut self, key: &str) -> Container {
        let id = (self.notices.len() + 1).to_string();
        self.notices.push(Notice {
            id,
            user_id: Some(0),
            notice_type: NoticeType::Custom,
            key: key.to_string(),
            first_occurred: NOTICE_TIME.into(),
            last_occurred: NOTICE_TIME.into(),
            last_repeated: NOTICE_TIME.into(),
            occurrences: 1,
            last_data: BTreeMap::new(),
            repeat_after: None,
            expire_after: None,
        });
        self
    }

    /// The plan the layers make.
    pub fn plan(&self) -> &Plan {
        self.layers.plan()
    }

    /// The services of the plan with their statuses, as `GET /v1/services` gives them.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.plan()
            .services
            .iter()
            .map(|(name, service)| ServiceInfo {
                name: name.clone(),
                startup: if service.startup == Some(Startup::Enabled) {
                    Startup::Enabled
                } else {
                    Startup::Disabled
                },
                current: self
                    .service_statuses
                    .get(name)
                    .cloned()
                    .unwrap_or(ServiceStatus::Inactive),
                current_since: None,
            })
            .collect()
    }

    /// The status of one service (`inactive` when unknown).
    pub fn service(&self, name: &str) -> ServiceStatus {
        self.service_statuses
            .get(name)
            .cloned()
            .unwrap_or(ServiceStatus::Inactive)
    }

    /// The content of the file at `path`, if there is a file there.
    pub fn read(&self, path: &str) -> Option<&[u8]> {
        self.fs.get(path).and_then(|e| e.content.as_deref())
    }

    /// The content of the file at `path` as text (invalid UTF-8 replaced).
    pub fn read_text(&self, path: &str) -> Option<String> {
        self.read(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    fn workload(&self) -> WorkloadEvent {
        WorkloadEvent {
            container: self.name.clone(),
        }
    }

    /// `<container>-pebble-ready`.
    pub fn pebble_ready(&self) -> Event {
        Event::PebbleReady(self.workload())
    }

    /// `<container>-pebble-custom-notice` for the notice with this key.
    ///
    /// # Panics
    /// If the container has no such notice (Scenario's rule: the notice is in the container).
    #[allow(clippy::panic)]
    pub fn custom_notice(&self, key: &str) -> Event {
        let Some(n) = self.notices.iter().find(|n| n.key == key) else {
            panic!("test container {} has no notice {key:?}", self.name);
        };
        Event::PebbleCustomNotice(PebbleNoticeEvent {
            workload: self.workload(),
            notice: charm::Notice {
                id: n.id.clone(),
                kind: n.notice_type.as_str().to_string(),
                key: n.key.clone(),
            },
        })
    }

    fn check_event(&self, name: &str) -> PebbleCheckEvent {
        #[allow(clippy::panic)]
        if !self.check_infos.contains_key(name) {
            panic!("test container {} has no check info {name:?}", self.name);
        }
        PebbleCheckEvent {
            workload: self.workload(),
            check: name.to_string(),
        }
    }

    /// `<container>-pebble-check-failed` for check `name` (its info should say `down`).
    ///
    /// # Panics
    /// If the container has no check info of that name.
    pub fn check_failed(&self, name: &str) -> Event {
        Event::PebbleCheckFailed(self.check_event(name))
    }

    /// `<container>-pebble-check-recovered` for check `name`.
    ///
    /// # Panics
    /// If the container has no check info of that name.
    pub fn check_recovered(&self, name: &str) -> Event {
        Event::PebbleCheckRecovered(self.check_event(name))
    }

    /// A check info as Pebble reports a running check of the plan: `up`, no failures.
    pub fn check_up(name: &str, threshold: u64) -> CheckInfo {
        CheckInfo {
            name: name.to_string(),
            level: None,
            startup: Startup::Enabled,
            status: CheckStatus::Up,
            successes: Some(0),
            failures: 0,
            threshold,
            change_id: Some("1".into()),
            prev_change_id: None,
        }
    }
}
