//! `authsome mcp`: serve the Model Context Protocol on stdin and stdout, for agents.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;

/// Runs `mcp`.
pub fn exec(ctx: Context, out: &Output) -> Result<()> {
    out.refuse_json("mcp speaks the Model Context Protocol on stdin and stdout")?;
    crate::cli::mcp::serve(ctx)
}
