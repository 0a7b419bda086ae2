//! Printing results: human text by default, JSON with `--json`, colour only on a terminal.

use std::io::{IsTerminal, Write};

use authsome::error::Error;
use authsome::ui::{Answer, Launch, Ui};

/// How to print.
#[derive(Debug)]
pub struct Output {
    /// Print JSON instead of text.
    pub json: bool,
    /// Print only requested values.
    pub quiet: bool,
    /// Use ANSI colour on stdout.
    pub color: bool,
    /// Use ANSI colour on stderr (errors red, warnings yellow).
    pub color_stderr: bool,
    /// Show progress while waiting: stderr is a terminal.
    progress: bool,
    /// The spinner's state: when it was last drawn, and its frame.
    spinner: std::sync::Mutex<(Option<std::time::Instant>, usize)>,
}

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set (or `CLICOLOR_FORCE` asks for it anyway).
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    /// What the command line says before clap has parsed it (so clap's own messages follow it
    /// too): the last `--color WHEN`, `--color=WHEN` or `--no-color` before a `--`.
    pub fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).take_while(|a| a != "--").collect();
        let mut when = ColorWhen::Auto;
        for (i, a) in args.iter().enumerate() {
            let value = match a.strip_prefix("--color") {
                Some("") => args.get(i + 1).map(String::as_str),
                Some(rest) => rest.strip_prefix('='),
                None if a == "--no-color" => Some("never"),
                None => None,
            };
            when = match value {
                Some("always") => ColorWhen::Always,
                Some("never") => ColorWhen::Never,
                Some("auto") => ColorWhen::Auto,
                _ => when,
            };
        }
        when
    }

    /// Whether a stream that is (or is not) a terminal gets colour: an explicit choice first,
    /// then `NO_COLOR`, then `CLICOLOR_FORCE`, then the terminal.
    pub fn on(self, terminal: bool) -> bool {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => !set("NO_COLOR") && (set("CLICOLOR_FORCE") || terminal),
        }
    }

    /// The same choice, for clap's help and error messages.
    pub fn clap(self) -> clap::ColorChoice {
        match self.on(std::io::stderr().is_terminal()) {
            true => clap::ColorChoice::Always,
            false => clap::ColorChoice::Never,
        }
    }
}

impl Output {
    /// Decides colour from `--color`, `NO_COLOR`, `CLICOLOR_FORCE` and whether stdout (and
    /// stderr) are terminals; JSON is never coloured.
    pub fn new(json: bool, quiet: bool, color: ColorWhen) -> Self {
        Output {
            json,
            quiet,
            color: !json && color.on(std::io::stdout().is_terminal()),
            color_stderr: color.on(std::io::stderr().is_terminal()),
            progress: std::io::stderr().is_terminal(),
            spinner: std::sync::Mutex::new((None, 0)),
        }
    }

    /// Prints a JSON document (in `--json` mode): a report or a hand-built value.
    pub fn json<T: authsome::model::report::JsonReport>(&self, value: &T) {
        let mut text = serde_json::to_string_pretty(value).expect("reports serialize");
        text.push('\n');
        self.raw(&text);
    }

    /// Refuses `--json` for a command whose output is not data (a script, a page, another
    /// program's output): `what` says what it prints instead.
    pub fn refuse_json(&self, what: &str) -> authsome::error::Result<()> {
        if self.json {
            return Err(authsome::error::Error::usage(format!(
                "{what}, which has no JSON form; run it without --json"
            )));
        }
        Ok(())
    }

    /// Prints a line of data (always, even with `--quiet`).
    pub fn data(&self, line: &str) {
        self.raw(&format!("{line}\n"));
    }

    /// Prints a line of human information (not with `--quiet`).
    pub fn info(&self, line: &str) {
        if !self.quiet {
            self.data(line);
        }
    }

    /// Prints a warning on stderr (not with `--quiet`).
    pub fn warn(&self, line: &str) {
        if !self.quiet {
            let prefix = match self.color_stderr {
                true => "\x1b[1;33mwarning:\x1b[0m",
                false => "warning:",
            };
            eprintln!("{prefix} {line}");
        }
    }

    fn raw(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`authsome list | head`) is not an error worth reporting.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Bold text, when colour is on.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    /// Green text, when colour is on.
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }

    /// Red text, when colour is on.
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }

    /// Yellow text, when colour is on.
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }

    /// Dim text, when colour is on.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    /// Prints an error: JSON on stdout with `--json`, else one line on stderr.
    pub fn error(&self, err: &Error) {
        if self.json {
            self.json(&authsome::model::report::ErrorReport {
                error: authsome::model::report::ErrorBody {
                    code: err.kind().code().to_owned(),
                    exit_code: err.kind().exit_code(),
                    message: err.message().to_owned(),
                    hint: err.hint().map(str::to_owned),
                },
            });
        } else {
            let prefix = match self.color_stderr {
                true => "\x1b[1;31merror:\x1b[0m",
                false => "error:",
            };
            eprintln!("{prefix} {err}");
        }
    }
}

impl Ui for Output {
    fn message(&self, text: &str) {
        eprintln!("{text}");
    }

    fn warn(&self, text: &str) {
        Output::warn(self, text);
    }

    fn can_open_browser(&self) -> bool {
        super::terminal::can_open_browser()
    }

    fn open_url(&self, url: &str) -> Launch {
        super::terminal::open_browser(url)
    }

    fn can_ask(&self) -> bool {
        super::terminal::can_ask()
    }

    fn ask(&self, prompt: &str, masked: bool) -> Answer {
        self.clear_spinner();
        super::terminal::ask(prompt, masked)
    }

    fn waiting(&self, what: &str, seconds_left: u64) {
        if !self.progress {
            return;
        }
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        let Ok(mut state) = self.spinner.lock() else {
            return;
        };
        let now = std::time::Instant::now();
        if state
            .0
            .is_some_and(|t| now.duration_since(t).as_millis() < 100)
        {
            return;
        }
        state.0 = Some(now);
        state.1 = (state.1 + 1) % FRAMES.len();
        eprint!(
            "\r\x1b[2K{} Waiting for {what} ({}:{:02} left; Ctrl-C to cancel)",
            self.paint_stderr("36", FRAMES[state.1]),
            seconds_left / 60,
            seconds_left % 60
        );
    }

    fn waited(&self, done: bool) {
        if !self.progress || !self.clear_spinner() {
            return;
        }
        if done {
            eprintln!("{} Done", self.paint_stderr("32", "✓"));
        }
    }
}

impl Clone for Output {
    fn clone(&self) -> Self {
        Output {
            spinner: std::sync::Mutex::new((None, 0)),
            ..*self
        }
    }
}

impl Output {
    /// Clears the spinner's line, if one is drawn; says whether it was.
    fn clear_spinner(&self) -> bool {
        let Ok(mut state) = self.spinner.lock() else {
            return false;
        };
        if state.0.take().is_none() {
            return false;
        }
        eprint!("\r\x1b[2K");
        true
    }

    fn paint_stderr(&self, code: &str, s: &str) -> String {
        if self.color_stderr {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

/// The trust check for a command that reveals no secret (`list`, `inspect`): with
/// `--allow-unverified` (or `AUTHSOME_TRUST=warn`) a state that does not verify is shown with a
/// warning instead of refused. Commands that reveal or use secrets never take this path.
pub fn gate_reveals_nothing(
    out: &Output,
    ctx: &authsome::context::Context,
    snap: &authsome::store::Snapshot<'_>,
) -> authsome::error::Result<()> {
    match authsome::trust::gate_vault(snap, &ctx.vault, &ctx.trust, out) {
        Err(e) if e.kind() == authsome::error::ErrorKind::Trust && ctx.trust.allow_unverified => {
            out.warn(&format!("showing a state that does not verify: {e}"));
            Ok(())
        }
        other => other,
    }
}

/// Pads `s` to `width` characters.
pub fn pad(s: &str, width: usize) -> String {
    format!("{s:<width$}")
}

impl Output {
    /// Prints text as it is (always).
    pub fn raw_text(&self, text: &str) {
        self.raw(text);
    }

    /// Prints a unified diff coloured as git colours one: file headers bold, hunk headers cyan,
    /// removed lines red, added lines green, secret summaries yellow.
    pub fn diff_text(&self, text: &str) {
        if !self.color {
            return self.raw(text);
        }
        let mut painted = String::with_capacity(text.len() + text.len() / 8);
        for line in text.split_inclusive('\n') {
            let (body, end) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let code = if body.starts_with("---") || body.starts_with("+++") {
                "1"
            } else if body.starts_with("@@") {
                "36"
            } else if body.starts_with('-') {
                "31"
            } else if body.starts_with('+') {
                "32"
            } else if body.starts_with("secret ") {
                "33"
            } else {
                ""
            };
            match code {
                "" => painted.push_str(body),
                c => painted.push_str(&self.paint(c, body)),
            }
            painted.push_str(end);
        }
        self.raw(&painted);
    }
}
