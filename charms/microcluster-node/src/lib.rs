//! `microcluster-node`: the consumer side of `worker-cluster`, for any microcluster CLI.
//!
//! - Config `cluster-command` is the CLI (`microovn cluster`), split on whitespace; while it is
//!   empty the unit is Blocked "set cluster-command" and the library retries its work when it is
//!   set. `bootstrap-args` and `join-args` are appended to `bootstrap` and `join <token>`.
//! - The token distributor library does the rest: the leader bootstraps, the communicator mints
//!   tokens, the other units join; the status is the library's (`Cluster bootstrapped`,
//!   `Joined cluster`, `Token not in mirror`, `Waiting on pending nodes`, ...).
//! - `pending-wait-attempts` and `pending-wait-interval` bound how long one hook waits for
//!   PENDING members (default 10 calls of `list`, 1 s apart) before it retries at the next hook.
//! - Action `cluster-members` runs `list -f json` and returns `members` (the names, sorted,
//!   comma-separated), `count`, `roles` (`name=role,...`) and `communicator`.
//! - Logging goes to `juju-log` down to DEBUG: one DEBUG line per CLI call
//!   (`cluster CLI: microovn cluster list -f json -> exit 0 (3.1 ms)`; a token is shown as
//!   `<token>`), so the calls a hook made can be counted in its log.
//!
//! # Node name
//!
//! The node name is the machine's hostname (`/proc/sys/kernel/hostname`, what `uname -n` prints),
//! unless the environment variable `MICROCLUSTER_NODE_NAME` is set: then that is the name. This is
//! a test and local-model aid (several units on one machine need distinct names); a real
//! deployment leaves it unset.

use charm::{ActionEvent, Charm, Ctx, Error, Status, StatusCollector};
use serde::Deserialize;
use std::rc::Rc;
use std::time::Duration;
use token_distributor::hostname::{self, HostnameError};
use token_distributor::{Cli, CommandRunner, PendingWait, ProcessRunner, Role, TokenConsumer};

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
/// `actions.yaml`.
pub const ACTIONS: &str = include_str!("../actions.yaml");
/// The endpoint related to the distributor.
pub const ENDPOINT: &str = "cluster";
/// Overrides the node name when set (tests and the local model only).
pub const NODE_NAME_ENV: &str = "MICROCLUSTER_NODE_NAME";
/// The status while `cluster-command` is empty.
pub const SET_COMMAND: &str = "set cluster-command";

/// The charm's config.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    /// The microcluster CLI, e.g. `microovn cluster`.
    pub cluster_command: String,
    /// Extra arguments for `bootstrap`.
    pub bootstrap_args: String,
    /// Extra arguments for `join`.
    pub join_args: String,
    /// `list` calls at most while members are PENDING.
    pub pending_wait_attempts: i64,
    /// Seconds between two of them.
    pub pending_wait_interval: f64,
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn command(ctx: &mut Ctx) -> Result<Vec<String>, Error> {
    let config: Config = ctx.config()?;
    let command = words(&config.cluster_command);
    if command.is_empty() {
        return Err(Error::blocked(SET_COMMAND));
    }
    Ok(command)
}

/// The bound of the wait for PENDING members, from config; out of range is a Blocked status.
fn pending_wait(ctx: &mut Ctx) -> Result<PendingWait, Error> {
    let config: Config = ctx.config()?;
    let attempts = u32::try_from(config.pending_wait_attempts)
        .ok()
        .filter(|a| (1..=600).contains(a))
        .ok_or_else(|| Error::blocked("pending-wait-attempts must be between 1 and 600"))?;
    let seconds = config.pending_wait_interval;
    if !(0.0..=60.0).contains(&seconds) {
        return Err(Error::blocked(
            "pending-wait-interval must be between 0 and 60 seconds",
        ));
    }
    Ok(PendingWait {
        attempts,
        interval: Duration::from_secs_f64(seconds),
    })
}

fn config_status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    if words(&config.cluster_command).is_empty() {
        statuses.add_unit(Status::blocked(SET_COMMAND));
    }
    if let Err(e) = pending_wait(ctx) {
        statuses.add_unit(Status::blocked(e.message()));
    }
    Ok(())
}

/// What tests (and only tests) replace: the CLI runner, the node name, the pending wait.
#[derive(Default)]
pub struct Options {
    /// Runs the CLI (default: real processes).
    pub runner: Option<Rc<dyn CommandRunner>>,
    /// Gives the node name (default: `$MICROCLUSTER_NODE_NAME`, else the hostname).
    pub hostname: Option<Rc<dyn Fn() -> Result<String, HostnameError>>>,
    /// Bounds the wait for PENDING members (default: config `pending-wait-*`).
    pub wait: Option<PendingWait>,
}

/// The token consumer as this charm configures it, running the CLI through `runner`.
fn consumer_with(runner: Rc<dyn CommandRunner>, options: &Options) -> TokenConsumer {
    let mut consumer = TokenConsumer::new(ENDPOINT, Vec::<String>::new())
        .command_with(command)
        .bootstrap_args(|ctx: &mut Ctx| Ok(words(&ctx.config::<Config>()?.bootstrap_args)))
        .join_args(|ctx: &mut Ctx| Ok(words(&ctx.config::<Config>()?.join_args)))
        .pending_wait_with(pending_wait)
        .hostname(|| hostname::from_env_or_system(NODE_NAME_ENV))
        .shared_runner(runner);
    if let Some(f) = options.hostname.clone() {
        consumer = consumer.hostname(move || f());
    }
    if let Some(wait) = options.wait {
        consumer = consumer.pending_wait(wait);
    }
    consumer
}

/// The token consumer as this charm configures it.
pub fn consumer(options: Options) -> TokenConsumer {
    let runner = runner(&options);
    consumer_with(runner, &options)
}

fn runner(options: &Options) -> Rc<dyn CommandRunner> {
    options
        .runner
        .clone()
        .unwrap_or_else(|| Rc::new(ProcessRunner::new()))
}

/// A role as microcluster prints it.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Voter => "voter",
        Role::StandBy => "stand-by",
        Role::Spare => "spare",
        Role::Pending => "PENDING",
    }
}

/// Action `cluster-members`: the cluster as `list -f json` shows it from this unit. A problem
/// (no command, the CLI failing or printing garbage) fails the action with its message.
fn cluster_members(
    runner: &dyn CommandRunner,
    ctx: &mut Ctx,
    _action: &ActionEvent,
) -> Result<(), Error> {
    let command = command(ctx)?;
    let members = Cli::new(&command, runner)
        .list()
        .map_err(|e| Error::blocked(format!("cluster list: {e}")))?;
    let mut rows: Vec<(&str, &str)> = members
        .0
        .iter()
        .map(|m| (m.name.as_str(), role_name(m.role)))
        .collect();
    rows.sort();
    let names: Vec<&str> = rows.iter().map(|(name, _)| *name).collect();
    let roles: Vec<String> = rows
        .iter()
        .map(|(name, role)| format!("{name}={role}"))
        .collect();
    ctx.action_set(&serde_json::json!({
        "members": names.join(","),
        "count": names.len().to_string(),
        "roles": roles.join(","),
        "communicator": members.communicator().unwrap_or(""),
    }))?;
    Ok(())
}

/// The charm with test replacements.
pub fn charm_with(options: Options) -> Charm {
    let runner = runner(&options);
    let mut charm = Charm::new();
    let action_runner = runner.clone();
    charm
        .metadata(METADATA_JSON)
        .log_level(tracing::Level::DEBUG)
        .plugin(consumer_with(runner, &options))
        .collect_status(config_status)
        .action("cluster-members", move |ctx: &mut Ctx, a: &ActionEvent| {
            cluster_members(&*action_runner, ctx, a)
        });
    charm
}

/// The charm.
pub fn charm() -> Charm {
    charm_with(Options::default())
}
