//! Rebuilds the host when a database migration is added or changed (`sqlx::migrate!` embeds
//! them at compile time).

fn main() {
    let _ = std::io::Write::write_all(
        &mut std::io::stdout(),
        b"cargo:rerun-if-changed=migrations\n",
    );
}
