//! BST, Starling's reward token: a SEP-41 fungible token with 7 decimals built on
//! OpenZeppelin's `stellar-tokens` (fungible + burnable + votes), plus `total_supply` and
//! `mint_reward` for minters.
//!
//! Votes: every balance carries voting units (OpenZeppelin `FungibleVotes`); a holder's units
//! count as votes once delegated (`delegate(account, account)` for oneself). Votes are
//! checkpointed per ledger, and governance weighs a vote by the voter's votes at the ledger
//! before the proposal was created, so tokens moved to another account after that cannot be
//! counted twice.
#![no_std]
// Errors are contract errors (panic_with_error!), never bare panics or unwraps.
#![cfg_attr(
    not(test),
    deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)
)]

use soroban_sdk::{
    contract, contracterror, contractevent, contractimpl, panic_with_error, symbol_short, Address,
    Env, MuxedAddress, String, Symbol, Vec,
};
use starling_shared::{roles, ttl, validate};
use stellar_access::access_control::AccessControl;
use stellar_governance::votes::{self, Votes};
use stellar_tokens::fungible::{
    burnable::FungibleBurnable, votes::FungibleVotes, Base, FungibleToken, FungibleTokenError,
};

#[cfg(test)]
mod test;

pub const DECIMALS: u32 = 7;
pub const NAME: &str = "Starling Reward Token";
pub const SYMBOL: &str = "BST";

/// Token errors, codes 40–59. Balance and allowance errors are OpenZeppelin's
/// `FungibleTokenError` (100–114) and votes errors `VotesError` (4100–4104).
#[contracterror]
#[derive(Copy, Clone, Debug, Eq, PartialEq, PartialOrd, Ord)]
#[repr(u32)]
pub enum TokenError {
    /// `mint_reward` was given an empty reason.
    EmptyReason = 40,
}

/// A minter rewarded `to` with `amount` for `reason` (emitted after the standard `mint`).
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RewardMinted {
    #[topic]
    pub to: Address,
    #[topic]
    pub reason: Symbol,
    pub amount: i128,
    pub minter: Address,
}

/// OpenZeppelin writes a new balance (and voting-units) entry with the network's minimum TTL
/// (hours) and extends entries only when it reads them. Reading the receiver's entries after a
/// credit extends them to OpenZeppelin's 30 days, so a learner who was just rewarded does not
/// see the balance archive before using it. The sender's entries were read, and so extended,
/// by the operation itself.
fn keep_alive(e: &Env, account: &Address) {
    Base::balance(e, account);
    votes::get_voting_units(e, account);
    keep_votes_alive(e, account);
}

/// A change of voting units writes a new checkpoint for the holder's delegatee, again with the
/// network's minimum TTL; governance reads it at a proposal's snapshot, possibly weeks later.
/// Reading the delegatee's latest checkpoint extends it (and its count) to OpenZeppelin's term.
fn keep_votes_alive(e: &Env, holder: &Address) {
    if let Some(delegatee) = votes::get_delegate(e, holder) {
        votes::get_votes(e, &delegatee);
    }
}

#[contract]
pub struct BstToken;

#[contractimpl]
impl BstToken {
    /// Creates BST (7 decimals) with `admin` as its admin; the admin then grants `minter`.
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn __constructor(e: Env, admin: Address) {
        roles::init_admin(&e, &admin);
        Base::set_metadata(
            &e,
            DECIMALS,
            String::from_str(&e, NAME),
            String::from_str(&e, SYMBOL),
        );
        ttl::extend_instance(&e);
    }

    /// Mints `amount` BST to `to` as a reward for `reason` (e.g. `referral`).
    ///
    /// # Errors
    /// - `SharedError::MissingRole` (1) when `minter` is not a minter.
    /// - `SharedError::AmountNotPositive` (3) when `amount <= 0`.
    /// - `TokenError::EmptyReason` (40) when `reason` is empty.
    /// - `FungibleTokenError::MathOverflow` (104) when the total supply (and so any balance)
    ///   would pass `i128::MAX`.
    /// - An auth error when `minter` did not authorise the call.
    ///
    /// # Events
    /// - `mint` (SEP-41), then `reward_minted`; `delegate_votes_changed` when `to` has
    ///   delegated its votes.
    pub fn mint_reward(e: Env, minter: Address, to: Address, amount: i128, reason: Symbol) {
        roles::require_role(&e, &minter, &roles::MINTER);
        ttl::extend_instance(&e);
        validate::require_positive(&e, amount);
        if reason == symbol_short!("") {
            panic_with_error!(&e, TokenError::EmptyReason);
        }
        // OpenZeppelin's `Base::mint` keeps no supply counter and the votes checkpoints count
        // the supply in u128, so nothing else stops it passing i128::MAX, past which
        // `total_supply` (SEP-41's i128) and governance's quorum would read it wrong.
        let supply = votes::get_total_supply(&e);
        if supply.saturating_add(amount as u128) > i128::MAX as u128 {
            panic_with_error!(&e, FungibleTokenError::MathOverflow);
        }
        FungibleVotes::mint(&e, &to, amount);
        keep_alive(&e, &to);
        votes::get_total_supply(&e);
        RewardMinted {
            to,
            reason,
            amount,
            minter,
        }
        .publish(&e);
    }

    /// Total BST in existence. The votes module checkpoints the supply on every mint and
    /// burn, and that checkpoint is the supply: `FungibleVotes` keeps no separate counter,
    /// which is also why this is not OpenZeppelin's `FungibleTotalSupply` (it needs a
    /// contract type with its own counter).
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn total_supply(e: Env) -> i128 {
        ttl::extend_instance(&e);
        votes::get_total_supply(&e) as i128
    }
}

/// SEP-41: `balance`, `allowance`, `transfer` (muxed destinations allowed), `transfer_from`,
/// `approve`, `decimals`, `name`, `symbol`, with OpenZeppelin's events.
/// Writes extend the contract instance's TTL (OpenZeppelin leaves the instance to the
/// contract); balances and allowances follow OpenZeppelin's own TTL policy.
///
/// # Errors
/// `FungibleTokenError`: `InsufficientBalance` (100), `InsufficientAllowance` (101),
/// `InvalidLiveUntilLedger` (102), `LessThanZero` (103), `MathOverflow` (104).
///
/// # Events
/// `transfer` on `transfer`/`transfer_from`, `approve` on `approve`, and
/// `delegate_votes_changed` when a side has delegated its votes.
#[contractimpl(contracttrait)]
impl FungibleToken for BstToken {
    type ContractType = FungibleVotes;

    fn transfer(e: &Env, from: Address, to: MuxedAddress, amount: i128) {
        ttl::extend_instance(e);
        FungibleVotes::transfer(e, &from, &to, amount);
        keep_alive(e, &to.address());
        keep_votes_alive(e, &from);
    }

    fn transfer_from(e: &Env, spender: Address, from: Address, to: Address, amount: i128) {
        ttl::extend_instance(e);
        FungibleVotes::transfer_from(e, &spender, &from, &to, amount);
        keep_alive(e, &to);
        keep_votes_alive(e, &from);
    }

    fn approve(e: &Env, owner: Address, spender: Address, amount: i128, live_until_ledger: u32) {
        ttl::extend_instance(e);
        Base::approve(e, &owner, &spender, amount, live_until_ledger);
    }
}

/// SEP-41 `burn` and `burn_from` (voting units burn with the balance).
///
/// # Errors
/// `FungibleTokenError`: `InsufficientBalance` (100), `InsufficientAllowance` (101),
/// `LessThanZero` (103).
///
/// # Events
/// `burn`, and `delegate_votes_changed` when the holder has delegated its votes.
#[contractimpl(contracttrait)]
impl FungibleBurnable for BstToken {
    fn burn(e: &Env, from: Address, amount: i128) {
        ttl::extend_instance(e);
        FungibleVotes::burn(e, &from, amount);
        keep_votes_alive(e, &from);
        votes::get_total_supply(e);
    }

    fn burn_from(e: &Env, spender: Address, from: Address, amount: i128) {
        ttl::extend_instance(e);
        FungibleVotes::burn_from(e, &spender, &from, amount);
        keep_votes_alive(e, &from);
        votes::get_total_supply(e);
    }
}

/// `delegate`, `get_votes`, `get_votes_at_checkpoint`, `get_total_supply(_at_checkpoint)`,
/// `get_delegate` (OpenZeppelin votes).
///
/// # Errors
/// `VotesError`: `FutureLookup` (4100) for a checkpoint at or after the current ledger,
/// `SameDelegate` (4103) when re-delegating to the current delegate.
///
/// # Events
/// `delegate_changed` and `delegate_votes_changed` on `delegate`.
#[contractimpl(contracttrait)]
impl Votes for BstToken {
    fn delegate(e: &Env, account: Address, delegatee: Address) {
        ttl::extend_instance(e);
        let previous = votes::get_delegate(e, &account);
        votes::delegate(e, &account, &delegatee);
        // Both delegatees got a new checkpoint; keep them for later snapshots.
        votes::get_votes(e, &delegatee);
        if let Some(p) = previous {
            votes::get_votes(e, &p);
        }
    }
}

/// Role administration from OpenZeppelin: `grant_role`/`revoke_role` by the admin, two-step
/// `transfer_admin_role` + `accept_admin_transfer`, `renounce_role` by a holder, and the role
/// queries. `set_role_admin` and `renounce_admin` are refused (see
/// `starling_shared::roles::refuse_unsupported`).
///
/// # Errors
/// `AccessControlError` (2000–2010), e.g. `Unauthorized` (2000) when the caller is not the
/// admin; `RoleTransferError` (2200–2203) for an expired or missing pending admin transfer;
/// `SharedError::Unsupported` (6) from `set_role_admin` and `renounce_admin`.
///
/// # Events
/// `role_granted`, `role_revoked`, `admin_transfer_initiated`, `admin_transfer_completed`.
#[contractimpl(contracttrait)]
impl AccessControl for BstToken {
    fn set_role_admin(e: &Env, _role: Symbol, _admin_role: Symbol) {
        roles::refuse_unsupported(e);
    }

    fn renounce_admin(e: &Env) {
        roles::refuse_unsupported(e);
    }
}
