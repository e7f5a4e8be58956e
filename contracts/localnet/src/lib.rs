//! Starling's local chain: a Stellar RPC façade over the real Soroban host.

pub mod apply;
pub mod chain;
pub mod network_config;
pub mod persist;
pub mod rpc;
pub mod server;
pub mod util;
