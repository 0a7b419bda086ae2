//! Every YAML file of a store, a provider definition and `.authsome.yaml`: parse or refuse.
#![no_main]
use authsome::model::state::{ConnectionRecord, Principal, ProviderState, StoreMeta, VaultMeta};
use authsome::model::yaml::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::<StoreMeta>("store.yaml", data);
    let _ = parse::<VaultMeta>("vault.yaml", data);
    let _ = parse::<Principal>("principal.yaml", data);
    let _ = parse::<ConnectionRecord>("connection.yaml", data);
    let _ = parse::<ProviderState>("provider.yaml", data);
    let _ = parse::<authsome::model::project::ProjectConfig>(".authsome.yaml", data);
    let _ = authsome::providers::parse("def.yaml", data, None);
});
