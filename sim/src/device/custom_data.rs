//! The `custom-data` endpoint of ESP-IDF's `wifi_prov_mgr` example app: it logs what it gets
//! and answers `SUCCESS` (examples/provisioning/wifi_prov_mgr/main/app_main.c,
//! `custom_prov_data_handler`). Espressif's clients send to it with `--custom_data`.

use super::protocomm::CustomEndpoint;

/// The example app's endpoint name.
pub const CUSTOM_DATA_ENDPOINT: &str = "custom-data";

/// The example app's custom endpoint.
#[derive(Debug, Default)]
pub struct CustomDataEndpoint;

impl CustomEndpoint for CustomDataEndpoint {
    fn name(&self) -> &str {
        CUSTOM_DATA_ENDPOINT
    }

    fn handle(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        tracing::info!(len = request.len(), "device: custom-data received");
        Ok(b"SUCCESS".to_vec())
    }
}
