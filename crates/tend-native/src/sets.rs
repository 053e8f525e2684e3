//! Sets of small numbers (bit masks) and their shortest systemd spelling.

/// The bits `lo..=hi` set.
pub(crate) fn full(lo: u32, hi: u32) -> u64 {
    (lo..=hi).fold(0, |m, v| m | 1 << v)
}

pub(crate) fn values(mask: u64) -> Vec<u32> {
    (0..64).filter(|v| mask & 1 << v != 0).collect()
}

/// Whether a step spelling (`a/s`, `a..b/s`) may be used: not for days counted from the
/// month's end, where systemd's meaning of a step is not the obvious one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Steps {
    Allowed,
    Forbidden,
}

/// A set of values of a component whose range is `lo..=hi`, in systemd's calendar syntax:
/// `*` for all, `a/s` or `a..b/s` for an arithmetic run, else runs `a..b` and single values
/// joined by commas. Numbers have at least `width` digits.
pub(crate) fn spell(mask: u64, lo: u32, hi: u32, width: usize, steps: Steps) -> String {
    if mask == full(lo, hi) {
        return "*".to_owned();
    }
    let vals = values(mask);
    let num = |v: u32| format!("{v:0width$}");
    if steps == Steps::Allowed
        && vals.len() >= 3
        && let Some(step) = common_step(&vals)
        && step >= 2
    {
        let (first, last) = (vals[0], vals[vals.len() - 1]);
        return if last + step > hi {
            format!("{}/{step}", num(first))
        } else {
            format!("{}..{}/{step}", num(first), num(last))
        };
    }
    runs(&vals)
        .into_iter()
        .map(|(a, b)| match b - a {
            0 => num(a),
            1 => format!("{},{}", num(a), num(b)),
            _ => format!("{}..{}", num(a), num(b)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Maximal runs of consecutive values, as (first, last).
pub(crate) fn runs(vals: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &v in vals {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == v => *b = v,
            _ => out.push((v, v)),
        }
    }
    out
}

/// The difference between neighbours when it is the same everywhere.
pub(crate) fn common_step(vals: &[u32]) -> Option<u32> {
    let step = vals.get(1)?.checked_sub(vals[0])?;
    vals.windows(2)
        .all(|w| w[1].checked_sub(w[0]) == Some(step))
        .then_some(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn mask(vals: &[u32]) -> u64 {
        vals.iter().fold(0, |m, v| m | 1 << v)
    }

    #[test]
    fn spellings() {
        let minute = |vals: &[u32]| spell(mask(vals), 0, 59, 2, Steps::Allowed);
        assert_eq!(minute(&(0..60).collect::<Vec<_>>()), "*");
        assert_eq!(minute(&[0]), "00");
        assert_eq!(minute(&[0, 15, 30, 45]), "00/15");
        assert_eq!(minute(&[5, 25, 45]), "05/20");
        assert_eq!(minute(&[1, 4, 7, 10]), "01..10/3");
        assert_eq!(minute(&[0, 30]), "00,30");
        assert_eq!(minute(&[1, 2, 3, 10, 11, 20]), "01..03,10,11,20");
        assert_eq!(minute(&[1, 2, 3, 4]), "01..04");
        assert_eq!(
            spell(mask(&[1, 2, 3, 4, 5, 6, 7]), 1, 31, 2, Steps::Forbidden),
            "01..07"
        );
        assert_eq!(
            spell(mask(&[1, 3, 5]), 1, 31, 2, Steps::Forbidden),
            "01,03,05"
        );
    }
}
