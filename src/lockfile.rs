//! Exclusive lock files, waited for with a time-out so a stuck process gives a message, not a
//! hang. The lock is the open file: it is released when the file is dropped or the process dies.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

/// Takes the lock at `path` (creating the file), waiting up to `timeout`; `holder` says in the
/// message what the other process is doing ("writing to the store").
pub fn acquire(path: &Path, timeout: Duration, holder: &str) -> Result<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open the lock file", path, e))?;
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
        let held = acquire(&path, Duration::from_secs(1), "testing").unwrap();
        let err = acquire(&path, Duration::from_millis(100), "testing").unwrap_err();
        assert!(err.message().contains("has been testing"), "{err}");
        drop(held);
        acquire(&path, Duration::from_millis(100), "testing").unwrap();
    }
}
