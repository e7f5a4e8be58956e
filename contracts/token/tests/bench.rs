//! Cost bench of every contract's entry points, run on the real host with the optimised Wasm
//! from `ops/scripts/build-wasm.sh` (VM instantiation and guest execution included).
//!
//! Prints each contract's size and, per entry point, the CPU instructions, memory and the fee
//! estimate (soroban-sdk's snapshot of mainnet fee rates) of one top-level invocation, then the
//! ratio of `record_progress`, `issue_credential` and `mint_reward` to a plain SEP-41 BST
//! `transfer` measured in the same run. Fails when a contract reaches 32 KiB or a ratio
//! exceeds 1.5. Authorisation is mocked (no signature verification), the same for every call.
//!
//! `cargo test -p starling-token --test bench -- --nocapture`
use soroban_sdk::{
    symbol_short, testutils::Address as _, Address, BytesN, Env, IntoVal, String, Symbol, Val, Vec,
};
use starling_shared::{
    roles,
    testutils::{account, advance, test_env, wasm_bytes},
};

const MAX_WASM: usize = 32 * 1024;
const MAX_RATIO: f64 = 1.5;

#[derive(Clone, Copy)]
struct Cost {
    cpu: u64,
    mem: u64,
    fee: i64,
    temp_rent: i64,
}

struct Bench {
    env: Env,
    rows: std::vec::Vec<(std::string::String, Cost)>,
}

impl Bench {
    fn call(&mut self, contract: &str, id: &Address, func: &str, args: Vec<Val>) -> Cost {
        self.env
            .invoke_contract::<Val>(id, &Symbol::new(&self.env, func), args);
        let estimate = self.env.cost_estimate();
        let budget = estimate.budget();
        let cost = Cost {
            cpu: budget.cpu_instruction_cost(),
            mem: budget.memory_bytes_cost(),
            fee: estimate.fee().total,
            temp_rent: estimate.fee().temporary_entry_rent,
        };
        self.rows.push((format!("{contract}.{func}"), cost));
        cost
    }

    /// Like `call`, for an entry point that must fail (a refused call still costs its
    /// invocation); panics if it succeeds.
    fn call_refused(&mut self, contract: &str, id: &Address, func: &str, args: Vec<Val>) -> Cost {
        let result = self.env.try_invoke_contract::<Val, soroban_sdk::Error>(
            id,
            &Symbol::new(&self.env, func),
            args,
        );
        assert!(result.is_err(), "{contract}.{func} was expected to fail");
        let estimate = self.env.cost_estimate();
        let budget = estimate.budget();
        let cost = Cost {
            cpu: budget.cpu_instruction_cost(),
            mem: budget.memory_bytes_cost(),
            fee: estimate.fee().total,
            temp_rent: estimate.fee().temporary_entry_rent,
        };
        self.rows
            .push((format!("{contract}.{func} (refused)"), cost));
        cost
    }

    fn label_last(&mut self, label: &str) {
        if let Some(row) = self.rows.last_mut() {
            row.0 = format!("{} ({})", row.0, label);
        }
    }
}

#[test]
fn entry_point_costs_and_sizes() {
    let names = ["analytics", "token", "certificate", "governance"];
    let mut wasms = std::vec::Vec::new();
    for name in names {
        let Some(bytes) = wasm_bytes(name) else {
            return;
        };
        wasms.push(bytes);
    }
    println!("\nContract sizes (optimised Wasm):");
    for (name, bytes) in names.iter().zip(&wasms) {
        println!(
            "  {:<12} {:>6} bytes  {:>5.1} KiB",
            name,
            bytes.len(),
            bytes.len() as f64 / 1024.0
        );
    }

    let env = test_env();
    env.mock_all_auths();
    let admin = account(&env, 1);
    let recorder = account(&env, 2);
    let student = account(&env, 3);
    let issuer = account(&env, 4);
    let bob = account(&env, 5);
    let minter = account(&env, 6);
    let carol = account(&env, 7);
    let analytics = env.register(wasms[0].as_slice(), (&admin,));
    let token = env.register(wasms[1].as_slice(), (&admin,));
    let certificate = env.register(wasms[2].as_slice(), (&admin,));
    let config = starling_governance_config(&env, &token);
    let governance = env.register(wasms[3].as_slice(), (config,));
    let mut b = Bench {
        env: env.clone(),
        rows: std::vec::Vec::new(),
    };
    let e = &env;
    let course = BytesN::from_array(e, &[7u8; 16]);
    let course2 = BytesN::from_array(e, &[8u8; 16]);
    let hash = BytesN::from_array(e, &[9u8; 32]);
    let bst: i128 = 10_000_000;

    // Roles (the same OpenZeppelin code in each contract).
    b.call(
        "analytics",
        &analytics,
        "grant_role",
        (&recorder, roles::RECORDER, &admin).into_val(e),
    );
    b.call(
        "token",
        &token,
        "grant_role",
        (&minter, roles::MINTER, &admin).into_val(e),
    );
    b.call(
        "certificate",
        &certificate,
        "grant_role",
        (&issuer, roles::ISSUER, &admin).into_val(e),
    );

    // Token: fund holders first so the measured transfer is between existing balances.
    let mint_new = b.call(
        "token",
        &token,
        "mint_reward",
        (&minter, &student, 100 * bst, symbol_short!("referral")).into_val(e),
    );
    b.label_last("new holder");
    b.call(
        "token",
        &token,
        "mint_reward",
        (&minter, &bob, bst, symbol_short!("lesson")).into_val(e),
    );
    b.label_last("setup");
    let mint = b.call(
        "token",
        &token,
        "mint_reward",
        (&minter, &bob, bst, symbol_short!("referral")).into_val(e),
    );
    b.label_last("existing holder");
    let transfer = b.call(
        "token",
        &token,
        "transfer",
        (&student, &bob, 5 * bst).into_val(e),
    );
    b.label_last("existing holders");
    b.call(
        "token",
        &token,
        "transfer",
        (&student, &carol, bst).into_val(e),
    );
    b.label_last("new receiver");
    b.call(
        "token",
        &token,
        "approve",
        (&student, &bob, 10 * bst, e.ledger().sequence() + 1_000).into_val(e),
    );
    b.call(
        "token",
        &token,
        "transfer_from",
        (&bob, &student, &bob, bst).into_val(e),
    );
    b.call("token", &token, "burn", (&student, bst).into_val(e));
    b.call(
        "token",
        &token,
        "burn_from",
        (&bob, &student, bst).into_val(e),
    );
    b.call("token", &token, "balance", (&student,).into_val(e));
    b.call("token", &token, "allowance", (&student, &bob).into_val(e));
    b.call("token", &token, "total_supply", ().into_val(e));
    b.call("token", &token, "decimals", ().into_val(e));
    b.call("token", &token, "name", ().into_val(e));
    b.call("token", &token, "symbol", ().into_val(e));
    b.call(
        "token",
        &token,
        "delegate",
        (&student, &student).into_val(e),
    );
    let delegated_transfer = b.call(
        "token",
        &token,
        "transfer",
        (&student, &bob, bst).into_val(e),
    );
    b.label_last("sender delegated");
    b.call("token", &token, "get_votes", (&student,).into_val(e));
    b.call("token", &token, "get_delegate", (&student,).into_val(e));
    b.call("token", &token, "get_total_supply", ().into_val(e));
    advance(e, 1);
    let past = e.ledger().sequence() - 1;
    b.call(
        "token",
        &token,
        "get_votes_at_checkpoint",
        (&student, past).into_val(e),
    );
    b.call(
        "token",
        &token,
        "get_total_supply_at_checkpoint",
        (past,).into_val(e),
    );

    // Role administration and queries (OpenZeppelin access control, the same in each contract).
    b.call(
        "token",
        &token,
        "has_role",
        (&minter, roles::MINTER).into_val(e),
    );
    b.call("token", &token, "get_admin", ().into_val(e));
    b.call("token", &token, "get_existing_roles", ().into_val(e));
    b.call(
        "token",
        &token,
        "get_role_member_count",
        (roles::MINTER,).into_val(e),
    );
    b.call(
        "token",
        &token,
        "get_role_member",
        (roles::MINTER, 0u32).into_val(e),
    );
    b.call(
        "token",
        &token,
        "get_role_admin",
        (roles::MINTER,).into_val(e),
    );
    b.call(
        "token",
        &token,
        "grant_role",
        (&carol, roles::MINTER, &admin).into_val(e),
    );
    b.label_last("second minter");
    b.call(
        "token",
        &token,
        "revoke_role",
        (&carol, roles::MINTER, &admin).into_val(e),
    );
    b.call(
        "token",
        &token,
        "grant_role",
        (&carol, roles::MINTER, &admin).into_val(e),
    );
    b.label_last("again");
    b.call(
        "token",
        &token,
        "renounce_role",
        (roles::MINTER, &carol).into_val(e),
    );
    b.call(
        "token",
        &token,
        "transfer_admin_role",
        (&carol, e.ledger().sequence() + 100).into_val(e),
    );
    b.call("token", &token, "accept_admin_transfer", ().into_val(e));
    b.call_refused(
        "token",
        &token,
        "set_role_admin",
        (roles::MINTER, symbol_short!("other")).into_val(e),
    );
    b.call_refused("token", &token, "renounce_admin", ().into_val(e));

    // Analytics.
    let progress_new = b.call(
        "analytics",
        &analytics,
        "record_progress",
        (&recorder, &student, &course, 40u32).into_val(e),
    );
    b.label_last("first record");
    let progress = b.call(
        "analytics",
        &analytics,
        "record_progress",
        (&recorder, &student, &course, 70u32).into_val(e),
    );
    b.label_last("update");
    let progress_done = b.call(
        "analytics",
        &analytics,
        "record_progress",
        (&recorder, &student, &course, 100u32).into_val(e),
    );
    b.label_last("to 100 %");
    b.call(
        "analytics",
        &analytics,
        "get_progress",
        (&student, &course).into_val(e),
    );

    // Certificate.
    let issue_first = b.call(
        "certificate",
        &certificate,
        "issue_credential",
        (&issuer, &student, &course, &hash).into_val(e),
    );
    b.label_last("learner's first");
    let issue_next = b.call(
        "certificate",
        &certificate,
        "issue_credential",
        (&issuer, &student, &course2, &hash).into_val(e),
    );
    b.label_last("learner's second");
    b.call("certificate", &certificate, "verify", (1u64,).into_val(e));
    b.call(
        "certificate",
        &certificate,
        "certificates_of",
        (&student,).into_val(e),
    );
    b.call(
        "certificate",
        &certificate,
        "certificate_for",
        (&student, &course).into_val(e),
    );
    b.call("certificate", &certificate, "total_issued", ().into_val(e));
    b.call_refused(
        "certificate",
        &certificate,
        "transfer",
        (&student, &bob, 1u64).into_val(e),
    );
    b.call(
        "certificate",
        &certificate,
        "revoke",
        (&issuer, 2u64, String::from_str(e, "issued in error")).into_val(e),
    );

    // Governance (reads the token's checkpoints through the contract client).
    advance(e, 1);
    b.call(
        "governance",
        &governance,
        "propose",
        (
            &student,
            String::from_str(e, "Raise the referral reward"),
            &hash,
            20u32,
        )
            .into_val(e),
    );
    b.call(
        "governance",
        &governance,
        "vote",
        (&student, 1u64, true).into_val(e),
    );
    b.call(
        "governance",
        &governance,
        "get_proposal",
        (1u64,).into_val(e),
    );
    b.call(
        "governance",
        &governance,
        "vote_of",
        (1u64, &student).into_val(e),
    );
    b.call("governance", &governance, "config", ().into_val(e));
    advance(e, 21);
    b.call("governance", &governance, "state", (1u64,).into_val(e));
    b.call("governance", &governance, "execute", (1u64,).into_val(e));

    // Mocked authorisation writes a temporary nonce entry per authorising address, whose rent
    // a transaction signed by its source account does not pay; "fee" leaves that rent out
    // (it keeps approve's allowance rent, the only temporary entry a contract writes).
    println!("\nEntry points (one top-level invocation each; fees in stroops):");
    println!(
        "  {:<48} {:>10} {:>10} {:>10} {:>10}",
        "call", "cpu insns", "mem bytes", "fee", "nonce rent"
    );
    for (name, c) in &b.rows {
        let nonce_rent = if name.ends_with(".approve") {
            0
        } else {
            c.temp_rent
        };
        println!(
            "  {:<48} {:>10} {:>10} {:>10} {:>10}",
            name,
            c.cpu,
            c.mem,
            c.fee - nonce_rent,
            nonce_rent
        );
    }

    let ratio = |c: Cost| c.cpu as f64 / transfer.cpu as f64;
    let checks = [
        ("record_progress (first record)", progress_new),
        ("record_progress (update)", progress),
        ("record_progress (to 100 %)", progress_done),
        ("issue_credential (learner's first)", issue_first),
        ("issue_credential (learner's second)", issue_next),
        ("mint_reward (existing holder)", mint),
        ("mint_reward (new holder)", mint_new),
    ];
    println!("\nCPU instructions relative to BST transfer between existing holders ({} insns; sender delegated: {}):", transfer.cpu, delegated_transfer.cpu);
    for (name, c) in &checks {
        println!("  {:<40} {:>12} {:>6.2}x", name, c.cpu, ratio(*c));
    }
    for (name, bytes) in names.iter().zip(&wasms) {
        assert!(
            bytes.len() < MAX_WASM,
            "{name}.wasm is {} bytes, not under 32 KiB",
            bytes.len()
        );
    }
    for (name, c) in &checks {
        assert!(
            ratio(*c) <= MAX_RATIO,
            "{name} costs {:.2}x a transfer (limit {MAX_RATIO})",
            ratio(*c)
        );
    }
    let _ = Address::generate(e);
}

/// The governance constructor argument, built without linking the governance crate.
fn starling_governance_config(env: &Env, token: &Address) -> Val {
    use soroban_sdk::Map;
    let mut m: Map<Symbol, Val> = Map::new(env);
    m.set(Symbol::new(env, "token"), token.into_val(env));
    m.set(Symbol::new(env, "quorum_bps"), 2_000u32.into_val(env));
    m.set(Symbol::new(env, "majority_bps"), 5_001u32.into_val(env));
    m.set(Symbol::new(env, "min_voting_period"), 10u32.into_val(env));
    m.set(
        Symbol::new(env, "max_voting_period"),
        100_000u32.into_val(env),
    );
    m.set(Symbol::new(env, "proposal_threshold"), 0i128.into_val(env));
    m.into_val(env)
}
