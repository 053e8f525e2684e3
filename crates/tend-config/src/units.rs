//! Small value types with their own syntax: sizes, money, domain names, output templates.

use std::fmt;
use std::str::FromStr;

use crate::read::Problem;

/// A decimal number written in a file, kept exact: `digits / 10^scale`.
struct Decimal {
    digits: u128,
    scale: u32,
}

/// Parses `12`, `1.5`, `0.25` exactly. No sign, no exponent.
fn parse_decimal(text: &str) -> Option<Decimal> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '_');
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || frac.len() > 18 {
        return None;
    }
    let joined: String = format!("{int}{frac}")
        .chars()
        .filter(|c| *c != '_')
        .collect();
    let digits = joined.parse::<u128>().ok()?;
    let scale = u32::try_from(frac.chars().filter(|c| *c != '_').count()).ok()?;
    Some(Decimal { digits, scale })
}

impl Decimal {
    /// `self * factor` if that is a whole number that fits in a u64.
    fn times(&self, factor: u64) -> Option<u64> {
        let pow = 10u128.checked_pow(self.scale)?;
        let product = self.digits.checked_mul(u128::from(factor))?;
        if product % pow != 0 {
            return None;
        }
        u64::try_from(product / pow).ok()
    }
}

/// A number of bytes: `200KB`, `1MB`, `512KiB`, `1.5MB`, `4096`.
///
/// `KB`, `MB`, `GB` are decimal (1000), `KiB`, `MiB`, `GiB` binary (1024), as on disk labels
/// and in `ls -h --si` versus `ls -h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(pub u64);

const SIZE_UNITS: [(&str, u64); 7] = [
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

const SIZE_HINT: &str = "write sizes like `200KB`, `1.5MB`, `512KiB` or a number of bytes";

impl Size {
    pub const fn bytes(self) -> u64 {
        self.0
    }

    pub(crate) fn parse_problem(text: &str) -> Result<Size, Problem> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let unit = unit.trim_start();
        if number.is_empty() {
            return Err(Problem::new(format!("`{text}` is not a size")).hint(SIZE_HINT));
        }
        let factor = if unit.is_empty() {
            Some(1)
        } else {
            SIZE_UNITS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(unit))
                .map(|(_, f)| *f)
        };
        let unit_offset = text.len() - unit.len() - (text.len() - text.trim_end().len());
        let Some(factor) = factor else {
            return Err(Problem::new(format!("unknown size unit `{unit}`"))
                .hint(format!(
                    "units are B, KB, MB, GB (1000) and KiB, MiB, GiB (1024); {SIZE_HINT}"
                ))
                .at(unit_offset));
        };
        let Some(decimal) = parse_decimal(number) else {
            return Err(Problem::new(format!("`{text}` is not a size")).hint(SIZE_HINT));
        };
        match decimal.times(factor) {
            Some(bytes) => Ok(Size(bytes)),
            None => Err(Problem::new(format!(
                "`{text}` is not a whole number of bytes, or too large"
            ))
            .hint(SIZE_HINT)),
        }
    }
}

impl fmt::Display for Size {
    /// The shortest exact spelling: `200KB`, `1.5MB`, `4KiB`, `1234B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        // At each scale: a whole decimal unit, a whole binary unit, then a decimal unit with up
        // to three decimals, before trying the next smaller scale.
        for (dec, bin) in [("GB", "GiB"), ("MB", "MiB"), ("KB", "KiB")] {
            let dec_factor = SIZE_UNITS.iter().find(|u| u.0 == dec).map_or(1, |u| u.1);
            let bin_factor = SIZE_UNITS.iter().find(|u| u.0 == bin).map_or(1, |u| u.1);
            if n >= dec_factor && n.is_multiple_of(dec_factor) {
                return write!(f, "{}{dec}", n / dec_factor);
            }
            if n >= bin_factor && n.is_multiple_of(bin_factor) {
                return write!(f, "{}{bin}", n / bin_factor);
            }
            let step = dec_factor / 1000;
            if n >= dec_factor && n.is_multiple_of(step) {
                let frac = format!("{:03}", (n % dec_factor) / step);
                return write!(f, "{}.{}{dec}", n / dec_factor, frac.trim_end_matches('0'));
            }
        }
        write!(f, "{n}B")
    }
}

impl FromStr for Size {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Size::parse_problem(s).map_err(ValueError::from)
    }
}

impl serde::Serialize for Size {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An amount of US dollars, exact to the micro-dollar: `$1.50`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    micros: u64,
}

const MONEY_HINT: &str = "write amounts in US dollars like `1.50` or `\"$1.50\"`";

impl Money {
    pub const ZERO: Money = Money { micros: 0 };

    pub const fn from_micros(micros: u64) -> Self {
        Money { micros }
    }

    pub const fn micros(self) -> u64 {
        self.micros
    }

    /// Parses `1.50`, `$1.50`, `2`; at most six decimals.
    pub(crate) fn parse_problem(text: &str) -> Result<Money, Problem> {
        let trimmed = text.trim();
        if trimmed.starts_with('-') || trimmed.starts_with("$-") {
            return Err(Problem::new(format!("amount `{text}` is negative")).hint(MONEY_HINT));
        }
        let number = trimmed.strip_prefix('$').unwrap_or(trimmed);
        let Some(decimal) = parse_decimal(number) else {
            return Err(
                Problem::new(format!("`{text}` is not an amount of money")).hint(MONEY_HINT)
            );
        };
        match decimal.times(1_000_000) {
            Some(micros) => Ok(Money { micros }),
            None => Err(Problem::new(format!(
                "amount `{text}` has more than six decimals or is too large"
            ))
            .hint(MONEY_HINT)),
        }
    }

    /// A TOML float such as `1.50`: read from its text when possible so `0.1` stays exact.
    pub(crate) fn from_float_text(text: &str) -> Result<Money, Problem> {
        if let Ok(m) = Money::parse_problem(text) {
            return Ok(m);
        }
        let value: f64 = text
            .replace('_', "")
            .parse()
            .map_err(|_| Problem::new(format!("`{text}` is not a number")).hint(MONEY_HINT))?;
        if !value.is_finite() {
            return Err(Problem::new(format!("amount `{text}` is not finite")).hint(MONEY_HINT));
        }
        if value < 0.0 {
            return Err(Problem::new(format!("amount `{text}` is negative")).hint(MONEY_HINT));
        }
        let micros = (value * 1e6).round();
        if micros > 1e18 {
            return Err(Problem::new(format!("amount `{text}` is too large")).hint(MONEY_HINT));
        }
        // In range and non-negative: the conversion is exact enough for money in micro-dollars.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let micros = micros as u64;
        Ok(Money { micros })
    }

    /// The amount as a float, for comparisons with measured costs.
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(self) -> f64 {
        self.micros as f64 / 1e6
    }
}

impl fmt::Display for Money {
    /// `$1.50`, `$0.00`, `$0.0025`: cents always, further decimals only when not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dollars = self.micros / 1_000_000;
        let frac = format!("{:06}", self.micros % 1_000_000);
        let trimmed = frac.trim_end_matches('0');
        let shown = if trimmed.len() < 2 {
            &frac[..2]
        } else {
            trimmed
        };
        write!(f, "${dollars}.{shown}")
    }
}

impl FromStr for Money {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse_problem(s).map_err(ValueError::from)
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A value did not parse (from `FromStr`, for callers outside file loading).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    pub message: String,
    pub hint: Option<String>,
}

impl From<Problem> for ValueError {
    fn from(p: Problem) -> Self {
        ValueError {
            message: p.message,
            hint: p.hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn sizes_parse() {
        let cases = [
            ("200KB", 200_000),
            ("1MB", 1_000_000),
            ("512KiB", 524_288),
            ("4096", 4096),
            ("1.5MB", 1_500_000),
            ("1.5KiB", 1536),
            ("2 GiB", 2 << 30),
            ("10b", 10),
            ("1_000", 1000),
            ("0", 0),
        ];
        for (text, bytes) in cases {
            assert_eq!(text.parse::<Size>(), Ok(Size(bytes)), "{text}");
        }
    }

    #[test]
    fn sizes_refuse_with_offsets() {
        let cases = [
            ("200XB", "unknown size unit `XB`", Some(3)),
            ("KB", "`KB` is not a size", None),
            (
                "1.5",
                "`1.5` is not a whole number of bytes, or too large",
                None,
            ),
            (
                "1.0001KB",
                "`1.0001KB` is not a whole number of bytes, or too large",
                None,
            ),
            (
                "99999999999GB",
                "`99999999999GB` is not a whole number of bytes, or too large",
                None,
            ),
            ("-1KB", "`-1KB` is not a size", None),
            ("", "`` is not a size", None),
        ];
        for (text, message, offset) in cases {
            let p = Size::parse_problem(text).unwrap_err();
            assert_eq!((p.message.as_str(), p.offset), (message, offset), "{text}");
        }
    }

    #[test]
    fn sizes_display_and_round_trip() {
        let cases = [
            (200_000, "200KB"),
            (1_500_000, "1.5MB"),
            (524_288, "512KiB"),
            (4096, "4KiB"),
            (1234, "1.234KB"),
            (1001, "1.001KB"),
            (999, "999B"),
            (0, "0B"),
            (1 << 30, "1GiB"),
            (2_250_000_000, "2.25GB"),
        ];
        for (bytes, text) in cases {
            assert_eq!(Size(bytes).to_string(), text);
            assert_eq!(text.parse::<Size>(), Ok(Size(bytes)));
        }
    }

    #[test]
    fn money_parses_exactly() {
        let cases = [
            ("1.50", 1_500_000),
            ("$1.50", 1_500_000),
            ("$0", 0),
            ("2", 2_000_000),
            ("0.000001", 1),
            ("0.1", 100_000),
            ("1_000", 1_000_000_000),
        ];
        for (text, micros) in cases {
            assert_eq!(
                text.parse::<Money>(),
                Ok(Money::from_micros(micros)),
                "{text}"
            );
        }
        assert_eq!(
            Money::from_float_text("1.5e1"),
            Ok(Money::from_micros(15_000_000))
        );
        assert_eq!(
            Money::from_float_text("0.30"),
            Ok(Money::from_micros(300_000))
        );
    }

    #[test]
    fn money_refuses() {
        for bad in ["-1", "$-1", "1.0000001", "abc", "$", "1.2.3", "inf", "nan"] {
            assert!(bad.parse::<Money>().is_err(), "{bad}");
        }
        assert!(Money::from_float_text("-0.5").is_err());
        assert!(Money::from_float_text("inf").is_err());
        assert!(Money::from_float_text("nan").is_err());
        assert!(Money::from_float_text("1e300").is_err());
    }

    #[test]
    fn money_display() {
        let cases = [
            (1_500_000, "$1.50"),
            (0, "$0.00"),
            (2_000_000, "$2.00"),
            (2_500, "$0.0025"),
            (1_234_560, "$1.23456"),
            (100_000, "$0.10"),
        ];
        for (micros, text) in cases {
            assert_eq!(Money::from_micros(micros).to_string(), text);
            assert_eq!(text.parse::<Money>(), Ok(Money::from_micros(micros)));
        }
    }
}
