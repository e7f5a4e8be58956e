//! Interfaces through which Starling's contracts call each other (`#[contractclient]`), so a
//! caller depends on the functions it uses, not on the other contract's crate.

use soroban_sdk::{contractclient, Address, Env};

/// The part of the BST token that governance reads: OpenZeppelin `Votes` checkpoints.
#[contractclient(name = "VotesTokenClient")]
pub trait VotesToken {
    /// Votes delegated to `account` at the end of `ledger` (which must be in the past).
    fn get_votes_at_checkpoint(e: Env, account: Address, ledger: u32) -> u128;
    /// Total supply at the end of `ledger` (which must be in the past).
    fn get_total_supply_at_checkpoint(e: Env, ledger: u32) -> u128;
}
