//! The packer on the workspace's own charms: what a packed charm holds, and metadata Juju would
//! refuse at deploy refused before anything is written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory under the target dir, removed first if an earlier run left it.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pack(charms: &Path, bin_dir: &Path, out: &Path, name: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_charm-pack"))
        .args(["--charms".as_ref(), charms.as_os_str()])
        .args(["--bin-dir".as_ref(), bin_dir.as_os_str()])
        .args(["--out".as_ref(), out.as_os_str()])
        .arg(name)
        .output()
        .unwrap()
}

#[test]
fn a_sidecar_charm_packs_with_its_container_and_resource() {
    let dir = scratch("sidecar");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("resource-dispatcher"), b"#!/bin/sh\n").unwrap();
    let out = pack(
        &workspace().join("charms"),
        &bin,
        &dir,
        "resource-dispatcher",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let file = std::fs::File::open(dir.join("resource-dispatcher.charm")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "actions.yaml",
            "config.yaml",
            "dispatch",
            "manifest.yaml",
            "metadata.yaml"
        ]
    );
    let dispatch = zip.by_name("dispatch").unwrap();
    assert_eq!(dispatch.unix_mode().map(|m| m & 0o777), Some(0o755));
    drop(dispatch);
    let mut text = String::new();
    zip.by_name("metadata.yaml")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let source = workspace().join("charms/resource-dispatcher/metadata.yaml");
    assert_eq!(text, std::fs::read_to_string(source).unwrap());
    let meta: serde_json::Value = charm_yaml::from_str(&text).unwrap();
    assert_eq!(
        meta["containers"]["resource-dispatcher"]["resource"],
        "oci-image"
    );
    assert_eq!(meta["resources"]["oci-image"]["type"], "oci-image");
    let unpacked = dir.join("charms/resource-dispatcher/dispatch");
    let mode = std::fs::metadata(unpacked).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
}

#[test]
fn metadata_juju_would_refuse_is_not_packed() {
    let dir = scratch("refused");
    let charm = dir.join("charms/bad");
    std::fs::create_dir_all(&charm).unwrap();
    // The container names a resource the charm does not declare.
    std::fs::write(
        charm.join("metadata.yaml"),
        "name: bad\ncontainers:\n  web:\n    resource: web-image\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad"), b"#!/bin/sh\n").unwrap();
    let out = pack(&dir.join("charms"), &dir, &dir, "bad");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("web-image"), "{stderr}");
    assert!(!dir.join("bad.charm").exists());
}

#[test]
fn every_charm_of_the_workspace_passes_the_metadata_checks() {
    let dir = scratch("all");
    let charms = workspace().join("charms");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&charms).unwrap() {
        let path = entry.unwrap().path();
        if path.join("metadata.yaml").is_file() {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            std::fs::write(dir.join(&name), b"#!/bin/sh\n").unwrap();
            names.push(name);
        }
    }
    assert!(names.len() >= 10, "{names:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_charm-pack"))
        .args(["--charms".as_ref(), charms.as_os_str()])
        .args(["--bin-dir".as_ref(), dir.as_os_str()])
        .args(["--out".as_ref(), dir.as_os_str()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in names {
        assert!(dir.join(format!("{name}.charm")).is_file(), "{name}");
    }
}
