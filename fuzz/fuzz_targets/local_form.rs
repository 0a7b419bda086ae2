//! What a browser (or anything else on 127.0.0.1) sends the local form: parsed or dropped.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(request) = authsome::loopback::parse_request(data) {
        let _ = request.form("key");
        let _ = request.query("state");
    }
});
