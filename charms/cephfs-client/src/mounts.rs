//! What is mounted now, from the kernel's mount table, read afresh for every decision.
//!
//! The charm's stored record says what it mounted last; only the table says whether that is
//! still true (an unmount that succeeded in a hook that then failed, an administrator's
//! `umount`). The path is the `mount-table` option: `/proc/self/mountinfo` on a real unit, a
//! file kept by recording test doubles in tests.

use std::path::Path;

/// The mount points of a mount table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountTable {
    points: Vec<String>,
}

impl MountTable {
    /// Reads a table in `/proc/<pid>/mountinfo` format; a missing file is an empty table.
    pub fn read(path: &Path) -> std::io::Result<MountTable> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(MountTable::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(MountTable::default()),
            Err(e) => Err(e),
        }
    }

    /// Parses mountinfo text: the mount point is the fifth field, with `\ooo` octal escapes.
    pub fn parse(text: &str) -> MountTable {
        MountTable {
            points: text
                .lines()
                .filter_map(|line| line.split(' ').nth(4))
                .map(unescape)
                .collect(),
        }
    }

    /// Whether something is mounted at `mountpoint`.
    pub fn is_mounted(&self, mountpoint: &str) -> bool {
        let wanted = mountpoint.trim_end_matches('/');
        self.points
            .iter()
            .any(|p| p.trim_end_matches('/') == wanted)
    }
}

/// Undoes the kernel's octal escapes (`\040` for a space, `\134` for a backslash).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let table = MountTable::parse(
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
             36 22 0:52 / /mnt/my\\040share rw - ceph 10.0.0.1:6789:/data rw,name=u\n\
             37 22 0:53 /sub /srv/data/ rw - ceph x rw\n",
        );
        assert!(table.is_mounted("/"));
        assert!(table.is_mounted("/mnt/my share"));
        assert!(table.is_mounted("/srv/data"));
        assert!(!table.is_mounted("/mnt/my"));
        assert!(!table.is_mounted("/mnt"));
        assert_eq!(unescape("/x\\"), "/x\\");
        assert_eq!(unescape("/a\\134b"), "/a\\b");
    }

    #[test]
    fn the_real_table_and_a_missing_one() {
        if Path::new("/proc/self/mountinfo").exists() {
            assert!(
                MountTable::read(Path::new("/proc/self/mountinfo"))
                    .unwrap_or_default()
                    .is_mounted("/")
            );
        }
        assert_eq!(
            MountTable::read(Path::new("/nonexistent/mountinfo")).ok(),
            Some(MountTable::default())
        );
    }
}
