//! Per-client limits, decided before and after the engine: flood
//! protection (a MAC sending too many packets is ignored for a while), the
//! relay allow-list, rate limits per interface, relay and circuit, and
//! the renewal limit (a client renewing too often is blocked).
//!
//! Pure state machines over `now`: the server feeds them packets and
//! outcomes and acts on their verdicts (an ignored packet, a block through
//! the commit path). Each check is O(1) and the state they keep is bounded
//! ([`window::Windows`]), so a flood of random MACs costs memory up to the
//! bound and no more.

mod flood;
mod rate;
mod relay;
mod renewal;
mod window;

pub use flood::{Flood, Verdict};
pub use rate::{RateKey, Rates, Refusal, circuit_id};
pub use relay::{RelayGate, RelayRefused};
pub use renewal::Renewals;
pub use window::Windows;
