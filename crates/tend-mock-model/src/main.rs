//! `tend-mock-model SCRIPT.json [--port N]`: serves a script, prints its URL, runs until
//! interrupted, then prints the requests it received as JSON lines on stderr.

use std::net::SocketAddr;
use std::process::ExitCode;

use tend_mock_model::{MockModel, Script};

const USAGE: &str = "usage: tend-mock-model SCRIPT.json [--port N]";

fn parse_args(args: &[String]) -> Result<(String, u16), String> {
    let mut script = None;
    let mut port = 0;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => {
                let value = rest.next().ok_or("--port needs a number")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port {value}: not a port number"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other if script.is_none() && !other.starts_with('-') => script = Some(other.to_owned()),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let script = script.ok_or_else(|| USAGE.to_owned())?;
    Ok((script, port))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, port) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let script = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|text| Script::from_json(&text).map_err(|e| e.to_string()))
    {
        Ok(script) => script,
        Err(error) => {
            eprintln!("tend-mock-model: {path}: {error}");
            return ExitCode::from(2);
        }
    };
    let mock = match MockModel::start_on(script, SocketAddr::from(([127, 0, 0, 1], port))).await {
        Ok(mock) => mock,
        Err(error) => {
            eprintln!("tend-mock-model: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", mock.base_url());
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("tend-mock-model: cannot wait for Ctrl-C");
    }
    for request in mock.requests() {
        eprintln!("{}", serde_json::to_string(&request).unwrap_or_default());
    }
    mock.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn arguments() {
        assert_eq!(parse_args(&args(&["s.json"])), Ok(("s.json".to_owned(), 0)));
        assert_eq!(
            parse_args(&args(&["--port", "8080", "s.json"])),
            Ok(("s.json".to_owned(), 8080))
        );
        assert_eq!(parse_args(&args(&[])), Err(USAGE.to_owned()));
        assert_eq!(
            parse_args(&args(&["s.json", "--port", "x"])),
            Err("--port x: not a port number".to_owned())
        );
        assert_eq!(
            parse_args(&args(&["a.json", "b.json"])),
            Err(format!("unexpected argument `b.json`\n{USAGE}"))
        );
    }
}
