//! Property tests of every parser of untrusted input: whatever bytes arrive (a cloned store's
//! YAML, a provider definition, a secret file, a seal, a join request, `.authsome.yaml`, the
//! local form's request, an audit line), the parser answers `Ok` or `Err`, never panics, and
//! what authsome writes reads back as written. The `cargo fuzz` targets in `fuzz/` drive the
//! same parsers with coverage guidance.

use proptest::prelude::*;

use crate::model::names::MAX_NAME_LEN;
use crate::model::state::{ConnectionRecord, Principal, ProviderState, StoreMeta, VaultMeta};

/// Text that looks like what the parsers see: YAML punctuation, seal and age headers, names.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z:_ \\-\\n\\[\\]{}'\"#&*!|>%@,.0-9]{0,200}",
        "(authsome-seal: 1\n|store: [0-9a-f]{4}\n|scope: (store|vaults/[a-z]{1,5})\n|seq: [0-9]{1,3}\n|tree: [0-9a-f]{0,40}\n|prev: (none|sha256:[0-9a-f]{0,64})\n|vaults: [a-z ]{0,10}\n|signer: [a-z]{1,5}\n|date: 2026-12-02T00:00:00Z\n|-----BEGIN SSH SIGNATURE-----\n|-----END SSH SIGNATURE-----\n|[A-Za-z0-9+/=]{0,70}\n){0,12}",
        "(age-encryption.org/v1\n|-> X25519 [A-Za-z0-9+/]{0,43}\n|-> ssh-ed25519 [A-Za-z0-9+/]{0,8} [A-Za-z0-9+/]{0,43}\n|-> [a-z-]{1,8}\n|[A-Za-z0-9+/]{0,64}\n|--- [A-Za-z0-9+/]{0,43}\n|-----BEGIN AGE ENCRYPTED FILE-----\n|-----END AGE ENCRYPTED FILE-----\n){0,10}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-z][a-z0-9_-]{{0,{}}}", MAX_NAME_LEN - 1))
        .expect("a valid pattern")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn store_yaml_models_never_panic(text in texty()) {
        let b = text.as_bytes();
        let _ = crate::model::yaml::parse::<StoreMeta>("store.yaml", b);
        let _ = crate::model::yaml::parse::<VaultMeta>("vault.yaml", b);
        let _ = crate::model::yaml::parse::<Principal>("principal.yaml", b);
        let _ = crate::model::yaml::parse::<ConnectionRecord>("connection.yaml", b);
        let _ = crate::model::yaml::parse::<ProviderState>("provider.yaml", b);
        let _ = crate::model::yaml::parse::<crate::model::project::ProjectConfig>(".authsome.yaml", b);
        let _ = crate::providers::parse("def.yaml", b, None);
    }

    #[test]
    fn what_authsome_writes_reads_back(id in "[0-9a-f]{32}", owners in prop::collection::vec(name(), 0..4), threshold in prop::option::of(1u32..5), readers in prop::collection::vec(name(), 0..4)) {
        let meta = StoreMeta { format: 3, id, owners, owner_threshold: threshold };
        let text = crate::model::yaml::to_string(&meta).unwrap();
        prop_assert_eq!(crate::model::yaml::parse::<StoreMeta>("store.yaml", text.as_bytes()).unwrap(), meta);
        let vault = VaultMeta { readers: readers.clone(), writers: readers.clone(), admins: readers, fingerprint_key: None };
        let text = crate::model::yaml::to_string(&vault).unwrap();
        prop_assert_eq!(crate::model::yaml::parse::<VaultMeta>("vault.yaml", text.as_bytes()).unwrap(), vault);
    }

    #[test]
    fn seals_never_panic_and_round_trip(text in texty(), seq in 1u64..u64::MAX, tree in "[0-9a-f]{40}", signer in name(), vaults in prop::collection::vec(name(), 1..4)) {
        let _ = crate::trust::seal::Seal::parse("seal", text.as_bytes());
        let _ = crate::trust::seal::Scope::parse(&text);
        let statement = crate::trust::seal::Statement {
            store: "0123456789abcdef0123456789abcdef".into(),
            scope: crate::trust::seal::Scope::Store,
            seq,
            tree,
            prev: (seq > 1).then(|| format!("sha256:{}", "ab".repeat(32))),
            vaults: Some(vaults),
            signer,
            date: "2026-12-02T00:00:00Z".parse().unwrap(),
        };
        let text = statement.render();
        let seal = crate::trust::seal::Seal { statement: statement.clone(), text, signatures: vec!["-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n".into()] };
        let back = crate::trust::seal::Seal::parse("seal", seal.render().as_bytes()).unwrap();
        prop_assert_eq!(back.statement, statement);
    }

    #[test]
    fn secret_files_and_their_headers_never_panic(text in texty(), bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let identity = test_identity();
        for file in [text.as_bytes(), bytes.as_slice()] {
            let _ = crate::crypto::envelope::open_unbound("x.age", file, identity);
            let _ = crate::trust::headers::stanzas(file);
            let _ = crate::trust::headers::check(file, &[identity.recipient().to_owned()]);
        }
    }

    #[test]
    fn join_requests_never_panic(text in "(authsome-join:1:|[a-z0-9]{0,32}:|age1[a-z0-9]{0,58}:|ssh-ed25519 [A-Za-z0-9+/]{0,68}:|[A-Za-z0-9+/=]{0,80}){0,8}") {
        let _ = crate::crypto::join::verify(&text);
    }

    #[test]
    fn the_local_forms_requests_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), head in "(GET|POST|PUT) /[a-z?=&%0-9]{0,20} HTTP/1.1\r\n(Host: [a-z0-9.:]{0,20}\r\n|Content-Length: [0-9]{0,6}\r\n|X-[a-z]{1,5}: [ -~]{0,20}\r\n){0,5}\r\n[ -~]{0,40}") {
        let _ = crate::loopback::parse_request(bytes.as_slice());
        let _ = crate::loopback::parse_request(head.as_bytes());
        let _ = crate::loopback::decode_pair(&bytes, "key");
    }

    #[test]
    fn a_urlencoded_field_decodes_to_what_was_encoded(value in any::<String>(), other in any::<String>()) {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let body = format!("other={}&key={}", enc(&other), enc(&value));
        let got = crate::loopback::decode_pair(body.as_bytes(), "key").map(|z| z.to_string());
        prop_assert_eq!(got, Some(value));
    }

    #[test]
    fn audit_lines_never_panic(lines in prop::collection::vec(texty(), 0..8)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let _ = crate::proxy::audit::read(&path);
    }
}

/// One age identity for every case (generating keys is the slow part).
fn test_identity() -> &'static crate::crypto::identity::Identity {
    static IDENTITY: std::sync::OnceLock<(tempfile::TempDir, crate::crypto::identity::Identity)> =
        std::sync::OnceLock::new();
    let (_, identity) = IDENTITY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let identity =
            crate::crypto::identity::Identity::generate(&dir.path().join("id.txt")).unwrap();
        (dir, identity)
    });
    identity
}
