//! The blocking client: HTTP/1.1 over Pebble's Unix socket, one idle connection kept between
//! calls, every call bounded by [`Timeouts`] and every buffered answer by [`Limits`].

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::duration::GoDuration;
use crate::error::{ApiError, ChangeError, Error, PathError};
use crate::plan::{CheckLevel, Layer, Plan};
use crate::types::{
    Change, ChangeActionRequest, ChangeSelect, CheckInfo, ChecksAction, ChecksChanged,
    ChecksRequest, ErrorKind, FileInfo, FilesRequest, LayerRequest, MakeDir, Notice, NoticeAdded,
    NoticeRequest, NoticeType, NoticesFilter, Ownership, PathResult, RemovePath, Response,
    ResponseType, ServiceInfo, ServicesAction, ServicesRequest, SignalsRequest, SystemInfo,
    WriteFile,
};

mod exec;
pub(crate) mod http;
pub(crate) mod multipart;

pub use exec::{Exec, ExecOutput, ExecProcess, Signaller};

use http::{Body, BodyReader};

/// Where Juju mounts a container's Pebble socket in the charm container.
pub const CONTAINERS_DIR: &str = "/charm/containers";

/// For tests and local models only: a directory that replaces [`CONTAINERS_DIR`] in
/// [`container_socket`] (`juju-local` sets it where it cannot mount the sockets at `/charm`).
/// Juju never sets it.
pub const CONTAINERS_DIR_ENV: &str = "PEBBLE_CONTAINERS_DIR";

/// The socket path of container `name` (`/charm/containers/<name>/pebble.socket`, under
/// `$PEBBLE_CONTAINERS_DIR` instead when that is set to an absolute path), or `None` if `name`
/// is not a valid container name (an RFC 1123 label), so that it cannot point elsewhere.
pub fn container_socket(name: &str) -> Option<PathBuf> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    let dir = std::env::var_os(CONTAINERS_DIR_ENV)
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| PathBuf::from(CONTAINERS_DIR));
    valid.then(|| dir.join(name).join("pebble.socket"))
}

/// How long the client waits. Every call has a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to the socket.
    pub connect: Duration,
    /// Each read or write of a call (a server that stops answering fails the call after this).
    pub io: Duration,
    /// How long service actions wait for their change to finish.
    pub change: Duration,
    /// The timeout of a command run without one (Pebble kills it then; the guide's rule that
    /// every command has a timeout).
    pub exec: Duration,
}

impl Default for Timeouts {
    /// 5 s to connect, 30 s per read/write, 30 s for service changes (ops' default), 5 min for
    /// commands.
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            io: Duration::from_secs(30),
            change: Duration::from_secs(30),
            exec: Duration::from_secs(300),
        }
    }
}

/// How much the client buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A JSON answer.
    pub response: u64,
    /// A file pulled into memory ([`Client::pull`]; [`Client::pull_to`] streams instead).
    pub pull: u64,
    /// Each captured output stream of a command.
    pub exec_output: u64,
}

impl Default for Limits {
    /// 16 MiB answers, 64 MiB pulls, 16 MiB per captured output stream.
    fn default() -> Limits {
        Limits {
            response: 16 << 20,
            pull: 64 << 20,
            exec_output: 16 << 20,
        }
    }
}

/// Options of a push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushOptions {
    /// Create missing parent directories (mode 755, same owner).
    pub make_dirs: bool,
    /// Mode (default 644) and owner.
    pub ownership: Ownership,
}

impl PushOptions {
    /// Default options: no parents created, mode 644, Pebble's user.
    pub fn new() -> PushOptions {
        PushOptions::default()
    }

    /// Creates missing parent directories.
    pub fn make_dirs(mut self, yes: bool) -> PushOptions {
        self.make_dirs = yes;
        self
    }

    /// Sets the permission bits (e.g. `0o600`).
    pub fn permissions(mut self, mode: u32) -> PushOptions {
        self.ownership.permissions = Some(crate::types::Permissions::from_mode(mode));
        self
    }

    /// Sets the owner by name.
    pub fn user(mut self, user: impl Into<String>) -> PushOptions {
        self.ownership.user = Some(user.into());
        self
    }

    /// Sets the owner by UID.
    pub fn user_id(mut self, uid: u32) -> PushOptions {
        self.ownership.user_id = Some(uid);
        self
    }

    /// Sets the group by name.
    pub fn group(mut self, group: impl Into<String>) -> PushOptions {
        self.ownership.group = Some(group.into());
        self
    }

    /// Sets the group by GID.
    pub fn group_id(mut self, gid: u32) -> PushOptions {
        self.ownership.group_id = Some(gid);
        self
    }
}

/// Options of [`Client::make_dir`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MakeDirOptions {
    /// Create missing parents, and accept an existing directory.
    pub make_parents: bool,
    /// Mode (default 755) and owner.
    pub ownership: Ownership,
}

/// A connection to one Pebble daemon (nothing is opened until a call; the connection of a call
/// whose answer was read whole is kept for the next call).
#[derive(Debug)]
pub struct Client {
    socket: PathBuf,
    timeouts: Timeouts,
    limits: Limits,
    idle: http::Pool,
}

impl Clone for Client {
    /// The same daemon, timeouts and limits; the clone opens its own connection.
    fn clone(&self) -> Client {
        Client {
            socket: self.socket.clone(),
            timeouts: self.timeouts,
            limits: self.limits,
            idle: http::Pool::default(),
        }
    }
}

/// A decoded JSON answer.
struct Answer {
    result: Option<Value>,
    change: Option<String>,
}

fn decode<T: DeserializeOwned>(value: Option<Value>, what: &str) -> Result<T, Error> {
    serde_json::from_value(value.unwrap_or(Value::Null))
        .map_err(|e| Error::Protocol(format!("cannot decode {what}: {e}")))
}

fn names_query(names: &[&str]) -> Vec<(&'static str, String)> {
    if names.is_empty() {
        Vec::new()
    } else {
        vec![("names", names.join(","))]
    }
}

fn seconds_go(d: Duration) -> String {
    GoDuration::from(d).to_string()
}

/// Caps a timeout so that adding margins and handing it to the OS cannot overflow.
fn cap(d: Duration) -> Duration {
    d.min(Duration::from_secs(365 * 24 * 3600))
}

impl Client {
    /// A client of the Pebble listening on `socket`, with default [`Timeouts`] and [`Limits`].
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client {
            socket: socket.into(),
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            idle: http::Pool::default(),
        }
    }

    /// The same client with other timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Client {
        self.timeouts = Timeouts {
            connect: cap(timeouts.connect),
            io: cap(timeouts.io),
            change: cap(timeouts.change),
            exec: cap(timeouts.exec),
        };
        self
    }

    /// The same client with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Client {
        self.limits = limits;
        self
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The timeouts in use.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The limits in use.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    // ----- transport -------------------------------------------------------------------------

    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, &str)],
        body: Body<'_>,
        read_timeout: Duration,
    ) -> Result<http::Response, Error> {
        http::request(
            &self.idle,
            &self.socket,
            self.timeouts.connect,
            read_timeout,
            method,
            &http::target(path, query),
            headers,
            body,
        )
    }

    /// Reads a JSON envelope; non-2xx answers become [`ApiError`]s.
    fn answer(&self, response: http::Response) -> Result<Answer, Error> {
        let media_type = response.media_type();
        let content_type = response.header("content-type").unwrap_or("").to_string();
        let http::Response {
            status,
            reason,
            mut body,
            ..
        } = response;
        let bytes = body.read_limited(self.limits.response, "Pebble's answer")?;
        self.idle.recycle(body);
        let envelope = serde_json::from_slice::<Response>(&bytes);
        if !(200..300).contains(&status) {
            let (kind, message) = match envelope.as_ref().ok().and_then(Response::error_result) {
                Some(e) => (e.kind, e.message),
                None => (
                    None,
                    format!("{} {} (the answer is not a Pebble error)", status, reason),
                ),
            };
            return Err(Error::Api(ApiError {
                status_code: status,
                status: reason,
                kind,
                message,
            }));
        }
        if media_type != "application/json" {
            return Err(Error::Protocol(format!(
                "expected an application/json answer, got {content_type:?}"
            )));
        }
        let envelope =
            envelope.map_err(|e| Error::Protocol(format!("invalid JSON answer: {e}")))?;
        match envelope.response_type {
            ResponseType::Sync | ResponseType::Async => Ok(Answer {
                result: envelope.result,
                change: envelope.change,
            }),
            _ => {
                let e = envelope.error_result().unwrap_or_else(|| {
                    crate::types::ErrorResult::new(None, "unexpected response type")
                });
                Err(Error::Api(ApiError {
                    status_code: envelope.status_code,
                    status: envelope.status,
                    kind: e.kind,
                    message: e.message,
                }))
            }
        }
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        read_timeout: Duration,
    ) -> Result<Answer, Error> {
        let body = match body {
            Some(data) => Body::Bytes {
                content_type: "application/json".into(),
                data,
            },
            None => Body::Empty,
        };
        let response = self.send(
            method,
            path,
            query,
            &[("Accept", "application/json")],
            body,
            read_timeout,
        )?;
        self.answer(response)
    }

    fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, Error> {
        self.call_with("GET", path, query, None, self.timeouts.io)
    }

    fn post(&self, path: &str, body: &impl Serialize) -> Result<Answer, Error> {
        let data = serde_json::to_vec(body)
            .map_err(|e| Error::Protocol(format!("cannot encode the request: {e}")))?;
        self.call_with("POST", path, &[], Some(data), self.timeouts.io)
    }

    fn get_as<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, Error> {
        decode(self.get(path, query)?.result, what)
    }

    // ----- system, plan, layers --------------------------------------------------------------

    /// `GET /v1/system-info`.
    pub fn system_info(&self) -> Result<SystemInfo, Error> {
        self.get_as("/v1/system-info", &[], "system info")
    }

    /// Whether Pebble answers (`GET /v1/system-info` succeeds), as ops' `can_connect`.
    pub fn can_connect(&self) -> bool {
        self.system_info().is_ok()
    }

    /// `GET /v1/plan?format=yaml`: the combined plan.
    pub fn get_plan(&self) -> Result<Plan, Error> {
        let text: String = self.get_as("/v1/plan", &[("format", "yaml".into())], "the plan")?;
        Plan::from_yaml(&text).map_err(|e| Error::Protocol(format!("cannot read the plan: {e}")))
    }

    /// `POST /v1/layers`: adds `layer` under `label`; with `combine`, merges into an existing
    /// layer of that label instead of failing. Services are not started or stopped (replan).
    pub fn add_layer(&self, label: &str, layer: &Layer, combine: bool) -> Result<(), Error> {
        let yaml = layer
            .to_yaml()
            .map_err(|e| Error::Protocol(format!("cannot write the layer: {e}")))?;
        self.add_layer_yaml(label, &yaml, combine)
    }

    /// `POST /v1/layers` with layer YAML as it is.
    pub fn add_layer_yaml(&self, label: &str, yaml: &str, combine: bool) -> Result<(), Error> {
        self.post("/v1/layers", &LayerRequest::add(label, yaml, combine))
            .map(drop)
    }

    // ----- services --------------------------------------------------------------------------

    /// `GET /v1/services`: the named services (all when `names` is empty), sorted by name.
    /// Unknown names are skipped, as Pebble does.
    pub fn get_services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, Error> {
        self.get_as("/v1/services", &names_query(names), "services")
    }

    /// `POST /v1/services` without waiting: returns the change ID.
    pub fn services_action(&self, action: ServicesAction, names: &[&str]) -> Result<String, Error> {
        let request = ServicesRequest {
            action,
            services: names.iter().map(|s| s.to_string()).collect(),
        };
        self.post("/v1/services", &request)?
            .change
            .ok_or_else(|| Error::Protocol("async answer without a change ID".into()))
    }

    /// Runs a services action and waits ([`Timeouts::change`]) for its change; an error in the
    /// change is a [`ChangeError`].
    fn services_and_wait(&self, action: ServicesAction, names: &[&str]) -> Result<Change, Error> {
        let id = self.services_action(action, names)?;
        let change = self.wait_change(&id, self.timeouts.change)?;
        match &change.err {
            Some(err) => Err(Error::Change(ChangeError {
                err: err.clone(),
                change: Box::new(change),
            })),
            None => Ok(change),
        }
    }

    /// Starts services (and what they require), waiting for the change.
    pub fn start_services(&self, names: &[&str]) -> Result<Change, Error> {
        self.services_and_wait(ServicesAction::Start, names)
    }

    /// Stops services (and what requires them), waiting for the change.
    pub fn stop_services(&self, names: &[&str]) -> Result<Change, Error> {
        self.services_and_wait(ServicesAction::Stop, names)
    }

    /// Restarts services, waiting for the change.
    pub fn restart_services(&self, names: &[&str]) -> Result<Change, Error> {
        self.services_and_wait(ServicesAction::Restart, names)
    }

    /// Restarts services whose plan changed and starts the `startup: enabled` ones.
    pub fn replan_services(&self) -> Result<Change, Error> {
        self.services_and_wait(ServicesAction::Replan, &[])
    }

    /// Starts the `startup: enabled` services.
    pub fn autostart_services(&self) -> Result<Change, Error> {
        self.services_and_wait(ServicesAction::Autostart, &[])
    }

    /// `POST /v1/signals`: sends `signal` (a name such as `SIGHUP`) to the services.
    pub fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), Error> {
        let request = SignalsRequest {
            signal: signal.to_string(),
            services: services.iter().map(|s| s.to_string()).collect(),
        };
        self.post("/v1/signals", &request).map(drop)
    }

    // ----- changes ---------------------------------------------------------------------------

    /// `GET /v1/changes/{id}`.
    pub fn get_change(&self, id: &str) -> Result<Change, Error> {
        self.get_as(&change_path(id, ""), &[], "change")
    }

    /// `GET /v1/changes`: `select` (Pebble's default: in progress), optionally only those of a
    /// service.
    pub fn get_changes(
        &self,
        select: Option<ChangeSelect>,
        service: Option<&str>,
    ) -> Result<Vec<Change>, Error> {
        let mut query = Vec::new();
        if let Some(select) = select {
            query.push(("select", select.as_str().to_string()));
        }
        if let Some(service) = service {
            query.push(("for", service.to_string()));
        }
        self.get_as("/v1/changes", &query, "changes")
    }

    /// `POST /v1/changes/{id}` with `abort`.
    pub fn abort_change(&self, id: &str) -> Result<Change, Error> {
        let request = ChangeActionRequest {
            action: "abort".into(),
        };
        decode(self.post(&change_path(id, ""), &request)?.result, "change")
    }

    /// Waits up to `timeout` for change `id` to be ready and returns it (an `err` in it is not
    /// an error here). Long-polls `GET /v1/changes/{id}/wait` in slices shorter than the read
    /// timeout; falls back to polling `GET /v1/changes/{id}` where `/wait` is missing (404), as
    /// ops does.
    pub fn wait_change(&self, id: &str, timeout: Duration) -> Result<Change, Error> {
        let deadline = Instant::now() + cap(timeout);
        let slice = self
            .timeouts
            .io
            .saturating_sub(Duration::from_secs(1))
            .max(Duration::from_secs(1));
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Timeout {
                    change_id: id.to_string(),
                });
            }
            let this = remaining.min(slice);
            let answer = self.call_with(
                "GET",
                &change_path(id, "/wait"),
                &[("timeout", seconds_go(this))],
                None,
                this.saturating_add(self.timeouts.io),
            );
            match answer {
                Ok(answer) => return decode(answer.result, "change"),
                Err(Error::Api(e)) if e.status_code == 504 => continue,
                Err(Error::Api(e)) if e.status_code == 404 => {
                    return self.poll_change(id, deadline);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn poll_change(&self, id: &str, deadline: Instant) -> Result<Change, Error> {
        loop {
            let change = self.get_change(id)?;
            if change.ready {
                return Ok(change);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    change_id: id.to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(100).min(deadline - now));
        }
    }

    // ----- files -----------------------------------------------------------------------------

    /// Writes `content` to `path` (absolute) in the container.
    pub fn push(&self, path: &str, content: &[u8], options: &PushOptions) -> Result<(), Error> {
        self.push_many(&[(path, content)], options)
    }

    /// Writes each `(path, content)` in one request, all with `options`; the first path that
    /// failed is the error (Pebble still writes the others).
    pub fn push_many(&self, files: &[(&str, &[u8])], options: &PushOptions) -> Result<(), Error> {
        if files.is_empty() {
            return Ok(());
        }
        for (path, _) in files {
            check_part_path(path)?;
        }
        let request = FilesRequest::Write {
            files: files
                .iter()
                .map(|(path, _)| WriteFile {
                    path: path.to_string(),
                    make_dirs: options.make_dirs,
                    ownership: options.ownership.clone(),
                })
                .collect(),
        };
        let metadata = serde_json::to_vec(&request)
            .map_err(|e| Error::Protocol(format!("cannot encode the request: {e}")))?;
        let boundary = multipart::boundary();
        // Sent with a length rather than streamed: it can then be sent again on a new connection
        // if Pebble had closed the kept one.
        let body = Body::Bytes {
            content_type: format!("multipart/form-data; boundary=\"{boundary}\""),
            data: multipart::push_body(&boundary, &metadata, files),
        };
        let answer = self.post_files(body)?;
        let paths: Vec<&str> = files.iter().map(|(path, _)| *path).collect();
        path_results(&paths, answer.result)
    }

    /// `POST /v1/files` with a multipart body of files to write; the answer's envelope.
    fn post_files(&self, body: Body<'_>) -> Result<Answer, Error> {
        let response = self.send(
            "POST",
            "/v1/files",
            &[],
            &[("Accept", "application/json")],
            body,
            self.timeouts.io,
        )?;
        self.answer(response)
    }

    /// Writes what `content` yields to `path`, streamed (never held in memory whole).
    pub fn push_reader(
        &self,
        path: &str,
        content: &mut dyn Read,
        options: &PushOptions,
    ) -> Result<(), Error> {
        check_part_path(path)?;
        let request = FilesRequest::Write {
            files: vec![WriteFile {
                path: path.to_string(),
                make_dirs: options.make_dirs,
                ownership: options.ownership.clone(),
            }],
        };
        let metadata = serde_json::to_vec(&request)
            .map_err(|e| Error::Protocol(format!("cannot encode the request: {e}")))?;
        let boundary = multipart::boundary();
        let (prefix, suffix) = multipart::push_envelope(&boundary, &metadata, path);
        let body = Body::Stream {
            content_type: format!("multipart/form-data; boundary=\"{boundary}\""),
            prefix,
            stream: content,
            suffix,
        };
        let answer = self.post_files(body)?;
        single_path_result(path, answer.result)
    }

    /// Reads the file at `path` into memory (at most [`Limits::pull`] bytes).
    pub fn pull(&self, path: &str) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.pull_limited(path, &mut out, self.limits.pull)?;
        Ok(out)
    }

    /// Streams the file at `path` into `out`; returns the number of bytes.
    pub fn pull_to(&self, path: &str, out: &mut dyn Write) -> Result<u64, Error> {
        self.pull_limited(path, out, u64::MAX)
    }

    fn pull_limited(&self, path: &str, out: &mut dyn Write, limit: u64) -> Result<u64, Error> {
        let query = [("action", "read".to_string()), ("path", path.to_string())];
        let mut response = self.send(
            "GET",
            "/v1/files",
            &query,
            &[("Accept", "multipart/form-data")],
            Body::Empty,
            self.timeouts.io,
        )?;
        let content_type = response.header("content-type").unwrap_or("").to_string();
        let Some(boundary) = multipart::boundary_of(&content_type) else {
            // Request-level errors come as JSON envelopes.
            self.answer(response)?;
            return Err(Error::Protocol(format!(
                "expected a multipart/form-data answer, got {content_type:?}"
            )));
        };
        if !(200..300).contains(&response.status) {
            return Err(Error::Protocol(format!(
                "multipart answer with status {}",
                response.status
            )));
        }
        let body: &mut BodyReader = &mut response.body;
        let mut reader = multipart::MultipartReader::new(&mut *body, &boundary);
        let mut copied = None;
        let mut envelope = None;
        loop {
            let head = reader
                .next_part()
                .map_err(|e| http::stream_error(&self.socket, e, "pull answer", 0))?;
            let Some(head) = head else { break };
            match head.name.as_str() {
                "files" => {
                    if copied.is_some() || head.filename.as_deref() != Some(path) {
                        return Err(Error::Protocol(format!(
                            "unexpected file part {:?} in the pull of {path:?}",
                            head.filename.unwrap_or_default()
                        )));
                    }
                    let n = reader
                        .copy_part(&mut http::LocalWriter(&mut *out), limit)
                        .map_err(|e| http::stream_error(&self.socket, e, "pulled file", limit))?;
                    copied = Some(n);
                }
                "response" => {
                    let mut json = Vec::new();
                    let limit = self.limits.response;
                    reader.copy_part(&mut json, limit).map_err(|e| {
                        http::stream_error(&self.socket, e, "Pebble's answer", limit)
                    })?;
                    envelope = Some(json);
                }
                _ => {}
            }
        }
        drop(reader);
        // What follows the last part (an epilogue, at most a line) is read so that the
        // connection can serve the next call.
        if response.body.read_limited(1024, "pull epilogue").is_ok() {
            self.idle.recycle(response.body);
        }
        let json = envelope
            .ok_or_else(|| Error::Protocol("pull answer without a response part".into()))?;
        let envelope: Response = serde_json::from_slice(&json)
            .map_err(|e| Error::Protocol(format!("invalid response part: {e}")))?;
        if let Some(e) = envelope.error_result() {
            return Err(Error::Api(ApiError {
                status_code: envelope.status_code,
                status: envelope.status,
                kind: e.kind,
                message: e.message,
            }));
        }
        single_path_result(path, envelope.result)?;
        copied.ok_or_else(|| Error::Protocol(format!("no file part for {path:?}")))
    }

    /// `GET /v1/files?action=list`: the entries of directory `path` (optionally only names
    /// matching the glob `pattern`), or the entry of `path` itself when `itself` is set or
    /// `path` is not a directory. Errors are [`Error::Api`] (404 when missing), as in ops.
    pub fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, Error> {
        let mut query = vec![("action", "list".to_string()), ("path", path.to_string())];
        if let Some(pattern) = pattern.filter(|p| !p.is_empty()) {
            query.push(("pattern", pattern.to_string()));
        }
        if itself {
            query.push(("itself", "true".to_string()));
        }
        self.get_as("/v1/files", &query, "file list")
    }

    /// Creates directory `path`.
    pub fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), Error> {
        let request = FilesRequest::MakeDirs {
            dirs: vec![MakeDir {
                path: path.to_string(),
                make_parents: options.make_parents,
                ownership: options.ownership.clone(),
            }],
        };
        single_path_result(path, self.post("/v1/files", &request)?.result)
    }

    /// Removes `path`: a file or empty directory, or with `recursive` a whole tree (a missing
    /// path is then not an error).
    pub fn remove_path(&self, path: &str, recursive: bool) -> Result<(), Error> {
        let request = FilesRequest::Remove {
            paths: vec![RemovePath {
                path: path.to_string(),
                recursive,
            }],
        };
        single_path_result(path, self.post("/v1/files", &request)?.result)
    }

    // ----- exec ------------------------------------------------------------------------------

    /// A command to run in the container: set options on the returned [`Exec`], then run it.
    pub fn exec<I, S>(&self, command: I) -> Exec<'_>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Exec::new(self, command.into_iter().map(Into::into).collect())
    }

    // ----- checks ----------------------------------------------------------------------------

    /// `GET /v1/checks`: the checks at `level` (all levels when `None`) with these names (all
    /// when empty).
    pub fn get_checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, Error> {
        let mut query = Vec::new();
        if let Some(level) = level {
            query.push(("level", level.as_str().to_string()));
        }
        // ops repeats `names=` per name here (unlike services).
        query.extend(names.iter().map(|n| ("names", n.to_string())));
        self.get_as("/v1/checks", &query, "checks")
    }

    fn checks_action(&self, action: ChecksAction, names: &[&str]) -> Result<Vec<String>, Error> {
        let request = ChecksRequest {
            action,
            checks: names.iter().map(|s| s.to_string()).collect(),
        };
        let changed: ChecksChanged = decode(self.post("/v1/checks", &request)?.result, "checks")?;
        Ok(changed.changed)
    }

    /// `POST /v1/checks` start (Pebble ≥ v1.19): returns the checks actually started.
    pub fn start_checks(&self, names: &[&str]) -> Result<Vec<String>, Error> {
        self.checks_action(ChecksAction::Start, names)
    }

    /// `POST /v1/checks` stop (Pebble ≥ v1.19): returns the checks actually stopped.
    pub fn stop_checks(&self, names: &[&str]) -> Result<Vec<String>, Error> {
        self.checks_action(ChecksAction::Stop, names)
    }

    // ----- notices ---------------------------------------------------------------------------

    /// `GET /v1/notices` with a filter (a `timeout` long-polls).
    pub fn get_notices(&self, filter: &NoticesFilter) -> Result<Vec<Notice>, Error> {
        let wait = filter
            .timeout
            .and_then(GoDuration::to_std)
            .unwrap_or_default();
        let answer = self.call_with(
            "GET",
            "/v1/notices",
            &filter.query(),
            None,
            cap(wait).saturating_add(self.timeouts.io),
        )?;
        decode(answer.result, "notices")
    }

    /// `GET /v1/notices/{id}`.
    pub fn get_notice(&self, id: &str) -> Result<Notice, Error> {
        self.get_as(
            &format!("/v1/notices/{}", http::encode_component(id)),
            &[],
            "notice",
        )
    }

    /// `POST /v1/notices`: records a custom notice (key `domain.tld/path`); returns its ID.
    pub fn notify(
        &self,
        key: &str,
        data: &BTreeMap<String, String>,
        repeat_after: Option<Duration>,
    ) -> Result<String, Error> {
        let request = NoticeRequest {
            action: "add".into(),
            notice_type: NoticeType::Custom,
            key: key.to_string(),
            repeat_after: repeat_after.map(GoDuration::from),
            data: data.clone(),
        };
        let added: NoticeAdded = decode(self.post("/v1/notices", &request)?.result, "notice ID")?;
        Ok(added.id)
    }
}

fn change_path(id: &str, suffix: &str) -> String {
    format!("/v1/changes/{}{suffix}", http::encode_component(id))
}

/// Refuses a path that would break the head of its multipart part.
fn check_part_path(path: &str) -> Result<(), Error> {
    if path.contains(['\r', '\n']) {
        return Err(Error::Path(PathError {
            path: path.to_string(),
            kind: ErrorKind::GenericFileError,
            message: format!("path {path:?} contains a line break"),
        }));
    }
    Ok(())
}

/// The per-path result list of a files call, one result per path in order: the first error
/// becomes a [`PathError`].
fn path_results(paths: &[&str], result: Option<Value>) -> Result<(), Error> {
    let results: Vec<PathResult> = decode(result, "per-path results")?;
    if results.len() != paths.len() {
        return Err(Error::Protocol(format!(
            "expected {} per-path results, got {}",
            paths.len(),
            results.len()
        )));
    }
    for (path, result) in paths.iter().zip(&results) {
        if result.path != *path {
            return Err(Error::Protocol(format!(
                "per-path result for {:?}, expected {path:?}",
                result.path
            )));
        }
    }
    match paths
        .iter()
        .zip(&results)
        .find_map(|(path, r)| Some((path, r.error.as_ref()?)))
    {
        Some((path, e)) => Err(Error::Path(PathError {
            path: path.to_string(),
            kind: e.kind.clone().unwrap_or(ErrorKind::GenericFileError),
            message: e.message.clone(),
        })),
        None => Ok(()),
    }
}

/// The per-path result list of a files call, for one path: its error becomes a [`PathError`].
fn single_path_result(path: &str, result: Option<Value>) -> Result<(), Error> {
    let results: Vec<PathResult> = decode(result, "per-path results")?;
    let [only] = results.as_slice() else {
        return Err(Error::Protocol(format!(
            "expected one per-path result, got {}",
            results.len()
        )));
    };
    if only.path != path {
        return Err(Error::Protocol(format!(
            "per-path result for {:?}, expected {path:?}",
            only.path
        )));
    }
    match &only.error {
        Some(e) => Err(Error::Path(PathError {
            path: path.to_string(),
            kind: e.kind.clone().unwrap_or(ErrorKind::GenericFileError),
            message: e.message.clone(),
        })),
        None => Ok(()),
    }
}
