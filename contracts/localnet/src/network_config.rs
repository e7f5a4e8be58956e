//! Soroban network settings of the local chain: the figures Stellar testnet runs at protocol 28.
//! The host never reads ConfigSetting entries itself; they seed the genesis ledger so that
//! `NetworkConfig::load_from_snapshot` (simulation) and the apply budget use one set of numbers.

use soroban_env_host::xdr::{
    ConfigSettingContractBandwidthV0, ConfigSettingContractComputeV0,
    ConfigSettingContractEventsV0, ConfigSettingContractExecutionLanesV0,
    ConfigSettingContractHistoricalDataV0, ConfigSettingContractLedgerCostExtV0,
    ConfigSettingContractLedgerCostV0, ConfigSettingContractParallelComputeV0, ConfigSettingEntry,
    ConfigSettingScpTiming, ContractCostParamEntry, ContractCostParams, ExtensionPoint,
    StateArchivalSettings,
};

pub const CONTRACT_MAX_SIZE_BYTES: u32 = 131072;
pub const CONTRACT_DATA_KEY_SIZE_BYTES: u32 = 250;
pub const CONTRACT_DATA_ENTRY_SIZE_BYTES: u32 = 65536;
/// Live Soroban state size assumed for rent pricing (bytes); the window needs at least one sample.
pub const LIVE_STATE_SIZE_SAMPLE: u64 = 10_000_000;

/// (const_term, linear_term) per ContractCostType, in XDR order.
const CPU_COST_PARAMS: [(i64, i64); 86] = [
    (4, 0),
    (434, 16),
    (42, 16),
    (44, 16),
    (295, 0),
    (60, 0),
    (221, 26),
    (331, 4369),
    (3636, 7013),
    (40256, 0),
    (377551, 4059),
    (417482, 45712),
    (41142, 634),
    (1945, 0),
    (6481, 5943),
    (711, 0),
    (2314804, 0),
    (4176, 0),
    (4716, 0),
    (4680, 0),
    (4256, 0),
    (884, 0),
    (1059, 502),
    (73077, 25410),
    (0, 540752),
    (0, 176363),
    (0, 29989),
    (0, 1061449),
    (0, 237336),
    (0, 328476),
    (0, 701845),
    (0, 429383),
    (0, 28),
    (43030, 0),
    (0, 7556),
    (0, 10711),
    (0, 3300),
    (0, 0),
    (0, 23038),
    (0, 42488),
    (0, 828974),
    (0, 297100),
    (0, 14),
    (1882, 0),
    (3000906, 0),
    (661, 0),
    (985, 0),
    (1934, 0),
    (730510, 0),
    (5921, 0),
    (1057822, 0),
    (92642, 0),
    (100742, 0),
    (7689, 0),
    (2458985, 0),
    (2347584, 94135478),
    (1020885, 0),
    (2638451, 6803),
    (25207, 0),
    (7873219, 0),
    (7663880, 298580871),
    (1856539, 0),
    (6315452, 7232),
    (10558948, 632860943),
    (1994, 0),
    (1155, 0),
    (74, 0),
    (332, 0),
    (691, 74558),
    (35421, 0),
    (344, 0),
    (476, 0),
    (904, 0),
    (2811, 0),
    (1706052, 0),
    (61, 0),
    (3623, 0),
    (1150435, 0),
    (5263916, 392472814),
    (2052, 0),
    (1133, 0),
    (74, 0),
    (332, 0),
    (755, 68930),
    (33151, 0),
    (1185193, 41568084),
];

const MEMORY_COST_PARAMS: [(i64, i64); 86] = [
    (0, 0),
    (16, 128),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (242, 384),
    (0, 384),
    (0, 0),
    (0, 0),
    (0, 0),
    (132773, 4903),
    (69472, 1217),
    (14, 0),
    (0, 0),
    (0, 0),
    (181, 0),
    (99, 0),
    (99, 0),
    (99, 0),
    (99, 0),
    (99, 0),
    (0, 0),
    (17564, 6457),
    (0, 47464),
    (0, 13420),
    (0, 6285),
    (0, 64670),
    (0, 29074),
    (0, 48095),
    (0, 103229),
    (0, 36394),
    (0, 257),
    (70704, 0),
    (0, 14613),
    (0, 6833),
    (0, 1025),
    (0, 0),
    (0, 129632),
    (0, 13665),
    (0, 97637),
    (0, 9176),
    (0, 126),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (109494, 266603),
    (2776, 0),
    (5896, 0),
    (0, 0),
    (0, 0),
    (219654, 266603),
    (1672, 0),
    (3960, 0),
    (2204, 9340474),
    (0, 0),
    (248, 0),
    (0, 0),
    (0, 0),
    (0, 128),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (1821, 6232546),
    (0, 0),
    (312, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (73061, 229779),
];

fn cost_params(table: &[(i64, i64)]) -> ContractCostParams {
    let entries: Vec<ContractCostParamEntry> = table
        .iter()
        .map(|&(const_term, linear_term)| ContractCostParamEntry {
            ext: ExtensionPoint::V0,
            const_term,
            linear_term,
        })
        .collect();
    ContractCostParams(entries.try_into().expect("cost table fits the XDR bound"))
}

pub fn compute() -> ConfigSettingContractComputeV0 {
    ConfigSettingContractComputeV0 {
        ledger_max_instructions: 500000000,
        tx_max_instructions: 100000000,
        fee_rate_per_instructions_increment: 25,
        tx_memory_limit: 41943040,
    }
}

pub fn ledger_cost() -> ConfigSettingContractLedgerCostV0 {
    ConfigSettingContractLedgerCostV0 {
        ledger_max_disk_read_entries: 500,
        ledger_max_disk_read_bytes: 3500000,
        ledger_max_write_ledger_entries: 250,
        ledger_max_write_bytes: 143360,
        tx_max_disk_read_entries: 100,
        tx_max_disk_read_bytes: 200000,
        tx_max_write_ledger_entries: 50,
        tx_max_write_bytes: 132096,
        fee_disk_read_ledger_entry: 6250,
        fee_write_ledger_entry: 10000,
        fee_disk_read1_kb: 1786,
        soroban_state_target_size_bytes: 3000000000,
        rent_fee1_kb_soroban_state_size_low: -17000,
        rent_fee1_kb_soroban_state_size_high: 10000,
        soroban_state_rent_fee_growth_factor: 5000,
    }
}

pub fn events() -> ConfigSettingContractEventsV0 {
    ConfigSettingContractEventsV0 {
        tx_max_contract_events_size_bytes: 16384,
        fee_contract_events1_kb: 10000,
    }
}

pub fn bandwidth() -> ConfigSettingContractBandwidthV0 {
    ConfigSettingContractBandwidthV0 {
        ledger_max_txs_size_bytes: 133120,
        tx_max_size_bytes: 132096,
        fee_tx_size1_kb: 1624,
    }
}

pub fn state_archival() -> StateArchivalSettings {
    StateArchivalSettings {
        max_entry_ttl: 3110400,
        min_temporary_ttl: 720,
        min_persistent_ttl: 10,
        persistent_rent_rate_denominator: 1215,
        temp_rent_rate_denominator: 2430,
        max_entries_to_archive: 1000,
        live_soroban_state_size_window_sample_size: 30,
        live_soroban_state_size_window_sample_period: 64,
        eviction_scan_size: 500000,
        starting_eviction_scan_level: 7,
    }
}

pub fn ledger_cost_ext() -> ConfigSettingContractLedgerCostExtV0 {
    ConfigSettingContractLedgerCostExtV0 {
        tx_max_footprint_entries: 100,
        fee_write1_kb: 3500,
    }
}

pub fn cpu_cost_params() -> ContractCostParams {
    cost_params(&CPU_COST_PARAMS)
}

pub fn memory_cost_params() -> ContractCostParams {
    cost_params(&MEMORY_COST_PARAMS)
}

/// Every setting the genesis ledger carries as a CONFIG_SETTING entry.
pub fn all_settings() -> Vec<ConfigSettingEntry> {
    vec![
        ConfigSettingEntry::ContractMaxSizeBytes(CONTRACT_MAX_SIZE_BYTES),
        ConfigSettingEntry::ContractComputeV0(compute()),
        ConfigSettingEntry::ContractLedgerCostV0(ledger_cost()),
        ConfigSettingEntry::ContractHistoricalDataV0(ConfigSettingContractHistoricalDataV0 {
            fee_historical1_kb: 16235,
        }),
        ConfigSettingEntry::ContractEventsV0(events()),
        ConfigSettingEntry::ContractBandwidthV0(bandwidth()),
        ConfigSettingEntry::ContractCostParamsCpuInstructions(cpu_cost_params()),
        ConfigSettingEntry::ContractCostParamsMemoryBytes(memory_cost_params()),
        ConfigSettingEntry::ContractDataKeySizeBytes(CONTRACT_DATA_KEY_SIZE_BYTES),
        ConfigSettingEntry::ContractDataEntrySizeBytes(CONTRACT_DATA_ENTRY_SIZE_BYTES),
        ConfigSettingEntry::StateArchival(state_archival()),
        ConfigSettingEntry::ContractExecutionLanes(ConfigSettingContractExecutionLanesV0 {
            ledger_max_tx_count: 100,
        }),
        ConfigSettingEntry::LiveSorobanStateSizeWindow(
            vec![LIVE_STATE_SIZE_SAMPLE; 30]
                .try_into()
                .expect("window fits"),
        ),
        ConfigSettingEntry::ContractParallelComputeV0(ConfigSettingContractParallelComputeV0 {
            ledger_max_dependent_tx_clusters: 1,
        }),
        ConfigSettingEntry::ContractLedgerCostExtV0(ledger_cost_ext()),
        ConfigSettingEntry::ScpTiming(ConfigSettingScpTiming {
            ledger_target_close_time_milliseconds: 5000,
            nomination_timeout_initial_milliseconds: 1000,
            nomination_timeout_increment_milliseconds: 1000,
            ballot_timeout_initial_milliseconds: 1000,
            ballot_timeout_increment_milliseconds: 1000,
        }),
    ]
}
