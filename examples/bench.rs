//! Benchmark: builds realistic stores and times the commands people run most.
//!
//! ```text
//! cargo run --release --example bench            # 100, 1,000 and 10,000 connections
//! cargo run --release --example bench -- 1000    # one size
//! ```
//!
//! Each store spreads its connections over 50 bundled API-key providers and has at least 5,000
//! commits of history (logins, then default switches). Every figure is the median wall-clock
//! time of the release binary over repeated runs, process start included.
//!
//! Teams: `rekey --dry-run` at every size (beside a cold `list --json`: both parse every
//! record), and at 1,000 connections `grant` and `revoke-access` of an eleventh reader on a
//! vault of 1,000 connections with 2,000 secrets and 10 readers (each rewrites every secret).
//!
//! Trust: every commit of the store is sealed, as authsome's own writes are. `get` on the sealed,
//! pinned store runs beside `get` on a clone of it brought back to format 2 without seals (the
//! same build, no trust check), `verify` checks every scope and every secret's header, and at
//! 1,000 connections a `get` catches up on 200 seals made since the pin (replayed in order).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use authsome::crypto::envelope::Place;
use authsome::layout;
use authsome::model::provider::AuthType;
use authsome::model::state::ConnectionRecord;
use authsome::store::{Edit, Store};
use authsome::vault;

const PROVIDERS: usize = 50;
const MIN_COMMITS: usize = 5_000;
const RUNS: usize = 31;

/// The `get` every table times: one secret of one connection.
const GET: [&str; 7] = [
    "get",
    "openai",
    "-c",
    "c0",
    "--field",
    "api_key",
    "--show-secret",
];

fn main() {
    let sizes: Vec<usize> = match std::env::args().nth(1) {
        Some(n) => vec![n.parse().expect("a number of connections")],
        None => vec![100, 1_000, 10_000],
    };
    let bin = release_binary();
    let providers: Vec<String> = authsome::providers::BUNDLED
        .iter()
        .filter_map(|(n, _)| authsome::providers::bundled(n).and_then(|d| d.ok()))
        .filter(|d| d.auth_type == AuthType::ApiKey && d.name != "openai")
        .map(|d| d.name)
        .take(PROVIDERS - 1)
        .chain(std::iter::once("openai".to_owned()))
        .collect();
    assert_eq!(
        providers.len(),
        PROVIDERS,
        "the catalog has enough API-key providers"
    );

    println!(
        "| connections | commits | get --show-secret | get, no trust check | export --format env | list --json | list --json, cold cache | login --stdin --force | rekey --dry-run | verify |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut team = None;
    let mut catch_up = None;
    for n in sizes {
        let home = tempfile::tempdir().unwrap();
        // SAFETY: the benchmark is single-threaded; the pin of each store is kept in its own
        // home, like the pins of the commands it runs.
        unsafe { std::env::set_var("XDG_STATE_HOME", state_dir(home.path())) };
        let build = Instant::now();
        let commits = build_store(&bin, home.path(), &providers, n);
        // Let the kernel write back the freshly built store first, so timings measure authsome
        // rather than the page cache flushing underneath it.
        let _ = Command::new("sync").status();
        eprintln!(
            "built a store of {n} connections and {commits} commits in {:.1?}",
            build.elapsed()
        );
        let get = median(&bin, home.path(), &GET, None);
        let unchecked = median(&bin, unsealed_clone(home.path()).path(), &GET, None);
        let export = median(
            &bin,
            home.path(),
            &["export", "openai", "--format", "env"],
            None,
        );
        let list = median(&bin, home.path(), &["list", "--json"], None);
        // XDG_CACHE_HOME pointing at a file, so no cache can be kept: every run parses every record.
        let cold = median_env(
            &bin,
            home.path(),
            &["list", "--json"],
            ("XDG_CACHE_HOME", "/dev/null"),
        );
        let login = median(
            &bin,
            home.path(),
            &["login", "openai", "-c", "c0", "--force", "--stdin"],
            Some("sk-bench-"),
        );
        let rekey = median(&bin, home.path(), &["rekey", "--dry-run"], None);
        let verify = median(&bin, home.path(), &["verify"], None);
        println!(
            "| {n} | {commits} | {} | {} | {} | {} | {} | {} | {} | {} |",
            ms(get),
            ms(unchecked),
            ms(export),
            ms(list),
            ms(cold),
            ms(login),
            ms(rekey),
            ms(verify)
        );
        if n == 1_000 {
            catch_up = Some(catch_up_bench(&bin, home.path(), &providers));
            team = Some(team_bench(&bin, home.path(), &providers));
        }
        if std::env::var_os("BENCH_KEEP").is_some() {
            eprintln!("keeping the store: HOME={}", home.path().display());
            std::mem::forget(home);
        }
    }
    if let Some((seals, took)) = catch_up {
        println!();
        println!("| catching up (1,000 connections) | seals replayed | get --show-secret |");
        println!("|---|---:|---:|");
        println!("| pin {seals} seals behind HEAD | {seals} | {} |", ms(took));
    }
    if let Some((grant, revoke)) = team {
        println!();
        println!(
            "| vault | readers | grant (2,000 secrets rewritten) | revoke-access (2,000 secrets rewritten, 1,000 marked) |"
        );
        println!("|---|---:|---:|---:|");
        println!(
            "| 1,000 connections, 2,000 secrets | 10 | {} | {} |",
            ms(grant),
            ms(revoke)
        );
    }
}

/// Rounds of grant and revoke-access timed in [`team_bench`].
const TEAM_ROUNDS: usize = 7;

/// Builds vault `team` (1,000 connections with two secrets each, 10 readers) in the store at
/// `home`, then times granting an eleventh reader and revoking it again, [`TEAM_ROUNDS`] times.
fn team_bench(bin: &Path, home: &Path, providers: &[String]) -> (Duration, Duration) {
    let run = |args: &[&str]| {
        let out = command(bin, home, args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for i in 1..=10 {
        let key = age::x25519::Identity::generate().to_public().to_string();
        run(&["principal", "add", &format!("p{i}"), "--recipient", &key]);
    }
    let readers: Vec<String> = std::iter::once("me".to_owned())
        .chain((1..=9).map(|i| format!("p{i}")))
        .collect();
    let store = open_sealed(home);
    store
        .transact(|txn| {
            let meta = store.meta(txn.base())?;
            let v = authsome::model::state::VaultMeta {
                readers: readers.clone(),
                writers: vec!["me".into()],
                admins: vec!["me".into()],
                fingerprint_key: None,
            };
            vault::write_yaml(txn, layout::vault_meta("team"), &v)?;
            let recipients = vault::load_recipients(txn, "team")?;
            let now = vault::now();
            for i in 0..1_000 {
                let provider = &providers[i % providers.len()];
                let conn = format!("c{}", i / providers.len());
                let mut record = ConnectionRecord::new(AuthType::ApiKey, None, now);
                for field in ["api_key", "access_token"] {
                    let place = vault::VaultRef::new(&meta.id, "team")
                        .connection(provider, &conn)
                        .place(field);
                    let value = SecretString::from(format!("sk-team-{i}-{field}"));
                    let info =
                        vault::put_secret(txn, &place, &value, &recipients, None, None, now)?;
                    record.secrets.insert(field.into(), info);
                }
                vault::write_yaml(txn, layout::record("team", provider, &conn), &record)?;
            }
            Ok(Edit::new("team vault", ()))
        })
        .unwrap();
    let (mut grants, mut revokes) = (Vec::new(), Vec::new());
    for _ in 0..TEAM_ROUNDS {
        let start = Instant::now();
        run(&["grant", "p10", "team"]);
        grants.push(start.elapsed());
        let start = Instant::now();
        run(&["revoke-access", "p10", "team"]);
        revokes.push(start.elapsed());
    }
    grants.sort();
    revokes.sort();
    (grants[TEAM_ROUNDS / 2], revokes[TEAM_ROUNDS / 2])
}

/// Seals made since the pin, replayed by one `get`.
const CATCH_UP: usize = 200;

/// Times a `get` whose pin is [`CATCH_UP`] seals behind HEAD: each run starts from the old pin
/// and replays every seal since, each judged by the policy the step before established.
fn catch_up_bench(bin: &Path, home: &Path, providers: &[String]) -> (usize, Duration) {
    let pin_dir = state_dir(home).join("authsome/trust");
    let pins: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&pin_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    // Each write flips one provider's default between c0 and c1: one seal of the vault each.
    let store = open_sealed(home);
    for i in 0..CATCH_UP {
        let provider = &providers[i % providers.len()];
        store
            .transact(|txn| {
                let mut state = vault::provider_state(txn, "default", provider)?;
                let next = if state.default.as_deref() == Some("c1") {
                    "c0"
                } else {
                    "c1"
                };
                state.default = Some(next.into());
                vault::write_provider_state(txn, "default", provider, &state)?;
                Ok(Edit::new(format!("default {provider}: -> {next}"), ()))
            })
            .unwrap();
    }
    let args = GET;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        for (path, bytes) in &pins {
            std::fs::write(path, bytes).unwrap();
        }
        let start = Instant::now();
        let out = command(bin, home, &args).output().unwrap();
        times.push(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    times.sort();
    (CATCH_UP, times[RUNS / 2])
}

/// Where a home's pins live (`XDG_STATE_HOME`).
fn state_dir(home: &Path) -> PathBuf {
    home.join(".local/state")
}

/// The store of `home`, its writes sealed with the signing key `init` made there.
fn open_sealed(home: &Path) -> Store {
    let mut store = Store::open(&home.join(".authsome")).unwrap();
    store.set_sealer(std::sync::Arc::new(authsome::trust::sealer::Sealer::new(
        home.join(".config/authsome/signing_key"),
        authsome::trust::Settings::default(),
    )));
    store
}

/// A second home with the same identity and a clone of `home`'s store brought back to format 2
/// without seals, which no trust check looks at: the baseline of the check's cost.
fn unsealed_clone(home: &Path) -> tempfile::TempDir {
    let other = tempfile::tempdir().unwrap();
    let config = other.path().join(".config/authsome");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(
        home.join(".config/authsome/identity.txt"),
        config.join("identity.txt"),
    )
    .unwrap();
    let store = other.path().join(".authsome");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&[
        "clone",
        "-q",
        home.join(".authsome").to_str().unwrap(),
        store.to_str().unwrap(),
    ]);
    let meta = store.join("store.yaml");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(&meta, text.replace("format: 3", "format: 2")).unwrap();
    let s = store.to_str().unwrap();
    git(&["-C", s, "rm", "-q", "seal", "vaults/default/seal"]);
    git(&[
        "-C",
        s,
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@localhost",
        "commit",
        "-qam",
        "format 2, unsealed",
    ]);
    other
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn release_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "authsome"])
        .status()
        .unwrap();
    assert!(status.success());
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/authsome")
}

fn command(bin: &Path, home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(args)
        .env("HOME", home)
        .env_remove("AUTHSOME_HOME")
        .env_remove("AUTHSOME_STORE")
        .env_remove("AUTHSOME_IDENTITY")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("AUTHSOME_SIGNING_KEY")
        .env("USER", "me")
        .env("XDG_STATE_HOME", state_dir(home))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Median wall-clock time of `args` over [`RUNS`] runs; `stdin_prefix` gets a run number
/// appended so every login writes a new value.
fn median(bin: &Path, home: &Path, args: &[&str], stdin_prefix: Option<&str>) -> Duration {
    timed(bin, home, args, stdin_prefix, None)
}

/// Like [`median`], with one extra environment variable.
fn median_env(bin: &Path, home: &Path, args: &[&str], env: (&str, &str)) -> Duration {
    timed(bin, home, args, None, Some(env))
}

fn timed(
    bin: &Path,
    home: &Path,
    args: &[&str],
    stdin_prefix: Option<&str>,
    env: Option<(&str, &str)>,
) -> Duration {
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let mut c = command(bin, home, args);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        c.stdin(if stdin_prefix.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let start = Instant::now();
        let mut child = c.spawn().unwrap();
        if let Some(p) = stdin_prefix {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{p}{i}").as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        times.push(start.elapsed());
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    times.sort();
    times[RUNS / 2]
}

/// Builds a store with `n` connections over `providers` and at least [`MIN_COMMITS`] commits.
fn build_store(bin: &Path, home: &Path, providers: &[String], n: usize) -> usize {
    let out = command(bin, home, &["init"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = open_sealed(home);
    let identity =
        authsome::crypto::identity::Identity::load(&home.join(".config/authsome/identity.txt"))
            .unwrap();
    let mut commits = 1;
    let login_commits = n.min(MIN_COMMITS);
    let per_commit = n.div_ceil(login_commits);
    let mut next = 0;
    while next < n {
        let batch: Vec<usize> = (next..(next + per_commit).min(n)).collect();
        next += batch.len();
        store
            .transact(|txn| {
                let meta = store.meta(txn.base())?;
                let recipients = vault::load_recipients(txn, "default")?;
                let now = vault::now();
                for &i in &batch {
                    let provider = &providers[i % providers.len()];
                    let conn = format!("c{}", i / providers.len());
                    let place = Place {
                        store: meta.id.clone(),
                        vault: "default".into(),
                        provider: provider.clone(),
                        connection: Some(conn.clone()),
                        field: "api_key".into(),
                    };
                    let key = SecretString::from(format!("sk-bench-{i}"));
                    let info = vault::put_secret(
                        txn,
                        &place,
                        &key,
                        &recipients,
                        None,
                        Some(&identity),
                        now,
                    )?;
                    let mut record = ConnectionRecord::new(AuthType::ApiKey, None, now);
                    record.secrets.insert("api_key".into(), info);
                    vault::write_yaml(txn, layout::record("default", provider, &conn), &record)?;
                    let mut state = vault::provider_state(txn, "default", provider)?;
                    state.default.get_or_insert(conn);
                    vault::write_provider_state(txn, "default", provider, &state)?;
                }
                Ok(Edit::new(format!("login batch {}", batch[0]), ()))
            })
            .unwrap();
        commits += 1;
    }
    // Default switches fill the history up to MIN_COMMITS.
    let mut flip = 0;
    while commits < MIN_COMMITS {
        let provider = &providers[flip % providers.len()];
        let conns = n / providers.len();
        if conns < 2 {
            break;
        }
        let target = format!("c{}", (flip / providers.len() + 1) % conns);
        let outcome = store
            .transact(|txn| {
                let mut state = vault::provider_state(txn, "default", provider)?;
                state.default = Some(target.clone());
                vault::write_provider_state(txn, "default", provider, &state)?;
                Ok(Edit::new(format!("default {provider}: -> {target}"), ()))
            })
            .unwrap();
        commits += usize::from(outcome.commit().is_some());
        flip += 1;
    }
    // Leave openai's default at c0 for the timed commands.
    let outcome = store
        .transact(|txn| {
            let mut state = vault::provider_state(txn, "default", "openai")?;
            state.default = Some("c0".into());
            vault::write_provider_state(txn, "default", "openai", &state)?;
            Ok(Edit::new("default openai: -> c0", ()))
        })
        .unwrap();
    commits + usize::from(outcome.commit().is_some())
}
