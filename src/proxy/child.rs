//! The child process of `authsome run`: its environment, its signals, its exit code.

// Signals and waiting on the child need libc; each block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::path::Path;

use crate::error::{Error, Result};

/// Hosts the child reaches directly. Only loopback: a wider `NO_PROXY` inherited from the
/// user could send a provider's host around the proxy.
const NO_PROXY: &str = "localhost,127.0.0.1,::1";

/// The variables that point the child at the proxy and make it trust the local CA. Many
/// runtimes read only one of them, and several replace the default trust store, hence a
/// bundle of the system roots plus the local CA.
pub fn environment(proxy_url: &str, bundle: &Path) -> Vec<(String, String)> {
    let bundle = bundle.display().to_string();
    let mut env = Vec::new();
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        env.push((var.to_owned(), proxy_url.to_owned()));
        env.push((var.to_ascii_lowercase(), proxy_url.to_owned()));
    }
    env.push(("NO_PROXY".to_owned(), NO_PROXY.to_owned()));
    env.push(("no_proxy".to_owned(), NO_PROXY.to_owned()));
    for var in [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "GIT_SSL_CAINFO",
        "NODE_EXTRA_CA_CERTS",
        "AWS_CA_BUNDLE",
        "CARGO_HTTP_CAINFO",
        "DENO_CERT",
        "PIP_CERT",
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
    ] {
        env.push((var.to_owned(), bundle.clone()));
    }
    env.push(("NODE_USE_ENV_PROXY".to_owned(), "1".to_owned()));
    env.push(("AUTHSOME_PROXY".to_owned(), "1".to_owned()));
    env
}

/// Signals passed on to the child. SIGINT and SIGQUIT from a terminal already reach the whole
/// foreground process group, child included, so those are passed on only when authsome is not
/// in the terminal's foreground (when someone sent them to authsome alone).
#[cfg(unix)]
const FORWARDED: [i32; 6] = [
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl Exit {
    /// Ends authsome the way the child ended: with its exit code, or killed by the same signal
    /// (so a shell loop around `authsome run` stops on Ctrl-C, as it would around the child).
    pub fn propagate(self) -> ! {
        match self {
            Exit::Code(code) => std::process::exit(code),
            Exit::Signal(sig) => {
                // Only signals that end a process without a core dump: a dump of authsome
                // would hold decrypted credentials.
                #[cfg(unix)]
                if [
                    libc::SIGINT,
                    libc::SIGTERM,
                    libc::SIGHUP,
                    libc::SIGPIPE,
                    libc::SIGKILL,
                    libc::SIGUSR1,
                    libc::SIGUSR2,
                    libc::SIGALRM,
                ]
                .contains(&sig)
                {
                    // SAFETY: restoring the default action and raising a signal on ourselves.
                    unsafe {
                        libc::signal(sig, libc::SIG_DFL);
                        libc::raise(sig);
                    }
                }
                std::process::exit(128 + sig)
            }
        }
    }
}

/// Runs `command` with `env` added and `unset` removed, passes signals on, and returns how it
/// ended.
pub fn run(
    command: &[OsString],
    env: &[(String, String)],
    unset: &[String],
    runtime: &tokio::runtime::Runtime,
) -> Result<Exit> {
    let name = command[0].to_string_lossy().into_owned();
    // Handlers go in before the child starts, so a signal in between cannot kill authsome and
    // orphan the child.
    #[cfg(unix)]
    let handlers = {
        let _guard = runtime.enter();
        FORWARDED
            .iter()
            .filter_map(|&sig| {
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(sig))
                    .ok()
                    .map(|s| (sig, s))
            })
            .collect::<Vec<_>>()
    };
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    for var in unset {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd.spawn().map_err(|e| Error::spawn(&name, e))?;
    // Signals go to the child only while it is unreaped: after `wait` its pid may belong to
    // another process. The forwarders check this flag under its lock as they signal.
    let unreaped = std::sync::Arc::new(std::sync::Mutex::new(true));
    #[cfg(unix)]
    {
        let pid = child.id() as libc::pid_t;
        for (sig, mut stream) in handlers {
            let unreaped = unreaped.clone();
            runtime.spawn(async move {
                while stream.recv().await.is_some() {
                    let from_terminal =
                        (sig == libc::SIGINT || sig == libc::SIGQUIT) && in_terminal_foreground();
                    let unreaped = unreaped.lock().unwrap_or_else(|e| e.into_inner());
                    if !from_terminal && *unreaped {
                        // SAFETY: kill(2) on our child, which the flag says is not reaped yet.
                        unsafe { libc::kill(pid, sig) };
                    }
                }
            });
        }
        wait_without_reaping(pid);
    }
    #[cfg(not(unix))]
    let _ = runtime;
    *unreaped.lock().unwrap_or_else(|e| e.into_inner()) = false;
    let status = child
        .wait()
        .map_err(|e| Error::internal(format!("waiting for {name}: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ok(Exit::Signal(sig));
        }
    }
    Ok(Exit::Code(status.code().unwrap_or(1)))
}

/// Waits until the child has exited, leaving it to be reaped (its pid stays ours until then).
#[cfg(unix)]
fn wait_without_reaping(pid: libc::pid_t) {
    loop {
        // SAFETY: waitid(2) writes only into `info`, a zeroed siginfo_t we own.
        let done = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if done == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Whether authsome is in the foreground process group of its terminal, so that a Ctrl-C
/// reached the child too. Any of stdin, stdout, stderr may be the terminal (stdin is often a
/// pipe).
#[cfg(unix)]
fn in_terminal_foreground() -> bool {
    [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO]
        .into_iter()
        .any(|fd| {
            // SAFETY: plain queries of the process group, no memory involved.
            unsafe {
                let fg = libc::tcgetpgrp(fd);
                fg != -1 && fg == libc::getpgrp()
            }
        })
}

/// Raises this process's soft limit on open files to its hard limit: every client connection
/// and every upstream one holds a descriptor, and a low soft limit (often 256 or 1024) would let
/// idle connections lock the child out of its own proxy.
pub fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer, which
    // lives on this stack frame for both calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
