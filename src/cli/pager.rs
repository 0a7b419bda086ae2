//! The pager for long output (`log`, `diff`, `show`), as git does it: on a terminal, stdout
//! goes through `$AUTHSOME_PAGER`, else `$PAGER`, else `less -FRX` (which exits at once when
//! the output fits), run by `sh -c`; `--no-pager`, an empty pager or `cat` turn it off.
#![allow(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};

/// A running pager that stdout is sent to; dropping it ends the output and waits for it.
pub struct Pager {
    child: Child,
}

/// Starts the pager and sends stdout to it, when stdout is a terminal and one is wanted.
pub fn start(wanted: bool) -> Option<Pager> {
    if !wanted || !std::io::stdout().is_terminal() {
        return None;
    }
    let command = std::env::var("AUTHSOME_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less".to_owned());
    let command = command.trim();
    if command.is_empty() || command == "cat" {
        return None;
    }
    let mut child = Command::new("sh")
        .args(["-c", command])
        .env(
            "LESS",
            std::env::var("LESS").unwrap_or_else(|_| "FRX".into()),
        )
        .stdin(Stdio::piped())
        .spawn()
        .ok()?;
    let pipe = child.stdin.take()?;
    // SAFETY: dup2 onto stdout of a descriptor this process owns; the pipe's own descriptor
    // closes when `pipe` drops, leaving stdout as the only writer.
    let moved = unsafe { libc::dup2(pipe.as_raw_fd(), libc::STDOUT_FILENO) };
    if moved < 0 {
        let _ = child.kill();
        return None;
    }
    Some(Pager { child })
}

impl Drop for Pager {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: closing stdout, so the pager sees the end of its input.
        unsafe {
            libc::close(libc::STDOUT_FILENO);
        }
        let _ = self.child.wait();
    }
}
