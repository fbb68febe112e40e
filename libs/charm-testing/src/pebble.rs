//! The in-memory Pebble of a test [`Container`]: `charm::PebbleApi` with Pebble's rules and
//! messages (spec sections 2–7): layer merge rules (the `pebble` crate's own `LayerStack`),
//! service actions, per-path file errors, exec matched by prefix, checks and notices. A container
//! that cannot connect answers every call with a connection error.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::time::Duration;

use charm::PebbleApi;
use charm::pebble::error::{
    ApiError, ChangeError, ConnectionError, ConnectionErrorKind, ExecError, PathError,
};
use charm::pebble::plan::{CheckLevel, Layer, Plan, Startup};
use charm::pebble::types::{
    Change, ChangeStatus, CheckInfo, CheckStatus, ErrorKind, ExecRequest, FileInfo, FileType,
    Notice, NoticeType, NoticesFilter, Permissions, ServiceInfo, ServiceStatus, ServicesAction,
    SystemInfo,
};
use charm::pebble::{Error, ExecOutput, MakeDirOptions, PushOptions};

use crate::container::{Container, ExecCall, FsEntry, NOTICE_TIME};

/// The most a test pull or push holds (the real client's pull limit).
const MAX_FILE: u64 = 64 << 20;

/// One container's Pebble during a run, shared by the charm's handles and the harness.
#[derive(Debug)]
pub(crate) struct FakePebble {
    pub(crate) container: RefCell<Container>,
    pub(crate) history: RefCell<Vec<ExecCall>>,
}

/// `path` normalized, or Pebble's error for a path that is not absolute.
fn absolute(path: &str) -> Result<String, Error> {
    normalize(path).ok_or_else(|| {
        path_error(
            path,
            ErrorKind::GenericFileError,
            format!("paths must be absolute, got {path:?}"),
        )
    })
}

/// `path` made absolute and clean (`.`, `..`, `//` and a trailing `/` resolved), or `None` when
/// it is relative.
pub(crate) fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => path[..i].to_string(),
    }
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Error",
    }
}

fn api(code: u16, kind: Option<ErrorKind>, message: impl Into<String>) -> Error {
    Error::Api(ApiError {
        status_code: code,
        status: reason(code).to_string(),
        kind,
        message: message.into(),
    })
}

fn bad_request(message: impl Into<String>) -> Error {
    api(400, None, message)
}

fn path_error(path: &str, kind: ErrorKind, message: impl Into<String>) -> Error {
    Error::Path(PathError {
        path: path.to_string(),
        kind,
        message: message.into(),
    })
}

/// Shell glob on a name: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`. `None` when malformed.
pub(crate) fn glob(pattern: &[u8], name: &[u8]) -> Option<bool> {
    match pattern.split_first() {
        None => Some(name.is_empty()),
        Some((b'*', rest)) => {
            for skip in 0..=name.len() {
                if glob(rest, &name[skip..])? {
                    return Some(true);
                }
            }
            Some(false)
        }
        Some((b'?', rest)) => match name.split_first() {
            Some((_, name_rest)) => glob(rest, name_rest),
            None => Some(false),
        },
        Some((b'[', rest)) => {
            let end = rest.iter().skip(1).position(|&b| b == b']')? + 1;
            let (class, after) = (&rest[..end], &rest[end + 1..]);
            let (negate, class) = match class.split_first() {
                Some((b'!' | b'^', c)) => (true, c),
                _ => (false, class),
            };
            let Some((&c, name_rest)) = name.split_first() else {
                return Some(false);
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= (class[i]..=class[i + 2]).contains(&c);
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            if hit != negate {
                glob(after, name_rest)
            } else {
                Some(false)
            }
        }
        Some((&p, rest)) => match name.split_first() {
            Some((&c, name_rest)) if c == p => glob(rest, name_rest),
            _ => Some(false),
        },
    }
}

/// Pebble's rules for owners (spec §5.5): a group needs a user.
fn check_owner(ownership: &charm::pebble::types::Ownership) -> Result<(), String> {
    let user = ownership.user.is_some() || ownership.user_id.is_some();
    let group = ownership.group.is_some() || ownership.group_id.is_some();
    if group && !user {
        return Err("must specify user, not just group".into());
    }
    Ok(())
}

fn owned(mut entry: FsEntry, ownership: &charm::pebble::types::Ownership) -> FsEntry {
    entry.user = ownership.user.clone();
    entry.user_id = ownership.user_id;
    entry.group = ownership.group.clone();
    entry.group_id = ownership.group_id;
    entry
}

const SIGNALS: &[&str] = &[
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGSTOP",
    "SIGCONT", "SIGWINCH",
];

impl FakePebble {
    pub(crate) fn new(container: Container) -> FakePebble {
        FakePebble {
            container: RefCell::new(container),
            history: RefCell::new(Vec::new()),
        }
    }

    /// The container, if Pebble answers.
    fn reach(&self) -> Result<std::cell::RefMut<'_, Container>, Error> {
        let container = self.container.borrow_mut();
        if container.can_connect {
            return Ok(container);
        }
        Err(Error::Connection(ConnectionError {
            socket: format!("/charm/containers/{}/pebble.socket", container.name).into(),
            kind: ConnectionErrorKind::SocketMissing,
            message: "socket not found (the test's container cannot connect)".into(),
        }))
    }
}

/// Service start set: the names plus, transitively, what they require.
fn with_requires(plan: &Plan, names: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = names.to_vec();
    while let Some(name) = todo.pop() {
        if out.insert(name.clone())
            && let Some(service) = plan.services.get(&name)
        {
            todo.extend(service.requires.iter().cloned());
        }
    }
    out
}

/// Service stop set: the names plus, transitively, what requires them.
fn with_dependents(plan: &Plan, names: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = names.to_vec();
    while let Some(name) = todo.pop() {
        if out.insert(name.clone()) {
            for (other, service) in &plan.services {
                if service.requires.contains(&name) {
                    todo.push(other.clone());
                }
            }
        }
    }
    out
}

/// Check infos follow the plan at once (spec §7.1): new checks start (`up`), or are `inactive`
/// when `startup: disabled`; checks gone from the plan are dropped.
fn sync_checks(container: &mut Container) {
    let plan = container.layers.plan().clone();
    container
        .check_infos
        .retain(|name, _| plan.checks.contains_key(name));
    for (name, check) in &plan.checks {
        let threshold = u64::try_from(check.threshold_or_default()).unwrap_or(3);
        let info = container
            .check_infos
            .entry(name.clone())
            .or_insert_with(|| Container::check_up(name, threshold));
        info.level = check.level.clone();
        info.threshold = threshold;
        info.startup = check.startup.clone().unwrap_or(Startup::Enabled);
        if info.startup == Startup::Disabled && info.change_id.is_none() {
            info.status = CheckStatus::Inactive;
        }
    }
}

impl PebbleApi for FakePebble {
    fn system_info(&self) -> Result<SystemInfo, Error> {
        self.reach()?;
        Ok(SystemInfo {
            boot_id: "00000000-0000-4000-8000-00000000b007".into(),
            version: "v1.32.1".into(),
            http_address: None,
            https_address: None,
        })
    }

    fn get_plan(&self) -> Result<Plan, Error> {
        Ok(self.reach()?.layers.plan().clone())
    }

    fn add_layer(&self, label: &str, layer: &Layer, combine: bool) -> Result<(), Error> {
        let mut container = self.reach()?;
        if label.is_empty() {
            return Err(bad_request("label must be set"));
        }
        // The layer goes over the wire as YAML and Pebble parses it strictly: do the same.
        let yaml = layer
            .to_yaml()
            .map_err(|e| Error::Protocol(format!("cannot write the layer: {e}")))?;
        let parsed = Layer::parse(label, &yaml, &["workloads"])
            .map_err(|e| bad_request(format!("cannot parse layer YAML: {e}")))?;
        container
            .layers
            .add(label, parsed, combine, false)
            .map_err(|e| api(e.status_code(), None, e.to_string()))?;
        sync_checks(&mut container);
        Ok(())
    }

    fn get_services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, Error> {
        let container = self.reach()?;
        Ok(container
            .services()
            .into_iter()
            .filter(|s| names.is_empty() || names.contains(&s.name.as_str()))
            .collect())
    }

    fn services(&self, action: ServicesAction, names: &[&str]) -> Result<(), Error> {
        let mut container = self.reach()?;
        let plan = container.layers.plan().clone();
        let word = action.as_str().to_string();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let named = matches!(
            action,
            ServicesAction::Start | ServicesAction::Stop | ServicesAction::Restart
        );
        if named && names.is_empty() {
            return Err(bad_request(format!(
                "must specify services for {word} action"
            )));
        }
        if !named && !names.is_empty() {
            return Err(bad_request(format!("{word} accepts no service names")));
        }
        if let Some(unknown) = names.iter().find(|n| !plan.services.contains_key(*n)) {
            return Err(bad_request(format!(
                "cannot {word} services: service \"{unknown}\" does not exist"
            )));
        }
        let enabled: Vec<String> = plan
            .services
            .iter()
            .filter(|(_, s)| s.startup == Some(Startup::Enabled))
            .map(|(n, _)| n.clone())
            .collect();
        let (start, stop) = match action {
            ServicesAction::Start | ServicesAction::Restart => {
                (with_requires(&plan, &names), BTreeSet::new())
            }
            ServicesAction::Stop => (BTreeSet::new(), with_dependents(&plan, &names)),
            ServicesAction::Replan => (with_requires(&plan, &enabled), BTreeSet::new()),
            ServicesAction::Autostart => {
                if enabled.is_empty() {
                    return Err(api(
                        400,
                        Some(ErrorKind::NoDefaultServices),
                        "no default services",
                    ));
                }
                (with_requires(&plan, &enabled), BTreeSet::new())
            }
            other => return Err(bad_request(format!("invalid action {:?}", other.as_str()))),
        };
        for name in stop {
            container
                .service_statuses
                .insert(name, ServiceStatus::Inactive);
        }
        for name in start {
            container
                .service_statuses
                .insert(name, ServiceStatus::Active);
        }
        if action == ServicesAction::Replan {
            // Replan also starts every check that is not `startup: disabled`.
            for info in container.check_infos.values_mut() {
                if info.startup != Startup::Disabled && info.status == CheckStatus::Inactive {
                    info.status = CheckStatus::Up;
                }
            }
        }
        Ok(())
    }

    fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), Error> {
        let container = self.reach()?;
        if services.is_empty() {
            return Err(bad_request("must specify one or more services"));
        }
        let mut problems = Vec::new();
        for service in services {
            if !SIGNALS.contains(&signal) {
                problems.push(format!(
                    "cannot send signal to \"{service}\": invalid signal name \"{signal}\""
                ));
            } else if container.service(service) != ServiceStatus::Active
                || !container.plan().services.contains_key(*service)
            {
                problems.push(format!(
                    "cannot send signal to \"{service}\": service is not running"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(api(500, None, problems.join("; ")))
        }
    }

    fn push(&self, path: &str, content: &mut dyn Read, options: &PushOptions) -> Result<(), Error> {
        let mut container = self.reach()?;
        let clean = absolute(path)?;
        check_owner(&options.ownership)
            .map_err(|m| path_error(path, ErrorKind::GenericFileError, m))?;
        let mut bytes = Vec::new();
        content
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(Error::Local)?;
        if bytes.len() as u64 > MAX_FILE {
            return Err(Error::TooLarge {
                what: "a pushed file",
                limit: MAX_FILE,
            });
        }
        if container.fs.get(&clean).is_some_and(FsEntry::is_dir) {
            return Err(path_error(
                path,
                ErrorKind::GenericFileError,
                format!("open {clean}: is a directory"),
            ));
        }
        let parent = parent_of(&clean);
        if options.make_dirs {
            make_parents(&mut container, &parent, &options.ownership, path)?;
        } else {
            require_dir(&container, &parent, &format!("open {clean}"), path)?;
        }
        let mut entry = owned(FsEntry::file(bytes), &options.ownership);
        entry.permissions = options
            .ownership
            .permissions
            .map(Permissions::mode)
            .unwrap_or(0o644);
        container.fs.insert(clean, entry);
        Ok(())
    }

    fn pull(&self, path: &str) -> Result<Vec<u8>, Error> {
        let container = self.reach()?;
        let clean = absolute(path)?;
        match container.fs.get(&clean) {
            Some(FsEntry {
                content: Some(bytes),
                ..
            }) => Ok(bytes.clone()),
            Some(_) => Err(path_error(
                path,
                ErrorKind::GenericFileError,
                format!("can only read a regular file: {clean:?}"),
            )),
            None if clean == "/" => Err(path_error(
                path,
                ErrorKind::GenericFileError,
                "can only read a regular file: \"/\"",
            )),
            None => Err(path_error(
                path,
                ErrorKind::NotFound,
                format!("stat {clean}: no such file or directory"),
            )),
        }
    }

    fn pull_to(&self, path: &str, out: &mut dyn Write) -> Result<u64, Error> {
        let bytes = self.pull(path)?;
        out.write_all(&bytes).map_err(Error::Local)?;
        Ok(bytes.len() as u64)
    }

    fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, Error> {
        let container = self.reach()?;
        let clean = normalize(path)
            .ok_or_else(|| bad_request(format!("path must be absolute, got {path:?}")))?;
        let is_dir = clean == "/" || container.fs.get(&clean).is_some_and(FsEntry::is_dir);
        if clean != "/" && !container.fs.contains_key(&clean) {
            return Err(api(
                404,
                Some(ErrorKind::NotFound),
                format!("stat {clean}: no such file or directory"),
            ));
        }
        let info = |p: &str| file_info(&container, p);
        if itself || !is_dir {
            return Ok(vec![info(&clean)]);
        }
        let prefix = if clean == "/" {
            "/".to_string()
        } else {
            format!("{clean}/")
        };
        let mut out = Vec::new();
        for p in container.fs.keys() {
            let Some(rest) = p.strip_prefix(&prefix) else {
                continue;
            };
            if rest.is_empty() || rest.contains('/') {
                continue;
            }
            if let Some(pattern) = pattern.filter(|p| !p.is_empty()) {
                match glob(pattern.as_bytes(), rest.as_bytes()) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => {
                        return Err(api(
                            400,
                            Some(ErrorKind::GenericFileError),
                            "syntax error in pattern",
                        ));
                    }
                }
            }
            out.push(info(p));
        }
        Ok(out)
    }

    fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), Error> {
        let mut container = self.reach()?;
        let clean = absolute(path)?;
        check_owner(&options.ownership)
            .map_err(|m| path_error(path, ErrorKind::GenericFileError, m))?;
        if options.make_parents {
            return make_parents(&mut container, &clean, &options.ownership, path);
        }
        match container.fs.get(&clean) {
            _ if clean == "/" => Err(path_error(
                path,
                ErrorKind::GenericFileError,
                "mkdir /: file exists",
            )),
            Some(_) => Err(path_error(
                path,
                ErrorKind::GenericFileError,
                format!("mkdir {clean}: file exists"),
            )),
            None => {
                require_dir(
                    &container,
                    &parent_of(&clean),
                    &format!("mkdir {clean}"),
                    path,
                )?;
                let mut entry = owned(FsEntry::dir(), &options.ownership);
                if let Some(p) = options.ownership.permissions {
                    entry.permissions = p.mode();
                }
                container.fs.insert(clean, entry);
                Ok(())
            }
        }
    }

    fn remove_path(&self, path: &str, recursive: bool) -> Result<(), Error> {
        let mut container = self.reach()?;
        let clean = absolute(path)?;
        let prefix = format!("{}/", clean.trim_end_matches('/'));
        let has_children = container.fs.keys().any(|p| p.starts_with(&prefix));
        if recursive {
            container
                .fs
                .retain(|p, _| *p != clean && !p.starts_with(&prefix));
            return Ok(());
        }
        if !container.fs.contains_key(&clean) {
            return Err(path_error(
                path,
                ErrorKind::NotFound,
                format!("remove {clean}: no such file or directory"),
            ));
        }
        if has_children {
            return Err(path_error(
                path,
                ErrorKind::GenericFileError,
                format!("remove {clean}: directory not empty"),
            ));
        }
        container.fs.remove(&clean);
        Ok(())
    }

    fn exec(&self, request: &ExecRequest, stdin: &[u8]) -> Result<ExecOutput, Error> {
        let container = self.reach()?;
        let Some(program) = request.command.first() else {
            return Err(bad_request("must specify command"));
        };
        if let Some(service) = &request.service_context
            && !container.plan().services.contains_key(service)
        {
            return Err(bad_request(format!(
                "context service \"{service}\" not found"
            )));
        }
        if (request.group.is_some() || request.group_id.is_some())
            && request.user.is_none()
            && request.user_id.is_none()
        {
            return Err(bad_request("must specify user, not just group"));
        }
        let handler = container
            .execs
            .iter()
            .filter(|h| request.command.starts_with(&h.prefix))
            .max_by_key(|h| h.prefix.len())
            .cloned();
        let Some(handler) = handler else {
            return Err(bad_request(format!(
                "cannot find executable {program:?} (no exec handler of the test matches {:?})",
                request.command
            )));
        };
        if let Some(dir) = &request.working_dir {
            let clean = normalize(dir).unwrap_or_default();
            if clean != "/" && !container.fs.get(&clean).is_some_and(FsEntry::is_dir) {
                return Err(api(
                    500,
                    None,
                    format!("cannot call exec: working directory {dir:?} does not exist"),
                ));
            }
        }
        self.history.borrow_mut().push(ExecCall {
            command: request.command.clone(),
            environment: request.environment.clone(),
            working_dir: request.working_dir.clone(),
            stdin: stdin.to_vec(),
            request: request.clone(),
        });
        if handler.times_out {
            let after = request
                .timeout
                .map_or_else(|| "5m0s".to_string(), |t| t.to_string());
            let summary = format!("Execute command {program:?}");
            let err = format!(
                "cannot perform the following tasks:\n- {summary} (timed out after {after}: context deadline exceeded)"
            );
            return Err(Error::Change(ChangeError {
                err: err.clone(),
                change: Box::new(Change {
                    id: "1".into(),
                    kind: "exec".into(),
                    summary,
                    status: ChangeStatus::Error,
                    tasks: Vec::new(),
                    ready: true,
                    err: Some(err),
                    spawn_time: NOTICE_TIME.into(),
                    ready_time: Some(NOTICE_TIME.into()),
                    data: serde_json::Map::new(),
                }),
            }));
        }
        let (mut stdout, mut stderr) = (handler.stdout, handler.stderr);
        if !request.split_stderr {
            stdout.append(&mut stderr);
        }
        if handler.exit_code != 0 {
            return Err(Error::Exec(ExecError {
                command: request.command.clone(),
                exit_code: handler.exit_code,
                stdout,
                stderr,
            }));
        }
        Ok(ExecOutput { stdout, stderr })
    }

    fn get_checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, Error> {
        let container = self.reach()?;
        Ok(container
            .check_infos
            .values()
            .filter(|c| names.is_empty() || names.contains(&c.name.as_str()))
            .filter(|c| match (&level, &c.level) {
                (None, _) => true,
                // As Pebble: asking for `ready` also gives `alive` checks.
                (Some(CheckLevel::Ready), Some(CheckLevel::Alive)) => true,
                (Some(want), Some(have)) => want == have,
                (Some(_), None) => false,
            })
            .cloned()
            .collect())
    }

    fn checks(&self, start: bool, names: &[&str]) -> Result<Vec<String>, Error> {
        let mut container = self.reach()?;
        let word = if start { "start" } else { "stop" };
        if names.is_empty() {
            return Err(bad_request(format!(
                "must specify checks for {word} action"
            )));
        }
        let plan = container.layers.plan().clone();
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !plan.checks.contains_key(*n))
            .collect();
        if !missing.is_empty() {
            return Err(bad_request(format!(
                "cannot {word} checks: cannot find checks in plan: {}",
                missing.join(", ")
            )));
        }
        let mut changed = Vec::new();
        for name in names {
            let Some(info) = container.check_infos.get_mut(*name) else {
                continue;
            };
            let active = info.status != CheckStatus::Inactive;
            if start && !active {
                info.status = CheckStatus::Up;
                info.failures = 0;
                info.successes = Some(0);
                changed.push(name.to_string());
            } else if !start && active {
                info.status = CheckStatus::Inactive;
                changed.push(name.to_string());
            }
        }
        changed.sort();
        changed.dedup();
        Ok(changed)
    }

    fn get_notices(&self, filter: &NoticesFilter) -> Result<Vec<Notice>, Error> {
        let container = self.reach()?;
        let mut out: Vec<Notice> = container
            .notices
            .iter()
            .filter(|n| filter.types.is_empty() || filter.types.contains(&n.notice_type))
            .filter(|n| filter.keys.is_empty() || filter.keys.contains(&n.key))
            .filter(|n| filter.after.as_ref().is_none_or(|a| n.last_repeated > *a))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.last_repeated.cmp(&b.last_repeated));
        Ok(out)
    }

    fn get_notice(&self, id: &str) -> Result<Notice, Error> {
        let container = self.reach()?;
        container
            .notices
            .iter()
            .find(|n| n.id == id)
            .cloned()
            .ok_or_else(|| api(404, None, format!("cannot find notice with ID \"{id}\"")))
    }

    fn notify(
        &self,
        key: &str,
        data: &BTreeMap<String, String>,
        repeat_after: Option<Duration>,
    ) -> Result<String, Error> {
        let mut container = self.reach()?;
        if !valid_notice_key(key) {
            return Err(bad_request(format!(
                "invalid key \"{key}\" (must be in \"example.com/path\" format)"
            )));
        }
        if let Some(n) = container
            .notices
            .iter_mut()
            .find(|n| n.notice_type == NoticeType::Custom && n.key == key)
        {
            n.occurrences += 1;
            n.last_data = data.clone();
            n.repeat_after = repeat_after.map(Into::into);
            return Ok(n.id.clone());
        }
        let id = (container.notices.len() + 1).to_string();
        container.notices.push(Notice {
            id: id.clone(),
            user_id: Some(0),
            notice_type: NoticeType::Custom,
            key: key.to_string(),
            first_occurred: NOTICE_TIME.into(),
            last_occurred: NOTICE_TIME.into(),
            last_repeated: NOTICE_TIME.into(),
            occurrences: 1,
            last_data: data.clone(),
            repeat_after: repeat_after.map(Into::into),
            expire_after: None,
        });
        Ok(id)
    }
}

/// Pebble's custom-notice key rule: `domain.tld/path`, lowercase, at most 256 bytes.
fn valid_notice_key(key: &str) -> bool {
    fn segment(s: &str) -> bool {
        !s.is_empty()
            && s.split('-').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    }
    if key.len() > 256 {
        return false;
    }
    let Some((domain, path)) = key.split_once('/') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2 && labels.iter().all(|l| segment(l)) && path.split('/').all(segment)
}

/// Parents of `dir` and `dir` itself made as directories (`make-dirs`/`make-parents`); a file
/// on the way is `not a directory`.
fn make_parents(
    container: &mut Container,
    dir: &str,
    ownership: &charm::pebble::types::Ownership,
    asked: &str,
) -> Result<(), Error> {
    let mut current = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        current.push('/');
        current.push_str(part);
        match container.fs.get(&current) {
            Some(e) if e.is_dir() => {}
            Some(_) => {
                return Err(path_error(
                    asked,
                    ErrorKind::GenericFileError,
                    format!("mkdir {current}: not a directory"),
                ));
            }
            None => {
                let mut entry = owned(FsEntry::dir(), ownership);
                if current == dir
                    && let Some(p) = ownership.permissions
                    && asked.trim_end_matches('/') == dir
                {
                    entry.permissions = p.mode();
                }
                container.fs.insert(current.clone(), entry);
            }
        }
    }
    Ok(())
}

/// The parent `dir` exists and is a directory, else the OS error Pebble passes on.
fn require_dir(container: &Container, dir: &str, op: &str, asked: &str) -> Result<(), Error> {
    if dir == "/" {
        return Ok(());
    }
    match container.fs.get(dir) {
        Some(e) if e.is_dir() => Ok(()),
        Some(_) => Err(path_error(
            asked,
            ErrorKind::GenericFileError,
            format!("{op}: not a directory"),
        )),
        None => Err(path_error(
            asked,
            ErrorKind::NotFound,
            format!("{op}: no such file or directory"),
        )),
    }
}

fn file_info(container: &Container, path: &str) -> FileInfo {
    let root = FsEntry::dir();
    let entry = container.fs.get(path).unwrap_or(&root);
    let value = serde_json::json!({
        "path": path,
        "name": if path == "/" { "/" } else { name_of(path) },
        "type": if entry.is_dir() { FileType::Directory.as_str() } else { FileType::File.as_str() },
        "size": entry.content.as_ref().map(Vec::len),
        "permissions": format!("{:03o}", entry.permissions),
        "last-modified": "2026-01-01T00:00:00Z",
        "user-id": entry.user_id,
        "user": entry.user.clone().unwrap_or_default(),
        "group-id": entry.group_id,
        "group": entry.group.clone().unwrap_or_default(),
    });
    // The JSON is built from our own values; a failure would be a bug in this file.
    serde_json::from_value(value).unwrap_or_else(|e| {
        #[allow(clippy::panic)]
        {
            panic!("file info: {e}")
        }
    })
}

#[cfg(test)]
#[path = "pebble_test.rs"]
mod tests;
