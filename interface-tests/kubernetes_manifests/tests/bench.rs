//! The benchmark fixture: a resource-dispatcher hook reading 1,000 manifests. `make bench` times
//! the same hook in a release build (`tools/charm-bench/src/manifests.rs`; target: under 20 ms own
//! time); here it is checked for correctness and for a generous upper bound, so a pathological
//! slowdown fails CI.

use kubernetes_manifests::wire;
use kubernetes_manifests_contract::{ProviderBench, manifest_list, manifest_list_json};
use std::time::{Duration, Instant};

#[test]
fn the_list_builder_is_realistic_and_python_shaped() {
    let items = manifest_list(1_000);
    assert_eq!(items.len(), 1_000);
    let json = manifest_list_json(1_000);
    assert!(json.starts_with(
        r#"[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings-00000""#
    ));
    assert!(json.contains(r#""note": "g\u00e9n\u00e9r\u00e9""#));
    assert!(
        json.len() < wire::MAX_MANIFESTS_BYTES,
        "{} bytes",
        json.len()
    );
    assert_eq!(wire::decode_manifest_list(&json).unwrap(), items);
}

#[test]
fn a_provider_hook_reads_1000_manifests() {
    let bench = ProviderBench::new(1_000, 4);
    let start = Instant::now();
    let out = bench.run();
    let took = start.elapsed();
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        out.state.unit_status.as_ref().map(|s| s.message.as_str()),
        // No workload container here: the relations are read, then it waits for one.
        Some("Container is not ready")
    );
    // One relation-ids (config-maps), a bag per relation, a secret per relation.
    assert_eq!(out.calls_to("relation-ids"), 1);
    assert_eq!(out.calls_to("secret-get"), 4);
    assert_eq!(out.calls_to("relation-get"), 4);
    eprintln!("provider hook over 1,000 manifests (harness, this profile): {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
