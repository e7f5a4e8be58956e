//! Token-weighted governance over BST: holders propose, vote for or against with their BST
//! votes, and anyone executes a proposal once its voting period is over and it passed.
//!
//! Double voting: a vote weighs the voter's BST votes at the proposal's snapshot ledger (the
//! ledger before it was created), read from the token's OpenZeppelin `Votes` checkpoints, and
//! each address votes once per proposal. Moving tokens to another account after the snapshot
//! does not give the new account any weight for that proposal, so one balance counts once.
//! Votes count once delegated (`delegate` on the token; holders delegate to themselves).
//!
//! Written here rather than on OpenZeppelin's governor: that one executes lists of contract
//! calls under keccak-derived ids; Starling's proposals are a title and a document hash with
//! sequential ids and a per-proposal voting period, and "execution" records the outcome on
//! chain for the platform to act on.
#![no_std]
// Errors are contract errors (panic_with_error!), never bare panics or unwraps.
#![cfg_attr(
    not(test),
    deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)
)]

use soroban_sdk::{
    contract, contracterror, contractevent, contractimpl, contracttype, panic_with_error, Address,
    BytesN, Env, String,
};
use starling_shared::{guard, interfaces::VotesTokenClient, ttl, validate};

#[cfg(test)]
mod test;

/// Longest proposal title, in bytes.
pub const MAX_TITLE_LEN: u32 = 128;
/// Basis points in one whole.
pub const BPS: u32 = 10_000;

/// Governance errors, codes 80–99.
#[contracterror]
#[derive(Copy, Clone, Debug, Eq, PartialEq, PartialOrd, Ord)]
#[repr(u32)]
pub enum GovernanceError {
    /// Constructor parameters are out of range.
    InvalidConfig = 80,
    /// `voting_period` is outside the configured bounds.
    InvalidVotingPeriod = 81,
    /// The proposer's votes at the snapshot are below the proposal threshold.
    BelowProposalThreshold = 82,
    /// No proposal has this id.
    ProposalNotFound = 83,
    /// The proposal's voting period is over.
    VotingClosed = 84,
    /// This address already voted on the proposal.
    AlreadyVoted = 85,
    /// The voter had no votes at the proposal's snapshot.
    NoVotingPower = 86,
    /// The voting period is not over yet.
    VotingNotEnded = 87,
    /// The proposal was already executed.
    AlreadyExecuted = 88,
    /// Too few votes were cast.
    QuorumNotReached = 89,
    /// The votes for did not reach the required majority.
    MajorityNotReached = 90,
    /// An id, ledger or vote tally would leave its integer type (e.g. the quorum check of a
    /// supply above i128::MAX / 10 000).
    MathOverflow = 91,
}

/// Rules fixed at initialisation.
#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct GovernanceConfig {
    /// The BST token whose votes count.
    pub token: Address,
    /// Minimum votes cast (for + against), in basis points of the total supply at the
    /// snapshot (1–10 000).
    pub quorum_bps: u32,
    /// Share of the votes cast that must be for, in basis points (5 001–10 000): a proposal
    /// passes when `for * 10 000 >= majority_bps * (for + against)`.
    pub majority_bps: u32,
    /// Bounds of a proposal's voting period, in ledgers.
    pub min_voting_period: u32,
    pub max_voting_period: u32,
    /// Votes (BST base units) a proposer needs at the snapshot; 0 lets anyone propose.
    pub proposal_threshold: i128,
}

#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Proposal {
    pub id: u64,
    pub proposer: Address,
    pub title: String,
    /// SHA-256 of the full proposal text kept off chain.
    pub description_hash: BytesN<32>,
    /// Votes are weighed at the end of this ledger (the one before creation).
    pub snapshot_ledger: u32,
    /// Last ledger in which votes are accepted.
    pub end_ledger: u32,
    pub votes_for: i128,
    pub votes_against: i128,
    pub executed: bool,
}

/// Where a proposal stands.
#[contracttype]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
#[repr(u32)]
pub enum ProposalState {
    Active = 0,
    Defeated = 1,
    Succeeded = 2,
    Executed = 3,
}

#[contracttype]
#[derive(Clone)]
enum DataKey {
    Config,
    LastId,
    Proposal(u64),
    Voted(u64, Address),
}

/// A proposal was created.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ProposalCreated {
    #[topic]
    pub id: u64,
    #[topic]
    pub proposer: Address,
    pub title: String,
    pub description_hash: BytesN<32>,
    pub snapshot_ledger: u32,
    pub end_ledger: u32,
}

/// A vote was cast.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct VoteCast {
    #[topic]
    pub id: u64,
    #[topic]
    pub voter: Address,
    pub support: bool,
    pub weight: i128,
}

/// A proposal passed and was executed.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ProposalExecuted {
    #[topic]
    pub id: u64,
    pub votes_for: i128,
    pub votes_against: i128,
    pub total_supply: i128,
}

#[contract]
pub struct Governance;

#[contractimpl]
impl Governance {
    /// Creates the governance contract over `token` with fixed quorum and majority rules.
    ///
    /// # Errors
    /// - `GovernanceError::InvalidConfig` (80) when `quorum_bps` is not in 1–10 000,
    ///   `majority_bps` not in 5 001–10 000, the voting period bounds are 0 or reversed, or
    ///   `proposal_threshold` is negative.
    ///
    /// # Events
    /// None.
    pub fn __constructor(e: Env, config: GovernanceConfig) {
        let valid = config.quorum_bps >= 1
            && config.quorum_bps <= BPS
            && config.majority_bps > BPS / 2
            && config.majority_bps <= BPS
            && config.min_voting_period >= 1
            && config.min_voting_period <= config.max_voting_period
            && config.max_voting_period <= ttl::PERSISTENT_THRESHOLD
            && config.proposal_threshold >= 0;
        if !valid {
            panic_with_error!(&e, GovernanceError::InvalidConfig);
        }
        e.storage().instance().set(&DataKey::Config, &config);
        ttl::extend_instance(&e);
    }

    /// Opens a proposal for `voting_period` ledgers and returns its id (1, 2, …).
    ///
    /// # Errors
    /// - `SharedError::EmptyText` (4) / `SharedError::TextTooLong` (5) for a bad title
    ///   (1–128 bytes).
    /// - `GovernanceError::InvalidVotingPeriod` (81) outside the configured bounds.
    /// - `GovernanceError::BelowProposalThreshold` (82) when the proposer's votes at the
    ///   snapshot are below the threshold.
    /// - `GovernanceError::MathOverflow` (91) at ledger 0 (no snapshot ledger), when the id
    ///   counter is exhausted or the end ledger would pass u32::MAX.
    /// - `SharedError::Reentered` (2) if re-entered through the token call.
    /// - An auth error when `proposer` did not authorise the call.
    ///
    /// # Events
    /// - `proposal_created`.
    pub fn propose(
        e: Env,
        proposer: Address,
        title: String,
        description_hash: BytesN<32>,
        voting_period: u32,
    ) -> u64 {
        proposer.require_auth();
        ttl::extend_instance(&e);
        validate::require_text(&e, &title, MAX_TITLE_LEN);
        let config = Self::load_config(&e);
        if voting_period < config.min_voting_period || voting_period > config.max_voting_period {
            panic_with_error!(&e, GovernanceError::InvalidVotingPeriod);
        }
        // The token is another contract: hold the guard around the call, as vote and execute do.
        guard::with_guard(&e, || {
            let now = e.ledger().sequence();
            let Some(snapshot_ledger) = now.checked_sub(1) else {
                panic_with_error!(&e, GovernanceError::MathOverflow);
            };
            if config.proposal_threshold > 0 {
                let votes = VotesTokenClient::new(&e, &config.token)
                    .get_votes_at_checkpoint(&proposer, &snapshot_ledger);
                if (votes as i128) < config.proposal_threshold {
                    panic_with_error!(&e, GovernanceError::BelowProposalThreshold);
                }
            }
            let last: u64 = e.storage().instance().get(&DataKey::LastId).unwrap_or(0);
            let (Some(id), Some(end_ledger)) =
                (last.checked_add(1), now.checked_add(voting_period))
            else {
                panic_with_error!(&e, GovernanceError::MathOverflow);
            };
            e.storage().instance().set(&DataKey::LastId, &id);
            let proposal = Proposal {
                id,
                proposer: proposer.clone(),
                title: title.clone(),
                description_hash: description_hash.clone(),
                snapshot_ledger,
                end_ledger,
                votes_for: 0,
                votes_against: 0,
                executed: false,
            };
            Self::save(&e, &proposal);
            ProposalCreated {
                id,
                proposer,
                title,
                description_hash,
                snapshot_ledger,
                end_ledger: proposal.end_ledger,
            }
            .publish(&e);
            id
        })
    }

    /// Votes for (`support = true`) or against proposal `id` with the voter's BST votes at
    /// the proposal's snapshot; returns that weight.
    ///
    /// # Errors
    /// - `GovernanceError::ProposalNotFound` (83), `VotingClosed` (84) after `end_ledger`,
    ///   `AlreadyVoted` (85), `NoVotingPower` (86) when the voter had no votes at the snapshot,
    ///   `MathOverflow` (91) when a tally would pass i128::MAX.
    /// - `SharedError::Reentered` (2) if re-entered through the token call.
    /// - An auth error when `voter` did not authorise the call.
    ///
    /// # Events
    /// - `vote_cast`.
    pub fn vote(e: Env, voter: Address, id: u64, support: bool) -> i128 {
        voter.require_auth();
        ttl::extend_instance(&e);
        guard::with_guard(&e, || {
            let mut proposal = Self::load(&e, id);
            if e.ledger().sequence() > proposal.end_ledger {
                panic_with_error!(&e, GovernanceError::VotingClosed);
            }
            let voted = DataKey::Voted(id, voter.clone());
            if e.storage().persistent().has(&voted) {
                panic_with_error!(&e, GovernanceError::AlreadyVoted);
            }
            let config = Self::load_config(&e);
            let weight = VotesTokenClient::new(&e, &config.token)
                .get_votes_at_checkpoint(&voter, &proposal.snapshot_ledger)
                as i128;
            if weight <= 0 {
                panic_with_error!(&e, GovernanceError::NoVotingPower);
            }
            let tally = if support {
                &mut proposal.votes_for
            } else {
                &mut proposal.votes_against
            };
            let Some(sum) = tally.checked_add(weight) else {
                panic_with_error!(&e, GovernanceError::MathOverflow);
            };
            *tally = sum;
            Self::save(&e, &proposal);
            e.storage().persistent().set(&voted, &support);
            ttl::extend_persistent(&e, &voted);
            VoteCast {
                id,
                voter: voter.clone(),
                support,
                weight,
            }
            .publish(&e);
            weight
        })
    }

    /// Executes proposal `id` once its voting period is over, if it reached the quorum and
    /// the majority. Anyone may call it.
    ///
    /// # Errors
    /// - `GovernanceError::ProposalNotFound` (83), `VotingNotEnded` (87),
    ///   `AlreadyExecuted` (88), `QuorumNotReached` (89), `MajorityNotReached` (90),
    ///   `MathOverflow` (91) when the quorum or majority product passes i128::MAX.
    /// - `SharedError::Reentered` (2) if re-entered through the token call.
    ///
    /// # Events
    /// - `proposal_executed`.
    pub fn execute(e: Env, id: u64) {
        ttl::extend_instance(&e);
        guard::with_guard(&e, || {
            let mut proposal = Self::load(&e, id);
            if e.ledger().sequence() <= proposal.end_ledger {
                panic_with_error!(&e, GovernanceError::VotingNotEnded);
            }
            if proposal.executed {
                panic_with_error!(&e, GovernanceError::AlreadyExecuted);
            }
            let config = Self::load_config(&e);
            let supply = Self::supply_at(&e, &config, proposal.snapshot_ledger);
            if let Err(err) = Self::outcome(&config, &proposal, supply) {
                panic_with_error!(&e, err);
            }
            proposal.executed = true;
            Self::save(&e, &proposal);
            ProposalExecuted {
                id,
                votes_for: proposal.votes_for,
                votes_against: proposal.votes_against,
                total_supply: supply,
            }
            .publish(&e);
        })
    }

    /// Proposal `id` as stored.
    ///
    /// # Errors
    /// - `GovernanceError::ProposalNotFound` (83).
    ///
    /// # Events
    /// None.
    pub fn get_proposal(e: Env, id: u64) -> Proposal {
        ttl::extend_instance(&e);
        Self::load(&e, id)
    }

    /// Where proposal `id` stands: active until `end_ledger`, then defeated, succeeded or
    /// executed.
    ///
    /// # Errors
    /// - `GovernanceError::ProposalNotFound` (83).
    /// - `GovernanceError::MathOverflow` (91) when the outcome cannot be computed.
    ///
    /// # Events
    /// None.
    pub fn state(e: Env, id: u64) -> ProposalState {
        ttl::extend_instance(&e);
        let proposal = Self::load(&e, id);
        if proposal.executed {
            return ProposalState::Executed;
        }
        if e.ledger().sequence() <= proposal.end_ledger {
            return ProposalState::Active;
        }
        let config = Self::load_config(&e);
        let supply = Self::supply_at(&e, &config, proposal.snapshot_ledger);
        match Self::outcome(&config, &proposal, supply) {
            Ok(()) => ProposalState::Succeeded,
            // Not decidable, so neither succeeded nor defeated: report the error.
            Err(GovernanceError::MathOverflow) => {
                panic_with_error!(&e, GovernanceError::MathOverflow)
            }
            Err(_) => ProposalState::Defeated,
        }
    }

    /// Whether `voter` voted on proposal `id`, and how: `Some(true)` for, `Some(false)`
    /// against, `None` not at all.
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn vote_of(e: Env, id: u64, voter: Address) -> Option<bool> {
        ttl::extend_instance(&e);
        let key = DataKey::Voted(id, voter);
        let vote = e.storage().persistent().get(&key);
        if vote.is_some() {
            ttl::extend_persistent(&e, &key);
        }
        vote
    }

    /// The rules set at initialisation.
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn config(e: Env) -> GovernanceConfig {
        ttl::extend_instance(&e);
        Self::load_config(&e)
    }

    fn load_config(e: &Env) -> GovernanceConfig {
        match e.storage().instance().get(&DataKey::Config) {
            Some(config) => config,
            None => panic_with_error!(e, GovernanceError::InvalidConfig),
        }
    }

    fn supply_at(e: &Env, config: &GovernanceConfig, ledger: u32) -> i128 {
        VotesTokenClient::new(e, &config.token).get_total_supply_at_checkpoint(&ledger) as i128
    }

    fn outcome(
        config: &GovernanceConfig,
        proposal: &Proposal,
        supply: i128,
    ) -> Result<(), GovernanceError> {
        use GovernanceError::MathOverflow;
        let bps = BPS as i128;
        let cast = (proposal.votes_for)
            .checked_add(proposal.votes_against)
            .ok_or(MathOverflow)?;
        let cast_bps = cast.checked_mul(bps).ok_or(MathOverflow)?;
        let quorum = supply
            .checked_mul(config.quorum_bps as i128)
            .ok_or(MathOverflow)?;
        if cast == 0 || cast_bps < quorum {
            return Err(GovernanceError::QuorumNotReached);
        }
        let for_bps = proposal.votes_for.checked_mul(bps).ok_or(MathOverflow)?;
        let majority = cast
            .checked_mul(config.majority_bps as i128)
            .ok_or(MathOverflow)?;
        if for_bps < majority {
            return Err(GovernanceError::MajorityNotReached);
        }
        Ok(())
    }

    fn load(e: &Env, id: u64) -> Proposal {
        let key = DataKey::Proposal(id);
        match e.storage().persistent().get(&key) {
            Some(proposal) => {
                ttl::extend_persistent(e, &key);
                proposal
            }
            None => panic_with_error!(e, GovernanceError::ProposalNotFound),
        }
    }

    fn save(e: &Env, proposal: &Proposal) {
        let key = DataKey::Proposal(proposal.id);
        e.storage().persistent().set(&key, proposal);
        ttl::extend_persistent(e, &key);
    }
}
