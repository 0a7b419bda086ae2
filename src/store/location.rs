//! Where the store is: a whole repository (`~/.authsome`, `--store`), or a folder of a project
//! repository named by the project's `.authsome.yaml`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::project::{PROJECT_FILE, ProjectConfig};

/// Where the store is.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// A store that is a whole repository.
    Home(PathBuf),
    /// A store in a folder of a project repository.
    Project {
        /// The repository's work tree.
        repo: PathBuf,
        /// The store's folder, relative to `repo`.
        folder: String,
    },
}

impl StoreLocation {
    /// The store's folder on disk.
    pub fn path(&self) -> PathBuf {
        match self {
            StoreLocation::Home(p) => p.clone(),
            StoreLocation::Project { repo, folder } => repo.join(folder),
        }
    }
}

/// Walks up from the current directory for `.authsome.yaml`.
pub fn find_project() -> Result<Option<(PathBuf, ProjectConfig)>> {
    let Ok(mut dir) = std::env::current_dir() else {
        return Ok(None);
    };
    loop {
        let file = dir.join(PROJECT_FILE);
        if file.is_file() {
            let bytes = std::fs::read(&file).map_err(|e| Error::io("read", &file, e))?;
            let config: ProjectConfig =
                crate::model::yaml::parse(&file.display().to_string(), &bytes)?;
            return Ok(Some((file, config)));
        }
        if !dir.pop() {
            return Ok(None);
        }
    }
}

/// Where a project's `store:` points: a folder inside the project's repository, or a store
/// elsewhere (`~/.authsome`, an absolute path).
pub fn project_location(file: &Path, store: &str) -> Result<StoreLocation> {
    let base = file.parent().unwrap_or(Path::new("."));
    let path = if let Some(rest) = store.strip_prefix("~/") {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest)
    } else if Path::new(store).is_absolute() {
        PathBuf::from(store)
    } else {
        base.join(store)
    };
    // Inside the project's repository: a project store on the current branch.
    if let Ok(repo) = gix::discover(base)
        && let Some(root) = repo.workdir().map(Path::to_path_buf)
    {
        let root = root.canonicalize().unwrap_or(root);
        let full = normalize(
            &base
                .canonicalize()
                .unwrap_or(base.to_path_buf())
                .join(store),
        );
        // A folder that is a repository of its own (ignored, a submodule) is its own store.
        if !store.starts_with('~')
            && !Path::new(store).is_absolute()
            && !full.join(".git").exists()
            && let Ok(rel) = full.strip_prefix(&root)
        {
            let folder = rel.to_string_lossy().trim_end_matches('/').to_owned();
            if folder.is_empty()
                || folder
                    .split('/')
                    .any(|c| c.is_empty() || c == "." || c == ".." || c == ".git")
            {
                return Err(Error::store(format!(
                    "{} names the store {store:?}, which is not a folder inside the repository; use a folder such as .authsome",
                    file.display()
                )));
            }
            return Ok(StoreLocation::Project { repo: root, folder });
        }
    }
    Ok(StoreLocation::Home(path))
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
