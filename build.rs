//! Embeds the bundled provider catalog (`src/providers/bundled/*.yaml`) into the binary, and
//! records the commit authsome is built from, and its date, for `authsome --version`. Like
//! ripgrep's, the commit is read when the build script runs (every fresh build: CI, `cargo
//! install`), not on every commit, so a commit does not rebuild the whole crate.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/providers/bundled");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/providers/bundled exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".yaml").map(str::to_owned))
        .collect();
    names.sort();
    let mut out = String::from(
        "/// The bundled provider definitions: (name, YAML text), sorted by name.\npub static BUNDLED: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        let path = dir.join(format!("{name}.yaml"));
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("bundled.rs");
    std::fs::write(dest, out).unwrap();
    version();
}

/// `AUTHSOME_COMMIT` and `AUTHSOME_COMMIT_DATE`, "unknown" outside a git checkout.
fn version() {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let date = git(&["log", "-1", "--format=%cs"]).unwrap_or_else(|| "unknown".into());
    // Build again when HEAD moves: HEAD itself, the branch it names, and packed refs.
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        let git_dir = std::path::PathBuf::from(git_dir);
        let branch = std::fs::read_to_string(git_dir.join("HEAD"))
            .ok()
            .and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_owned()));
        let watched = ["HEAD", "packed-refs", branch.as_deref().unwrap_or("HEAD")];
        // A path that does not exist would make cargo run this script on every build.
        for path in watched
            .map(|p| git_dir.join(p))
            .iter()
            .filter(|p| p.exists())
        {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rustc-env=AUTHSOME_COMMIT={commit}");
    println!("cargo:rustc-env=AUTHSOME_COMMIT_DATE={date}");
}
