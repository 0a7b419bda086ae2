//! A secret file (`*.age`) and its age header: refused without a panic unless it is one.
#![no_main]
use std::sync::OnceLock;

use authsome::crypto::identity::Identity;
use libfuzzer_sys::fuzz_target;

fn identity() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("authsome-fuzz-{}", std::process::id()));
        Identity::generate(&dir.join("identity.txt")).expect("an identity")
    })
}

fuzz_target!(|data: &[u8]| {
    let id = identity();
    let _ = authsome::crypto::envelope::open_unbound("x.age", data, id);
    let _ = authsome::trust::headers::stanzas(data);
    let _ = authsome::trust::headers::check(data, &[id.recipient().to_owned()]);
});
