//! Reentrancy guard.
//!
//! The Soroban host already refuses to call into a contract that is on the call stack, so this
//! guard is defence in depth for entry points that call other contracts. It is always released:
//! on success it is removed before returning; on any failure the host discards every storage
//! write of the failed invocation, the guard's flag included, so a failed call never leaves it
//! held.

use soroban_sdk::{panic_with_error, symbol_short, Env, Symbol};

use crate::SharedError;

const ENTERED: Symbol = symbol_short!("entered");

/// Runs `body` with the contract's guard held.
///
/// # Errors
/// - `SharedError::Reentered` when the guard is already held.
///
/// # Events
/// None.
pub fn with_guard<T>(e: &Env, body: impl FnOnce() -> T) -> T {
    let store = e.storage().temporary();
    if store.has(&ENTERED) {
        panic_with_error!(e, SharedError::Reentered);
    }
    store.set(&ENTERED, &true);
    let out = body();
    store.remove(&ENTERED);
    out
}

/// Whether the guard is held right now (for tests and diagnostics).
pub fn is_entered(e: &Env) -> bool {
    e.storage().temporary().has(&ENTERED)
}

/// Sets the guard's flag as a call in progress would have it, so tests can show that an entry
/// point is guarded (the host refuses real re-entry before the guard could see it).
#[cfg(any(test, feature = "testutils"))]
pub fn hold(e: &Env) {
    e.storage().temporary().set(&ENTERED, &true);
}
