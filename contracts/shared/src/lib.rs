//! Pieces every Starling contract uses: roles on top of OpenZeppelin's access control, a
//! reentrancy guard, the storage TTL policy, argument validation and the interfaces through
//! which the contracts call each other.
//!
//! Errors raised here use codes 1–19 ([`SharedError`]); each contract crate owns its own
//! range above that (analytics 20–39, token 40–59, certificate 60–79, governance 80–99),
//! and OpenZeppelin's modules keep theirs (fungible 100–114, access control 2000–2010,
//! votes 4100–4104).
#![no_std]

pub mod errors;
pub mod guard;
pub mod interfaces;
pub mod roles;
pub mod ttl;
pub mod validate;

#[cfg(any(test, feature = "testutils"))]
pub mod testutils;

#[cfg(test)]
mod test;

pub use errors::SharedError;
