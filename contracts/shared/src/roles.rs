//! Roles. The admin (OpenZeppelin access control's admin) grants and revokes the roles below
//! through the `grant_role` / `revoke_role` entry points that every contract exposes, and
//! hands itself over in two steps (`transfer_admin_role`, then `accept_admin_transfer` by the
//! new admin). No role has a role-admin, so only the admin can grant or revoke.

use soroban_sdk::{panic_with_error, symbol_short, Address, Env, Symbol};
use stellar_access::access_control;

use crate::SharedError;

/// May call `record_progress` on the analytics contract.
pub const RECORDER: Symbol = symbol_short!("recorder");
/// May issue and revoke certificates.
pub const ISSUER: Symbol = symbol_short!("issuer");
/// May mint BST rewards.
pub const MINTER: Symbol = symbol_short!("minter");

/// Makes `admin` the contract's admin; called once, from a constructor.
///
/// # Errors
/// - `AccessControlError::AdminAlreadySet` (2006) when an admin exists.
///
/// # Events
/// None.
pub fn init_admin(e: &Env, admin: &Address) {
    access_control::set_admin(e, admin);
}

/// Requires `caller`'s authorisation for this invocation and that `caller` holds `role`.
///
/// # Errors
/// - `SharedError::MissingRole` when `caller` does not hold `role`.
/// - An auth error from the host when `caller` did not authorise the call.
///
/// # Events
/// None.
pub fn require_role(e: &Env, caller: &Address, role: &Symbol) {
    caller.require_auth();
    if access_control::has_role(e, caller, role).is_none() {
        panic_with_error!(e, SharedError::MissingRole);
    }
}

/// Refuses an inherited entry point that Starling does not offer. Used for OpenZeppelin's
/// `set_role_admin` (roles would gain admins other than the contract admin, against the rule
/// above) and `renounce_admin` (the contract would lose its admin, and with it any way to
/// grant or revoke a role, for good).
///
/// # Errors
/// - `SharedError::Unsupported`, always.
///
/// # Events
/// None.
pub fn refuse_unsupported(e: &Env) -> ! {
    panic_with_error!(e, SharedError::Unsupported)
}
