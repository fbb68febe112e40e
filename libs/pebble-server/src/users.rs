//! User and group resolution shared by files, exec and services (Pebble's `NormalizeUidGid`):
//! names are looked up, names and ids must agree, a user alone brings its primary group, a group
//! alone is an error.

use crate::sys;

/// A resolved owner: both ids set, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Owner {
    pub ids: Option<(u32, u32)>,
}

/// Resolves the user/group fields of a request or plan entry.
pub(crate) fn normalize(
    user_id: Option<u32>,
    user: Option<&str>,
    group_id: Option<u32>,
    group: Option<&str>,
) -> Result<Owner, String> {
    let user = user.filter(|u| !u.is_empty());
    let group = group.filter(|g| !g.is_empty());
    let mut uid = user_id;
    let mut gid = group_id;
    if uid.is_none() && gid.is_none() && user.is_none() && group.is_none() {
        return Ok(Owner::default());
    }
    if let Some(name) = user {
        let entry = sys::user_by_name(name)
            .map_err(|e| format!("cannot look up user {name:?}: {e}"))?
            .ok_or_else(|| format!("user: unknown user {name}"))?;
        if let Some(id) = uid
            && id != entry.uid
        {
            return Err(format!(
                "user {name:?} UID ({}) does not match user-id ({id})",
                entry.uid
            ));
        }
        uid = Some(entry.uid);
        if gid.is_none() && group.is_none() {
            gid = Some(entry.gid);
        }
    }
    if let Some(name) = group {
        let entry = sys::group_by_name(name)
            .map_err(|e| format!("cannot look up group {name:?}: {e}"))?
            .ok_or_else(|| format!("group: unknown group {name}"))?;
        if let Some(id) = gid
            && id != entry.gid
        {
            return Err(format!(
                "group {name:?} GID ({}) does not match group-id ({id})",
                entry.gid
            ));
        }
        gid = Some(entry.gid);
    }
    match (uid, gid) {
        (None, Some(_)) => Err("must specify user, not just group".into()),
        (Some(u), None) => {
            let entry = sys::user_by_uid(u)
                .map_err(|e| format!("cannot look up user {u}: {e}"))?
                .ok_or_else(|| format!("user: unknown userid {u}"))?;
            Ok(Owner {
                ids: Some((u, entry.gid)),
            })
        }
        (Some(u), Some(g)) => Ok(Owner { ids: Some((u, g)) }),
        (None, None) => Ok(Owner::default()),
    }
}

/// A JSON/YAML id field as a UID/GID (negative or huge ids are refused).
pub(crate) fn id_from_i64(id: Option<i64>, what: &str) -> Result<Option<u32>, String> {
    id.map(|v| u32::try_from(v).map_err(|_| format!("invalid {what} {v}")))
        .transpose()
}

/// The user name of a UID, empty when it has none.
pub(crate) fn user_name(uid: u32) -> String {
    sys::user_by_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_default()
}

/// The group name of a GID, empty when it has none.
pub(crate) fn group_name(gid: u32) -> String {
    sys::group_by_gid(gid)
        .ok()
        .flatten()
        .map(|g| g.name)
        .unwrap_or_default()
}

/// The home directory of a UID, if the user database knows it.
pub(crate) fn home_of(uid: u32) -> Option<(String, String)> {
    sys::user_by_uid(uid)
        .ok()
        .flatten()
        .map(|u| (u.home, u.name))
}

#[cfg(test)]
#[path = "users_test.rs"]
mod tests;
