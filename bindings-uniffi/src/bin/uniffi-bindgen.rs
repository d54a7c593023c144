//! The bindings generator, in the workspace so generation needs nothing
//! installed: `cargo run --features bindgen --bin uniffi-bindgen -- generate …`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
