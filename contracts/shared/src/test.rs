extern crate std;

use soroban_sdk::{
    contract, contractimpl, panic_with_error, symbol_short, testutils::Address as _, Address, Env,
    String,
};

use crate::{guard, roles, testutils::test_env, validate, SharedError};

/// A minimal contract that exercises the shared helpers the way the real ones do.
#[contract]
struct Probe;

#[contractimpl]
impl Probe {
    pub fn __constructor(e: Env, admin: Address) {
        roles::init_admin(&e, &admin);
    }

    pub fn guarded(e: Env, fail: bool) -> bool {
        guard::with_guard(&e, || {
            if fail {
                panic_with_error!(&e, SharedError::AmountNotPositive);
            }
            guard::is_entered(&e)
        })
    }

    pub fn nested(e: Env) {
        guard::with_guard(&e, || guard::with_guard(&e, || ()));
    }

    pub fn entered(e: Env) -> bool {
        guard::is_entered(&e)
    }

    pub fn only_recorder(e: Env, caller: Address) {
        roles::require_role(&e, &caller, &roles::RECORDER);
    }

    pub fn grant(e: Env, account: Address, caller: Address) {
        stellar_access::access_control::grant_role(&e, &account, &roles::RECORDER, &caller);
    }

    pub fn amount(e: Env, amount: i128) {
        validate::require_positive(&e, amount);
    }

    pub fn text(e: Env, text: String) {
        validate::require_text(&e, &text, 8);
    }

    pub fn refused(e: Env) {
        roles::refuse_unsupported(&e);
    }
}

fn setup() -> (Env, ProbeClient<'static>, Address) {
    let env = test_env();
    let admin = Address::generate(&env);
    let id = env.register(Probe, (&admin,));
    (env.clone(), ProbeClient::new(&env, &id), admin)
}

#[test]
fn guard_is_held_inside_and_released_after_success() {
    let (_env, probe, _) = setup();
    assert!(probe.guarded(&false));
    assert!(!probe.entered());
}

#[test]
fn guard_is_released_when_the_body_fails() {
    let (_env, probe, _) = setup();
    crate::assert_contract_error!(probe.try_guarded(&true), SharedError::AmountNotPositive);
    assert!(!probe.entered());
    assert!(probe.guarded(&false));
}

#[test]
fn guard_refuses_reentry() {
    let (_env, probe, _) = setup();
    crate::assert_contract_error!(probe.try_nested(), SharedError::Reentered);
    assert!(!probe.entered());
}

#[test]
fn require_role_needs_the_role_and_the_callers_auth() {
    let (env, probe, admin) = setup();
    let recorder = Address::generate(&env);
    env.mock_all_auths();
    crate::assert_contract_error!(probe.try_only_recorder(&recorder), SharedError::MissingRole);
    probe.grant(&recorder, &admin);
    probe.only_recorder(&recorder);
    let auths = env.auths();
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0].0, recorder);
}

#[test]
fn require_role_without_auth_fails() {
    let (env, probe, admin) = setup();
    let recorder = Address::generate(&env);
    env.mock_all_auths();
    probe.grant(&recorder, &admin);
    env.set_auths(&[]);
    crate::assert_auth_error!(probe.try_only_recorder(&recorder));
}

#[test]
fn validation_helpers() {
    let (env, probe, _) = setup();
    probe.amount(&1);
    crate::assert_contract_error!(probe.try_amount(&0), SharedError::AmountNotPositive);
    crate::assert_contract_error!(probe.try_amount(&-5), SharedError::AmountNotPositive);
    probe.text(&String::from_str(&env, "12345678"));
    crate::assert_contract_error!(
        probe.try_text(&String::from_str(&env, "")),
        SharedError::EmptyText
    );
    crate::assert_contract_error!(
        probe.try_text(&String::from_str(&env, "123456789")),
        SharedError::TextTooLong
    );
}

#[test]
fn role_symbols_are_stable() {
    assert_eq!(roles::RECORDER, symbol_short!("recorder"));
    assert_eq!(roles::ISSUER, symbol_short!("issuer"));
    assert_eq!(roles::MINTER, symbol_short!("minter"));
}

#[test]
fn vectors_dir_matches_the_scenarios() {
    use crate::testutils::{SCENARIOS, VECTORS_DIR};
    let mut files: std::vec::Vec<std::string::String> = std::fs::read_dir(VECTORS_DIR)
        .expect("contracts/vectors exists")
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .map(|name| name.trim_end_matches(".json").into())
        .collect();
    files.sort();
    let mut expected: std::vec::Vec<std::string::String> =
        SCENARIOS.iter().map(|s| (*s).into()).collect();
    expected.sort();
    assert_eq!(
        files, expected,
        "contracts/vectors/*.json and testutils::SCENARIOS differ"
    );
    for name in SCENARIOS {
        let text = std::fs::read_to_string(std::format!("{}/{}.json", VECTORS_DIR, name)).unwrap();
        assert!(
            text.contains(&std::format!("\"scenario\": \"{}\"", name)),
            "{} names another scenario",
            name
        );
    }
}

#[test]
fn shared_error_codes_stay_in_1_to_19() {
    let spec = SharedError::spec_xdr();
    crate::testutils::assert_error_codes_in(&spec, 1..=19);
    let cases = crate::testutils::error_cases(&spec);
    assert!(cases.iter().any(|(n, c)| n == "Unsupported" && *c == 6));
}

#[test]
#[should_panic(expected = "outside the crate's range")]
fn error_range_check_fails_for_a_code_outside_the_range() {
    crate::testutils::assert_error_codes_in(&SharedError::spec_xdr(), 1..=5);
}

#[test]
fn refused_entry_points_fail_with_unsupported() {
    let (_env, probe, _) = setup();
    crate::assert_contract_error!(probe.try_refused(), SharedError::Unsupported);
}
