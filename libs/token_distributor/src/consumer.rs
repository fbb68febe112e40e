//! The consumer (requirer) side: a microcluster charm that bootstraps, joins with a token, and
//! mints tokens for its peers when it is the communicator node.

use crate::cli::{Cli, CliError, CommandRunner, Members, PendingWait, ProcessRunner, WaitError};
use crate::error::TokenDistributorError;
use crate::events::{Bootstrapped, Joined, PreBootstrap, PreJoin, TokenGenerated};
use crate::hostname::{self, HostnameError};
use crate::mirror::{DistributorUnit, MirrorView, sort_units};
use crate::wire::{
    ConsumerUnitBag, MirrorEntries, MirrorFlag, MirrorValue, ProviderAppBag, ProviderUnitBag,
    Token, mirror_key,
};
use charm::{
    Bag, Charm, Classify, Ctx, CustomEvent, EndpointSpec, Error, Event, EventKind, ModelError,
    Outcome, Plugin, RelationEvent, RelationId, Status, StatusCollector,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The statuses the consumer shows, with the Python library's exact texts (typo included).
pub mod status_text {
    /// Maintenance: no relation to a token distributor yet.
    pub const WAITING_FOR_RELATION: &str = "Waiting for token distrbutor relation";
    /// Active: this unit bootstrapped the cluster.
    pub const BOOTSTRAPPED: &str = "Cluster bootstrapped";
    /// Blocked: `bootstrap` failed (retried at the next hook).
    pub const BOOTSTRAP_FAILED: &str = "Unable to bootstrap cluster";
    /// Active: this unit joined the cluster with a token.
    pub const JOINED: &str = "Joined cluster";
    /// Blocked: `join` failed (retried at the next hook).
    pub const JOIN_FAILED: &str = "Joining cluster failed";
    /// Maintenance: no token for this unit in the mirror yet.
    pub const TOKEN_NOT_IN_MIRROR: &str = "Token not in mirror";
    /// Waiting: members are still PENDING, or `list` failed (retried at the next hook).
    pub const WAITING_ON_PENDING: &str = "Waiting on pending nodes";
}

/// Where the consumer is, beyond `in_cluster` (drives the status).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Nothing pending.
    #[default]
    Idle,
    /// Not in the cluster and no token for this unit yet.
    TokenNotInMirror,
    /// The last `bootstrap` failed; retried at the next hook.
    BootstrapFailed,
    /// The last `join` failed; retried at the next hook.
    JoinFailed,
    /// Members were still PENDING (or `list` failed); retried at the next hook.
    WaitingOnPending,
}

/// What the consumer keeps between hooks (stored under `token_distributor.consumer:<endpoint>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerState {
    /// This unit is a cluster member (Python `_stored.in_cluster`).
    pub in_cluster: bool,
    /// This unit bootstrapped the cluster (rather than joined it).
    #[serde(default)]
    pub bootstrapper: bool,
    /// Progress beyond `in_cluster`.
    #[serde(default)]
    pub phase: Phase,
    /// A problem a human must look at (bad remote data, bad command output, bad config).
    #[serde(default)]
    pub problem: Option<String>,
}

/// The library step that runs `bootstrap`, queued right behind [`PreBootstrap`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BootstrapStep {
    relation: RelationId,
}

impl CustomEvent for BootstrapStep {
    const NAME: &'static str = "token_distributor.bootstrap_step";
    const ALIASES: &'static [&'static str] = &["TokenDistributorBootstrapStep"];

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}

/// The library step that runs `join`, queued right behind [`PreJoin`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct JoinStep {
    relation: RelationId,
}

impl CustomEvent for JoinStep {
    const NAME: &'static str = "token_distributor.join_step";
    const ALIASES: &'static [&'static str] = &["TokenDistributorJoinStep"];

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}

/// The answers of the bounded wait for PENDING members in this dispatch, by endpoint (a
/// per-dispatch `Ctx::scratch` value), so that several handlers of one dispatch (a deferred
/// re-run and the new event) wait only once. Dropped when membership changes (bootstrap, join).
#[derive(Default)]
struct ListAnswers(BTreeMap<String, Result<Members, WaitError>>);

/// Gives the command prefix or extra arguments at dispatch time (e.g. from config).
pub type ArgsFn = Rc<dyn Fn(&mut Ctx<'_>) -> Result<Vec<String>, Error>>;
/// Gives this unit's node name.
pub type HostnameFn = Rc<dyn Fn() -> Result<String, HostnameError>>;
/// Gives the bound of the wait for PENDING members at dispatch time (e.g. from config).
pub type WaitFn = Rc<dyn Fn(&mut Ctx<'_>) -> Result<PendingWait, Error>>;

/// The consumer side of `worker-cluster` (Python `TokenConsumer`). Add it with `charm.plugin`.
///
/// Cheap to clone: keep a clone to call the state queries from your own handlers.
#[derive(Clone)]
pub struct TokenConsumer {
    endpoint: String,
    command: ArgsFn,
    bootstrap_args: ArgsFn,
    join_args: ArgsFn,
    runner: Rc<dyn CommandRunner>,
    hostname: HostnameFn,
    wait: WaitFn,
}

impl std::fmt::Debug for TokenConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConsumer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

fn fixed(args: Vec<String>) -> ArgsFn {
    Rc::new(move |_: &mut Ctx<'_>| Ok(args.clone()))
}

impl TokenConsumer {
    /// A consumer on `endpoint` running the cluster CLI `command` (e.g. `["microovn", "cluster"]`).
    pub fn new<S: Into<String>>(endpoint: &str, command: impl IntoIterator<Item = S>) -> Self {
        TokenConsumer {
            endpoint: endpoint.to_string(),
            command: fixed(command.into_iter().map(Into::into).collect()),
            bootstrap_args: fixed(Vec::new()),
            join_args: fixed(Vec::new()),
            runner: Rc::new(ProcessRunner::new()),
            hostname: Rc::new(hostname::system),
            wait: Rc::new(|_: &mut Ctx<'_>| Ok(PendingWait::default())),
        }
    }

    /// Computes the command prefix at dispatch time (an `Err` becomes the status, and the work
    /// is retried at the next hook).
    pub fn command_with(
        mut self,
        f: impl Fn(&mut Ctx<'_>) -> Result<Vec<String>, Error> + 'static,
    ) -> Self {
        self.command = Rc::new(f);
        self
    }

    /// Extra arguments for `bootstrap` (Python `bootstrap_args_func`).
    pub fn bootstrap_args(
        mut self,
        f: impl Fn(&mut Ctx<'_>) -> Result<Vec<String>, Error> + 'static,
    ) -> Self {
        self.bootstrap_args = Rc::new(f);
        self
    }

    /// Extra arguments for `join`, after the token (Python `join_args_func`).
    pub fn join_args(
        mut self,
        f: impl Fn(&mut Ctx<'_>) -> Result<Vec<String>, Error> + 'static,
    ) -> Self {
        self.join_args = Rc::new(f);
        self
    }

    /// Runs commands through `runner` instead of real processes (tests, fakes).
    pub fn runner(mut self, runner: impl CommandRunner + 'static) -> Self {
        self.runner = Rc::new(runner);
        self
    }

    /// Runs commands through a shared runner (e.g. one fake for several units in a test).
    pub fn shared_runner(mut self, runner: Rc<dyn CommandRunner>) -> Self {
        self.runner = runner;
        self
    }

    /// Takes this unit's node name from `f` instead of the system hostname.
    pub fn hostname(mut self, f: impl Fn() -> Result<String, HostnameError> + 'static) -> Self {
        self.hostname = Rc::new(f);
        self
    }

    /// Bounds the wait for PENDING members (default: 10 `list` calls, 1 s apart).
    pub fn pending_wait(mut self, wait: PendingWait) -> Self {
        self.wait = Rc::new(move |_: &mut Ctx<'_>| Ok(wait));
        self
    }

    /// Computes the bound of the wait at dispatch time (an `Err` is handled like a bad command).
    pub fn pending_wait_with(
        mut self,
        f: impl Fn(&mut Ctx<'_>) -> Result<PendingWait, Error> + 'static,
    ) -> Self {
        self.wait = Rc::new(f);
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// This unit's node name.
    pub fn node_name(&self) -> Result<String, HostnameError> {
        (self.hostname)()
    }

    fn state_key(&self) -> String {
        format!("token_distributor.consumer:{}", self.endpoint)
    }

    /// What the consumer keeps between hooks.
    pub fn state(&self, ctx: &Ctx<'_>) -> Result<ConsumerState, ModelError> {
        Ok(ctx.stored(&self.state_key())?.unwrap_or_default())
    }

    fn save_state(&self, ctx: &mut Ctx<'_>, state: &ConsumerState) -> Result<(), ModelError> {
        ctx.store(&self.state_key(), state)
    }

    /// Whether this unit is a cluster member.
    pub fn in_cluster(&self, ctx: &Ctx<'_>) -> Result<bool, ModelError> {
        Ok(self.state(ctx)?.in_cluster)
    }

    /// The status the library proposes (it adds it in collect-status itself).
    pub fn status(&self, ctx: &mut Ctx<'_>) -> Result<Status, Error> {
        use status_text::*;
        let st = self.state(ctx)?;
        if let Some(problem) = st.problem {
            return Ok(Status::blocked(problem));
        }
        match st.phase {
            Phase::BootstrapFailed => return Ok(Status::blocked(BOOTSTRAP_FAILED)),
            Phase::JoinFailed => return Ok(Status::blocked(JOIN_FAILED)),
            Phase::WaitingOnPending => return Ok(Status::waiting(WAITING_ON_PENDING)),
            Phase::Idle | Phase::TokenNotInMirror => {}
        }
        if st.in_cluster {
            return Ok(Status::active(if st.bootstrapper {
                BOOTSTRAPPED
            } else {
                JOINED
            }));
        }
        if ctx.relations(&self.endpoint)?.is_empty() {
            Ok(Status::maintenance(WAITING_FOR_RELATION))
        } else {
            Ok(Status::maintenance(TOKEN_NOT_IN_MIRROR))
        }
    }

    /// The distributor units of `relation` and what they mirror (problems in their bags listed).
    pub fn mirror(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<MirrorView, Error> {
        let mut units = ctx.remote_units(relation)?;
        sort_units(&mut units);
        let mut view = MirrorView::default();
        for name in units {
            let raw = ctx.read(relation, &Bag::Unit(name.clone()))?;
            let (bag, problems) = ProviderUnitBag::decode_lenient(&raw);
            for p in problems {
                view.problems.push((name.clone(), p));
            }
            view.units.push(DistributorUnit { name, bag });
        }
        Ok(view)
    }

    /// Whether the mirror holds a token for this unit (it will join at the next relation hook).
    pub fn token_available(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<bool, Error> {
        let host = self.node_name()?;
        Ok(self.mirror(ctx, relation)?.find(&host, false).is_some())
    }

    fn own_bag(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<ConsumerUnitBag, Error> {
        let raw = ctx.read(relation, &Bag::LocalUnit)?;
        Ok(ConsumerUnitBag::decode_lenient(&raw).0)
    }

    fn live(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<bool, Error> {
        Ok(relation.endpoint == self.endpoint && ctx.relations(&self.endpoint)?.contains(relation))
    }

    /// Resolves the command; on failure the problem is recorded and the event retried later.
    fn command_or_defer(
        &self,
        ctx: &mut Ctx<'_>,
        st: &mut ConsumerState,
        what: &str,
        args: &ArgsFn,
    ) -> Result<Option<Vec<String>>, Error> {
        match args(ctx) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.outcome() == Outcome::Fail => Err(e),
            Err(e) => {
                tracing::warn!("{what}: {e}");
                st.problem = Some(e.message().to_string());
                ctx.defer()?;
                Ok(None)
            }
        }
    }

    fn note_problems(st: &mut ConsumerState, relation: &RelationId, view: &MirrorView) {
        if let Some((unit, e)) = view.problems.first() {
            let message = TokenDistributorError::unit_bag(relation, unit, e.clone()).to_string();
            tracing::warn!("{message}");
            st.problem.get_or_insert(message);
        }
    }

    fn record_hostname_error(&self, ctx: &mut Ctx<'_>, e: HostnameError) -> Result<(), Error> {
        tracing::warn!("{e}");
        let mut st = self.state(ctx)?;
        st.problem = Some(e.to_string());
        self.save_state(ctx, &st)?;
        Ok(())
    }

    // ----- handlers -----

    /// The endpoint this consumer serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::requires(
            "token_distributor-consumer",
            "worker-cluster",
            &self.endpoint,
        )
    }

    fn collect_status(
        &self,
        ctx: &mut Ctx<'_>,
        statuses: &mut StatusCollector,
    ) -> Result<(), Error> {
        statuses.add_unit(self.status(ctx)?);
        Ok(())
    }

    fn on_changed(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        self.converge(ctx, &event.relation)
    }

    fn on_created(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        let relation = &event.relation;
        let host = match self.node_name() {
            Ok(h) => h,
            Err(e) => return self.record_hostname_error(ctx, e),
        };
        let bag = ConsumerUnitBag {
            hostname: Some(host),
            ..ConsumerUnitBag::default()
        };
        ctx.save(relation, &Bag::LocalUnit, &bag)?;
        Ok(())
    }

    fn on_leader_elected(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        if self.in_cluster(ctx)? {
            return Ok(());
        }
        for relation in ctx.relations(&self.endpoint)? {
            self.converge(ctx, &relation)?;
        }
        Ok(())
    }

    /// relation-changed (and leader-elected while not in the cluster).
    fn converge(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<(), Error> {
        let mut st = self.state(ctx)?;
        st.problem = None;
        let host = match self.node_name() {
            Ok(h) => h,
            Err(e) => return self.record_hostname_error(ctx, e),
        };
        let own = self.own_bag(ctx, relation)?;
        if own.hostname.as_deref() != Some(host.as_str()) {
            let bag = ConsumerUnitBag {
                hostname: Some(host.clone()),
                ..ConsumerUnitBag::default()
            };
            ctx.save(relation, &Bag::LocalUnit, &bag)?;
        }
        let view = self.mirror(ctx, relation)?;
        Self::note_problems(&mut st, relation, &view);
        if !st.in_cluster {
            if let Some(value) = view.find(&host, false) {
                if let Some(token) = value.token()
                    && let Err(why) = token.check()
                {
                    st.problem = Some(bad_token(relation, &host, why));
                    self.save_state(ctx, &st)?;
                    return Ok(());
                }
                st.phase = Phase::Idle;
                self.save_state(ctx, &st)?;
                ctx.emit(PreJoin {});
                ctx.emit(JoinStep {
                    relation: relation.clone(),
                });
                return Ok(());
            }
            if view.any_mirror_up() && self.should_bootstrap(ctx, relation, &view, &mut st)? {
                st.phase = Phase::Idle;
                self.save_state(ctx, &st)?;
                ctx.emit(PreBootstrap {});
                ctx.emit(BootstrapStep {
                    relation: relation.clone(),
                });
                return Ok(());
            }
            st.phase = Phase::TokenNotInMirror;
            self.save_state(ctx, &st)?;
            return Ok(());
        }
        self.handle_mirror(ctx, relation, &host, &own, &view, &mut st)?;
        self.save_state(ctx, &st)?;
        Ok(())
    }

    /// Whether this unit should bootstrap now: leader, no token anywhere in the distributor,
    /// and, when the distributor names a `bootstrap-app`, that app is ours.
    fn should_bootstrap(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        view: &MirrorView,
        st: &mut ConsumerState,
    ) -> Result<bool, Error> {
        if view.any_data_exists() || !ctx.is_leader()? {
            return Ok(false);
        }
        let raw = ctx.read(relation, &Bag::RemoteApp)?;
        match ProviderAppBag::decode(&raw) {
            Ok(ProviderAppBag {
                bootstrap_app: Some(app),
            }) => Ok(app == ctx.app_name()),
            // A LIBPATCH 2-6 distributor never names one (nor 7 on a relation made after its
            // election): the first rule applies alone, where LIBPATCH 7/8 consumers deadlock.
            Ok(ProviderAppBag {
                bootstrap_app: None,
            }) => Ok(true),
            Err(e) => {
                let owner = ctx.remote_app(relation)?.unwrap_or_default();
                let message = TokenDistributorError::app_bag(relation, &owner, e).to_string();
                tracing::warn!("{message}");
                st.problem.get_or_insert(message);
                Ok(false)
            }
        }
    }

    fn on_bootstrap_step(&self, ctx: &mut Ctx<'_>, step: &BootstrapStep) -> Result<(), Error> {
        let relation = &step.relation;
        if !self.live(ctx, relation)? {
            return Ok(());
        }
        let mut st = self.state(ctx)?;
        st.problem = None;
        let host = match self.node_name() {
            Ok(h) => h,
            Err(e) => return self.record_hostname_error(ctx, e),
        };
        let view = self.mirror(ctx, relation)?;
        Self::note_problems(&mut st, relation, &view);
        if !st.in_cluster {
            if !view.any_mirror_up() || !self.should_bootstrap(ctx, relation, &view, &mut st)? {
                st.phase = Phase::TokenNotInMirror;
                self.save_state(ctx, &st)?;
                return Ok(());
            }
            let Some(command) =
                self.command_or_defer(ctx, &mut st, "cluster command", &self.command)?
            else {
                return Ok(self.save_state(ctx, &st)?);
            };
            let Some(args) =
                self.command_or_defer(ctx, &mut st, "bootstrap arguments", &self.bootstrap_args)?
            else {
                return Ok(self.save_state(ctx, &st)?);
            };
            match Cli::new(&command, &*self.runner).bootstrap(&args) {
                Ok(()) => {
                    tracing::info!("{host} bootstrapped the cluster");
                    st.in_cluster = true;
                    st.bootstrapper = true;
                    st.phase = Phase::Idle;
                    ctx.scratch::<ListAnswers>().0.remove(&self.endpoint);
                    ctx.emit(Bootstrapped {});
                    ctx.emit(Joined { bootstrapper: true });
                }
                Err(e) => {
                    tracing::error!("{host} unable to bootstrap cluster: {e}");
                    st.phase = Phase::BootstrapFailed;
                    if e.outcome() == Outcome::Blocked {
                        st.problem = Some(format!("cluster bootstrap: {e}"));
                    }
                    self.save_state(ctx, &st)?;
                    ctx.defer()?;
                    return Ok(());
                }
            }
        }
        let own = self.own_bag(ctx, relation)?;
        self.handle_mirror(ctx, relation, &host, &own, &view, &mut st)?;
        self.save_state(ctx, &st)?;
        Ok(())
    }

    fn on_join_step(&self, ctx: &mut Ctx<'_>, step: &JoinStep) -> Result<(), Error> {
        let relation = &step.relation;
        if !self.live(ctx, relation)? {
            return Ok(());
        }
        let mut st = self.state(ctx)?;
        st.problem = None;
        let host = match self.node_name() {
            Ok(h) => h,
            Err(e) => return self.record_hostname_error(ctx, e),
        };
        let view = self.mirror(ctx, relation)?;
        Self::note_problems(&mut st, relation, &view);
        if !st.in_cluster {
            let token: Option<Token> =
                match view.find(&host, false).and_then(|v| v.token().cloned()) {
                    Some(token) => match token.check() {
                        Ok(()) => Some(token),
                        // Bad remote data (say `-o`): never passed to `join`, named in the status.
                        Err(why) => {
                            let message = bad_token(relation, &host, why);
                            tracing::warn!("{message}");
                            st.problem.get_or_insert(message);
                            None
                        }
                    },
                    None => None,
                };
            let Some(token) = token else {
                st.phase = Phase::TokenNotInMirror;
                self.save_state(ctx, &st)?;
                return Ok(());
            };
            let Some(command) =
                self.command_or_defer(ctx, &mut st, "cluster command", &self.command)?
            else {
                return Ok(self.save_state(ctx, &st)?);
            };
            let Some(args) =
                self.command_or_defer(ctx, &mut st, "join arguments", &self.join_args)?
            else {
                return Ok(self.save_state(ctx, &st)?);
            };
            match Cli::new(&command, &*self.runner).join(&token, &args) {
                Ok(()) => {
                    tracing::info!("{host} joined the cluster");
                    st.in_cluster = true;
                    st.bootstrapper = false;
                    st.phase = Phase::Idle;
                    ctx.scratch::<ListAnswers>().0.remove(&self.endpoint);
                    ctx.emit(Joined {
                        bootstrapper: false,
                    });
                }
                Err(e) => {
                    // The error never holds the token: the CLI masks it in stderr.
                    tracing::error!("{host} failed joining the cluster: {e}");
                    st.phase = Phase::JoinFailed;
                    if e.outcome() == Outcome::Blocked {
                        st.problem = Some(format!("cluster join: {e}"));
                    }
                    self.save_state(ctx, &st)?;
                    ctx.defer()?;
                    return Ok(());
                }
            }
        }
        let own = self.own_bag(ctx, relation)?;
        self.handle_mirror(ctx, relation, &host, &own, &view, &mut st)?;
        self.save_state(ctx, &st)?;
        Ok(())
    }

    /// In the cluster: raise or lower this unit's mirror, and mint tokens if it is the communicator.
    fn handle_mirror(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        host: &str,
        own: &ConsumerUnitBag,
        view: &MirrorView,
        st: &mut ConsumerState,
    ) -> Result<(), Error> {
        let Some(command) = self.command_or_defer(ctx, st, "cluster command", &self.command)?
        else {
            return Ok(());
        };
        let wait = match (self.wait)(ctx) {
            Ok(wait) => wait,
            Err(e) if e.outcome() == Outcome::Fail => return Err(e),
            Err(e) => {
                tracing::warn!("pending wait: {e}");
                st.problem = Some(e.message().to_string());
                ctx.defer()?;
                return Ok(());
            }
        };
        let cli = Cli::new(&command, &*self.runner);
        let known = ctx.scratch::<ListAnswers>().0.get(&self.endpoint).cloned();
        let (answer, fresh) = match known {
            Some(answer) => (answer, false),
            None => {
                let answer = cli.wait_for_pending(wait);
                ctx.scratch::<ListAnswers>()
                    .0
                    .insert(self.endpoint.clone(), answer.clone());
                (answer, true)
            }
        };
        let members = match answer {
            Ok(members) => members,
            Err(e) => {
                match &e {
                    WaitError::StillPending { .. }
                    | WaitError::Cli(CliError::Failed { .. } | CliError::TimedOut { .. }) => {
                        tracing::warn!("{host}: {e}; retrying at the next hook");
                        st.phase = Phase::WaitingOnPending;
                    }
                    WaitError::Cli(other) => {
                        tracing::warn!("{host}: {other}");
                        st.problem = Some(format!("cluster list: {other}"));
                    }
                }
                // One retry per dispatch is enough: the handler that waited carries it.
                if fresh {
                    ctx.defer()?;
                }
                return Ok(());
            }
        };
        st.phase = Phase::Idle;
        let communicator = members.communicator() == Some(host);
        let wanted = if communicator {
            Some(MirrorFlag::Up)
        } else if own.mirror.is_some() {
            Some(safe_mirror_down(own, view))
        } else {
            None
        };
        let flag = wanted.filter(|w| own.mirror != Some(*w));
        if let Some(flag) = flag {
            tracing::debug!("mirror {flag:?} on {relation}");
            let bag = ConsumerUnitBag {
                mirror: Some(flag),
                ..ConsumerUnitBag::default()
            };
            ctx.save(relation, &Bag::LocalUnit, &bag)?;
        }
        if !communicator {
            return Ok(());
        }
        let mut minted = BTreeMap::new();
        for (node, value) in view.relevant(true) {
            // A member needs no token (this also spares the communicator its own placeholder).
            if !value.is_empty() || own.entries.get(&node).is_some() || members.contains(&node) {
                continue;
            }
            match cli.add(&node) {
                Ok(token) => {
                    tracing::info!("added token for {node}");
                    minted.insert(node.clone(), MirrorValue::Token(token));
                    ctx.emit(TokenGenerated { node });
                }
                Err(e @ CliError::BadArgument { .. }) => {
                    // A node name from the mirror that could be read as an option: bad data.
                    let message = format!("relation {relation}: key {}: {e}", shown_key(&node));
                    tracing::warn!("{message}");
                    st.problem.get_or_insert(message);
                }
                Err(e) => tracing::warn!("generating a token for {node} failed: {e}"),
            }
        }
        if !minted.is_empty() {
            let bag = ConsumerUnitBag {
                entries: MirrorEntries(minted),
                ..ConsumerUnitBag::default()
            };
            ctx.save(relation, &Bag::LocalUnit, &bag)?;
        }
        Ok(())
    }

    fn on_remove(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        let mut st = self.state(ctx)?;
        if !st.in_cluster {
            return Ok(());
        }
        let host = match self.node_name() {
            Ok(h) => h,
            Err(e) => {
                tracing::error!("cannot leave the cluster: {e}");
                return Ok(());
            }
        };
        let command = match (self.command)(ctx) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("failed removing {host} from cluster: {e}");
                return Ok(());
            }
        };
        match Cli::new(&command, &*self.runner).remove(&host) {
            Ok(()) => tracing::info!("removed {host} from the cluster"),
            Err(e) => tracing::error!("failed removing {host} from cluster: {e}"),
        }
        st.in_cluster = false;
        self.save_state(ctx, &st)?;
        Ok(())
    }
}

/// The `mirror` flag of a unit that has one and is no longer the communicator (LIBPATCH 3 "safe
/// mirror down"): `down`, unless it holds a token for a node the distributor mirrors only as a
/// placeholder, which must still be copied. A placeholder for a node this unit never minted is
/// skipped, where Python raised KeyError and failed the hook.
fn safe_mirror_down(own: &ConsumerUnitBag, view: &MirrorView) -> MirrorFlag {
    let holds_unmirrored = view.relevant(true).iter().any(|(node, value)| {
        value.is_empty() && own.entries.get(node).is_some_and(|mine| !mine.is_empty())
    });
    if holds_unmirrored {
        MirrorFlag::Up
    } else {
        MirrorFlag::Down
    }
}

/// The problem of a token for `host` that cannot be passed to `join` (bad remote data).
fn bad_token(relation: &RelationId, host: &str, why: &str) -> String {
    format!(
        "relation {relation}: key {}: the join token for {host} is unusable: {why}",
        mirror_key(host)
    )
}

/// `mirror-<node>` for a message: the node name shortened, quoted.
fn shown_key(node: &str) -> String {
    let cut: String = node.chars().take(64).collect();
    format!("{:?}", mirror_key(&cut))
}

impl Plugin for TokenConsumer {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationCreated, Self::on_created)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on_any(EventKind::LeaderElected, Self::on_leader_elected)
            .on_any(EventKind::Remove, Self::on_remove)
            .on_event(Self::on_bootstrap_step)
            .on_event(Self::on_join_step)
            .collect_status(Self::collect_status);
    }
}
