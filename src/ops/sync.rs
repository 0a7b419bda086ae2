//! `sync`: `git fetch`, a check of the fetched tip's seals, `git rebase` onto it, then `git push`
//! for the store's branch, through the git CLI (gix cannot push), with a clear word on conflicts.
//! It holds the writers' lock while git rewrites the branch.
//!
//! In a sealed store, a remote that does not verify is refused before anything is rebased. Seal
//! files take the remote's side when both sides re-sealed a scope (a merge driver that keeps the
//! branch being rebuilt), and a scope left changed under the remote's seal, the verified remote
//! tree plus this user's own commits, is re-sealed in one more commit if this user may.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::context::Context;
use crate::crypto::signing::SigningKey;
use crate::error::{Error, ErrorKind, Result};
use crate::store::{Edit, Snapshot};
use crate::trust;

/// What `sync` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Always `synced`.
    pub status: &'static str,
    /// The remote synced with.
    pub remote: String,
    /// The local branch.
    pub branch: String,
    /// Whether new commits came from the remote.
    pub pulled: bool,
    /// Scopes re-sealed over the remote's seal (`vaults/dev #5`).
    pub resealed: Vec<String>,
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
    let lock = store.lock_for_sync()?;
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
    let mut resealed = Vec::new();
    if remote_has_branch.status.success() {
        let tracking = format!("refs/remotes/{remote}/{remote_branch}");
        let seen = git(&root, &["rev-parse", "--verify", "--quiet", &tracking])?;
        let seen = seen.status.success().then(|| text(&seen));
        let fetch = git(&root, &["fetch", "--quiet", &remote, &remote_branch])?;
        if !fetch.status.success() {
            return Err(Error::new(
                ErrorKind::Endpoint,
                format!(
                    "git fetch from {remote} failed: {}",
                    String::from_utf8_lossy(&fetch.stderr).trim()
                ),
            ));
        }
        let fetched = text(&git(&root, &["rev-parse", "FETCH_HEAD"])?);
        // What this clone last saw of the remote, else the last commit both sides share.
        let seen = match seen {
            Some(s) => Some(s),
            None => {
                let base = git(&root, &["merge-base", "HEAD", &fetched])?;
                base.status.success().then(|| text(&base))
            }
        };
        // The fetched objects are new to the repository opened before the fetch.
        let store = cx.store()?;
        {
            let incoming = Snapshot::at_commit(&store, oid(&fetched)?)?;
            let seen = seen
                .map(|s| Snapshot::at_commit(&store, oid(&s)?))
                .transpose()?;
            trust::verify_incoming(&incoming, seen.as_ref(), &cx.trust).map_err(|e| {
                let message = format!(
                    "the remote {remote}/{remote_branch} does not verify, so nothing was rebased onto it: {}",
                    e.message()
                );
                e.with_message(message)
            })?;
        }
        let attributes = seal_attributes(&root, &store)?;
        let rebase = git(
            &root,
            &[
                "-c",
                &format!("core.attributesFile={}", attributes.display()),
                "-c",
                "merge.authsome-seal.name=keep the seal of the branch being rebuilt",
                "-c",
                "merge.authsome-seal.driver=true",
                "rebase",
                "--quiet",
                &fetched,
            ],
        )?;
        if !rebase.status.success() {
            return Err(conflict(&root, &rebase)?);
        }
        pulled = text(&git(&root, &["rev-parse", "HEAD"])?) != before;
        // The re-seal is a transaction, which takes the writers' lock itself.
        drop(lock);
        resealed = reseal(cx, &store, oid(&fetched)?)?;
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
        resealed,
        remote_branch,
    })
}

fn oid(hex: &str) -> Result<gix::ObjectId> {
    gix::ObjectId::from_hex(hex.as_bytes())
        .map_err(|e| Error::store(format!("git printed {hex:?} for a commit id: {e}")))
}

/// An attributes file that gives seal files the `authsome-seal` merge driver, for the rebase.
fn seal_attributes(root: &Path, store: &crate::store::Store) -> Result<std::path::PathBuf> {
    let git_dir = text(&git(root, &["rev-parse", "--absolute-git-dir"])?);
    let path = Path::new(&git_dir).join("authsome-sync-attributes");
    let text = format!(
        "{} merge=authsome-seal\n{} merge=authsome-seal\n",
        store.repo_relative(crate::layout::SEAL),
        store.repo_relative(&format!(
            "{}/*/{}",
            crate::layout::VAULTS,
            crate::layout::SEAL
        ))
    );
    std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))?;
    Ok(path)
}

/// After the rebase: each scope that no longer verifies while it still carries the remote's
/// seal holds the verified remote tree plus this user's own commits; it is re-sealed in one
/// commit, signed by this user if the remote's policy allows them. Then what verifies is pinned.
fn reseal(
    cx: &Context,
    store: &crate::store::Store,
    fetched: gix::ObjectId,
) -> Result<Vec<String>> {
    let head = store.snapshot()?;
    if head.read(&crate::layout::store_seal())?.is_none() {
        return Ok(Vec::new());
    }
    let remote = Snapshot::at_commit(store, fetched)?;
    let mut todo = Vec::new();
    for scope in trust::scopes(&head)? {
        let policy = trust::policy::Policy::of(&remote, &scope)?;
        if trust::check_with(&head, &scope, Some(&policy))?.ok() {
            continue;
        }
        let theirs = trust::read_seal(&remote, &scope)?.map(|s| s.statement.digest());
        let ours = trust::read_seal(&head, &scope)?.map(|s| s.statement.digest());
        if theirs.is_some() && theirs == ours {
            todo.push(scope);
        }
    }
    if todo.is_empty() {
        trust::gate(
            &head,
            &trust::scopes(&head)?,
            &cx.trust.strict(),
            &crate::ui::Silent,
        )?;
        return Ok(Vec::new());
    }
    let key = SigningKey::load(&cx.signing_key_path)?;
    let outcome = store.transact(|txn| {
        let mut names = Vec::new();
        let mut seals = Vec::new();
        for scope in &todo {
            let (allowed, _) = trust::authorised(&remote, scope)?;
            let signer = trust::sealer::signer_of(&allowed, &key).ok_or_else(|| {
                Error::new(
                    ErrorKind::Trust,
                    format!(
                        "{} changed both here and on the remote, and the result needs a new seal, but the signing key {} is not one of those who may seal it",
                        scope.name(),
                        key.path().display()
                    ),
                )
                .with_hint(
                    "have a writer of that vault (an owner for the store scope) pull and run `authsome seal`, or drop your commits with `git reset --hard FETCH_HEAD`",
                )
            })?;
            let previous = trust::read_seal(txn.base(), scope)?;
            if let Some(seal) =
                trust::sealer::sign(txn.base(), scope, previous.as_ref(), &key, &signer)?
            {
                names.push(format!("{} #{}", scope.name(), seal.statement.seq));
                seals.push((scope.seal_path(), seal.render()));
            }
        }
        for (path, text) in seals {
            txn.write(path, text);
        }
        Ok(Edit::new(
            format!("seal {} (sync: own changes on the remote's)", names.join(", ")),
            names,
        ))
    })?;
    let head = store.snapshot()?;
    trust::gate(
        &head,
        &trust::scopes(&head)?,
        &cx.trust.strict(),
        &crate::ui::Silent,
    )?;
    Ok(outcome.into_value())
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
