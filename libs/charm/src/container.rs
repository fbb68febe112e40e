//! Workload containers of a Kubernetes sidecar charm, driven through their Pebble.
//!
//! [`Ctx::container`] gives a [`Container`] handle for a container the metadata declares. The
//! handle speaks to the container's Pebble over the socket Juju mounts at
//! `/charm/containers/<name>/pebble.socket` with the blocking [`pebble::Client`]; the test
//! harness swaps in an in-memory Pebble through [`HookTools::pebble`](crate::HookTools::pebble).
//! Errors are [`pebble::Error`], told apart as ops tells them apart; with `?` in a handler a
//! container that cannot be reached becomes a Waiting status, anything else fails the hook.
//!
//! ```no_run
//! use charm::{Ctx, Error, WorkloadEvent};
//! use charm::pebble::plan::{Layer, Service, Startup};
//!
//! fn pebble_ready(ctx: &mut Ctx, event: &WorkloadEvent) -> Result<(), Error> {
//!     // Not up yet: Waiting, and the event is deferred.
//!     let web = ctx.container_or_defer(&event.container)?;
//!     let mut service = Service::replace("/usr/bin/web --config /etc/web.yaml");
//!     service.startup = Some(Startup::Enabled);
//!     let layer = Layer { services: [("web".to_string(), service)].into(), ..Layer::default() };
//!     web.push("/etc/web.yaml", "port: 8080\n", &Default::default())?;
//!     web.add_layer("web", &layer, true)?;
//!     web.replan()?;
//!     let version = web.exec(["/usr/bin/web", "--version"]).output()?;
//!     ctx.set_workload_version(version.stdout_text().trim())?;
//!     Ok(())
//! }
//! ```
//!
//! **Socket override, for tests and local models only:** when [`CONTAINERS_DIR_ENV`]
//! (`PEBBLE_CONTAINERS_DIR`) is set to an absolute directory, the socket of container `<name>` is
//! `$PEBBLE_CONTAINERS_DIR/<name>/pebble.socket` instead. Juju never sets it; a local model that
//! cannot mount `/charm` for a unit's hooks sets it to that unit's directory of sockets.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use pebble::plan::{CheckLevel, Layer, Plan};
use pebble::types::{
    CheckInfo, ExecRequest, FileInfo, Notice, NoticesFilter, ServiceInfo, ServicesAction,
    SystemInfo,
};
use pebble::{Client, ExecOutput, MakeDirOptions, PushOptions};

use crate::error::{Classify, Outcome};
use crate::model::Ctx;

/// The environment variable that moves the sockets' directory (tests and local models only).
pub const CONTAINERS_DIR_ENV: &str = pebble::CONTAINERS_DIR_ENV;

/// The Pebble calls a [`Container`] makes, as one object-safe trait: the real client implements
/// it over the socket, the test harness in memory.
pub trait PebbleApi {
    /// `GET /v1/system-info`.
    fn system_info(&self) -> Result<SystemInfo, pebble::Error>;
    /// `GET /v1/plan`: the combined plan.
    fn get_plan(&self) -> Result<Plan, pebble::Error>;
    /// `POST /v1/layers`.
    fn add_layer(&self, label: &str, layer: &Layer, combine: bool) -> Result<(), pebble::Error>;
    /// `GET /v1/services` (all when `names` is empty).
    fn get_services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, pebble::Error>;
    /// `POST /v1/services` and wait for the change.
    fn services(&self, action: ServicesAction, names: &[&str]) -> Result<(), pebble::Error>;
    /// `POST /v1/signals`.
    fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), pebble::Error>;
    /// Push: writes what `content` yields to `path`.
    fn push(
        &self,
        path: &str,
        content: &mut dyn Read,
        options: &PushOptions,
    ) -> Result<(), pebble::Error>;
    /// Push of several files (one request on a socket); the first failed path is the error.
    fn push_many(
        &self,
        files: &[(&str, &[u8])],
        options: &PushOptions,
    ) -> Result<(), pebble::Error> {
        let mut first = Ok(());
        for (path, content) in files {
            let result = self.push(path, &mut &content[..], options);
            if first.is_ok() {
                first = result;
            }
        }
        first
    }
    /// Pull into memory (bounded).
    fn pull(&self, path: &str) -> Result<Vec<u8>, pebble::Error>;
    /// Pull into a writer; the number of bytes.
    fn pull_to(&self, path: &str, out: &mut dyn Write) -> Result<u64, pebble::Error>;
    /// `GET /v1/files?action=list`.
    fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, pebble::Error>;
    /// Make a directory.
    fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), pebble::Error>;
    /// Remove a path.
    fn remove_path(&self, path: &str, recursive: bool) -> Result<(), pebble::Error>;
    /// Runs a command to completion with `stdin`, capturing its output.
    fn exec(&self, request: &ExecRequest, stdin: &[u8]) -> Result<ExecOutput, pebble::Error>;
    /// `GET /v1/checks`.
    fn get_checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, pebble::Error>;
    /// `POST /v1/checks` (`start` when `start`, else `stop`): the checks changed.
    fn checks(&self, start: bool, names: &[&str]) -> Result<Vec<String>, pebble::Error>;
    /// `GET /v1/notices`.
    fn get_notices(&self, filter: &NoticesFilter) -> Result<Vec<Notice>, pebble::Error>;
    /// `GET /v1/notices/{id}`.
    fn get_notice(&self, id: &str) -> Result<Notice, pebble::Error>;
    /// `POST /v1/notices`: a custom notice; its ID.
    fn notify(
        &self,
        key: &str,
        data: &BTreeMap<String, String>,
        repeat_after: Option<Duration>,
    ) -> Result<String, pebble::Error>;
    /// The socket client behind this, if there is one (not in the harness).
    fn client(&self) -> Option<&Client> {
        None
    }
}

impl PebbleApi for Client {
    fn system_info(&self) -> Result<SystemInfo, pebble::Error> {
        Client::system_info(self)
    }
    fn get_plan(&self) -> Result<Plan, pebble::Error> {
        Client::get_plan(self)
    }
    /// The layer goes as JSON text, which is YAML (Pebble parses it as such): a charm links no
    /// YAML writer for it.
    fn add_layer(&self, label: &str, layer: &Layer, combine: bool) -> Result<(), pebble::Error> {
        let text = serde_json::to_string(layer)
            .map_err(|e| pebble::Error::Protocol(format!("cannot write the layer: {e}")))?;
        self.add_layer_yaml(label, &text, combine)
    }
    fn get_services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, pebble::Error> {
        Client::get_services(self, names)
    }
    fn services(&self, action: ServicesAction, names: &[&str]) -> Result<(), pebble::Error> {
        match action {
            ServicesAction::Start => self.start_services(names),
            ServicesAction::Stop => self.stop_services(names),
            ServicesAction::Restart => self.restart_services(names),
            ServicesAction::Replan => self.replan_services(),
            ServicesAction::Autostart => self.autostart_services(),
            other => {
                // An action this framework does not name: sent as it is, waited for.
                let id = self.services_action(other, names)?;
                let change = self.wait_change(&id, self.timeouts().change)?;
                match &change.err {
                    Some(err) => Err(pebble::Error::Change(pebble::error::ChangeError {
                        err: err.clone(),
                        change: Box::new(change),
                    })),
                    None => Ok(change),
                }
            }
        }
        .map(drop)
    }
    fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), pebble::Error> {
        Client::send_signal(self, signal, services)
    }
    fn push(
        &self,
        path: &str,
        content: &mut dyn Read,
        options: &PushOptions,
    ) -> Result<(), pebble::Error> {
        self.push_reader(path, content, options)
    }
    fn push_many(
        &self,
        files: &[(&str, &[u8])],
        options: &PushOptions,
    ) -> Result<(), pebble::Error> {
        Client::push_many(self, files, options)
    }
    fn pull(&self, path: &str) -> Result<Vec<u8>, pebble::Error> {
        Client::pull(self, path)
    }
    fn pull_to(&self, path: &str, out: &mut dyn Write) -> Result<u64, pebble::Error> {
        Client::pull_to(self, path, out)
    }
    fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, pebble::Error> {
        Client::list_files(self, path, pattern, itself)
    }
    fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), pebble::Error> {
        Client::make_dir(self, path, options)
    }
    fn remove_path(&self, path: &str, recursive: bool) -> Result<(), pebble::Error> {
        Client::remove_path(self, path, recursive)
    }
    fn exec(&self, request: &ExecRequest, stdin: &[u8]) -> Result<ExecOutput, pebble::Error> {
        let mut exec = Client::exec(self, request.command.clone())
            .environment(request.environment.clone())
            .combine_stderr(!request.split_stderr)
            .stdin(std::io::Cursor::new(stdin.to_vec()));
        if let Some(service) = &request.service_context {
            exec = exec.service_context(service.clone());
        }
        if let Some(dir) = &request.working_dir {
            exec = exec.working_dir(dir.clone());
        }
        if let Some(timeout) = request.timeout.and_then(pebble::GoDuration::to_std) {
            exec = exec.timeout(timeout);
        }
        if let Some(user) = &request.user {
            exec = exec.user(user.clone());
        }
        if let Some(uid) = request.user_id {
            exec = exec.user_id(uid);
        }
        if let Some(group) = &request.group {
            exec = exec.group(group.clone());
        }
        if let Some(gid) = request.group_id {
            exec = exec.group_id(gid);
        }
        exec.output()
    }
    fn get_checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, pebble::Error> {
        Client::get_checks(self, level, names)
    }
    fn checks(&self, start: bool, names: &[&str]) -> Result<Vec<String>, pebble::Error> {
        if start {
            self.start_checks(names)
        } else {
            self.stop_checks(names)
        }
    }
    fn get_notices(&self, filter: &NoticesFilter) -> Result<Vec<Notice>, pebble::Error> {
        Client::get_notices(self, filter)
    }
    fn get_notice(&self, id: &str) -> Result<Notice, pebble::Error> {
        Client::get_notice(self, id)
    }
    fn notify(
        &self,
        key: &str,
        data: &BTreeMap<String, String>,
        repeat_after: Option<Duration>,
    ) -> Result<String, pebble::Error> {
        Client::notify(self, key, data, repeat_after)
    }
    fn client(&self) -> Option<&Client> {
        Some(self)
    }
}

/// Why [`Ctx::container`] gave no handle: a bug in the charm or its environment, so `?` fails
/// the hook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    /// The metadata declares no container of that name.
    #[error("container {0:?} is not declared in metadata.yaml (containers)")]
    Unknown(String),
    /// Not a container name (an RFC 1123 label), so it cannot name a socket directory.
    #[error("{0:?} is not a valid container name")]
    InvalidName(String),
    /// The socket override is set but not to an absolute directory.
    #[error("{CONTAINERS_DIR_ENV}={0:?} is not an absolute directory")]
    BadOverride(String),
}

impl Classify for ContainerError {
    fn outcome(&self) -> Outcome {
        Outcome::Fail
    }
}

/// A Pebble that cannot be reached is Waiting (a pebble-ready event follows when it comes up);
/// every other Pebble error fails the hook, so that Juju retries it.
impl Classify for pebble::Error {
    fn outcome(&self) -> Outcome {
        if self.is_connection() {
            Outcome::Waiting
        } else {
            Outcome::Fail
        }
    }
}

/// A workload container: its name and its Pebble. Cheap to clone; holds no borrow of the
/// [`Ctx`], so a handler can keep it while it uses the model.
#[derive(Clone)]
pub struct Container {
    name: String,
    api: Api,
}

/// The Pebble behind a handle. The socket client is called directly, not through a vtable, so a
/// charm links only the calls it makes (reading the plan alone brings a YAML parser).
#[derive(Clone)]
enum Api {
    Socket(Rc<Client>),
    Other(Rc<dyn PebbleApi>),
}

/// Calls a [`PebbleApi`] method on whichever Pebble the handle has.
macro_rules! call {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.api {
            Api::Socket(client) => <Client as PebbleApi>::$method(client, $($arg),*),
            Api::Other(api) => api.$method($($arg),*),
        }
    };
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Container")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Container {
    /// A handle over any Pebble (the harness's in-memory one, a double of a test).
    pub fn new(name: impl Into<String>, api: Rc<dyn PebbleApi>) -> Container {
        Container {
            name: name.into(),
            api: Api::Other(api),
        }
    }

    /// A handle over a socket client (what [`Ctx::container`] gives outside tests).
    pub fn with_client(name: impl Into<String>, client: Client) -> Container {
        Container {
            name: name.into(),
            api: Api::Socket(Rc::new(client)),
        }
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The socket client, when this handle talks to a real socket (streamed exec, changes,
    /// anything the handle does not wrap). `None` in the test harness.
    pub fn client(&self) -> Option<&Client> {
        match &self.api {
            Api::Socket(client) => Some(client),
            Api::Other(api) => api.client(),
        }
    }

    /// Whether Pebble answers (`GET /v1/system-info`), as ops' `can_connect`.
    pub fn can_connect(&self) -> bool {
        call!(self.system_info()).is_ok()
    }

    /// Pebble's version and boot id.
    pub fn system_info(&self) -> Result<SystemInfo, pebble::Error> {
        call!(self.system_info())
    }

    /// The combined plan.
    pub fn get_plan(&self) -> Result<Plan, pebble::Error> {
        call!(self.get_plan())
    }

    /// Adds `layer` under `label`; with `combine`, merges into the layer of that label.
    /// Services are not started or stopped: call [`Container::replan`].
    pub fn add_layer(
        &self,
        label: &str,
        layer: &Layer,
        combine: bool,
    ) -> Result<(), pebble::Error> {
        call!(self.add_layer(label, layer, combine))
    }

    /// The named services (all when empty), sorted by name; unknown names are skipped.
    pub fn get_services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, pebble::Error> {
        call!(self.get_services(names))
    }

    /// One service, or `None` when the plan has none of that name.
    pub fn get_service(&self, name: &str) -> Result<Option<ServiceInfo>, pebble::Error> {
        Ok(self
            .get_services(&[name])?
            .into_iter()
            .find(|s| s.name == name))
    }

    /// Starts services (and what they require) and waits for the change.
    pub fn start(&self, names: &[&str]) -> Result<(), pebble::Error> {
        call!(self.services(ServicesAction::Start, names))
    }

    /// Stops services (and what requires them) and waits for the change.
    pub fn stop(&self, names: &[&str]) -> Result<(), pebble::Error> {
        call!(self.services(ServicesAction::Stop, names))
    }

    /// Restarts services and waits for the change.
    pub fn restart(&self, names: &[&str]) -> Result<(), pebble::Error> {
        call!(self.services(ServicesAction::Restart, names))
    }

    /// Restarts services whose plan changed and starts the `startup: enabled` ones.
    pub fn replan(&self) -> Result<(), pebble::Error> {
        call!(self.services(ServicesAction::Replan, &[]))
    }

    /// Starts the `startup: enabled` services.
    pub fn autostart(&self) -> Result<(), pebble::Error> {
        call!(self.services(ServicesAction::Autostart, &[]))
    }

    /// Sends `signal` (e.g. `SIGHUP`) to running services.
    pub fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), pebble::Error> {
        call!(self.send_signal(signal, services))
    }

    /// Writes `content` to `path` (absolute).
    pub fn push(
        &self,
        path: &str,
        content: impl AsRef<[u8]>,
        options: &PushOptions,
    ) -> Result<(), pebble::Error> {
        call!(self.push_many(&[(path, content.as_ref())], options))
    }

    /// Writes each `(path, content)`, in one request on a socket; the first failed path is the
    /// error (the others are still written).
    pub fn push_many(
        &self,
        files: &[(&str, &[u8])],
        options: &PushOptions,
    ) -> Result<(), pebble::Error> {
        call!(self.push_many(files, options))
    }

    /// Writes what `content` yields to `path`, streamed.
    pub fn push_reader(
        &self,
        path: &str,
        content: &mut dyn Read,
        options: &PushOptions,
    ) -> Result<(), pebble::Error> {
        call!(self.push(path, content, options))
    }

    /// Reads the file at `path` into memory (bounded by the client's limit).
    pub fn pull(&self, path: &str) -> Result<Vec<u8>, pebble::Error> {
        call!(self.pull(path))
    }

    /// Streams the file at `path` into `out`; the number of bytes.
    pub fn pull_to(&self, path: &str, out: &mut dyn Write) -> Result<u64, pebble::Error> {
        call!(self.pull_to(path, out))
    }

    /// The entries of directory `path` (names matching `pattern`), or `path` itself when
    /// `itself` is set or it is not a directory. A missing path is an [`pebble::Error::Api`] 404.
    pub fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, pebble::Error> {
        call!(self.list_files(path, pattern, itself))
    }

    /// Whether `path` exists.
    pub fn exists(&self, path: &str) -> Result<bool, pebble::Error> {
        match call!(self.list_files(path, None, true)) {
            Ok(_) => Ok(true),
            Err(pebble::Error::Api(e)) if e.status_code == 404 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether `path` is a directory.
    pub fn is_dir(&self, path: &str) -> Result<bool, pebble::Error> {
        match call!(self.list_files(path, None, true)) {
            Ok(entries) => Ok(entries
                .first()
                .is_some_and(|e| e.file_type == pebble::types::FileType::Directory)),
            Err(pebble::Error::Api(e)) if e.status_code == 404 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates directory `path`.
    pub fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), pebble::Error> {
        call!(self.make_dir(path, options))
    }

    /// Removes `path` (with `recursive`, a whole tree; a missing path is then no error).
    pub fn remove_path(&self, path: &str, recursive: bool) -> Result<(), pebble::Error> {
        call!(self.remove_path(path, recursive))
    }

    /// A command to run in the container: set options on the returned [`ExecCommand`], then
    /// [`ExecCommand::output`].
    pub fn exec<I, S>(&self, command: I) -> ExecCommand<'_>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecCommand {
            container: self,
            request: ExecRequest {
                command: command.into_iter().map(Into::into).collect(),
                split_stderr: true,
                ..ExecRequest::default()
            },
            stdin: Vec::new(),
        }
    }

    /// The checks at `level` (all when `None`) with these names (all when empty).
    pub fn get_checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, pebble::Error> {
        call!(self.get_checks(level, names))
    }

    /// One check, or `None` when the plan has none of that name.
    pub fn get_check(&self, name: &str) -> Result<Option<CheckInfo>, pebble::Error> {
        Ok(self
            .get_checks(None, &[name])?
            .into_iter()
            .find(|c| c.name == name))
    }

    /// Starts checks; the names actually started.
    pub fn start_checks(&self, names: &[&str]) -> Result<Vec<String>, pebble::Error> {
        call!(self.checks(true, names))
    }

    /// Stops checks; the names actually stopped.
    pub fn stop_checks(&self, names: &[&str]) -> Result<Vec<String>, pebble::Error> {
        call!(self.checks(false, names))
    }

    /// Notices matching `filter`.
    pub fn get_notices(&self, filter: &NoticesFilter) -> Result<Vec<Notice>, pebble::Error> {
        call!(self.get_notices(filter))
    }

    /// The notice with that ID (e.g. a custom-notice event's).
    pub fn get_notice(&self, id: &str) -> Result<Notice, pebble::Error> {
        call!(self.get_notice(id))
    }

    /// Records a custom notice (key `domain.tld/path`); its ID.
    pub fn notify(
        &self,
        key: &str,
        data: &BTreeMap<String, String>,
        repeat_after: Option<Duration>,
    ) -> Result<String, pebble::Error> {
        call!(self.notify(key, data, repeat_after))
    }
}

/// A command to run in a container, built by [`Container::exec`].
#[derive(Debug)]
pub struct ExecCommand<'c> {
    container: &'c Container,
    request: ExecRequest,
    stdin: Vec<u8>,
}

impl ExecCommand<'_> {
    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.request.environment.insert(key.into(), value.into());
        self
    }

    /// Sets the environment (on top of the service context's).
    pub fn environment(mut self, environment: BTreeMap<String, String>) -> Self {
        self.request.environment = environment;
        self
    }

    /// Takes environment, user/group and working dir from a service of the plan.
    pub fn service_context(mut self, service: impl Into<String>) -> Self {
        self.request.service_context = Some(service.into());
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: impl Into<String>) -> Self {
        self.request.working_dir = Some(dir.into());
        self
    }

    /// Sets the timeout after which Pebble kills the command (default: the client's, 5 min).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request.timeout = Some(pebble::GoDuration::from(timeout));
        self
    }

    /// Runs as this user.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.request.user = Some(user.into());
        self
    }

    /// Runs as this UID.
    pub fn user_id(mut self, uid: u32) -> Self {
        self.request.user_id = Some(uid);
        self
    }

    /// Runs with this group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.request.group = Some(group.into());
        self
    }

    /// Runs with this GID.
    pub fn group_id(mut self, gid: u32) -> Self {
        self.request.group_id = Some(gid);
        self
    }

    /// Sends stderr into stdout.
    pub fn combine_stderr(mut self, combine: bool) -> Self {
        self.request.split_stderr = !combine;
        self
    }

    /// Feeds these bytes to the command's stdin, then closes it (default: empty).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = input.into();
        self
    }

    /// The request as it will be sent.
    pub fn request(&self) -> &ExecRequest {
        &self.request
    }

    /// Runs the command and captures its output. A non-zero exit is [`pebble::Error::Exec`]
    /// with the output; a timeout or start failure [`pebble::Error::Change`].
    pub fn output(self) -> Result<ExecOutput, pebble::Error> {
        let container = self.container;
        call!(container.exec(&self.request, &self.stdin))
    }
}

/// Where container `name`'s socket is: Juju's path, or under [`CONTAINERS_DIR_ENV`].
pub fn socket_path(name: &str, override_dir: Option<&str>) -> Result<PathBuf, ContainerError> {
    if !crate::workload_meta::is_container_name(name) {
        return Err(ContainerError::InvalidName(name.to_string()));
    }
    match override_dir {
        Some(dir) if Path::new(dir).is_absolute() => {
            Ok(Path::new(dir).join(name).join("pebble.socket"))
        }
        Some(dir) => Err(ContainerError::BadOverride(dir.to_string())),
        None => {
            pebble::container_socket(name).ok_or_else(|| ContainerError::InvalidName(name.into()))
        }
    }
}

impl Ctx<'_> {
    /// The workload container `name`: declared in the metadata (when the charm has metadata)
    /// and a valid container name. Nothing is connected yet; see [`Container::can_connect`].
    pub fn container(&mut self, name: &str) -> Result<Container, ContainerError> {
        if let Some(meta) = self.metadata()
            && !meta.containers.contains_key(name)
        {
            return Err(ContainerError::Unknown(name.to_string()));
        }
        if !crate::workload_meta::is_container_name(name) {
            return Err(ContainerError::InvalidName(name.to_string()));
        }
        if let Some(api) = self.tools().pebble(name) {
            return Ok(Container::new(name, api));
        }
        // Set but empty reads as unset, as a shell's `VAR= cmd` means.
        let override_dir = std::env::var(CONTAINERS_DIR_ENV)
            .ok()
            .filter(|d| !d.is_empty());
        let socket = socket_path(name, override_dir.as_deref())?;
        Ok(Container::with_client(name, Client::new(socket)))
    }

    /// The container `name` when its Pebble answers. When it does not, the event is deferred
    /// (where Juju allows it) and the error is a Waiting status `waiting for container <name>`:
    /// `let web = ctx.container_or_defer("web")?;` is ops' "can_connect or wait and defer".
    pub fn container_or_defer(&mut self, name: &str) -> Result<Container, crate::Error> {
        let container = self.container(name)?;
        if container.can_connect() {
            return Ok(container);
        }
        if self.event().is_deferrable() {
            self.defer()?;
        }
        Err(crate::Error::waiting(format!(
            "waiting for container {name} (Pebble not ready)"
        )))
    }
}

#[cfg(test)]
#[path = "container_test.rs"]
mod tests;
