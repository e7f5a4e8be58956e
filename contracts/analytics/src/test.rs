extern crate std;

use soroban_sdk::{
    testutils::{
        storage::{Instance as _, Persistent as _},
        AuthorizedFunction, AuthorizedInvocation, Deployer as _, MockAuth, MockAuthInvoke,
    },
    Address, BytesN, Env, Event as _, IntoVal, Symbol,
};
use starling_shared::{
    assert_auth_error, assert_contract_error, roles,
    testutils::{account, advance, contract_address, test_env, wasm_bytes, VectorRecorder},
    ttl, SharedError,
};

use crate::{Analytics, AnalyticsClient, AnalyticsError, DataKey};

struct Fixture {
    env: Env,
    client: AnalyticsClient<'static>,
    admin: Address,
    recorder: Address,
    student: Address,
    course: BytesN<16>,
}

fn course(env: &Env) -> BytesN<16> {
    // UUID 0b6f0c2e-7d1a-4c3b-9a55-3e2f4d6c8b10 as its 16 bytes.
    BytesN::from_array(
        env,
        &[
            0x0b, 0x6f, 0x0c, 0x2e, 0x7d, 0x1a, 0x4c, 0x3b, 0x9a, 0x55, 0x3e, 0x2f, 0x4d, 0x6c,
            0x8b, 0x10,
        ],
    )
}

fn setup() -> Fixture {
    let env = test_env();
    let admin = account(&env, 1);
    let recorder = account(&env, 2);
    let student = account(&env, 3);
    let id = contract_address(&env, 0xA1);
    env.register_at(&id, Analytics, (&admin,));
    let client = AnalyticsClient::new(&env, &id);
    env.mock_all_auths();
    client.grant_role(&recorder, &roles::RECORDER, &admin);
    env.set_auths(&[]);
    let course = course(&env);
    Fixture {
        env,
        client,
        admin,
        recorder,
        student,
        course,
    }
}

fn record(f: &Fixture, percent: u32) -> u32 {
    f.env.mock_all_auths();
    let out = f
        .client
        .record_progress(&f.recorder, &f.student, &f.course, &percent);
    f.env.set_auths(&[]);
    out
}

#[test]
fn progress_goes_up_and_emits_an_event_per_change() {
    let f = setup();
    assert_eq!(f.client.get_progress(&f.student, &f.course), 0);
    let mut vectors = VectorRecorder::new(
        "analytics_progress",
        "A recorder records 40 % then 70 % of one course for one learner.",
    );
    assert_eq!(record(&f, 40), 40);
    assert_eq!(vectors.capture(&f.env, "record_progress(40)"), 1);
    assert_eq!(record(&f, 70), 70);
    assert_eq!(vectors.capture(&f.env, "record_progress(70)"), 1);
    vectors.finish();
    assert_eq!(f.client.get_progress(&f.student, &f.course), 70);
}

#[test]
fn reaching_100_emits_course_completed() {
    let f = setup();
    record(&f, 90);
    let mut vectors = VectorRecorder::new(
        "analytics_progress_complete",
        "A learner at 90 % reaches 100 %: progress_recorded then course_completed.",
    );
    assert_eq!(record(&f, 100), 100);
    assert_eq!(vectors.capture(&f.env, "record_progress(100)"), 2);
    vectors.finish();
    assert_eq!(f.client.get_progress(&f.student, &f.course), 100);
}

#[test]
fn event_payload_matches_the_struct() {
    let f = setup();
    record(&f, 100);
    let events = f.env.events_all();
    assert_eq!(events.len(), 2);
    let expected_progress = crate::ProgressRecorded {
        student: f.student.clone(),
        course_id: f.course.clone(),
        percent: 100,
        previous: 0,
        recorder: f.recorder.clone(),
    };
    let expected_done = crate::CourseCompleted {
        student: f.student.clone(),
        course_id: f.course.clone(),
        recorder: f.recorder.clone(),
    };
    assert_eq!(
        events[0],
        expected_progress.to_xdr(&f.env, &f.client.address)
    );
    assert_eq!(events[1], expected_done.to_xdr(&f.env, &f.client.address));
}

#[test]
fn same_percent_again_is_a_silent_no_op() {
    let f = setup();
    record(&f, 50);
    assert_eq!(record(&f, 50), 50);
    assert!(f.env.events_all().is_empty());
}

#[test]
fn progress_never_goes_down() {
    let f = setup();
    record(&f, 60);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client
            .try_record_progress(&f.recorder, &f.student, &f.course, &59),
        AnalyticsError::ProgressRegressed
    );
    assert_eq!(f.client.get_progress(&f.student, &f.course), 60);
}

#[test]
fn percent_above_100_is_rejected() {
    let f = setup();
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client
            .try_record_progress(&f.recorder, &f.student, &f.course, &101),
        AnalyticsError::PercentOutOfRange
    );
}

#[test]
fn only_recorders_record() {
    let f = setup();
    let stranger = account(&f.env, 9);
    f.env.mock_all_auths();
    assert_contract_error!(
        f.client
            .try_record_progress(&stranger, &f.student, &f.course, &10),
        SharedError::MissingRole
    );
    // The admin holds no recorder role either.
    assert_contract_error!(
        f.client
            .try_record_progress(&f.admin, &f.student, &f.course, &10),
        SharedError::MissingRole
    );
}

/// A recorder at a contract address, so `mock_auths` can stand in for its signature.
fn contract_recorder(f: &Fixture) -> Address {
    let signer = contract_address(&f.env, 0x52);
    f.env.mock_all_auths();
    f.client.grant_role(&signer, &roles::RECORDER, &f.admin);
    f.env.set_auths(&[]);
    signer
}

#[test]
fn record_progress_requires_exactly_the_recorders_auth() {
    let mut f = setup();
    f.recorder = contract_recorder(&f);
    let args = (&f.recorder, &f.student, &f.course, 30u32).into_val(&f.env);
    f.env.mock_auths(&[MockAuth {
        address: &f.recorder,
        invoke: &MockAuthInvoke {
            contract: &f.client.address,
            fn_name: "record_progress",
            args: (&f.recorder, &f.student, &f.course, 30u32).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    f.client
        .record_progress(&f.recorder, &f.student, &f.course, &30);
    assert_eq!(
        f.env.auths(),
        std::vec![(
            f.recorder.clone(),
            AuthorizedInvocation {
                function: AuthorizedFunction::Contract((
                    f.client.address.clone(),
                    Symbol::new(&f.env, "record_progress"),
                    args,
                )),
                sub_invocations: std::vec![],
            }
        )]
    );
}

#[test]
fn record_progress_without_auth_or_with_other_args_fails() {
    let mut f = setup();
    f.recorder = contract_recorder(&f);
    assert_auth_error!(f
        .client
        .try_record_progress(&f.recorder, &f.student, &f.course, &30));
    // An authorisation for 30 % does not cover 90 %.
    f.env.mock_auths(&[MockAuth {
        address: &f.recorder,
        invoke: &MockAuthInvoke {
            contract: &f.client.address,
            fn_name: "record_progress",
            args: (&f.recorder, &f.student, &f.course, 30u32).into_val(&f.env),
            sub_invokes: &[],
        },
    }]);
    assert_auth_error!(f
        .client
        .try_record_progress(&f.recorder, &f.student, &f.course, &90));
    assert_eq!(f.client.get_progress(&f.student, &f.course), 0);
}

#[test]
fn admin_grants_and_revokes_recorders() {
    let f = setup();
    let other = account(&f.env, 7);
    let mut vectors = VectorRecorder::new(
        "roles",
        "The admin grants and revokes a role, then hands the admin over in two steps.",
    );
    f.env.mock_all_auths();
    f.client.grant_role(&other, &roles::RECORDER, &f.admin);
    vectors.capture(&f.env, "grant_role(recorder)");
    assert!(f.client.has_role(&other, &roles::RECORDER).is_some());
    f.client.revoke_role(&other, &roles::RECORDER, &f.admin);
    vectors.capture(&f.env, "revoke_role(recorder)");
    assert_contract_error!(
        f.client
            .try_record_progress(&other, &f.student, &f.course, &10),
        SharedError::MissingRole
    );
    // A non-admin cannot grant (OpenZeppelin AccessControlError::Unauthorized = 2000).
    assert_contract_error!(
        f.client.try_grant_role(&other, &roles::RECORDER, &other),
        2000u32
    );

    let new_admin = account(&f.env, 8);
    let live_until = f.env.ledger().sequence() + 100;
    f.client.transfer_admin_role(&new_admin, &live_until);
    vectors.capture(&f.env, "transfer_admin_role");
    assert_eq!(f.client.get_admin(), Some(f.admin.clone()));
    f.env.set_auths(&[]);
    // Accepting needs the new admin's own authorisation.
    assert_auth_error!(f.client.try_accept_admin_transfer());
    f.env.mock_all_auths();
    f.client.accept_admin_transfer();
    assert_eq!(f.env.auths()[0].0, new_admin);
    vectors.capture(&f.env, "accept_admin_transfer");
    assert_eq!(f.client.get_admin(), Some(new_admin.clone()));
    assert_contract_error!(
        f.client.try_grant_role(&other, &roles::RECORDER, &f.admin),
        2000u32
    );
    vectors.finish();
}

#[test]
fn admin_transfer_needs_a_live_pending_offer() {
    let f = setup();
    let new_admin = account(&f.env, 8);
    f.env.mock_all_auths();
    // Nothing pending (OpenZeppelin RoleTransferError::NoPendingTransfer = 2200).
    assert_contract_error!(f.client.try_accept_admin_transfer(), 2200u32);
    // An offer that lapses cannot be accepted (RoleTransferError::TransferExpired = 2203).
    let live_until = f.env.ledger().sequence() + 10;
    f.client.transfer_admin_role(&new_admin, &live_until);
    advance(&f.env, 11);
    assert_contract_error!(f.client.try_accept_admin_transfer(), 2203u32);
    assert_eq!(f.client.get_admin(), Some(f.admin.clone()));
    // Only the admin can offer the role.
    f.env.set_auths(&[]);
    assert_auth_error!(f
        .client
        .try_transfer_admin_role(&new_admin, &(f.env.ledger().sequence() + 10)));
}

#[test]
fn storage_ttl_is_extended_on_use() {
    let f = setup();
    record(&f, 10);
    let key = DataKey::Progress(f.student.clone(), f.course.clone());
    let ttl_of = |env: &Env| {
        env.as_contract(&f.client.address, || {
            env.storage().persistent().get_ttl(&key)
        })
    };
    assert_eq!(ttl_of(&f.env), ttl::ACTIVITY_EXTEND_TO);
    assert_eq!(
        f.env
            .deployer()
            .get_contract_instance_ttl(&f.client.address),
        ttl::INSTANCE_EXTEND_TO
    );
    // Within a day nothing is re-extended (at most one extension a day per entry).
    advance(&f.env, ttl::DAY_IN_LEDGERS / 2);
    f.client.get_progress(&f.student, &f.course);
    assert_eq!(
        ttl_of(&f.env),
        ttl::ACTIVITY_EXTEND_TO - ttl::DAY_IN_LEDGERS / 2
    );
    // After more than a day a read extends the record and the instance to the full term.
    advance(&f.env, ttl::DAY_IN_LEDGERS);
    f.client.get_progress(&f.student, &f.course);
    assert_eq!(ttl_of(&f.env), ttl::ACTIVITY_EXTEND_TO);
    assert_eq!(
        f.env
            .deployer()
            .get_contract_instance_ttl(&f.client.address),
        ttl::INSTANCE_EXTEND_TO
    );
    let instance = f
        .env
        .as_contract(&f.client.address, || f.env.storage().instance().get_ttl());
    assert_eq!(instance, ttl::INSTANCE_EXTEND_TO);
    // Recording the stored percent again changes nothing but still counts as use.
    advance(&f.env, 2 * ttl::DAY_IN_LEDGERS);
    assert_eq!(
        ttl_of(&f.env),
        ttl::ACTIVITY_EXTEND_TO - 2 * ttl::DAY_IN_LEDGERS
    );
    assert_eq!(record(&f, 10), 10);
    assert_eq!(ttl_of(&f.env), ttl::ACTIVITY_EXTEND_TO);
    // A record in use survives far beyond one term.
    for _ in 0..5 {
        advance(&f.env, 25 * ttl::DAY_IN_LEDGERS);
        assert_eq!(f.client.get_progress(&f.student, &f.course), 10);
    }
}

#[test]
fn wasm_build_runs_on_the_host() {
    let Some(wasm) = wasm_bytes("analytics") else {
        return;
    };
    let env = test_env();
    let admin = account(&env, 1);
    let recorder = account(&env, 2);
    let student = account(&env, 3);
    let id = env.register(wasm.as_slice(), (&admin,));
    let client = AnalyticsClient::new(&env, &id);
    env.mock_all_auths();
    client.grant_role(&recorder, &roles::RECORDER, &admin);
    let c = course(&env);
    assert_eq!(client.record_progress(&recorder, &student, &c, &100), 100);
    assert_eq!(env.events_all().len(), 2);
    assert_eq!(client.get_progress(&student, &c), 100);
    assert_contract_error!(
        client.try_record_progress(&recorder, &student, &c, &99),
        AnalyticsError::ProgressRegressed
    );
}

/// Events of the last invocation as XDR, for exact comparisons.
trait EventsAll {
    fn events_all(&self) -> std::vec::Vec<soroban_sdk::xdr::ContractEvent>;
}

impl EventsAll for Env {
    fn events_all(&self) -> std::vec::Vec<soroban_sdk::xdr::ContractEvent> {
        use soroban_sdk::testutils::Events as _;
        self.events().all().events().to_vec()
    }
}

#[test]
fn access_control_queries_renounce_role_and_refused_entry_points() {
    let f = setup();
    starling_shared::check_access_control_entry_points!(
        &f.env,
        f.client,
        &f.admin,
        &f.recorder,
        roles::RECORDER
    );
}

#[test]
fn every_error_code_is_in_the_crates_range() {
    // Read from the enum's contract spec, so a variant added later is checked too.
    starling_shared::testutils::assert_error_codes_in(&crate::AnalyticsError::spec_xdr(), 20..=39);
}
