//! The person at the machine: questions asked on the terminal (`/dev/tty`, so a piped stdin or
//! stdout does not matter), masked or shown as typed, with Ctrl-C and Ctrl-D meaning
//! "cancelled"; and whether a browser can be opened here, and opening it.
//!
//! The prompt reads the terminal byte by byte with echo, line editing and signals off, and puts
//! the terminal back as it found it on every way out: a masked prompt interrupted by Ctrl-C
//! must not leave the shell with echo off, which is what a killed `rpassword` does.
#![allow(unsafe_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authsome::ui::{Answer, Launch};
use zeroize::Zeroizing;

/// Whether a terminal can be asked at.
pub fn can_ask() -> bool {
    File::options()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// Asks `prompt` on the terminal; `masked` echoes nothing of what is typed.
pub fn ask(prompt: &str, masked: bool) -> Answer {
    let Ok(mut tty) = File::options().read(true).write(true).open("/dev/tty") else {
        return Answer::NoTerminal;
    };
    let Some(_restore) = Raw::enter(&tty) else {
        return Answer::NoTerminal;
    };
    let _ = tty.write_all(prompt.as_bytes());
    let mut line = Zeroizing::new(Vec::<u8>::new());
    let mut byte = [0u8; 1];
    let answer = loop {
        match tty.read(&mut byte) {
            Ok(1) => {}
            _ => break Answer::Cancelled,
        }
        match byte[0] {
            // Ctrl-C always; Ctrl-D on an empty line, as a shell reads it.
            0x03 => break Answer::Cancelled,
            0x04 if line.is_empty() => break Answer::Cancelled,
            b'\r' | b'\n' => {
                let text = String::from_utf8_lossy(&line).into_owned();
                break Answer::Text(Zeroizing::new(text));
            }
            // Backspace: one character, however many bytes it took.
            0x7f | 0x08 => {
                if line.is_empty() {
                    continue;
                }
                while line.pop().is_some_and(|b| b & 0xC0 == 0x80) {}
                if !masked {
                    let _ = tty.write_all(b"\x08 \x08");
                }
            }
            // Ctrl-U clears the line.
            0x15 => {
                if !masked {
                    let width = String::from_utf8_lossy(&line).chars().count();
                    let _ = tty.write_all("\x08 \x08".repeat(width).as_bytes());
                }
                line.clear();
            }
            b if b < 0x20 => {}
            b => {
                line.push(b);
                if !masked {
                    let _ = tty.write_all(&[b]);
                }
            }
        }
    };
    // The answer (or the cancellation) ends the prompt's line, so what follows starts on its own.
    let _ = tty.write_all(b"\n");
    answer
}

/// The terminal in raw mode until dropped, then as it was.
struct Raw {
    fd: i32,
    saved: libc::termios,
}

impl Raw {
    fn enter(tty: &File) -> Option<Raw> {
        let fd = tty.as_raw_fd();
        // SAFETY: termios is plain data that tcgetattr fills in; fd is an open terminal.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: as above; a non-zero return means fd is not a terminal and nothing changed.
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return None;
        }
        let mut raw = saved;
        raw.c_lflag &= !(libc::ECHO | libc::ICANON | libc::ISIG | libc::IEXTEN);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: fd is the terminal read above and raw a valid termios derived from its own.
        // TCSANOW keeps anything already typed.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return None;
        }
        Some(Raw { fd, saved })
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from this same open terminal.
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved);
        }
    }
}

/// The browser command: `$BROWSER`, else the desktop's opener when there is a desktop. `None`
/// on a machine without a display (headless, or reached over SSH without X forwarding).
fn browser_command() -> Option<String> {
    if let Some(b) = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        // `$BROWSER` may list several, separated by ':'; the first is tried.
        return b.split(':').next().map(str::to_owned);
    }
    if cfg!(target_os = "macos") {
        // Over SSH, `open` would open the browser on the remote Mac's screen, not the user's.
        return (std::env::var_os("SSH_CONNECTION").is_none()).then(|| "open".to_owned());
    }
    let display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    display.then(|| "xdg-open".to_owned())
}

/// Whether a browser can be opened here.
pub fn can_open_browser() -> bool {
    browser_command().is_some()
}

/// How long a browser command may take to fail before it counts as started: openers such as
/// `xdg-open` hand over and exit at once, and a browser run in the foreground keeps running.
const LAUNCH_GRACE: Duration = Duration::from_secs(5);

/// Starts the browser on `url`; a failure to start, or an exit with an error within
/// [`LAUNCH_GRACE`], is reported on the returned [`Launch`].
pub fn open_browser(url: &str) -> Launch {
    let Some(command) = browser_command() else {
        return Launch::failed("no display, and $BROWSER is not set".to_owned());
    };
    let mut words = command.split_whitespace();
    let Some(program) = words.next() else {
        return Launch::failed("$BROWSER is empty".to_owned());
    };
    let spawned = Command::new(program)
        .args(words)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Launch::failed(format!("{program}: {e}")),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let program = program.to_owned();
    let started = Instant::now();
    // The browser's own thread reaps it; only an early failure is worth telling.
    std::thread::spawn(move || {
        if let Ok(status) = child.wait()
            && !status.success()
            && started.elapsed() < LAUNCH_GRACE
        {
            let _ = tx.send(format!("{program} exited with {status}"));
        }
    });
    Launch::watching(rx)
}
