//! Course certificates: one per learner and course, issued by an issuer with sequential ids,
//! verifiable by anyone, revocable with a reason, and soulbound.
//!
//! Written here rather than on OpenZeppelin's non-fungible token: its ids are u32, its
//! `Base::mint` does not enforce uniqueness, it has no revocation record, and a soulbound
//! NFT would have to override every transfer and approval only to refuse them. A certificate
//! is a record, not an asset, so it has no owner-side operations at all.
#![no_std]
// Errors are contract errors (panic_with_error!), never bare panics or unwraps.
#![cfg_attr(
    not(test),
    deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)
)]

use soroban_sdk::{
    contract, contracterror, contractevent, contractimpl, contracttype, panic_with_error, Address,
    BytesN, Env, String, Symbol, Vec,
};
use starling_shared::{roles, ttl, validate};
use stellar_access::access_control::AccessControl;

#[cfg(test)]
mod test;

/// Longest revocation reason, in bytes.
pub const MAX_REASON_LEN: u32 = 256;

/// Certificate errors, codes 60–79.
#[contracterror]
#[derive(Copy, Clone, Debug, Eq, PartialEq, PartialOrd, Ord)]
#[repr(u32)]
pub enum CertificateError {
    /// The learner already holds a certificate for this course (revoked or not).
    AlreadyIssued = 60,
    /// No certificate has this id.
    NotFound = 61,
    /// The certificate is already revoked.
    AlreadyRevoked = 62,
    /// Certificates are soulbound: they cannot be transferred.
    Soulbound = 63,
    /// The id counter is exhausted (u64::MAX certificates issued).
    IdOverflow = 64,
}

/// What `verify` returns.
#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CertificateRecord {
    pub id: u64,
    pub student: Address,
    pub course_id: BytesN<16>,
    /// SHA-256 of the off-chain certificate document.
    pub metadata_hash: BytesN<32>,
    pub issuer: Address,
    pub issued_ledger: u32,
    pub revoked: bool,
    /// Set when revoked: the ledger, the issuer who revoked it, and why.
    pub revoked_ledger: Option<u32>,
    pub revoked_by: Option<Address>,
    pub revoke_reason: Option<String>,
}

#[contracttype]
#[derive(Clone)]
enum DataKey {
    /// Last id issued (u64, instance); ids start at 1.
    LastId,
    /// The record of a certificate id.
    Certificate(u64),
    /// The certificate id of (student, course).
    ByCourse(Address, BytesN<16>),
    /// Every certificate id of a student, in issue order.
    ByStudent(Address),
}

/// A certificate was issued.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CertificateIssued {
    #[topic]
    pub id: u64,
    #[topic]
    pub student: Address,
    pub course_id: BytesN<16>,
    pub metadata_hash: BytesN<32>,
    pub issuer: Address,
}

/// A certificate was revoked.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CertificateRevoked {
    #[topic]
    pub id: u64,
    #[topic]
    pub student: Address,
    pub reason: String,
    pub issuer: Address,
}

#[contract]
pub struct Certificates;

#[contractimpl]
impl Certificates {
    /// Creates the contract with `admin` as its admin; the admin then grants `issuer`.
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

    /// Issues the certificate of `student` for `course_id` and returns its id (1, 2, …).
    ///
    /// # Errors
    /// - `SharedError::MissingRole` (1) when `issuer` is not an issuer.
    /// - `CertificateError::AlreadyIssued` (60) when the student already has one for the
    ///   course, even a revoked one.
    /// - `CertificateError::IdOverflow` (64) when the id counter is exhausted.
    /// - An auth error when `issuer` did not authorise the call.
    ///
    /// # Events
    /// - `certificate_issued`.
    pub fn issue_credential(
        e: Env,
        issuer: Address,
        student: Address,
        course_id: BytesN<16>,
        metadata_hash: BytesN<32>,
    ) -> u64 {
        roles::require_role(&e, &issuer, &roles::ISSUER);
        ttl::extend_instance(&e);
        let persistent = e.storage().persistent();
        let by_course = DataKey::ByCourse(student.clone(), course_id.clone());
        if persistent.has(&by_course) {
            panic_with_error!(&e, CertificateError::AlreadyIssued);
        }
        let last: u64 = e.storage().instance().get(&DataKey::LastId).unwrap_or(0);
        let Some(id) = last.checked_add(1) else {
            panic_with_error!(&e, CertificateError::IdOverflow);
        };
        e.storage().instance().set(&DataKey::LastId, &id);

        let record = CertificateRecord {
            id,
            student: student.clone(),
            course_id: course_id.clone(),
            metadata_hash: metadata_hash.clone(),
            issuer: issuer.clone(),
            issued_ledger: e.ledger().sequence(),
            revoked: false,
            revoked_ledger: None,
            revoked_by: None,
            revoke_reason: None,
        };
        let cert_key = DataKey::Certificate(id);
        persistent.set(&cert_key, &record);
        ttl::extend_persistent(&e, &cert_key);
        persistent.set(&by_course, &id);
        ttl::extend_persistent(&e, &by_course);
        let by_student = DataKey::ByStudent(student.clone());
        let mut ids: Vec<u64> = persistent.get(&by_student).unwrap_or_else(|| Vec::new(&e));
        ids.push_back(id);
        persistent.set(&by_student, &ids);
        ttl::extend_persistent(&e, &by_student);

        CertificateIssued {
            id,
            student,
            course_id,
            metadata_hash,
            issuer,
        }
        .publish(&e);
        id
    }

    /// The record of certificate `id`, revoked or not.
    ///
    /// # Errors
    /// - `CertificateError::NotFound` (61) when no certificate has this id.
    ///
    /// # Events
    /// None.
    pub fn verify(e: Env, id: u64) -> CertificateRecord {
        ttl::extend_instance(&e);
        Self::load(&e, id)
    }

    /// Revokes certificate `id` for `reason` (1–256 bytes). The record stays, marked revoked,
    /// and the learner cannot be issued another one for the same course.
    ///
    /// # Errors
    /// - `SharedError::MissingRole` (1) when `issuer` is not an issuer.
    /// - `SharedError::EmptyText` (4) / `SharedError::TextTooLong` (5) for a bad reason.
    /// - `CertificateError::NotFound` (61) when no certificate has this id.
    /// - `CertificateError::AlreadyRevoked` (62) when it is already revoked.
    /// - An auth error when `issuer` did not authorise the call.
    ///
    /// # Events
    /// - `certificate_revoked`.
    pub fn revoke(e: Env, issuer: Address, id: u64, reason: String) {
        roles::require_role(&e, &issuer, &roles::ISSUER);
        ttl::extend_instance(&e);
        validate::require_text(&e, &reason, MAX_REASON_LEN);
        let mut record = Self::load(&e, id);
        if record.revoked {
            panic_with_error!(&e, CertificateError::AlreadyRevoked);
        }
        record.revoked = true;
        record.revoked_ledger = Some(e.ledger().sequence());
        record.revoked_by = Some(issuer.clone());
        record.revoke_reason = Some(reason.clone());
        let key = DataKey::Certificate(id);
        e.storage().persistent().set(&key, &record);
        ttl::extend_persistent(&e, &key);
        CertificateRevoked {
            id,
            student: record.student,
            reason,
            issuer,
        }
        .publish(&e);
    }

    /// Ids of every certificate of `student`, in issue order (revoked ones included).
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn certificates_of(e: Env, student: Address) -> Vec<u64> {
        ttl::extend_instance(&e);
        let key = DataKey::ByStudent(student);
        match e.storage().persistent().get(&key) {
            Some(ids) => {
                ttl::extend_persistent(&e, &key);
                ids
            }
            None => Vec::new(&e),
        }
    }

    /// The id of `student`'s certificate for `course_id`, if one was issued.
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn certificate_for(e: Env, student: Address, course_id: BytesN<16>) -> Option<u64> {
        ttl::extend_instance(&e);
        let key = DataKey::ByCourse(student, course_id);
        let id = e.storage().persistent().get(&key);
        if id.is_some() {
            ttl::extend_persistent(&e, &key);
        }
        id
    }

    /// How many certificates were ever issued (the last id).
    ///
    /// # Errors
    /// None.
    ///
    /// # Events
    /// None.
    pub fn total_issued(e: Env) -> u64 {
        ttl::extend_instance(&e);
        e.storage().instance().get(&DataKey::LastId).unwrap_or(0)
    }

    /// Always fails: certificates are soulbound. Present so that wallets and tools that try a
    /// transfer get a clear, documented error.
    ///
    /// # Errors
    /// - `CertificateError::Soulbound` (63), always.
    ///
    /// # Events
    /// None.
    pub fn transfer(e: Env, _from: Address, _to: Address, _id: u64) {
        panic_with_error!(&e, CertificateError::Soulbound);
    }

    fn load(e: &Env, id: u64) -> CertificateRecord {
        let key = DataKey::Certificate(id);
        match e.storage().persistent().get(&key) {
            Some(record) => {
                ttl::extend_persistent(e, &key);
                record
            }
            None => panic_with_error!(e, CertificateError::NotFound),
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
impl AccessControl for Certificates {
    fn set_role_admin(e: &Env, _role: Symbol, _admin_role: Symbol) {
        roles::refuse_unsupported(e);
    }

    fn renounce_admin(e: &Env) {
        roles::refuse_unsupported(e);
    }
}
