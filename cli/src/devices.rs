//! `unbox devices` (the signed-in customer's devices, as the backend lists them) and
//! `unbox unbind` (remove one).

use std::sync::Arc;
use std::time::SystemTime;

use clap::Args;
use unbox_core::binding::{BindingClient, BindingId, DeviceBinding};
use unbox_core::flow::FlowError;
use unbox_core::secret_store::SecretStore;

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

async fn client(store: Arc<dyn SecretStore>) -> Result<BindingClient, Failure> {
    let account = Account::load(store.as_ref()).await?;
    let session = account.session(store).await?;
    let backend = url::Url::parse(&account.backend).map_err(|e| Failure::new(Code::Usage, e.to_string()))?;
    BindingClient::new(&backend, session).map_err(|e| Failure::from(FlowError::from(e)))
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
    let bindings =
        client(store).await?.all_bindings(args.all).await.map_err(|e| Failure::from(FlowError::from(e)))?;
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
    client(store).await?.unbind(&id).await.map_err(|e| Failure::from(FlowError::from(e)))?;
    if json_output {
        println!("{}", serde_json::json!({"unbound": id.as_str()}));
    } else {
        println!("unbound {id}; the device learns it at its next check");
    }
    Ok(())
}
