//! Tests of `process.rs`.

use super::*;

#[test]
fn log_lines_are_cut_by_bytes_on_character_boundaries() {
    assert_eq!(split_at_bytes("abc", 5), ("abc", ""));
    assert_eq!(split_at_bytes("abcdef", 3), ("abc", "def"));
    // "é" is two bytes: a cut at 2 would split it, so the line ends before it.
    assert_eq!(split_at_bytes("aéb", 2), ("a", "éb"));
    assert_eq!(split_at_bytes("aéb", 3), ("aé", "b"));
    let text = "€".repeat(50_000); // 150,000 bytes, 50,000 characters
    let (line, rest) = split_at_bytes(&text, MAX_LOG_LINE);
    assert!(line.len() <= MAX_LOG_LINE && line.len() > MAX_LOG_LINE - 3);
    assert_eq!(line.len() + rest.len(), text.len());
}
