//! The audit log: one JSON line per injection and per refusal, appended to a file outside git.
//! It never holds a secret, a query string or a body.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ui::Ui;

/// What the proxy did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A credential was injected and the request forwarded.
    Injected,
    /// The request was refused.
    Refused,
    /// The client was asked for the proxy password (not logged).
    Challenged,
    /// The store moved to a state that does not verify; the proxy kept the last verified one
    /// (no request: `reason` says why).
    StateRefused,
    /// The upstream could not be reached (connection, TLS handshake or time-out), so nothing,
    /// and no credential, was sent.
    Unreachable,
    /// The vault's policy or the run's limits refused the request (`reason` names the rule);
    /// nothing was sent.
    PolicyDenied,
    /// An MCP client called a tool of `authsome mcp` (`path` is the tool, `reason` the client).
    McpCall,
}

/// What `audit --json` prints.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditReport {
    /// The log file read.
    pub log: PathBuf,
    /// Its entries, oldest first.
    pub entries: Vec<Entry>,
}

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Entry {
    /// RFC 3339 time.
    pub time: String,
    /// What happened.
    pub action: Action,
    /// The provider whose credential was used (or that the refusal concerns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The connection used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The target host (and port when not 443).
    pub host: String,
    /// The request path, without its query.
    pub path: String,
    /// The status code returned to the client.
    pub status: u16,
    /// Why a request was refused, or how it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The policy rule (or the run's `--allow`) that let the request through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Whether the request was sent a second time, with a refreshed token, after a 401.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retried: bool,
}

/// The log file: `<state dir>/audit.jsonl`.
pub fn path() -> Result<PathBuf> {
    Ok(crate::dirs::state_dir()?.join("audit.jsonl"))
}

/// A log that reached this size is moved to `audit.jsonl.1` (replacing the one before) when the
/// next proxy starts.
const ROTATE_AT: u64 = 16 * 1024 * 1024;

fn previous(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// An open log, appended to by the proxy's tasks. Lines gather in memory and a writer thread
/// appends what has gathered every `TICK` (sooner past `BATCH` bytes), in one write call:
/// a request neither waits on the disk nor wakes a thread. Past `BOUND` bytes waiting (a
/// stalled disk), a request writes its line itself. [`Log::flush`] (or dropping the log) writes
/// what is left before it returns.
pub struct Log {
    shared: Arc<Shared>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// How often the writer appends what has gathered.
const TICK: std::time::Duration = std::time::Duration::from_millis(25);
/// Bytes that wake the writer before its tick.
const BATCH: usize = 64 * 1024;
/// Bytes that may wait at most.
const BOUND: usize = 4 * 1024 * 1024;

/// What the proxy's tasks and the writer share.
struct Shared {
    /// Lines not yet written, and whether the writer is to stop.
    pending: Mutex<(Vec<u8>, bool)>,
    wake: std::sync::Condvar,
    out: Output,
}

/// The file, and who is told (once) when it cannot be written.
struct Output {
    file: Mutex<File>,
    ui: Arc<dyn Ui>,
    warned: Once,
}

impl Output {
    /// One write call for whole lines, so lines from concurrent runs never interleave.
    fn write(&self, lines: &[u8]) {
        if lines.is_empty() {
            return;
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(lines) {
            self.warned.call_once(|| {
                self.ui
                    .message(&format!("authsome: could not write the audit log: {e}"))
            });
        }
    }
}

impl Log {
    /// Opens (creating, mode 0600) the log for appending, rotating it first when it is large.
    pub fn open(path: &Path, ui: Arc<dyn Ui>) -> Result<Self> {
        let dir = path
            .parent()
            .ok_or_else(|| Error::internal("the audit log has no folder"))?;
        crate::private_files::create_private_dir(dir)?;
        // Two runs starting together must not both rotate (the second would move the first's
        // fresh log over the history).
        let _lock = crate::private_files::lock(
            &dir.join("audit.lock"),
            std::time::Duration::from_secs(10),
            "opening the audit log",
        )?;
        if std::fs::metadata(path).is_ok_and(|m| m.len() >= ROTATE_AT) {
            std::fs::rename(path, previous(path))
                .map_err(|e| Error::io("rotate the audit log", path, e))?;
        }
        let mut options = File::options();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(path)
            .map_err(|e| Error::io("open the audit log", path, e))?;
        let shared = Arc::new(Shared {
            pending: Mutex::new((Vec::new(), false)),
            wake: std::sync::Condvar::new(),
            out: Output {
                file: Mutex::new(file),
                ui,
                warned: Once::new(),
            },
        });
        let writer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("authsome-audit".into())
                .spawn(move || shared.write_until_stopped())
                .map_err(|e| Error::internal(format!("starting the audit writer: {e}")))?
        };
        Ok(Log {
            shared,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Appends one entry (stamped now). A failed write is reported once on stderr: losing the
    /// log must not break the child's requests.
    pub fn record(&self, mut entry: Entry) {
        entry.time = jiff::Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string());
        let Ok(mut line) = serde_json::to_vec(&entry) else {
            return;
        };
        line.push(b'\n');
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Past a flush (no writer any more), or with too much waiting, written here.
        if pending.1 || pending.0.len() >= BOUND {
            drop(pending);
            self.shared.out.write(&line);
            return;
        }
        pending.0.extend_from_slice(&line);
        if pending.0.len() >= BATCH {
            self.shared.wake.notify_one();
        }
    }

    /// Writes every waiting line and stops the writer; later entries are written at once.
    pub fn flush(&self) {
        let Some(writer) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        self.shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1 = true;
        self.shared.wake.notify_one();
        let _ = writer.join();
    }
}

impl Shared {
    /// The writer thread: appends what has gathered every tick, and the rest when stopped.
    fn write_until_stopped(&self) {
        // A slow disk, for the test that the run's end still writes everything.
        #[cfg(feature = "fault-injection")]
        let slow = std::env::var("AUTHSOME_AUDIT_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis);
        let mut batch = Vec::new();
        loop {
            let stop = {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                if pending.0.len() < BATCH && !pending.1 {
                    pending = self
                        .wake
                        .wait_timeout(pending, TICK)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                std::mem::swap(&mut batch, &mut pending.0);
                pending.1
            };
            #[cfg(feature = "fault-injection")]
            if let Some(delay) = slow {
                std::thread::sleep(delay);
            }
            self.out.write(&batch);
            batch.clear();
            if stop {
                return;
            }
        }
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Reads every entry of the log (the rotated part first); lines that do not parse are skipped.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for file in [previous(path), path.to_owned()] {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("read the audit log", &file, e)),
        };
        entries.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_log_is_rotated_and_both_parts_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let entry = |p: &str| Entry {
            time: String::new(),
            action: Action::Injected,
            provider: Some("p".into()),
            connection: None,
            method: "GET".into(),
            host: "h".into(),
            path: p.into(),
            status: 200,
            reason: None,
            rule: None,
            retried: false,
        };
        Log::open(&path, Arc::new(crate::ui::Silent))
            .unwrap()
            .record(entry("/old"));
        // Grow it past the limit without writing 16 MiB.
        let f = File::options().append(true).open(&path).unwrap();
        f.set_len(ROTATE_AT).unwrap();
        Log::open(&path, Arc::new(crate::ui::Silent))
            .unwrap()
            .record(entry("/new"));
        assert!(previous(&path).exists());
        let paths: Vec<String> = read(&path).unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/old", "/new"]);
    }
}
