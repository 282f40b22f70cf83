//! `oap token new`: a fresh bearer token and the config entry naming it.

use std::io::Write;

use anyhow::{Context, Result};
use oap_core::server::token_hash;
use rand::TryRngCore;

use crate::args::{Permission, TokenNewArgs};

/// `n` random bytes from the operating system, as `2n` hex digits.
pub(crate) fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .context("the operating system's random source failed")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Prints the token on the first line of stdout and, after a blank line,
/// the `[[tenants]]` entry for the node's config file; a reminder of which
/// is which goes to stderr.
pub(crate) fn new(args: &TokenNewArgs) -> Result<()> {
    let token = random_hex(32)?;
    let hash = token_hash(&token).to_hex();
    let mut permissions: Vec<&str> = Vec::new();
    for p in &args.permissions {
        let name = match p {
            Permission::Put => "put",
            Permission::Get => "get",
            Permission::Subscribe => "subscribe",
        };
        if !permissions.contains(&name) {
            permissions.push(name);
        }
    }
    let list = permissions
        .iter()
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let entry = format!(
        "[[tenants]]\nname = {:?}\ntoken_hash = \"{hash}\"\npermissions = [{list}]\n",
        args.name
    );
    // The entry must load as the node will load it (a bad --name shows
    // here, not when the node starts).
    kernel_core::Config::from_toml_str(&entry)
        .context("the entry would not load into a node's config")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{token}")?;
    writeln!(out)?;
    write!(out, "{entry}")?;
    out.flush()?;
    eprintln!(
        "oap: the first line is the token: give it to the client (a file for \
         --token-file, or OAP_TOKEN) and keep it secret; it is not stored anywhere. \
         Paste the [[tenants]] entry into the node's config file."
    );
    Ok(())
}
