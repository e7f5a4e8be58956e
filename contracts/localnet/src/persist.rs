//! State file: the whole chain (entries, retained ledgers, transactions, events) in a
//! small length-prefixed binary format of XDR blobs. Written atomically (tmp + rename).

use std::io::{self, Read, Write};
use std::path::Path;

use soroban_env_host::xdr::{LedgerEntry, LedgerHeader, Limits, ReadXdr};

use crate::chain::{Chain, ChainConfig, EventRecord, LedgerRecord, StoredEntry, TxRecord};
use crate::util::xdr_bytes;

const MAGIC: &[u8; 8] = b"SLNET01\n";

struct W<T: Write>(T);
impl<T: Write> W<T> {
    fn u8(&mut self, v: u8) -> io::Result<()> {
        self.0.write_all(&[v])
    }
    fn u32(&mut self, v: u32) -> io::Result<()> {
        self.0.write_all(&v.to_le_bytes())
    }
    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.0.write_all(&v.to_le_bytes())
    }
    fn blob(&mut self, b: &[u8]) -> io::Result<()> {
        self.u32(b.len() as u32)?;
        self.0.write_all(b)
    }
    fn h(&mut self, b: &[u8; 32]) -> io::Result<()> {
        self.0.write_all(b)
    }
}

struct R<T: Read>(T);
impl<T: Read> R<T> {
    fn u8(&mut self) -> io::Result<u8> {
        let mut b = [0; 1];
        self.0.read_exact(&mut b)?;
        Ok(b[0])
    }
    fn u32(&mut self) -> io::Result<u32> {
        let mut b = [0; 4];
        self.0.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> io::Result<u64> {
        let mut b = [0; 8];
        self.0.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn blob(&mut self) -> io::Result<Vec<u8>> {
        let n = self.u32()? as usize;
        let mut v = vec![0; n];
        self.0.read_exact(&mut v)?;
        Ok(v)
    }
    fn h(&mut self) -> io::Result<[u8; 32]> {
        let mut b = [0; 32];
        self.0.read_exact(&mut b)?;
        Ok(b)
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Writes the chain to `path` (atomically).
pub fn save(chain: &Chain, path: &Path) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let f = std::fs::File::create(&tmp)?;
        let mut w = W(io::BufWriter::new(f));
        w.0.write_all(MAGIC)?;
        w.blob(chain.passphrase.as_bytes())?;
        w.h(&chain.root.to_bytes())?;
        w.u64(chain.total_coins as u64)?;
        w.u64(chain.fee_pool as u64)?;
        w.u32(chain.entries.len() as u32)?;
        for e in chain.entries.values() {
            w.blob(&xdr_bytes(&e.entry))?;
            match e.live_until {
                Some(l) => {
                    w.u8(1)?;
                    w.u32(l)?;
                }
                None => {
                    w.u8(0)?;
                    w.u32(0)?;
                }
            }
        }
        w.u32(chain.ledgers.len() as u32)?;
        for l in &chain.ledgers {
            w.blob(&xdr_bytes(&l.header))?;
            w.u64(l.tx_first)?;
            w.u32(l.tx_count)?;
            w.u64(l.ev_first)?;
            w.u32(l.ev_count)?;
        }
        w.u64(chain.txs_base)?;
        w.u32(chain.txs.len() as u32)?;
        for t in &chain.txs {
            w.h(&t.hash)?;
            w.u32(t.ledger)?;
            w.u32(t.order)?;
            w.u8(t.fee_bump as u8 | (t.success as u8) << 1)?;
            w.blob(&t.envelope)?;
            w.blob(&t.result)?;
            w.blob(&t.meta)?;
            w.u64(t.ev_first)?;
            w.u32(t.ev_count)?;
        }
        w.u64(chain.events_base)?;
        w.u64(chain.events.len() as u64)?;
        for e in &chain.events {
            w.u32(e.ledger)?;
            w.u32(e.tx)?;
            w.u32(e.op)?;
            w.u32(e.index)?;
            let contract = chain.contract_of(e);
            w.u8(e.successful as u8 | (e.system as u8) << 1 | (contract.is_some() as u8) << 2)?;
            if let Some(c) = &contract {
                w.h(c)?;
            }
            w.blob(&e.body)?;
        }
        w.0.flush()?;
        w.0.get_ref().sync_all()?;
    }
    std::fs::rename(tmp, path)
}

/// Reads a chain written by `save`. The passphrase must match the configured one.
pub fn load(path: &Path, cfg: &ChainConfig) -> io::Result<Chain> {
    let f = std::fs::File::open(path)?;
    let mut r = R(io::BufReader::new(f));
    let mut magic = [0u8; 8];
    r.0.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(bad("not a localnet state file"));
    }
    let passphrase = String::from_utf8(r.blob()?).map_err(|_| bad("passphrase"))?;
    if passphrase != cfg.passphrase {
        return Err(bad(&format!(
            "state file belongs to network {passphrase:?}, not {:?}",
            cfg.passphrase
        )));
    }
    let root = ed25519_dalek::SigningKey::from_bytes(&r.h()?);
    let mut chain = Chain::empty(cfg, root);
    chain.total_coins = r.u64()? as i64;
    chain.fee_pool = r.u64()? as i64;
    let lim = || Limits::none();
    for _ in 0..r.u32()? {
        let entry = LedgerEntry::from_xdr(&r.blob()?[..], lim()).map_err(|_| bad("entry"))?;
        let has = r.u8()?;
        let live = r.u32()?;
        chain.entries.insert(
            entry.to_key(),
            StoredEntry {
                entry,
                live_until: (has == 1).then_some(live),
            },
        );
    }
    for _ in 0..r.u32()? {
        let header = LedgerHeader::from_xdr(&r.blob()?[..], lim()).map_err(|_| bad("header"))?;
        let hash = crate::util::sha256(&xdr_bytes(&header));
        chain.ledgers.push_back(LedgerRecord {
            seq: header.ledger_seq,
            close_time: header.scp_value.close_time.0,
            hash,
            header,
            tx_first: r.u64()?,
            tx_count: r.u32()?,
            ev_first: r.u64()?,
            ev_count: r.u32()?,
        });
    }
    chain.txs_base = r.u64()?;
    for i in 0..r.u32()? {
        let hash = r.h()?;
        let ledger = r.u32()?;
        let order = r.u32()?;
        let flags = r.u8()?;
        let t = TxRecord {
            hash,
            ledger,
            order,
            fee_bump: flags & 1 != 0,
            success: flags & 2 != 0,
            envelope: r.blob()?,
            result: r.blob()?,
            meta: r.blob()?,
            ev_first: r.u64()?,
            ev_count: r.u32()?,
        };
        chain.tx_index.insert(hash, chain.txs_base + i as u64);
        chain.txs.push_back(t);
    }
    chain.events_base = r.u64()?;
    for _ in 0..r.u64()? {
        let ledger = r.u32()?;
        let tx = r.u32()?;
        let op = r.u32()?;
        let index = r.u32()?;
        let flags = r.u8()?;
        let contract_id = if flags & 4 != 0 { Some(r.h()?) } else { None };
        let contract = chain.intern_contract(contract_id);
        chain.events.push_back(EventRecord {
            ledger,
            tx,
            op,
            index,
            successful: flags & 1 != 0,
            system: flags & 2 != 0,
            contract,
            body: r.blob()?.into_boxed_slice(),
        });
    }
    if chain.ledgers.is_empty() {
        return Err(bad("state file has no ledgers"));
    }
    chain.network = std::sync::Arc::new(crate::chain::load_network_config(&chain));
    Ok(chain)
}
