//! `include/oap.h` must be exactly what cbindgen generates from the sources.
//!
//! Run with `OAP_BLESS=1` to rewrite the checked-in header after an API
//! change.

use std::path::PathBuf;

#[test]
fn checked_in_header_is_fresh() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("config");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");

    let path = crate_dir.join("include/oap.h");
    if std::env::var_os("OAP_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write include/oap.h");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "bindings/c/include/oap.h is stale: run `OAP_BLESS=1 cargo test -p oap-c --test header` \
         and commit the result.\n--- generated ---\n{generated}"
    );
}
