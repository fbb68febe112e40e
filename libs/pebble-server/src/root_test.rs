//! Tests of `root.rs.rs`.

use super::*;

fn temp_root(name: &str) -> io::Result<(PathBuf, Root)> {
    let base = std::env::temp_dir().join(format!("pebble-root-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = Root::new(&base.join("root"))?;
    Ok((base, root))
}

#[test]
fn maps_paths_under_the_root_and_refuses_escapes() -> io::Result<()> {
    let (base, root) = temp_root("map")?;
    let host = |p: &str, f: bool| root.host_path(p, f);
    assert_eq!(
        host("/etc/app.conf", true).ok(),
        Some(root.dir().join("etc/app.conf"))
    );
    assert_eq!(host("/", true).ok(), Some(root.dir().to_path_buf()));
    assert_eq!(
        host("etc", true).map_err(|e| e.message),
        Err("paths must be absolute, got \"etc\"".into())
    );
    assert_eq!(
        host("/a/../../x", true).map_err(|e| e.kind),
        Err("permission-denied")
    );
    // A symlink inside the root to a place inside is fine; one to the outside is refused.
    std::fs::create_dir_all(root.dir().join("data"))?;
    std::os::unix::fs::symlink(root.dir().join("data"), root.dir().join("in"))?;
    std::os::unix::fs::symlink(&base, root.dir().join("out"))?;
    assert_eq!(host("/in/f", true).ok(), Some(root.dir().join("data/f")));
    assert_eq!(
        host("/out/f", true).map_err(|e| e.kind),
        Err("permission-denied")
    );
    assert_eq!(
        host("/out", true).map_err(|e| e.kind),
        Err("permission-denied")
    );
    // Not following the last component: the link itself (remove it, replace it).
    assert_eq!(host("/out", false).ok(), Some(root.dir().join("out")));
    assert_eq!(
        root.container_path(&root.dir().join("data/f")).as_deref(),
        Some("/data/f")
    );
    std::fs::remove_dir_all(&base)
}
