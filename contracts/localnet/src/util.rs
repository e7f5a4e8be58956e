//! Small pure helpers: TOIDs and event ids, time formatting, strkeys, hashing.

use sha2::{Digest, Sha256};
use soroban_env_host::xdr::{AccountId, Limits, PublicKey, Uint256, WriteXdr};

/// SEP-35 total order id: `ledger<<32 | (tx & 0xFFFFF)<<12 | (op & 0xFFF)`.
pub fn toid(ledger: u32, tx: u32, op: u32) -> i64 {
    ((ledger as i64) << 32) | (((tx & 0xF_FFFF) as i64) << 12) | ((op & 0xFFF) as i64)
}

/// Event id as Stellar RPC prints it: 19-digit TOID, `-`, 10-digit event index.
pub fn event_id(ledger: u32, tx: u32, op: u32, event: u32) -> String {
    format!("{:019}-{:010}", toid(ledger, tx, op), event)
}

/// A parsed getEvents cursor (the position of one event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub ledger: u32,
    pub tx: u32,
    pub op: u32,
    pub event: u32,
}

impl Cursor {
    /// The cursor RPC returns when a scan stops at the end of its window.
    pub fn max_for_ledger(ledger: u32) -> Self {
        Cursor {
            ledger,
            tx: 0xF_FFFF,
            op: 0xFFF,
            event: u32::MAX,
        }
    }

    pub fn to_id(self) -> String {
        event_id(self.ledger, self.tx, self.op, self.event)
    }

    /// Parses `TOID-EVENT` (the event part may be omitted, as the RPC allows).
    pub fn parse(s: &str) -> Option<Self> {
        let (toid_part, event_part) = match s.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let id: i64 = toid_part.parse().ok()?;
        if id < 0 {
            return None;
        }
        let event: u32 = match event_part {
            Some(e) => e.parse().ok()?,
            None => 0,
        };
        Some(Cursor {
            ledger: (id >> 32) as u32,
            tx: ((id >> 12) & 0xF_FFFF) as u32,
            op: (id & 0xFFF) as u32,
            event,
        })
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn network_id(passphrase: &str) -> [u8; 32] {
    sha256(passphrase.as_bytes())
}

pub fn xdr_bytes<T: WriteXdr>(v: &T) -> Vec<u8> {
    v.to_xdr(Limits::none()).expect("in-memory XDR encodes")
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

pub fn account_strkey(id: &AccountId) -> String {
    let PublicKey::PublicKeyTypeEd25519(Uint256(k)) = &id.0;
    stellar_strkey::ed25519::PublicKey(*k).to_string()
}

pub fn contract_strkey(id: &[u8; 32]) -> String {
    stellar_strkey::Contract(*id).to_string()
}

pub fn parse_account(s: &str) -> Option<AccountId> {
    let k = stellar_strkey::ed25519::PublicKey::from_string(s).ok()?;
    Some(AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(k.0))))
}

pub fn parse_contract(s: &str) -> Option<[u8; 32]> {
    stellar_strkey::Contract::from_string(s).ok().map(|c| c.0)
}

/// RFC 3339 UTC (`2024-01-02T03:04:05Z`) of a unix time, as Go's time.RFC3339 prints it.
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        y,
        m,
        d,
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_match_the_rpc_format() {
        // Example from the RPC docs: ledger 3727720, tx 1, op 0, event 1.
        let id = event_id(3_727_720, 1, 0, 1);
        assert_eq!(id.len(), 30);
        assert_eq!(
            id,
            format!("{:019}-{:010}", (3_727_720i64 << 32) | (1 << 12), 1)
        );
        let c = Cursor::parse(&id).unwrap();
        assert_eq!(
            c,
            Cursor {
                ledger: 3_727_720,
                tx: 1,
                op: 0,
                event: 1
            }
        );
        assert_eq!(c.to_id(), id);
    }

    #[test]
    fn max_cursor_is_what_rpc_prints_at_the_end_of_a_window() {
        let c = Cursor::max_for_ledger(99);
        assert_eq!(
            c.to_id(),
            format!("{:019}-4294967295", (99i64 << 32) | 0xFFFFF << 12 | 0xFFF)
        );
        assert!(Cursor::parse("nope").is_none());
        assert!(Cursor::parse("-5").is_none());
    }

    #[test]
    fn event_ids_sort_in_chain_order() {
        let a = event_id(5, 2, 0, 3);
        let b = event_id(5, 10, 0, 0);
        let c = event_id(6, 1, 0, 0);
        assert!(a < b && b < c);
    }

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
