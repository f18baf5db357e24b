//! `unbox check-backend`: a conformance checker for app makers' own implementations of
//! `docs/binding-api.yaml`. It signs two test customers in at the identity provider (the
//! scripted browser of the simulator, or the system browser), acts as two registered devices,
//! runs every rule of the contract and prints which passed and, for each failure, the request
//! that showed it.

mod probe;
mod rules;

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use rand::RngCore as _;
use unbox_core::auth::{AuthClient, ClientConfig, LoopbackAgent, Session};
use unbox_core::binding::{DeviceCredential, DeviceId};
use unbox_core::platform::authorization::AuthorizationAgent;
use unbox_core::platform::secret_store::MemorySecretStore;
use unbox_core::secret::{SecretBytes, SecretString};
use unbox_sim::browser::AutoConsentBrowser;
use unbox_sim::idp::DEFAULT_APP_REDIRECT_URI;
use url::Url;

use crate::exit::{Code, Failure};
pub use rules::{Outcome, RULES};

/// How the test customers sign in.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrowserArg {
    /// The simulator's scripted browser: opens the sign-in URL with `login_hint` and takes the
    /// redirect (for identity providers that sign a hinted test user in without a form).
    Scripted,
    /// The system browser and a loopback redirect: a person signs each customer in.
    System,
}

/// Arguments of `check-backend`.
#[derive(Args, Clone)]
pub struct CheckArgs {
    /// The binding backend under test.
    #[arg(long)]
    backend: Url,
    /// The identity provider (OAuth issuer URL) whose tokens the backend accepts.
    #[arg(long)]
    issuer: String,
    /// The app's OAuth client id at that provider.
    #[arg(long)]
    client_id: String,
    /// A device the backend knows, as ID=SECRET_HEX (its factory credential). Give two.
    #[arg(long = "device", value_name = "ID=SECRET_HEX", required = true, num_args = 1)]
    devices: Vec<String>,
    /// The first test customer (login hint: e-mail address or subject).
    #[arg(long, default_value = "alice@example.com")]
    customer: String,
    /// The second test customer.
    #[arg(long, default_value = "bob@example.com")]
    second_customer: String,
    /// How the customers sign in.
    #[arg(long, value_enum, default_value = "scripted")]
    browser: BrowserArg,
    /// The redirect URI the scripted browser signs in with (registered for the client).
    #[arg(long, default_value = DEFAULT_APP_REDIRECT_URI)]
    redirect_uri: String,
    /// Scopes to ask for (repeat).
    #[arg(long = "scope", default_values = ["openid"])]
    scopes: Vec<String>,
    /// Longest wait for a claim to expire; claims living longer leave that rule not run.
    #[arg(long, default_value_t = 30)]
    max_expiry_wait: u64,
}

/// One rule's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// The rule's id, e.g. `claims.single-use`.
    pub rule: &'static str,
    /// What the contract says.
    pub says: &'static str,
    /// How it went.
    pub outcome: Outcome,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(Code::Usage, message)
}

fn parse_device(spec: &str) -> Result<DeviceCredential, Failure> {
    let (id, secret) =
        spec.split_once('=').ok_or_else(|| usage(format!("--device wants ID=SECRET_HEX, got `{spec}`")))?;
    let secret = hex::decode(secret).map_err(|_| usage(format!("the secret of device {id} is not hex")))?;
    let id = DeviceId::new(id).map_err(|e| usage(e.to_string()))?;
    DeviceCredential::new(id, SecretBytes::new(secret)).map_err(|e| usage(e.to_string()))
}

/// A device credential the backend cannot know (random id and secret).
fn stranger() -> Result<DeviceCredential, Failure> {
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let id = DeviceId::new(format!("unbox-check-stranger-{}", hex::encode(&secret[..4])))
        .map_err(|e| Failure::new(Code::Internal, e.to_string()))?;
    DeviceCredential::new(id, SecretBytes::new(secret))
        .map_err(|e| Failure::new(Code::Internal, e.to_string()))
}

async fn sign_in(args: &CheckArgs, customer: &str) -> Result<SecretString, Failure> {
    let (agent, redirect_uri): (Arc<dyn AuthorizationAgent>, String) = match args.browser {
        BrowserArg::Scripted => {
            let browser =
                AutoConsentBrowser::new().map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?;
            (Arc::new(browser.signing_in_as(customer)), args.redirect_uri.clone())
        }
        BrowserArg::System => {
            let who = customer.to_owned();
            let agent = LoopbackAgent::bind(move |url| eprintln!("Sign in as {who}:\n  {url}"))
                .await
                .map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?;
            let redirect = agent.redirect_uri().to_owned();
            (Arc::new(agent), redirect)
        }
    };
    let config = ClientConfig::new(&args.client_id, redirect_uri).with_scopes(args.scopes.clone());
    let client = AuthClient::discover(config, &args.issuer)
        .await
        .map_err(|e| Failure::new(Code::Retry, format!("cannot reach the identity provider: {e}")))?;
    let session = Session::new(client, agent, Arc::new(MemorySecretStore::new()));
    let failed = |e: unbox_core::auth::AuthError| {
        Failure::new(Code::SignIn, format!("signing {customer} in failed: {e}"))
    };
    session.sign_in().await.map_err(failed)?;
    session.access_token().await.map_err(failed)
}

/// Signs the customers in and runs every rule.
pub async fn check(args: &CheckArgs) -> Result<Vec<RuleResult>, Failure> {
    let [device, other] = <[String; 2]>::try_from(args.devices.clone())
        .map_err(|given| usage(format!("give exactly two --device (got {})", given.len())))?;
    let context = rules::Context {
        probe: probe::Probe::new(&args.backend).map_err(|e| Failure::new(Code::Internal, e))?,
        alice: sign_in(args, &args.customer).await?,
        bob: sign_in(args, &args.second_customer).await?,
        device: parse_device(&device)?,
        other: parse_device(&other)?,
        stranger: stranger()?,
        max_expiry_wait: Duration::from_secs(args.max_expiry_wait),
    };
    let mut results = Vec::new();
    for (rule, says) in RULES {
        let outcome = context.run(rule).await;
        results.push(RuleResult { rule, says, outcome });
    }
    Ok(results)
}

/// The pass/fail table, one line per rule, failures with their request.
pub fn table(results: &[RuleResult]) -> String {
    let mut text = format!("{:<26} {:<6} {}\n", "rule", "result", "request / reason");
    for result in results {
        let (word, detail) = match &result.outcome {
            Outcome::Pass => ("pass", result.says.to_owned()),
            Outcome::Fail(broken) => ("FAIL", format!("{}: {}", broken.request, broken.problem)),
            Outcome::NotRun(reason) => ("skip", reason.clone()),
        };
        text.push_str(&format!("{:<26} {word:<6} {detail}\n", result.rule));
    }
    let failed = results.iter().filter(|r| matches!(r.outcome, Outcome::Fail(_))).count();
    let skipped = results.iter().filter(|r| matches!(r.outcome, Outcome::NotRun(_))).count();
    text.push_str(&format!(
        "{} rules: {} passed, {failed} failed, {skipped} not run\n",
        results.len(),
        results.len() - failed - skipped
    ));
    text
}

/// `unbox check-backend`.
pub async fn run(args: CheckArgs, json: bool) -> Result<(), Failure> {
    let results = check(&args).await?;
    if json {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Pass => serde_json::json!({"rule": r.rule, "result": "pass"}),
                Outcome::Fail(b) => serde_json::json!({"rule": r.rule, "result": "fail", "request": b.request, "problem": b.problem}),
                Outcome::NotRun(why) => serde_json::json!({"rule": r.rule, "result": "skip", "reason": why}),
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
    } else {
        print!("{}", table(&results));
    }
    let failed: Vec<&str> =
        results.iter().filter(|r| matches!(r.outcome, Outcome::Fail(_))).map(|r| r.rule).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(Code::PartialFailure, format!("the backend breaks {}", failed.join(", "))))
    }
}

#[cfg(test)]
mod tests;
