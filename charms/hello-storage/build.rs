//! Embeds `metadata.yaml` as JSON (see `charm-build`): the charm binary carries no YAML parser.

fn main() -> Result<(), String> {
    charm_build::embed_metadata()
}
