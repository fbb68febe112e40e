//! `microcluster-token-distributor`: the provider side of `worker-cluster`.
//!
//! The leader mirrors, on every `microcluster-cluster` relation, a `mirror-<host>=empty`
//! placeholder for each consumer unit and the tokens the consumer's communicator mints; it names
//! the consumer application that bootstraps in `bootstrap-app`. Followers keep their mirror down.
//! The `cluster` peer endpoint exists as in the Python charm; nothing uses it.
//!
//! Status: `active` "mirroring N nodes, M tokens" on the leader, `active` "standby mirror" on
//! followers, `waiting` "waiting for consumers" without a relation, `blocked` when a consumer
//! publishes data that does not fit the interface. The status costs no hook tool: it comes from
//! what the library stored when it last handled the relation.

use charm::{Charm, Ctx, Error, Status, StatusCollector};
use token_distributor::TokenDistributorProvider;

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml` (no options).
pub const CONFIG: &str = include_str!("../config.yaml");
/// The endpoint consumers relate to.
pub const ENDPOINT: &str = "microcluster-cluster";

fn status(
    provider: &TokenDistributorProvider,
    ctx: &mut Ctx,
    statuses: &mut StatusCollector,
) -> Result<(), Error> {
    let status = match provider.summary(ctx)? {
        Some(s) if s.relations > 0 => match s.problems.first() {
            Some(problem) => Status::blocked(problem.clone()),
            None if s.mirror_up => {
                Status::active(format!("mirroring {} nodes, {} tokens", s.nodes, s.tokens))
            }
            None => Status::active("standby mirror"),
        },
        _ => Status::waiting("waiting for consumers"),
    };
    statuses.add_unit(status);
    Ok(())
}

/// The charm.
pub fn charm() -> Charm {
    let provider = TokenDistributorProvider::new(ENDPOINT);
    let mut charm = Charm::new();
    let p = provider.clone();
    charm
        .metadata(METADATA_JSON)
        .plugin(provider)
        .collect_status(move |ctx: &mut Ctx, s: &mut StatusCollector| status(&p, ctx, s));
    charm
}
