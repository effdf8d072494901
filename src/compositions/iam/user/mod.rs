//! User: a person in an organisation's Keycloak realm. One namespaced
//! `iam.cloud.stakater.com/v1` `User` XR (synced from the organisation's KCP workspace by
//! api-syncagent) becomes a provider-keycloak `User` in the realm `<org>` with a temporary
//! initial password from a Secret beside the XR.
//!
//! | XR field (`spec.parameters.`) | Resources (composition resource name) |
//! |---|---|
//! | `username`, `email`, `firstName`, `lastName`, `enabled`, `emailVerified: true` | `user` (`user.keycloak.m.crossplane.io` `User` `<org>-user-<username>-<hash>`, `spec.forProvider`) |
//! | `emailVerified: false` (default), with the platform's mail | the same `User`'s `spec.initProvider` (`emailVerified: false`, `requiredActions: [VERIFY_EMAIL, UPDATE_PASSWORD]`) |
//! | (always) | `initial-password` (Secret `<user object>-initial-password`, key `password`, in the XR's namespace), the `User`'s `spec.initProvider.initialPassword` (temporary) |
//!
//! The organisation is resolved as [`crate::compositions::iam`] describes; until Crossplane
//! has fetched the namespace (without the annotation) nothing is composed
//! (`WaitingForNamespace`).
//!
//! Until the organisation's realm exists nothing is composed (`WaitingForOrganisation`).
//!
//! Choices, and what they rest on:
//! - **The first administrator is refused.** provider-keycloak adopts an existing user by
//!   realm and username (`crossplane-contrib/provider-keycloak` `config/user/config.go`,
//!   `userIdentifyingPropertiesLookup`), so a User with the Organisation's admin's username
//!   would take that user over, and deleting it would delete them. The admin's `User`
//!   (`<org>-admin`) is fetched as a required resource and its username refused (Fatal naming
//!   `spec.parameters.username` and the Organisation composition), and its email address
//!   too: the realm has `duplicateEmailsAllowed: false`, so Keycloak would refuse the user.
//! - **Lower case.** Keycloak stores usernames lower-cased (the JPA `UserAdapter.setUsername`
//!   goes through `KeycloakModelUtils.toLowerCaseSafe`; emails likewise, as the
//!   Organisation composition found for its first admin), and the Terraform provider behind provider-keycloak
//!   refuses a username that is not lower case (`keycloak/terraform-provider-keycloak`
//!   `provider/resource_keycloak_user.go`, the `username` ValidateFunc; `username` is
//!   `ForceNew`, hence immutable in the XRD). So both are lower-cased here, never refused for
//!   their case, and the composed values never differ from what Keycloak reports.
//! - **Username rules.** What Keycloak's default user profile holds (3 to 255 characters,
//!   none that `username-prohibited-characters` refuses), in ASCII, since
//!   `up-username-not-idn-homograph` refuses some others: lower-case letters, digits, `+`,
//!   `.`, `_`, `@` and `-` ([`check_new_username`], shared with the Organisation's admin).
//! - **Creation-only fields in `spec.initProvider`.** The Terraform provider re-applies every
//!   configured field on each update (`resourceKeycloakUserUpdate` sends the whole user) and
//!   sets `initial_password` only at creation (`onlyDiffOnCreate`, `ResetUserPassword` in
//!   `resourceKeycloakUserCreate`); upjet merges `initProvider` into the first apply and
//!   ignores those fields afterwards (`crossplane/upjet` `pkg/controller/
//!   ignored_tfpluginsdk.go`). So the initial password (temporary: Keycloak asks for a new
//!   one at the first login), the `VERIFY_EMAIL` required action and an unverified
//!   `emailVerified: false` live in `initProvider`: completing the first login is never
//!   undone. `emailVerified: true` is an assertion the XR keeps, so it is in `forProvider`.
//!   Late initialisation does not copy the unverified `false` into `forProvider` (where it
//!   would undo a later verification): upjet skips zero values (provider-keycloak's generated
//!   `User.LateInitialize` in `apis/namespaced/user/v1alpha1/zz_user_terraformed.go` uses
//!   `WithZeroValueJSONOmitEmptyFilter`, which skips a pointer to a zero value, upjet
//!   `pkg/resource/lateinit.go`); a `true` Keycloak reports later is copied, and agrees.
//! - **A changed email is unverified again** (unless the XR says verified). Keycloak's admin
//!   API keeps `emailVerified` on an email change (`UserProfileContext.USER_API` does not
//!   reset it, unlike the account console's contexts) and the late-initialised `true` would
//!   be re-sent with the new address. So while Keycloak reports another address
//!   (`status.atProvider.email`) than the XR's, `forProvider` carries `emailVerified: false`;
//!   once it reports the new one the field is dropped again, as a `false` kept there would
//!   undo every later verification (the Terraform provider's `email_verified` defaults to
//!   `false` and is sent on each update). Keycloak asks for verification at the next login
//!   where the realm verifies email (`VerifyEmail.evaluateTriggers`).
//! - **The initial password** is derived from the platform seed and the XR's uid
//!   ([`crate::compositions::secrets`], as the first organisation admin's is) and kept in a
//!   Secret in the XR's namespace, which `status.user.initialPasswordSecret` names. The
//!   API reference's `status.user.initialPassword` (the value, base64) is deliberately not
//!   offered: a status is readable by everyone who may read Users and is synced back to the
//!   workspace with them, while a Secret has its own RBAC and is synced back only when the
//!   PublishedResource lists it as a related resource. Once observed, the Secret's value is
//!   read back and never changed.
//! - **Updates.** The management policies keep late initialisation (every policy of the
//!   CRD's default `["*"]`, spelled out: `with_late_initialization`), unlike the other
//!   Keycloak resources', which leave it out; so changing `enabled`, the names or
//!   the email updates the user. The Terraform provider's user update deletes the user's
//!   federated identity links and re-creates those in the configuration (`keycloak/user.go`
//!   `UpdateUser`), which is why the Organisation's first admin is create-only. An IAM User is
//!   meant to be edited; provider-keycloak late-initialises every field but
//!   `required_actions` and `initial_password` (`config/user/config.go`, `LateInitializer`),
//!   so links Keycloak reports are copied into `forProvider` and re-sent. Only once: upjet
//!   late-initialises a field while it is empty (`pkg/resource/lateinit.go`), so the links
//!   are those Keycloak had when the first appeared. **Known limit**: a link made later (a
//!   second provider, the account console) is removed by the next update of the user, and a
//!   link removed in Keycloak is made again; names removed from the XR are copied back the
//!   same way. The first link too is removed once: `Observe` computes the plan from the
//!   parameters before late-initialising them and `Update` applies that plan (upjet v2
//!   `pkg/controller/external_tfpluginsdk.go`, `instanceDiff`), and `federated_identity` is
//!   optional, not computed, in the Terraform schema; the next poll makes it again from the
//!   late-initialised copy. A function cannot close that window: it learns of the link
//!   from the same observation. Read from the configuration and upjet's source, not
//!   observed against a live Keycloak. `initProvider.requiredActions`
//!   always lists `UPDATE_PASSWORD` (an empty list would be dropped by upjet's `omitempty`
//!   and name nothing), so the `UPDATE_PASSWORD` Keycloak adds for a temporary password is
//!   no difference that would update the user on every poll
//!   ([`crate::resources::keycloak::UserInitParameters`]).
//!
//! Status: `status.organisation`, `status.user.{id, username, email, created, ready,
//! initialPasswordSecret}` (`id` from the observed `status.atProvider.id`; `created` once
//! Keycloak reported it), `status.allResourcesReady`.

pub mod names;
pub mod settings;
pub mod spec;
#[cfg(test)]
mod tests;

use serde::Deserialize;

use super::{Organisation, require_realm, resolve_organisation};
use crate::compositions::build::Build;
use crate::compositions::conventions::XrIdentity;
use crate::compositions::organisation;
use crate::compositions::platform::Platform;
use crate::compositions::secrets::{self, Generated};
use crate::compositions::types::{Email, check_new_username, check_person_name};
use crate::compositions::{Composition, Context, FieldError, Invalid};
use crate::resources::keycloak::{self, Managed, RealmId};
use crate::resources::secret::{Base64, Secret};
use crate::resources::{Labels, ProviderConfig, SecretKeySelector, meta};
use crate::sdk::response::{Match, Requirement};
use spec::{SecretKeyRef, UserState, UserStatus};

pub use settings::Settings;

/// The Secret key of the initial password.
const PASSWORD_KEY: &str = "password";
/// Length of the initial password (57-letter alphabet: about 140 bits).
const PASSWORD_LENGTH: usize = 24;
/// The purpose the initial password is derived for.
const PASSWORD_PURPOSE: &str = "iam-user-initial-password";
/// The requirement under which the organisation's first administrator's `User` is fetched.
pub const ADMIN_REQUIREMENT: &str = "organisation-admin";

/// The Organisation composition's first administrator (`user.keycloak.crossplane.io` `User`
/// `<org>-admin`), fetched to refuse their username.
fn admin_requirement(org: &str) -> Requirement {
    Requirement {
        api_version: format!(
            "user.keycloak.crossplane.io/{}",
            <keycloak::UserParameters as keycloak::Parameters>::VERSION
        ),
        kind: <keycloak::UserParameters as keycloak::Parameters>::KIND.into(),
        matching: Match::Name(organisation::names::object(org, "admin")),
        namespace: None,
    }
}

/// The first administrator's username, from the fetched `User`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct FetchedAdmin {
    spec: Option<FetchedAdminSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct FetchedAdminSpec {
    for_provider: Option<FetchedAdminParameters>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct FetchedAdminParameters {
    username: Option<String>,
    email: Option<String>,
}

/// The User composition.
pub struct User;

/// Which status flag a composed resource counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The user and its initial password Secret.
    User,
}

impl Composition for User {
    const NAME: &'static str = "User";
    const API_VERSION: &'static str = "iam.cloud.stakater.com/v1";
    const KIND: &'static str = "User";
    const SETTINGS_KEY: &'static str = "user";
    type Xr = spec::User;
    type Settings = Settings;
    type Part = Part;
    type Valid<'a> = ValidUser<'a>;
    type Status = UserStatus;

    fn validate<'a>(
        xr: &'a spec::User,
        cx: Context<'a, Settings>,
    ) -> Result<ValidUser<'a>, Invalid> {
        validate(xr, cx)
    }

    fn compose(user: &ValidUser<'_>, build: &mut Build<'_, Part>) {
        user.compose(build);
    }

    fn status(user: &ValidUser<'_>, build: &Build<'_, Part>) -> UserStatus {
        user.status(build)
    }
}

/// A valid User: its normalised names and what follows from them.
pub struct ValidUser<'a> {
    params: &'a spec::Parameters,
    platform: &'a Platform,
    namespace: String,
    org: Organisation,
    identity: XrIdentity,
    username: String,
    email: String,
    /// The initial password (never logged).
    password: Generated,
    /// What Keycloak reports of the user, once it exists (read once, by validate).
    applied: UserAtProvider,
}

/// Checks every rule, collecting every bad field.
fn validate<'a>(xr: &'a spec::User, cx: Context<'a, Settings>) -> Result<ValidUser<'a>, Invalid> {
    let params = &xr.spec.parameters;
    let mut errors = Vec::new();
    let mut fail = |path: &str, message: String| {
        errors.push(FieldError {
            path: path.to_owned(),
            message,
        });
    };
    let username = params.username.to_lowercase();
    if let Err(e) = check_new_username(&username) {
        fail("spec.parameters.username", e);
    }
    let email = params.email.to_lowercase();
    if let Err(e) = Email::try_from(email.clone()) {
        fail("spec.parameters.email", e);
    }
    for (path, name) in [
        ("spec.parameters.firstName", &params.first_name),
        ("spec.parameters.lastName", &params.last_name),
    ] {
        if let Some(Err(e)) = name.as_deref().map(check_person_name) {
            fail(path, e);
        }
    }
    let identity = XrIdentity::of::<User>(&xr.metadata);
    let namespace = identity.scope.namespace().unwrap_or_default().to_owned();
    let org = match resolve_organisation(
        xr.metadata.annotations.as_ref(),
        &namespace,
        &cx.platform.kcp.root_workspace,
        cx.observed,
    ) {
        Ok(org) => Some(org),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let admin = cx
        .observed
        .required
        .get(ADMIN_REQUIREMENT)
        .and_then(|found| found.first())
        .and_then(|admin| serde_json::from_value::<FetchedAdmin>(admin.clone()).ok())
        .and_then(|admin| admin.spec?.for_provider)
        .unwrap_or_default();
    // The Organisation's realm has `duplicateEmailsAllowed: false`: Keycloak refuses a second
    // user with an address another user has, and the User would never be created.
    if admin
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(&email))
    {
        errors.push(FieldError {
            path: "spec.parameters.email".into(),
            message: format!(
                "{email:?} is the email address of the organisation's first administrator, and the realm allows one user per address; use another address"
            ),
        });
    }
    if admin.username.as_deref() == Some(username.as_str()) {
        errors.push(FieldError {
            path: "spec.parameters.username".into(),
            message: format!(
                "{username:?} is the organisation's first administrator, whom the Organisation composition owns (spec.parameters.admin): provider-keycloak would adopt that user by username, and deleting this User would delete them; choose another username"
            ),
        });
    }
    let password = secrets::generated(
        cx.observed,
        names::INITIAL_PASSWORD,
        PASSWORD_KEY,
        xr.metadata.uid.as_deref(),
        PASSWORD_PURPOSE,
        PASSWORD_LENGTH,
    );
    let password = match password {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let applied = cx
        .observed
        .read::<ObservedUser>(names::USER)
        .and_then(Result::ok)
        .and_then(|u| u.status?.at_provider)
        .unwrap_or_default();
    match (org, password) {
        (Some(org), Some(password)) if errors.is_empty() => Ok(ValidUser {
            params,
            platform: cx.platform,
            namespace,
            org,
            identity,
            username,
            email,
            password,
            applied,
        }),
        _ => Err(Invalid(errors)),
    }
}

/// The parts of an observed provider-keycloak `User` the status reads.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedUser {
    status: Option<ObservedUserStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedUserStatus {
    at_provider: Option<UserAtProvider>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct UserAtProvider {
    id: Option<String>,
    email: Option<String>,
}

impl ValidUser<'_> {
    fn labels(&self, org: &str) -> Labels {
        self.identity.labels(Some(org), None)
    }

    fn compose(&self, build: &mut Build<'_, Part>) {
        let Some(org) = self.org.require(build, &self.namespace) else {
            return;
        };
        build.require(ADMIN_REQUIREMENT, admin_requirement(org));
        if !require_realm(build, org, names::USER) {
            return;
        }
        let labels = self.labels(org);
        let ns = Some(self.namespace.as_str());
        let secret_name = names::initial_password(org, &self.username);
        let secret = Secret::new(
            meta(&secret_name, ns, &labels),
            [(
                PASSWORD_KEY.to_owned(),
                Base64::from(self.password.value.clone()),
            )],
        )
        .opaque();
        build.add_existing(names::INITIAL_PASSWORD, Part::User, &secret);
        if !build.exists(names::INITIAL_PASSWORD) && !build.exists(names::USER) {
            // provider-keycloak reads the initial password when it creates the user: a
            // missing Secret would fail the creation, so the user waits for it.
            build.wait(
                "WaitingForInitialPassword",
                format!(
                    "the initial password Secret {}/{secret_name} does not exist yet",
                    self.namespace
                ),
            );
            return;
        }
        let params = self.params;
        // A new address is not verified by the old one's proof: while Keycloak still has
        // another address, an unverified user's new one goes with `emailVerified: false`.
        let email_changing = self
            .applied
            .email
            .as_ref()
            .is_some_and(|applied| *applied != self.email);
        let user = keycloak::UserParameters {
            realm: RealmId::existing(org),
            username: self.username.clone(),
            email: Some(self.email.clone()),
            email_verified: if params.email_verified {
                Some(true)
            } else {
                email_changing.then_some(false)
            },
            enabled: Some(params.enabled),
            first_name: params.first_name.clone(),
            last_name: params.last_name.clone(),
            required_actions: Vec::new(),
        };
        let verify = !params.email_verified && self.platform.keycloak.verify_email();
        let init = keycloak::UserInitParameters::first_login(
            (!params.email_verified).then_some(false),
            verify,
            SecretKeySelector::new(&self.namespace, &secret_name, PASSWORD_KEY, ns),
        );
        let user = Managed::new(
            meta(&names::user(org, &self.username), ns, &labels),
            user,
            &ProviderConfig::Platform(self.platform.provider_configs.keycloak.clone()),
        )
        .with_init_provider(&init)
        .with_late_initialization();
        build.add_keycloak(names::USER, Part::User, &user);
        if build.adopted(names::USER) {
            // The Terraform provider sets the initial password only when it creates the user
            // (`resource_keycloak_user.go`: `ResetUserPassword` in the create function alone).
            build.warn(format!(
                "user {} already existed in Keycloak, so the initial password was not set: \
                 they log in with the credentials they have (or their identity provider), \
                 not the one in Secret {}/{secret_name}",
                self.username, self.namespace
            ));
        }
    }

    fn status(&self, build: &Build<'_, Part>) -> UserStatus {
        let Some(org) = self.org.name() else {
            return UserStatus::default();
        };
        let id = self.applied.id.clone().filter(|id| !id.is_empty());
        UserStatus {
            organisation: Some(org.to_owned()),
            user: Some(UserState {
                created: id.is_some(),
                id,
                username: self.username.clone(),
                email: self.email.clone(),
                ready: build.ready(names::USER),
                initial_password_secret: (build.exists(names::INITIAL_PASSWORD)
                    && !build.adopted(names::USER))
                .then(|| SecretKeyRef {
                    name: names::initial_password(org, &self.username),
                    key: PASSWORD_KEY.into(),
                }),
            }),
            all_resources_ready: build.all_ready(),
        }
    }
}

/// This module's readers of observed state, with the kind each reads (checked against the
/// upstream schemas by [`crate::resources::readers`]).
#[cfg(test)]
pub(crate) fn readers() -> Vec<crate::resources::readers::Reader> {
    use crate::resources::readers::reader;
    let api_version = "user.keycloak.m.crossplane.io/v1alpha1";
    vec![
        reader::<FetchedAdmin>(api_version, "User"),
        reader::<ObservedUser>(api_version, "User"),
    ]
}
