//! HTTP: JSON-RPC 2.0 on POST `/` (also `/rpc`, `/soroban/rpc`) and friendbot on `/friendbot`.
//! The ledger closes on its own thread; request handlers run on blocking workers because
//! the simulation builds Rc-based host values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use soroban_env_host::xdr::{LedgerEntryChange, OperationMeta, TransactionMeta, TransactionMetaV1};
use tokio::sync::watch;

use crate::chain::{Chain, ChainConfig};
use crate::rpc::{self, read_chain, write_chain, Ctx, RpcError};
use crate::util::{self, b64, xdr_bytes};

#[derive(Clone, Debug)]
pub struct Options {
    pub bind: String,
    pub port: u16,
    pub ledger_interval_ms: u64,
    pub retention_ledgers: u32,
    pub state_file: Option<PathBuf>,
    pub passphrase: String,
    pub max_request_bytes: usize,
    /// Benchmark aid: synthetic events appended at start (see Chain::seed_synthetic_events).
    pub seed_events: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bind: "127.0.0.1".into(),
            port: 8000,
            ledger_interval_ms: 1000,
            retention_ledgers: 120_960,
            state_file: None,
            passphrase: "Standalone Network ; February 2017".into(),
            max_request_bytes: 1 << 20,
            seed_events: 0,
        }
    }
}

struct App {
    ctx: Ctx,
    ledgers: watch::Receiver<u32>,
    max_request_bytes: usize,
}

/// Loads the state file if there is one, else starts a new network.
pub fn open_chain(opts: &Options) -> anyhow::Result<Chain> {
    let cfg = ChainConfig {
        passphrase: opts.passphrase.clone(),
        retention_ledgers: opts.retention_ledgers,
    };
    if let Some(path) = &opts.state_file {
        if path.exists() {
            let mut chain = crate::persist::load(path, &cfg)?;
            chain.retention_ledgers = opts.retention_ledgers.max(1);
            return Ok(chain);
        }
    }
    Ok(Chain::genesis(&cfg, util::now_unix()))
}

/// Runs the ledger thread: closes a ledger every interval and saves the state file.
pub fn spawn_ledger_thread(
    chain: Arc<RwLock<Chain>>,
    interval: Duration,
    state_file: Option<PathBuf>,
    tx: watch::Sender<u32>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("ledger".into())
        .spawn(move || {
            let mut next = Instant::now() + interval;
            let mut last_save = Instant::now();
            // Saved when transactions changed state (at most every 5 s) and at shutdown.
            let mut dirty = false;
            let log_ledgers = std::env::var_os("LOCALNET_LOG_LEDGERS").is_some();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let now = Instant::now();
                if now < next {
                    std::thread::sleep((next - now).min(Duration::from_millis(50)));
                    continue;
                }
                next += interval;
                if next < Instant::now() {
                    next = Instant::now() + interval;
                }
                let started = Instant::now();
                let (seq, applied) = {
                    let mut c = write_chain(&chain);
                    let seq = c.close_ledger(util::now_unix());
                    (seq, c.latest().tx_count)
                };
                dirty |= applied > 0;
                if log_ledgers && applied > 0 {
                    eprintln!(
                        "localnet: closed ledger {seq} with {applied} txs in {} us",
                        started.elapsed().as_micros()
                    );
                }
                let _ = tx.send(seq);
                if let Some(path) = &state_file {
                    if dirty && last_save.elapsed() >= Duration::from_secs(5) {
                        let c = read_chain(&chain);
                        if let Err(e) = crate::persist::save(&c, path) {
                            eprintln!("localnet: cannot save state to {}: {e}", path.display());
                        }
                        last_save = Instant::now();
                        dirty = false;
                    }
                }
            }
            if let Some(path) = &state_file {
                let mut c = write_chain(&chain);
                // Accepted (PENDING) transactions live only in memory: apply them in one last
                // ledger so a client polling after the restart finds them instead of NOT_FOUND.
                if !c.pending.is_empty() {
                    let seq = c.close_ledger(util::now_unix());
                    let _ = tx.send(seq);
                }
                if let Err(e) = crate::persist::save(&c, path) {
                    eprintln!("localnet: cannot save state to {}: {e}", path.display());
                }
            }
        })
        .expect("spawn ledger thread")
}

fn rpc_error_value(id: Value, e: &RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": e.code, "message": e.message } })
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// One JSON-RPC request → its response as JSON text (None for a notification).
fn handle_one(app: &App, req: &Value) -> Option<String> {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let is_notification = req.get("id").is_none();
    let Some(obj) = req.as_object() else {
        return Some(
            rpc_error_value(
                Value::Null,
                &rpc::err(rpc::INVALID_REQUEST, "invalid request"),
            )
            .to_string(),
        );
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some(
            rpc_error_value(
                id,
                &rpc::err(
                    rpc::INVALID_REQUEST,
                    "invalid request: jsonrpc must be \"2.0\"",
                ),
            )
            .to_string(),
        );
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return Some(
            rpc_error_value(
                id,
                &rpc::err(rpc::INVALID_REQUEST, "invalid request: missing method"),
            )
            .to_string(),
        );
    };
    let params = obj.get("params").cloned().unwrap_or(Value::Null);
    // A panic inside a handler (a bug, or the host on hostile input) must not take the server down.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rpc::dispatch_json(&app.ctx, method, &params)
    }))
    .unwrap_or_else(|_| Err(rpc::err(rpc::INTERNAL_ERROR, "internal error")));
    if is_notification {
        return None;
    }
    Some(match result {
        Ok(text) => format!("{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{}}}", id, text),
        Err(e) => rpc_error_value(id, &e).to_string(),
    })
}

async fn rpc_handler(State(app): State<Arc<App>>, body: Body) -> Response {
    let bytes = match to_bytes(body, app.max_request_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                rpc_error_value(
                    Value::Null,
                    &rpc::err(
                        rpc::INVALID_REQUEST,
                        format!("request body exceeds {} bytes", app.max_request_bytes),
                    ),
                ),
            )
        }
    };
    let parsed: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return json_response(
                StatusCode::OK,
                rpc_error_value(
                    Value::Null,
                    &rpc::err(rpc::PARSE_ERROR, format!("parse error: {e}")),
                ),
            )
        }
    };
    let app2 = app.clone();
    let out = tokio::task::spawn_blocking(move || match &parsed {
        Value::Array(batch) if batch.is_empty() => Some(
            rpc_error_value(Value::Null, &rpc::err(rpc::INVALID_REQUEST, "empty batch"))
                .to_string(),
        ),
        Value::Array(batch) => {
            let v: Vec<String> = batch.iter().filter_map(|r| handle_one(&app2, r)).collect();
            if v.is_empty() {
                None
            } else {
                Some(format!("[{}]", v.join(",")))
            }
        }
        other => handle_one(&app2, other),
    })
    .await
    .unwrap_or_else(|_| {
        Some(
            rpc_error_value(
                Value::Null,
                &rpc::err(rpc::INTERNAL_ERROR, "internal error"),
            )
            .to_string(),
        )
    });
    match out {
        Some(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            text,
        )
            .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct FriendbotQuery {
    addr: Option<String>,
}

fn problem(status: StatusCode, title: &str, detail: &str, extra: Value) -> Response {
    let mut v = json!({ "type": "https://stellar.org/horizon-errors/transaction_failed", "title": title, "status": status.as_u16(), "detail": detail });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    json_response(status, v)
}

async fn friendbot(State(app): State<Arc<App>>, Query(q): Query<FriendbotQuery>) -> Response {
    let Some(dest) = q.addr.as_deref().and_then(util::parse_account) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "addr must be a G… account address",
            Value::Null,
        );
    };
    let queued = {
        let mut c = write_chain(&app.ctx.chain);
        c.queue_friendbot(dest, util::now_unix())
    };
    let hash = match queued {
        Ok(h) => h,
        Err("createAccountAlreadyExist") => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Transaction Failed",
                "createAccountAlreadyExist (AAAAAAAAAGT/////AAAAAQAAAAAAAAAA/////AAAAAA=)",
                json!({ "extras": { "result_codes": { "transaction": "tx_failed", "operations": ["op_already_exists"] } } }),
            )
        }
        Err(e) => {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Friendbot Error",
                e,
                Value::Null,
            )
        }
    };
    let mut rx = app.ledgers.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        {
            let c = read_chain(&app.ctx.chain);
            if let Some(t) = c.tx(&hash) {
                let meta = c.full_meta(t);
                // The created account as a V1 meta: what every SDK's airdrop parser reads.
                let created: Vec<LedgerEntryChange> = match &meta {
                    TransactionMeta::V4(m) => m
                        .operations
                        .iter()
                        .flat_map(|o| o.changes.iter().cloned())
                        .collect(),
                    _ => Vec::new(),
                };
                let v1 = TransactionMeta::V1(TransactionMetaV1 {
                    tx_changes: soroban_env_host::xdr::LedgerEntryChanges::default(),
                    operations: vec![OperationMeta {
                        changes: created.try_into().unwrap_or_default(),
                    }]
                    .try_into()
                    .unwrap_or_default(),
                });
                return json_response(
                    if t.success {
                        StatusCode::OK
                    } else {
                        StatusCode::BAD_REQUEST
                    },
                    json!({
                        "successful": t.success,
                        "hash": hex::encode(t.hash),
                        "ledger": t.ledger,
                        "envelope_xdr": b64(&t.envelope),
                        "result_xdr": b64(&t.result),
                        "result_meta_xdr": b64(&xdr_bytes(&v1)),
                    }),
                );
            }
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return problem(
                StatusCode::GATEWAY_TIMEOUT,
                "Timeout",
                "the funding transaction was not included in time",
                Value::Null,
            );
        }
    }
}

/// Browsers may call the chain directly (wallets, the site in development), as they can call
/// public Stellar RPC endpoints: any origin is allowed.
async fn allow_any_origin(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    res
}

async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
        .into_response()
}

/// Starts everything and serves until SIGINT/SIGTERM; prints the ready line once listening.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let mut opened = open_chain(&opts)?;
    if opts.seed_events > 0 {
        opened.seed_synthetic_events(opts.seed_events, 1000, util::now_unix());
    }
    let chain = Arc::new(RwLock::new(opened));
    let latest = read_chain(&chain).latest().seq;
    let (tx, rx) = watch::channel(latest);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ledger_thread = spawn_ledger_thread(
        chain.clone(),
        Duration::from_millis(opts.ledger_interval_ms.max(10)),
        opts.state_file.clone(),
        tx,
        stop.clone(),
    );
    let addr: SocketAddr = format!("{}:{}", opts.bind, opts.port).parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let base = format!(
        "http://{}:{}",
        if opts.bind == "0.0.0.0" {
            "127.0.0.1".to_string()
        } else {
            opts.bind.clone()
        },
        local.port()
    );
    let app = Arc::new(App {
        ctx: Ctx {
            chain: chain.clone(),
            friendbot_url: format!("{base}/friendbot"),
        },
        ledgers: rx,
        max_request_bytes: opts.max_request_bytes,
    });
    let router = Router::new()
        .route("/", post(rpc_handler).options(preflight))
        .route("/rpc", post(rpc_handler).options(preflight))
        .route("/soroban/rpc", post(rpc_handler).options(preflight))
        .route(
            "/friendbot",
            get(friendbot).post(friendbot).options(preflight),
        )
        .layer(axum::middleware::map_response(allow_any_origin))
        .with_state(app);
    println!("localnet listening on {base}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("signal handler");
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            #[cfg(not(unix))]
            {
                let _ = ctrl_c.await;
            }
        })
        .await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = ledger_thread.join();
    Ok(())
}
