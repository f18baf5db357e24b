//! With the `c-firmware` feature, compiles the firmware component `firmware/unbox-claim` (C11) so
//! the simulator can run devices whose claim endpoint and redemption are that C code. It links
//! Debian's libprotobuf-c (libprotobuf-c-dev). Without the feature it does nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "c-firmware")]
    c_firmware();
}

#[cfg(feature = "c-firmware")]
fn c_firmware() {
    let component = std::path::Path::new("../firmware/unbox-claim/src");
    println!("cargo:rerun-if-changed={}", component.display());
    println!("cargo:rerun-if-changed=csrc");
    cc::Build::new()
        .std("c11")
        .include(component)
        .files(["unbox_claim.c", "unbox_redeem.c", "claim.pb-c.c"].map(|file| component.join(file)))
        .file("csrc/layout.c")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("unbox_claim");
    println!("cargo:rustc-link-lib=protobuf-c");
}
