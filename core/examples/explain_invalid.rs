//! Prints, for each vector of an `invalid.json`, the error the core gives.
//!
//! `cargo run -p ezthrottle-core --example explain_invalid -- conformance/invalid.json`
use ezthrottle_core::Step;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "conformance/invalid.json".into());
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    for vector in vectors {
        let verdict = Step::from_calls(&vector["calls"]).and_then(|s| s.build_job());
        match verdict {
            Err(e) => eprintln!("{:<28} {e}", vector["name"].as_str().unwrap_or("?")),
            Ok(_) => eprintln!("{:<28} ACCEPTED", vector["name"].as_str().unwrap_or("?")),
        }
    }
    Ok(())
}
