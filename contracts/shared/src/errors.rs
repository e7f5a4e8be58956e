use soroban_sdk::contracterror;

/// Errors raised by the shared helpers, the same codes (1–19) in every Starling contract.
#[contracterror]
#[derive(Copy, Clone, Debug, Eq, PartialEq, PartialOrd, Ord)]
#[repr(u32)]
pub enum SharedError {
    /// The caller does not hold the role that the entry point requires.
    MissingRole = 1,
    /// A guarded entry point was entered again before it had returned.
    Reentered = 2,
    /// An amount that must be positive was zero or negative.
    AmountNotPositive = 3,
    /// A text argument is empty.
    EmptyText = 4,
    /// A text argument is longer than its limit.
    TextTooLong = 5,
    /// The entry point exists (OpenZeppelin's trait exposes it) but Starling refuses it,
    /// e.g. `renounce_admin`, which would leave roles unmanageable for good.
    Unsupported = 6,
}
