//! Database benchmarks (filled in below).
fn main() {}
