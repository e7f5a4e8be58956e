extern crate std;

use std::string::ToString;

use soroban_sdk::{
    symbol_short,
    testutils::{storage::Persistent as _, Events as _, Ledger as _, MockAuth, MockAuthInvoke},
    Address, BytesN, Env, Event as _, IntoVal, MuxedAddress, String,
};
use starling_shared::{
    assert_auth_error, assert_contract_error, guard, roles,
    testutils::{account, advance, contract_address, test_env, wasm_bytes, VectorRecorder},
    ttl, SharedError,
};
use starling_token::{BstToken, BstTokenClient};

use crate::{
    DataKey, Governance, GovernanceClient, GovernanceConfig, GovernanceError, ProposalCreated,
    ProposalState,
};

const BST: i128 = 10_000_000;
const PERIOD: u32 = 100;

struct Fixture {
    env: Env,
    gov: GovernanceClient<'static>,
    token: BstTokenClient<'static>,
    minter: Address,
    alice: Address,
    bob: Address,
    carol: Address,
    eve: Address,
}

fn config(token: &Address) -> GovernanceConfig {
    GovernanceConfig {
        token: token.clone(),
        quorum_bps: 2_000,
        majority_bps: 5_001,
        min_voting_period: 10,
        max_voting_period: 100_000,
        proposal_threshold: BST,
    }
}

/// Supply 100 BST: Alice 55 and Bob 30 and Eve 5 have delegated to themselves, Carol (10) has
/// not.
fn setup() -> Fixture {
    let env = test_env();
    let admin = account(&env, 1);
    let minter = account(&env, 6);
    let alice = account(&env, 3);
    let bob = account(&env, 5);
    let carol = account(&env, 10);
    let eve = account(&env, 11);
    let token_id = contract_address(&env, 0xB5);
    env.register_at(&token_id, BstToken, (&admin,));
    let token = BstTokenClient::new(&env, &token_id);
    let gov_id = contract_address(&env, 0x60);
    env.register_at(&gov_id, Governance, (config(&token_id),));
    let gov = GovernanceClient::new(&env, &gov_id);
    env.mock_all_auths();
    token.grant_role(&minter, &roles::MINTER, &admin);
    for (who, amount) in [(&alice, 55), (&bob, 30), (&carol, 10), (&eve, 5)] {
        token.mint_reward(&minter, who, &(amount * BST), &symbol_short!("lesson"));
    }
    for who in [&alice, &bob, &eve] {
        token.delegate(who, who);
    }
    env.set_auths(&[]);
    advance(&env, 1);
    Fixture {
        env,
        gov,
        token,
        minter,
        alice,
        bob,
        carol,
        eve,
    }
}

fn hash(env: &Env) -> BytesN<32> {
    BytesN::from_array(env, &[0xd0; 32])
}

fn title(env: &Env) -> String {
    String::from_str(env, "Reward 20 BST per completed course")
}

fn propose(f: &Fixture) -> u64 {
    f.env.mock_all_auths();
    let id = f
        .gov
        .propose(&f.alice, &title(&f.env), &hash(&f.env), &PERIOD);
    f.env.set_auths(&[]);
    id
}

fn vote(f: &Fixture, who: &Address, id: u64, support: bool) -> i128 {
    f.env.mock_all_auths();
    let weight = f.gov.vote(who, &id, &support);
    f.env.set_auths(&[]);
    weight
}

#[test]
#[should_panic(expected = "Error(Contract, #80)")]
fn constructor_rejects_a_majority_below_half() {
    let env = test_env();
    let token = contract_address(&env, 0xB5);
    let mut bad = config(&token);
    bad.majority_bps = 5_000;
    env.register(Governance, (bad,));
}

#[test]
fn constructor_rejects_bad_configs() {
    let env = test_env();
    let token = contract_address(&env, 0xB5);
    let bad: [fn(&mut GovernanceConfig); 7] = [
        |c| c.quorum_bps = 0,
        |c| c.quorum_bps = 10_001,
        |c| c.majority_bps = 10_001,
        |c| c.min_voting_period = 0,
        |c| c.max_voting_period = 5,
        |c| c.proposal_threshold = -1,
        // A proposal must not outlive the TTL its record is kept for between uses.
        |c| c.max_voting_period = ttl::PERSISTENT_THRESHOLD + 1,
    ];
    for change in bad {
        let mut c = config(&token);
        change(&mut c);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            env.register(Governance, (c,));
        }));
        let err = result.expect_err("config accepted");
        let message = err
            .downcast_ref::<std::string::String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            message.contains("Error(Contract, #80)"),
            "unexpected failure: {}",
            message
        );
    }
    // The bound itself is allowed.
    let mut edge = config(&token);
    edge.max_voting_period = ttl::PERSISTENT_THRESHOLD;
    env.register(Governance, (edge,));
}

#[test]
fn propose_stores_the_proposal_and_emits_it() {
    let f = setup();
    let mut vectors = VectorRecorder::new(
        "governance_propose",
        "Alice opens proposal 1 with a 100-ledger voting period.",
    );
    let now = f.env.ledger().sequence();
    assert_eq!(propose(&f), 1);
    assert_eq!(vectors.capture(&f.env, "propose"), 1);
    vectors.finish();
    let p = f.gov.get_proposal(&1);
    assert_eq!(p.proposer, f.alice);
    assert_eq!(p.title, title(&f.env));
    assert_eq!(p.description_hash, hash(&f.env));
    assert_eq!(p.snapshot_ledger, now - 1);
    assert_eq!(p.end_ledger, now + PERIOD);
    assert_eq!((p.votes_for, p.votes_against, p.executed), (0, 0, false));
    assert_eq!(f.gov.state(&1), ProposalState::Active);
    assert_eq!(propose(&f), 2);
}

#[test]
fn proposal_created_event_matches_the_struct() {
    let f = setup();
    propose(&f);
    let now = f.env.ledger().sequence();
    assert_eq!(
        f.env.events().all().events(),
        &[ProposalCreated {
            id: 1,
            proposer: f.alice.clone(),
            title: title(&f.env),
            description_hash: hash(&f.env),
            snapshot_ledger: now - 1,
            end_ledger: now + PERIOD,
        }
        .to_xdr(&f.env, &f.gov.address)]
    );
}

#[test]
fn propose_errors() {
    let f = setup();
    f.env.mock_all_auths();
    let h = hash(&f.env);
    assert_contract_error!(
        f.gov
            .try_propose(&f.alice, &String::from_str(&f.env, ""), &h, &PERIOD),
        SharedError::EmptyText
    );
    let long = std::string::String::from_utf8(std::vec![b't'; 129]).unwrap();
    assert_contract_error!(
        f.gov
            .try_propose(&f.alice, &String::from_str(&f.env, &long), &h, &PERIOD),
        SharedError::TextTooLong
    );
    assert_contract_error!(
        f.gov.try_propose(&f.alice, &title(&f.env), &h, &9),
        GovernanceError::InvalidVotingPeriod
    );
    assert_contract_error!(
        f.gov.try_propose(&f.alice, &title(&f.env), &h, &100_001),
        GovernanceError::InvalidVotingPeriod
    );
    // Carol holds 10 BST but never delegated, so she has no votes to meet the threshold.
    assert_contract_error!(
        f.gov.try_propose(&f.carol, &title(&f.env), &h, &PERIOD),
        GovernanceError::BelowProposalThreshold
    );
    f.env.set_auths(&[]);
    assert_auth_error!(f.gov.try_propose(&f.alice, &title(&f.env), &h, &PERIOD));
}

#[test]
fn votes_are_weighted_by_bst_at_the_snapshot() {
    let f = setup();
    let id = propose(&f);
    let mut vectors = VectorRecorder::new(
        "governance_vote",
        "Alice (55 BST) votes for and Bob (30 BST) votes against proposal 1.",
    );
    assert_eq!(vote(&f, &f.alice, id, true), 55 * BST);
    assert_eq!(vectors.capture(&f.env, "vote(alice, for)"), 1);
    assert_eq!(vote(&f, &f.bob, id, false), 30 * BST);
    assert_eq!(vectors.capture(&f.env, "vote(bob, against)"), 1);
    vectors.finish();
    let p = f.gov.get_proposal(&id);
    assert_eq!((p.votes_for, p.votes_against), (55 * BST, 30 * BST));
    assert_eq!(f.gov.vote_of(&id, &f.alice), Some(true));
    assert_eq!(f.gov.vote_of(&id, &f.bob), Some(false));
    assert_eq!(f.gov.vote_of(&id, &f.carol), None);
}

#[test]
fn one_balance_cannot_vote_twice() {
    let f = setup();
    let id = propose(&f);
    vote(&f, &f.alice, id, true);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.gov.try_vote(&f.alice, &id, &false),
        GovernanceError::AlreadyVoted
    );
    // Alice moves her tokens to a fresh account that delegates to itself: the votes at the
    // snapshot stay with Alice, so the new account has nothing to vote with.
    let dave = account(&f.env, 12);
    f.token.delegate(&dave, &dave);
    f.token
        .transfer(&f.alice, MuxedAddress::from(&dave), &(55 * BST));
    assert_contract_error!(
        f.gov.try_vote(&dave, &id, &true),
        GovernanceError::NoVotingPower
    );
    // Undelegated holders have no votes either.
    assert_contract_error!(
        f.gov.try_vote(&f.carol, &id, &true),
        GovernanceError::NoVotingPower
    );
    // On the next proposal Dave's votes count and Alice's are gone.
    advance(&f.env, 1);
    f.env.mock_all_auths();
    let next = f.gov.propose(&dave, &title(&f.env), &hash(&f.env), &PERIOD);
    assert_eq!(f.gov.vote(&dave, &next, &true), 55 * BST);
    assert_contract_error!(
        f.gov.try_vote(&f.alice, &next, &true),
        GovernanceError::NoVotingPower
    );
}

#[test]
fn vote_errors_and_auth() {
    let f = setup();
    let id = propose(&f);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.gov.try_vote(&f.alice, &9, &true),
        GovernanceError::ProposalNotFound
    );
    advance(&f.env, PERIOD);
    vote(&f, &f.eve, id, true); // the last ledger of the period still counts
    advance(&f.env, 1);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.gov.try_vote(&f.alice, &id, &true),
        GovernanceError::VotingClosed
    );
    f.env.set_auths(&[]);
    let next = propose(&f);
    assert_auth_error!(f.gov.try_vote(&f.alice, &next, &true));
    // A voter at a contract address authorising exactly this vote.
    let signer = contract_address(&f.env, 0x58);
    f.env.mock_all_auths();
    f.token
        .mint_reward(&f.minter, &signer, &BST, &symbol_short!("lesson"));
    f.token.delegate(&signer, &signer);
    advance(&f.env, 1);
    let third = f
        .gov
        .propose(&f.alice, &title(&f.env), &hash(&f.env), &PERIOD);
    f.env.mock_auths(&[MockAuth {
        address: &signer,
        invoke: &MockAuthInvoke {
            contract: &f.gov.address,
            fn_name: "vote",
            args: (&signer, third, true).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    assert_auth_error!(f.gov.try_vote(&signer, &third, &false));
    assert_eq!(f.gov.vote(&signer, &third, &true), BST);
    assert_eq!(f.env.auths().len(), 1);
    assert_eq!(f.env.auths()[0].0, signer);
}

#[test]
fn execute_after_the_period_when_quorum_and_majority_hold() {
    let f = setup();
    let id = propose(&f);
    vote(&f, &f.alice, id, true);
    vote(&f, &f.bob, id, false);
    assert_contract_error!(f.gov.try_execute(&id), GovernanceError::VotingNotEnded);
    advance(&f.env, PERIOD);
    assert_contract_error!(f.gov.try_execute(&id), GovernanceError::VotingNotEnded);
    advance(&f.env, 1);
    assert_eq!(f.gov.state(&id), ProposalState::Succeeded);
    let mut vectors = VectorRecorder::new(
        "governance_execute",
        "Proposal 1 (55 for, 30 against, supply 100 BST) is executed after its period.",
    );
    f.gov.execute(&id);
    assert_eq!(vectors.capture(&f.env, "execute"), 1);
    vectors.finish();
    assert_eq!(f.gov.state(&id), ProposalState::Executed);
    assert!(f.gov.get_proposal(&id).executed);
    assert_contract_error!(f.gov.try_execute(&id), GovernanceError::AlreadyExecuted);
    assert_contract_error!(f.gov.try_execute(&42), GovernanceError::ProposalNotFound);
}

#[test]
fn execute_fails_without_quorum_or_majority_and_releases_the_guard() {
    let f = setup();
    // Eve's 5 % is below the 20 % quorum.
    let low = propose(&f);
    vote(&f, &f.eve, low, true);
    // Alice's 55 against Bob's 30 for: no majority.
    let split = propose(&f);
    vote(&f, &f.alice, split, false);
    vote(&f, &f.bob, split, true);
    // Nobody votes.
    let empty = propose(&f);
    advance(&f.env, PERIOD + 1);
    assert_contract_error!(f.gov.try_execute(&low), GovernanceError::QuorumNotReached);
    assert_contract_error!(
        f.gov.try_execute(&split),
        GovernanceError::MajorityNotReached
    );
    assert_contract_error!(f.gov.try_execute(&empty), GovernanceError::QuorumNotReached);
    for id in [low, split, empty] {
        assert_eq!(f.gov.state(&id), ProposalState::Defeated);
        assert!(!f.gov.get_proposal(&id).executed);
    }
    assert!(!f
        .env
        .as_contract(&f.gov.address, || guard::is_entered(&f.env)));
    // A passing proposal still executes after those failures.
    advance(&f.env, 1);
    let good = propose(&f);
    vote(&f, &f.alice, good, true);
    advance(&f.env, PERIOD + 1);
    f.gov.execute(&good);
    assert_eq!(f.gov.state(&good), ProposalState::Executed);
}

#[test]
fn storage_ttl_is_extended_on_use() {
    let f = setup();
    let id = propose(&f);
    vote(&f, &f.alice, id, true);
    let ttl_of = |key: &DataKey| {
        f.env
            .as_contract(&f.gov.address, || f.env.storage().persistent().get_ttl(key))
    };
    assert_eq!(ttl_of(&DataKey::Proposal(id)), ttl::PERSISTENT_EXTEND_TO);
    assert_eq!(
        ttl_of(&DataKey::Voted(id, f.alice.clone())),
        ttl::PERSISTENT_EXTEND_TO
    );
    advance(&f.env, 2 * ttl::DAY_IN_LEDGERS);
    assert_eq!(
        ttl_of(&DataKey::Proposal(id)),
        ttl::PERSISTENT_EXTEND_TO - 2 * ttl::DAY_IN_LEDGERS
    );
    f.gov.get_proposal(&id);
    assert_eq!(ttl_of(&DataKey::Proposal(id)), ttl::PERSISTENT_EXTEND_TO);
    // Reading a vote keeps its record alive too.
    assert_eq!(
        ttl_of(&DataKey::Voted(id, f.alice.clone())),
        ttl::PERSISTENT_EXTEND_TO - 2 * ttl::DAY_IN_LEDGERS
    );
    assert_eq!(f.gov.vote_of(&id, &f.alice), Some(true));
    assert_eq!(
        ttl_of(&DataKey::Voted(id, f.alice.clone())),
        ttl::PERSISTENT_EXTEND_TO
    );
    // No vote, no entry: nothing to extend, and no error.
    assert_eq!(f.gov.vote_of(&id, &f.bob), None);
    use soroban_sdk::testutils::Deployer as _;
    assert_eq!(
        f.env.deployer().get_contract_instance_ttl(&f.gov.address),
        ttl::INSTANCE_EXTEND_TO
    );
}

#[test]
fn wasm_build_runs_on_the_host() {
    let (Some(gov_wasm), Some(token_wasm)) = (wasm_bytes("governance"), wasm_bytes("token")) else {
        return;
    };
    let env = test_env();
    let admin = account(&env, 1);
    let minter = account(&env, 6);
    let alice = account(&env, 3);
    let token_id = env.register(token_wasm.as_slice(), (&admin,));
    let token = BstTokenClient::new(&env, &token_id);
    let gov_id = env.register(gov_wasm.as_slice(), (config(&token_id),));
    let gov = GovernanceClient::new(&env, &gov_id);
    env.mock_all_auths();
    token.grant_role(&minter, &roles::MINTER, &admin);
    token.mint_reward(&minter, &alice, &(10 * BST), &symbol_short!("lesson"));
    token.delegate(&alice, &alice);
    advance(&env, 1);
    let id = gov.propose(&alice, &title(&env), &hash(&env), &10);
    // The Wasm governance contract reads the Wasm token's checkpoints.
    assert_eq!(gov.vote(&alice, &id, &true), 10 * BST);
    assert_contract_error!(
        gov.try_vote(&alice, &id, &true),
        GovernanceError::AlreadyVoted
    );
    advance(&env, 11);
    gov.execute(&id);
    assert_eq!(gov.state(&id), ProposalState::Executed);
}

#[test]
fn config_returns_the_rules_set_at_initialisation() {
    let f = setup();
    assert_eq!(f.gov.config(), config(&f.token.address));
    // A call to `config` alone keeps the instance alive like every other entry point.
    advance(&f.env, 2 * ttl::DAY_IN_LEDGERS);
    f.gov.config();
    use soroban_sdk::testutils::Deployer as _;
    assert_eq!(
        f.env.deployer().get_contract_instance_ttl(&f.gov.address),
        ttl::INSTANCE_EXTEND_TO
    );
}

#[test]
fn propose_requires_exactly_the_proposers_auth() {
    let f = setup();
    // A proposer at a contract address, so `mock_auths` can stand in for its signature.
    let proposer = contract_address(&f.env, 0x5A);
    f.env.mock_all_auths();
    f.token
        .mint_reward(&f.minter, &proposer, &(2 * BST), &symbol_short!("lesson"));
    f.token.delegate(&proposer, &proposer);
    advance(&f.env, 1);
    let t = title(&f.env);
    let h = hash(&f.env);
    f.env.mock_auths(&[MockAuth {
        address: &proposer,
        invoke: &MockAuthInvoke {
            contract: &f.gov.address,
            fn_name: "propose",
            args: (&proposer, &t, &h, PERIOD).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    // The authorisation covers this period only.
    assert_auth_error!(f.gov.try_propose(&proposer, &t, &h, &(PERIOD + 1)));
    assert_eq!(f.gov.propose(&proposer, &t, &h, &PERIOD), 1);
    assert_eq!(f.env.auths().len(), 1);
    assert_eq!(f.env.auths()[0].0, proposer);
    assert_eq!(f.gov.get_proposal(&1).proposer, proposer);
    // Consumed: the same authorisation does not open a second proposal.
    assert_auth_error!(f.gov.try_propose(&proposer, &t, &h, &PERIOD));
}

#[test]
fn propose_refuses_ids_and_ledgers_that_would_overflow() {
    let f = setup();
    let (t, h) = (title(&f.env), hash(&f.env));
    f.env.mock_all_auths();
    // The id counter is exhausted.
    f.env.as_contract(&f.gov.address, || {
        f.env.storage().instance().set(&DataKey::LastId, &u64::MAX)
    });
    assert_contract_error!(
        f.gov.try_propose(&f.alice, &t, &h, &PERIOD),
        GovernanceError::MathOverflow
    );
    f.env.as_contract(&f.gov.address, || {
        f.env.storage().instance().set(&DataKey::LastId, &0u64)
    });
    // Ledger 0 has no ledger before it to take the snapshot at.
    let at = f.env.ledger().sequence();
    f.env.ledger().with_mut(|l| l.sequence_number = 0);
    assert_contract_error!(
        f.gov.try_propose(&f.alice, &t, &h, &PERIOD),
        GovernanceError::MathOverflow
    );
    f.env.ledger().with_mut(|l| l.sequence_number = at);
    assert_eq!(f.gov.propose(&f.alice, &t, &h, &PERIOD), 1);
}

#[test]
fn a_tally_past_i128_max_fails_with_math_overflow() {
    let f = setup();
    let id = propose(&f);
    let mut p = f.gov.get_proposal(&id);
    p.votes_for = i128::MAX;
    f.env.as_contract(&f.gov.address, || {
        f.env.storage().persistent().set(&DataKey::Proposal(id), &p)
    });
    f.env.mock_all_auths();
    assert_contract_error!(
        f.gov.try_vote(&f.bob, &id, &true),
        GovernanceError::MathOverflow
    );
    assert_eq!(f.gov.vote_of(&id, &f.bob), None);
    assert!(!f
        .env
        .as_contract(&f.gov.address, || guard::is_entered(&f.env)));
}

/// A holder of the whole i128 supply: every product in the quorum check overflows.
#[test]
fn quorum_math_past_i128_max_fails_with_math_overflow() {
    let env = test_env();
    let admin = account(&env, 1);
    let minter = account(&env, 6);
    let whale = account(&env, 3);
    let token_id = contract_address(&env, 0xB5);
    env.register_at(&token_id, BstToken, (&admin,));
    let token = BstTokenClient::new(&env, &token_id);
    let gov = GovernanceClient::new(&env, &env.register(Governance, (config(&token_id),)));
    env.mock_all_auths();
    token.grant_role(&minter, &roles::MINTER, &admin);
    token.mint_reward(&minter, &whale, &i128::MAX, &symbol_short!("lesson"));
    token.delegate(&whale, &whale);
    advance(&env, 1);
    let id = gov.propose(&whale, &title(&env), &hash(&env), &PERIOD);
    assert_eq!(gov.vote(&whale, &id, &true), i128::MAX);
    advance(&env, PERIOD + 1);
    assert_contract_error!(gov.try_execute(&id), GovernanceError::MathOverflow);
    assert_contract_error!(gov.try_state(&id), GovernanceError::MathOverflow);
    assert!(!gov.get_proposal(&id).executed);
}

#[test]
fn propose_runs_under_the_reentrancy_guard() {
    let f = setup();
    // A successful proposal releases the guard.
    propose(&f);
    assert!(!f
        .env
        .as_contract(&f.gov.address, || guard::is_entered(&f.env)));
    // While the guard is held (a call in progress), propose refuses to run.
    f.env.as_contract(&f.gov.address, || guard::hold(&f.env));
    f.env.mock_all_auths();
    assert_contract_error!(
        f.gov
            .try_propose(&f.alice, &title(&f.env), &hash(&f.env), &PERIOD),
        SharedError::Reentered
    );
    assert_contract_error!(
        f.gov.try_get_proposal(&2),
        GovernanceError::ProposalNotFound
    );
}

#[test]
fn every_error_code_is_in_the_crates_range() {
    // Read from the enum's contract spec, so a variant added later is checked too.
    starling_shared::testutils::assert_error_codes_in(&crate::GovernanceError::spec_xdr(), 80..=99);
}
