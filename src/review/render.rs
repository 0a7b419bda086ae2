//! The changes between two commits as text a reviewer can read: YAML as unified diffs, each secret
//! file as one line naming it and its keyed fingerprint, never its value or ciphertext.

use std::fmt::Write as _;

use crate::crypto::identity::Identity;
use crate::error::Result;
use crate::store::{Snapshot, Store};

/// Renders the changes between two commits.
pub fn render(
    store: &Store,
    old: Option<gix::ObjectId>,
    new: gix::ObjectId,
    identity: Option<&Identity>,
) -> Result<String> {
    let new_snap = Snapshot::at_commit(store, new)?;
    let old_snap = match old {
        Some(o) => Some(Snapshot::at_commit(store, o)?),
        None => None,
    };
    let old_tree = old_snap.as_ref().map(|s| s.tree_id());
    let mut text = String::new();
    for c in store.changes(old_tree, new_snap.tree_id())? {
        let read = |snap: Option<&Snapshot<'_>>, id: Option<gix::ObjectId>| -> Result<Vec<u8>> {
            match (snap, id) {
                (Some(s), Some(id)) => s.read_blob(id),
                _ => Ok(Vec::new()),
            }
        };
        let before = read(old_snap.as_ref(), c.old)?;
        let after = read(Some(&new_snap), c.new)?;
        if crate::layout::is_secret(&c.path) {
            let fp = |bytes: &[u8], snap: Option<&Snapshot<'_>>| {
                super::summary::summarize(bytes, snap, identity)
                    .lines()
                    .find_map(|l| l.strip_prefix("fingerprint: ").map(str::to_owned))
                    .unwrap_or_else(|| "unreadable".to_owned())
            };
            let line = match (c.old, c.new) {
                (None, _) => format!(
                    "secret {} added (fingerprint {})",
                    c.path,
                    fp(&after, Some(&new_snap))
                ),
                (_, None) => format!("secret {} deleted", c.path),
                _ => format!(
                    "secret {} changed (fingerprint {} -> {})",
                    c.path,
                    fp(&before, old_snap.as_ref()),
                    fp(&after, Some(&new_snap))
                ),
            };
            let _ = writeln!(text, "{line}");
        } else {
            let a = String::from_utf8_lossy(&before);
            let b = String::from_utf8_lossy(&after);
            text.push_str(&super::summary::unified(&c.path, &a, &b));
        }
    }
    Ok(text)
}
