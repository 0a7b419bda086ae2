//! The local pin: per store id, the last verified seal (seq and digest) of each scope, kept on
//! this machine outside git and outside the cache (`$XDG_STATE_HOME/authsome/trust/<id>.yaml`,
//! 0600). A scope whose seal goes back (a lower seq) is a rollback; the same seq with another
//! digest is a fork; both are refused.
//!
//! Beside the pins, an index names every store id this machine has pinned, so a pin that goes
//! missing (deleted to get around a refusal) is noticed rather than taken for a first use.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// What this machine last verified of one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    /// The seal's sequence number.
    pub seq: u64,
    /// The seal statement's digest.
    pub seal: String,
    /// Who could vouch for the scope's next change, as of that seal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<super::policy::Policy>,
}

/// The pin of one store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// Scope name -> last verified seal.
    #[serde(default)]
    pub scopes: BTreeMap<String, Pinned>,
}

/// The pin file of a store.
pub fn path(store_id: &str) -> Result<PathBuf> {
    Ok(crate::dirs::state_dir()?
        .join("trust")
        .join(format!("{store_id}.yaml")))
}

/// The index of every store id this machine has pinned, one per line.
fn index_path() -> Result<PathBuf> {
    Ok(crate::dirs::state_dir()?.join("trust").join("index"))
}

/// Whether this machine ever pinned `store_id`.
pub fn indexed(store_id: &str) -> Result<bool> {
    let path = index_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.lines().any(|l| l == store_id)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

/// Reads the pin of a store (empty when this machine has verified nothing of it yet). A pin
/// the index names but that is gone is refused: trusting the store again is `trust accept`.
pub fn load(store_id: &str) -> Result<Pin> {
    let pin = load_any(store_id)?;
    if pin.scopes.is_empty() && indexed(store_id)? {
        return Err(Error::new(
            ErrorKind::Trust,
            format!(
                "this machine trusted the store {store_id} before, but its pin {} is gone, so a rollback could not be told apart",
                path(store_id)?.display()
            ),
        )
        .with_hint(
            "restore the pin file from a backup, or check the store's owners with `authsome trust show` and run `authsome trust accept`",
        ));
    }
    Ok(pin)
}

/// Reads the pin of a store, empty when there is none (for `trust accept` and `trust reset`).
pub fn load_any(store_id: &str) -> Result<Pin> {
    let path = path(store_id)?;
    match std::fs::read(&path) {
        Ok(bytes) => crate::model::yaml::parse(&path.display().to_string(), &bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Pin::default()),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

/// Writes the pin atomically, mode 0600, and names the store in the index.
pub fn save(store_id: &str, pin: &Pin) -> Result<()> {
    let text = crate::model::yaml::to_string(pin)?;
    crate::private_files::write_private(&path(store_id)?, text.as_bytes())?;
    if !indexed(store_id)? {
        let index = index_path()?;
        let mut text = std::fs::read_to_string(&index).unwrap_or_default();
        text.push_str(store_id);
        text.push('\n');
        crate::private_files::write_private(&index, text.as_bytes())?;
    }
    Ok(())
}

/// How a scope's seal at HEAD compares with the pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// The pinned seal itself.
    Same,
    /// A later seal, to verify and then pin.
    Newer,
    /// Never pinned.
    First,
    /// An earlier seal than the pinned one (`seq` pinned): a rollback.
    Older(u64),
    /// The pinned `seq` with another digest: a fork.
    Fork,
}

/// Compares `seq`/`digest` of `scope` with the pin.
pub fn compare(pin: &Pin, scope: &str, seq: u64, digest: &str) -> Against {
    let Some(p) = pin.scopes.get(scope) else {
        return Against::First;
    };
    match seq.cmp(&p.seq) {
        std::cmp::Ordering::Less => Against::Older(p.seq),
        std::cmp::Ordering::Equal if digest != p.seal => Against::Fork,
        std::cmp::Ordering::Equal => Against::Same,
        std::cmp::Ordering::Greater => Against::Newer,
    }
}

/// The refusal of a rollback: `scope` at `seq`, though this machine verified `pinned`.
pub fn rollback(scope: &str, seq: u64, pinned: u64) -> Error {
    Error::new(
        ErrorKind::Trust,
        format!(
            "{scope} is at seal #{seq}, but this machine verified seal #{pinned} of it: the store was rolled back (an old copy, a reset or a forced push)"
        ),
    )
    .with_hint("check `authsome log` and the remote; restore the newer state, or pull it (reads may pass --allow-rollback to look at it)")
}

/// The refusal of a fork: `scope` has another seal `seq` than the one this machine verified.
pub fn fork(scope: &str, seq: u64) -> Error {
    Error::new(
        ErrorKind::Trust,
        format!(
            "{scope} has a seal #{seq} other than the one this machine verified: two histories claim the same seal (a fork)"
        ),
    )
    .with_hint(format!(
        "an authorised member reviews both and runs `authsome seal {scope}`"
    ))
}

/// The file that maps each project (the path of its `.authsome.yaml`) to the id of the store
/// this machine first used through it, one `ID PATH` per line.
fn projects_path() -> Result<PathBuf> {
    Ok(crate::dirs::state_dir()?.join("trust").join("projects"))
}

fn project_key(project_file: &std::path::Path) -> String {
    project_file
        .canonicalize()
        .unwrap_or_else(|_| project_file.to_owned())
        .display()
        .to_string()
}

fn read_projects() -> Result<Vec<(String, String)>> {
    let path = projects_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(id, p)| (id.to_owned(), p.to_owned()))
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

fn write_projects(entries: &[(String, String)]) -> Result<()> {
    let text: String = entries
        .iter()
        .map(|(id, p)| format!("{id} {p}\n"))
        .collect();
    crate::private_files::write_private(&projects_path()?, text.as_bytes())
}

/// A project's `.authsome.yaml` must keep naming the store this machine first used through it:
/// one that now leads to another store (a change that redirects the project, perhaps to a store
/// without seals) is refused. The first use records the store.
pub fn check_project(project_file: &std::path::Path, store_id: &str) -> Result<()> {
    let key = project_key(project_file);
    let mut entries = read_projects()?;
    match entries.iter().find(|(_, p)| *p == key) {
        Some((id, _)) if id == store_id => Ok(()),
        Some((id, _)) => Err(Error::new(
            ErrorKind::Trust,
            format!(
                "{} now leads to the store {store_id}, but this machine used the store {id} through it: the project was pointed at another store",
                project_file.display()
            ),
        )
        .with_hint(
            "check the change to .authsome.yaml (`git log -p .authsome.yaml`); if the project moved its store on purpose, run `authsome trust reset --to-current --i-understand`",
        )),
        None => {
            entries.push((store_id.to_owned(), key));
            write_projects(&entries)
        }
    }
}

/// Makes `project_file` lead to `store_id` from now on (`trust reset`).
pub fn set_project(project_file: &std::path::Path, store_id: &str) -> Result<()> {
    let key = project_key(project_file);
    let mut entries = read_projects()?;
    entries.retain(|(_, p)| *p != key);
    entries.push((store_id.to_owned(), key));
    write_projects(&entries)
}
