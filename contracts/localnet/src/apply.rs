//! Applying one transaction: fees and sequence, classic account ops, and Soroban
//! operations through `soroban_env_host::e2e_invoke` (the entry point core uses).

use soroban_env_host::budget::Budget;
use soroban_env_host::e2e_invoke::{self, extract_rent_changes, TtlLedgerEntryMeta};
use soroban_env_host::fees::{
    compute_rent_fee, compute_transaction_resource_fee, TransactionResources,
};
use soroban_env_host::xdr::{
    AccountId, Asset, ContractDataDurability, ContractEvent, CreateAccountResult, DiagnosticEvent,
    ExtendFootprintTtlResult, ExtensionPoint, Hash, InnerTransactionResult,
    InnerTransactionResultExt, InnerTransactionResultPair, InvokeHostFunctionOp,
    InvokeHostFunctionResult, InvokeHostFunctionSuccessPreImage, LedgerEntry, LedgerEntryChange,
    LedgerEntryData, LedgerKey, Limits, OperationBody, OperationMetaV2, OperationResult,
    OperationResultTr, PaymentResult, ReadXdr, RestoreFootprintResult, ScVal,
    SorobanTransactionData, SorobanTransactionDataExt, SorobanTransactionMetaExt,
    SorobanTransactionMetaExtV1, SorobanTransactionMetaV2, Transaction, TransactionMeta,
    TransactionMetaV4, TransactionResult, TransactionResultResult, VecM,
};

use crate::chain::{
    account_key, min_balance, muxed_to_account, new_account, set_seq, tx_result, Chain,
    StoredEntry, TxView, BASE_FEE,
};
use crate::util::{sha256, xdr_bytes};

pub struct Applied {
    pub result: TransactionResult,
    pub meta: TransactionMeta,
    pub success: bool,
    /// (op index, event index within the op, event, in a successful call)
    pub events: Vec<(u32, u32, ContractEvent, bool)>,
}

/// Entries touched by the operations, so a failed transaction can be rolled back.
struct Journal(Vec<(LedgerKey, Option<StoredEntry>)>);

impl Journal {
    fn put(&mut self, chain: &mut Chain, key: LedgerKey, value: Option<StoredEntry>) {
        let old = match value {
            Some(v) => chain.entries.insert(key.clone(), v),
            None => chain.entries.remove(&key),
        };
        self.0.push((key, old));
    }
    fn rollback(self, chain: &mut Chain) {
        for (key, old) in self.0.into_iter().rev() {
            match old {
                Some(v) => chain.entries.insert(key, v),
                None => chain.entries.remove(&key),
            };
        }
    }
}

fn change_pair(
    old: Option<&LedgerEntry>,
    new: Option<&LedgerEntry>,
    key: &LedgerKey,
    out: &mut Vec<LedgerEntryChange>,
) {
    match (old, new) {
        (None, Some(n)) => out.push(LedgerEntryChange::Created(n.clone())),
        (Some(o), Some(n)) => {
            out.push(LedgerEntryChange::State(o.clone()));
            out.push(LedgerEntryChange::Updated(n.clone()));
        }
        (Some(o), None) => {
            out.push(LedgerEntryChange::State(o.clone()));
            out.push(LedgerEntryChange::Removed(key.clone()));
        }
        (None, None) => {}
    }
}

fn tx_size(tx: &Transaction, n_sigs: usize) -> u32 {
    // Envelope = type tag + tx + signature vector (4-byte hint + 64-byte sig + lengths).
    (xdr_bytes(tx).len() + 4 + 4 + n_sigs * 72) as u32
}

/// (non-refundable, refundable-for-events) resource fee for the declared resources.
pub fn declared_fees(
    chain: &Chain,
    tx: &Transaction,
    d: &SorobanTransactionData,
    events_size: u32,
) -> (i64, i64) {
    let fp = &d.resources.footprint;
    let disk_read_entries = fp
        .read_only
        .iter()
        .chain(fp.read_write.iter())
        .filter(|k| !matches!(k, LedgerKey::ContractData(_) | LedgerKey::ContractCode(_)))
        .count() as u32
        + match &d.ext {
            SorobanTransactionDataExt::V1(e) => e.archived_soroban_entries.len() as u32,
            SorobanTransactionDataExt::V0 => 0,
        };
    let resources = TransactionResources {
        instructions: d.resources.instructions,
        disk_read_entries,
        write_entries: fp.read_write.len() as u32,
        disk_read_bytes: d.resources.disk_read_bytes,
        write_bytes: d.resources.write_bytes,
        contract_events_size_bytes: events_size,
        transaction_size_bytes: tx_size(tx, 1),
    };
    compute_transaction_resource_fee(&resources, &chain.network.fee_configuration)
}

fn is_temporary(key: &LedgerKey) -> bool {
    matches!(key, LedgerKey::ContractData(k) if k.durability == ContractDataDurability::Temporary)
}

/// Applies one validated transaction in ledger `seq`.
pub fn apply_tx(chain: &mut Chain, v: &TxView<'_>, seq: u32, time: u64, order: u32) -> Applied {
    let tx: &Transaction = &v.tx;
    let source_id = muxed_to_account(&tx.source_account);
    let payer_id = v
        .fee_bump
        .as_ref()
        .map(|f| f.fee_source.clone())
        .unwrap_or_else(|| source_id.clone());
    let soroban = match &tx.ext {
        soroban_env_host::xdr::TransactionExt::V1(d) => Some(d.clone()),
        soroban_env_host::xdr::TransactionExt::V0 => None,
    };
    let n_ops = tx.operations.len() as i64;
    let inclusion = BASE_FEE as i64 * n_ops
        + if v.fee_bump.is_some() {
            BASE_FEE as i64
        } else {
            0
        };
    let declared_resource = soroban.as_ref().map(|d| d.resource_fee).unwrap_or(0);
    let non_refundable = soroban
        .as_ref()
        .map(|d| declared_fees(chain, tx, d, 0).0)
        .unwrap_or(0);
    let upfront = inclusion + declared_resource;

    // Fee and sequence number: these stick whatever the operations do.
    let mut before = Vec::new();
    {
        let key = account_key(&payer_id);
        let old = chain.entries.get(&key).cloned().expect("validated payer");
        let mut new = old.clone();
        if let LedgerEntryData::Account(a) = &mut new.entry.data {
            a.balance -= upfront;
        }
        new.entry.last_modified_ledger_seq = seq;
        change_pair(Some(&old.entry), Some(&new.entry), &key, &mut before);
        chain.entries.insert(key, new);
        chain.fee_pool += upfront;
    }
    {
        let key = account_key(&source_id);
        let old = chain.entries.get(&key).cloned().expect("validated source");
        let mut new = old.clone();
        if let LedgerEntryData::Account(a) = &mut new.entry.data {
            set_seq(a, tx.seq_num.0, seq, time);
        }
        new.entry.last_modified_ledger_seq = seq;
        change_pair(Some(&old.entry), Some(&new.entry), &key, &mut before);
        chain.entries.insert(key, new);
    }

    let mut journal = Journal(Vec::new());
    let mut op_results = Vec::new();
    let mut op_metas = Vec::new();
    let mut events = Vec::new();
    let mut diagnostics = Vec::new();
    let mut return_value = None;
    let mut refundable_charged = 0i64;
    let mut rent_charged = 0i64;
    let mut ok = true;
    for (i, op) in tx.operations.iter().enumerate() {
        let op_source = op
            .source_account
            .as_ref()
            .map(muxed_to_account)
            .unwrap_or_else(|| source_id.clone());
        let mut changes = Vec::new();
        let res = match &op.body {
            OperationBody::CreateAccount(c) => create_account(
                chain,
                &mut journal,
                &op_source,
                &c.destination,
                c.starting_balance,
                seq,
                time,
                &mut changes,
            ),
            OperationBody::Payment(p) => {
                let dest = muxed_to_account(&p.destination);
                payment(
                    chain,
                    &mut journal,
                    &op_source,
                    &dest,
                    &p.asset,
                    p.amount,
                    seq,
                    &mut changes,
                )
            }
            OperationBody::InvokeHostFunction(f) => {
                let d = soroban.as_ref().expect("validated soroban data");
                let seed = sha256(&[&v.inner_hash[..], &(i as u32).to_be_bytes()].concat());
                let out = invoke(
                    chain,
                    &mut journal,
                    d,
                    f,
                    &op_source,
                    seq,
                    time,
                    seed,
                    non_refundable,
                    &mut changes,
                    &mut diagnostics,
                );
                if let Ok(s) = &out {
                    return_value = Some(s.return_value.clone());
                    refundable_charged += s.refundable;
                    rent_charged += s.rent;
                    for (j, e) in s.events.iter().enumerate() {
                        events.push((i as u32, j as u32, e.clone(), true));
                    }
                }
                match out {
                    Ok(s) => OperationResult::OpInner(OperationResultTr::InvokeHostFunction(
                        InvokeHostFunctionResult::Success(Hash(s.hash)),
                    )),
                    Err(r) => OperationResult::OpInner(OperationResultTr::InvokeHostFunction(r)),
                }
            }
            OperationBody::ExtendFootprintTtl(e) => {
                let d = soroban.as_ref().expect("validated soroban data");
                let target = seq
                    .saturating_add(e.extend_to)
                    .min(seq + chain.network.max_entry_ttl - 1);
                for key in d.resources.footprint.read_only.iter() {
                    if let Some(se) = chain.entries.get(key).cloned() {
                        if let Some(lu) = se.live_until {
                            if lu >= seq && lu < target {
                                journal.put(
                                    chain,
                                    key.clone(),
                                    Some(StoredEntry {
                                        live_until: Some(target),
                                        ..se
                                    }),
                                );
                            }
                        }
                    }
                }
                OperationResult::OpInner(OperationResultTr::ExtendFootprintTtl(
                    ExtendFootprintTtlResult::Success,
                ))
            }
            OperationBody::RestoreFootprint(_) => {
                let d = soroban.as_ref().expect("validated soroban data");
                let live = seq + chain.network.min_persistent_entry_ttl - 1;
                for key in d.resources.footprint.read_write.iter() {
                    if let Some(se) = chain.entries.get(key).cloned() {
                        if se.live_until.is_some_and(|lu| lu < seq) && !is_temporary(key) {
                            let mut entry = se.entry.clone();
                            entry.last_modified_ledger_seq = seq;
                            changes.push(LedgerEntryChange::Restored(entry.clone()));
                            journal.put(
                                chain,
                                key.clone(),
                                Some(StoredEntry {
                                    entry,
                                    live_until: Some(live),
                                }),
                            );
                        }
                    }
                }
                OperationResult::OpInner(OperationResultTr::RestoreFootprint(
                    RestoreFootprintResult::Success,
                ))
            }
            _ => OperationResult::OpNotSupported,
        };
        if !op_succeeded(&res) {
            ok = false;
        }
        op_results.push(res);
        op_metas.push(OperationMetaV2 {
            ext: ExtensionPoint::V0,
            changes: changes.try_into().unwrap_or_default(),
            events: VecM::default(),
        });
    }

    if !ok {
        journal.rollback(chain);
        events.clear();
        op_metas.clear();
        refundable_charged = 0;
        rent_charged = 0;
        return_value = None;
    }

    // Refund what the transaction declared but did not use.
    let charged = inclusion
        + if soroban.is_some() {
            non_refundable + refundable_charged
        } else {
            0
        };
    let charged = charged.min(upfront);
    let refund = upfront - charged;
    let mut after = Vec::new();
    if refund > 0 {
        let key = account_key(&payer_id);
        if let Some(old) = chain.entries.get(&key).cloned() {
            let mut new = old.clone();
            if let LedgerEntryData::Account(a) = &mut new.entry.data {
                a.balance += refund;
            }
            new.entry.last_modified_ledger_seq = seq;
            change_pair(Some(&old.entry), Some(&new.entry), &key, &mut after);
            chain.entries.insert(key, new);
            chain.fee_pool -= refund;
        }
    }

    let ops: VecM<OperationResult> = op_results.try_into().unwrap_or_default();
    let inner = if ok {
        TransactionResultResult::TxSuccess(ops)
    } else {
        TransactionResultResult::TxFailed(ops)
    };
    let result = match &v.fee_bump {
        None => tx_result(charged, inner),
        Some(_) => {
            let inner_result = InnerTransactionResult {
                fee_charged: charged - BASE_FEE as i64,
                result: crate::chain::inner_of(inner),
                ext: InnerTransactionResultExt::V0,
            };
            let pair = InnerTransactionResultPair {
                transaction_hash: Hash(v.inner_hash),
                result: inner_result,
            };
            tx_result(
                charged,
                if ok {
                    TransactionResultResult::TxFeeBumpInnerSuccess(pair)
                } else {
                    TransactionResultResult::TxFeeBumpInnerFailed(pair)
                },
            )
        }
    };
    let soroban_meta = soroban.as_ref().map(|_| SorobanTransactionMetaV2 {
        ext: SorobanTransactionMetaExt::V1(SorobanTransactionMetaExtV1 {
            ext: ExtensionPoint::V0,
            total_non_refundable_resource_fee_charged: non_refundable,
            total_refundable_resource_fee_charged: refundable_charged,
            rent_fee_charged: rent_charged,
        }),
        return_value,
    });
    // Diagnostics are kept for failed transactions only: they explain the failure.
    let diagnostics: Vec<DiagnosticEvent> = if ok { Vec::new() } else { diagnostics };
    let meta = TransactionMeta::V4(TransactionMetaV4 {
        ext: ExtensionPoint::V0,
        tx_changes_before: before.try_into().unwrap_or_default(),
        operations: op_metas.try_into().unwrap_or_default(),
        tx_changes_after: after.try_into().unwrap_or_default(),
        soroban_meta,
        events: VecM::default(),
        diagnostic_events: diagnostics.try_into().unwrap_or_default(),
    });
    let _ = order;
    Applied {
        result,
        meta,
        success: ok,
        events,
    }
}

fn op_succeeded(r: &OperationResult) -> bool {
    use OperationResultTr as T;
    matches!(
        r,
        OperationResult::OpInner(
            T::CreateAccount(CreateAccountResult::Success)
                | T::Payment(PaymentResult::Success)
                | T::InvokeHostFunction(InvokeHostFunctionResult::Success(_))
                | T::ExtendFootprintTtl(ExtendFootprintTtlResult::Success)
                | T::RestoreFootprint(RestoreFootprintResult::Success)
        )
    )
}

#[allow(clippy::too_many_arguments)]
fn create_account(
    chain: &mut Chain,
    journal: &mut Journal,
    source: &AccountId,
    dest: &AccountId,
    amount: i64,
    seq: u32,
    time: u64,
    changes: &mut Vec<LedgerEntryChange>,
) -> OperationResult {
    let r = |c| OperationResult::OpInner(OperationResultTr::CreateAccount(c));
    if amount <= 0 || dest == source {
        return r(CreateAccountResult::Malformed);
    }
    if chain.account(dest).is_some() {
        return r(CreateAccountResult::AlreadyExist);
    }
    if amount < 2 * crate::chain::BASE_RESERVE as i64 {
        return r(CreateAccountResult::LowReserve);
    }
    let src_key = account_key(source);
    let Some(old) = chain.entries.get(&src_key).cloned() else {
        return OperationResult::OpNoAccount;
    };
    let LedgerEntryData::Account(acc) = &old.entry.data else {
        return OperationResult::OpNoAccount;
    };
    if acc.balance - amount < min_balance(acc) {
        return r(CreateAccountResult::Underfunded);
    }
    let mut new = old.clone();
    if let LedgerEntryData::Account(a) = &mut new.entry.data {
        a.balance -= amount;
    }
    new.entry.last_modified_ledger_seq = seq;
    change_pair(Some(&old.entry), Some(&new.entry), &src_key, changes);
    journal.put(chain, src_key, Some(new));
    let created = StoredEntry {
        entry: LedgerEntry {
            last_modified_ledger_seq: seq,
            data: LedgerEntryData::Account(new_account(
                dest.clone(),
                amount,
                (seq as i64) << 32,
                seq,
                time,
            )),
            ext: soroban_env_host::xdr::LedgerEntryExt::V0,
        },
        live_until: None,
    };
    changes.push(LedgerEntryChange::Created(created.entry.clone()));
    journal.put(chain, account_key(dest), Some(created));
    r(CreateAccountResult::Success)
}

#[allow(clippy::too_many_arguments)]
fn payment(
    chain: &mut Chain,
    journal: &mut Journal,
    source: &AccountId,
    dest: &AccountId,
    asset: &Asset,
    amount: i64,
    seq: u32,
    changes: &mut Vec<LedgerEntryChange>,
) -> OperationResult {
    let r = |c| OperationResult::OpInner(OperationResultTr::Payment(c));
    if !matches!(asset, Asset::Native) {
        return OperationResult::OpNotSupported;
    }
    if amount <= 0 {
        return r(PaymentResult::Malformed);
    }
    if chain.account(dest).is_none() {
        return r(PaymentResult::NoDestination);
    }
    let Some(src) = chain.account(source) else {
        return OperationResult::OpNoAccount;
    };
    if src.balance - amount < min_balance(src) {
        return r(PaymentResult::Underfunded);
    }
    if source == dest {
        return r(PaymentResult::Success);
    }
    for (id, delta) in [(source, -amount), (dest, amount)] {
        let key = account_key(id);
        let old = chain.entries.get(&key).cloned().expect("checked above");
        let mut new = old.clone();
        if let LedgerEntryData::Account(a) = &mut new.entry.data {
            a.balance += delta;
        }
        new.entry.last_modified_ledger_seq = seq;
        change_pair(Some(&old.entry), Some(&new.entry), &key, changes);
        journal.put(chain, key, Some(new));
    }
    r(PaymentResult::Success)
}

struct InvokeSuccess {
    return_value: ScVal,
    events: Vec<ContractEvent>,
    hash: [u8; 32],
    refundable: i64,
    rent: i64,
}

/// Runs one InvokeHostFunction op in enforcing mode and commits its ledger changes.
#[allow(clippy::too_many_arguments)]
fn invoke(
    chain: &mut Chain,
    journal: &mut Journal,
    d: &SorobanTransactionData,
    op: &InvokeHostFunctionOp,
    source: &AccountId,
    seq: u32,
    time: u64,
    seed: [u8; 32],
    non_refundable: i64,
    changes: &mut Vec<LedgerEntryChange>,
    diagnostics: &mut Vec<DiagnosticEvent>,
) -> Result<InvokeSuccess, InvokeHostFunctionResult> {
    let net = chain.network.clone();
    let budget = Budget::try_from_configs(
        d.resources.instructions as u64,
        net.tx_memory_limit as u64,
        net.cpu_cost_params.clone(),
        net.memory_cost_params.clone(),
    )
    .map_err(|_| InvokeHostFunctionResult::Malformed)?;
    let restored: Vec<u32> = match &d.ext {
        SorobanTransactionDataExt::V1(e) => e.archived_soroban_entries.to_vec(),
        SorobanTransactionDataExt::V0 => Vec::new(),
    };
    let fp = &d.resources.footprint;
    let n_ro = fp.read_only.len();
    // Sizes for rent are bookkeeping, not execution: they are metered apart from the tx budget.
    let size_budget = Budget::default();
    let mut inputs: Vec<(Option<Vec<u8>>, Option<TtlLedgerEntryMeta>)> =
        Vec::with_capacity(n_ro + fp.read_write.len());
    for (i, key) in fp.read_only.iter().chain(fp.read_write.iter()).enumerate() {
        let Some(se) = chain.entries.get(key) else {
            inputs.push((None, None));
            continue;
        };
        let bytes = xdr_bytes(&se.entry);
        match se.live_until {
            None => inputs.push((Some(bytes), None)),
            Some(lu) => {
                let live_until = if lu >= seq {
                    lu
                } else if is_temporary(key) {
                    inputs.push((None, None));
                    continue;
                } else if i >= n_ro && restored.contains(&((i - n_ro) as u32)) {
                    seq + net.min_persistent_entry_ttl - 1
                } else {
                    return Err(InvokeHostFunctionResult::EntryArchived);
                };
                let size =
                    e2e_invoke::entry_size_for_rent(&size_budget, &se.entry, bytes.len() as u32)
                        .map_err(|_| InvokeHostFunctionResult::Trapped)?;
                inputs.push((
                    Some(bytes),
                    Some(TtlLedgerEntryMeta {
                        live_until_ledger: live_until,
                        entry_size_for_rent: size,
                    }),
                ));
            }
        }
    }
    let auth: Vec<Vec<u8>> = op.auth.iter().map(xdr_bytes).collect();
    let module_cache = chain.module_cache_for(fp.read_only.iter().chain(fp.read_write.iter()));
    let ledger_info = chain.ledger_info(seq, time);
    let res = e2e_invoke::invoke_host_function(
        &budget,
        true,
        xdr_bytes(&op.host_function),
        xdr_bytes(&d.resources),
        &restored,
        xdr_bytes(source),
        auth.into_iter(),
        ledger_info,
        inputs.into_iter(),
        seed.to_vec(),
        diagnostics,
        None,
        module_cache,
    );
    let over_budget = || {
        let cpu = budget.get_cpu_insns_consumed().unwrap_or(0);
        let mem = budget.get_mem_bytes_consumed().unwrap_or(0);
        cpu > d.resources.instructions as u64 || mem > net.tx_memory_limit as u64
    };
    let out = match res {
        Ok(out) => out,
        Err(e) => {
            debug_log(&format!("invoke failed: {e:?}"));
            return Err(if over_budget() {
                InvokeHostFunctionResult::ResourceLimitExceeded
            } else {
                InvokeHostFunctionResult::Trapped
            });
        }
    };
    let ret_bytes = match out.encoded_invoke_result {
        Ok(b) => b,
        Err(e) => {
            debug_log(&format!(
                "invocation error: {e:?} cpu {:?}/{} mem {:?}/{}",
                budget.get_cpu_insns_consumed(),
                d.resources.instructions,
                budget.get_mem_bytes_consumed(),
                net.tx_memory_limit
            ));
            let budget_err = e.error.is_type(soroban_env_host::xdr::ScErrorType::Budget);
            return Err(if budget_err || over_budget() {
                InvokeHostFunctionResult::ResourceLimitExceeded
            } else {
                InvokeHostFunctionResult::Trapped
            });
        }
    };
    let return_value = ScVal::from_xdr(&ret_bytes[..], Limits::none())
        .map_err(|_| InvokeHostFunctionResult::Trapped)?;
    let mut events = Vec::with_capacity(out.encoded_contract_events.len());
    let mut events_size = ret_bytes.len() as u32;
    for e in &out.encoded_contract_events {
        events_size += e.len() as u32;
        events.push(
            ContractEvent::from_xdr(&e[..], Limits::none())
                .map_err(|_| InvokeHostFunctionResult::Trapped)?,
        );
    }
    let events_limit = match chain.entries.get(&LedgerKey::ConfigSetting(
        soroban_env_host::xdr::LedgerKeyConfigSetting {
            config_setting_id: soroban_env_host::xdr::ConfigSettingId::ContractEventsV0,
        },
    )) {
        Some(StoredEntry {
            entry:
                LedgerEntry {
                    data:
                        LedgerEntryData::ConfigSetting(
                            soroban_env_host::xdr::ConfigSettingEntry::ContractEventsV0(e),
                        ),
                    ..
                },
            ..
        }) => e.tx_max_contract_events_size_bytes,
        _ => u32::MAX,
    };
    if events_size > events_limit {
        debug_log(&format!("events {events_size} > {events_limit}"));
        return Err(InvokeHostFunctionResult::ResourceLimitExceeded);
    }
    // Core's check: what the transaction wrote must fit the write bytes it declared.
    let written: usize = out
        .ledger_changes
        .iter()
        .filter(|c| !c.read_only)
        .filter_map(|c| c.encoded_new_value.as_ref().map(Vec::len))
        .sum();
    if written > d.resources.write_bytes as usize {
        debug_log(&format!(
            "wrote {written} bytes > declared {}",
            d.resources.write_bytes
        ));
        return Err(InvokeHostFunctionResult::ResourceLimitExceeded);
    }
    let rent = compute_rent_fee(
        &extract_rent_changes(&out.ledger_changes),
        &net.rent_fee_configuration,
        seq,
    );
    // The refundable part of the resource fee is the events fee (rent is computed apart).
    let events_fee = declared_fees(chain, &dummy_tx(), d, events_size).1;
    let refundable = rent + events_fee;
    if refundable > d.resource_fee - non_refundable {
        return Err(InvokeHostFunctionResult::InsufficientRefundableFee);
    }

    for ch in &out.ledger_changes {
        let Ok(key) = LedgerKey::from_xdr(&ch.encoded_key[..], Limits::none()) else {
            continue;
        };
        let old = chain.entries.get(&key).cloned();
        if !ch.read_only {
            match &ch.encoded_new_value {
                Some(bytes) => {
                    let Ok(mut entry) = LedgerEntry::from_xdr(&bytes[..], Limits::none()) else {
                        continue;
                    };
                    let live_until = ch.ttl_change.as_ref().map(|t| t.new_live_until_ledger);
                    if let Some(o) = &old {
                        let mut cmp = entry.clone();
                        cmp.last_modified_ledger_seq = o.entry.last_modified_ledger_seq;
                        if cmp == o.entry && o.live_until == live_until {
                            continue;
                        }
                    }
                    entry.last_modified_ledger_seq = seq;
                    let prior = old.as_ref().filter(|o| {
                        o.live_until
                            .is_none_or(|lu| lu >= seq || !is_temporary(&key))
                    });
                    change_pair(prior.map(|o| &o.entry), Some(&entry), &key, changes);
                    journal.put(chain, key, Some(StoredEntry { entry, live_until }));
                }
                None => {
                    if let Some(o) = &old {
                        change_pair(Some(&o.entry), None, &key, changes);
                        journal.put(chain, key, None);
                    }
                }
            }
        } else if let (Some(t), Some(o)) = (&ch.ttl_change, old) {
            if t.new_live_until_ledger > t.old_live_until_ledger
                && o.live_until.is_some_and(|lu| lu < t.new_live_until_ledger)
            {
                journal.put(
                    chain,
                    key,
                    Some(StoredEntry {
                        live_until: Some(t.new_live_until_ledger),
                        ..o
                    }),
                );
            }
        }
    }
    let preimage = InvokeHostFunctionSuccessPreImage {
        return_value: return_value.clone(),
        events: events.clone().try_into().unwrap_or_default(),
    };
    Ok(InvokeSuccess {
        hash: sha256(&xdr_bytes(&preimage)),
        return_value,
        events,
        refundable,
        rent,
    })
}

fn dummy_tx() -> Transaction {
    Transaction {
        source_account: soroban_env_host::xdr::MuxedAccount::Ed25519(
            soroban_env_host::xdr::Uint256([0; 32]),
        ),
        fee: 0,
        seq_num: soroban_env_host::xdr::SequenceNumber(0),
        cond: soroban_env_host::xdr::Preconditions::None,
        memo: soroban_env_host::xdr::Memo::None,
        operations: VecM::default(),
        ext: soroban_env_host::xdr::TransactionExt::V0,
    }
}

/// Explains failures on stderr when LOCALNET_DEBUG is set.
fn debug_log(msg: &str) {
    if std::env::var_os("LOCALNET_DEBUG").is_some() {
        eprintln!("localnet: {msg}");
    }
}
