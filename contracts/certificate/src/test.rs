extern crate std;

use soroban_sdk::{
    testutils::{storage::Persistent as _, MockAuth, MockAuthInvoke},
    vec, Address, BytesN, Env, Event as _, IntoVal, String,
};
use starling_shared::{
    assert_auth_error, assert_contract_error, roles,
    testutils::{account, advance, contract_address, test_env, wasm_bytes, VectorRecorder},
    ttl, SharedError,
};

use crate::{
    CertificateError, CertificateIssued, CertificateRevoked, Certificates, CertificatesClient,
    DataKey,
};

struct Fixture {
    env: Env,
    client: CertificatesClient<'static>,
    admin: Address,
    issuer: Address,
    student: Address,
}

fn course(env: &Env, n: u8) -> BytesN<16> {
    BytesN::from_array(
        env,
        &[
            0x5a, 0x1e, 0x00, 0x00, 0x4c, 0x0e, 0x40, 0x00, 0x80, 0, 0, 0, 0, 0, 0, n,
        ],
    )
}

fn doc_hash(env: &Env, n: u8) -> BytesN<32> {
    BytesN::from_array(env, &[n; 32])
}

fn setup() -> Fixture {
    let env = test_env();
    let admin = account(&env, 1);
    let issuer = account(&env, 4);
    let student = account(&env, 3);
    let id = contract_address(&env, 0xC1);
    env.register_at(&id, Certificates, (&admin,));
    let client = CertificatesClient::new(&env, &id);
    env.mock_all_auths();
    client.grant_role(&issuer, &roles::ISSUER, &admin);
    env.set_auths(&[]);
    Fixture {
        env,
        client,
        admin,
        issuer,
        student,
    }
}

fn issue(f: &Fixture, student: &Address, n: u8) -> u64 {
    f.env.mock_all_auths();
    let id =
        f.client
            .issue_credential(&f.issuer, student, &course(&f.env, n), &doc_hash(&f.env, n));
    f.env.set_auths(&[]);
    id
}

fn reason(env: &Env) -> String {
    String::from_str(env, "Assessment found to be plagiarised")
}

#[test]
fn issue_returns_sequential_ids_and_verify_returns_the_record() {
    let f = setup();
    let mut vectors = VectorRecorder::new(
        "certificate_issue",
        "An issuer issues certificate 1 to a learner for one course.",
    );
    assert_eq!(issue(&f, &f.student, 1), 1);
    assert_eq!(vectors.capture(&f.env, "issue_credential"), 1);
    vectors.finish();
    let other = account(&f.env, 5);
    assert_eq!(issue(&f, &other, 1), 2);
    assert_eq!(issue(&f, &f.student, 2), 3);
    assert_eq!(f.client.total_issued(), 3);

    let record = f.client.verify(&1);
    assert_eq!(record.id, 1);
    assert_eq!(record.student, f.student);
    assert_eq!(record.course_id, course(&f.env, 1));
    assert_eq!(record.metadata_hash, doc_hash(&f.env, 1));
    assert_eq!(record.issuer, f.issuer);
    assert_eq!(record.issued_ledger, f.env.ledger().sequence());
    assert!(!record.revoked);
    assert_eq!(record.revoked_ledger, None);
    assert_eq!(record.revoke_reason, None);
}

#[test]
fn issued_event_matches_the_struct() {
    let f = setup();
    issue(&f, &f.student, 1);
    use soroban_sdk::testutils::Events as _;
    let events = f.env.events().all();
    assert_eq!(
        events.events(),
        &[CertificateIssued {
            id: 1,
            student: f.student.clone(),
            course_id: course(&f.env, 1),
            metadata_hash: doc_hash(&f.env, 1),
            issuer: f.issuer.clone(),
        }
        .to_xdr(&f.env, &f.client.address)]
    );
}

#[test]
fn lookups_by_student_and_course() {
    let f = setup();
    assert_eq!(f.client.certificates_of(&f.student), vec![&f.env]);
    assert_eq!(
        f.client.certificate_for(&f.student, &course(&f.env, 1)),
        None
    );
    issue(&f, &f.student, 1);
    issue(&f, &account(&f.env, 6), 1);
    issue(&f, &f.student, 2);
    assert_eq!(
        f.client.certificates_of(&f.student),
        vec![&f.env, 1u64, 3u64]
    );
    assert_eq!(
        f.client.certificate_for(&f.student, &course(&f.env, 2)),
        Some(3)
    );
    assert_eq!(
        f.client.certificate_for(&f.student, &course(&f.env, 9)),
        None
    );
}

#[test]
fn one_certificate_per_student_and_course() {
    let f = setup();
    issue(&f, &f.student, 1);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client.try_issue_credential(
            &f.issuer,
            &f.student,
            &course(&f.env, 1),
            &doc_hash(&f.env, 2)
        ),
        CertificateError::AlreadyIssued
    );
    // Revoked certificates still count: the record for that course stays the record.
    f.client.revoke(&f.issuer, &1, &reason(&f.env));
    assert_contract_error!(
        f.client.try_issue_credential(
            &f.issuer,
            &f.student,
            &course(&f.env, 1),
            &doc_hash(&f.env, 1)
        ),
        CertificateError::AlreadyIssued
    );
    assert_eq!(f.client.total_issued(), 1);
}

#[test]
fn revoke_marks_the_record_and_keeps_it() {
    let f = setup();
    issue(&f, &f.student, 1);
    advance(&f.env, 10);
    let mut vectors = VectorRecorder::new(
        "certificate_revoke",
        "An issuer revokes certificate 1 with a reason.",
    );
    f.env.mock_all_auths();
    f.client.revoke(&f.issuer, &1, &reason(&f.env));
    assert_eq!(vectors.capture(&f.env, "revoke"), 1);
    vectors.finish();
    {
        use soroban_sdk::testutils::Events as _;
        assert_eq!(
            f.env.events().all().events(),
            &[CertificateRevoked {
                id: 1,
                student: f.student.clone(),
                reason: reason(&f.env),
                issuer: f.issuer.clone(),
            }
            .to_xdr(&f.env, &f.client.address)]
        );
    }
    let record = f.client.verify(&1);
    assert!(record.revoked);
    assert_eq!(record.revoked_ledger, Some(f.env.ledger().sequence()));
    assert_eq!(record.revoked_by, Some(f.issuer.clone()));
    assert_eq!(record.revoke_reason, Some(reason(&f.env)));
    assert_eq!(record.issued_ledger, f.env.ledger().sequence() - 10);
    assert_contract_error!(
        f.client.try_revoke(&f.issuer, &1, &reason(&f.env)),
        CertificateError::AlreadyRevoked
    );
}

#[test]
fn revoke_errors() {
    let f = setup();
    issue(&f, &f.student, 1);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client.try_revoke(&f.issuer, &7, &reason(&f.env)),
        CertificateError::NotFound
    );
    assert_contract_error!(
        f.client
            .try_revoke(&f.issuer, &1, &String::from_str(&f.env, "")),
        SharedError::EmptyText
    );
    let long = std::string::String::from_utf8(std::vec![b'x'; 257]).unwrap();
    assert_contract_error!(
        f.client
            .try_revoke(&f.issuer, &1, &String::from_str(&f.env, &long)),
        SharedError::TextTooLong
    );
    assert_contract_error!(
        f.client.try_revoke(&f.student, &1, &reason(&f.env)),
        SharedError::MissingRole
    );
    assert!(!f.client.verify(&1).revoked);
}

#[test]
fn verify_unknown_id_fails() {
    let f = setup();
    assert_contract_error!(f.client.try_verify(&1), CertificateError::NotFound);
    assert_contract_error!(f.client.try_verify(&0), CertificateError::NotFound);
}

#[test]
fn only_issuers_issue() {
    let f = setup();
    f.env.mock_all_auths();
    for who in [f.student.clone(), f.admin.clone()] {
        assert_contract_error!(
            f.client.try_issue_credential(
                &who,
                &f.student,
                &course(&f.env, 1),
                &doc_hash(&f.env, 1)
            ),
            SharedError::MissingRole
        );
    }
    f.client.revoke_role(&f.issuer, &roles::ISSUER, &f.admin);
    assert_contract_error!(
        f.client.try_issue_credential(
            &f.issuer,
            &f.student,
            &course(&f.env, 1),
            &doc_hash(&f.env, 1)
        ),
        SharedError::MissingRole
    );
}

#[test]
fn issue_and_revoke_need_the_issuers_own_auth() {
    let f = setup();
    // Without any authorisation.
    assert_auth_error!(f.client.try_issue_credential(
        &f.issuer,
        &f.student,
        &course(&f.env, 1),
        &doc_hash(&f.env, 1)
    ));
    // A signer at a contract address, authorising exactly one issue.
    let signer = contract_address(&f.env, 0x54);
    f.env.mock_all_auths();
    f.client.grant_role(&signer, &roles::ISSUER, &f.admin);
    let args = (
        &signer,
        &f.student,
        &course(&f.env, 1),
        &doc_hash(&f.env, 1),
    )
        .into_val(&f.env);
    f.env.mock_auths(&[MockAuth {
        address: &signer,
        invoke: &MockAuthInvoke {
            contract: &f.client.address,
            fn_name: "issue_credential",
            args,
            sub_invokes: &[],
        },
    }]);
    assert_eq!(
        f.client.issue_credential(
            &signer,
            &f.student,
            &course(&f.env, 1),
            &doc_hash(&f.env, 1)
        ),
        1
    );
    assert_eq!(f.env.auths().len(), 1);
    assert_eq!(f.env.auths()[0].0, signer);
    // The same authorisation does not cover another course, nor a revocation.
    assert_auth_error!(f.client.try_issue_credential(
        &signer,
        &f.student,
        &course(&f.env, 2),
        &doc_hash(&f.env, 1)
    ));
    assert_auth_error!(f.client.try_revoke(&signer, &1, &reason(&f.env)));
}

#[test]
fn certificates_are_soulbound() {
    let f = setup();
    issue(&f, &f.student, 1);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client.try_transfer(&f.student, &account(&f.env, 9), &1),
        CertificateError::Soulbound
    );
    assert_eq!(f.client.verify(&1).student, f.student);
}

#[test]
fn storage_ttl_is_extended_on_use() {
    let f = setup();
    issue(&f, &f.student, 1);
    let ttl_of = |key: &DataKey| {
        f.env.as_contract(&f.client.address, || {
            f.env.storage().persistent().get_ttl(key)
        })
    };
    let keys = [
        DataKey::Certificate(1),
        DataKey::ByCourse(f.student.clone(), course(&f.env, 1)),
        DataKey::ByStudent(f.student.clone()),
    ];
    for key in &keys {
        assert_eq!(ttl_of(key), ttl::PERSISTENT_EXTEND_TO);
    }
    advance(&f.env, 2 * ttl::DAY_IN_LEDGERS);
    assert_eq!(
        ttl_of(&keys[0]),
        ttl::PERSISTENT_EXTEND_TO - 2 * ttl::DAY_IN_LEDGERS
    );
    f.client.verify(&1);
    f.client.certificates_of(&f.student);
    f.client.certificate_for(&f.student, &course(&f.env, 1));
    for key in &keys {
        assert_eq!(ttl_of(key), ttl::PERSISTENT_EXTEND_TO);
    }
    use soroban_sdk::testutils::Deployer as _;
    assert_eq!(
        f.env
            .deployer()
            .get_contract_instance_ttl(&f.client.address),
        ttl::INSTANCE_EXTEND_TO
    );
    // A certificate that is verified now and then outlives many terms.
    for _ in 0..4 {
        advance(&f.env, 110 * ttl::DAY_IN_LEDGERS);
        assert_eq!(f.client.verify(&1).id, 1);
    }
}

#[test]
fn wasm_build_runs_on_the_host() {
    let Some(wasm) = wasm_bytes("certificate") else {
        return;
    };
    let env = test_env();
    let admin = account(&env, 1);
    let issuer = account(&env, 4);
    let student = account(&env, 3);
    let id = env.register(wasm.as_slice(), (&admin,));
    let client = CertificatesClient::new(&env, &id);
    env.mock_all_auths();
    client.grant_role(&issuer, &roles::ISSUER, &admin);
    assert_eq!(
        client.issue_credential(&issuer, &student, &course(&env, 1), &doc_hash(&env, 1)),
        1
    );
    assert_contract_error!(
        client.try_issue_credential(&issuer, &student, &course(&env, 1), &doc_hash(&env, 1)),
        CertificateError::AlreadyIssued
    );
    client.revoke(&issuer, &1, &reason(&env));
    let record = client.verify(&1);
    assert!(record.revoked);
    assert_eq!(record.revoke_reason, Some(reason(&env)));
    assert_eq!(client.certificates_of(&student), vec![&env, 1u64]);
    assert_contract_error!(
        client.try_transfer(&student, &admin, &1),
        CertificateError::Soulbound
    );
}

#[test]
fn access_control_queries_renounce_role_and_refused_entry_points() {
    let f = setup();
    starling_shared::check_access_control_entry_points!(
        &f.env,
        f.client,
        &f.admin,
        &f.issuer,
        roles::ISSUER
    );
}

#[test]
fn an_exhausted_id_counter_fails_with_id_overflow() {
    let f = setup();
    issue(&f, &f.student, 1);
    f.env.as_contract(&f.client.address, || {
        f.env
            .storage()
            .instance()
            .set(&crate::DataKey::LastId, &u64::MAX)
    });
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client.try_issue_credential(
            &f.issuer,
            &f.student,
            &course(&f.env, 2),
            &doc_hash(&f.env, 2)
        ),
        CertificateError::IdOverflow
    );
    assert_eq!(f.client.total_issued(), u64::MAX);
    assert_eq!(
        f.client.certificate_for(&f.student, &course(&f.env, 2)),
        None
    );
}

#[test]
fn every_error_code_is_in_the_crates_range() {
    // Read from the enum's contract spec, so a variant added later is checked too.
    starling_shared::testutils::assert_error_codes_in(
        &crate::CertificateError::spec_xdr(),
        60..=79,
    );
}
