//! DHCP options as data: the catalogue, typed values, the one container for
//! configured and wire values, the list of options the server sets itself,
//! and the resolution of which options a reply carries.
//!
//! Names follow ISC dhcpd's dhcp-options(5), so operators can carry their
//! configuration (and their hook scripts, which see the same names with
//! dashes turned into underscores) across.
//!
//! - [`catalogue`]: options keyed by (space, code), names and value types.
//! - [`parse`](mod@parse): a TOML value into a typed [`Value`], with precise messages.
//! - [`value`]: [`Value`] and its wire encoding, done when a reply is built.
//! - [`set`]: [`Options`], in order, one value per code.
//! - [`server_set`](mod@server_set): what the configuration may not set ([`SERVER_SET`]).
//! - [`resolve`](mod@resolve): which options a reply carries, from ordered scopes, with
//!   the scope each value came from.
//! - [`render`](mod@render): wire bytes back to text for hooks and the control API.
//! - [`suggest`](mod@suggest): "did you mean" hints for names.
//! - [`template`]: text values filled from the request at reply time.
//! - [`vendor`]: vendor-space options and their encapsulation into option 43.
//!
//! This module depends on nothing but `addr`: the configuration, the codec
//! and the engine depend on it, never the other way round.

pub mod catalogue;
pub mod code;
pub mod parse;
pub mod render;
pub mod resolve;
pub mod server_set;
pub mod set;
pub mod suggest;
pub mod template;
pub mod value;
pub mod vendor;

pub use catalogue::{
    Catalogue, CatalogueError, OptionDef, OptionKey, OptionKind, Space, all, by_code, by_name,
    valid_name,
};
pub use parse::{OptionError, ParseError, parse, parse_hex, parse_named};
pub use render::{render, render_as};
pub use resolve::{Chosen, Scope, Source, resolve};
pub use server_set::{ESSENTIAL, SERVER_SET, ServerSet, is_server_set, server_set};
pub use set::Options;
pub use suggest::suggest;
pub use template::{Facts, Field, Template, TemplateError};
pub use value::Value;
pub use vendor::{NO_VENDOR, VendorOptions, encapsulate, resolve_space};

#[cfg(test)]
mod tests;
