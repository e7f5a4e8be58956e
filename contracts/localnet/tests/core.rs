//! Core behaviour of the local chain, driven through its library API and the JSON-RPC
//! dispatcher (no HTTP): ledger close, submission checks, Soroban execution, event ids,
//! retention errors and getEvents pagination.

use std::sync::{Arc, RwLock};

use ed25519_dalek::SigningKey;
use localnet::chain::{account_id_of, sign, Chain, ChainConfig, EventRecord, Submit};
use localnet::rpc::{dispatch, Ctx};
use localnet::util::{self, b64, unb64, xdr_bytes};
use serde_json::{json, Value};
use soroban_env_host::xdr::{
    Asset, ContractEvent, ContractEventBody, ContractEventType, ContractEventV0,
    ContractExecutable, ContractIdPreimage, ContractIdPreimageFromAddress, CreateContractArgsV2,
    ExtensionPoint, Hash, HostFunction, InvokeContractArgs, InvokeHostFunctionOp, Limits, Memo,
    MuxedAccount, Operation, OperationBody, PaymentOp, Preconditions, ReadXdr, ScAddress, ScSymbol,
    ScVal, SequenceNumber, SorobanAuthorizationEntry, SorobanTransactionData, TimeBounds,
    TimePoint, Transaction, TransactionEnvelope, TransactionExt, TransactionResult,
    TransactionResultResult, TransactionV1Envelope, Uint256, VecM,
};

const PASSPHRASE: &str = "Test SDF Network ; localnet tests";

fn new_chain(retention: u32) -> Chain {
    Chain::genesis(
        &ChainConfig {
            passphrase: PASSPHRASE.into(),
            retention_ledgers: retention,
        },
        1_700_000_000,
    )
}

fn ctx(chain: Chain) -> Ctx {
    Ctx {
        chain: Arc::new(RwLock::new(chain)),
        friendbot_url: "http://127.0.0.1:0/friendbot".into(),
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Funds `k` through friendbot and closes a ledger.
fn fund(chain: &mut Chain, k: &SigningKey) {
    chain
        .queue_friendbot(account_id_of(&k.verifying_key()), 1_700_000_000)
        .expect("queued");
    chain.close_ledger(1_700_000_001);
    assert!(chain.account(&account_id_of(&k.verifying_key())).is_some());
}

fn next_seq(chain: &Chain, k: &SigningKey) -> i64 {
    chain
        .account(&account_id_of(&k.verifying_key()))
        .unwrap()
        .seq_num
        .0
        + 1
}

fn tx(source: &SigningKey, seq: i64, fee: u32, body: OperationBody) -> Transaction {
    Transaction {
        source_account: MuxedAccount::Ed25519(Uint256(source.verifying_key().to_bytes())),
        fee,
        seq_num: SequenceNumber(seq),
        cond: Preconditions::None,
        memo: Memo::None,
        operations: vec![Operation {
            source_account: None,
            body,
        }]
        .try_into()
        .unwrap(),
        ext: TransactionExt::V0,
    }
}

fn envelope(t: Transaction, signers: &[&SigningKey], passphrase: &str) -> TransactionEnvelope {
    let hash = t.hash(util::network_id(passphrase)).unwrap();
    let sigs: Vec<_> = signers.iter().map(|k| sign(k, &hash)).collect();
    TransactionEnvelope::Tx(TransactionV1Envelope {
        tx: t,
        signatures: sigs.try_into().unwrap(),
    })
}

fn payment(to: &SigningKey, amount: i64) -> OperationBody {
    OperationBody::Payment(PaymentOp {
        destination: MuxedAccount::Ed25519(Uint256(to.verifying_key().to_bytes())),
        asset: Asset::Native,
        amount,
    })
}

fn submit(chain: &mut Chain, env: TransactionEnvelope) -> Submit {
    let bytes = xdr_bytes(&env);
    chain.submit(env, bytes, 1_700_000_001).1
}

fn error_code(s: Submit) -> TransactionResultResult {
    match s {
        Submit::Error(TransactionResult { result, .. }) => result,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn ledgers_close_in_sequence_and_chain_their_hashes() {
    let mut chain = new_chain(100);
    assert_eq!(chain.latest().seq, 1);
    let s2 = chain.close_ledger(1_700_000_005);
    let s3 = chain.close_ledger(1_700_000_006);
    assert_eq!((s2, s3), (2, 3));
    let l2 = chain.ledger(2).unwrap().clone();
    let l3 = chain.ledger(3).unwrap();
    assert_eq!(l3.header.previous_ledger_hash.0, l2.hash);
    assert_eq!(l3.close_time, 1_700_000_006);
    assert_eq!(l3.header.ledger_version, 28);
}

#[test]
fn transactions_are_checked_like_core_does() {
    let mut chain = new_chain(100);
    let alice = key(1);
    let bob = key(2);
    fund(&mut chain, &alice);
    fund(&mut chain, &bob);
    let seq = next_seq(&chain, &alice);

    let wrong_seq = envelope(
        tx(&alice, seq + 5, 100, payment(&bob, 10)),
        &[&alice],
        PASSPHRASE,
    );
    assert_eq!(
        error_code(submit(&mut chain, wrong_seq)),
        TransactionResultResult::TxBadSeq
    );

    let wrong_key = envelope(tx(&alice, seq, 100, payment(&bob, 10)), &[&bob], PASSPHRASE);
    assert_eq!(
        error_code(submit(&mut chain, wrong_key)),
        TransactionResultResult::TxBadAuth
    );

    let other_network = envelope(
        tx(&alice, seq, 100, payment(&bob, 10)),
        &[&alice],
        "Public Global Stellar Network ; September 2015",
    );
    assert_eq!(
        error_code(submit(&mut chain, other_network)),
        TransactionResultResult::TxBadAuth
    );

    let extra = envelope(
        tx(&alice, seq, 100, payment(&bob, 10)),
        &[&alice, &bob],
        PASSPHRASE,
    );
    assert_eq!(
        error_code(submit(&mut chain, extra)),
        TransactionResultResult::TxBadAuthExtra
    );

    let cheap = envelope(
        tx(&alice, seq, 99, payment(&bob, 10)),
        &[&alice],
        PASSPHRASE,
    );
    assert_eq!(
        error_code(submit(&mut chain, cheap)),
        TransactionResultResult::TxInsufficientFee
    );

    let mut late = tx(&alice, seq, 100, payment(&bob, 10));
    late.cond = Preconditions::Time(TimeBounds {
        min_time: TimePoint(0),
        max_time: TimePoint(1_600_000_000),
    });
    assert_eq!(
        error_code(submit(&mut chain, envelope(late, &[&alice], PASSPHRASE))),
        TransactionResultResult::TxTooLate
    );

    let mut early = tx(&alice, seq, 100, payment(&bob, 10));
    early.cond = Preconditions::Time(TimeBounds {
        min_time: TimePoint(1_900_000_000),
        max_time: TimePoint(0),
    });
    assert_eq!(
        error_code(submit(&mut chain, envelope(early, &[&alice], PASSPHRASE))),
        TransactionResultResult::TxTooEarly
    );

    let stranger = key(9);
    let no_account = envelope(
        tx(&stranger, 1, 100, payment(&bob, 10)),
        &[&stranger],
        PASSPHRASE,
    );
    assert_eq!(
        error_code(submit(&mut chain, no_account)),
        TransactionResultResult::TxNoAccount
    );

    // A good one is queued, a resend is a duplicate, and the next sequence number may follow.
    let good = envelope(
        tx(&alice, seq, 100, payment(&bob, 10)),
        &[&alice],
        PASSPHRASE,
    );
    assert_eq!(submit(&mut chain, good.clone()), Submit::Pending);
    assert_eq!(submit(&mut chain, good.clone()), Submit::Duplicate);
    let follow = envelope(
        tx(&alice, seq + 1, 100, payment(&bob, 10)),
        &[&alice],
        PASSPHRASE,
    );
    assert_eq!(submit(&mut chain, follow), Submit::Pending);
    let before = chain
        .account(&account_id_of(&bob.verifying_key()))
        .unwrap()
        .balance;
    chain.close_ledger(1_700_000_010);
    let after = chain
        .account(&account_id_of(&bob.verifying_key()))
        .unwrap()
        .balance;
    assert_eq!(after - before, 20);
    assert_eq!(next_seq(&chain, &alice), seq + 2);
    // Replaying an applied transaction is a bad sequence, as in core.
    assert_eq!(
        error_code(submit(&mut chain, good)),
        TransactionResultResult::TxBadSeq
    );
}

fn rpc(ctx: &Ctx, method: &str, params: Value) -> Result<Value, (i64, String)> {
    dispatch(ctx, method, &params).map_err(|e| (e.code, e.message))
}

/// simulate → assemble (sorobanData, fee, auth) → sign → send → close, as the JS SDK does.
fn invoke(ctx: &Ctx, k: &SigningKey, f: HostFunction) -> Value {
    let seq = next_seq(&ctx.chain.read().unwrap(), k);
    let op = OperationBody::InvokeHostFunction(InvokeHostFunctionOp {
        host_function: f.clone(),
        auth: VecM::default(),
    });
    let draft = envelope(tx(k, seq, 100, op), &[], PASSPHRASE);
    let sim = rpc(
        ctx,
        "simulateTransaction",
        json!({ "transaction": b64(&xdr_bytes(&draft)) }),
    )
    .unwrap();
    assert!(sim.get("error").is_none(), "simulation failed: {sim}");
    let data = SorobanTransactionData::from_xdr(
        unb64(sim["transactionData"].as_str().unwrap()).unwrap(),
        Limits::none(),
    )
    .unwrap();
    let auth: Vec<SorobanAuthorizationEntry> = sim["results"][0]["auth"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            SorobanAuthorizationEntry::from_xdr(unb64(a.as_str().unwrap()).unwrap(), Limits::none())
                .unwrap()
        })
        .collect();
    let mut t = tx(
        k,
        seq,
        100 + data.resource_fee as u32,
        OperationBody::InvokeHostFunction(InvokeHostFunctionOp {
            host_function: f,
            auth: auth.try_into().unwrap(),
        }),
    );
    t.ext = TransactionExt::V1(data);
    let env = envelope(t, &[k], PASSPHRASE);
    let sent = rpc(
        ctx,
        "sendTransaction",
        json!({ "transaction": b64(&xdr_bytes(&env)) }),
    )
    .unwrap();
    assert_eq!(sent["status"], "PENDING", "{sent}");
    ctx.chain.write().unwrap().close_ledger(1_700_000_100);
    rpc(ctx, "getTransaction", json!({ "hash": sent["hash"] })).unwrap()
}

fn return_value(got: &Value) -> ScVal {
    let meta = soroban_env_host::xdr::TransactionMeta::from_xdr(
        unb64(got["resultMetaXdr"].as_str().unwrap()).unwrap(),
        Limits::none(),
    )
    .unwrap();
    match meta {
        soroban_env_host::xdr::TransactionMeta::V4(m) => {
            m.soroban_meta.unwrap().return_value.unwrap()
        }
        _ => panic!("meta v4 expected"),
    }
}

#[test]
fn uploads_creates_and_invokes_a_contract_in_the_real_host() {
    let mut chain = new_chain(1000);
    let k = key(3);
    fund(&mut chain, &k);
    let ctx = ctx(chain);

    let wasm = include_bytes!("fixtures/add.wasm").to_vec();
    let up = invoke(
        &ctx,
        &k,
        HostFunction::UploadContractWasm(wasm.try_into().unwrap()),
    );
    assert_eq!(up["status"], "SUCCESS", "{up}");
    let ScVal::Bytes(hash) = return_value(&up) else {
        panic!("upload returns the hash")
    };
    let wasm_hash = Hash(hash.as_slice().try_into().unwrap());

    let created = invoke(
        &ctx,
        &k,
        HostFunction::CreateContractV2(CreateContractArgsV2 {
            contract_id_preimage: ContractIdPreimage::Address(ContractIdPreimageFromAddress {
                address: ScAddress::Account(account_id_of(&k.verifying_key())),
                salt: Uint256([7; 32]),
            }),
            executable: ContractExecutable::Wasm(wasm_hash),
            constructor_args: VecM::default(),
        }),
    );
    assert_eq!(created["status"], "SUCCESS", "{created}");
    let ScVal::Address(contract) = return_value(&created) else {
        panic!("create returns the address")
    };

    let call = HostFunction::InvokeContract(InvokeContractArgs {
        contract_address: contract.clone(),
        function_name: ScSymbol("add".try_into().unwrap()),
        args: vec![ScVal::U64(40), ScVal::U64(2)].try_into().unwrap(),
    });
    let sum = invoke(&ctx, &k, call);
    assert_eq!(sum["status"], "SUCCESS", "{sum}");
    assert_eq!(return_value(&sum), ScVal::U64(42));

    // A call the host rejects (wrong argument types) fails simulation with an error string.
    let seq = next_seq(&ctx.chain.read().unwrap(), &k);
    let bad = HostFunction::InvokeContract(InvokeContractArgs {
        contract_address: contract,
        function_name: ScSymbol("add".try_into().unwrap()),
        args: vec![ScVal::Symbol(ScSymbol("x".try_into().unwrap()))]
            .try_into()
            .unwrap(),
    });
    let draft = envelope(
        tx(
            &k,
            seq,
            100,
            OperationBody::InvokeHostFunction(InvokeHostFunctionOp {
                host_function: bad,
                auth: VecM::default(),
            }),
        ),
        &[],
        PASSPHRASE,
    );
    let sim = rpc(
        &ctx,
        "simulateTransaction",
        json!({ "transaction": b64(&xdr_bytes(&draft)) }),
    )
    .unwrap();
    assert!(
        sim["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{sim}"
    );
    assert!(sim.get("transactionData").is_none());
}

fn synthetic_event(
    chain: &mut Chain,
    ledger: u32,
    tx: u32,
    index: u32,
    contract: [u8; 32],
    topic: &str,
) -> EventRecord {
    let ev = ContractEvent {
        ext: ExtensionPoint::V0,
        contract_id: Some(soroban_env_host::xdr::ContractId(Hash(contract))),
        type_: ContractEventType::Contract,
        body: ContractEventBody::V0(ContractEventV0 {
            topics: vec![
                ScVal::Symbol(ScSymbol(topic.try_into().unwrap())),
                ScVal::U32(index),
            ]
            .try_into()
            .unwrap(),
            data: ScVal::U32(ledger),
        }),
    };
    let contract = chain.intern_contract(Some(contract));
    EventRecord {
        ledger,
        tx,
        op: 0,
        index,
        successful: true,
        contract,
        system: false,
        body: xdr_bytes(&ev).into_boxed_slice(),
    }
}

/// A chain with `ledgers` closed ledgers and, in each of ledgers 2..=ledgers, `per` events.
fn chain_with_events(ledgers: u32, per: u32, retention: u32) -> Ctx {
    let mut chain = new_chain(retention);
    for l in 2..=ledgers {
        chain.close_ledger(1_700_000_000 + l as u64);
        for i in 0..per {
            let contract = if i % 2 == 0 { [1; 32] } else { [2; 32] };
            let e = synthetic_event(
                &mut chain,
                l,
                1,
                i,
                contract,
                if i % 3 == 0 { "fizz" } else { "buzz" },
            );
            chain.events.push_back(e);
        }
    }
    ctx(chain)
}

#[test]
fn get_events_pages_through_every_event_once_in_order() {
    let ctx = chain_with_events(20, 5, 1000);
    let mut seen = Vec::new();
    let mut page = rpc(
        &ctx,
        "getEvents",
        json!({ "startLedger": 1, "pagination": { "limit": 7 } }),
    )
    .unwrap();
    loop {
        let events = page["events"].as_array().unwrap().clone();
        for e in &events {
            seen.push(e["id"].as_str().unwrap().to_string());
            assert_eq!(e["type"], "contract");
            assert!(e["contractId"].as_str().unwrap().starts_with('C'));
            assert!(e["ledgerClosedAt"].as_str().unwrap().ends_with('Z'));
        }
        let cursor = page["cursor"].as_str().unwrap().to_string();
        if events.len() < 7 {
            // Short page: the cursor points at the end of the scanned window (ledger 20).
            assert_eq!(cursor, util::Cursor::max_for_ledger(20).to_id());
            break;
        }
        assert_eq!(&cursor, seen.last().unwrap());
        page = rpc(
            &ctx,
            "getEvents",
            json!({ "pagination": { "cursor": cursor, "limit": 7 } }),
        )
        .unwrap();
    }
    assert_eq!(seen.len(), 19 * 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ids are unique and already in chain order");
    assert_eq!(seen[0], util::event_id(2, 1, 0, 0));
}

#[test]
fn get_events_filters_by_contract_type_and_topic() {
    let ctx = chain_with_events(5, 6, 1000);
    let c1 = util::contract_strkey(&[1; 32]);
    let fizz = b64(&xdr_bytes(&ScVal::Symbol(ScSymbol(
        "fizz".try_into().unwrap(),
    ))));
    let by_contract = rpc(
        &ctx,
        "getEvents",
        json!({ "startLedger": 2, "filters": [{ "contractIds": [c1] }] }),
    )
    .unwrap();
    assert_eq!(by_contract["events"].as_array().unwrap().len(), 4 * 3);
    let by_topic = rpc(
        &ctx,
        "getEvents",
        json!({ "startLedger": 2, "filters": [{ "type": "contract", "topics": [[fizz, "*"]] }] }),
    )
    .unwrap();
    assert_eq!(by_topic["events"].as_array().unwrap().len(), 4 * 2);
    assert_eq!(by_topic["events"][0]["topic"][0], fizz.as_str());
    assert_eq!(
        by_topic["events"][0]["topic"][1],
        b64(&xdr_bytes(&ScVal::U32(0)))
    );
    assert_eq!(
        by_topic["events"][0]["value"],
        b64(&xdr_bytes(&ScVal::U32(2)))
    );
    let rest = rpc(
        &ctx,
        "getEvents",
        json!({ "startLedger": 2, "filters": [{ "topics": [[fizz.clone(), "**"]] }] }),
    )
    .unwrap();
    assert_eq!(rest["events"].as_array().unwrap().len(), 4 * 2);
    let too_short = rpc(
        &ctx,
        "getEvents",
        json!({ "startLedger": 2, "filters": [{ "topics": [[fizz]] }] }),
    )
    .unwrap();
    assert_eq!(
        too_short["events"].as_array().unwrap().len(),
        0,
        "exact length unless ** ends the filter"
    );
    let system = rpc(
        &ctx,
        "getEvents",
        json!({ "startLedger": 2, "filters": [{ "type": "system" }] }),
    )
    .unwrap();
    assert_eq!(system["events"].as_array().unwrap().len(), 0);
    let end = rpc(
        &ctx,
        "getEvents",
        json!({ "startLedger": 2, "endLedger": 3 }),
    )
    .unwrap();
    assert_eq!(end["events"].as_array().unwrap().len(), 6);
    assert_eq!(end["cursor"], util::Cursor::max_for_ledger(2).to_id());
}

#[test]
fn get_events_rejects_bad_requests_with_rpc_codes() {
    let ctx = chain_with_events(3, 1, 1000);
    let cases = [
        (json!({}), -32602, "startLedger must be positive"),
        (
            json!({ "startLedger": 1, "pagination": { "limit": 10001 } }),
            -32602,
            "limit must not exceed 10000",
        ),
        (
            json!({ "startLedger": 1, "pagination": { "cursor": "0000000008589934592-0000000000" } }),
            -32602,
            "ledger ranges and cursor cannot both be set",
        ),
        (
            json!({ "startLedger": 1, "filters": [{}, {}, {}, {}, {}, {}] }),
            -32602,
            "maximum 5 filters per request",
        ),
        (
            json!({ "startLedger": 1, "filters": [{ "type": "diagnostic" }] }),
            -32602,
            "filter 1 invalid",
        ),
        (
            json!({ "startLedger": 1, "filters": [{ "contractIds": ["GBAD"] }] }),
            -32602,
            "contract ID 1 invalid",
        ),
        (
            json!({ "startLedger": 1, "filters": [{ "topics": [["**", "*"]] }] }),
            -32602,
            "'**' is only allowed as the last segment",
        ),
        (
            json!({ "startLedger": 99 }),
            -32600,
            "startLedger must be within the ledger range: 1 - 3",
        ),
    ];
    for (params, code, needle) in cases {
        let (got_code, message) =
            rpc(&ctx, "getEvents", params.clone()).expect_err(&params.to_string());
        assert_eq!(got_code, code, "{params}: {message}");
        assert!(message.contains(needle), "{params}: {message}");
    }
}

#[test]
fn one_get_events_call_scans_at_most_10000_ledgers() {
    let mut chain = new_chain(20_000);
    for l in 2..=10_500u32 {
        chain.close_ledger(1_700_000_000 + l as u64);
    }
    let e = synthetic_event(&mut chain, 10_400, 1, 0, [1; 32], "late");
    chain.events.push_back(e);
    let ctx = ctx(chain);
    let first = rpc(&ctx, "getEvents", json!({ "startLedger": 1 })).unwrap();
    assert_eq!(first["events"].as_array().unwrap().len(), 0);
    assert_eq!(
        first["cursor"],
        util::Cursor::max_for_ledger(10_000).to_id()
    );
    let next = rpc(
        &ctx,
        "getEvents",
        json!({ "pagination": { "cursor": first["cursor"] } }),
    )
    .unwrap();
    assert_eq!(next["events"].as_array().unwrap().len(), 1);
    assert_eq!(next["events"][0]["id"], util::event_id(10_400, 1, 0, 0));
}

#[test]
fn retention_drops_old_ledgers_and_out_of_range_requests_fail() {
    let mut chain = new_chain(5);
    let k = key(4);
    fund(&mut chain, &k); // ledger 2 holds the friendbot transaction
    let hash = chain.txs.back().unwrap().hash;
    for l in 3..=10u32 {
        chain.close_ledger(1_700_000_000 + l as u64);
    }
    assert_eq!((chain.oldest().seq, chain.latest().seq), (6, 10));
    assert!(chain.tx(&hash).is_none());
    let ctx = ctx(chain);
    let health = rpc(&ctx, "getHealth", Value::Null).unwrap();
    assert_eq!(health["oldestLedger"], 6);
    assert_eq!(health["ledgerRetentionWindow"], 5);
    let gone = rpc(&ctx, "getTransaction", json!({ "hash": hex::encode(hash) })).unwrap();
    assert_eq!(gone["status"], "NOT_FOUND");
    assert_eq!(gone["oldestLedger"], 6);
    let (code, msg) = rpc(&ctx, "getEvents", json!({ "startLedger": 2 })).unwrap_err();
    assert_eq!(
        (code, msg.as_str()),
        (
            -32600,
            "startLedger must be within the ledger range: 6 - 10"
        )
    );
    let (code, msg) = rpc(&ctx, "getTransactions", json!({ "startLedger": 2 })).unwrap_err();
    assert_eq!(code, -32600);
    assert_eq!(msg, "start ledger must be between the oldest ledger: 6 and the latest ledger: 10 for this rpc instance");
    let (code, _) = rpc(&ctx, "getLedgers", json!({ "startLedger": 11 })).unwrap_err();
    assert_eq!(code, -32600);
    let ledgers = rpc(
        &ctx,
        "getLedgers",
        json!({ "startLedger": 6, "pagination": { "limit": 2 } }),
    )
    .unwrap();
    assert_eq!(ledgers["ledgers"].as_array().unwrap().len(), 2);
    assert_eq!(ledgers["cursor"], "7");
    let more = rpc(
        &ctx,
        "getLedgers",
        json!({ "pagination": { "cursor": "7", "limit": 10 } }),
    )
    .unwrap();
    assert_eq!(more["ledgers"][0]["sequence"], 8);
}

#[test]
fn malformed_input_gets_rpc_errors_not_panics() {
    let ctx = chain_with_events(2, 0, 10);
    assert_eq!(
        rpc(
            &ctx,
            "sendTransaction",
            json!({ "transaction": "not base64!" })
        )
        .unwrap_err()
        .0,
        -32602
    );
    assert_eq!(
        rpc(
            &ctx,
            "sendTransaction",
            json!({ "transaction": "AAAAAgAAAA==" })
        )
        .unwrap_err()
        .0,
        -32602
    );
    assert_eq!(
        rpc(&ctx, "getTransaction", json!({ "hash": "zz" }))
            .unwrap_err()
            .0,
        -32602
    );
    assert_eq!(
        rpc(&ctx, "getLedgerEntries", json!({ "keys": ["AAAA"] }))
            .unwrap_err()
            .0,
        -32602
    );
    assert_eq!(
        rpc(&ctx, "noSuchMethod", Value::Null).unwrap_err().0,
        -32601
    );
    assert_eq!(rpc(&ctx, "getEvents", json!([1, 2])).unwrap_err().0, -32602);
    let sim = rpc(
        &ctx,
        "simulateTransaction",
        json!({ "transaction": "AAAA" }),
    )
    .unwrap();
    assert_eq!(sim["error"], "Could not unmarshal transaction");
}

#[test]
fn state_file_round_trips() {
    let mut chain = new_chain(100);
    let k = key(5);
    fund(&mut chain, &k);
    let e = synthetic_event(&mut chain, 2, 1, 0, [1; 32], "kept");
    chain.events.push_back(e);
    let path = std::env::temp_dir().join(format!("localnet-test-{}.bin", std::process::id()));
    localnet::persist::save(&chain, &path).unwrap();
    let loaded = localnet::persist::load(
        &path,
        &ChainConfig {
            passphrase: PASSPHRASE.into(),
            retention_ledgers: 100,
        },
    )
    .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(loaded.latest().hash, chain.latest().hash);
    assert_eq!(loaded.entries.len(), chain.entries.len());
    assert_eq!(loaded.events.len(), 1);
    assert!(loaded.tx(&chain.txs.back().unwrap().hash).is_some());
    assert_eq!(
        loaded.account(&account_id_of(&k.verifying_key())),
        chain.account(&account_id_of(&k.verifying_key()))
    );
    assert!(localnet::persist::load(
        &std::env::temp_dir().join("missing-localnet"),
        &ChainConfig {
            passphrase: "x".into(),
            retention_ledgers: 1
        }
    )
    .is_err());
}

#[test]
fn fee_bumps_are_charged_to_the_fee_source() {
    use soroban_env_host::xdr::{
        FeeBumpTransaction, FeeBumpTransactionEnvelope, FeeBumpTransactionExt,
        FeeBumpTransactionInnerTx,
    };
    let mut chain = new_chain(100);
    let (alice, bob, carol) = (key(6), key(7), key(8));
    for k in [&alice, &bob, &carol] {
        fund(&mut chain, k);
    }
    let balance = |c: &Chain, k: &SigningKey| {
        c.account(&account_id_of(&k.verifying_key()))
            .unwrap()
            .balance
    };
    let inner = envelope(
        tx(&alice, next_seq(&chain, &alice), 100, payment(&bob, 1_000)),
        &[&alice],
        PASSPHRASE,
    );
    let TransactionEnvelope::Tx(inner) = inner else {
        unreachable!()
    };
    let bump = FeeBumpTransaction {
        fee_source: MuxedAccount::Ed25519(Uint256(carol.verifying_key().to_bytes())),
        fee: 400,
        inner_tx: FeeBumpTransactionInnerTx::Tx(inner),
        ext: FeeBumpTransactionExt::V0,
    };
    let outer_hash = bump.hash(util::network_id(PASSPHRASE)).unwrap();
    let env = TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
        tx: bump.clone(),
        signatures: vec![sign(&carol, &outer_hash)].try_into().unwrap(),
    });
    let (alice0, carol0) = (balance(&chain, &alice), balance(&chain, &carol));
    assert_eq!(submit(&mut chain, env), Submit::Pending);
    chain.close_ledger(1_700_000_050);
    let rec = chain
        .tx(&outer_hash)
        .expect("recorded under the outer hash");
    assert!(rec.success && rec.fee_bump);
    let result = TransactionResult::from_xdr(&rec.result[..], Limits::none()).unwrap();
    assert!(matches!(
        result.result,
        TransactionResultResult::TxFeeBumpInnerSuccess(_)
    ));
    assert_eq!(
        balance(&chain, &alice),
        alice0 - 1_000,
        "the inner source pays no fee"
    );
    assert_eq!(
        balance(&chain, &carol),
        carol0 - 200,
        "inclusion fee for the op and the bump"
    );

    // Without the fee source's signature the bump is refused.
    let inner = envelope(
        tx(&alice, next_seq(&chain, &alice), 100, payment(&bob, 1)),
        &[&alice],
        PASSPHRASE,
    );
    let TransactionEnvelope::Tx(inner) = inner else {
        unreachable!()
    };
    let unsigned = TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
        tx: FeeBumpTransaction {
            inner_tx: FeeBumpTransactionInnerTx::Tx(inner),
            ..bump
        },
        signatures: VecM::default(),
    });
    assert_eq!(
        error_code(submit(&mut chain, unsigned)),
        TransactionResultResult::TxBadAuth
    );
}

/// An upload-Wasm transaction from `k` declaring `resource_fee`, signed by `k`.
fn with_resource_fee(k: &SigningKey, seq: i64, fee: u32, resource_fee: i64) -> Transaction {
    use soroban_env_host::xdr::{LedgerFootprint, SorobanResources, SorobanTransactionDataExt};
    let mut t = tx(
        k,
        seq,
        fee,
        OperationBody::InvokeHostFunction(InvokeHostFunctionOp {
            host_function: HostFunction::UploadContractWasm(vec![0u8; 8].try_into().unwrap()),
            auth: VecM::default(),
        }),
    );
    t.ext = TransactionExt::V1(SorobanTransactionData {
        ext: SorobanTransactionDataExt::V0,
        resources: SorobanResources {
            footprint: LedgerFootprint {
                read_only: VecM::default(),
                read_write: VecM::default(),
            },
            instructions: 0,
            disk_read_bytes: 0,
            write_bytes: 0,
        },
        resource_fee,
    });
    t
}

fn send_error_result(ctx: &Ctx, env: &TransactionEnvelope) -> TransactionResultResult {
    let sent = rpc(
        ctx,
        "sendTransaction",
        json!({ "transaction": b64(&xdr_bytes(env)) }),
    )
    .expect("an RPC result, not an error");
    assert_eq!(sent["status"], "ERROR", "{sent}");
    TransactionResult::from_xdr(
        unb64(sent["errorResultXdr"].as_str().unwrap()).unwrap(),
        Limits::none(),
    )
    .unwrap()
    .result
}

#[test]
fn out_of_range_resource_fees_are_malformed_and_the_chain_keeps_serving() {
    use soroban_env_host::xdr::{
        FeeBumpTransaction, FeeBumpTransactionEnvelope, FeeBumpTransactionExt,
        FeeBumpTransactionInnerTx,
    };
    let mut chain = new_chain(100);
    let (k, bob) = (key(11), key(12));
    fund(&mut chain, &k);
    fund(&mut chain, &bob);
    let seq = next_seq(&chain, &k);
    let ctx = ctx(chain);
    // Core's XDRProvidesValidFee: 0 ≤ resourceFee ≤ 2^50, else txMALFORMED; the sums near
    // i64::MAX used to overflow (a panic under the chain's write lock) before any signature check.
    for resource_fee in [i64::MAX - 50, i64::MAX, (1 << 50) + 1, -1, i64::MIN] {
        let env = envelope(
            with_resource_fee(&k, seq, u32::MAX, resource_fee),
            &[],
            PASSPHRASE,
        );
        assert_eq!(
            send_error_result(&ctx, &env),
            TransactionResultResult::TxMalformed,
            "resource fee {resource_fee}"
        );
    }
    let TransactionEnvelope::Tx(inner) = envelope(
        with_resource_fee(&k, seq, 0, i64::MAX - 150),
        &[&k],
        PASSPHRASE,
    ) else {
        unreachable!()
    };
    let bump = TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
        tx: FeeBumpTransaction {
            fee_source: MuxedAccount::Ed25519(Uint256(bob.verifying_key().to_bytes())),
            fee: i64::MAX,
            inner_tx: FeeBumpTransactionInnerTx::Tx(inner),
            ext: FeeBumpTransactionExt::V0,
        },
        signatures: VecM::default(),
    });
    match send_error_result(&ctx, &bump) {
        TransactionResultResult::TxFeeBumpInnerFailed(pair) => assert_eq!(
            pair.result.result,
            soroban_env_host::xdr::InnerTransactionResultResult::TxMalformed
        ),
        other => panic!("expected txFEE_BUMP_INNER_FAILED, got {other:?}"),
    }
    // The largest fee core accepts is checked, not refused for its size: here it cannot be paid.
    let env = envelope(
        with_resource_fee(&k, seq, u32::MAX, 1 << 50),
        &[&k],
        PASSPHRASE,
    );
    assert_eq!(
        send_error_result(&ctx, &env),
        TransactionResultResult::TxInsufficientFee
    );
    let health = rpc(&ctx, "getHealth", Value::Null).unwrap();
    assert_eq!(health["status"], "healthy");
    let pay = envelope(tx(&k, seq, 100, payment(&bob, 5)), &[&k], PASSPHRASE);
    let sent = rpc(
        &ctx,
        "sendTransaction",
        json!({ "transaction": b64(&xdr_bytes(&pay)) }),
    )
    .unwrap();
    assert_eq!(sent["status"], "PENDING", "{sent}");
    let before = health["latestLedger"].as_u64().unwrap();
    localnet::rpc::write_chain(&ctx.chain).close_ledger(1_700_000_200);
    let got = rpc(&ctx, "getTransaction", json!({ "hash": sent["hash"] })).unwrap();
    assert_eq!(got["status"], "SUCCESS", "{got}");
    assert_eq!(got["ledger"].as_u64(), Some(before + 1));
}

#[test]
fn a_request_that_panics_under_the_lock_does_not_take_the_chain_down() {
    let ctx = chain_with_events(2, 0, 10);
    let chain = ctx.chain.clone();
    let crashed = std::thread::spawn(move || {
        let _guard = chain.write().unwrap();
        panic!("a handler bug while holding the write lock");
    })
    .join();
    assert!(crashed.is_err() && ctx.chain.is_poisoned());
    let before = rpc(&ctx, "getHealth", Value::Null).unwrap();
    assert_eq!(before["status"], "healthy");
    let seq = localnet::rpc::write_chain(&ctx.chain).close_ledger(1_800_000_000);
    let after = rpc(&ctx, "getLatestLedger", Value::Null).unwrap();
    assert_eq!(after["sequence"].as_u64(), Some(seq as u64));
    assert_eq!(seq as u64, before["latestLedger"].as_u64().unwrap() + 1);
}

#[test]
fn cursors_at_the_edge_of_their_range_are_invalid_params() {
    let ctx = chain_with_events(3, 0, 10);
    for (method, cursor) in [
        ("getLedgers", "4294967295"),
        ("getLedgers", "-1"),
        ("getTransactions", "-1"),
        ("getTransactions", "-9223372036854775808"),
        ("getEvents", "-1"),
    ] {
        let got = rpc(
            &ctx,
            method,
            json!({ "pagination": { "cursor": cursor, "limit": 1 } }),
        );
        assert_eq!(
            got.as_ref().map_err(|e| e.0),
            Err(-32602),
            "{method} cursor {cursor}: {got:?}"
        );
    }
    // The largest valid ledger cursor still pages (to nothing) instead of failing.
    let page = rpc(
        &ctx,
        "getLedgers",
        json!({ "pagination": { "cursor": "4294967294", "limit": 1 } }),
    )
    .unwrap();
    assert_eq!(page["ledgers"].as_array().map(Vec::len), Some(0));
}
