//! Pieces every Starling contract uses: roles on top of OpenZeppelin's access control, a
//! reentrancy guard, the storage TTL policy, argument validation and the interfaces through
//! which the contracts call each other.
//!
//! Errors raised here use codes 1–19 ([`SharedError`]); each contract crate owns its own
//! range above that (analytics 20–39, token 40–59, certificate 60–79, governance 80–99),
//! and OpenZeppelin's modules keep theirs (fungible 100–114, access control 2000–2010,
//! votes 4100–4104).
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)
)]

pub mod errors;
pub mod guard;
pub mod interfaces;
pub mod roles;
pub mod ttl;
pub mod validate;

// Test-only helpers may panic and unwrap: a failed assertion is their job.
#[cfg(any(test, feature = "testutils"))]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
pub mod testutils;

#[cfg(test)]
mod test;

pub use errors::SharedError;
