//! `localnet`: a local Stellar network for Starling (see README.md).

use localnet::server::{run, Options};

const USAGE: &str =
    "usage: localnet [--port N] [--bind ADDR] [--ledger-interval-ms MS] [--retention-ledgers N]
                [--state-file PATH] [--network-passphrase TEXT] [--max-request-bytes N]
                [--seed-events N]   (benchmark aid: N synthetic events at start)
environment: LOCALNET_PORT, LOCALNET_BIND, LOCALNET_LEDGER_INTERVAL_MS, LOCALNET_RETENTION_LEDGERS,
             LOCALNET_STATE_FILE, LOCALNET_NETWORK_PASSPHRASE (flags win)";

fn parse(args: Vec<String>) -> Result<Options, String> {
    let mut o = Options::default();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let num = |name: &str, v: &str| {
        v.parse::<u64>()
            .map_err(|_| format!("{name} must be a number, got {v:?}"))
    };
    if let Some(v) = env("LOCALNET_PORT") {
        o.port = num("LOCALNET_PORT", &v)? as u16;
    }
    if let Some(v) = env("LOCALNET_BIND") {
        o.bind = v;
    }
    if let Some(v) = env("LOCALNET_LEDGER_INTERVAL_MS") {
        o.ledger_interval_ms = num("LOCALNET_LEDGER_INTERVAL_MS", &v)?;
    }
    if let Some(v) = env("LOCALNET_RETENTION_LEDGERS") {
        o.retention_ledgers = num("LOCALNET_RETENTION_LEDGERS", &v)? as u32;
    }
    if let Some(v) = env("LOCALNET_STATE_FILE") {
        o.state_file = Some(v.into());
    }
    if let Some(v) = env("LOCALNET_NETWORK_PASSPHRASE") {
        o.passphrase = v;
    }
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--port" => o.port = num("--port", &value()?)? as u16,
            "--bind" => o.bind = value()?,
            "--ledger-interval-ms" => {
                o.ledger_interval_ms = num("--ledger-interval-ms", &value()?)?
            }
            "--retention-ledgers" => {
                o.retention_ledgers = num("--retention-ledgers", &value()?)? as u32
            }
            "--state-file" => o.state_file = Some(value()?.into()),
            "--network-passphrase" => o.passphrase = value()?,
            "--max-request-bytes" => {
                o.max_request_bytes = num("--max-request-bytes", &value()?)? as usize
            }
            "--seed-events" => o.seed_events = num("--seed-events", &value()?)?,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if o.retention_ledgers == 0 {
        return Err("--retention-ledgers must be at least 1".into());
    }
    Ok(o)
}

fn main() {
    let opts = match parse(std::env::args().skip(1).collect()) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run(opts)) {
        eprintln!("localnet: {e}");
        std::process::exit(1);
    }
}
