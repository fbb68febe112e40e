//! This workspace, as `cargo metadata` describes it, keeps the architecture of `src/lib.rs`.

use std::process::Command;

#[test]
fn no_crate_reaches_upward_and_no_two_binaries_share_a_name() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .args(["--manifest-path", manifest])
        .output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        Ok(out) => panic!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("cannot run cargo metadata: {e}"),
    };
    let metadata: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("cargo metadata printed no JSON: {e}"),
    };
    let crates = match arch_lint::crates(&metadata) {
        Ok(crates) => crates,
        Err(e) => panic!("{e}"),
    };
    assert!(crates.len() > 20, "only {} crates found", crates.len());
    let problems = arch_lint::check(&crates);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
