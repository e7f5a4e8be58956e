//! Storage TTL policy.
//!
//! Ledgers close about every 5 s, so a day is 17 280 ledgers.
//! - Instance storage (config, counters; it also carries the contract code's TTL) is extended
//!   to 30 days whenever an entry point runs and less than 29 days remain.
//! - Lasting records (certificates, proposals, votes) are extended to 120 days when they are
//!   written or read in a transaction and less than 119 days remain.
//! - Activity records (learning progress) are extended to 30 days the same way: they are
//!   written again and again while a course is followed, and a finished course's lasting
//!   record is its certificate. Rent is linear in time, so the shorter term costs the same per
//!   day in use and stops paying for abandoned courses sooner (a first 120-day term measured
//!   four times the fee of a 30-day one).
//! - Token balances, allowances, votes checkpoints and role entries follow OpenZeppelin's own
//!   policy (balances and checkpoints 30 days, roles 90 days, allowances until their expiry);
//!   the token contract extends its instance like every other contract, and reads a
//!   receiver's new balance so that it starts with the full 30 days.
//!
//! An entry in use never archives and is extended at most once a day. An entry that archives anyway is not lost: it can be restored with a RestoreFootprint
//! operation, and the indexer keeps the last state it saw.

use soroban_sdk::{Env, IntoVal, Val};

pub const DAY_IN_LEDGERS: u32 = 17_280;
pub const INSTANCE_EXTEND_TO: u32 = 30 * DAY_IN_LEDGERS;
pub const INSTANCE_THRESHOLD: u32 = INSTANCE_EXTEND_TO - DAY_IN_LEDGERS;
pub const PERSISTENT_EXTEND_TO: u32 = 120 * DAY_IN_LEDGERS;
pub const PERSISTENT_THRESHOLD: u32 = PERSISTENT_EXTEND_TO - DAY_IN_LEDGERS;
pub const ACTIVITY_EXTEND_TO: u32 = 30 * DAY_IN_LEDGERS;
pub const ACTIVITY_THRESHOLD: u32 = ACTIVITY_EXTEND_TO - DAY_IN_LEDGERS;

/// Extends the contract instance (and its code) per the policy above.
pub fn extend_instance(e: &Env) {
    e.storage()
        .instance()
        .extend_ttl(INSTANCE_THRESHOLD, INSTANCE_EXTEND_TO);
}

/// Extends one activity entry (30 days) per the policy above; the entry must exist.
pub fn extend_activity<K: IntoVal<Env, Val>>(e: &Env, key: &K) {
    e.storage()
        .persistent()
        .extend_ttl(key, ACTIVITY_THRESHOLD, ACTIVITY_EXTEND_TO);
}

/// Extends one lasting persistent entry (120 days) per the policy above; it must exist.
pub fn extend_persistent<K: IntoVal<Env, Val>>(e: &Env, key: &K) {
    e.storage()
        .persistent()
        .extend_ttl(key, PERSISTENT_THRESHOLD, PERSISTENT_EXTEND_TO);
}
