//! The microcluster CLI: `<command> bootstrap|add <name>|join <token>|list -f json|remove <name>`.
//!
//! Commands run through [`CommandRunner`], the one seam with the system: [`ProcessRunner`] runs
//! real programs through [`charm_exec`] (a timeout killing the command's whole process group,
//! bounded output, the token masked before the output is cut), tests pass a closure or a fake.
//! Output is parsed into types ([`Members`], [`Token`]); output that does not parse is a
//! [`CliError::BadOutput`], never a panic. A node name or token that could be read as an option
//! never reaches the command line: [`CliError::BadArgument`].

use crate::wire::{Token, check_node_name};
use charm::{Classify, Outcome};
use charm_exec::{Exec, ExecError};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::{Duration, Instant};

/// Most stdout kept from a CLI call (`list -f json` of a large cluster is a few KiB).
pub const MAX_STDOUT: usize = 1024 * 1024;
/// Most stderr kept from a CLI call, for messages.
pub const MAX_STDERR: usize = 16 * 1024;

/// What a finished command printed, and how it exited.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output (holds a token after `add`: never log it).
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CommandOutput {
    /// A successful run that printed `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        CommandOutput {
            code: Some(0),
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// A failed run with this exit code and stderr.
    pub fn failed(code: i32, stderr: impl Into<String>) -> Self {
        CommandOutput {
            code: Some(code),
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl fmt::Debug for CommandOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandOutput")
            .field("code", &self.code)
            .field("stdout", &format_args!("<{} bytes>", self.stdout.len()))
            .field("stderr", &format_args!("<{} bytes>", self.stderr.len()))
            .finish()
    }
}

/// Runs one program with its arguments (`argv[0]` is the program). Replace it in tests.
pub trait CommandRunner {
    /// Runs `argv` to completion; an `Err` means it could not be started or was stopped.
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput>;

    /// Runs `argv`; a runner that bounds what it keeps masks `secret` in it first. The default
    /// just runs it (fakes keep everything, and messages mask the secret again).
    fn run_redacted(
        &self,
        argv: &[String],
        secret: Option<&str>,
    ) -> std::io::Result<CommandOutput> {
        let _ = secret;
        self.run(argv)
    }
}

impl<F> CommandRunner for F
where
    F: Fn(&[String]) -> std::io::Result<CommandOutput>,
{
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        self(argv)
    }
}

/// Runs real programs through [`charm_exec`]: stdin closed, stdout and stderr captured within
/// bounds (read while it runs), its whole process group killed after a timeout.
#[derive(Debug, Clone)]
pub struct ProcessRunner {
    timeout: Duration,
}

impl Default for ProcessRunner {
    fn default() -> Self {
        ProcessRunner {
            timeout: Duration::from_secs(300),
        }
    }
}

impl ProcessRunner {
    /// A runner with the default timeout (5 minutes per command).
    pub fn new() -> Self {
        ProcessRunner::default()
    }

    /// Kills commands that run longer than `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl CommandRunner for ProcessRunner {
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        self.run_redacted(argv, None)
    }

    fn run_redacted(
        &self,
        argv: &[String],
        secret: Option<&str>,
    ) -> std::io::Result<CommandOutput> {
        let Some((program, args)) = argv.split_first() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "empty command",
            ));
        };
        let out = Exec::new(program)
            .args(args.iter().cloned())
            .timeout(self.timeout)
            .stdout_limit(MAX_STDOUT)
            .stderr_limit(MAX_STDERR)
            .redact(secret.unwrap_or_default())
            .run()
            .map_err(|e| match e {
                ExecError::TimedOut { .. } => {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, e.to_string())
                }
                ExecError::Spawn { source, .. } | ExecError::Wait { source, .. } => source,
                other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
            })?;
        if out.stdout.truncated() {
            return Err(std::io::Error::other(format!(
                "it printed {} bytes, more than the {MAX_STDOUT} read",
                out.stdout.total
            )));
        }
        Ok(CommandOutput {
            code: out.status.code(),
            stdout: out.stdout.text(),
            stderr: out.stderr.text(),
        })
    }
}

/// A cluster CLI call that did not give a usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// No command is configured.
    #[error("the cluster command is empty")]
    NoCommand,
    /// The program could not be started (not installed, not executable).
    #[error("cannot run {program:?}: {detail}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        detail: String,
    },
    /// The command exited non-zero.
    #[error("`{subcommand}` failed (exit {}): {stderr}", code.map_or("signal".to_string(), |c| c.to_string()))]
    Failed {
        /// `bootstrap`, `add`, `join`, `list` or `remove`.
        subcommand: &'static str,
        /// The exit code (`None`: killed by a signal).
        code: Option<i32>,
        /// What it printed on stderr (shortened; a token in it is masked).
        stderr: String,
    },
    /// The command did not finish in time.
    #[error("`{subcommand}` did not finish in time: {detail}")]
    TimedOut {
        /// The subcommand.
        subcommand: &'static str,
        /// The runner's message.
        detail: String,
    },
    /// A node name or token that cannot be passed to the CLI (it could be read as an option,
    /// or holds what no real one does): bad data, never run.
    #[error("`{subcommand}` not run: {detail}")]
    BadArgument {
        /// The subcommand.
        subcommand: &'static str,
        /// What is wrong (never the token itself).
        detail: String,
    },
    /// The command succeeded but printed something that does not parse.
    #[error("`{subcommand}` printed unexpected output: {detail}")]
    BadOutput {
        /// The subcommand.
        subcommand: &'static str,
        /// What is wrong with it.
        detail: String,
    },
}

impl Classify for CliError {
    fn outcome(&self) -> Outcome {
        match self {
            // A human must fix the command or the workload: retrying the hook cannot help.
            CliError::NoCommand
            | CliError::Spawn { .. }
            | CliError::BadArgument { .. }
            | CliError::BadOutput { .. } => Outcome::Blocked,
            CliError::Failed { .. } | CliError::TimedOut { .. } => Outcome::Fail,
        }
    }
}

/// A member's dqlite role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Role {
    /// Votes in the raft quorum.
    #[serde(rename = "voter")]
    Voter,
    /// Replicates, ready to become a voter.
    #[serde(rename = "stand-by")]
    StandBy,
    /// Holds no replica.
    #[serde(rename = "spare")]
    Spare,
    /// Still joining.
    #[serde(rename = "PENDING")]
    Pending,
}

/// A member's reachability as microcluster reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberStatus {
    /// `ONLINE`
    Online,
    /// `UNREACHABLE`
    Unreachable,
    /// `NOT TRUSTED`
    NotTrusted,
    /// `NOT FOUND`
    NotFound,
    /// `UPGRADING`
    Upgrading,
    /// `NEEDS UPGRADE`
    NeedsUpgrade,
    /// Anything else (kept as printed; only `ONLINE` matters here).
    Other(String),
}

impl<'de> Deserialize<'de> for MemberStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.as_str() {
            "ONLINE" => MemberStatus::Online,
            "UNREACHABLE" => MemberStatus::Unreachable,
            "NOT TRUSTED" => MemberStatus::NotTrusted,
            "NOT FOUND" => MemberStatus::NotFound,
            "UPGRADING" => MemberStatus::Upgrading,
            "NEEDS UPGRADE" => MemberStatus::NeedsUpgrade,
            _ => MemberStatus::Other(text),
        })
    }
}

/// One entry of `list -f json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Member {
    /// The member name (the node's hostname).
    pub name: String,
    /// `host:port`, when printed.
    #[serde(default)]
    pub address: Option<String>,
    /// Its role.
    pub role: Role,
    /// Its status.
    pub status: MemberStatus,
}

/// The cluster members, as `list -f json` printed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members(pub Vec<Member>);

impl Members {
    /// Parses `list -f json` output: a JSON array of objects with `name`, `role` and `status`.
    pub fn parse(stdout: &str) -> Result<Members, CliError> {
        let bad = |detail: String| CliError::BadOutput {
            subcommand: "list",
            detail,
        };
        let value: serde_json::Value =
            serde_json::from_str(stdout.trim()).map_err(|e| bad(format!("not JSON ({e})")))?;
        let serde_json::Value::Array(items) = value else {
            return Err(bad("not a JSON array".into()));
        };
        let mut members = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let member: Member =
                serde_json::from_value(item).map_err(|e| bad(format!("entry {i}: {e}")))?;
            members.push(member);
        }
        Ok(Members(members))
    }

    /// Whether a member is still joining.
    pub fn any_pending(&self) -> bool {
        self.0.iter().any(|m| m.role == Role::Pending)
    }

    /// Whether `name` is a member (any role).
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|m| m.name == name)
    }

    /// The communicator: the lowest name among online voters (Python compares `role in "voter"`,
    /// which also accepts garbage such as `""` or `"vote"`; an unknown role is an error here).
    pub fn communicator(&self) -> Option<&str> {
        self.0
            .iter()
            .filter(|m| m.role == Role::Voter && m.status == MemberStatus::Online)
            .map(|m| m.name.as_str())
            .min()
    }
}

/// How long to wait for PENDING members before giving up for this hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingWait {
    /// `list` calls at most (at least 1).
    pub attempts: u32,
    /// Pause between two calls.
    pub interval: Duration,
}

impl Default for PendingWait {
    /// 10 calls, 1 s apart (the Python library waits forever, 1 s apart).
    fn default() -> Self {
        PendingWait {
            attempts: 10,
            interval: Duration::from_secs(1),
        }
    }
}

/// Why the wait for PENDING members ended without an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    /// `list` failed.
    #[error(transparent)]
    Cli(#[from] CliError),
    /// Members were still PENDING after every attempt.
    #[error("members still PENDING after {attempts} `list` calls: {names}")]
    StillPending {
        /// The calls made.
        attempts: u32,
        /// The pending members.
        names: String,
    },
}

/// Masks `secret` in `text` and shortens it, for messages.
fn scrub(text: &str, secret: Option<&str>) -> String {
    let text = match secret {
        Some(s) if !s.is_empty() => text.replace(s, "<redacted>"),
        _ => text.to_string(),
    };
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// How the debug line shows extra arguments from config: only their number (they are the
/// operator's, and may hold anything).
fn extra_args(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (+1 argument)".to_string(),
        n => format!(" (+{n} arguments)"),
    }
}

/// A node name for `subcommand`, or the reason it is never passed to the CLI.
fn check_node(node: &str, subcommand: &'static str) -> Result<(), CliError> {
    check_node_name(node).map_err(|why| {
        let shown: String = node.chars().take(64).collect();
        CliError::BadArgument {
            subcommand,
            detail: format!("{shown:?} is not a valid node name: {why}"),
        }
    })
}

/// The cluster CLI: a command prefix (e.g. `microovn cluster`) and a runner.
pub struct Cli<'a> {
    command: &'a [String],
    runner: &'a dyn CommandRunner,
}

impl<'a> Cli<'a> {
    /// The CLI `command` run through `runner`.
    pub fn new(command: &'a [String], runner: &'a dyn CommandRunner) -> Self {
        Cli { command, runner }
    }

    /// Runs `<command> <subcommand> <args...>`. `shown` is what the debug line may print of
    /// `args` (never a token); `secret` is masked in the stderr kept for messages.
    fn exec(
        &self,
        subcommand: &'static str,
        args: &[&str],
        shown: &str,
        secret: Option<&str>,
    ) -> Result<CommandOutput, CliError> {
        let Some(program) = self.command.first() else {
            return Err(CliError::NoCommand);
        };
        let mut argv: Vec<String> = self.command.to_vec();
        argv.push(subcommand.to_string());
        argv.extend(args.iter().map(|a| a.to_string()));
        let started = Instant::now();
        let result = self.runner.run_redacted(&argv, secret);
        // One line per call, so the calls a hook made can be counted in its log.
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let prefix = self.command.join(" ");
        match &result {
            Ok(out) => tracing::debug!(
                "cluster CLI: {prefix} {subcommand}{shown} -> exit {} ({ms:.1} ms)",
                out.code.map_or("signal".to_string(), |c| c.to_string())
            ),
            Err(e) => tracing::debug!(
                "cluster CLI: {prefix} {subcommand}{shown} -> not run: {} ({ms:.1} ms)",
                scrub(&e.to_string(), secret)
            ),
        }
        let out = result.map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => CliError::TimedOut {
                subcommand,
                detail: e.to_string(),
            },
            _ => CliError::Spawn {
                program: program.clone(),
                detail: e.to_string(),
            },
        })?;
        if !out.success() {
            return Err(CliError::Failed {
                subcommand,
                code: out.code,
                stderr: scrub(&out.stderr, secret),
            });
        }
        Ok(out)
    }

    /// `list -f json`, parsed.
    pub fn list(&self) -> Result<Members, CliError> {
        let out = self.exec("list", &["-f", "json"], " -f json", None)?;
        Members::parse(&out.stdout)
    }

    /// `add <node>`: mints a join token for `node` (stdout, stripped).
    pub fn add(&self, node: &str) -> Result<Token, CliError> {
        check_node(node, "add")?;
        let out = self.exec("add", &[node], &format!(" {node}"), None)?;
        let token = Token::new(&out.stdout);
        token.check().map_err(|why| CliError::BadOutput {
            subcommand: "add",
            detail: format!("the printed token is unusable: {why}"),
        })?;
        Ok(token)
    }

    /// `join <token> [extra...]`.
    pub fn join(&self, token: &Token, extra: &[String]) -> Result<(), CliError> {
        token.check().map_err(|why| CliError::BadArgument {
            subcommand: "join",
            detail: format!("the join token is unusable: {why}"),
        })?;
        let mut args: Vec<&str> = vec![token.expose()];
        args.extend(extra.iter().map(String::as_str));
        let shown = format!(" <token>{}", extra_args(extra.len()));
        self.exec("join", &args, &shown, Some(token.expose()))
            .map(|_| ())
    }

    /// `bootstrap [extra...]`.
    pub fn bootstrap(&self, extra: &[String]) -> Result<(), CliError> {
        let args: Vec<&str> = extra.iter().map(String::as_str).collect();
        self.exec("bootstrap", &args, &extra_args(extra.len()), None)
            .map(|_| ())
    }

    /// `remove <node>`.
    pub fn remove(&self, node: &str) -> Result<(), CliError> {
        check_node(node, "remove")?;
        self.exec("remove", &[node], &format!(" {node}"), None)
            .map(|_| ())
    }

    /// Calls `list` until no member is PENDING, at most `wait.attempts` times.
    pub fn wait_for_pending(&self, wait: PendingWait) -> Result<Members, WaitError> {
        let attempts = wait.attempts.max(1);
        let mut last = Members::default();
        for attempt in 1..=attempts {
            last = self.list()?;
            if !last.any_pending() {
                return Ok(last);
            }
            if attempt < attempts {
                std::thread::sleep(wait.interval);
            }
        }
        let names: Vec<&str> = last
            .0
            .iter()
            .filter(|m| m.role == Role::Pending)
            .map(|m| m.name.as_str())
            .collect();
        Err(WaitError::StillPending {
            attempts,
            names: names.join(", "),
        })
    }
}

#[cfg(test)]
#[path = "cli_test.rs"]
mod tests;
