//! `worker-cluster-legacy`: a charm for the local-model matrix that behaves as the upstream
//! Python token distributor library of the LIBPATCH in its config `libpatch` (2 to 8), on both
//! sides: the distributor on `microcluster-cluster`, a consumer on `cluster`. The rules are those
//! of [`token_distributor_contract::legacy`] (pinned by `fixtures/libpatch{N}.json`); this binary
//! only wires them to hooks as the Python library does:
//!
//! - distributor: relation-changed (leader) and leader-elected; with 2+ relations leader-elected
//!   fails the hook on LIBPATCH 2 and 3, as TooManyRelatedApps does;
//! - consumer: `hostname` and the bootstrap decision at relation-created (2) or relation-joined
//!   (3+; 6+ defer while no mirror is up, 7+ also without `bootstrap-app`), join with the mirrored token at relation-changed, the communicator
//!   minting tokens, the mirror flag (safe mirror down since 3, its KeyError included).
//!
//! The consumer's cluster is the `fake-microcluster` state file (`$FAKE_MICROCLUSTER_STATE`),
//! run in process, as node `$MICROCLUSTER_NODE_NAME`. Its metadata is in `legacy/`.

use charm::{
    Bag, Charm, Ctx, Error, Event, EventKind, RelationEvent, RelationId, Status, StatusCollector,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use token_distributor::{Members, Role};
use token_distributor_contract::legacy::{self, LegacyError, ProviderRelation};
use token_distributor_contract::{NODE_ENV, STATE_ENV, run_with_file};

const PROVIDES: &str = "microcluster-cluster";
const REQUIRES: &str = "cluster";
const IN_CLUSTER: &str = "legacy.in_cluster";
const PREFIX: &str = "mirror-";
const EMPTY: &str = "empty";

#[derive(Deserialize)]
struct Config {
    libpatch: i64,
}

fn patch(ctx: &mut Ctx) -> Result<u8, Error> {
    let config: Config = ctx.config()?;
    u8::try_from(config.libpatch)
        .ok()
        .filter(|p| legacy::PATCHES.contains(p))
        .ok_or_else(|| Error::blocked(format!("libpatch {} is not 2 to 8", config.libpatch)))
}

// ----- distributor -----

fn provider_relations(ctx: &mut Ctx) -> Result<Vec<(RelationId, ProviderRelation)>, Error> {
    let mut out = Vec::new();
    for rid in ctx.relations(PROVIDES)? {
        let mut rel = ProviderRelation {
            id: rid.id,
            remote_app: ctx.remote_app(&rid)?.unwrap_or_default(),
            own_unit: ctx.read(&rid, &Bag::LocalUnit)?.into_iter().collect(),
            own_app: if ctx.is_leader()? {
                ctx.read(&rid, &Bag::LocalApp)?.into_iter().collect()
            } else {
                BTreeMap::new()
            },
            units: BTreeMap::new(),
        };
        for unit in ctx.remote_units(&rid)? {
            if let Some(n) = unit.rsplit_once('/').and_then(|(_, n)| n.parse().ok()) {
                let bag = ctx.read(&rid, &Bag::Unit(unit.clone()))?;
                rel.units.insert(n, bag.into_iter().collect());
            }
        }
        out.push((rid, rel));
    }
    Ok(out)
}

/// Writes what changed in the distributor's own bags.
fn write_provider(
    ctx: &mut Ctx,
    before: &[(RelationId, ProviderRelation)],
    after: &[ProviderRelation],
) -> Result<(), Error> {
    for (rid, old) in before {
        let Some(new) = after.iter().find(|r| r.id == rid.id) else {
            continue;
        };
        if new.own_unit != old.own_unit {
            ctx.update(rid, &Bag::LocalUnit, &new.own_unit)?;
        }
        if new.own_app != old.own_app {
            ctx.update(rid, &Bag::LocalApp, &new.own_app)?;
        }
    }
    Ok(())
}

fn on_provider_changed(ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
    let patch = patch(ctx)?;
    if !ctx.is_leader()? {
        return Ok(());
    }
    let before = provider_relations(ctx)?;
    let mut after: Vec<ProviderRelation> = before.iter().map(|(_, r)| r.clone()).collect();
    legacy::provider_changed(patch, &mut after, event.relation.id);
    write_provider(ctx, &before, &after)
}

fn on_leader_elected(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
    let patch = patch(ctx)?;
    let before = provider_relations(ctx)?;
    let mut after: Vec<ProviderRelation> = before.iter().map(|(_, r)| r.clone()).collect();
    match legacy::provider_leader_elected(patch, ctx.is_leader()?, &mut after) {
        Ok(()) => write_provider(ctx, &before, &after),
        Err(LegacyError::TooManyRelatedApps) => Err(Error::fail(format!(
            "TooManyRelatedApps: LIBPATCH {patch} handles one {PROVIDES} relation"
        ))),
    }
}

// ----- consumer -----

fn node() -> Result<String, Error> {
    token_distributor::hostname::from_env_or_system(NODE_ENV)
        .map_err(|e| Error::blocked(e.to_string()))
}

/// Runs the fake cluster CLI as this node: (exit code, stdout).
fn cli(args: &[&str]) -> Result<(i32, String), Error> {
    let path = std::env::var_os(STATE_ENV)
        .map(PathBuf::from)
        .ok_or_else(|| Error::blocked(format!("set {STATE_ENV}")))?;
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = run_with_file(&path, &node()?, &args).map_err(|e| Error::fail(e.to_string()))?;
    Ok((out.code.unwrap_or(1), out.stdout))
}

fn in_cluster(ctx: &Ctx) -> Result<bool, Error> {
    Ok(ctx.stored::<bool>(IN_CLUSTER)?.unwrap_or(false))
}

fn distributor_units(ctx: &mut Ctx, rid: &RelationId) -> Result<Vec<legacy::Bag>, Error> {
    let mut units = ctx.remote_units(rid)?;
    units.sort_by_key(|u| u.rsplit_once('/').and_then(|(_, n)| n.parse::<u32>().ok()));
    let mut out = Vec::new();
    for u in units {
        out.push(ctx.read(rid, &Bag::Unit(u))?.into_iter().collect());
    }
    Ok(out)
}

/// Python `get_relevant_mirror_data(keep_empty=True)`: corroborated values of the up mirrors.
fn relevant(units: &[legacy::Bag]) -> legacy::Bag {
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in units
        .iter()
        .filter(|b| b.get("mirror").is_some_and(|m| m == "up"))
    {
        for (k, v) in b.iter().filter(|(k, _)| k.starts_with(PREFIX)) {
            all.entry(k.clone()).or_default().push(v.clone());
        }
    }
    all.into_iter()
        .map(|(k, vs)| {
            let v = token_distributor::mirror::corroborate(&vs, &EMPTY.to_string());
            (k, v)
        })
        .collect()
}

/// Python `_handle_mirror`: the mirror flag, then tokens if this unit is the communicator.
fn handle_mirror(ctx: &mut Ctx, patch: u8, rid: &RelationId) -> Result<(), Error> {
    let host = node()?;
    let mut communicator = false;
    if in_cluster(ctx)? {
        // `_wait_for_pending`, bounded here (Python loops forever).
        for _ in 0..20 {
            let (code, stdout) = cli(&["cluster", "list", "-f", "json"])?;
            if code != 0 {
                break;
            }
            let members = Members::parse(&stdout).map_err(|e| Error::fail(e.to_string()))?;
            if members.0.iter().any(|m| m.role == Role::Pending) {
                continue;
            }
            communicator = members.communicator() == Some(host.as_str());
            break;
        }
    }
    let own: legacy::Bag = ctx.read(rid, &Bag::LocalUnit)?.into_iter().collect();
    let units = distributor_units(ctx, rid)?;
    let data = relevant(&units);
    let flag = legacy::consumer_mirror_flag(patch, communicator, &own, &data)
        .map_err(|key| Error::fail(format!("KeyError: '{key}'")))?;
    if let Some(flag) = flag {
        ctx.set(rid, &Bag::LocalUnit, "mirror", flag)?;
    }
    if !communicator {
        return Ok(());
    }
    for (key, value) in data {
        if value != EMPTY || own.contains_key(&key) {
            continue;
        }
        let Some(name) = key.strip_prefix(PREFIX) else {
            continue;
        };
        let (code, stdout) = cli(&["cluster", "add", name])?;
        if code == 0 {
            ctx.set(rid, &Bag::LocalUnit, &key, stdout.trim())?;
        }
    }
    Ok(())
}

/// The bootstrap hook: relation-created (LIBPATCH 2) or relation-joined (3+).
fn bootstrap_hook(ctx: &mut Ctx, patch: u8, rid: &RelationId) -> Result<(), Error> {
    let units = distributor_units(ctx, rid)?;
    let refs: Vec<&legacy::Bag> = units.iter().collect();
    let app: legacy::Bag = ctx.read(rid, &Bag::RemoteApp)?.into_iter().collect();
    let own_app = ctx.app_name().to_string();
    let leader = ctx.is_leader()?;
    let d =
        legacy::consumer_bootstrap_decision(patch, &own_app, leader, in_cluster(ctx)?, &refs, &app);
    if d.defers {
        ctx.defer()?;
    }
    ctx.set(rid, &Bag::LocalUnit, "hostname", &node()?)?;
    if d.bootstraps {
        let (code, _) = cli(&["cluster", "bootstrap"])?;
        if code != 0 {
            ctx.defer()?;
            return Ok(());
        }
        ctx.store(IN_CLUSTER, &true)?;
    }
    handle_mirror(ctx, patch, rid)
}

fn on_consumer_created(ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
    let patch = patch(ctx)?;
    if patch <= 2 {
        return bootstrap_hook(ctx, patch, &event.relation);
    }
    Ok(())
}

fn on_consumer_joined(ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
    let patch = patch(ctx)?;
    if patch >= 3 {
        return bootstrap_hook(ctx, patch, &event.relation);
    }
    Ok(())
}

fn on_consumer_changed(ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
    let patch = patch(ctx)?;
    let rid = &event.relation;
    if !in_cluster(ctx)? {
        let host = node()?;
        let units = distributor_units(ctx, rid)?;
        let key = format!("{PREFIX}{host}");
        let values: Vec<String> = units
            .iter()
            .filter(|b| b.get("mirror").is_some_and(|m| m == "up"))
            .filter_map(|b| b.get(&key).filter(|v| *v != EMPTY).cloned())
            .collect();
        if values.is_empty() {
            return Ok(());
        }
        let token = token_distributor::mirror::corroborate(&values, &EMPTY.to_string());
        let (code, _) = cli(&["cluster", "join", &token])?;
        if code != 0 {
            ctx.defer()?;
            return Ok(());
        }
        ctx.store(IN_CLUSTER, &true)?;
    }
    handle_mirror(ctx, patch, rid)
}

fn main() -> ExitCode {
    let mut charm = Charm::new();
    charm
        .on(EventKind::RelationChanged.on(PROVIDES), on_provider_changed)
        .on(EventKind::LeaderElected, on_leader_elected)
        .on(EventKind::RelationCreated.on(REQUIRES), on_consumer_created)
        .on(EventKind::RelationJoined.on(REQUIRES), on_consumer_joined)
        .on(EventKind::RelationChanged.on(REQUIRES), on_consumer_changed)
        .collect_status(|ctx: &mut Ctx, s: &mut StatusCollector| {
            let patch = patch(ctx)?;
            let member = if in_cluster(ctx)? { ", in cluster" } else { "" };
            s.add_unit(Status::active(format!("LIBPATCH {patch}{member}")));
            Ok(())
        });
    charm.run()
}
