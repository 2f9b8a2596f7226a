//! Records the target triple, which artifacts in an index are chosen by.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=ZORYX_MARKET_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
