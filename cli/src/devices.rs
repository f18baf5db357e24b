//! `unbox devices` (the signed-in customer's devices, as the backend lists them), `unbox unbind`
//! (remove one) and `unbox transfer offer|accept` (hand one to another account).

use std::io::BufRead;
use std::sync::Arc;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use unbox_core::binding::{
    BindingClient, BindingError, BindingId, DeviceBinding, IdempotencyKey, check_transfer_code,
};
use unbox_core::flow::FlowError;
use unbox_core::platform::secret_store::SecretStore;
use unbox_core::secret::SecretString;
use zeroize::Zeroizing;

use crate::account::Account;
use crate::exit::{Code, Failure};

/// Arguments of `devices`.
#[derive(Args)]
pub struct DevicesArgs {
    /// Also list devices that left the account, with the reason (unbound, rebound, transferred).
    #[arg(long)]
    all: bool,
}

/// Arguments of `unbind`.
#[derive(Args)]
pub struct UnbindArgs {
    /// The binding to remove (the `binding` column of `unbox devices`).
    binding_id: String,
}

/// `transfer`: hand a device to another account without a factory reset.
#[derive(Subcommand)]
pub enum TransferCommand {
    /// Offer one of your devices to another account: prints a single-use code (valid 24 hours
    /// at the reference backend) to give to the receiver.
    #[command(after_help = crate::example("unbox transfer offer bnd_3kTf9QmZ0aXc"))]
    Offer(OfferArgs),
    /// Accept a device offered to the signed-in account, with the code its owner gave you.
    #[command(after_help = crate::example("unbox transfer accept < code.txt"))]
    Accept(AcceptArgs),
}

/// Arguments of `transfer offer`.
#[derive(Args)]
pub struct OfferArgs {
    /// The binding to offer (the `binding` column of `unbox devices`).
    binding_id: String,
}

/// Arguments of `transfer accept`.
#[derive(Args)]
pub struct AcceptArgs {
    /// The transfer code; read from the first line of standard input when omitted (which keeps
    /// it out of the shell history and the process list). A code is base64url, so it may begin
    /// with `-`: it is still the code, never an option.
    #[arg(allow_hyphen_values = true)]
    pub(crate) code: Option<String>,
}

async fn client(store: Arc<dyn SecretStore>) -> Result<BindingClient, Failure> {
    let account = Account::load(store.as_ref()).await?;
    let session = account.session(store).await?;
    let backend = url::Url::parse(&account.backend).map_err(|e| Failure::new(Code::Usage, e.to_string()))?;
    BindingClient::new(&backend, session).map_err(binding_failure)
}

fn rfc3339(at: SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "?".into())
}

fn json(binding: &DeviceBinding) -> serde_json::Value {
    serde_json::json!({
        "binding_id": binding.binding_id.as_str(),
        "device_id": binding.device_id.as_str(),
        "name": binding.name,
        "bound_at": rfc3339(binding.bound_at),
        "last_redemption_at": rfc3339(binding.last_redemption_at),
        "bound_by_client": binding.bound_by_client,
        "status": if binding.ended.is_some() { "ended" } else { "active" },
        "ended_at": binding.ended.map(|(at, _)| rfc3339(at)),
        "end_reason": binding.ended.map(|(_, reason)| reason.as_str()),
    })
}

/// Lists the customer's devices, every page.
pub async fn list(args: DevicesArgs, store: Arc<dyn SecretStore>, json_output: bool) -> Result<(), Failure> {
    let bindings = client(store).await?.all_bindings(args.all).await.map_err(binding_failure)?;
    if json_output {
        println!("{}", serde_json::Value::Array(bindings.iter().map(json).collect()));
        return Ok(());
    }
    if bindings.is_empty() {
        println!("no devices");
        return Ok(());
    }
    println!("{:<24} {:<20} {:<20} {:<21} {:<16} status", "binding", "device", "name", "bound since", "app");
    for binding in &bindings {
        let status = match binding.ended {
            None => "active".to_owned(),
            Some((at, reason)) => format!("ended {} ({})", rfc3339(at), reason.as_str()),
        };
        println!(
            "{:<24} {:<20} {:<20} {:<21} {:<16} {status}",
            binding.binding_id.as_str(),
            binding.device_id.as_str(),
            binding.name,
            rfc3339(binding.bound_at),
            binding.bound_by_client,
        );
    }
    Ok(())
}

/// Removes one device from the account.
pub async fn unbind(args: UnbindArgs, store: Arc<dyn SecretStore>, json_output: bool) -> Result<(), Failure> {
    let id = BindingId::new(args.binding_id).map_err(|e| Failure::new(Code::Usage, e.to_string()))?;
    client(store).await?.unbind(&id).await.map_err(binding_failure)?;
    if json_output {
        println!("{}", serde_json::json!({"unbound": id.as_str()}));
    } else {
        println!("unbound {id}; the device learns it at its next check");
    }
    Ok(())
}

/// A failed backend call; a binding id or transfer code the backend does not know is bad input
/// (exit 2), not a bug.
fn binding_failure(error: BindingError) -> Failure {
    match error {
        BindingError::BindingNotFound | BindingError::TransferNotFound => {
            Failure::new(Code::Usage, error.to_string())
        }
        error => Failure::from(FlowError::from(error)),
    }
}

/// Runs `transfer offer` (prints the code to hand over) or `transfer accept`.
pub async fn transfer(
    command: TransferCommand,
    store: Arc<dyn SecretStore>,
    json_output: bool,
) -> Result<(), Failure> {
    match command {
        TransferCommand::Offer(args) => offer(args, store, json_output).await,
        TransferCommand::Accept(args) => accept(args, store, json_output).await,
    }
}

async fn offer(args: OfferArgs, store: Arc<dyn SecretStore>, json_output: bool) -> Result<(), Failure> {
    let id = BindingId::new(args.binding_id).map_err(|e| Failure::new(Code::Usage, e.to_string()))?;
    let offer = client(store)
        .await?
        .offer_transfer(&id, &IdempotencyKey::generate())
        .await
        .map_err(binding_failure)?;
    if json_output {
        println!(
            "{}",
            serde_json::json!({
                "transfer_id": offer.transfer_id,
                "transfer_code": offer.code.expose(),
                "binding_id": offer.binding_id.as_str(),
                "device_id": offer.device_id.as_str(),
                "expires_at": rfc3339(offer.expires_at),
            })
        );
    } else {
        println!(
            "offered {} (binding {}) until {}; give the receiver this single-use code, they run \
             `unbox transfer accept` signed in as themselves:\n{}",
            offer.device_id,
            offer.binding_id,
            rfc3339(offer.expires_at),
            offer.code.expose(),
        );
    }
    Ok(())
}

async fn accept(args: AcceptArgs, store: Arc<dyn SecretStore>, json_output: bool) -> Result<(), Failure> {
    let code = match args.code {
        Some(code) => SecretString::new(code),
        None => {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Failure::new(Code::Usage, format!("could not read the transfer code: {e}")))?;
            SecretString::new(line.trim())
        }
    };
    check_transfer_code(&code).map_err(|e| {
        Failure::new(Code::Usage, format!("{e}; paste the code `unbox transfer offer` printed for you"))
    })?;
    let binding = client(store)
        .await?
        .accept_transfer(&code, &IdempotencyKey::generate())
        .await
        .map_err(binding_failure)?;
    if json_output {
        println!("{}", json(&binding));
    } else {
        println!("{} is now on this account (binding {})", binding.device_id, binding.binding_id);
    }
    Ok(())
}
