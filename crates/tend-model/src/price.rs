//! What tokens cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::Usage;

/// Prices in micro-USD per million tokens (so `3_000_000` is $3 per million tokens), exact
/// integers as tend-config's `Money` holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Price {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

const fn usd_micros(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Price {
    Price {
        input,
        output,
        cache_read,
        cache_write,
    }
}

/// List prices (USD per million tokens, standard tier, prompts up to 200K tokens), from
/// Anthropic's pricing page (docs.anthropic.com, "Pricing") and OpenAI's pricing page
/// (platform.openai.com/docs/pricing) as published in 2025–2026; checked 2026-03. Anthropic's
/// cache writes are the 5-minute ones (1.25 × input). OpenAI charges nothing extra for writing
/// its cache, so its cache write is the input price.
const BUILTIN: &[(&str, Price)] = &[
    (
        "claude-opus-4-6",
        usd_micros(5_000_000, 25_000_000, 500_000, 6_250_000),
    ),
    (
        "claude-opus-4-5",
        usd_micros(5_000_000, 25_000_000, 500_000, 6_250_000),
    ),
    (
        "claude-opus-4-1",
        usd_micros(15_000_000, 75_000_000, 1_500_000, 18_750_000),
    ),
    (
        "claude-opus-4-0",
        usd_micros(15_000_000, 75_000_000, 1_500_000, 18_750_000),
    ),
    (
        "claude-opus-4",
        usd_micros(15_000_000, 75_000_000, 1_500_000, 18_750_000),
    ),
    (
        "claude-sonnet-4-6",
        usd_micros(3_000_000, 15_000_000, 300_000, 3_750_000),
    ),
    (
        "claude-sonnet-4-5",
        usd_micros(3_000_000, 15_000_000, 300_000, 3_750_000),
    ),
    (
        "claude-sonnet-4-0",
        usd_micros(3_000_000, 15_000_000, 300_000, 3_750_000),
    ),
    (
        "claude-sonnet-4",
        usd_micros(3_000_000, 15_000_000, 300_000, 3_750_000),
    ),
    (
        "claude-haiku-4-5",
        usd_micros(1_000_000, 5_000_000, 100_000, 1_250_000),
    ),
    (
        "claude-3-5-haiku",
        usd_micros(800_000, 4_000_000, 80_000, 1_000_000),
    ),
    (
        "gpt-5.1",
        usd_micros(1_250_000, 10_000_000, 125_000, 1_250_000),
    ),
    (
        "gpt-5",
        usd_micros(1_250_000, 10_000_000, 125_000, 1_250_000),
    ),
    (
        "gpt-5-mini",
        usd_micros(250_000, 2_000_000, 25_000, 250_000),
    ),
    ("gpt-5-nano", usd_micros(50_000, 400_000, 5_000, 50_000)),
    (
        "gpt-4.1",
        usd_micros(2_000_000, 8_000_000, 500_000, 2_000_000),
    ),
    (
        "gpt-4.1-mini",
        usd_micros(400_000, 1_600_000, 100_000, 400_000),
    ),
    (
        "gpt-4.1-nano",
        usd_micros(100_000, 400_000, 25_000, 100_000),
    ),
    (
        "gpt-4o",
        usd_micros(2_500_000, 10_000_000, 1_250_000, 2_500_000),
    ),
    ("gpt-4o-mini", usd_micros(150_000, 600_000, 75_000, 150_000)),
];

/// Model names to prices: the built-in list, overridable by the caller (tend's `[prices]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PriceTable {
    prices: BTreeMap<String, Price>,
}

impl PriceTable {
    /// An empty table: every model's cost is unknown.
    pub fn empty() -> PriceTable {
        PriceTable::default()
    }

    /// The built-in list prices.
    pub fn builtin() -> PriceTable {
        PriceTable {
            prices: BUILTIN
                .iter()
                .map(|(model, price)| ((*model).to_owned(), *price))
                .collect(),
        }
    }

    /// Sets (or replaces) the price of a model, named without the `provider:` prefix.
    pub fn set(&mut self, model: impl Into<String>, price: Price) {
        self.prices.insert(model.into(), price);
    }

    /// The price of a model. A dated snapshot (`claude-sonnet-4-5-20250929`,
    /// `gpt-4o-2024-08-06`) falls back to its undated name; nothing else is guessed, so an
    /// unknown model has no price rather than a wrong one.
    pub fn get(&self, model: &str) -> Option<Price> {
        if let Some(price) = self.prices.get(model) {
            return Some(*price);
        }
        let undated = strip_date(model)?;
        self.prices.get(undated).copied()
    }

    /// The cost of a response in micro-USD; `None` for a model without a price.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<u64> {
        self.get(model).map(|price| cost_micro_usd(usage, &price))
    }
}

/// `-20250929` or `-2024-08-06` at the end of a model name.
fn strip_date(model: &str) -> Option<&str> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (rest, last) = model.rsplit_once('-')?;
    if digits(last, 8) {
        return Some(rest);
    }
    let (rest, month) = rest.rsplit_once('-')?;
    let (rest, year) = rest.rsplit_once('-')?;
    (digits(last, 2) && digits(month, 2) && digits(year, 4)).then_some(rest)
}

/// The cost of `usage` at `price`, in micro-USD, rounded up (budgets must not be undercounted).
pub fn cost_micro_usd(usage: &Usage, price: &Price) -> u64 {
    let parts = [
        (usage.input_tokens, price.input),
        (usage.output_tokens, price.output),
        (usage.cache_read_tokens, price.cache_read),
        (usage.cache_write_tokens, price.cache_write),
    ];
    let total: u128 = parts
        .iter()
        .map(|(tokens, per_million)| u128::from(*tokens) * u128::from(*per_million))
        .sum();
    u64::try_from(total.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn costs() {
        let sonnet = PriceTable::builtin().get("claude-sonnet-4-5").unwrap();
        let usage = Usage {
            input_tokens: 1_000,
            output_tokens: 500,
            cache_read_tokens: 20_000,
            cache_write_tokens: 4_000,
        };
        // 1000×3 + 500×15 + 20000×0.30 + 4000×3.75 = 3000 + 7500 + 6000 + 15000 µ$
        assert_eq!(cost_micro_usd(&usage, &sonnet), 31_500);
        // A fraction of a micro-dollar rounds up.
        let one = Usage {
            input_tokens: 1,
            ..Usage::default()
        };
        assert_eq!(cost_micro_usd(&one, &sonnet), 3);
        let mini = PriceTable::builtin().get("gpt-4o-mini").unwrap();
        assert_eq!(cost_micro_usd(&one, &mini), 1);
        assert_eq!(cost_micro_usd(&Usage::default(), &sonnet), 0);
        let huge = Usage {
            input_tokens: u64::MAX,
            output_tokens: u64::MAX,
            cache_read_tokens: u64::MAX,
            cache_write_tokens: u64::MAX,
        };
        assert_eq!(cost_micro_usd(&huge, &sonnet), u64::MAX);
    }

    #[test]
    fn lookups() {
        let mut table = PriceTable::builtin();
        let usage = Usage {
            input_tokens: 1_000_000,
            ..Usage::default()
        };
        let cases = [
            ("claude-sonnet-4-5", Some(3_000_000)),
            ("claude-sonnet-4-5-20250929", Some(3_000_000)),
            ("claude-opus-4-1-20250805", Some(15_000_000)),
            ("claude-haiku-4-5", Some(1_000_000)),
            ("gpt-4o-2024-08-06", Some(2_500_000)),
            ("gpt-4.1-mini", Some(400_000)),
            ("gpt-5", Some(1_250_000)),
            ("gpt-5-mini", Some(250_000)),
            ("llama3.1:8b", None),
            ("gpt-4o-turbo-preview", None),
            ("claude-sonnet-4-5-latest", None),
        ];
        for (model, cost) in cases {
            assert_eq!(table.cost(model, &usage), cost, "{model}");
        }
        table.set(
            "llama3.1:8b",
            Price {
                input: 0,
                output: 0,
                cache_read: 0,
                cache_write: 0,
            },
        );
        table.set(
            "gpt-5",
            Price {
                input: 1,
                output: 2,
                cache_read: 3,
                cache_write: 4,
            },
        );
        assert_eq!(table.cost("llama3.1:8b", &usage), Some(0));
        assert_eq!(table.cost("gpt-5", &usage), Some(1));
        assert_eq!(PriceTable::empty().cost("gpt-5", &usage), None);
    }
}
