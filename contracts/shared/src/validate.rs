//! Argument checks shared by the contracts; each fails with a [`SharedError`].

use soroban_sdk::{panic_with_error, Env, String};

use crate::SharedError;

/// # Errors
/// - `SharedError::AmountNotPositive` when `amount <= 0`.
pub fn require_positive(e: &Env, amount: i128) {
    if amount <= 0 {
        panic_with_error!(e, SharedError::AmountNotPositive);
    }
}

/// Requires a non-empty text of at most `max_len` bytes (UTF-8).
///
/// # Errors
/// - `SharedError::EmptyText` when `text` is empty.
/// - `SharedError::TextTooLong` when `text` is longer than `max_len` bytes.
pub fn require_text(e: &Env, text: &String, max_len: u32) {
    let len = text.len();
    if len == 0 {
        panic_with_error!(e, SharedError::EmptyText);
    }
    if len > max_len {
        panic_with_error!(e, SharedError::TextTooLong);
    }
}
