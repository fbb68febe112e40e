//! The baseline of `size`: the same shape of program without Pebble, using what every charm
//! already links (serde_json and serde-saphyr come with the `charm` crate), so the difference
//! is what Pebble support adds to a charm.

use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/etc/web.yaml".into());
    let result = (|| -> Result<String, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(&path)?;
        let config: BTreeMap<String, serde_json::Value> = serde_saphyr::from_str(&text)?;
        let json = serde_json::to_string(&config)?;
        let yaml = serde_saphyr::to_string(&config)?;
        std::fs::write(format!("{path}.json"), &json)?;
        Ok(format!(
            "{} keys, {} bytes of YAML",
            config.len(),
            yaml.len()
        ))
    })();
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
