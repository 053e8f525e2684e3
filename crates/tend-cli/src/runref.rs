//! Naming a run on the command line: its full id, or any unique prefix or suffix of it
//! (`tend logs 7f3a2c` for `20261125-201400-7f3a2c`).

use tend_store::{Run, RunFilter, RunId, Store};

use crate::context::Context;
use crate::exit::invalid;

/// How many recent runs a partial id is matched against.
const SEARCH_WINDOW: u32 = 5_000;

pub fn find_run(ctx: &Context, store: &Store, text: &str) -> anyhow::Result<Run> {
    if let Ok(id) = RunId::parse(text)
        && let Some(run) = ctx.block_on(store.run(&id))?
    {
        return Ok(run);
    }
    let runs = ctx.block_on(store.runs(&RunFilter {
        limit: Some(SEARCH_WINDOW),
        ..RunFilter::default()
    }))?;
    let matches: Vec<Run> = runs
        .into_iter()
        .filter(|r| {
            !text.is_empty() && (r.id.as_str().starts_with(text) || r.id.as_str().ends_with(text))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(invalid(
            format!("no run `{text}`"),
            Some("`tend runs` lists runs; give an id or a unique part of one"),
        )),
        [..] => {
            let n = matches.len();
            let ids: Vec<String> = matches.iter().take(5).map(|r| r.id.to_string()).collect();
            Err(invalid(
                format!("`{text}` matches {n} runs"),
                Some(&format!("give more of the id: {}", ids.join(", "))),
            ))
        }
    }
}
