//! JSON-RPC methods in the shapes of Stellar RPC (see shared/reference/stellar-rpc.openrpc.json).

use std::rc::Rc;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{json, Map, Value};
use soroban_env_host::e2e_invoke::RecordingInvocationAuthMode;
use soroban_env_host::xdr::{
    ContractEventBody, DiagnosticEvent, LedgerKey, Limits, OperationBody, ReadXdr, ScVal,
    TransactionEnvelope, TransactionExt, TransactionMeta,
};
use soroban_simulation::simulation::{
    simulate_extend_ttl_op, simulate_invoke_host_function_op, simulate_restore_op,
    SimulationAdjustmentConfig, SimulationAdjustmentFactor,
};

use crate::chain::{muxed_to_account, view, Chain, Submit, PROTOCOL_VERSION};
use crate::util::{self, b64, contract_strkey, rfc3339, unb64, xdr_bytes, Cursor};

pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
pub const PARSE_ERROR: i64 = -32700;

pub const LEDGER_SCAN_LIMIT: u32 = 10_000;
pub const MAX_EVENTS_LIMIT: u64 = 10_000;
pub const DEFAULT_EVENTS_LIMIT: u64 = 100;
pub const MAX_TXS_LIMIT: u64 = 200;
pub const DEFAULT_TXS_LIMIT: u64 = 50;
pub const MAX_LEDGERS_LIMIT: u64 = 200;
pub const DEFAULT_LEDGERS_LIMIT: u64 = 50;
pub const MAX_LEDGER_ENTRY_KEYS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

pub fn err(code: i64, message: impl Into<String>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
    }
}

pub type Shared = Arc<RwLock<Chain>>;
pub type RpcResult = Result<Value, RpcError>;

/// Locks the chain for reading. A handler that panicked while holding the lock (the server
/// catches it) poisons it; taking the guard anyway keeps one bad request from failing every
/// later one and stopping the ledger thread.
pub fn read_chain(chain: &Shared) -> RwLockReadGuard<'_, Chain> {
    chain.read().unwrap_or_else(|e| e.into_inner())
}

/// Locks the chain for writing; survives poisoning like `read_chain`.
pub fn write_chain(chain: &Shared) -> RwLockWriteGuard<'_, Chain> {
    chain.write().unwrap_or_else(|e| e.into_inner())
}

pub struct Ctx {
    pub chain: Shared,
    pub friendbot_url: String,
}

fn params_obj(params: &Value) -> Result<Map<String, Value>, RpcError> {
    match params {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m.clone()),
        _ => Err(err(
            INVALID_PARAMS,
            "invalid parameters: params must be an object",
        )),
    }
}

fn get_u64(m: &Map<String, Value>, name: &str) -> Result<Option<u64>, RpcError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
            err(
                INVALID_PARAMS,
                format!("invalid parameters: {name} must be a non-negative integer"),
            )
        }),
        Some(Value::String(s)) => s.parse::<u64>().map(Some).map_err(|_| {
            err(
                INVALID_PARAMS,
                format!("invalid parameters: {name} must be a non-negative integer"),
            )
        }),
        _ => Err(err(
            INVALID_PARAMS,
            format!("invalid parameters: {name} must be a non-negative integer"),
        )),
    }
}

fn get_str<'a>(m: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, RpcError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        _ => Err(err(
            INVALID_PARAMS,
            format!("invalid parameters: {name} must be a string"),
        )),
    }
}

fn check_format(m: &Map<String, Value>) -> Result<(), RpcError> {
    match get_str(m, "xdrFormat")? {
        None | Some("") | Some("base64") => Ok(()),
        Some("json") => Err(err(
            INVALID_PARAMS,
            "xdrFormat \"json\" is not supported by the local chain",
        )),
        Some(other) => Err(err(
            INVALID_PARAMS,
            format!("expected 'base64' or 'json' for 'xdrFormat', got '{other}'"),
        )),
    }
}

fn range_fields(c: &Chain) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("latestLedger".into(), json!(c.latest().seq));
    m.insert(
        "latestLedgerCloseTime".into(),
        json!(c.latest().close_time.to_string()),
    );
    m.insert("oldestLedger".into(), json!(c.oldest().seq));
    m.insert(
        "oldestLedgerCloseTime".into(),
        json!(c.oldest().close_time.to_string()),
    );
    m
}

/// Like `dispatch`, but returns the result as JSON text; getEvents writes its (large) pages
/// directly.
pub fn dispatch_json(ctx: &Ctx, method: &str, params: &Value) -> Result<String, RpcError> {
    match method {
        "getEvents" => get_events(ctx, &params_obj(params)?),
        _ => dispatch(ctx, method, params).map(|v| v.to_string()),
    }
}

/// Dispatches one method; blocking work (simulation) runs on the caller's thread.
pub fn dispatch(ctx: &Ctx, method: &str, params: &Value) -> RpcResult {
    match method {
        "getHealth" => {
            let c = read_chain(&ctx.chain);
            Ok(json!({
                "status": "healthy",
                "latestLedger": c.latest().seq,
                "oldestLedger": c.oldest().seq,
                "ledgerRetentionWindow": c.retention_ledgers,
                "latestLedgerCloseTime": c.latest().close_time.to_string(),
                "oldestLedgerCloseTime": c.oldest().close_time.to_string(),
            }))
        }
        "getNetwork" => {
            let c = read_chain(&ctx.chain);
            Ok(json!({
                "friendbotUrl": ctx.friendbot_url,
                "passphrase": c.passphrase,
                "protocolVersion": PROTOCOL_VERSION,
            }))
        }
        "getVersionInfo" => Ok(json!({
            "version": concat!("localnet-", env!("CARGO_PKG_VERSION")),
            "commitHash": "",
            "buildTimestamp": "",
            "captiveCoreVersion": "none (soroban-env-host 28.0.2 embedded)",
            "protocolVersion": PROTOCOL_VERSION,
        })),
        "getLatestLedger" => {
            let c = read_chain(&ctx.chain);
            let l = c.latest();
            Ok(json!({
                "id": hex::encode(l.hash),
                "sequence": l.seq,
                "protocolVersion": PROTOCOL_VERSION,
                "closeTime": l.close_time.to_string(),
                "headerXdr": b64(&xdr_bytes(&l.header)),
                "metadataXdr": b64(&xdr_bytes(&c.close_meta(l))),
            }))
        }
        "getFeeStats" => {
            let c = read_chain(&ctx.chain);
            let dist = |count: usize| {
                json!({
                    "max": "100", "min": "100", "mode": "100",
                    "p10": "100", "p20": "100", "p30": "100", "p40": "100", "p50": "100",
                    "p60": "100", "p70": "100", "p80": "100", "p90": "100", "p95": "100", "p99": "100",
                    "transactionCount": count.to_string(),
                    "ledgerCount": 50,
                })
            };
            Ok(json!({
                "sorobanInclusionFee": dist(0),
                "inclusionFee": dist(0),
                "latestLedger": c.latest().seq,
            }))
        }
        "getLedgerEntries" => get_ledger_entries(ctx, &params_obj(params)?),
        "getTransaction" => get_transaction(ctx, &params_obj(params)?),
        "getTransactions" => get_transactions(ctx, &params_obj(params)?),
        "getLedgers" => get_ledgers(ctx, &params_obj(params)?),
        "getEvents" => get_events(ctx, &params_obj(params)?)
            .map(|text| serde_json::from_str(&text).expect("getEvents writes valid JSON")),
        "sendTransaction" => send_transaction(ctx, &params_obj(params)?),
        "simulateTransaction" => simulate_transaction(ctx, &params_obj(params)?),
        _ => Err(err(METHOD_NOT_FOUND, format!("method not found: {method}"))),
    }
}

fn get_ledger_entries(ctx: &Ctx, m: &Map<String, Value>) -> RpcResult {
    check_format(m)?;
    let keys = match m.get("keys") {
        Some(Value::Array(a)) => a,
        _ => {
            return Err(err(
                INVALID_PARAMS,
                "invalid parameters: keys must be an array of base64 LedgerKey XDR",
            ))
        }
    };
    if keys.len() > MAX_LEDGER_ENTRY_KEYS {
        return Err(err(
            INVALID_PARAMS,
            format!(
                "key count ({}) exceeds maximum supported ({})",
                keys.len(),
                MAX_LEDGER_ENTRY_KEYS
            ),
        ));
    }
    let mut parsed = Vec::with_capacity(keys.len());
    for k in keys {
        let key = k
            .as_str()
            .and_then(unb64)
            .and_then(|b| LedgerKey::from_xdr(&b[..], Limits::len(1 << 16)).ok())
            .ok_or_else(|| err(INVALID_PARAMS, format!("cannot unmarshal key value {k}")))?;
        if matches!(key, LedgerKey::Ttl(_)) {
            return Err(err(INVALID_PARAMS, "ledger entry type cannot be TTL"));
        }
        parsed.push((k.as_str().unwrap_or_default().to_string(), key));
    }
    let c = read_chain(&ctx.chain);
    let latest = c.latest().seq;
    let mut out = Vec::new();
    for (raw, key) in parsed {
        let Some(se) = c.entries.get(&key) else {
            continue;
        };
        let mut e = json!({
            "key": raw,
            "xdr": b64(&xdr_bytes(&se.entry.data)),
            "lastModifiedLedgerSeq": se.entry.last_modified_ledger_seq,
        });
        if let Some(lu) = se.live_until {
            let temporary = matches!(&key, LedgerKey::ContractData(k) if k.durability == soroban_env_host::xdr::ContractDataDurability::Temporary);
            if lu < latest {
                if temporary {
                    continue;
                }
                e["liveUntilLedgerSeq"] = json!(0);
            } else {
                e["liveUntilLedgerSeq"] = json!(lu);
            }
        }
        out.push(e);
    }
    Ok(json!({ "entries": out, "latestLedger": latest }))
}

fn parse_hash(m: &Map<String, Value>) -> Result<[u8; 32], RpcError> {
    let h = get_str(m, "hash")?
        .ok_or_else(|| err(INVALID_PARAMS, "invalid parameters: hash is required"))?;
    if h.len() != 64 {
        return Err(err(
            INVALID_PARAMS,
            format!("unexpected hash length ({})", h.len()),
        ));
    }
    let bytes = hex::decode(h).map_err(|e| err(INVALID_PARAMS, format!("incorrect hash: {e}")))?;
    Ok(bytes.try_into().expect("32 bytes"))
}

/// Fields shared by getTransaction and getTransactions for one applied transaction.
fn tx_info(c: &Chain, t: &crate::chain::TxRecord, into: &mut Map<String, Value>) {
    let close_time = c.ledger(t.ledger).map(|l| l.close_time).unwrap_or(0);
    let meta = c.full_meta(t);
    let n_ops = TransactionEnvelope::from_xdr(&t.envelope[..], Limits::none())
        .ok()
        .and_then(|e| view(&e, c.network_id).map(|v| v.tx.operations.len()))
        .unwrap_or(0);
    let per_op = c.tx_events(t, n_ops);
    let diagnostics: Vec<Value> = match &meta {
        TransactionMeta::V4(m) => m
            .diagnostic_events
            .iter()
            .map(|d| json!(b64(&xdr_bytes(d))))
            .collect(),
        _ => Vec::new(),
    };
    let tx_events: Vec<Value> = match &meta {
        TransactionMeta::V4(m) => m.events.iter().map(|e| json!(b64(&xdr_bytes(e)))).collect(),
        _ => Vec::new(),
    };
    into.insert(
        "status".into(),
        json!(if t.success { "SUCCESS" } else { "FAILED" }),
    );
    into.insert("txHash".into(), json!(hex::encode(t.hash)));
    into.insert("applicationOrder".into(), json!(t.order));
    into.insert("feeBump".into(), json!(t.fee_bump));
    into.insert("envelopeXdr".into(), json!(b64(&t.envelope)));
    into.insert("resultXdr".into(), json!(b64(&t.result)));
    into.insert("resultMetaXdr".into(), json!(b64(&xdr_bytes(&meta))));
    into.insert("ledger".into(), json!(t.ledger));
    into.insert("diagnosticEventsXdr".into(), json!(diagnostics));
    into.insert(
        "events".into(),
        json!({
            "transactionEventsXdr": tx_events,
            "contractEventsXdr": per_op.iter().map(|evs| evs.iter().map(|e| b64(&xdr_bytes(e))).collect::<Vec<_>>()).collect::<Vec<_>>(),
        }),
    );
    into.insert("createdAt".into(), json!(close_time.to_string()));
}

fn get_transaction(ctx: &Ctx, m: &Map<String, Value>) -> RpcResult {
    check_format(m)?;
    let hash = parse_hash(m)?;
    let c = read_chain(&ctx.chain);
    let mut out = range_fields(&c);
    match c.tx(&hash) {
        Some(t) => tx_info(&c, t, &mut out),
        None => {
            out.insert("status".into(), json!("NOT_FOUND"));
            out.insert("txHash".into(), json!(hex::encode(hash)));
        }
    }
    Ok(Value::Object(out))
}

fn pagination(m: &Map<String, Value>) -> Result<(Option<String>, Option<u64>), RpcError> {
    match m.get("pagination") {
        None | Some(Value::Null) => Ok((None, None)),
        Some(Value::Object(p)) => {
            let cursor = match p.get("cursor") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => {
                    return Err(err(
                        INVALID_PARAMS,
                        "invalid parameters: pagination.cursor must be a string",
                    ))
                }
            };
            Ok((cursor, get_u64(p, "limit")?.filter(|l| *l > 0)))
        }
        _ => Err(err(
            INVALID_PARAMS,
            "invalid parameters: pagination must be an object",
        )),
    }
}

fn out_of_range(c: &Chain) -> RpcError {
    err(
        INVALID_REQUEST,
        format!(
            "start ledger must be between the oldest ledger: {} and the latest ledger: {} for this rpc instance",
            c.oldest().seq,
            c.latest().seq
        ),
    )
}

fn get_transactions(ctx: &Ctx, m: &Map<String, Value>) -> RpcResult {
    check_format(m)?;
    let start_ledger = get_u64(m, "startLedger")?.unwrap_or(0);
    let (cursor, limit) = pagination(m)?;
    let c = read_chain(&ctx.chain);
    if cursor.is_some() {
        if start_ledger != 0 {
            return Err(err(
                INVALID_REQUEST,
                "startLedger and cursor cannot both be set",
            ));
        }
    } else if start_ledger < c.oldest().seq as u64 || start_ledger > c.latest().seq as u64 {
        return Err(out_of_range(&c));
    }
    if limit.is_some_and(|l| l > MAX_TXS_LIMIT) {
        return Err(err(
            INVALID_REQUEST,
            format!("limit must not exceed {MAX_TXS_LIMIT}"),
        ));
    }
    let limit = limit.unwrap_or(DEFAULT_TXS_LIMIT) as usize;
    // Start position: (ledger, application order), 1-based order.
    let (mut ledger, mut order) = match &cursor {
        Some(s) => {
            let id: i64 = s
                .parse()
                .map_err(|e: std::num::ParseIntError| err(INVALID_PARAMS, e.to_string()))?;
            if id < 0 {
                return Err(err(INVALID_PARAMS, format!("invalid cursor: {s}")));
            }
            ((id >> 32) as u32, (((id >> 12) & 0xF_FFFF) as u32) + 1)
        }
        None => (start_ledger as u32, 1),
    };
    if ledger < c.oldest().seq {
        return Err(out_of_range(&c));
    }
    let mut txs = Vec::new();
    let mut last = (ledger, 0u32);
    'outer: while ledger <= c.latest().seq {
        let Some(rec) = c.ledger(ledger) else { break };
        for i in (order.max(1) - 1)..rec.tx_count {
            let Some(t) = c.tx_at(rec.tx_first + i as u64) else {
                continue;
            };
            let mut info = Map::new();
            tx_info(&c, t, &mut info);
            info.insert("createdAt".into(), json!(rec.close_time));
            txs.push(Value::Object(info));
            last = (ledger, t.order);
            if txs.len() >= limit {
                break 'outer;
            }
        }
        last = (ledger, rec.tx_count.max(order.saturating_sub(1)));
        ledger += 1;
        order = 1;
    }
    let mut out = range_fields(&c);
    // getTransactions names its close times `…Timestamp` and sends them as numbers.
    out.remove("latestLedgerCloseTime");
    out.remove("oldestLedgerCloseTime");
    out.insert(
        "latestLedgerCloseTimestamp".into(),
        json!(c.latest().close_time),
    );
    out.insert(
        "oldestLedgerCloseTimestamp".into(),
        json!(c.oldest().close_time),
    );
    out.insert("transactions".into(), json!(txs));
    out.insert(
        "cursor".into(),
        json!(util::toid(last.0, last.1, 1).to_string()),
    );
    Ok(Value::Object(out))
}

fn get_ledgers(ctx: &Ctx, m: &Map<String, Value>) -> RpcResult {
    check_format(m)?;
    let start_ledger = get_u64(m, "startLedger")?.unwrap_or(0);
    let (cursor, limit) = pagination(m)?;
    let c = read_chain(&ctx.chain);
    if cursor.is_some() {
        if start_ledger != 0 {
            return Err(err(
                INVALID_REQUEST,
                "startLedger and cursor cannot both be set",
            ));
        }
    } else if start_ledger < c.oldest().seq as u64 || start_ledger > c.latest().seq as u64 {
        return Err(out_of_range(&c));
    }
    if limit.is_some_and(|l| l > MAX_LEDGERS_LIMIT) {
        return Err(err(
            INVALID_REQUEST,
            format!("limit must not exceed {MAX_LEDGERS_LIMIT}"),
        ));
    }
    let limit = limit.unwrap_or(DEFAULT_LEDGERS_LIMIT) as u32;
    let start = match &cursor {
        // The cursor is the last ledger returned; the last possible ledger has no successor.
        Some(s) => s
            .parse::<u32>()
            .ok()
            .and_then(|last| last.checked_add(1))
            .ok_or_else(|| err(INVALID_PARAMS, format!("invalid cursor: {s}")))?,
        None => start_ledger as u32,
    };
    if start < c.oldest().seq {
        return Err(out_of_range(&c));
    }
    let mut ledgers = Vec::new();
    let mut last = start.saturating_sub(1);
    let mut seq = start;
    while seq <= c.latest().seq && (ledgers.len() as u32) < limit {
        let Some(l) = c.ledger(seq) else { break };
        let header = soroban_env_host::xdr::LedgerHeaderHistoryEntry {
            hash: soroban_env_host::xdr::Hash(l.hash),
            header: l.header.clone(),
            ext: soroban_env_host::xdr::LedgerHeaderHistoryEntryExt::V0,
        };
        ledgers.push(json!({
            "hash": hex::encode(l.hash),
            "sequence": l.seq,
            "ledgerCloseTime": l.close_time.to_string(),
            "headerXdr": b64(&xdr_bytes(&header)),
            "metadataXdr": b64(&xdr_bytes(&c.close_meta(l))),
        }));
        last = seq;
        seq += 1;
    }
    let mut out = range_fields(&c);
    // getLedgers sends its range close times as numbers.
    out.insert("latestLedgerCloseTime".into(), json!(c.latest().close_time));
    out.insert("oldestLedgerCloseTime".into(), json!(c.oldest().close_time));
    out.insert("ledgers".into(), json!(ledgers));
    out.insert("cursor".into(), json!(last.to_string()));
    Ok(Value::Object(out))
}

/// One parsed getEvents filter.
struct Filter {
    types: Vec<bool>, // [contract, system]; empty = any
    contracts: Vec<[u8; 32]>,
    topics: Vec<Vec<Segment>>,
}

enum Segment {
    Any,
    Rest,
    Exact(ScVal),
}

fn parse_filters(m: &Map<String, Value>) -> Result<Vec<Filter>, RpcError> {
    let list = match m.get("filters") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        _ => {
            return Err(err(
                INVALID_PARAMS,
                "invalid parameters: filters must be an array",
            ))
        }
    };
    if list.len() > 5 {
        return Err(err(INVALID_PARAMS, "maximum 5 filters per request"));
    }
    let mut out = Vec::new();
    for (fi, f) in list.iter().enumerate() {
        let n = fi + 1;
        let Value::Object(f) = f else {
            return Err(err(
                INVALID_PARAMS,
                format!("filter {n} invalid: must be an object"),
            ));
        };
        let mut types = Vec::new();
        if let Some(t) = get_str(f, "type")? {
            for part in t.split(',').filter(|p| !p.is_empty()) {
                match part {
                    "contract" => types.push(true),
                    "system" => types.push(false),
                    _ => {
                        return Err(err(INVALID_PARAMS, format!("filter {n} invalid: filter type invalid: if set, type must be either 'system' or 'contract'")))
                    }
                }
            }
        }
        let ids = match f.get("contractIds") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(err(
                    INVALID_PARAMS,
                    format!("filter {n} invalid: contractIds must be an array"),
                ))
            }
        };
        if ids.len() > 5 {
            return Err(err(
                INVALID_PARAMS,
                format!("filter {n} invalid: maximum 5 contract IDs per filter"),
            ));
        }
        let mut contracts = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let c = id.as_str().and_then(util::parse_contract).ok_or_else(|| {
                err(
                    INVALID_PARAMS,
                    format!("filter {n} invalid: contract ID {} invalid", i + 1),
                )
            })?;
            contracts.push(c);
        }
        let topics_raw = match f.get("topics") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(err(
                    INVALID_PARAMS,
                    format!("filter {n} invalid: topics must be an array"),
                ))
            }
        };
        if topics_raw.len() > 5 {
            return Err(err(
                INVALID_PARAMS,
                format!("filter {n} invalid: maximum 5 topics per filter"),
            ));
        }
        let mut topics = Vec::new();
        for (ti, t) in topics_raw.iter().enumerate() {
            let tn = ti + 1;
            let Value::Array(segs) = t else {
                return Err(err(
                    INVALID_PARAMS,
                    format!("filter {n} invalid: topic {tn} invalid: must be an array"),
                ));
            };
            if segs.is_empty() {
                return Err(err(INVALID_PARAMS, format!("filter {n} invalid: topic {tn} invalid: topic must have at least 1 segment")));
            }
            let mut parsed = Vec::new();
            for (si, s) in segs.iter().enumerate() {
                let Some(s) = s.as_str() else {
                    return Err(err(
                        INVALID_PARAMS,
                        format!(
                            "filter {n} invalid: topic {tn} invalid: segment {} invalid",
                            si + 1
                        ),
                    ));
                };
                parsed.push(match s {
                    "*" => Segment::Any,
                    "**" => Segment::Rest,
                    _ => Segment::Exact(
                        unb64(s)
                            .and_then(|b| ScVal::from_xdr(&b[..], Limits::len(1 << 16)).ok())
                            .ok_or_else(|| err(INVALID_PARAMS, format!("filter {n} invalid: topic {tn} invalid: segment {} invalid", si + 1)))?,
                    ),
                });
            }
            let body_len = if matches!(parsed.last(), Some(Segment::Rest)) {
                parsed.len() - 1
            } else {
                parsed.len()
            };
            if parsed[..body_len]
                .iter()
                .any(|s| matches!(s, Segment::Rest))
            {
                let pos = parsed
                    .iter()
                    .position(|s| matches!(s, Segment::Rest))
                    .unwrap_or(0)
                    + 1;
                return Err(err(INVALID_PARAMS, format!("filter {n} invalid: topic {tn} invalid: segment {pos} invalid: wildcard '**' is only allowed as the last segment")));
            }
            if body_len > 4 {
                return Err(err(INVALID_PARAMS, format!("filter {n} invalid: topic {tn} invalid: topic cannot have more than 4 segments")));
            }
            topics.push(parsed);
        }
        out.push(Filter {
            types,
            contracts,
            topics,
        });
    }
    Ok(out)
}

fn topic_matches(filter: &[Segment], topics: &[ScVal]) -> bool {
    let body = match filter.last() {
        Some(Segment::Rest) => {
            if topics.len() < filter.len() - 1 {
                return false;
            }
            &filter[..filter.len() - 1]
        }
        _ => {
            if topics.len() != filter.len() {
                return false;
            }
            filter
        }
    };
    body.iter().zip(topics).all(|(s, t)| match s {
        Segment::Any | Segment::Rest => true,
        Segment::Exact(v) => v == t,
    })
}

fn event_matches(
    filters: &[Filter],
    e: &crate::chain::EventRecord,
    contract: Option<[u8; 32]>,
    decoded: &mut Option<soroban_env_host::xdr::ContractEvent>,
) -> bool {
    if filters.is_empty() {
        return true;
    }
    for f in filters {
        if !f.types.is_empty() && !f.types.contains(&!e.system) {
            continue;
        }
        if !f.contracts.is_empty() && !contract.is_some_and(|c| f.contracts.contains(&c)) {
            continue;
        }
        if f.topics.is_empty() {
            return true;
        }
        let ev = decoded.get_or_insert_with(|| e.decode());
        let ContractEventBody::V0(body) = &ev.body;
        if f.topics.iter().any(|t| topic_matches(t, &body.topics)) {
            return true;
        }
    }
    false
}

/// getEvents, answered as a JSON text (see `dispatch_json`).
pub fn get_events(ctx: &Ctx, m: &Map<String, Value>) -> Result<String, RpcError> {
    check_format(m)?;
    let (cursor_raw, limit) = pagination(m)?;
    let start_ledger = get_u64(m, "startLedger")?.unwrap_or(0);
    let end_ledger = get_u64(m, "endLedger")?.unwrap_or(0);
    let cursor = match &cursor_raw {
        Some(s) => Some(
            Cursor::parse(s).ok_or_else(|| err(INVALID_PARAMS, format!("invalid cursor: {s}")))?,
        ),
        None => None,
    };
    if cursor.is_some() {
        if start_ledger != 0 || end_ledger != 0 {
            return Err(err(
                INVALID_PARAMS,
                "ledger ranges and cursor cannot both be set",
            ));
        }
    } else if start_ledger == 0 {
        return Err(err(INVALID_PARAMS, "startLedger must be positive"));
    }
    if limit.is_some_and(|l| l > MAX_EVENTS_LIMIT) {
        return Err(err(
            INVALID_PARAMS,
            format!("limit must not exceed {MAX_EVENTS_LIMIT}"),
        ));
    }
    let filters = parse_filters(m)?;
    let limit = limit.unwrap_or(DEFAULT_EVENTS_LIMIT) as usize;

    let c = read_chain(&ctx.chain);
    let start = match cursor {
        Some(mut cur) => {
            cur.event = cur.event.wrapping_add(1);
            if cur.event == 0 {
                // The event index overflowed: resume at the next TOID.
                cur.op += 1;
            }
            cur
        }
        None => Cursor {
            ledger: start_ledger.min(u32::MAX as u64) as u32,
            tx: 0,
            op: 0,
            event: 0,
        },
    };
    let latest = c.latest().seq;
    let oldest = c.oldest().seq;
    let mut end = start
        .ledger
        .saturating_add(LEDGER_SCAN_LIMIT)
        .min(latest + 1);
    if end_ledger != 0 {
        end = end.min(end_ledger.min(u32::MAX as u64) as u32);
    }
    if start.ledger < oldest || start.ledger > latest {
        return Err(err(
            INVALID_REQUEST,
            format!("startLedger must be within the ledger range: {oldest} - {latest}"),
        ));
    }
    let end_cursor = Cursor {
        ledger: end,
        tx: 0,
        op: 0,
        event: 0,
    };
    let mut pos = c.event_position(start);
    // Written straight to JSON: every field is digits, base64, hex, a strkey or RFC 3339, so
    // nothing needs escaping, and a 10 000-event page costs no intermediate values.
    let mut out = String::with_capacity(256 + limit.min(1000) * 400);
    out.push_str("{\"events\":[");
    let mut count = 0usize;
    let mut last_id = String::new();
    // Consecutive events mostly share a transaction and a contract: format those once.
    let mut last_tx: ((u32, u32), String, String) = ((0, 0), String::new(), String::new());
    let mut last_contract: (u32, String) = (0, String::new());
    while pos < c.events.len() && count < limit {
        let e = &c.events[pos];
        pos += 1;
        if e.cursor() >= end_cursor {
            break;
        }
        let mut decoded = None;
        let contract = c.contract_of(e);
        if !event_matches(&filters, e, contract, &mut decoded) {
            continue;
        }
        if last_tx.0 != (e.ledger, e.tx) {
            let ledger = c.ledger(e.ledger);
            let closed_at = rfc3339(ledger.map(|l| l.close_time).unwrap_or(0));
            let tx_hash = ledger
                .and_then(|l| c.tx_at(l.tx_first + (e.tx as u64).saturating_sub(1)))
                .map(|t| hex::encode(t.hash))
                .unwrap_or_default();
            last_tx = ((e.ledger, e.tx), closed_at, tx_hash);
        }
        if last_contract.0 != e.contract {
            last_contract = (
                e.contract,
                contract.map(|id| contract_strkey(&id)).unwrap_or_default(),
            );
        }
        if count > 0 {
            out.push(',');
        }
        count += 1;
        last_id = e.cursor().to_id();
        use std::fmt::Write as _;
        let _ = write!(
            out,
            "{{\"type\":\"{}\",\"ledger\":{},\"ledgerClosedAt\":\"{}\",\"contractId\":\"{}\",\"id\":\"{}\",\"operationIndex\":{},\"transactionIndex\":{},\"txHash\":\"{}\",\"inSuccessfulContractCall\":{},\"topic\":[",
            if e.system { "system" } else { "contract" },
            e.ledger,
            last_tx.1,
            last_contract.1,
            last_id,
            e.op,
            e.tx,
            last_tx.2,
            e.successful,
        );
        write_event_body(&e.body, &mut out);
        out.push('}');
    }
    let cursor_out = if count == limit {
        last_id
    } else {
        Cursor::max_for_ledger(end.saturating_sub(1)).to_id()
    };
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "],\"cursor\":\"{}\",\"latestLedger\":{},\"latestLedgerCloseTime\":\"{}\",\"oldestLedger\":{},\"oldestLedgerCloseTime\":\"{}\"}}",
        cursor_out,
        c.latest().seq,
        c.latest().close_time,
        c.oldest().seq,
        c.oldest().close_time
    );
    Ok(out)
}

/// Appends `"b64 topic",…],"value":"b64 data"` for a stored ContractEvent, slicing the
/// stored XDR (what the host produced) instead of re-encoding it.
fn write_event_body(body: &[u8], out: &mut String) {
    use base64::Engine;
    use soroban_env_host::xdr::{ContractEventType, ContractId, ExtensionPoint, Limited};
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut r = Limited::new(std::io::Cursor::new(body), Limits::none());
    let mut value = None;
    let _ = (|| -> Result<(), soroban_env_host::xdr::Error> {
        ExtensionPoint::read_xdr(&mut r)?;
        Option::<ContractId>::read_xdr(&mut r)?;
        ContractEventType::read_xdr(&mut r)?;
        i32::read_xdr(&mut r)?; // body version (V0)
        let n = u32::read_xdr(&mut r)?;
        for i in 0..n {
            let start = r.inner.position() as usize;
            ScVal::read_xdr(&mut r)?;
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            engine.encode_string(&body[start..r.inner.position() as usize], out);
            out.push('"');
        }
        let start = r.inner.position() as usize;
        ScVal::read_xdr(&mut r)?;
        value = Some(&body[start..r.inner.position() as usize]);
        Ok(())
    })();
    out.push_str("],\"value\":\"");
    if let Some(v) = value {
        engine.encode_string(v, out);
    }
    out.push('"');
}

fn decode_envelope(m: &Map<String, Value>) -> Option<(TransactionEnvelope, Vec<u8>)> {
    let raw = m.get("transaction")?.as_str()?;
    let bytes = unb64(raw)?;
    let env = TransactionEnvelope::from_xdr(
        &bytes[..],
        Limits {
            depth: 500,
            len: bytes.len(),
        },
    )
    .ok()?;
    Some((env, bytes))
}

fn send_transaction(ctx: &Ctx, m: &Map<String, Value>) -> RpcResult {
    let Some((env, bytes)) = decode_envelope(m) else {
        return Err(err(INVALID_PARAMS, "invalid_xdr"));
    };
    let mut c = write_chain(&ctx.chain);
    let (hash, outcome) = c.submit(env, bytes, util::now_unix());
    let mut out = Map::new();
    out.insert("hash".into(), json!(hex::encode(hash)));
    out.insert("latestLedger".into(), json!(c.latest().seq));
    out.insert(
        "latestLedgerCloseTime".into(),
        json!(c.latest().close_time.to_string()),
    );
    let status = match outcome {
        Submit::Pending => "PENDING",
        Submit::Duplicate => "DUPLICATE",
        Submit::TryAgainLater => "TRY_AGAIN_LATER",
        Submit::Error(r) => {
            out.insert("errorResultXdr".into(), json!(b64(&xdr_bytes(&r))));
            "ERROR"
        }
    };
    out.insert("status".into(), json!(status));
    Ok(Value::Object(out))
}

/// Reads ledger entries straight from the shared chain, as the simulation needs them.
struct ChainSnapshot(Shared);

impl soroban_env_host::storage::SnapshotSource for ChainSnapshot {
    fn get(
        &self,
        key: &Rc<LedgerKey>,
    ) -> Result<Option<soroban_env_host::storage::EntryWithLiveUntil>, soroban_env_host::HostError>
    {
        let c = read_chain(&self.0);
        Ok(c.entries
            .get(key.as_ref())
            .map(|e| (Rc::new(e.entry.clone()), e.live_until)))
    }
}

fn sim_error(latest: u32, message: impl Into<String>) -> RpcResult {
    Ok(json!({ "error": message.into(), "latestLedger": latest }))
}

fn simulate_transaction(ctx: &Ctx, m: &Map<String, Value>) -> RpcResult {
    check_format(m)?;
    let (latest, time, network, ledger_info) = {
        let c = read_chain(&ctx.chain);
        let l = c.latest();
        (
            l.seq,
            l.close_time,
            c.network.clone(),
            c.ledger_info(l.seq, l.close_time),
        )
    };
    let _ = time;
    let Some((env, _)) = decode_envelope(m) else {
        return sim_error(latest, "Could not unmarshal transaction");
    };
    let network_id = ledger_info.network_id;
    let Some(v) = view(&env, network_id) else {
        return sim_error(latest, "Could not unmarshal transaction");
    };
    if v.tx.operations.len() != 1 {
        return sim_error(
            latest,
            format!(
                "Transaction contains more than one operation ({})",
                v.tx.operations.len()
            ),
        );
    }
    let op = &v.tx.operations[0];
    let source = op
        .source_account
        .as_ref()
        .map(muxed_to_account)
        .unwrap_or_else(|| muxed_to_account(&v.tx.source_account));
    let leeway = m
        .get("resourceConfig")
        .and_then(|r| r.get("instructionLeeway"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut adjustment = SimulationAdjustmentConfig::default_adjustment();
    if leeway > 0 {
        adjustment.instructions =
            SimulationAdjustmentFactor::new(1.0, leeway.min(u32::MAX as u64) as u32);
    }
    let snapshot = Rc::new(ChainSnapshot(ctx.chain.clone()));
    let seed = util::sha256(&xdr_bytes(&env));
    let footprint = match &v.tx.ext {
        TransactionExt::V1(d) => Some(d.resources.footprint.clone()),
        TransactionExt::V0 => None,
    };
    match &op.body {
        OperationBody::InvokeHostFunction(f) => {
            let auth_mode_param = get_str(m, "authMode")?.unwrap_or("");
            let auth_mode = match auth_mode_param {
                "enforce" => RecordingInvocationAuthMode::Enforcing(f.auth.to_vec()),
                "record" => {
                    if !f.auth.is_empty() {
                        return Err(err(
                            INVALID_PARAMS,
                            "authMode 'record' cannot be used with non-empty auth entries",
                        ));
                    }
                    RecordingInvocationAuthMode::recording(true, true)
                }
                "record_allow_nonroot" => RecordingInvocationAuthMode::recording(false, true),
                "" => {
                    if f.auth.is_empty() {
                        RecordingInvocationAuthMode::recording(true, true)
                    } else {
                        RecordingInvocationAuthMode::Enforcing(f.auth.to_vec())
                    }
                }
                other => return Err(err(INVALID_PARAMS, format!("invalid authMode: {other}"))),
            };
            let result = simulate_invoke_host_function_op(
                snapshot,
                &network,
                &adjustment,
                &ledger_info,
                f.host_function.clone(),
                auth_mode,
                &source,
                seed,
                true,
            );
            let r = match result {
                Ok(r) => r,
                Err(e) => return sim_error(latest, format!("{e:?}")),
            };
            let events: Vec<String> = r
                .diagnostic_events
                .iter()
                .map(|d: &DiagnosticEvent| b64(&xdr_bytes(d)))
                .collect();
            let (Ok(value), Some(data)) = (&r.invoke_result, &r.transaction_data) else {
                let message = match &r.invoke_result {
                    Err(e) => format!("HostError: {e:?}"),
                    Ok(_) => "simulation produced no transaction data".to_string(),
                };
                return Ok(json!({ "error": message, "events": events, "latestLedger": latest }));
            };
            // An entry written and removed within the call (a reentrancy guard's flag) changed
            // nothing: Stellar RPC leaves it out, and clients cannot parse it without a key.
            let state_changes: Vec<Value> = r
                .modified_entries
                .iter()
                .filter(|d| d.state_before.is_some() || d.state_after.is_some())
                .map(|d| {
                    let key = d
                        .state_after
                        .as_ref()
                        .or(d.state_before.as_ref())
                        .map(|e| e.to_key())
                        .map(|k| b64(&xdr_bytes(&k)))
                        .unwrap_or_default();
                    let kind = match (&d.state_before, &d.state_after) {
                        (None, Some(_)) => "created",
                        (Some(_), None) => "deleted",
                        _ => "updated",
                    };
                    let mut o = json!({ "type": kind, "key": key, "before": null, "after": null });
                    if let Some(b) = &d.state_before {
                        o["before"] = json!(b64(&xdr_bytes(b)));
                    }
                    if let Some(a) = &d.state_after {
                        o["after"] = json!(b64(&xdr_bytes(a)));
                    }
                    o
                })
                .collect();
            Ok(json!({
                "transactionData": b64(&xdr_bytes(data)),
                "minResourceFee": data.resource_fee.to_string(),
                "events": events,
                "results": [{
                    "auth": r.auth.iter().map(|a| b64(&xdr_bytes(a))).collect::<Vec<_>>(),
                    "xdr": b64(&xdr_bytes(value)),
                }],
                "cost": { "cpuInsns": r.simulated_instructions.to_string(), "memBytes": r.simulated_memory.to_string() },
                "stateChanges": state_changes,
                "latestLedger": latest,
            }))
        }
        OperationBody::ExtendFootprintTtl(e) => {
            let Some(fp) = footprint else {
                return sim_error(
                    latest,
                    "ExtendFootprintTtl requires the footprint in the transaction's sorobanData",
                );
            };
            match simulate_extend_ttl_op(
                snapshot.as_ref(),
                &network,
                &adjustment,
                &ledger_info,
                &fp.read_only,
                e.extend_to,
            ) {
                Ok(r) => Ok(json!({
                    "transactionData": b64(&xdr_bytes(&r.transaction_data)),
                    "minResourceFee": r.transaction_data.resource_fee.to_string(),
                    "events": [],
                    "latestLedger": latest,
                })),
                Err(e) => sim_error(latest, format!("{e:?}")),
            }
        }
        OperationBody::RestoreFootprint(_) => {
            let Some(fp) = footprint else {
                return sim_error(
                    latest,
                    "RestoreFootprint requires the footprint in the transaction's sorobanData",
                );
            };
            match simulate_restore_op(
                snapshot.as_ref(),
                &network,
                &adjustment,
                &ledger_info,
                &fp.read_write,
            ) {
                Ok(r) => Ok(json!({
                    "transactionData": b64(&xdr_bytes(&r.transaction_data)),
                    "minResourceFee": r.transaction_data.resource_fee.to_string(),
                    "events": [],
                    "latestLedger": latest,
                })),
                Err(e) => sim_error(latest, format!("{e:?}")),
            }
        }
        other => sim_error(
            latest,
            format!(
                "Transaction contains unsupported operation type: {}",
                other.name()
            ),
        ),
    }
}
