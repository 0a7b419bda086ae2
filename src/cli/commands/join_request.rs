//! `authsome join-request [--name NAME]`: a one-line, self-signed token with your recipient and
//! signer, to hand to an owner of the store (`authsome principal add NAME --from-request TOKEN`).

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::crypto::join;
use authsome::crypto::signing::SigningKey;
use authsome::error::Result;

/// Arguments of `join-request`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The principal name to propose (default: your user name).
    #[arg(long)]
    pub name: Option<String>,
}

/// Runs `join-request`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let store = cx.store()?;
    let store_id = store.snapshot()?.meta()?.id;
    let identity = cx.identity()?;
    let key = SigningKey::load(&cx.signing_key_path)?;
    let name = match args.name {
        Some(n) => n,
        None => authsome::ops::init::principal_name(),
    };
    authsome::model::names::validate("principal", &name)?;
    let token = join::create(
        &join::Request {
            store_id,
            name,
            recipient: identity.recipient().to_owned(),
            signer: key.public(),
        },
        &key,
    )?;
    if out.json {
        out.json(&authsome::model::report::JoinRequestReport { token });
    } else {
        out.data(&token);
    }
    Ok(())
}
