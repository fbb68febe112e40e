//! A tiny program that uses the Pebble client the way a sidecar charm does, for measuring what
//! Pebble support adds to a binary: compare with `size_baseline` (see the README).

use std::process::ExitCode;

use pebble::plan::{Layer, Service, Startup};
use pebble::{Client, PushOptions};

fn main() -> ExitCode {
    let socket = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/charm/containers/web/pebble.socket".into());
    let client = Client::new(socket);
    let mut web = Service::replace("/usr/bin/web");
    web.startup = Some(Startup::Enabled);
    let layer = Layer {
        services: [("web".to_string(), web)].into(),
        ..Layer::default()
    };
    let result = (|| -> Result<String, pebble::Error> {
        client.add_layer("web", &layer, true)?;
        client.push(
            "/etc/web.yaml",
            b"port: 80\n",
            &PushOptions::new().make_dirs(true),
        )?;
        client.replan_services()?;
        let plan = client.get_plan()?;
        let status = client.get_services(&["web"])?;
        let version = client.exec(["/usr/bin/web", "--version"]).output()?;
        let config = client.pull("/etc/web.yaml")?;
        Ok(format!(
            "{} services, {:?}, {}, {} bytes",
            plan.services.len(),
            status.first().map(|s| s.current.clone()),
            version.stdout_text(),
            config.len()
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
