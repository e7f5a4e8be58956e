//! Learning progress on chain: a recorder writes a learner's percentage for a course; it only
//! ever goes up, and reaching 100 % emits a distinct completion event.
#![no_std]
// Errors are contract errors (panic_with_error!), never bare panics or unwraps.
#![cfg_attr(
    not(test),
    deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)
)]

use soroban_sdk::{
    contract, contracterror, contractevent, contractimpl, contracttype, panic_with_error, Address,
    BytesN, Env, Symbol, Vec,
};
use starling_shared::{roles, ttl};
use stellar_access::access_control::AccessControl;

#[cfg(test)]
mod test;

/// Analytics errors, codes 20–39.
#[contracterror]
#[derive(Copy, Clone, Debug, Eq, PartialEq, PartialOrd, Ord)]
#[repr(u32)]
pub enum AnalyticsError {
    /// `percent` is above 100.
    PercentOutOfRange = 20,
    /// `percent` is lower than the progress already recorded.
    ProgressRegressed = 21,
}

#[contracttype]
#[derive(Clone)]
enum DataKey {
    /// Percent (u32) for (student, course id).
    Progress(Address, BytesN<16>),
}

/// A learner's progress in a course went up.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ProgressRecorded {
    #[topic]
    pub student: Address,
    #[topic]
    pub course_id: BytesN<16>,
    pub percent: u32,
    pub previous: u32,
    pub recorder: Address,
}

/// A learner reached 100 % in a course (emitted after its `ProgressRecorded`).
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CourseCompleted {
    #[topic]
    pub student: Address,
    #[topic]
    pub course_id: BytesN<16>,
    pub recorder: Address,
}

#[contract]
pub struct Analytics;

#[contractimpl]
impl Analytics {
    /// Creates the contract with `admin` as its admin; the admin then grants `recorder`.
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn __constructor(e: Env, admin: Address) {
        roles::init_admin(&e, &admin);
        ttl::extend_instance(&e);
    }

    /// Records that `student` has completed `percent` % of `course_id` (the course UUID's 16
    /// bytes). Progress never goes down; recording the stored value again changes nothing
    /// and emits nothing, so a replayed intent is harmless. Returns the stored percent.
    ///
    /// # Errors
    /// - `SharedError::MissingRole` (1) when `caller` is not a recorder.
    /// - `AnalyticsError::PercentOutOfRange` (20) when `percent > 100`.
    /// - `AnalyticsError::ProgressRegressed` (21) when `percent` is below the stored value.
    /// - An auth error when `caller` did not authorise the call.
    ///
    /// # Events
    /// - `progress_recorded` on every change.
    /// - `course_completed` in addition when the new value is 100.
    pub fn record_progress(
        e: Env,
        caller: Address,
        student: Address,
        course_id: BytesN<16>,
        percent: u32,
    ) -> u32 {
        roles::require_role(&e, &caller, &roles::RECORDER);
        ttl::extend_instance(&e);
        if percent > 100 {
            panic_with_error!(&e, AnalyticsError::PercentOutOfRange);
        }
        let key = DataKey::Progress(student.clone(), course_id.clone());
        let store = e.storage().persistent();
        let stored: Option<u32> = store.get(&key);
        let previous = stored.unwrap_or(0);
        if percent < previous {
            panic_with_error!(&e, AnalyticsError::ProgressRegressed);
        }
        if percent == previous {
            // Nothing changes, but the record was used: keep it alive like a read does.
            if stored.is_some() {
                ttl::extend_activity(&e, &key);
            }
            return previous;
        }
        store.set(&key, &percent);
        ttl::extend_activity(&e, &key);
        ProgressRecorded {
            student: student.clone(),
            course_id: course_id.clone(),
            percent,
            previous,
            recorder: caller.clone(),
        }
        .publish(&e);
        if percent == 100 {
            CourseCompleted {
                student,
                course_id,
                recorder: caller,
            }
            .publish(&e);
        }
        percent
    }

    /// The recorded percent of `student` in `course_id`, 0 when nothing was recorded.
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn get_progress(e: Env, student: Address, course_id: BytesN<16>) -> u32 {
        ttl::extend_instance(&e);
        let key = DataKey::Progress(student, course_id);
        match e.storage().persistent().get::<_, u32>(&key) {
            Some(percent) => {
                ttl::extend_activity(&e, &key);
                percent
            }
            None => 0,
        }
    }
}

/// Role administration from OpenZeppelin: `grant_role`/`revoke_role` by the admin, two-step
/// `transfer_admin_role` + `accept_admin_transfer`, `renounce_role` by a holder, and the role
/// queries. `set_role_admin` and `renounce_admin` are refused (see
/// `starling_shared::roles::refuse_unsupported`).
///
/// # Errors
/// `AccessControlError` (2000–2010), e.g. `Unauthorized` (2000) when the caller is not the
/// admin; `RoleTransferError` (2200–2203) for an expired or missing pending admin transfer;
/// `SharedError::Unsupported` (6) from `set_role_admin` and `renounce_admin`.
///
/// # Events
/// `role_granted`, `role_revoked`, `admin_transfer_initiated`, `admin_transfer_completed`.
#[contractimpl(contracttrait)]
impl AccessControl for Analytics {
    fn set_role_admin(e: &Env, _role: Symbol, _admin_role: Symbol) {
        roles::refuse_unsupported(e);
    }

    fn renounce_admin(e: &Env) {
        roles::refuse_unsupported(e);
    }
}
