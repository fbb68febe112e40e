//! The real backend: runs Juju's hook tools as processes, with ops' argv made option-proof.
//!
//! Argv rules (every call, whatever the caller passes):
//! - a caller-provided value that goes with a flag is written `--flag=value`, so it is always
//!   that flag's value;
//! - positional values (secret ids, keys, messages, endpoint and binding names, ports) come
//!   after `--`, so none can be read as an option, whatever it starts with;
//! - no argument is longer than Linux accepts: a value that does not fit is a typed
//!   [`HookToolError::TooLong`], found before anything is spawned (`E2BIG` never surfaces);
//! - each tool runs through [`charm_exec::Exec`]: its own process group, killed after a
//!   timeout, stdout and stderr captured within bounds.

use super::{BagData, HookToolError, HookTools, LogLevel, ToolName};
use crate::app_status::AppStatusReport;
use crate::cloud::CloudSpec;
use crate::event::RelationId;
use crate::goal_state::GoalState;
use crate::network::Network;
use crate::port::Port;
use crate::secret::{
    NewSecret, RotatePolicy, SecretContent, SecretId, SecretInfo, SecretOwner, SecretRead,
    SecretUpdate,
};
use crate::status::{Status, StatusKind};
use crate::storage::{StorageId, StorageInfo, valid_storage_name};
use charm_exec::{Exec, ExecError};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest `juju-log` message argument, in bytes: Linux's `MAX_ARG_STRLEN` less its NUL
/// (ops splits at 131071 *characters*, which multi-byte text can push past the kernel's limit).
pub const MAX_LOG_LINE: usize = charm_exec::MAX_ARG_STRLEN - 1;
/// How long a hook tool may take before its process group is killed and the call fails.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(300);
/// Most stdout kept from a hook tool (a bag, a secret's content, the config); more is an error.
pub const MAX_TOOL_STDOUT: usize = 64 * 1024 * 1024;
/// Most stderr kept from a hook tool for error messages.
pub const MAX_TOOL_STDERR: usize = 16 * 1024;

/// How many hook tools a dispatch ran, and how long they took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolStats {
    /// Number of hook-tool processes run.
    pub calls: u32,
    /// Wall time spent waiting for them.
    pub time: Duration,
}

/// Runs hook tools found on `PATH` (or in one directory), as Juju installs them.
///
/// Clones share their call statistics, so the logger's `juju-log` calls count too.
#[derive(Debug, Clone)]
pub struct ProcessBackend {
    app: String,
    tools_dir: Option<PathBuf>,
    timeout: Duration,
    stats: Arc<Mutex<ToolStats>>,
}

impl ProcessBackend {
    /// A backend for a unit of application `app` (used to tell a real "permission denied").
    pub fn new(app: impl Into<String>) -> Self {
        ProcessBackend {
            app: app.into(),
            tools_dir: None,
            timeout: DEFAULT_TOOL_TIMEOUT,
            stats: Arc::default(),
        }
    }

    /// Runs the tools from `dir` instead of looking them up on `PATH`.
    pub fn with_tools_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tools_dir = Some(dir.into());
        self
    }

    /// Kills a hook tool (its whole process group) that runs longer than `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Calls made so far (by this backend and its clones).
    pub fn stats(&self) -> ToolStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    fn run(
        &mut self,
        tool: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
        authz: bool,
    ) -> Result<String, HookToolError> {
        let start = Instant::now();
        let result = self.run_uncounted(tool, args, stdin, authz);
        if let Ok(mut stats) = self.stats.lock() {
            stats.calls += 1;
            stats.time += start.elapsed();
        }
        result
    }

    fn run_uncounted(
        &self,
        tool: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
        authz: bool,
    ) -> Result<String, HookToolError> {
        let program = match &self.tools_dir {
            Some(dir) => dir.join(tool),
            None => PathBuf::from(tool),
        };
        let mut exec = Exec::new(&program)
            .args(args.iter().copied())
            .timeout(self.timeout)
            .stdout_limit(MAX_TOOL_STDOUT)
            .stderr_limit(MAX_TOOL_STDERR);
        if let Some(data) = stdin {
            exec = exec.stdin(data);
        }
        let tool_s = || tool.to_string();
        let out = exec.run().map_err(|e| match e {
            ExecError::ArgumentTooLong { .. } | ExecError::ArgumentListTooLong { .. } => {
                HookToolError::TooLong {
                    tool: tool_s(),
                    detail: e.to_string(),
                }
            }
            ExecError::TimedOut { .. } => HookToolError::TimedOut {
                tool: tool_s(),
                detail: e.to_string(),
            },
            ExecError::Spawn { source, .. } | ExecError::Wait { source, .. } => {
                HookToolError::Spawn {
                    tool: tool_s(),
                    detail: source.to_string(),
                }
            }
        })?;
        let stderr = out.stderr.text();
        match out.status.code() {
            Some(0) if out.stdout.truncated() => Err(HookToolError::BadOutput {
                tool: tool_s(),
                detail: format!(
                    "it printed {} bytes, more than the {MAX_TOOL_STDOUT} read",
                    out.stdout.total
                ),
            }),
            Some(0) => String::from_utf8(out.stdout.bytes).map_err(|_| HookToolError::BadOutput {
                tool: tool_s(),
                detail: "stdout is not UTF-8".into(),
            }),
            Some(code) => Err(HookToolError::classify(tool, code, &stderr, authz)),
            None => Err(HookToolError::Spawn {
                tool: tool_s(),
                detail: "killed by a signal".into(),
            }),
        }
    }

    /// `secret-grant` and `secret-revoke` take the same arguments.
    fn grant_or_revoke(
        &mut self,
        tool: &str,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), HookToolError> {
        let mut args = vec![format!("--relation={}", relation.id)];
        push_opt(&mut args, "--unit", unit);
        args.extend(["--".to_string(), id.uri()]);
        self.run(tool, &strs(&args), None, false)?;
        Ok(())
    }

    fn json<T: DeserializeOwned>(
        &mut self,
        tool: &str,
        args: &[&str],
        authz: bool,
    ) -> Result<T, HookToolError> {
        let out = self.run(tool, args, None, authz)?;
        parse_json(tool, &out)
    }
}

fn parse_json<T: DeserializeOwned>(tool: &str, out: &str) -> Result<T, HookToolError> {
    serde_json::from_str(out).map_err(|e| HookToolError::BadOutput {
        tool: tool.to_string(),
        detail: format!("{e}: {}", excerpt(out)),
    })
}

fn excerpt(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() > 80 {
        let cut: String = trimmed.chars().take(80).collect();
        format!("{cut:?}...")
    } else {
        format!("{trimmed:?}")
    }
}

fn rel_ref(relation: &RelationId) -> String {
    relation.to_string()
}

fn bool_word(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn split_at_bytes(text: &str, max: usize) -> (&str, &str) {
    if text.len() <= max {
        return (text, "");
    }
    let mut cut = max;
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if cut == 0 {
        // Never an empty line: at least one whole character.
        cut = text.chars().next().map_or(text.len(), char::len_utf8);
    }
    text.split_at(cut)
}

/// A private directory holding one file per secret value, removed when dropped (on every exit
/// path of the call that made it), so that secret content never appears in a process's argv.
///
/// The directory has an unpredictable name (128 random bits) and is created exclusively with mode
/// 0700; each file in it is created exclusively with mode 0600. Another user can neither guess the
/// path in advance (to squat on it or plant a link) nor read the files.
struct SecretFiles {
    dir: PathBuf,
    args: Vec<String>,
}

impl SecretFiles {
    fn write(tool: &str, content: &SecretContent) -> Result<SecretFiles, HookToolError> {
        use std::os::unix::fs::OpenOptionsExt;
        let err = |e: std::io::Error| HookToolError::Spawn {
            tool: tool.to_string(),
            detail: format!("cannot write secret content file: {e}"),
        };
        if let Err(bad) = content.validate() {
            // Keys become file names: only Juju's key syntax (no `/`, no `..`) gets that far.
            return Err(HookToolError::Spawn {
                tool: tool.to_string(),
                detail: bad.to_string(),
            });
        }
        let dir = private_dir().map_err(err)?;
        let mut files = SecretFiles {
            dir,
            args: Vec::new(),
        };
        for (key, value) in content.iter() {
            let path = files.dir.join(key);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(err)?;
            file.write_all(value.as_bytes()).map_err(err)?;
            files.args.push(format!("{key}#file={}", path.display()));
        }
        Ok(files)
    }
}

/// Where secret content files go first: RAM (tmpfs), so the values never reach a disk, and a
/// directory and its files there cost about a fifth of what they cost on an ext4 `/tmp` (measured
/// here: 100 us against 500-600 us of CPU for a directory with two files, made and removed once
/// in a fresh process). Where it is missing or not writable, the system's temporary directory.
const RAM_DIR: &str = "/dev/shm";

/// Makes a fresh private directory (mode 0700, 128 random bits in its name) in [`RAM_DIR`], or
/// else in the system's temporary directory.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    /// Fresh names to try when one is taken (with 128 random bits, only by an attacker who can
    /// read this process's memory).
    const ATTEMPTS: usize = 4;
    let mut last = None;
    for root in [PathBuf::from(RAM_DIR), std::env::temp_dir()] {
        for _ in 0..ATTEMPTS {
            let dir = root.join(format!("charm-secret-{}", unpredictable_name()));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                // Not there, not writable, read-only: the next root.
                Err(e) => {
                    last = Some(e);
                    break;
                }
            }
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no directory for secret files")))
}

impl Drop for SecretFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// 128 unpredictable bits in hex, from the OS's random generator.
fn unpredictable_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_err() {
        // std seeds every `RandomState` from the OS's generator too (SipHash keys).
        static SALT: AtomicU32 = AtomicU32::new(0);
        for half in bytes.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u32(SALT.fetch_add(1, Ordering::Relaxed));
            half.copy_from_slice(&hasher.finish().to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adds `--flag=value`: one argument, so the value can never be taken for another option.
fn push_opt(args: &mut Vec<String>, flag: &str, value: Option<&str>) {
    if let Some(v) = value {
        args.push(format!("{flag}={v}"));
    }
}

impl HookTools for ProcessBackend {
    fn relation_ids(&mut self, endpoint: &str) -> Result<Vec<RelationId>, HookToolError> {
        let tool = "relation-ids";
        let ids: Option<Vec<String>> =
            self.json(tool, &["--format=json", "--", endpoint], false)?;
        ids.unwrap_or_default()
            .iter()
            .map(|raw| {
                raw.rsplit(':')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .map(|id| RelationId::new(endpoint, id))
                    .ok_or_else(|| HookToolError::BadOutput {
                        tool: tool.into(),
                        detail: format!("bad relation id {}", excerpt(raw)),
                    })
            })
            .collect()
    }

    fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<String>, HookToolError> {
        let r = rel_ref(relation);
        let units: Option<Vec<String>> =
            self.json("relation-list", &["--format=json", "-r", &r], false)?;
        Ok(units.unwrap_or_default())
    }

    fn relation_remote_app(
        &mut self,
        relation: &RelationId,
    ) -> Result<Option<String>, HookToolError> {
        let r = rel_ref(relation);
        let app: Option<String> = self.json(
            "relation-list",
            &["--format=json", "--app", "-r", &r],
            false,
        )?;
        Ok(app.filter(|a| !a.is_empty()))
    }

    fn relation_get(
        &mut self,
        relation: &RelationId,
        owner: &str,
        app: bool,
    ) -> Result<BagData, HookToolError> {
        let r = rel_ref(relation);
        let mut args = vec!["--format=json", "-r", &r];
        if app {
            args.push("--app");
        }
        args.extend(["--", "-", owner]);
        // A follower reading its own app bag gets a real "permission denied".
        let authz = app && owner == self.app;
        let bag: Option<BagData> = self.json("relation-get", &args, authz)?;
        Ok(bag.unwrap_or_default())
    }

    fn relation_set(
        &mut self,
        relation: &RelationId,
        app: bool,
        changes: &BagData,
    ) -> Result<(), HookToolError> {
        if changes.is_empty() {
            return Ok(());
        }
        let r = rel_ref(relation);
        let mut args = vec!["-r", &r];
        if app {
            args.push("--app");
        }
        args.extend(["--file", "-"]);
        let body = serde_json::to_vec(changes).map_err(|e| HookToolError::Spawn {
            tool: "relation-set".into(),
            detail: e.to_string(),
        })?;
        self.run("relation-set", &args, Some(&body), app)?;
        Ok(())
    }

    fn relation_model_get(&mut self, relation: &RelationId) -> Result<String, HookToolError> {
        #[derive(serde::Deserialize)]
        struct Out {
            uuid: String,
        }
        let r = rel_ref(relation);
        let out: Out = self.json("relation-model-get", &["--format=json", "-r", &r], false)?;
        Ok(out.uuid)
    }

    fn config_get(&mut self) -> Result<serde_json::Map<String, serde_json::Value>, HookToolError> {
        let config: Option<serde_json::Map<String, serde_json::Value>> =
            self.json("config-get", &["--format=json"], false)?;
        Ok(config.unwrap_or_default())
    }

    fn is_leader(&mut self) -> Result<bool, HookToolError> {
        self.json("is-leader", &["--format=json"], false)
    }

    fn status_get(&mut self, app: bool) -> Result<Status, HookToolError> {
        let tool = "status-get";
        let flag = format!("--application={}", bool_word(app));
        let value: serde_json::Value =
            self.json(tool, &["--include-data", "--format=json", &flag], false)?;
        let inner = if app {
            value
                .get("application-status")
                .unwrap_or(&serde_json::Value::Null)
        } else {
            &value
        };
        let bad = |detail: &str| HookToolError::BadOutput {
            tool: tool.into(),
            detail: detail.to_string(),
        };
        let kind = inner
            .get("status")
            .and_then(|s| s.as_str())
            .ok_or_else(|| bad("no \"status\" field"))?;
        Ok(Status {
            kind: StatusKind::parse(kind).ok_or_else(|| bad("unknown status word"))?,
            message: inner
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_string(),
        })
    }

    fn status_set(&mut self, app: bool, status: &Status) -> Result<(), HookToolError> {
        let flag = format!("--application={}", bool_word(app));
        let mut args = vec![flag.as_str(), status.kind.as_str()];
        if !status.message.is_empty() {
            args.extend(["--", status.message.as_str()]);
        }
        self.run("status-set", &args, None, false)?;
        Ok(())
    }

    fn application_version_set(&mut self, version: &str) -> Result<(), HookToolError> {
        self.run("application-version-set", &["--", version], None, false)?;
        Ok(())
    }

    fn juju_log(&mut self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
        let mut rest = message;
        loop {
            let (line, tail) = split_at_bytes(rest, MAX_LOG_LINE);
            self.run(
                "juju-log",
                &["--log-level", level.as_str(), "--", line],
                None,
                false,
            )?;
            if tail.is_empty() {
                return Ok(());
            }
            rest = tail;
        }
    }

    fn action_get(&mut self) -> Result<serde_json::Value, HookToolError> {
        let params: Option<serde_json::Value> =
            self.json("action-get", &["--format=json"], false)?;
        Ok(params.unwrap_or_else(|| serde_json::Value::Object(Default::default())))
    }

    fn action_set(&mut self, results: &BTreeMap<String, String>) -> Result<(), HookToolError> {
        if results.is_empty() {
            return Ok(());
        }
        let mut args = vec!["--".to_string()];
        args.extend(results.iter().map(|(k, v)| format!("{k}={v}")));
        self.run("action-set", &strs(&args), None, false)?;
        Ok(())
    }

    fn action_log(&mut self, message: &str) -> Result<(), HookToolError> {
        self.run("action-log", &["--", message], None, false)?;
        Ok(())
    }

    fn action_fail(&mut self, message: &str) -> Result<(), HookToolError> {
        self.run("action-fail", &["--", message], None, false)?;
        Ok(())
    }

    fn state_get(&mut self) -> Result<BTreeMap<String, String>, HookToolError> {
        let state: Option<BTreeMap<String, String>> =
            self.json("state-get", &["--format=json"], false)?;
        Ok(state.unwrap_or_default())
    }

    fn state_set(&mut self, data: &BTreeMap<String, String>) -> Result<(), HookToolError> {
        let body = serde_json::to_vec(data).map_err(|e| HookToolError::Spawn {
            tool: "state-set".into(),
            detail: e.to_string(),
        })?;
        self.run("state-set", &["--file", "-"], Some(&body), false)?;
        Ok(())
    }

    fn state_delete(&mut self, key: &str) -> Result<(), HookToolError> {
        self.run("state-delete", &["--", key], None, false)?;
        Ok(())
    }

    fn secret_add(&mut self, secret: &NewSecret) -> Result<SecretId, HookToolError> {
        let tool = "secret-add";
        let files = SecretFiles::write(tool, &secret.content)?;
        let mut args: Vec<String> = Vec::new();
        push_opt(&mut args, "--label", secret.label.as_deref());
        push_opt(&mut args, "--description", secret.description.as_deref());
        push_opt(&mut args, "--expire", secret.expire.as_deref());
        push_opt(
            &mut args,
            "--rotate",
            secret.rotate.map(RotatePolicy::as_str),
        );
        push_opt(&mut args, "--owner", Some(secret.owner.as_str()));
        args.push("--".to_string());
        args.extend(files.args.iter().cloned());
        let out = self.run(tool, &strs(&args), None, false)?;
        SecretId::parse(out.trim()).map_err(|e| HookToolError::BadOutput {
            tool: tool.into(),
            detail: format!("expected a secret URI: {e}"),
        })
    }

    fn secret_get(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
        read: SecretRead,
    ) -> Result<SecretContent, HookToolError> {
        let mut args = vec!["--format=json".to_string()];
        push_opt(&mut args, "--label", label);
        match read {
            SecretRead::Tracked => {}
            SecretRead::Peek => args.push("--peek".into()),
            SecretRead::Refresh => args.push("--refresh".into()),
        }
        if let Some(id) = id {
            args.extend(["--".to_string(), id.uri()]);
        }
        let content: BTreeMap<String, String> = self.json("secret-get", &strs(&args), false)?;
        Ok(SecretContent::from(content))
    }

    fn secret_info_get(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
    ) -> Result<SecretInfo, HookToolError> {
        let tool = "secret-info-get";
        let mut args = vec!["--format=json".to_string()];
        match (id, label) {
            (Some(id), _) => args.extend(["--".to_string(), id.uri()]),
            (None, label) => push_opt(&mut args, "--label", label),
        }
        let out: BTreeMap<String, RawInfo> = self.json(tool, &strs(&args), false)?;
        let (xid, raw) = out
            .into_iter()
            .next()
            .ok_or_else(|| HookToolError::BadOutput {
                tool: tool.into(),
                detail: "empty answer".into(),
            })?;
        let id = match id {
            Some(id) => id.clone(),
            None => SecretId::parse(&xid).map_err(|e| HookToolError::BadOutput {
                tool: tool.into(),
                detail: e.to_string(),
            })?,
        };
        raw.into_info(tool, id)
    }

    fn secret_set(&mut self, id: &SecretId, update: &SecretUpdate) -> Result<(), HookToolError> {
        let tool = "secret-set";
        let files = match &update.content {
            Some(content) => Some(SecretFiles::write(tool, content)?),
            None => None,
        };
        let mut args: Vec<String> = Vec::new();
        push_opt(&mut args, "--label", update.label.as_deref());
        push_opt(&mut args, "--description", update.description.as_deref());
        push_opt(&mut args, "--expire", update.expire.as_deref());
        push_opt(
            &mut args,
            "--rotate",
            update.rotate.map(RotatePolicy::as_str),
        );
        args.extend(["--".to_string(), id.uri()]);
        if let Some(files) = &files {
            args.extend(files.args.iter().cloned());
        }
        self.run(tool, &strs(&args), None, false)?;
        Ok(())
    }

    fn secret_grant(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), HookToolError> {
        self.grant_or_revoke("secret-grant", id, relation, unit)
    }

    fn secret_revoke(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), HookToolError> {
        self.grant_or_revoke("secret-revoke", id, relation, unit)
    }

    fn secret_remove(&mut self, id: &SecretId, revision: Option<u32>) -> Result<(), HookToolError> {
        let mut args: Vec<String> = Vec::new();
        push_opt(
            &mut args,
            "--revision",
            revision.map(|r| r.to_string()).as_deref(),
        );
        args.extend(["--".to_string(), id.uri()]);
        self.run("secret-remove", &strs(&args), None, false)?;
        Ok(())
    }

    fn secret_ids(&mut self) -> Result<Vec<SecretId>, HookToolError> {
        let tool = "secret-ids";
        let ids: Option<Vec<String>> = self.json(tool, &["--format=json"], false)?;
        ids.unwrap_or_default()
            .iter()
            .map(|raw| {
                SecretId::parse(raw).map_err(|e| HookToolError::BadOutput {
                    tool: tool.into(),
                    detail: e.to_string(),
                })
            })
            .collect()
    }

    fn open_port(&mut self, port: Port) -> Result<(), HookToolError> {
        self.run("open-port", &["--", &port.to_string()], None, false)?;
        Ok(())
    }

    fn close_port(&mut self, port: Port) -> Result<(), HookToolError> {
        self.run("close-port", &["--", &port.to_string()], None, false)?;
        Ok(())
    }

    fn opened_ports(&mut self) -> Result<Vec<Port>, HookToolError> {
        let tool = "opened-ports";
        let raw: Option<Vec<String>> = self.json(tool, &["--format=json"], false)?;
        raw.unwrap_or_default()
            .iter()
            .map(|entry| {
                // With --endpoints Juju appends " (ep1,ep2)"; we never pass it, but tolerate it.
                let text = entry.split(' ').next().unwrap_or(entry);
                Port::parse(text).ok_or_else(|| HookToolError::BadOutput {
                    tool: tool.into(),
                    detail: format!("bad port {}", excerpt(entry)),
                })
            })
            .collect()
    }

    fn goal_state(&mut self) -> Result<GoalState, HookToolError> {
        let tool = "goal-state";
        let out = self.run(tool, &["--format=json"], None, false)?;
        GoalState::from_json(&out).map_err(|detail| HookToolError::BadOutput {
            tool: tool.into(),
            detail,
        })
    }

    fn network_get(
        &mut self,
        binding: &str,
        relation: Option<&RelationId>,
    ) -> Result<Network, HookToolError> {
        let tool = "network-get";
        let r = relation.map(|r| r.id.to_string());
        let mut args = vec!["--format=json"];
        if let Some(r) = &r {
            args.extend(["-r", r]);
        }
        args.extend(["--", binding]);
        let out = self.run(tool, &args, None, false)?;
        Network::from_json(&out).map_err(|detail| HookToolError::BadOutput {
            tool: tool.into(),
            detail,
        })
    }

    fn run_tool(&mut self, tool: &ToolName, args: &[String]) -> Result<String, HookToolError> {
        self.run(tool.as_str(), &strs(args), None, false)
    }

    fn storage_get(&mut self, id: &StorageId) -> Result<StorageInfo, HookToolError> {
        let tool = "storage-get";
        // A StorageId can only hold a checked name, so `-s` gets a value that is no option.
        let id_s = checked_storage(tool, &id.name).map(|()| id.to_string())?;
        let out = self.run(tool, &["--format=json", "-s", &id_s], None, false)?;
        StorageInfo::from_json(id, &out).map_err(|detail| HookToolError::BadOutput {
            tool: tool.into(),
            detail,
        })
    }

    fn storage_list(&mut self, name: &str) -> Result<Vec<StorageId>, HookToolError> {
        let tool = "storage-list";
        checked_storage(tool, name)?;
        let ids: Option<Vec<String>> = self.json(tool, &["--format=json", "--", name], false)?;
        ids.unwrap_or_default()
            .iter()
            .map(|raw| {
                StorageId::parse(raw)
                    .filter(|id| id.name == name)
                    .ok_or_else(|| HookToolError::BadOutput {
                        tool: tool.into(),
                        detail: format!("bad storage id {}", excerpt(raw)),
                    })
            })
            .collect()
    }

    fn storage_add(&mut self, name: &str, count: u32) -> Result<(), HookToolError> {
        let tool = "storage-add";
        checked_storage(tool, name)?;
        if count == 0 {
            return Err(HookToolError::InvalidArgument {
                tool: tool.into(),
                detail: "the count must be at least 1".into(),
            });
        }
        self.run(tool, &["--", &format!("{name}={count}")], None, false)?;
        Ok(())
    }

    fn resource_get(&mut self, name: &str) -> Result<PathBuf, HookToolError> {
        let tool = "resource-get";
        checked_resource(tool, name)?;
        let out = self.run(tool, &["--", name], None, false)?;
        resource_path(tool, &out)
    }

    fn app_status_report(&mut self) -> Result<AppStatusReport, HookToolError> {
        let tool = "status-get";
        let args = ["--include-data", "--format=json", "--application=True"];
        // Only the leader may read it: a refusal is a real one.
        let out = self.run(tool, &args, None, true)?;
        AppStatusReport::from_json(&out).map_err(|detail| HookToolError::BadOutput {
            tool: tool.into(),
            detail,
        })
    }

    fn credential_get(&mut self) -> Result<CloudSpec, HookToolError> {
        let tool = "credential-get";
        let out = self.run(tool, &["--format=json"], None, true)?;
        CloudSpec::from_json(&out).map_err(|detail| HookToolError::BadOutput {
            tool: tool.into(),
            detail,
        })
    }

    fn juju_reboot(&mut self, now: bool) -> Result<(), HookToolError> {
        let args: &[&str] = if now { &["--now"] } else { &[] };
        self.run("juju-reboot", args, None, false)?;
        Ok(())
    }
}

/// Juju's resource names: printable, no whitespace, not an option.
fn checked_resource(tool: &str, name: &str) -> Result<(), HookToolError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_graphic() && c != '/');
    if ok {
        Ok(())
    } else {
        Err(HookToolError::InvalidArgument {
            tool: tool.into(),
            detail: format!("{} is not a resource name", excerpt(name)),
        })
    }
}

/// `resource-get`'s answer: one absolute path on one line.
fn resource_path(tool: &str, out: &str) -> Result<PathBuf, HookToolError> {
    let path = out.strip_suffix('\n').unwrap_or(out);
    if !path.starts_with('/') || path.contains(['\n', '\0']) {
        return Err(HookToolError::BadOutput {
            tool: tool.into(),
            detail: format!("expected an absolute path, got {}", excerpt(out)),
        });
    }
    Ok(PathBuf::from(path))
}

/// A storage name Juju accepts, else [`HookToolError::InvalidArgument`].
fn checked_storage(tool: &str, name: &str) -> Result<(), HookToolError> {
    if valid_storage_name(name) {
        Ok(())
    } else {
        Err(HookToolError::InvalidArgument {
            tool: tool.into(),
            detail: format!("{} is not a storage name", excerpt(name)),
        })
    }
}

/// One entry of `secret-info-get --format=json`.
#[derive(serde::Deserialize)]
struct RawInfo {
    revision: u32,
    label: Option<String>,
    owner: Option<String>,
    description: Option<String>,
    expiry: Option<String>,
    rotation: Option<String>,
    rotates: Option<String>,
}

impl RawInfo {
    fn into_info(self, tool: &str, id: SecretId) -> Result<SecretInfo, HookToolError> {
        let bad = |detail: String| HookToolError::BadOutput {
            tool: tool.into(),
            detail,
        };
        let owner = match self.owner.as_deref() {
            None | Some("application") => SecretOwner::Application,
            Some("unit") => SecretOwner::Unit,
            Some(other) => return Err(bad(format!("unknown owner {}", excerpt(other)))),
        };
        let rotation = match self.rotation.as_deref() {
            None | Some("") => None,
            Some(word) => Some(
                RotatePolicy::parse(word)
                    .ok_or_else(|| bad(format!("unknown rotation {}", excerpt(word))))?,
            ),
        };
        Ok(SecretInfo {
            id,
            revision: self.revision,
            label: self.label.filter(|l| !l.is_empty()),
            owner,
            description: self.description.filter(|d| !d.is_empty()),
            expiry: self.expiry,
            rotation,
            rotates: self.rotates,
        })
    }
}

#[cfg(test)]
#[path = "process_test.rs"]
mod tests;
