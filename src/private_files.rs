//! Files only this user may read: 0600 files written atomically, 0700 folders, and exclusive
//! lock files waited for with a time-out (so a stuck process gives a message, not a hang; the
//! lock is the open file, released when it is dropped or the process dies).

use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

/// Refuses a key file that group or others can access (or that cannot be read).
pub fn check_private_file(path: &Path) -> Result<()> {
    let meta = fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    check_private(path, &meta)
}

/// Refuses a key file that group or others can access.
#[cfg(unix)]
pub(crate) fn check_private(path: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::crypto(format!(
            "{} is readable by other users (mode {mode:o}); run `chmod 600 {}` and try again",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_private(_: &Path, _: &fs::Metadata) -> Result<()> {
    Ok(())
}

/// Creates `dir` (and parents) with mode 0700 where it does not exist.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::io("create the directory", dir, e))
}

/// Opens a new file with mode 0600, failing if it exists.
pub fn open_private_new(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| Error::io("create", path, e))
}

/// Writes `bytes` to `path` through a private temporary file and a rename, creating the folder
/// (mode 0700) where needed; the result has mode 0600. The data reaches the disk before the
/// rename, so a crash leaves the old file or the new one, never an empty one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::internal("a file path has no folder"))?;
    create_private_dir(dir)?;
    let tmp = dir.join(format!(".{}.tmp", crate::random_hex(8)));
    let mut file = open_private_new(&tmp)?;
    let result = file
        .write_all(bytes)
        .and_then(|_| file.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("write", path, e));
    }
    Ok(())
}

/// Takes the lock at `path` (creating the file), waiting up to `timeout`; `holder` says in the
/// message what the other process is doing ("writing to the store").
pub fn lock(path: &Path, timeout: Duration, holder: &str) -> Result<File> {
    let file = open_lock(path).map_err(|e| Error::io("open the lock file", path, e))?;
    hold(file, path, timeout, holder)
}

/// Opens (creating it) the lock file at `path`, for [`hold`].
pub fn open_lock(path: &Path) -> std::io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Takes the lock of `file` (opened by [`open_lock`] from `path`), as [`lock`] does.
pub fn hold(file: File, path: &Path, timeout: Duration, holder: &str) -> Result<File> {
    let deadline = Instant::now() + timeout;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!(
                        "another authsome process has been {holder} for {} seconds; stop it, or delete {} if none runs",
                        timeout.as_secs(),
                        path.display()
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_times_out_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = lock(&path, Duration::from_secs(1), "testing").unwrap();
        let err = lock(&path, Duration::from_millis(100), "testing").unwrap_err();
        assert!(err.message().contains("has been testing"), "{err}");
        drop(held);
        lock(&path, Duration::from_millis(100), "testing").unwrap();
    }
}
