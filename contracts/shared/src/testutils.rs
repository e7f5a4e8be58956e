//! Test helpers for the contract crates (feature `testutils`): a deterministic test
//! environment, fixed addresses, error assertions, and the event-vector recorder that writes
//! `contracts/vectors/*.json`.
extern crate std;

use std::{format, string::String as StdString, string::ToString, vec::Vec as StdVec};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::{json, Map as JsonMap, Value};
use soroban_sdk::{
    testutils::{EnvTestConfig, Events as _, Ledger as _},
    xdr::{self, Limits, ScVal, WriteXdr},
    Address, Env,
};

/// Ledger the tests start at (past zero, so `ledger - 1` snapshots exist).
pub const START_LEDGER: u32 = 1_000;
/// Fixed close time of [`START_LEDGER`] (2026-01-01T00:00:00Z).
pub const START_TIME: u64 = 1_767_225_600;

/// A host environment with a fixed ledger and no snapshot files written at drop.
pub fn test_env() -> Env {
    let env = Env::new_with_config(EnvTestConfig {
        capture_snapshot_at_drop: false,
    });
    env.ledger().with_mut(|l| {
        l.sequence_number = START_LEDGER;
        l.timestamp = START_TIME;
    });
    env
}

/// Advances the ledger by `ledgers` closes of 5 s each.
pub fn advance(env: &Env, ledgers: u32) {
    env.ledger().with_mut(|l| {
        l.sequence_number += ledgers;
        l.timestamp += 5 * u64::from(ledgers);
    });
}

/// A fixed account address (`G…`) derived from `seed`, stable across runs and machines.
pub fn account(env: &Env, seed: u8) -> Address {
    let key = stellar_strkey::ed25519::PublicKey([seed; 32]).to_string();
    Address::from_str(env, &key)
}

/// A fixed muxed account (`M…`): account `seed` with memo id `id`.
pub fn muxed(env: &Env, seed: u8, id: u64) -> soroban_sdk::MuxedAddress {
    let key = stellar_strkey::ed25519::MuxedAccount {
        ed25519: [seed; 32],
        id,
    }
    .to_string();
    soroban_sdk::MuxedAddress::from_str(env, &key)
}

/// A fixed contract address (`C…`) derived from `seed`, for `env.register_at`, and for
/// signers in tests that use `env.mock_auths` (it registers a mock account contract there, so
/// the signer must be a contract address).
pub fn contract_address(env: &Env, seed: u8) -> Address {
    let key = stellar_strkey::Contract([seed; 32]).to_string();
    Address::from_str(env, &key)
}

/// Asserts that a client `try_*` call failed with the given contract error code.
#[macro_export]
macro_rules! assert_contract_error {
    ($call:expr, $err:expr) => {{
        let expected = soroban_sdk::Error::from_contract_error($err as u32);
        match $call {
            Err(Ok(got)) => assert_eq!(got, expected, "wrong error"),
            Err(Err(invoke)) => panic!("expected {:?}, got invoke error {:?}", expected, invoke),
            Ok(_) => panic!("expected {:?}, but the call succeeded", expected),
        }
    }};
}

/// Asserts that a client `try_*` call failed because an authorisation was missing. The host
/// reports a failed `require_auth` as `Error(Auth, InvalidAction)`, which reaches the caller
/// of a top-level invocation as `Error(Context, InvalidAction)`.
#[macro_export]
macro_rules! assert_auth_error {
    ($call:expr) => {{
        let expected = soroban_sdk::Error::from_type_and_code(
            soroban_sdk::xdr::ScErrorType::Context,
            soroban_sdk::xdr::ScErrorCode::InvalidAction,
        );
        match $call {
            Err(Ok(got)) => assert_eq!(got, expected, "wrong error"),
            Err(Err(invoke)) => panic!("expected auth error, got invoke error {:?}", invoke),
            Ok(_) => panic!("expected an auth error, but the call succeeded"),
        }
    }};
}

/// How each Starling event names its topics after the event name, and the name of a data
/// value that is not a map. Also the list of events the vectors may contain: an event
/// missing here fails the test, so EVENTS.md and the decoders hear of it.
fn event_shape(name: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match name {
        "transfer" => (&["from", "to"], "amount"),
        "approve" => (&["owner", "spender"], "data"),
        "mint" => (&["to"], "data"),
        "burn" => (&["from"], "data"),
        "reward_minted" => (&["to", "reason"], "data"),
        "delegate_changed" => (&["delegator"], "data"),
        "delegate_votes_changed" => (&["delegate"], "data"),
        "progress_recorded" => (&["student", "course_id"], "data"),
        "course_completed" => (&["student", "course_id"], "data"),
        "certificate_issued" => (&["id", "student"], "data"),
        "certificate_revoked" => (&["id", "student"], "data"),
        "proposal_created" => (&["id", "proposer"], "data"),
        "vote_cast" => (&["id", "voter"], "data"),
        "proposal_executed" => (&["id"], "data"),
        "role_granted" | "role_revoked" => (&["role", "account"], "data"),
        "admin_transfer_initiated" => (&["current_admin"], "data"),
        "admin_transfer_completed" => (&["new_admin"], "data"),
        _ => return None,
    })
}

/// Human-readable JSON for an `ScVal`: addresses as strkeys, 64- and 128-bit integers as
/// decimal strings, u32/i32 as numbers, bytes as lowercase hex, maps as objects.
pub fn scval_to_json(v: &ScVal) -> Value {
    match v {
        ScVal::Bool(b) => json!(b),
        ScVal::Void => Value::Null,
        ScVal::U32(n) => json!(n),
        ScVal::I32(n) => json!(n),
        ScVal::U64(n) => json!(n.to_string()),
        ScVal::I64(n) => json!(n.to_string()),
        ScVal::Timepoint(t) => json!(t.0.to_string()),
        ScVal::Duration(d) => json!(d.0.to_string()),
        ScVal::U128(p) => json!((((p.hi as u128) << 64) | p.lo as u128).to_string()),
        ScVal::I128(p) => {
            json!(((((p.hi as i128) << 64) as u128 | p.lo as u128) as i128).to_string())
        }
        ScVal::Bytes(b) => json!(hex(b.as_slice())),
        ScVal::String(s) => json!(s.to_utf8_string_lossy()),
        ScVal::Symbol(s) => json!(s.to_utf8_string_lossy()),
        ScVal::Address(a) => json!(a.to_string()),
        ScVal::Vec(Some(items)) => Value::Array(items.iter().map(scval_to_json).collect()),
        ScVal::Vec(None) => Value::Array(StdVec::new()),
        ScVal::Map(Some(entries)) => {
            let mut m = JsonMap::new();
            for e in entries.iter() {
                m.insert(key_string(&e.key), scval_to_json(&e.val));
            }
            Value::Object(m)
        }
        other => panic!("no JSON form for {:?} in event vectors", other),
    }
}

fn key_string(v: &ScVal) -> StdString {
    match scval_to_json(v) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn hex(bytes: &[u8]) -> StdString {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

fn b64(v: &ScVal) -> StdString {
    STANDARD.encode(v.to_xdr(Limits::none()).expect("ScVal encodes"))
}

/// Every scenario the contract tests write to `contracts/vectors/`. A vector file for a
/// scenario not listed here, or a listed scenario without a file, fails
/// `vectors_dir_matches_the_scenarios` in `shared`.
pub const SCENARIOS: &[&str] = &[
    "analytics_progress",
    "analytics_progress_complete",
    "certificate_issue",
    "certificate_revoke",
    "governance_execute",
    "governance_propose",
    "governance_vote",
    "roles",
    "token_approve_transfer_from",
    "token_burn",
    "token_delegate",
    "token_mint_reward",
    "token_transfer",
];

/// Directory of the committed vectors.
pub const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors");

/// Collects the events the host emitted, call by call, and checks them against (or with
/// `UPDATE_VECTORS=1` writes them to) `contracts/vectors/<scenario>.json`.
pub struct VectorRecorder {
    scenario: StdString,
    description: StdString,
    events: StdVec<Value>,
}

impl VectorRecorder {
    pub fn new(scenario: &str, description: &str) -> Self {
        assert!(
            SCENARIOS.contains(&scenario),
            "scenario `{}` is not listed in testutils::SCENARIOS",
            scenario
        );
        Self {
            scenario: scenario.to_string(),
            description: description.to_string(),
            events: StdVec::new(),
        }
    }

    /// Records every event of the last top-level invocation, labelled with `call`.
    /// Returns how many events were recorded.
    pub fn capture(&mut self, env: &Env, call: &str) -> usize {
        let all = env.events().all();
        let events = all.events();
        for ev in events {
            self.events.push(event_json(call, ev));
        }
        events.len()
    }

    /// Compares the collected events with the committed file, or rewrites it when
    /// `UPDATE_VECTORS=1`. Fails when they differ.
    pub fn finish(self) {
        let doc = json!({
            "scenario": self.scenario,
            "description": self.description,
            "events": self.events,
        });
        let text = serde_json::to_string_pretty(&doc).expect("vector serialises") + "\n";
        let dir = VECTORS_DIR;
        let path = format!("{}/{}.json", dir, self.scenario);
        let events_md =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../EVENTS.md"))
                .expect("contracts/EVENTS.md exists");
        for ev in &self.events {
            let name = ev["decoded"]["event"].as_str().unwrap_or_default();
            assert!(
                events_md.contains(&format!("`{}`", name)),
                "event `{}` is not documented in contracts/EVENTS.md",
                name
            );
        }
        if std::env::var("UPDATE_VECTORS").as_deref() == Ok("1") {
            std::fs::create_dir_all(dir).expect("create vectors dir");
            std::fs::write(&path, &text).expect("write vector");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "event vector {} is missing or stale; regenerate with UPDATE_VECTORS=1 cargo test \
             and commit it.\n--- expected ---\n{}",
            path,
            text
        );
    }
}

fn event_json(call: &str, ev: &xdr::ContractEvent) -> Value {
    let contract = match &ev.contract_id {
        Some(id) => format!("{}", stellar_strkey::Contract(id.0 .0)),
        None => panic!("contract event without a contract id"),
    };
    let xdr::ContractEventBody::V0(body) = &ev.body;
    let topics: StdVec<&ScVal> = body.topics.iter().collect();
    let name = match topics.first() {
        Some(ScVal::Symbol(s)) => s.to_utf8_string_lossy(),
        other => panic!("event without a symbol name topic: {:?}", other),
    };
    let (topic_names, value_name) = event_shape(&name)
        .unwrap_or_else(|| panic!("event `{}` has no entry in testutils::event_shape", name));
    assert_eq!(
        topics.len() - 1,
        topic_names.len(),
        "event `{}` has {} topics after its name",
        name,
        topics.len() - 1
    );
    let mut decoded = JsonMap::new();
    decoded.insert("event".into(), json!(name));
    for (field, topic) in topic_names.iter().zip(topics.iter().skip(1)) {
        decoded.insert((*field).into(), scval_to_json(topic));
    }
    match scval_to_json(&body.data) {
        Value::Object(fields) => decoded.extend(fields),
        single => {
            decoded.insert(value_name.into(), single);
        }
    }
    json!({
        "call": call,
        "contract": contract,
        "topics": topics.iter().map(|t| b64(t)).collect::<StdVec<_>>(),
        "value": b64(&body.data),
        "decoded": Value::Object(decoded),
    })
}

/// The optimised Wasm of contract `name` as written by `ops/scripts/build-wasm.sh`.
///
/// With `STARLING_WASM_DIR` set (the test command sets it after building), a missing file is
/// a failure. Without it the file is looked up in `contracts/build/`, and `None` (the test
/// is skipped, with a note on stderr) when it has not been built.
pub fn wasm_bytes(name: &str) -> Option<StdVec<u8>> {
    match std::env::var("STARLING_WASM_DIR") {
        Ok(dir) => {
            let path = format!("{}/{}.wasm", dir, name);
            Some(std::fs::read(&path).unwrap_or_else(|err| {
                panic!(
                    "STARLING_WASM_DIR is set but {} cannot be read: {}",
                    path, err
                )
            }))
        }
        Err(_) => {
            let path = format!("{}/../build/{}.wasm", env!("CARGO_MANIFEST_DIR"), name);
            match std::fs::read(&path) {
                Ok(bytes) => Some(bytes),
                Err(_) => {
                    std::eprintln!(
                        "skipping Wasm test: {} not built (ops/scripts/build-wasm.sh)",
                        path
                    );
                    None
                }
            }
        }
    }
}

/// Every case (name, code) of a `#[contracterror]` enum, read from the spec entry the SDK
/// generates for it (`MyError::spec_xdr()`), so a new variant is seen without being listed.
pub fn error_cases(spec_xdr: &[u8]) -> StdVec<(StdString, u32)> {
    use soroban_sdk::xdr::{ReadXdr, ScSpecEntry};
    match ScSpecEntry::from_xdr(spec_xdr, Limits::none()).expect("error enum spec decodes") {
        ScSpecEntry::UdtErrorEnumV0(spec) => spec
            .cases
            .iter()
            .map(|c| (c.name.to_utf8_string_lossy(), c.value))
            .collect(),
        other => panic!("not a contract error enum spec: {:?}", other),
    }
}

/// Asserts that every case of a `#[contracterror]` enum (its `spec_xdr()`) has a code in
/// `range`, the crate's documented range.
pub fn assert_error_codes_in(spec_xdr: &[u8], range: core::ops::RangeInclusive<u32>) {
    let cases = error_cases(spec_xdr);
    assert!(!cases.is_empty(), "error enum has no cases");
    for (name, code) in cases {
        assert!(
            range.contains(&code),
            "error {} = {} is outside the crate's range {:?}",
            name,
            code,
            range
        );
    }
}

/// Exercises the OpenZeppelin access-control entry points a Starling contract exposes beyond
/// grant/revoke/transfer: the role queries, `renounce_role` (allowed: a holder may give up its
/// own role, e.g. a retired platform key), and `set_role_admin` / `renounce_admin` (refused
/// with `SharedError::Unsupported`). `holder` must hold `role` and be its only member; `admin`
/// is the contract's admin. Leaves the environment with no mocked auths.
#[macro_export]
macro_rules! check_access_control_entry_points {
    ($env:expr, $client:expr, $admin:expr, $holder:expr, $role:expr) => {{
        use soroban_sdk::testutils::Events as _;
        let env: &soroban_sdk::Env = $env;
        let admin: &soroban_sdk::Address = $admin;
        let holder: &soroban_sdk::Address = $holder;
        let role: soroban_sdk::Symbol = $role;
        let other_role = soroban_sdk::symbol_short!("other");
        assert_eq!(
            $client.get_existing_roles(),
            soroban_sdk::vec![env, role.clone()]
        );
        assert_eq!($client.get_role_member_count(&role), 1);
        assert_eq!($client.get_role_member_count(&other_role), 0);
        assert_eq!($client.get_role_member(&role, &0), holder.clone());
        // AccessControlError::IndexOutOfBounds = 2002.
        $crate::assert_contract_error!($client.try_get_role_member(&role, &1), 2002u32);
        assert_eq!($client.get_role_admin(&role), None);

        // Refused even when the admin authorises it; nothing changes.
        env.mock_all_auths();
        $crate::assert_contract_error!(
            $client.try_set_role_admin(&role, &other_role),
            $crate::SharedError::Unsupported
        );
        assert_eq!($client.get_role_admin(&role), None);
        $crate::assert_contract_error!(
            $client.try_renounce_admin(),
            $crate::SharedError::Unsupported
        );
        assert_eq!($client.get_admin(), Some(admin.clone()));

        // renounce_role: only the holder's own authorisation, only a held role.
        env.set_auths(&[]);
        $crate::assert_auth_error!($client.try_renounce_role(&role, holder));
        env.mock_all_auths();
        // AccessControlError::RoleNotHeld = 2007.
        $crate::assert_contract_error!($client.try_renounce_role(&role, admin), 2007u32);
        $client.renounce_role(&role, holder);
        assert_eq!(env.auths().len(), 1);
        assert_eq!(&env.auths()[0].0, holder);
        assert_eq!(
            env.events().all().events().len(),
            1,
            "one role_revoked event"
        );
        assert_eq!($client.has_role(holder, &role), None);
        assert_eq!($client.get_role_member_count(&role), 0);
        // The admin can grant it again.
        $client.grant_role(holder, &role, admin);
        assert_eq!($client.get_role_member(&role, &0), holder.clone());
        env.set_auths(&[]);
    }};
}
