//! The ledger: state, history, submission checks and ledger close.
//!
//! `Chain` is plain data (Send); the Soroban host's Rc types live only inside
//! `apply::*` calls, which run on the ledger thread (or a simulation worker).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use ed25519_dalek::{Signer as _, SigningKey, Verifier, VerifyingKey};
use soroban_env_host::xdr::{
    AccountEntry, AccountEntryExt, AccountEntryExtensionV1, AccountEntryExtensionV1Ext,
    AccountEntryExtensionV2, AccountEntryExtensionV2Ext, AccountEntryExtensionV3, AccountId,
    ConfigSettingEntry, ContractEvent, CreateAccountOp, DecoratedSignature, ExtensionPoint,
    FeeBumpTransactionInnerTx, GeneralizedTransactionSet, Hash, InnerTransactionResult,
    InnerTransactionResultExt, InnerTransactionResultPair, InnerTransactionResultResult,
    LedgerCloseMeta, LedgerCloseMetaExt, LedgerCloseMetaV2, LedgerEntry, LedgerEntryData,
    LedgerEntryExt, LedgerHeader, LedgerHeaderExt, LedgerHeaderHistoryEntry,
    LedgerHeaderHistoryEntryExt, LedgerKey, LedgerKeyAccount, LedgerKeyConfigSetting, Liabilities,
    Limits, Memo, MuxedAccount, Operation, OperationBody, OperationResult, Preconditions,
    PublicKey, ReadXdr, SequenceNumber, Signature, SignatureHint, StellarValue, StellarValueExt,
    String32, Thresholds, TimeBounds, TimePoint, Transaction, TransactionEnvelope, TransactionExt,
    TransactionMeta, TransactionResult, TransactionResultExt, TransactionResultMetaV1,
    TransactionResultPair, TransactionResultResult, TransactionSetV1, TransactionV1Envelope,
    Uint256, VecM,
};
use soroban_simulation::NetworkConfig;

use crate::network_config;
use crate::util::{self, sha256, xdr_bytes};

pub const PROTOCOL_VERSION: u32 = 28;
pub const BASE_FEE: u32 = 100;
pub const BASE_RESERVE: u32 = 5_000_000;
pub const TOTAL_COINS: i64 = 1_000_000_000_000_000_000;
pub const FRIENDBOT_STARTING_BALANCE: i64 = 10_000 * 10_000_000;
/// The queue refuses more than this many pending transactions (TRY_AGAIN_LATER).
pub const MAX_PENDING: usize = 5_000;
/// Core's cap on a declared Soroban resource fee (2^50 stroops, TransactionFrame.cpp
/// `MAX_RESOURCE_FEE`); larger or negative values make the envelope txMALFORMED.
pub const MAX_RESOURCE_FEE: i64 = 1 << 50;

#[derive(Clone, Debug)]
pub struct StoredEntry {
    pub entry: LedgerEntry,
    /// For ContractData/ContractCode: the TTL (live until this ledger, inclusive).
    pub live_until: Option<u32>,
}

/// One retained closed ledger.
#[derive(Clone, Debug)]
pub struct LedgerRecord {
    pub seq: u32,
    pub close_time: u64,
    pub hash: [u8; 32],
    pub header: LedgerHeader,
    /// Global index of this ledger's first transaction / event.
    pub tx_first: u64,
    pub tx_count: u32,
    pub ev_first: u64,
    pub ev_count: u32,
}

/// One applied transaction. Contract events live in the event log only (not
/// duplicated here); `meta` is the TransactionMetaV4 with per-op events removed.
#[derive(Clone, Debug)]
pub struct TxRecord {
    pub hash: [u8; 32],
    pub ledger: u32,
    pub order: u32,
    pub fee_bump: bool,
    pub success: bool,
    pub envelope: Vec<u8>,
    pub result: Vec<u8>,
    pub meta: Vec<u8>,
    pub ev_first: u64,
    pub ev_count: u32,
}

/// One contract event as retained for getEvents.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub ledger: u32,
    pub tx: u32,
    pub op: u32,
    pub index: u32,
    pub successful: bool,
    /// 0 = no contract, else 1 + the index into `Chain::contracts` (interned: events of one
    /// contract share the 32-byte id, which matters at a million retained events).
    pub contract: u32,
    pub system: bool,
    /// ContractEvent XDR.
    pub body: Box<[u8]>,
}

impl EventRecord {
    pub fn cursor(&self) -> util::Cursor {
        util::Cursor {
            ledger: self.ledger,
            tx: self.tx,
            op: self.op,
            event: self.index,
        }
    }
    pub fn decode(&self) -> ContractEvent {
        ContractEvent::from_xdr(&self.body[..], Limits::none()).expect("stored event decodes")
    }
}

#[derive(Clone, Debug)]
pub struct PendingTx {
    pub hash: [u8; 32],
    pub envelope: TransactionEnvelope,
    pub envelope_xdr: Vec<u8>,
}

pub struct ChainConfig {
    pub passphrase: String,
    pub retention_ledgers: u32,
}

/// Why a submission was refused; maps to sendTransaction's ERROR + errorResultXdr.
#[derive(Debug, Clone, PartialEq)]
pub enum Submit {
    Pending,
    Duplicate,
    TryAgainLater,
    Error(TransactionResult),
}

pub struct Chain {
    pub passphrase: String,
    pub network_id: [u8; 32],
    pub retention_ledgers: u32,
    pub entries: HashMap<LedgerKey, StoredEntry>,
    pub ledgers: VecDeque<LedgerRecord>,
    pub txs: VecDeque<TxRecord>,
    pub txs_base: u64,
    pub tx_index: HashMap<[u8; 32], u64>,
    pub events: VecDeque<EventRecord>,
    pub events_base: u64,
    pub pending: Vec<PendingTx>,
    pub pending_hashes: HashSet<[u8; 32]>,
    /// Queued transactions per source account, so a sender may queue consecutive sequence numbers.
    pub pending_by_source: HashMap<AccountId, i64>,
    pub network: Arc<NetworkConfig>,
    pub root: SigningKey,
    pub total_coins: i64,
    pub fee_pool: i64,
    /// Parsed contract modules, as core keeps them: instantiation is then charged at the
    /// cached rate, which is what simulation assumes.
    pub module_cache: Option<soroban_env_host::ModuleCache>,
    /// Contract ids that emitted retained events, and their index.
    pub contracts: Vec<[u8; 32]>,
    pub contract_index: HashMap<[u8; 32], u32>,
}

pub fn account_key(id: &AccountId) -> LedgerKey {
    LedgerKey::Account(LedgerKeyAccount {
        account_id: id.clone(),
    })
}

pub fn account_id_of(key: &VerifyingKey) -> AccountId {
    AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(key.to_bytes())))
}

pub fn muxed_to_account(m: &MuxedAccount) -> AccountId {
    match m {
        MuxedAccount::Ed25519(k) => AccountId(PublicKey::PublicKeyTypeEd25519(k.clone())),
        MuxedAccount::MuxedEd25519(m) => {
            AccountId(PublicKey::PublicKeyTypeEd25519(m.ed25519.clone()))
        }
    }
}

fn ed_bytes(id: &AccountId) -> [u8; 32] {
    let PublicKey::PublicKeyTypeEd25519(Uint256(k)) = &id.0;
    *k
}

/// A fresh account as core creates it (ext up to v3 so the host never upgrades it).
pub fn new_account(id: AccountId, balance: i64, seq: i64, ledger: u32, time: u64) -> AccountEntry {
    AccountEntry {
        account_id: id,
        balance,
        seq_num: SequenceNumber(seq),
        num_sub_entries: 0,
        inflation_dest: None,
        flags: 0,
        home_domain: String32::default(),
        thresholds: Thresholds([1, 0, 0, 0]),
        signers: VecM::default(),
        ext: AccountEntryExt::V1(AccountEntryExtensionV1 {
            liabilities: Liabilities {
                buying: 0,
                selling: 0,
            },
            ext: AccountEntryExtensionV1Ext::V2(AccountEntryExtensionV2 {
                num_sponsored: 0,
                num_sponsoring: 0,
                signer_sponsoring_i_ds: VecM::default(),
                ext: AccountEntryExtensionV2Ext::V3(AccountEntryExtensionV3 {
                    ext: ExtensionPoint::V0,
                    seq_ledger: ledger,
                    seq_time: TimePoint(time),
                }),
            }),
        }),
    }
}

pub fn set_seq(acc: &mut AccountEntry, seq: i64, ledger: u32, time: u64) {
    acc.seq_num = SequenceNumber(seq);
    if let AccountEntryExt::V1(v1) = &mut acc.ext {
        if let AccountEntryExtensionV1Ext::V2(v2) = &mut v1.ext {
            if let AccountEntryExtensionV2Ext::V3(v3) = &mut v2.ext {
                v3.seq_ledger = ledger;
                v3.seq_time = TimePoint(time);
            }
        }
    }
}

/// Minimum balance of an account with `sub_entries` (2 base reserves + one per sub-entry).
pub fn min_balance(acc: &AccountEntry) -> i64 {
    (2 + acc.num_sub_entries as i64) * BASE_RESERVE as i64
}

pub fn tx_result(fee_charged: i64, result: TransactionResultResult) -> TransactionResult {
    TransactionResult {
        fee_charged,
        result,
        ext: TransactionResultExt::V0,
    }
}

/// The parts of an envelope that validation and apply need, fee bumps unwrapped.
pub struct TxView<'a> {
    pub tx: std::borrow::Cow<'a, Transaction>,
    pub signatures: &'a [DecoratedSignature],
    pub inner_hash: [u8; 32],
    pub fee_bump: Option<FeeBumpView<'a>>,
}

pub struct FeeBumpView<'a> {
    pub fee_source: AccountId,
    pub fee: i64,
    pub signatures: &'a [DecoratedSignature],
    pub outer_hash: [u8; 32],
}

pub fn view(env: &TransactionEnvelope, network_id: [u8; 32]) -> Option<TxView<'_>> {
    match env {
        TransactionEnvelope::TxV0(e) => {
            let t = &e.tx;
            let tx = Transaction {
                source_account: MuxedAccount::Ed25519(t.source_account_ed25519.clone()),
                fee: t.fee,
                seq_num: t.seq_num.clone(),
                cond: match &t.time_bounds {
                    Some(tb) => Preconditions::Time(tb.clone()),
                    None => Preconditions::None,
                },
                memo: t.memo.clone(),
                operations: t.operations.clone(),
                ext: TransactionExt::V0,
            };
            let inner_hash = tx.hash(network_id).ok()?;
            Some(TxView {
                tx: std::borrow::Cow::Owned(tx),
                signatures: &e.signatures,
                inner_hash,
                fee_bump: None,
            })
        }
        TransactionEnvelope::Tx(e) => Some(TxView {
            inner_hash: e.tx.hash(network_id).ok()?,
            tx: std::borrow::Cow::Borrowed(&e.tx),
            signatures: &e.signatures,
            fee_bump: None,
        }),
        TransactionEnvelope::TxFeeBump(fb) => {
            let FeeBumpTransactionInnerTx::Tx(inner) = &fb.tx.inner_tx;
            Some(TxView {
                inner_hash: inner.tx.hash(network_id).ok()?,
                tx: std::borrow::Cow::Borrowed(&inner.tx),
                signatures: &inner.signatures,
                fee_bump: Some(FeeBumpView {
                    fee_source: muxed_to_account(&fb.tx.fee_source),
                    fee: fb.tx.fee,
                    signatures: &fb.signatures,
                    outer_hash: fb.tx.hash(network_id).ok()?,
                }),
            })
        }
    }
}

pub fn is_soroban_op(body: &OperationBody) -> bool {
    matches!(
        body,
        OperationBody::InvokeHostFunction(_)
            | OperationBody::ExtendFootprintTtl(_)
            | OperationBody::RestoreFootprint(_)
    )
}

/// Tracks which signatures were used, so unused ones can be reported as txBAD_AUTH_EXTRA.
struct SigCheck<'a> {
    hash: [u8; 32],
    sigs: &'a [DecoratedSignature],
    used: Vec<bool>,
}

impl<'a> SigCheck<'a> {
    fn new(hash: [u8; 32], sigs: &'a [DecoratedSignature]) -> Self {
        SigCheck {
            hash,
            sigs,
            used: vec![false; sigs.len()],
        }
    }

    /// Sums the weights of matching signers until `threshold` (at least 1) is met.
    fn check(&mut self, acc: &AccountEntry, threshold: u8) -> bool {
        let needed = threshold.max(1) as u32;
        let mut signers: Vec<([u8; 32], u32)> = Vec::new();
        let master = acc.thresholds.0[0] as u32;
        if master > 0 {
            signers.push((ed_bytes(&acc.account_id), master));
        }
        for s in acc.signers.iter() {
            if let soroban_env_host::xdr::SignerKey::Ed25519(Uint256(k)) = &s.key {
                signers.push((*k, s.weight));
            }
        }
        let mut total = 0u32;
        for (key, weight) in signers {
            let Ok(vk) = VerifyingKey::from_bytes(&key) else {
                continue;
            };
            for (i, sig) in self.sigs.iter().enumerate() {
                if sig.hint.0 != key[28..32] {
                    continue;
                }
                let Ok(bytes): Result<[u8; 64], _> = sig.signature.0.as_slice().try_into() else {
                    continue;
                };
                let signature = ed25519_dalek::Signature::from_bytes(&bytes);
                if vk.verify(&self.hash, &signature).is_ok() {
                    self.used[i] = true;
                    total += weight;
                    break;
                }
            }
            if total >= needed {
                return true;
            }
        }
        total >= needed
    }

    fn all_used(&self) -> bool {
        self.used.iter().all(|u| *u)
    }
}

/// Signs `hash` with `key` as a DecoratedSignature.
pub fn sign(key: &SigningKey, hash: &[u8; 32]) -> DecoratedSignature {
    let pk = key.verifying_key().to_bytes();
    let sig = key.sign(hash);
    DecoratedSignature {
        hint: SignatureHint([pk[28], pk[29], pk[30], pk[31]]),
        signature: Signature(sig.to_bytes().to_vec().try_into().expect("64 bytes")),
    }
}

impl Chain {
    /// A new network: genesis ledger 1 with the root account and the config settings.
    pub fn genesis(cfg: &ChainConfig, now: u64) -> Chain {
        let network_id = util::network_id(&cfg.passphrase);
        let root = SigningKey::from_bytes(&network_id);
        let mut chain = Chain::empty(cfg, root);
        let root_id = account_id_of(&chain.root.verifying_key());
        chain.entries.insert(
            account_key(&root_id),
            StoredEntry {
                entry: LedgerEntry {
                    last_modified_ledger_seq: 1,
                    data: LedgerEntryData::Account(new_account(root_id, TOTAL_COINS, 0, 1, now)),
                    ext: LedgerEntryExt::V0,
                },
                live_until: None,
            },
        );
        for setting in network_config::all_settings() {
            let key = LedgerKey::ConfigSetting(LedgerKeyConfigSetting {
                config_setting_id: setting.discriminant(),
            });
            chain.entries.insert(
                key,
                StoredEntry {
                    entry: LedgerEntry {
                        last_modified_ledger_seq: 1,
                        data: LedgerEntryData::ConfigSetting(setting),
                        ext: LedgerEntryExt::V0,
                    },
                    live_until: None,
                },
            );
        }
        chain.network = Arc::new(load_network_config(&chain));
        let header = chain.make_header(1, now, [0u8; 32], &[], &[]);
        chain.push_ledger(header, 0, 0);
        chain
    }

    pub(crate) fn empty(cfg: &ChainConfig, root: SigningKey) -> Chain {
        Chain {
            passphrase: cfg.passphrase.clone(),
            network_id: util::network_id(&cfg.passphrase),
            retention_ledgers: cfg.retention_ledgers.max(1),
            entries: HashMap::new(),
            ledgers: VecDeque::new(),
            txs: VecDeque::new(),
            txs_base: 0,
            tx_index: HashMap::new(),
            events: VecDeque::new(),
            events_base: 0,
            pending: Vec::new(),
            pending_hashes: HashSet::new(),
            pending_by_source: HashMap::new(),
            network: Arc::new(NetworkConfig::default()),
            root,
            total_coins: TOTAL_COINS,
            fee_pool: 0,
            module_cache: None,
            contracts: Vec::new(),
            contract_index: HashMap::new(),
        }
    }

    /// The module cache, with every live contract code among `keys` parsed into it.
    pub fn module_cache_for<'k>(
        &mut self,
        keys: impl Iterator<Item = &'k LedgerKey>,
    ) -> Option<soroban_env_host::ModuleCache> {
        let host = soroban_env_host::Host::default();
        if self.module_cache.is_none() {
            self.module_cache = soroban_env_host::ModuleCache::new(&host).ok();
        }
        let cache = self.module_cache.clone()?;
        for key in keys {
            if let LedgerKey::ContractCode(k) = key {
                if cache.contains_module(&k.hash).unwrap_or(false) {
                    continue;
                }
                if let Some(StoredEntry {
                    entry:
                        LedgerEntry {
                            data: LedgerEntryData::ContractCode(code),
                            ..
                        },
                    ..
                }) = self.entries.get(key)
                {
                    // A fresh host per module: parsing is metered against its own default budget.
                    let ctx = soroban_env_host::Host::default();
                    let _ = cache.parse_and_cache_module_simple(&ctx, PROTOCOL_VERSION, &code.code);
                }
            }
        }
        Some(cache)
    }

    /// The interned reference for a contract id (see `EventRecord::contract`).
    pub fn intern_contract(&mut self, id: Option<[u8; 32]>) -> u32 {
        let Some(id) = id else { return 0 };
        if let Some(i) = self.contract_index.get(&id) {
            return *i;
        }
        self.contracts.push(id);
        let i = self.contracts.len() as u32;
        self.contract_index.insert(id, i);
        i
    }

    pub fn contract_of(&self, e: &EventRecord) -> Option<[u8; 32]> {
        (e.contract > 0).then(|| self.contracts[e.contract as usize - 1])
    }

    pub fn latest(&self) -> &LedgerRecord {
        self.ledgers.back().expect("genesis is always present")
    }

    pub fn oldest(&self) -> &LedgerRecord {
        self.ledgers.front().expect("genesis is always present")
    }

    pub fn ledger(&self, seq: u32) -> Option<&LedgerRecord> {
        let first = self.oldest().seq;
        if seq < first {
            return None;
        }
        self.ledgers.get((seq - first) as usize)
    }

    pub fn root_account(&self) -> AccountId {
        account_id_of(&self.root.verifying_key())
    }

    pub fn account(&self, id: &AccountId) -> Option<&AccountEntry> {
        match self.entries.get(&account_key(id)).map(|e| &e.entry.data) {
            Some(LedgerEntryData::Account(a)) => Some(a),
            _ => None,
        }
    }

    pub fn tx(&self, hash: &[u8; 32]) -> Option<&TxRecord> {
        let idx = *self.tx_index.get(hash)?;
        self.txs.get((idx - self.txs_base) as usize)
    }

    pub fn tx_at(&self, global: u64) -> Option<&TxRecord> {
        if global < self.txs_base {
            return None;
        }
        self.txs.get((global - self.txs_base) as usize)
    }

    pub fn events_of(&self, first: u64, count: u32) -> impl Iterator<Item = &EventRecord> {
        let start = first.saturating_sub(self.events_base) as usize;
        self.events
            .range(start.min(self.events.len())..(start + count as usize).min(self.events.len()))
    }

    pub fn ledger_info(&self, seq: u32, time: u64) -> soroban_env_host::LedgerInfo {
        let mut li = soroban_env_host::LedgerInfo {
            protocol_version: PROTOCOL_VERSION,
            sequence_number: seq,
            timestamp: time,
            network_id: self.network_id,
            base_reserve: BASE_RESERVE,
            ..Default::default()
        };
        self.network.fill_config_fields_in_ledger_info(&mut li);
        li
    }

    /// The sequence number the next transaction from `id` must carry, counting queued ones.
    fn next_seq(&self, id: &AccountId, acc: &AccountEntry) -> i64 {
        acc.seq_num.0 + 1 + self.pending_by_source.get(id).copied().unwrap_or(0)
    }

    /// Validates a submitted envelope and queues it for the next ledger.
    pub fn submit(
        &mut self,
        envelope: TransactionEnvelope,
        envelope_xdr: Vec<u8>,
        now: u64,
    ) -> ([u8; 32], Submit) {
        let Some(v) = view(&envelope, self.network_id) else {
            return (
                [0; 32],
                Submit::Error(tx_result(0, TransactionResultResult::TxMalformed)),
            );
        };
        let hash = v
            .fee_bump
            .as_ref()
            .map(|f| f.outer_hash)
            .unwrap_or(v.inner_hash);
        if self.pending_hashes.contains(&hash) {
            return (hash, Submit::Duplicate);
        }
        if self.pending.len() >= MAX_PENDING {
            return (hash, Submit::TryAgainLater);
        }
        let source = muxed_to_account(&v.tx.source_account);
        let res = self.check(&v, now, false);
        drop(v);
        match res {
            Ok(()) => {
                *self.pending_by_source.entry(source).or_insert(0) += 1;
                self.pending_hashes.insert(hash);
                self.pending.push(PendingTx {
                    hash,
                    envelope,
                    envelope_xdr,
                });
                (hash, Submit::Pending)
            }
            Err(r) => (hash, Submit::Error(r)),
        }
    }

    /// Core's validity checks. With `at_apply`, the sequence must be exactly the next one.
    pub fn check(&self, v: &TxView<'_>, now: u64, at_apply: bool) -> Result<(), TransactionResult> {
        let tx = &v.tx;
        let n_ops = tx.operations.len() as i64;
        let min_fee = BASE_FEE as i64 * n_ops.max(1);
        let wrap = |r: TransactionResultResult| -> TransactionResult {
            match &v.fee_bump {
                None => tx_result(min_fee, r),
                Some(_) => tx_result(
                    min_fee + BASE_FEE as i64,
                    TransactionResultResult::TxFeeBumpInnerFailed(InnerTransactionResultPair {
                        transaction_hash: Hash(v.inner_hash),
                        result: InnerTransactionResult {
                            fee_charged: 0,
                            result: inner_of(r),
                            ext: InnerTransactionResultExt::V0,
                        },
                    }),
                ),
            }
        };
        if tx.operations.is_empty() {
            return Err(wrap(TransactionResultResult::TxMissingOperation));
        }
        let soroban_ops = tx
            .operations
            .iter()
            .filter(|o| is_soroban_op(&o.body))
            .count();
        let soroban_data = match &tx.ext {
            TransactionExt::V1(d) => Some(d),
            TransactionExt::V0 => None,
        };
        if soroban_ops > 0 {
            if tx.operations.len() != 1 || soroban_data.is_none() {
                return Err(wrap(TransactionResultResult::TxMalformed));
            }
            if !matches!(tx.memo, Memo::None)
                || matches!(tx.source_account, MuxedAccount::MuxedEd25519(_))
            {
                return Err(wrap(TransactionResultResult::TxSorobanInvalid));
            }
            if tx.operations[0]
                .source_account
                .as_ref()
                .is_some_and(|m| matches!(m, MuxedAccount::MuxedEd25519(_)))
            {
                return Err(wrap(TransactionResultResult::TxSorobanInvalid));
            }
            // Core's XDRProvidesValidFee, checked before anything else; it also keeps every
            // fee sum below far from i64::MAX.
            if soroban_data.is_some_and(|d| !(0..=MAX_RESOURCE_FEE).contains(&d.resource_fee)) {
                return Err(wrap(TransactionResultResult::TxMalformed));
            }
        } else if soroban_data.is_some() {
            return Err(wrap(TransactionResultResult::TxMalformed));
        }
        // Time bounds against the close time of the next ledger.
        let bounds: Option<&TimeBounds> = match &tx.cond {
            Preconditions::None => None,
            Preconditions::Time(tb) => Some(tb),
            Preconditions::V2(p) => p.time_bounds.as_ref(),
        };
        if let Some(tb) = bounds {
            if tb.min_time.0 > now {
                return Err(wrap(TransactionResultResult::TxTooEarly));
            }
            if tb.max_time.0 != 0 && tb.max_time.0 < now {
                return Err(wrap(TransactionResultResult::TxTooLate));
            }
        }
        if let Preconditions::V2(p) = &tx.cond {
            if let Some(lb) = &p.ledger_bounds {
                let next = self.latest().seq + 1;
                if next < lb.min_ledger {
                    return Err(wrap(TransactionResultResult::TxTooEarly));
                }
                if lb.max_ledger != 0 && next >= lb.max_ledger {
                    return Err(wrap(TransactionResultResult::TxTooLate));
                }
            }
        }
        let source_id = muxed_to_account(&tx.source_account);
        let Some(source) = self.account(&source_id) else {
            return Err(wrap(TransactionResultResult::TxNoAccount));
        };
        let expected = if at_apply {
            source.seq_num.0 + 1
        } else {
            self.next_seq(&source_id, source)
        };
        if tx.seq_num.0 != expected {
            return Err(wrap(TransactionResultResult::TxBadSeq));
        }
        // Fees: inclusion fee per op plus the declared resource fee.
        let resource_fee = soroban_data.map(|d| d.resource_fee).unwrap_or(0);
        if let Some(d) = soroban_data {
            if (d.resources.instructions as i64) > self.network.tx_max_instructions {
                return Err(wrap(TransactionResultResult::TxSorobanInvalid));
            }
            // The per-transaction limits of the network settings, as core checks them on entry.
            let fp = &d.resources.footprint;
            let cost = network_config::ledger_cost();
            let footprint_limit =
                network_config::ledger_cost_ext().tx_max_footprint_entries as usize;
            let reads = fp.read_only.len() + fp.read_write.len();
            let tx_size = xdr_bytes(tx.as_ref()).len() + 72 * v.signatures.len();
            if reads > footprint_limit
                || fp.read_write.len() > cost.tx_max_write_ledger_entries as usize
                || d.resources.disk_read_bytes > cost.tx_max_disk_read_bytes
                || d.resources.write_bytes > cost.tx_max_write_bytes
                || tx_size > network_config::bandwidth().tx_max_size_bytes as usize
            {
                return Err(wrap(TransactionResultResult::TxSorobanInvalid));
            }
            let (non_refundable, _) = crate::apply::declared_fees(self, tx, d, 0);
            if d.resource_fee < non_refundable {
                return Err(wrap(TransactionResultResult::TxInsufficientFee));
            }
        }
        // Checked sums: a fee that would overflow cannot be afforded either.
        let needed = min_fee.checked_add(resource_fee);
        if v.fee_bump.is_none() && needed.is_none_or(|n| (tx.fee as i64) < n) {
            return Err(wrap(TransactionResultResult::TxInsufficientFee));
        }
        // Signatures: LOW for the tx source, MEDIUM for each op's source.
        let mut sigs = SigCheck::new(v.inner_hash, v.signatures);
        if !sigs.check(source, source.thresholds.0[1]) {
            return Err(wrap(TransactionResultResult::TxBadAuth));
        }
        for op in tx.operations.iter() {
            let op_source = op
                .source_account
                .as_ref()
                .map(muxed_to_account)
                .unwrap_or_else(|| source_id.clone());
            let Some(acc) = self.account(&op_source) else {
                if matches!(op.body, OperationBody::CreateAccount(_)) || op_source == source_id {
                    continue;
                }
                return Err(wrap(TransactionResultResult::TxFailed(
                    vec![OperationResult::OpNoAccount].try_into().expect("one"),
                )));
            };
            if !sigs.check(acc, acc.thresholds.0[2]) {
                return Err(wrap(TransactionResultResult::TxBadAuth));
            }
        }
        if !sigs.all_used() {
            return Err(wrap(TransactionResultResult::TxBadAuthExtra));
        }
        // The fee payer must afford the fee and keep its reserve.
        match &v.fee_bump {
            None => {
                let fee = tx.fee as i64;
                if source
                    .balance
                    .checked_sub(fee)
                    .is_none_or(|left| left < min_balance(source))
                {
                    return Err(wrap(TransactionResultResult::TxInsufficientBalance));
                }
            }
            Some(fb) => {
                let Some(payer) = self.account(&fb.fee_source) else {
                    return Err(tx_result(min_fee, TransactionResultResult::TxNoAccount));
                };
                let needed = needed.and_then(|n| n.checked_add(BASE_FEE as i64));
                if needed.is_none_or(|n| fb.fee < n) {
                    return Err(tx_result(
                        min_fee,
                        TransactionResultResult::TxInsufficientFee,
                    ));
                }
                let mut outer = SigCheck::new(fb.outer_hash, fb.signatures);
                if !outer.check(payer, payer.thresholds.0[1]) {
                    return Err(tx_result(min_fee, TransactionResultResult::TxBadAuth));
                }
                if !outer.all_used() {
                    return Err(tx_result(min_fee, TransactionResultResult::TxBadAuthExtra));
                }
                if payer
                    .balance
                    .checked_sub(fb.fee)
                    .is_none_or(|left| left < min_balance(payer))
                {
                    return Err(tx_result(
                        min_fee,
                        TransactionResultResult::TxInsufficientBalance,
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn make_header(
        &self,
        seq: u32,
        close_time: u64,
        prev: [u8; 32],
        tx_hashes: &[[u8; 32]],
        results: &[TransactionResultPair],
    ) -> LedgerHeader {
        let mut set = Vec::with_capacity(32 * tx_hashes.len());
        for h in tx_hashes {
            set.extend_from_slice(h);
        }
        let mut res = Vec::new();
        for r in results {
            res.extend(xdr_bytes(r));
        }
        LedgerHeader {
            ledger_version: PROTOCOL_VERSION,
            previous_ledger_hash: Hash(prev),
            scp_value: StellarValue {
                tx_set_hash: Hash(sha256(&set)),
                close_time: TimePoint(close_time),
                upgrades: VecM::default(),
                ext: StellarValueExt::Basic,
            },
            tx_set_result_hash: Hash(sha256(&res)),
            bucket_list_hash: Hash(sha256(&seq.to_be_bytes())),
            ledger_seq: seq,
            total_coins: self.total_coins,
            fee_pool: self.fee_pool,
            inflation_seq: 0,
            id_pool: 0,
            base_fee: BASE_FEE,
            base_reserve: BASE_RESERVE,
            max_tx_set_size: 1000,
            skip_list: [Hash([0; 32]), Hash([0; 32]), Hash([0; 32]), Hash([0; 32])],
            ext: LedgerHeaderExt::V0,
        }
    }

    fn push_ledger(&mut self, header: LedgerHeader, tx_count: u32, ev_count: u32) {
        let hash = sha256(&xdr_bytes(&header));
        let tx_first = self.txs_base + self.txs.len() as u64 - tx_count as u64;
        let ev_first = self.events_base + self.events.len() as u64 - ev_count as u64;
        self.ledgers.push_back(LedgerRecord {
            seq: header.ledger_seq,
            close_time: header.scp_value.close_time.0,
            hash,
            header,
            tx_first,
            tx_count,
            ev_first,
            ev_count,
        });
        self.prune();
    }

    /// Drops ledgers (and their transactions and events) beyond the retention window.
    fn prune(&mut self) {
        while self.ledgers.len() > self.retention_ledgers as usize {
            let old = self.ledgers.pop_front().expect("non-empty");
            for _ in 0..old.tx_count {
                if let Some(t) = self.txs.pop_front() {
                    self.tx_index.remove(&t.hash);
                    self.txs_base += 1;
                }
            }
            for _ in 0..old.ev_count {
                if self.events.pop_front().is_some() {
                    self.events_base += 1;
                }
            }
        }
    }

    /// Closes the next ledger at `close_time`, applying every queued transaction in order.
    pub fn close_ledger(&mut self, now: u64) -> u32 {
        let prev = self.latest().clone();
        let seq = prev.seq + 1;
        let close_time = now.max(prev.close_time);
        let pending = std::mem::take(&mut self.pending);
        self.pending_hashes.clear();
        self.pending_by_source.clear();
        let mut hashes = Vec::new();
        let mut results = Vec::new();
        let mut ev_count = 0u32;
        let mut order = 0u32;
        for p in pending {
            let Some(v) = view(&p.envelope, self.network_id) else {
                continue;
            };
            // Core trims transactions that became invalid while queued.
            if self.check(&v, close_time, true).is_err() {
                continue;
            }
            order += 1;
            let applied = crate::apply::apply_tx(self, &v, seq, close_time, order);
            drop(v);
            let ev_first = self.events_base + self.events.len() as u64;
            let n_events = applied.events.len() as u32;
            for (op, idx, ev, successful) in applied.events {
                let contract = self.intern_contract(ev.contract_id.as_ref().map(|c| c.0 .0));
                let system = matches!(ev.type_, soroban_env_host::xdr::ContractEventType::System);
                self.events.push_back(EventRecord {
                    ledger: seq,
                    tx: order,
                    op,
                    index: idx,
                    successful,
                    contract,
                    system,
                    body: xdr_bytes(&ev).into_boxed_slice(),
                });
            }
            ev_count += n_events;
            results.push(TransactionResultPair {
                transaction_hash: Hash(p.hash),
                result: applied.result.clone(),
            });
            hashes.push(p.hash);
            let global = self.txs_base + self.txs.len() as u64;
            self.tx_index.insert(p.hash, global);
            self.txs.push_back(TxRecord {
                hash: p.hash,
                ledger: seq,
                order,
                fee_bump: matches!(p.envelope, TransactionEnvelope::TxFeeBump(_)),
                success: applied.success,
                envelope: p.envelope_xdr,
                result: xdr_bytes(&applied.result),
                meta: xdr_bytes(&applied.meta),
                ev_first,
                ev_count: n_events,
            });
        }
        let header = self.make_header(seq, close_time, prev.hash, &hashes, &results);
        self.push_ledger(header, order, ev_count);
        seq
    }

    /// Benchmark aid: appends ledgers holding `total` synthetic SEP-41 `mint` events
    /// (`per_ledger` per ledger, all in one placeholder transaction), so memory and getEvents
    /// throughput can be measured at a million retained events without executing 500k txs.
    pub fn seed_synthetic_events(&mut self, total: u64, per_ledger: u32, now: u64) {
        use soroban_env_host::xdr::{
            ContractEventType, ContractEventV0, ContractId, Int128Parts, OperationMetaV2,
            ScAddress, ScMap, ScMapEntry, ScSymbol, ScVal, TransactionMetaV4,
        };
        let root = self.root_account();
        let mut left = total;
        let mut n_ledger = 0u64;
        let synthetic_contract = self.intern_contract(Some([0xBE; 32]));
        self.events.reserve(total as usize);
        while left > 0 {
            let n = (per_ledger.max(1) as u64).min(left) as u32;
            let prev = self.latest().clone();
            let seq = prev.seq + 1;
            let hash = sha256(&[&b"synthetic"[..], &seq.to_be_bytes()[..]].concat());
            let ev_first = self.events_base + self.events.len() as u64;
            for i in 0..n {
                let mut to = [0u8; 32];
                to[..8].copy_from_slice(&(n_ledger * per_ledger as u64 + i as u64).to_be_bytes());
                let ev = ContractEvent {
                    ext: ExtensionPoint::V0,
                    contract_id: Some(ContractId(Hash([0xBE; 32]))),
                    type_: ContractEventType::Contract,
                    body: soroban_env_host::xdr::ContractEventBody::V0(ContractEventV0 {
                        topics: vec![
                            ScVal::Symbol(ScSymbol("mint".try_into().expect("symbol"))),
                            ScVal::Address(ScAddress::Account(AccountId(
                                PublicKey::PublicKeyTypeEd25519(Uint256(to)),
                            ))),
                        ]
                        .try_into()
                        .expect("topics"),
                        data: ScVal::Map(Some(ScMap(
                            vec![ScMapEntry {
                                key: ScVal::Symbol(ScSymbol("amount".try_into().expect("symbol"))),
                                val: ScVal::I128(Int128Parts {
                                    hi: 0,
                                    lo: 50_0000000 + i as u64,
                                }),
                            }]
                            .try_into()
                            .expect("map"),
                        ))),
                    }),
                };
                self.events.push_back(EventRecord {
                    ledger: seq,
                    tx: 1,
                    op: 0,
                    index: i,
                    successful: true,
                    contract: synthetic_contract,
                    system: false,
                    body: xdr_bytes(&ev).into_boxed_slice(),
                });
            }
            let envelope = TransactionEnvelope::Tx(TransactionV1Envelope {
                tx: Transaction {
                    source_account: MuxedAccount::Ed25519(Uint256(ed_bytes(&root))),
                    fee: BASE_FEE,
                    seq_num: SequenceNumber(0),
                    cond: Preconditions::None,
                    memo: Memo::None,
                    operations: VecM::default(),
                    ext: TransactionExt::V0,
                },
                signatures: VecM::default(),
            });
            let meta = TransactionMeta::V4(TransactionMetaV4 {
                ext: ExtensionPoint::V0,
                tx_changes_before: Default::default(),
                operations: vec![OperationMetaV2 {
                    ext: ExtensionPoint::V0,
                    changes: Default::default(),
                    events: VecM::default(),
                }]
                .try_into()
                .expect("one op"),
                tx_changes_after: Default::default(),
                soroban_meta: None,
                events: VecM::default(),
                diagnostic_events: VecM::default(),
            });
            let global = self.txs_base + self.txs.len() as u64;
            self.tx_index.insert(hash, global);
            self.txs.push_back(TxRecord {
                hash,
                ledger: seq,
                order: 1,
                fee_bump: false,
                success: true,
                envelope: xdr_bytes(&envelope),
                result: xdr_bytes(&tx_result(
                    BASE_FEE as i64,
                    TransactionResultResult::TxSuccess(VecM::default()),
                )),
                meta: xdr_bytes(&meta),
                ev_first,
                ev_count: n,
            });
            let header = self.make_header(seq, now.max(prev.close_time), prev.hash, &[hash], &[]);
            self.push_ledger(header, 1, n);
            left -= n as u64;
            n_ledger += 1;
        }
    }

    /// Builds, signs and queues a CreateAccount from the root account (friendbot).
    pub fn queue_friendbot(&mut self, dest: AccountId, now: u64) -> Result<[u8; 32], &'static str> {
        if self.account(&dest).is_some() {
            return Err("createAccountAlreadyExist");
        }
        let root_id = self.root_account();
        let root = self.account(&root_id).ok_or("root account missing")?;
        let seq = self.next_seq(&root_id, root);
        let tx = Transaction {
            source_account: MuxedAccount::Ed25519(Uint256(ed_bytes(&root_id))),
            fee: BASE_FEE,
            seq_num: SequenceNumber(seq),
            cond: Preconditions::None,
            memo: Memo::None,
            operations: vec![Operation {
                source_account: None,
                body: OperationBody::CreateAccount(CreateAccountOp {
                    destination: dest,
                    starting_balance: FRIENDBOT_STARTING_BALANCE,
                }),
            }]
            .try_into()
            .expect("one op"),
            ext: TransactionExt::V0,
        };
        let hash = tx.hash(self.network_id).map_err(|_| "hash")?;
        let sig = sign(&self.root, &hash);
        let env = TransactionEnvelope::Tx(TransactionV1Envelope {
            tx,
            signatures: vec![sig].try_into().expect("one sig"),
        });
        let bytes = xdr_bytes(&env);
        match self.submit(env, bytes, now) {
            (h, Submit::Pending) => Ok(h),
            _ => Err("friendbot transaction refused"),
        }
    }

    /// getLedgers' metadataXdr: a LedgerCloseMeta V2 with this ledger's transactions.
    pub fn close_meta(&self, rec: &LedgerRecord) -> LedgerCloseMeta {
        let mut processing = Vec::new();
        for i in 0..rec.tx_count as u64 {
            let Some(t) = self.tx_at(rec.tx_first + i) else {
                continue;
            };
            let result =
                TransactionResult::from_xdr(&t.result[..], Limits::none()).expect("stored result");
            processing.push(TransactionResultMetaV1 {
                ext: ExtensionPoint::V0,
                result: TransactionResultPair {
                    transaction_hash: Hash(t.hash),
                    result,
                },
                fee_processing: soroban_env_host::xdr::LedgerEntryChanges::default(),
                tx_apply_processing: self.full_meta(t),
                post_tx_apply_fee_processing: soroban_env_host::xdr::LedgerEntryChanges::default(),
            });
        }
        LedgerCloseMeta::V2(LedgerCloseMetaV2 {
            ext: LedgerCloseMetaExt::V0,
            ledger_header: LedgerHeaderHistoryEntry {
                hash: Hash(rec.hash),
                header: rec.header.clone(),
                ext: LedgerHeaderHistoryEntryExt::V0,
            },
            tx_set: GeneralizedTransactionSet::V1(TransactionSetV1 {
                previous_ledger_hash: rec.header.previous_ledger_hash.clone(),
                phases: VecM::default(),
            }),
            tx_processing: processing.try_into().unwrap_or_default(),
            upgrades_processing: VecM::default(),
            scp_info: VecM::default(),
            total_byte_size_of_live_soroban_state: 0,
            evicted_keys: VecM::default(),
        })
    }

    /// The stored meta with its contract events put back into each operation.
    pub fn full_meta(&self, t: &TxRecord) -> TransactionMeta {
        let mut meta = TransactionMeta::from_xdr(&t.meta[..], Limits::none()).expect("stored meta");
        if let TransactionMeta::V4(m) = &mut meta {
            let mut ops: Vec<_> = m.operations.to_vec();
            let mut per_op: Vec<Vec<ContractEvent>> = vec![Vec::new(); ops.len()];
            for e in self.events_of(t.ev_first, t.ev_count) {
                if let Some(slot) = per_op.get_mut(e.op as usize) {
                    slot.push(e.decode());
                }
            }
            for (op, evs) in ops.iter_mut().zip(per_op) {
                op.events = evs.try_into().unwrap_or_default();
            }
            m.operations = ops.try_into().unwrap_or_default();
        }
        meta
    }

    /// Contract events of one transaction, grouped per operation (getTransaction's `events`).
    pub fn tx_events(&self, t: &TxRecord, n_ops: usize) -> Vec<Vec<ContractEvent>> {
        let mut per_op: Vec<Vec<ContractEvent>> = vec![Vec::new(); n_ops];
        for e in self.events_of(t.ev_first, t.ev_count) {
            if let Some(slot) = per_op.get_mut(e.op as usize) {
                slot.push(e.decode());
            }
        }
        per_op
    }

    /// Index (into `events`) of the first retained event at or after `c`.
    pub fn event_position(&self, c: util::Cursor) -> usize {
        self.events.partition_point(|e| e.cursor() < c)
    }
}

pub fn inner_of(r: TransactionResultResult) -> InnerTransactionResultResult {
    use InnerTransactionResultResult as I;
    use TransactionResultResult as T;
    match r {
        T::TxSuccess(o) => I::TxSuccess(o),
        T::TxFailed(o) => I::TxFailed(o),
        T::TxTooEarly => I::TxTooEarly,
        T::TxTooLate => I::TxTooLate,
        T::TxMissingOperation => I::TxMissingOperation,
        T::TxBadSeq => I::TxBadSeq,
        T::TxBadAuth => I::TxBadAuth,
        T::TxInsufficientBalance => I::TxInsufficientBalance,
        T::TxNoAccount => I::TxNoAccount,
        T::TxInsufficientFee => I::TxInsufficientFee,
        T::TxBadAuthExtra => I::TxBadAuthExtra,
        T::TxNotSupported => I::TxNotSupported,
        T::TxBadSponsorship => I::TxBadSponsorship,
        T::TxBadMinSeqAgeOrGap => I::TxBadMinSeqAgeOrGap,
        T::TxMalformed => I::TxMalformed,
        T::TxSorobanInvalid => I::TxSorobanInvalid,
        T::TxFrozenKeyAccessed => I::TxFrozenKeyAccessed,
        _ => I::TxInternalError,
    }
}

/// Loads the simulation's NetworkConfig from the chain's CONFIG_SETTING entries.
pub fn load_network_config(chain: &Chain) -> NetworkConfig {
    struct Settings<'a>(&'a Chain);
    impl soroban_env_host::storage::SnapshotSource for Settings<'_> {
        fn get(
            &self,
            key: &std::rc::Rc<LedgerKey>,
        ) -> Result<
            Option<soroban_env_host::storage::EntryWithLiveUntil>,
            soroban_env_host::HostError,
        > {
            Ok(self
                .0
                .entries
                .get(key.as_ref())
                .map(|e| (std::rc::Rc::new(e.entry.clone()), e.live_until)))
        }
    }
    NetworkConfig::load_from_snapshot(&Settings(chain))
        .expect("genesis carries every config setting")
}

/// The CONFIG_SETTING entries, for tests and diagnostics.
pub fn settings_of(chain: &Chain) -> Vec<ConfigSettingEntry> {
    chain
        .entries
        .values()
        .filter_map(|e| match &e.entry.data {
            LedgerEntryData::ConfigSetting(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}
