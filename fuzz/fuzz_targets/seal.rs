//! A seal file as a clone brings it: parse or refuse, and a parsed seal renders back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(seal) = authsome::trust::seal::Seal::parse("seal", data) {
        assert_eq!(seal.statement.render(), seal.text);
    }
});
