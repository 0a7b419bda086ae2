//! The EXAMPLES section of every command's help (and man page), kept in one table so each
//! command shows how it is used next to the others.

/// (command, examples) for every top-level command.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("init", "authsome init\n  authsome init --store ./creds"),
    (
        "login",
        "printf 'sk-...' | authsome login openai --stdin\n  authsome login openai --connection work\n  authsome login github --force",
    ),
    (
        "get",
        "authsome get openai\n  authsome get openai -c work --field api_key --show-secret",
    ),
    (
        "export",
        "eval \"$(authsome export openai --format shell)\"\n  authsome export --json",
    ),
    (
        "run",
        "authsome run -- curl https://api.openai.com/v1/models\n  authsome run -c openai=work -- python app.py\n  authsome run --env -- terraform plan",
    ),
    ("shell", "authsome shell\n  authsome shell -- make test"),
    ("mcp", "authsome mcp"),
    (
        "skill",
        "authsome skill --out ~/.claude/skills/authsome\n  authsome skill > AGENTS.md",
    ),
    (
        "audit",
        "authsome audit\n  authsome audit openai --since 1h -n 20",
    ),
    ("list", "authsome list\n  authsome --json list"),
    ("inspect", "authsome inspect openai"),
    ("default", "authsome default openai work"),
    (
        "logout",
        "authsome logout openai -c work\n  authsome logout openai",
    ),
    (
        "config",
        "authsome config signing.commits true\n  authsome config signing.commits",
    ),
    (
        "refresh",
        "authsome refresh google\n  authsome refresh google/work",
    ),
    (
        "revoke",
        "authsome revoke github -c work\n  authsome revoke github",
    ),
    (
        "provider",
        "authsome provider list\n  authsome provider show openai\n  authsome provider add ./acme.yaml\n  authsome provider remove acme",
    ),
    ("log", "authsome log\n  authsome log openai -n 5"),
    (
        "restore",
        "authsome restore openai --to HEAD~2\n  authsome restore openai/work --to 3f2a1c9",
    ),
    ("diff", "authsome diff\n  authsome diff HEAD~3..HEAD"),
    ("show", "authsome show\n  authsome show HEAD~1"),
    (
        "git-setup",
        "authsome git-setup && git -C ~/.authsome log -p",
    ),
    ("sync", "authsome sync"),
    (
        "status",
        "authsome status\n  authsome status --json || echo 'something needs attention'",
    ),
    ("whoami", "authsome whoami"),
    ("doctor", "authsome doctor"),
    (
        "principal",
        "authsome principal add bob --recipient age1...\n  authsome principal list\n  authsome principal remove bob",
    ),
    (
        "vault",
        "authsome vault create prod\n  authsome vault list\n  authsome vault show prod",
    ),
    (
        "grant",
        "authsome grant bob prod\n  authsome grant bob prod --role writer",
    ),
    ("revoke-access", "authsome revoke-access bob prod"),
    ("rekey", "authsome rekey\n  authsome rekey prod --dry-run"),
    (
        "policy",
        "authsome policy allow github 'GET /repos/acme/**'\n  authsome policy deny github 'DELETE /**'\n  authsome policy allow github 'POST /repos/acme/*/issues' --as deploy-bot --rate 30/min\n  authsome policy check github DELETE /repos/acme/web --as deploy-bot\n  authsome policy show",
    ),
    (
        "rotation",
        "authsome rotation list\n  authsome rotation done openai/work",
    ),
    (
        "agent",
        "authsome agent create ci-bot --vault prod\n  authsome agent create deploy --vault prod --writer",
    ),
    ("seal", "authsome seal\n  authsome seal store --cosign"),
    (
        "verify",
        "authsome verify\n  authsome verify --explain --json",
    ),
    (
        "trust",
        "authsome trust show\n  authsome trust accept --root SHA256:...\n  authsome trust allowed-signers",
    ),
    ("join-request", "authsome join-request > request.txt"),
    ("upgrade", "authsome upgrade"),
    (
        "completions",
        "authsome completions bash > ~/.local/share/bash-completion/completions/authsome\n  authsome completions zsh > \"${fpath[1]}/_authsome\"\n  authsome completions fish > ~/.config/fish/completions/authsome.fish",
    ),
    (
        "help",
        "authsome help login\n  authsome help provider add\n  authsome help exit-codes\n  authsome help environment",
    ),
    (
        "man",
        "authsome man | man -l -\n  authsome man --out ~/.local/share/man/man1 && man authsome-login",
    ),
];

/// `cmd` with each command's examples under its help.
pub fn with_examples(mut cmd: clap::Command) -> clap::Command {
    for (name, text) in EXAMPLES {
        cmd = cmd.mut_subcommand(name, |c| c.after_help(format!("Examples:\n  {text}")));
    }
    cmd
}

#[cfg(test)]
/// Words as a shell splits them, with single quotes ('GET /repos/**' is one word).
pub(crate) fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::EXAMPLES;

    #[test]
    fn every_command_has_examples_and_every_example_parses() {
        let cmd = crate::cli::command();
        for sub in cmd.get_subcommands() {
            let name = sub.get_name();
            assert!(
                name == "help" || sub.is_hide_set() || EXAMPLES.iter().any(|(n, _)| *n == name),
                "{name} has no examples"
            );
        }
        for (_, text) in EXAMPLES {
            for line in text.lines() {
                // The authsome command of each line, up to the shell around it.
                let start = line.find("authsome ").expect("an authsome command");
                let rest = &line[start..];
                let end = ["|", "&&", ">", ")", "\""]
                    .iter()
                    .filter_map(|op| rest.find(op))
                    .min()
                    .unwrap_or(rest.len());
                let words = super::shell_words(&rest[..end]);
                let result = crate::cli::command().try_get_matches_from(&words);
                assert!(result.is_ok(), "{line}: {}", result.unwrap_err());
            }
        }
    }
}
