//! The provider side: the distributor leader mirrors consumer hostnames and tokens.

use crate::error::TokenDistributorError;
use crate::mirror::{merge, sort_units};
use crate::wire::{
    ConsumerUnitBag, MirrorEntries, MirrorFlag, ProviderAppBag, ProviderUnitBag, mirror_key,
};
use charm::{
    Bag, Charm, Ctx, EndpointSpec, Error, Event, EventKind, ModelError, Plugin, RelationEvent,
    RelationId,
};
use serde::{Deserialize, Serialize};

/// What this distributor unit mirrors, kept between hooks (for statuses that cost no hook tool).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorSummary {
    /// This unit's mirror is up (it is the leader and published the mirror).
    pub mirror_up: bool,
    /// Live relations on the endpoint.
    pub relations: usize,
    /// Nodes mirrored (placeholders and tokens).
    pub nodes: usize,
    /// Nodes with a token.
    pub tokens: usize,
    /// The `bootstrap-app` published.
    #[serde(default)]
    pub bootstrap_app: Option<String>,
    /// The relation ids `bootstrap_app` was last published on (so it is not rewritten needlessly).
    #[serde(default)]
    pub published_on: Vec<u32>,
    /// Problems in consumer bags (bad `mirror`, bad `hostname`), for a Blocked status.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// The provider side of `worker-cluster` (Python `TokenDistributorProvides`).
#[derive(Debug, Clone)]
pub struct TokenDistributorProvider {
    endpoint: String,
}

impl TokenDistributorProvider {
    /// A provider on `endpoint` (e.g. `microcluster-cluster`).
    pub fn new(endpoint: &str) -> Self {
        TokenDistributorProvider {
            endpoint: endpoint.to_string(),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn key(&self) -> String {
        format!("token_distributor.provider:{}", self.endpoint)
    }

    /// What this unit mirrors, as of its last hook on the endpoint (`None`: nothing handled yet).
    pub fn summary(&self, ctx: &Ctx<'_>) -> Result<Option<MirrorSummary>, ModelError> {
        ctx.stored(&self.key())
    }

    /// What this unit publishes on `relation` (its own unit bag).
    pub fn published(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<ProviderUnitBag, Error> {
        let raw = ctx.read(relation, &Bag::LocalUnit)?;
        Ok(ProviderUnitBag::decode_lenient(&raw).0)
    }

    /// The endpoint this provider serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::provides(
            "token_distributor-provider",
            "worker-cluster",
            &self.endpoint,
        )
    }

    fn on_changed(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if ctx.is_leader()? {
            self.mirror_all(ctx)
        } else {
            self.stand_down(ctx, std::slice::from_ref(&event.relation))
        }
    }

    fn on_broken(&self, ctx: &mut Ctx<'_>, _event: &RelationEvent) -> Result<(), Error> {
        if ctx.is_leader()? {
            return self.mirror_all(ctx);
        }
        let mut summary = self.summary(ctx)?.unwrap_or_default();
        summary.relations = ctx.relations(&self.endpoint)?.len();
        ctx.store(&self.key(), &summary)?;
        Ok(())
    }

    fn on_leader_elected(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        // A unit (re)gaining leadership re-reads what it published.
        let mut summary = self.summary(ctx)?.unwrap_or_default();
        summary.published_on.clear();
        ctx.store(&self.key(), &summary)?;
        let relations = ctx.relations(&self.endpoint)?;
        if ctx.is_leader()? {
            self.mirror_all(ctx)
        } else {
            self.stand_down(ctx, &relations)
        }
    }

    /// A follower whose mirror is still up from an earlier leadership lowers it.
    fn stand_down(&self, ctx: &mut Ctx<'_>, relations: &[RelationId]) -> Result<(), Error> {
        for relation in relations {
            let own = self.published(ctx, relation)?;
            if own.mirror == Some(MirrorFlag::Up) {
                tracing::info!("not the leader: mirror down on {relation}");
                let bag = ProviderUnitBag {
                    mirror: Some(MirrorFlag::Down),
                    entries: MirrorEntries::default(),
                };
                ctx.save(relation, &Bag::LocalUnit, &bag)?;
            }
        }
        let mut summary = self.summary(ctx)?.unwrap_or_default();
        summary.mirror_up = false;
        summary.relations = ctx.relations(&self.endpoint)?.len();
        summary.problems.clear();
        ctx.store(&self.key(), &summary)?;
        Ok(())
    }

    /// The leader's work (LIBPATCH 8: on relation-changed of any relation and on
    /// leader-elected): merge every relation's consumers into one mirror and publish it on every
    /// relation, with `mirror=up` and the `bootstrap-app`.
    fn mirror_all(&self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let mut relations = ctx.relations(&self.endpoint)?;
        relations.sort_by_key(|r| r.id);
        let mut published: Vec<MirrorEntries> = Vec::new();
        let mut up: Vec<MirrorEntries> = Vec::new();
        let mut hostnames: Vec<String> = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        for relation in &relations {
            published.push(self.published(ctx, relation)?.entries);
            let mut units = ctx.remote_units(relation)?;
            sort_units(&mut units);
            for unit in units {
                let raw = ctx.read(relation, &Bag::Unit(unit.clone()))?;
                let (bag, errors) = ConsumerUnitBag::decode_lenient(&raw);
                for e in errors {
                    let message = TokenDistributorError::unit_bag(relation, &unit, e).to_string();
                    tracing::warn!("{message}");
                    problems.push(message);
                }
                if bag.mirror == Some(MirrorFlag::Up) {
                    up.push(bag.entries);
                }
                if let Some(host) = bag.hostname
                    && !hostnames.contains(&host)
                {
                    hostnames.push(host);
                }
            }
        }
        let published_refs: Vec<&MirrorEntries> = published.iter().collect();
        let up_refs: Vec<&MirrorEntries> = up.iter().collect();
        let merged = merge(&published_refs, &up_refs, &hostnames);
        for node in &merged.added {
            tracing::info!("added {} to mirror", mirror_key(node));
        }
        let bag = ProviderUnitBag {
            mirror: Some(MirrorFlag::Up),
            entries: merged.entries,
        };
        for relation in &relations {
            ctx.save(relation, &Bag::LocalUnit, &bag)?;
        }
        let mut summary = self.summary(ctx)?.unwrap_or_default();
        let ids: Vec<u32> = relations.iter().map(|r| r.id).collect();
        if summary.published_on != ids || summary.bootstrap_app.is_none() {
            let app = self.choose_bootstrap_app(ctx, &relations)?;
            if let Some(app) = &app {
                let app_bag = ProviderAppBag {
                    bootstrap_app: Some(app.clone()),
                };
                for relation in &relations {
                    ctx.save(relation, &Bag::LocalApp, &app_bag)?;
                }
            }
            summary.published_on = if app.is_some() { ids } else { Vec::new() };
            summary.bootstrap_app = app;
        }
        summary.mirror_up = !relations.is_empty();
        summary.relations = relations.len();
        summary.nodes = bag.entries.len();
        summary.tokens = bag.entries.tokens();
        summary.problems = problems;
        ctx.store(&self.key(), &summary)?;
        Ok(())
    }

    /// The `bootstrap-app`: the one already published on a relation, if that application is
    /// still related; else the remote application of the oldest relation. (LIBPATCH 8 keeps a
    /// departed application's name, so nobody could bootstrap again: a deliberate divergence.)
    fn choose_bootstrap_app(
        &self,
        ctx: &mut Ctx<'_>,
        relations: &[RelationId],
    ) -> Result<Option<String>, Error> {
        let mut apps: Vec<String> = Vec::new();
        for relation in relations {
            if let Some(app) = ctx.remote_app(relation)? {
                apps.push(app);
            }
        }
        for relation in relations {
            let raw = ctx.read(relation, &Bag::LocalApp)?;
            if let Ok(ProviderAppBag {
                bootstrap_app: Some(app),
            }) = ProviderAppBag::decode(&raw)
                && apps.contains(&app)
            {
                return Ok(Some(app));
            }
        }
        Ok(apps.into_iter().next())
    }
}

impl Plugin for TokenDistributorProvider {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::LeaderElected, Self::on_leader_elected);
    }
}
