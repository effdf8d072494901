//! The IAM User and Group compositions walked through their stages (`tests/fixtures/user/`,
//! `tests/fixtures/group/`) through the server's code path, requirements loop included: what
//! is composed at each stage, readiness, conditions and status, and the refused inputs, each a
//! Fatal naming its fields.

mod support;

use std::path::PathBuf;

use function_sco::sdk::proto::v1::{Ready, Status};
use serde_json::json;
use support::outcome::Outcome;
use support::{render_case, root};

fn stage(composition: &str, name: &str) -> PathBuf {
    root().join("tests/fixtures").join(composition).join(name)
}

fn run(composition: &str, name: &str) -> Outcome {
    let outcome = Outcome::of(render_case(&stage(composition, name)).1);
    assert_eq!(
        outcome.fatal(),
        None,
        "{composition}/{name}: unexpected Fatal"
    );
    outcome
}

#[test]
fn a_user_waits_for_its_password_secret_then_is_created_then_ready() {
    let first = run("user", "01-nothing-observed");
    assert_eq!(first.names(), ["initial-password"]);
    let (status, reason, _) = first.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForInitialPassword")
    );

    let second = run("user", "02-password-observed");
    assert_eq!(second.names(), ["initial-password", "user"]);
    assert!(second.ready("initial-password") && !second.ready("user"));
    let user = second.manifest("user");
    assert_eq!(user["spec"]["forProvider"]["username"], "grace.hopper");
    assert_eq!(
        user["spec"]["initProvider"]["initialPassword"][0]["temporary"],
        true
    );
    assert_eq!(
        user["spec"]["initProvider"]["requiredActions"],
        json!(["VERIFY_EMAIL", "UPDATE_PASSWORD"]),
        "the example platform has mail"
    );
    assert_eq!(
        second.status["user"]["initialPasswordSecret"]["name"],
        second.manifest("initial-password")["metadata"]["name"]
    );

    let ready = run("user", "03-all-ready");
    assert_eq!(ready.composite_ready(), Ready::True);
    assert_eq!(ready.status["user"]["created"], true);
    assert!(ready.status["user"]["id"].is_string());
    assert!(
        ready.status["user"].get("initialPassword").is_none(),
        "never the password itself"
    );
}

#[test]
fn a_user_outside_a_synced_workspace_takes_its_organisation_from_the_namespace_label() {
    let out = run("user", "04-organisation-from-namespace-label");
    assert_eq!(out.status["organisation"], "acme");
    assert_eq!(
        out.manifest("initial-password")["metadata"]["namespace"],
        "acme-iam"
    );
}

#[test]
fn a_subgroup_waits_for_its_parent_then_composes_group_memberships_and_usages() {
    let waiting = run("group", "01-waiting-for-parent");
    assert!(waiting.composed.is_empty());
    let (_, reason, message) = waiting.condition("ResourcesReady");
    assert_eq!(reason, "WaitingForParentGroup");
    assert!(
        message.contains("create a Group with path /teams"),
        "{message}"
    );

    let out = run("group", "02-parent-exists");
    assert_eq!(
        out.names(),
        [
            "group",
            "memberships",
            "usage-group-by-memberships",
            "usage-parent-by-group"
        ]
    );
    let group = &out.manifest("group")["spec"]["forProvider"];
    assert_eq!(group["parentIdRef"]["name"], "acme-group-teams-a30fe034");
    assert_eq!(group["attributes"]["slack"], "#engineering###eng-oncall");
    assert_eq!(
        out.manifest("memberships")["spec"]["forProvider"]["members"],
        json!(["ada@acme.example", "grace.hopper"])
    );
}

#[test]
fn a_member_the_realm_does_not_know_is_named() {
    let out = run("group", "03-unknown-member");
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "UnknownMembers")
    );
    assert!(message.contains("\"grace.hopper\""), "{message}");
    assert_eq!(out.status["memberships"]["unknownMember"], "grace.hopper");
    assert_eq!(out.composite_ready(), Ready::False);
}

#[test]
fn a_group_with_everything_observed_is_ready() {
    let out = run("group", "04-all-ready");
    assert_eq!(out.composite_ready(), Ready::True);
    assert_eq!(out.status["group"]["path"], "/teams/engineering");
    assert_eq!(out.status["memberships"]["ready"], true);
    assert!(out.status["memberships"].get("pending").is_none());
}

#[test]
fn the_parent_of_the_example_is_a_top_level_group_named_as_the_subgroup_requires_it() {
    let out = run("group", "05-top-level-without-members");
    assert_eq!(out.names(), ["group"]);
    assert_eq!(
        out.manifest("group")["metadata"]["name"],
        "acme-group-teams-a30fe034"
    );
}

#[test]
fn a_reserved_group_name_is_a_fatal_naming_the_owner() {
    let out = Outcome::of(render_case(&stage("group", "06-refused-reserved-name")).1);
    let fatal = out.fatal().expect("a Fatal");
    assert!(
        fatal.contains("spec.parameters.name: \"shop-admin\""),
        "{fatal}"
    );
    assert!(fatal.contains("the Project composition owns"), "{fatal}");
    assert!(fatal.contains("spec.parameters.members[1]"), "{fatal}");
}

#[test]
fn the_first_administrators_username_is_a_fatal_naming_the_organisation() {
    let out = Outcome::of(render_case(&stage("user", "06-refused-organisation-admin")).1);
    let fatal = out.fatal().expect("a Fatal");
    assert!(
        fatal.contains("spec.parameters.username: \"ada@acme.example\""),
        "{fatal}"
    );
    assert!(
        fatal.contains("the Organisation composition owns"),
        "{fatal}"
    );
}

#[test]
fn a_user_of_an_organisation_not_onboarded_waits_for_it() {
    let out = run("user", "07-waiting-for-organisation");
    assert!(out.composed.is_empty());
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForOrganisation")
    );
    assert!(message.contains("initech"), "{message}");
}

#[test]
fn a_user_keycloak_already_had_keeps_its_credentials_and_says_so() {
    // provider-keycloak found the user by username (no create annotation), so the Terraform
    // provider never set the initial password: the status must not point at it.
    let mut input = support::case_input(&stage("user", "03-all-ready"));
    for observed in &mut input.observed {
        if observed["kind"] == "User" {
            let annotations = observed["metadata"]["annotations"].as_object_mut().unwrap();
            assert!(
                annotations
                    .remove("crossplane.io/external-create-pending")
                    .is_some()
            );
        }
    }
    let adopted = Outcome::of(support::render_input(&input));
    assert_eq!(adopted.fatal(), None);
    assert_eq!(
        adopted.manifest("user")["spec"]["managementPolicies"],
        json!(["Observe", "Create", "Update", "LateInitialize"])
    );
    assert!(
        adopted.status["user"]
            .get("initialPasswordSecret")
            .is_none()
    );
    let warnings = adopted.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("already existed in Keycloak, so the initial password was not set")),
        "{warnings:#?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("kept, not deleted")),
        "{warnings:#?}"
    );

    let created = run("user", "03-all-ready");
    assert!(created.warnings().is_empty());
    assert_eq!(
        created.status["user"]["initialPasswordSecret"]["key"],
        "password"
    );
}
