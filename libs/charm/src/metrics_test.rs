//! Tests of `metrics.rs`.

#[test]
fn reads_its_own_peak_rss() {
    let kb = super::peak_rss_kb().unwrap_or(0);
    assert!(kb > 100, "{kb}");
}
