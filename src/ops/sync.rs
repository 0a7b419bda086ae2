//! `sync`: `git pull --rebase` then `git push` for the store's branch, through the git CLI (gix
//! cannot push), with a clear word on conflicts. It makes no commit of its own: it holds the
//! writers' lock while git rewrites the branch.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};

/// What `sync` did.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Always `synced`.
    pub status: &'static str,
    /// The remote synced with.
    pub remote: String,
    /// The local branch.
    pub branch: String,
    /// Whether new commits came from the remote.
    pub pulled: bool,
    /// The remote's branch.
    #[serde(skip)]
    pub remote_branch: String,
}

fn git(root: &Path, args: &[&str]) -> Result<std::process::Output> {
    let mut c = Command::new("git");
    c.arg("-C").arg(root).args(args);
    // A rebase rewrites commits and needs a committer; machines without a git identity (CI)
    // get the same fallback authsome's own commits use.
    let configured = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["config", "user.email"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !configured && std::env::var_os("GIT_COMMITTER_EMAIL").is_none() {
        c.env("GIT_COMMITTER_NAME", "authsome")
            .env("GIT_COMMITTER_EMAIL", "authsome@localhost");
    }
    c.output().map_err(|e| {
        Error::store(format!(
            "could not run git ({e}); `authsome sync` needs the git command installed"
        ))
    })
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Pulls (rebasing) and pushes the store's branch.
pub fn sync(cx: &Context) -> Result<Report> {
    let store = cx.store()?;
    let root = store.root().to_path_buf();
    let _lock = store.lock_for_sync()?;
    let branch = text(&git(&root, &["symbolic-ref", "--short", "HEAD"])?);
    if branch.is_empty() {
        return Err(Error::store(format!(
            "the store at {} is not on a branch (detached HEAD); check out its branch and sync again",
            root.display()
        )));
    }
    // The branch's upstream when it has one (a feature branch may track origin/main), else a
    // branch of the same name on `origin` (or the only remote).
    let upstream = git(
        &root,
        &[
            "rev-parse",
            "--abbrev-ref",
            "--symbolic-full-name",
            "@{upstream}",
        ],
    )?;
    let remotes = text(&git(&root, &["remote"])?);
    let (remote, remote_branch) = match text(&upstream).split_once('/') {
        Some((r, b)) if upstream.status.success() && remotes.lines().any(|x| x == r) => {
            (r.to_owned(), b.to_owned())
        }
        _ => {
            let remote = if remotes.lines().any(|r| r == "origin") {
                "origin".to_owned()
            } else if let Some(first) = remotes.lines().next() {
                first.to_owned()
            } else {
                return Err(Error::store(format!(
                    "the store has no remote to sync with; add one with `git -C {} remote add origin URL`",
                    root.display()
                )));
            };
            (remote, branch.clone())
        }
    };
    let before = text(&git(&root, &["rev-parse", "HEAD"])?);
    let remote_has_branch = git(
        &root,
        &["ls-remote", "--exit-code", "--heads", &remote, &branch],
    )?;
    let mut pulled = false;
    if remote_has_branch.status.success() {
        let pull = git(
            &root,
            &["pull", "--rebase", "--quiet", &remote, &remote_branch],
        )?;
        if !pull.status.success() {
            return Err(conflict(&root, &pull)?);
        }
        pulled = text(&git(&root, &["rev-parse", "HEAD"])?) != before;
    } else if remote_has_branch.status.code() != Some(2) {
        return Err(Error::new(
            ErrorKind::Endpoint,
            format!(
                "could not reach the remote {remote}: {}",
                String::from_utf8_lossy(&remote_has_branch.stderr).trim()
            ),
        ));
    }
    let push = git(
        &root,
        &[
            "push",
            "--quiet",
            &remote,
            &format!("HEAD:refs/heads/{branch}"),
        ],
    )?;
    if !push.status.success() {
        return Err(Error::new(
            ErrorKind::Endpoint,
            format!(
                "git push to {remote} failed: {}; sync again once the remote accepts pushes",
                String::from_utf8_lossy(&push.stderr).trim()
            ),
        ));
    }
    Ok(Report {
        status: "synced",
        remote,
        branch,
        pulled,
        remote_branch,
    })
}

/// Explains a failed `git pull --rebase`: conflicts in secret files must be settled by picking a
/// side (ciphertexts do not merge); conflicts in YAML are marked by git as usual.
fn conflict(root: &Path, pull: &std::process::Output) -> Result<Error> {
    let files = text(&git(root, &["diff", "--name-only", "--diff-filter=U"])?);
    let r = root.display();
    if files.is_empty() {
        return Ok(Error::store(format!(
            "git pull --rebase failed: {}; fix that and sync again",
            String::from_utf8_lossy(&pull.stderr).trim()
        )));
    }
    let (secrets, yaml): (Vec<&str>, Vec<&str>) =
        files.lines().partition(|f| crate::layout::is_secret(f));
    let mut msg = String::from("the sync stopped on a conflict: ");
    if !secrets.is_empty() {
        let f = secrets.join(" ");
        msg.push_str(&format!(
            "{} changed here and on the remote (a secret cannot be merged); keep the remote's with `git -C {r} checkout --ours -- {f}` or yours with `git -C {r} checkout --theirs -- {f}`, then `git -C {r} add {f}`",
            secrets.join(", ")
        ));
    }
    if !yaml.is_empty() {
        if !secrets.is_empty() {
            msg.push_str("; ");
        }
        msg.push_str(&format!(
            "{} has conflict markers; edit them away and `git -C {r} add` the files",
            yaml.join(", ")
        ));
    }
    msg.push_str(&format!(
        "; then `git -C {r} rebase --continue` and sync again (or `git -C {r} rebase --abort` to undo)"
    ));
    Ok(Error::store(msg))
}
