extern crate std;

use soroban_sdk::{
    symbol_short,
    testutils::{
        storage::{Instance as _, Persistent as _},
        Events as _, MockAuth, MockAuthInvoke,
    },
    Address, Env, IntoVal, MuxedAddress, String, Symbol,
};
use starling_shared::{
    assert_auth_error, assert_contract_error, roles,
    testutils::{account, advance, contract_address, muxed, test_env, wasm_bytes, VectorRecorder},
    ttl, SharedError,
};
use stellar_governance::votes::{VotesStorageKey, VOTES_EXTEND_AMOUNT};
use stellar_tokens::fungible::FungibleStorageKey;

use crate::{BstToken, BstTokenClient, TokenError, DECIMALS};

/// OpenZeppelin FungibleTokenError codes.
const INSUFFICIENT_BALANCE: u32 = 100;
const INSUFFICIENT_ALLOWANCE: u32 = 101;
const INVALID_LIVE_UNTIL: u32 = 102;
const LESS_THAN_ZERO: u32 = 103;
/// OpenZeppelin VotesError codes.
const FUTURE_LOOKUP: u32 = 4100;
const SAME_DELEGATE: u32 = 4103;

const BST: i128 = 10_000_000; // 1 BST in base units (7 decimals)

struct Fixture {
    env: Env,
    client: BstTokenClient<'static>,
    admin: Address,
    minter: Address,
    alice: Address,
    bob: Address,
}

fn setup() -> Fixture {
    let env = test_env();
    let admin = account(&env, 1);
    let minter = account(&env, 6);
    let alice = account(&env, 3);
    let bob = account(&env, 5);
    let id = contract_address(&env, 0xB5);
    env.register_at(&id, BstToken, (&admin,));
    let client = BstTokenClient::new(&env, &id);
    env.mock_all_auths();
    client.grant_role(&minter, &roles::MINTER, &admin);
    env.set_auths(&[]);
    Fixture {
        env,
        client,
        admin,
        minter,
        alice,
        bob,
    }
}

fn mint(f: &Fixture, to: &Address, amount: i128) {
    f.env.mock_all_auths();
    f.client
        .mint_reward(&f.minter, to, &amount, &symbol_short!("lesson"));
    f.env.set_auths(&[]);
}

#[test]
fn metadata_and_empty_supply() {
    let f = setup();
    assert_eq!(f.client.decimals(), DECIMALS);
    assert_eq!(f.client.decimals(), 7);
    assert_eq!(
        f.client.name(),
        String::from_str(&f.env, "Starling Reward Token")
    );
    assert_eq!(f.client.symbol(), String::from_str(&f.env, "BST"));
    assert_eq!(f.client.total_supply(), 0);
    assert_eq!(f.client.balance(&f.alice), 0);
}

#[test]
fn mint_reward_credits_and_emits_mint_then_reason() {
    let f = setup();
    let mut vectors = VectorRecorder::new(
        "token_mint_reward",
        "A minter rewards a learner's referrer with 50 BST for a referral.",
    );
    f.env.mock_all_auths();
    f.client
        .mint_reward(&f.minter, &f.alice, &(50 * BST), &symbol_short!("referral"));
    assert_eq!(f.env.auths().len(), 1);
    assert_eq!(f.env.auths()[0].0, f.minter);
    assert_eq!(vectors.capture(&f.env, "mint_reward"), 2);
    vectors.finish();
    let events = f.env.events().all();
    assert_eq!(
        events.events()[1],
        soroban_sdk::Event::to_xdr(
            &crate::RewardMinted {
                to: f.alice.clone(),
                reason: symbol_short!("referral"),
                amount: 50 * BST,
                minter: f.minter.clone(),
            },
            &f.env,
            &f.client.address
        )
    );
    assert_eq!(f.client.balance(&f.alice), 50 * BST);
    assert_eq!(f.client.total_supply(), 50 * BST);
}

#[test]
fn mint_reward_errors() {
    let f = setup();
    f.env.mock_all_auths();
    let reason = symbol_short!("referral");
    assert_contract_error!(
        f.client.try_mint_reward(&f.alice, &f.alice, &BST, &reason),
        SharedError::MissingRole
    );
    assert_contract_error!(
        f.client.try_mint_reward(&f.admin, &f.alice, &BST, &reason),
        SharedError::MissingRole
    );
    assert_contract_error!(
        f.client.try_mint_reward(&f.minter, &f.alice, &0, &reason),
        SharedError::AmountNotPositive
    );
    assert_contract_error!(
        f.client.try_mint_reward(&f.minter, &f.alice, &-1, &reason),
        SharedError::AmountNotPositive
    );
    assert_contract_error!(
        f.client
            .try_mint_reward(&f.minter, &f.alice, &BST, &Symbol::new(&f.env, "")),
        TokenError::EmptyReason
    );
    f.client.revoke_role(&f.minter, &roles::MINTER, &f.admin);
    assert_contract_error!(
        f.client.try_mint_reward(&f.minter, &f.alice, &BST, &reason),
        SharedError::MissingRole
    );
    assert_eq!(f.client.total_supply(), 0);
}

#[test]
fn mint_reward_needs_the_minters_own_auth() {
    let f = setup();
    assert_auth_error!(f.client.try_mint_reward(
        &f.minter,
        &f.alice,
        &BST,
        &symbol_short!("referral")
    ));
    let signer = contract_address(&f.env, 0x56);
    f.env.mock_all_auths();
    f.client.grant_role(&signer, &roles::MINTER, &f.admin);
    f.env.mock_auths(&[MockAuth {
        address: &signer,
        invoke: &MockAuthInvoke {
            contract: &f.client.address,
            fn_name: "mint_reward",
            args: (&signer, &f.alice, BST, symbol_short!("referral")).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    // An authorisation for 1 BST does not cover 2 BST.
    assert_auth_error!(f.client.try_mint_reward(
        &signer,
        &f.alice,
        &(2 * BST),
        &symbol_short!("referral")
    ));
    f.client
        .mint_reward(&signer, &f.alice, &BST, &symbol_short!("referral"));
    assert_eq!(f.client.balance(&f.alice), BST);
}

#[test]
fn transfer_moves_balance_and_emits_sep41_transfer() {
    let f = setup();
    mint(&f, &f.alice, 10 * BST);
    let mut vectors = VectorRecorder::new(
        "token_transfer",
        "Alice transfers 3 BST to Bob, then 1 BST to a muxed account (M…, memo id 42).",
    );
    f.env.mock_all_auths();
    f.client
        .transfer(&f.alice, MuxedAddress::from(&f.bob), &(3 * BST));
    assert_eq!(f.env.auths().len(), 1);
    assert_eq!(f.env.auths()[0].0, f.alice);
    assert_eq!(vectors.capture(&f.env, "transfer"), 1);
    let to = muxed(&f.env, 7, 42);
    f.client.transfer(&f.alice, &to, &BST);
    assert_eq!(vectors.capture(&f.env, "transfer(muxed)"), 1);
    vectors.finish();
    assert_eq!(f.client.balance(&f.alice), 6 * BST);
    assert_eq!(f.client.balance(&f.bob), 3 * BST);
    assert_eq!(f.client.balance(&to.address()), BST);
    assert_eq!(f.client.total_supply(), 10 * BST);
}

#[test]
fn transfer_errors_and_auth() {
    let f = setup();
    mint(&f, &f.alice, BST);
    let to = MuxedAddress::from(&f.bob);
    assert_auth_error!(f.client.try_transfer(&f.alice, &to, &1));
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client.try_transfer(&f.alice, &to, &(BST + 1)),
        INSUFFICIENT_BALANCE
    );
    assert_contract_error!(f.client.try_transfer(&f.alice, &to, &-1), LESS_THAN_ZERO);
    // Bob cannot move Alice's tokens by signing himself: the auth must be Alice's.
    let holder = contract_address(&f.env, 0x57);
    mint(&f, &holder, BST);
    f.env.mock_auths(&[MockAuth {
        address: &holder,
        invoke: &MockAuthInvoke {
            contract: &f.client.address,
            fn_name: "transfer",
            args: (&holder, &f.bob, 5i128).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    f.client.transfer(&holder, &to, &5);
    assert_auth_error!(f.client.try_transfer(&holder, &to, &5));
    assert_eq!(f.client.balance(&f.bob), 5);
}

#[test]
fn approve_and_transfer_from() {
    let f = setup();
    mint(&f, &f.alice, 10 * BST);
    let live_until = f.env.ledger().sequence() + 1_000;
    let mut vectors = VectorRecorder::new(
        "token_approve_transfer_from",
        "Alice approves Bob for 4 BST; Bob moves 3 BST from Alice to himself.",
    );
    f.env.mock_all_auths();
    f.client.approve(&f.alice, &f.bob, &(4 * BST), &live_until);
    assert_eq!(f.env.auths()[0].0, f.alice);
    assert_eq!(vectors.capture(&f.env, "approve"), 1);
    f.client.transfer_from(&f.bob, &f.alice, &f.bob, &(3 * BST));
    assert_eq!(f.env.auths()[0].0, f.bob);
    assert_eq!(vectors.capture(&f.env, "transfer_from"), 1);
    vectors.finish();
    assert_eq!(f.client.allowance(&f.alice, &f.bob), BST);
    assert_eq!(f.client.balance(&f.bob), 3 * BST);
    assert_contract_error!(
        f.client
            .try_transfer_from(&f.bob, &f.alice, &f.bob, &(2 * BST)),
        INSUFFICIENT_ALLOWANCE
    );
    assert_contract_error!(
        f.client
            .try_approve(&f.alice, &f.bob, &BST, &(f.env.ledger().sequence() - 1)),
        INVALID_LIVE_UNTIL
    );
    // An allowance expires with its ledger.
    advance(&f.env, 1_001);
    assert_eq!(f.client.allowance(&f.alice, &f.bob), 0);
    f.env.set_auths(&[]);
    assert_auth_error!(f.client.try_approve(
        &f.alice,
        &f.bob,
        &BST,
        &(f.env.ledger().sequence() + 10)
    ));
}

#[test]
fn burn_and_burn_from_reduce_supply() {
    let f = setup();
    mint(&f, &f.alice, 10 * BST);
    let live_until = f.env.ledger().sequence() + 100;
    f.env.mock_all_auths();
    f.client.approve(&f.alice, &f.bob, &(2 * BST), &live_until);
    let mut vectors = VectorRecorder::new(
        "token_burn",
        "Alice burns 1 BST; Bob burns 2 BST of Alice's under his allowance.",
    );
    f.client.burn(&f.alice, &BST);
    assert_eq!(f.env.auths()[0].0, f.alice);
    assert_eq!(vectors.capture(&f.env, "burn"), 1);
    f.client.burn_from(&f.bob, &f.alice, &(2 * BST));
    assert_eq!(f.env.auths()[0].0, f.bob);
    assert_eq!(vectors.capture(&f.env, "burn_from"), 1);
    vectors.finish();
    assert_eq!(f.client.balance(&f.alice), 7 * BST);
    assert_eq!(f.client.total_supply(), 7 * BST);
    assert_contract_error!(
        f.client.try_burn(&f.alice, &(8 * BST)),
        INSUFFICIENT_BALANCE
    );
    assert_contract_error!(
        f.client.try_burn_from(&f.bob, &f.alice, &1),
        INSUFFICIENT_ALLOWANCE
    );
    f.env.set_auths(&[]);
    assert_auth_error!(f.client.try_burn(&f.alice, &1));
}

#[test]
fn votes_follow_delegation_and_are_checkpointed() {
    let f = setup();
    mint(&f, &f.alice, 10 * BST);
    // Undelegated balances carry no votes.
    assert_eq!(f.client.get_votes(&f.alice), 0);
    let mut vectors = VectorRecorder::new(
        "token_delegate",
        "Alice delegates to herself, then transfers 4 BST to Bob (her votes drop).",
    );
    f.env.mock_all_auths();
    f.client.delegate(&f.alice, &f.alice);
    assert_eq!(f.env.auths()[0].0, f.alice);
    assert_eq!(vectors.capture(&f.env, "delegate"), 2);
    let delegated_at = f.env.ledger().sequence();
    advance(&f.env, 5);
    f.client
        .transfer(&f.alice, MuxedAddress::from(&f.bob), &(4 * BST));
    assert_eq!(vectors.capture(&f.env, "transfer"), 2);
    vectors.finish();
    assert_eq!(f.client.get_votes(&f.alice), 6 * BST as u128);
    assert_eq!(f.client.get_votes(&f.bob), 0);
    assert_eq!(f.client.get_delegate(&f.alice), Some(f.alice.clone()));
    advance(&f.env, 1);
    let now = f.env.ledger().sequence();
    assert_eq!(
        f.client
            .get_votes_at_checkpoint(&f.alice, &(delegated_at - 1)),
        0
    );
    assert_eq!(
        f.client.get_votes_at_checkpoint(&f.alice, &delegated_at),
        10 * BST as u128
    );
    assert_eq!(
        f.client.get_votes_at_checkpoint(&f.alice, &(now - 1)),
        6 * BST as u128
    );
    assert_eq!(
        f.client.get_total_supply_at_checkpoint(&(now - 1)),
        10 * BST as u128
    );
    assert_contract_error!(
        f.client.try_get_votes_at_checkpoint(&f.alice, &now),
        FUTURE_LOOKUP
    );
    assert_contract_error!(f.client.try_delegate(&f.alice, &f.alice), SAME_DELEGATE);
    f.env.set_auths(&[]);
    assert_auth_error!(f.client.try_delegate(&f.bob, &f.bob));
}

#[test]
fn storage_ttl_is_extended_on_use() {
    let f = setup();
    mint(&f, &f.alice, BST);
    let id = f.client.address.clone();
    let balance_ttl = || {
        f.env.as_contract(&id, || {
            f.env
                .storage()
                .persistent()
                .get_ttl(&FungibleStorageKey::Balance(f.alice.clone()))
        })
    };
    let instance_ttl = || {
        f.env
            .as_contract(&id, || f.env.storage().instance().get_ttl())
    };
    // A freshly credited balance gets the full term, not the network's minimum.
    assert_eq!(
        balance_ttl(),
        stellar_tokens::fungible::BALANCE_EXTEND_AMOUNT
    );
    let bob_ttl = || {
        f.env.as_contract(&id, || {
            f.env
                .storage()
                .persistent()
                .get_ttl(&FungibleStorageKey::Balance(f.bob.clone()))
        })
    };
    assert_eq!(instance_ttl(), ttl::INSTANCE_EXTEND_TO);
    advance(&f.env, 3 * ttl::DAY_IN_LEDGERS);
    assert_eq!(
        instance_ttl(),
        ttl::INSTANCE_EXTEND_TO - 3 * ttl::DAY_IN_LEDGERS
    );
    f.env.mock_all_auths();
    f.client.transfer(&f.alice, MuxedAddress::from(&f.bob), &1);
    assert_eq!(
        balance_ttl(),
        stellar_tokens::fungible::BALANCE_EXTEND_AMOUNT
    );
    assert_eq!(bob_ttl(), stellar_tokens::fungible::BALANCE_EXTEND_AMOUNT);
    assert_eq!(instance_ttl(), ttl::INSTANCE_EXTEND_TO);
    // A holder who transacts now and then never loses the balance entry.
    for _ in 0..6 {
        advance(&f.env, 25 * ttl::DAY_IN_LEDGERS);
        assert_eq!(f.client.balance(&f.alice), BST - 1);
    }
}

#[test]
fn votes_checkpoints_outlive_the_network_minimum() {
    let f = setup();
    let id = f.client.address.clone();
    let ttl_of = |key: VotesStorageKey| {
        f.env
            .as_contract(&id, || f.env.storage().persistent().get_ttl(&key))
    };
    f.env.mock_all_auths();
    f.client.delegate(&f.alice, &f.alice);
    mint(&f, &f.alice, 10 * BST);
    // Each write made a new checkpoint entry; each is kept for OpenZeppelin's term.
    assert_eq!(
        ttl_of(VotesStorageKey::DelegateCheckpoint(f.alice.clone(), 0)),
        VOTES_EXTEND_AMOUNT
    );
    assert_eq!(
        ttl_of(VotesStorageKey::TotalSupplyCheckpoint(0)),
        VOTES_EXTEND_AMOUNT
    );
    advance(&f.env, 1);
    f.env.mock_all_auths();
    f.client
        .transfer(&f.alice, MuxedAddress::from(&f.bob), &(4 * BST));
    let transferred_at = f.env.ledger().sequence();
    assert_eq!(
        ttl_of(VotesStorageKey::DelegateCheckpoint(f.alice.clone(), 1)),
        VOTES_EXTEND_AMOUNT
    );
    advance(&f.env, 1);
    f.env.mock_all_auths();
    f.client.burn(&f.alice, &BST);
    assert_eq!(
        ttl_of(VotesStorageKey::DelegateCheckpoint(f.alice.clone(), 2)),
        VOTES_EXTEND_AMOUNT
    );
    assert_eq!(
        ttl_of(VotesStorageKey::TotalSupplyCheckpoint(1)),
        VOTES_EXTEND_AMOUNT
    );
    // A proposal's snapshot read weeks later still finds them (an archived entry would fail).
    advance(&f.env, 20 * ttl::DAY_IN_LEDGERS);
    assert_eq!(
        f.client.get_votes_at_checkpoint(&f.alice, &transferred_at),
        6 * BST as u128
    );
    assert_eq!(
        f.client.get_total_supply_at_checkpoint(&transferred_at),
        10 * BST as u128
    );
}

#[test]
fn wasm_build_runs_on_the_host() {
    let Some(wasm) = wasm_bytes("token") else {
        return;
    };
    let env = test_env();
    let admin = account(&env, 1);
    let minter = account(&env, 6);
    let alice = account(&env, 3);
    let bob = account(&env, 5);
    let id = env.register(wasm.as_slice(), (&admin,));
    let client = BstTokenClient::new(&env, &id);
    env.mock_all_auths();
    client.grant_role(&minter, &roles::MINTER, &admin);
    client.mint_reward(&minter, &alice, &(5 * BST), &symbol_short!("referral"));
    assert_eq!(env.events().all().events().len(), 2);
    client.transfer(&alice, MuxedAddress::from(&bob), &(2 * BST));
    client.approve(&alice, &bob, &BST, &(env.ledger().sequence() + 10));
    client.burn_from(&bob, &alice, &BST);
    assert_eq!(client.balance(&alice), 2 * BST);
    assert_eq!(client.total_supply(), 4 * BST);
    assert_eq!(client.decimals(), 7);
    assert_contract_error!(
        client.try_transfer(&alice, MuxedAddress::from(&bob), &(3 * BST)),
        INSUFFICIENT_BALANCE
    );
}

#[test]
fn access_control_queries_renounce_role_and_refused_entry_points() {
    let f = setup();
    starling_shared::check_access_control_entry_points!(
        &f.env,
        f.client,
        &f.admin,
        &f.minter,
        roles::MINTER
    );
}

#[test]
fn votes_get_total_supply_follows_mints_and_burns() {
    let f = setup();
    assert_eq!(f.client.get_total_supply(), 0);
    mint(&f, &f.alice, 10 * BST);
    mint(&f, &f.bob, 5 * BST);
    // Undelegated balances still count in the supply that quorums are measured against.
    assert_eq!(f.client.get_total_supply(), 15 * BST as u128);
    f.env.mock_all_auths();
    f.client.burn(&f.bob, &(2 * BST));
    assert_eq!(f.client.get_total_supply(), 13 * BST as u128);
    assert_eq!(f.client.get_total_supply() as i128, f.client.total_supply());
}

#[test]
fn mint_reward_refuses_to_overflow_the_supply() {
    let f = setup();
    mint(&f, &f.alice, i128::MAX);
    assert_eq!(f.client.total_supply(), i128::MAX);
    f.env.mock_all_auths();
    // FungibleTokenError::MathOverflow = 104: to a new holder the supply is what overflows
    // (OpenZeppelin keeps no i128 supply counter, so the contract checks it), to the same
    // holder the balance does too.
    assert_contract_error!(
        f.client
            .try_mint_reward(&f.minter, &f.bob, &1, &symbol_short!("lesson")),
        104u32
    );
    assert_contract_error!(
        f.client
            .try_mint_reward(&f.minter, &f.alice, &1, &symbol_short!("lesson")),
        104u32
    );
    assert_eq!(f.client.total_supply(), i128::MAX);
    assert_eq!(f.client.balance(&f.bob), 0);
    assert_eq!(f.client.balance(&f.alice), i128::MAX);
}

#[test]
fn transfer_from_and_burn_from_need_the_spenders_auth() {
    let f = setup();
    mint(&f, &f.alice, 10 * BST);
    f.env.mock_all_auths();
    f.client.approve(
        &f.alice,
        &f.bob,
        &(4 * BST),
        &(f.env.ledger().sequence() + 100),
    );
    f.env.set_auths(&[]);
    assert_auth_error!(f.client.try_transfer_from(&f.bob, &f.alice, &f.bob, &BST));
    assert_auth_error!(f.client.try_burn_from(&f.bob, &f.alice, &BST));
    // The holder's own authorisation does not stand in for the spender's (contract
    // addresses, so `mock_auths` can stand in for their signatures).
    let holder = contract_address(&f.env, 0x5B);
    let spender = contract_address(&f.env, 0x59);
    mint(&f, &holder, 10 * BST);
    f.env.mock_all_auths();
    f.client.approve(
        &holder,
        &spender,
        &(4 * BST),
        &(f.env.ledger().sequence() + 100),
    );
    f.env.mock_auths(&[MockAuth {
        address: &holder,
        invoke: &MockAuthInvoke {
            contract: &f.client.address,
            fn_name: "burn_from",
            args: (&spender, &holder, BST).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    assert_auth_error!(f.client.try_burn_from(&spender, &holder, &BST));
    // Exactly the spender's authorisation for this call is enough.
    f.env.mock_auths(&[MockAuth {
        address: &spender,
        invoke: &MockAuthInvoke {
            contract: &f.client.address,
            fn_name: "transfer_from",
            args: (&spender, &holder, &f.bob, BST).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    f.client.transfer_from(&spender, &holder, &f.bob, &BST);
    assert_eq!(f.env.auths()[0].0, spender);
    assert_eq!(f.client.balance(&holder), 9 * BST);
    assert_eq!(f.client.balance(&f.bob), BST);
    assert_eq!(f.client.balance(&f.alice), 10 * BST);
    assert_eq!(f.client.allowance(&f.alice, &f.bob), 4 * BST);
    assert_eq!(f.client.allowance(&holder, &spender), 3 * BST);
}

#[test]
fn every_error_code_is_in_the_crates_range() {
    // Read from the enum's contract spec, so a variant added later is checked too.
    starling_shared::testutils::assert_error_codes_in(&crate::TokenError::spec_xdr(), 40..=59);
}
