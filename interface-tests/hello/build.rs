//! Embeds the probe charm's `probe/metadata.yaml` as JSON (see `charm-build`).

use std::path::Path;

fn main() -> Result<(), String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let out = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    charm_build::embed(&Path::new(&dir).join("probe"), Path::new(&out))
}
