//! The workspace's architecture, checked: every crate sits in a layer, and a crate may only use
//! the layers the table allows (dev-dependencies may also use the test tooling). Two binaries may not share a name (they would overwrite each other in
//! `target/`). `tests/workspace.rs` runs [`check`] on `cargo metadata` of this workspace.
//!
//! | Layer | Crates | May use (normal and build dependencies) |
//! |---|---|---|
//! | `Top` | `interface-tests/*`, `tools/*` | everything below, and each other |
//! | `Charm` | `charms/*` | libraries and the core; never another charm, nor the tooling |
//! | `Tooling` | `libs/charm-testing`, `libs/juju-local`, `libs/pebble-server` | libraries and the core |
//! | `Library` | every other crate of `libs/` | other libraries and the core |
//! | `Core` | `libs/charm`, `libs/charm-exec`, `libs/pyjson`, `libs/pebble` | the core crates below it |
//!
//! Dev-dependencies may use anything a normal dependency may, plus the `Tooling` layer (tests
//! run charms in the harness or a local model). Nothing may use `Top`, except `Top` itself.

use std::collections::BTreeMap;
use std::path::Path;

/// Where a crate sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// The framework core: the dispatch path, and crates it is built on.
    Core,
    /// Relation libraries and crates they share.
    Library,
    /// What tests run charms with: the harness, the local model, the Pebble server.
    Tooling,
    /// Charms.
    Charm,
    /// Contract tests and tools.
    Top,
}

/// The core crates, each listed with the core crates it may use.
pub const CORE: &[(&str, &[&str])] = &[
    ("charm-exec", &[]),
    ("charm", &["charm-exec", "pyjson", "pebble"]),
    ("pyjson", &[]),
    ("pebble", &[]),
];

/// The test and local-model tooling of `libs/`.
pub const TOOLING: &[&str] = &["charm-testing", "juju-local", "pebble-server"];

/// The layer of a crate, from its name and its directory relative to the workspace root; `None`
/// for a crate outside `libs/`, `charms/`, `interface-tests/` and `tools/`.
pub fn layer_of(name: &str, dir: &Path) -> Option<Layer> {
    let top = dir.components().next()?.as_os_str().to_str()?;
    Some(match top {
        "libs" if CORE.iter().any(|(n, _)| *n == name) => Layer::Core,
        "libs" if TOOLING.contains(&name) => Layer::Tooling,
        "libs" => Layer::Library,
        "charms" => Layer::Charm,
        "interface-tests" | "tools" => Layer::Top,
        _ => return None,
    })
}

/// How a crate uses another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`.
    Dev,
}

/// Whether a crate of layer `from` (named `from_name`) may use one of layer `to` (named
/// `to_name`) this way.
pub fn allowed(from: Layer, from_name: &str, to: Layer, to_name: &str, kind: Kind) -> bool {
    if kind == Kind::Dev && to == Layer::Tooling && from != Layer::Top {
        return true;
    }
    match (from, to) {
        (Layer::Core, Layer::Core) => CORE
            .iter()
            .any(|(n, uses)| *n == from_name && uses.contains(&to_name)),
        (Layer::Top, _) => true,
        (Layer::Library | Layer::Tooling | Layer::Charm, Layer::Core | Layer::Library) => true,
        _ => false,
    }
}

/// One workspace crate as `cargo metadata` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crate {
    /// The package name.
    pub name: String,
    /// Its directory, relative to the workspace root.
    pub dir: std::path::PathBuf,
    /// The workspace crates it uses.
    pub uses: Vec<(String, Kind)>,
    /// Its binaries.
    pub bins: Vec<String>,
}

/// The workspace's crates from `cargo metadata --format-version 1` output.
pub fn crates(metadata: &serde_json::Value) -> Result<Vec<Crate>, String> {
    let root = metadata["workspace_root"]
        .as_str()
        .ok_or("cargo metadata has no workspace_root")?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata has no packages")?;
    let names: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut out = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let manifest = Path::new(p["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest
            .parent()
            .and_then(|d| d.strip_prefix(root).ok())
            .ok_or_else(|| format!("{name}: manifest outside the workspace"))?
            .to_path_buf();
        let empty = Vec::new();
        let uses = p["dependencies"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|d| d["path"].is_string())
            .filter_map(|d| {
                let dep = d["name"].as_str()?;
                names.contains(&dep).then(|| {
                    let kind = match d["kind"].as_str() {
                        Some("dev") => Kind::Dev,
                        Some("build") => Kind::Build,
                        _ => Kind::Normal,
                    };
                    (dep.to_string(), kind)
                })
            })
            .collect();
        let bins = p["targets"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"))
            })
            .filter_map(|t| t["name"].as_str().map(str::to_string))
            .collect();
        out.push(Crate {
            name,
            dir,
            uses,
            bins,
        });
    }
    Ok(out)
}

/// Everything wrong with the workspace's architecture, one line each.
pub fn check(crates: &[Crate]) -> Vec<String> {
    let mut problems = Vec::new();
    let layers: BTreeMap<&str, Layer> = crates
        .iter()
        .filter_map(|c| layer_of(&c.name, &c.dir).map(|l| (c.name.as_str(), l)))
        .collect();
    for c in crates {
        let Some(&from) = layers.get(c.name.as_str()) else {
            problems.push(format!(
                "{} ({}) is in no layer: put it under libs/, charms/, interface-tests/ or tools/",
                c.name,
                c.dir.display()
            ));
            continue;
        };
        for (dep, kind) in &c.uses {
            let Some(&to) = layers.get(dep.as_str()) else {
                continue;
            };
            if !allowed(from, &c.name, to, dep, *kind) {
                problems.push(format!(
                    "{} ({from:?}) may not use {dep} ({to:?}) as a {kind:?} dependency",
                    c.name
                ));
            }
        }
    }
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in crates {
        for bin in &c.bins {
            owners.entry(bin).or_default().push(&c.name);
        }
    }
    for (bin, by) in owners {
        if by.len() > 1 {
            problems.push(format!(
                "binary {bin} is built by {}: one would overwrite the other in target/",
                by.join(" and ")
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krate(name: &str, dir: &str, uses: &[(&str, Kind)], bins: &[&str]) -> Crate {
        Crate {
            name: name.into(),
            dir: dir.into(),
            uses: uses.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            bins: bins.iter().map(|b| b.to_string()).collect(),
        }
    }

    fn base() -> Vec<Crate> {
        vec![
            krate("charm-exec", "libs/charm-exec", &[], &[]),
            krate("charm", "libs/charm", &[("charm-exec", Kind::Normal)], &[]),
            krate(
                "charm-testing",
                "libs/charm-testing",
                &[("charm", Kind::Normal)],
                &[],
            ),
            krate(
                "juju-local",
                "libs/juju-local",
                &[("charm", Kind::Normal)],
                &["juju-local"],
            ),
            krate(
                "s3",
                "libs/s3",
                &[("charm", Kind::Normal), ("charm-testing", Kind::Dev)],
                &[],
            ),
            krate(
                "hello",
                "charms/hello",
                &[("charm", Kind::Normal)],
                &["hello"],
            ),
            krate(
                "s3-consumer",
                "charms/s3-consumer",
                &[("s3", Kind::Normal), ("charm-testing", Kind::Dev)],
                &["s3-consumer"],
            ),
            krate(
                "s3-contract",
                "interface-tests/s3",
                &[("s3-consumer", Kind::Normal), ("juju-local", Kind::Dev)],
                &[],
            ),
        ]
    }

    fn with(extra: Crate) -> Vec<String> {
        let mut all = base();
        all.retain(|c| c.name != extra.name);
        all.push(extra);
        check(&all)
    }

    #[test]
    fn the_layout_as_it_should_be_passes() {
        assert_eq!(check(&base()), Vec::<String>::new());
    }

    #[test]
    fn the_core_may_not_reach_up() {
        let bad = krate(
            "charm",
            "libs/charm",
            &[("charm-exec", Kind::Normal), ("juju-local", Kind::Normal)],
            &[],
        );
        assert_eq!(
            with(bad),
            ["charm (Core) may not use juju-local (Tooling) as a Normal dependency"]
        );
        // Nor use a core crate it is not built on.
        let bad = krate(
            "charm-exec",
            "libs/charm-exec",
            &[("charm", Kind::Normal)],
            &[],
        );
        assert_eq!(with(bad).len(), 1);
    }

    #[test]
    fn a_library_uses_the_harness_only_in_its_tests() {
        let bad = krate("s3", "libs/s3", &[("charm-testing", Kind::Normal)], &[]);
        assert_eq!(
            with(bad),
            ["s3 (Library) may not use charm-testing (Tooling) as a Normal dependency"]
        );
        let bad = krate("s3", "libs/s3", &[("hello", Kind::Dev)], &[]);
        assert_eq!(with(bad).len(), 1, "nor a charm, even in tests");
    }

    #[test]
    fn a_charm_may_not_use_another_charm_or_the_tooling() {
        let bad = krate(
            "s3-consumer",
            "charms/s3-consumer",
            &[("hello", Kind::Normal), ("juju-local", Kind::Build)],
            &["s3-consumer"],
        );
        assert_eq!(
            with(bad),
            [
                "s3-consumer (Charm) may not use hello (Charm) as a Normal dependency",
                "s3-consumer (Charm) may not use juju-local (Tooling) as a Build dependency",
            ]
        );
    }

    #[test]
    fn nothing_below_uses_the_contract_tests() {
        let bad = krate(
            "juju-local",
            "libs/juju-local",
            &[("s3-contract", Kind::Dev)],
            &[],
        );
        assert_eq!(with(bad).len(), 1);
    }

    #[test]
    fn two_binaries_may_not_share_a_name() {
        let bad = krate("s3-contract", "interface-tests/s3", &[], &["hello"]);
        assert_eq!(
            with(bad),
            [
                "binary hello is built by hello and s3-contract: one would overwrite the other in target/"
            ]
        );
    }

    #[test]
    fn a_crate_outside_the_known_places_is_reported() {
        let bad = krate("stray", "stray", &[], &[]);
        assert_eq!(with(bad).len(), 1);
    }

    #[test]
    fn metadata_is_read_as_cargo_writes_it() {
        let metadata = serde_json::json!({
            "workspace_root": "/w",
            "packages": [
                {"name": "charm", "manifest_path": "/w/libs/charm/Cargo.toml",
                 "dependencies": [{"name": "serde", "kind": null}], "targets": [{"name": "charm", "kind": ["lib"]}]},
                {"name": "hello", "manifest_path": "/w/charms/hello/Cargo.toml",
                 "dependencies": [{"name": "charm", "kind": null, "path": "/w/libs/charm"},
                                  {"name": "charm-testing", "kind": "dev", "path": "/w/libs/charm-testing"}],
                 "targets": [{"name": "hello", "kind": ["bin"]}, {"name": "hello", "kind": ["lib"]}]},
            ]
        });
        let crates = crates(&metadata).unwrap_or_default();
        assert_eq!(crates.len(), 2);
        assert_eq!(crates[1].dir, Path::new("charms/hello"));
        // charm-testing is not in this workspace: left out; serde is not a path dependency.
        assert_eq!(crates[1].uses, vec![("charm".to_string(), Kind::Normal)]);
        assert_eq!(crates[1].bins, vec!["hello".to_string()]);
        assert!(crates[0].uses.is_empty());
    }
}
