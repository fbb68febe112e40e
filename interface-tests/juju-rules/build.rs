//! Embeds the probe charm's `metadata.yaml` as JSON (see `charm-build`), as every charm does.

use std::path::Path;

fn main() -> Result<(), String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    charm_build::embed(&Path::new(&dir).join("probe"), Path::new(&out))
}
