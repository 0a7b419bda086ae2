//! `authsome skill [--out DIR]`: a `SKILL.md` that teaches an agent harness (Claude Code, Codex,
//! Cursor, ...) to use authsome without ever seeing or printing a secret.

use std::path::PathBuf;

use crate::cli::output::Output;
use authsome::error::{Error, Result};

/// Arguments of `skill`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write `SKILL.md` into this folder (made if missing) instead of printing it.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The skill, in the skills format: YAML front matter (name, description), then Markdown.
pub const SKILL: &str = r#"---
name: authsome
description: Use the user's logged-in API credentials (GitHub, OpenAI, Slack, Google, ...) through authsome without ever seeing or printing a secret. Use when a task needs to call an API the user has an account with, or when a command fails for lack of a token.
---

# authsome: credentials without secrets

authsome holds the user's credentials (API keys, OAuth tokens, personal tokens) in an
encrypted store. You never need a secret's value: run commands under `authsome run`, and its
local proxy adds the credential to their HTTPS requests on the way out.

## Rules

- Never print, log, echo or paste a secret. Do not use `--show-secret`, `authsome export` or
  `authsome run --env`; they reveal values.
- Do not read files under `~/.authsome` or `~/.config/authsome`, and do not copy `.age` files.
- A refusal from the proxy (HTTP 403 or 429 with a line starting "authsome") is the user's
  policy: report it, do not work around it.

## What is available

```sh
authsome list --json
authsome status --json
```

`list` shows each provider and its connections (names, status, expiry; no secrets). `status`
exits 1 when something needs the user's attention and says what.

## Calling an API

Run the command under the proxy; the child gets placeholders in variables such as
`GITHUB_TOKEN` and `OPENAI_API_KEY`, and the proxy swaps in the real credential:

```sh
authsome run -- curl -sS https://api.github.com/user
authsome run -- python3 script.py
authsome run -c github=work -- gh repo list
```

Use `--read-only` when the task only reads, and narrow further with `--allow`:

```sh
authsome run --read-only -- gh issue list
authsome run --allow 'github:GET /repos/acme/**' -- ./sync.sh
```

Check what the policy allows before a request that changes something:

```sh
authsome policy check github POST /repos/acme/web/issues
```

## When a credential is missing

If `authsome list --json` does not show the provider, or a request fails with 401, ask the user
to log in in their own terminal, and wait for them:

```sh
authsome login github
```

Do not ask the user to paste a key into the chat.

## Exit codes

0 success; 1 `status` or `doctor` found something, or `policy check` refused; 2 usage; 3 no
such connection; 4 no such provider; 5 no usable credential (log in again); 12 the store's
state does not verify (tell the user; never pass `--allow-unverified`).
"#;

/// Runs `skill`.
pub fn exec(out: &Output, args: Args) -> Result<()> {
    out.refuse_json("skill prints a Markdown file")?;
    match args.out {
        None => out.raw_text(SKILL),
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
            let path = dir.join("SKILL.md");
            std::fs::write(&path, SKILL).map_err(|e| Error::io("write", &path, e))?;
            out.info(&format!("Wrote {}", path.display()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SKILL;

    /// Every command the skill shows is one the command line takes.
    #[test]
    fn every_command_in_the_skill_parses() {
        let mut seen = 0;
        let mut fenced = false;
        for line in SKILL.lines() {
            if line.starts_with("```") {
                fenced = !fenced;
                continue;
            }
            if !fenced {
                continue;
            }
            let words = crate::cli::examples::shell_words(line);
            // `run -- CMD`: only authsome's own part is checked.
            let end = words.iter().position(|w| w == "--").unwrap_or(words.len());
            let mut args = words[..end].to_vec();
            if end < words.len() {
                args.extend(["--".to_owned(), "true".to_owned()]);
            }
            let parsed = crate::cli::command().try_get_matches_from(&args);
            assert!(parsed.is_ok(), "{line}: {}", parsed.unwrap_err());
            seen += 1;
        }
        assert!(seen >= 8, "{seen}");
        assert!(SKILL.starts_with("---\nname: authsome\ndescription: "));
    }
}
