//! The crate's modules import only downwards: the rows of the layer table in `src/lib.rs`.
//! A module that uses one on its own row or above fails here, naming both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layer table of `src/lib.rs`, bottom row first.
const ROWS: &[&[&str]] = &[
    &["error", "clock", "base64", "yaml"],
    &["ids", "files"],
    &["meta", "flags", "format", "options"],
    &["state"],
    &["hook_run", "journal", "timeline", "storage", "resources"],
    &["rules", "redact"],
    &["commit", "story"],
    &["resolver", "tools", "process", "action_params"],
    &["executor", "relate", "report", "workload"],
    &["model"],
    &["scenario"],
    &["cli"],
];

fn row_of(module: &str) -> Option<usize> {
    ROWS.iter().position(|row| row.contains(&module))
}

/// The module a source file belongs to: `src/x.rs` and `src/x/*.rs` are module `x`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    Some(first.trim_end_matches(".rs").to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::<module>` a file's code names (comments left out).
fn uses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

/// `use crate::{a, b::c}` groups name several modules on one line; split them too.
fn grouped_uses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("").trim();
        if let Some(rest) = code.strip_prefix("use crate::{") {
            for part in rest.trim_end_matches("};").split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        }
    }
    found
}

#[test]
fn every_module_is_in_the_layer_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut missing = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        if module != "lib" && module != "main" && row_of(&module).is_none() {
            missing.push(module);
        }
    }
    assert!(
        missing.is_empty(),
        "modules missing from the layer table (src/lib.rs and tests/layers.rs): {missing:?}"
    );
}

#[test]
fn imports_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut checked = 0;
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let Some(row) = row_of(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for used in uses(&text).into_iter().chain(grouped_uses(&text)) {
            checked += 1;
            if used == module {
                continue;
            }
            match row_of(&used) {
                Some(r) if r < row => {}
                _ => upward
                    .entry(format!("{module} (row {row})"))
                    .or_default()
                    .push(format!("{used} (row {:?})", row_of(&used))),
            }
        }
    }
    assert!(checked > 50, "the scan found only {checked} imports");
    assert!(
        upward.is_empty(),
        "imports that do not point down the layer table: {upward:#?}"
    );
}

#[test]
fn the_scan_sees_imports() {
    assert_eq!(
        uses("use crate::state::X; // crate::cli in a comment\nlet a = crate::rules::f();"),
        vec!["state".to_string(), "rules".to_string()]
    );
    assert_eq!(
        grouped_uses("use crate::{flags::Flag, state};"),
        vec!["flags".to_string(), "state".to_string()]
    );
}

#[test]
fn unsafe_code_lives_in_the_process_module_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        if code.contains("unsafe") {
            found.push(module_of(&src, file).unwrap_or_default());
        }
    }
    assert_eq!(found, vec!["process".to_string()]);
}
