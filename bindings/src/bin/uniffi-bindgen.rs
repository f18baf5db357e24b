//! The UniFFI bindings generator, built from the workspace so its version always matches the
//! `uniffi` crate the library was built with. Run it through `bindings/scripts/generate.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
