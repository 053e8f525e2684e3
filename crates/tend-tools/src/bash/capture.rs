//! Capped capture of a command's output: the start and the end are what matter (the command line
//! echo and the error at the end), so both are kept and the middle is counted.

use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct HeadTail {
    half: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl HeadTail {
    /// Keeps up to `cap` bytes: the first and the last `cap / 2`.
    pub(crate) fn new(cap: usize) -> HeadTail {
        HeadTail {
            half: cap / 2,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    pub(crate) fn push(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        let room = self.half - self.head.len();
        if room > 0 {
            let take = room.min(data.len());
            self.head.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        if data.len() >= self.half {
            self.tail.clear();
            self.tail.extend(&data[data.len() - self.half..]);
        } else {
            self.tail.extend(data);
            let excess = self.tail.len().saturating_sub(self.half);
            self.tail.drain(..excess);
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The output cut to `cap` bytes (at most what was kept), with a marker where bytes were
    /// cut. Returns the text and whether anything was cut.
    pub(crate) fn render(&self, cap: usize) -> (String, bool) {
        let kept = self.head.len() + self.tail.len();
        if self.total <= cap as u64 && self.total == kept as u64 {
            let mut all = self.head.clone();
            all.extend(&self.tail);
            return (String::from_utf8_lossy(&all).into_owned(), false);
        }
        let head_len = utf8_floor(&self.head, self.head.len().min(cap / 2));
        let head = &self.head[..head_len];
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        let tail_keep = tail.len().min(cap.saturating_sub(head_len));
        let mut tail_start = tail.len() - tail_keep;
        // Start the tail on a character, not inside one.
        while tail_start < tail.len() && tail[tail_start] & 0xC0 == 0x80 {
            tail_start += 1;
        }
        let tail = &tail[tail_start..];
        let cut = self.total - (head.len() + tail.len()) as u64;
        let text = format!(
            "{}\n[… {cut} bytes cut …]\n{}",
            String::from_utf8_lossy(head),
            String::from_utf8_lossy(tail)
        );
        (text, true)
    }
}

/// `at`, moved back so that `bytes[..at]` does not end inside a UTF-8 sequence.
fn utf8_floor(bytes: &[u8], at: usize) -> usize {
    let mut lead = at;
    while lead > 0 && at - lead < 4 {
        lead -= 1;
        if bytes[lead] & 0xC0 != 0x80 {
            break;
        }
    }
    let needed = match bytes.get(lead) {
        Some(b) if b & 0xE0 == 0xC0 => 2,
        Some(b) if b & 0xF0 == 0xE0 => 3,
        Some(b) if b & 0xF8 == 0xF0 => 4,
        _ => 1,
    };
    if lead + needed > at { lead } else { at }
}

/// Splits `cap` between stdout and stderr: all of both if they fit, else stderr gets what it
/// needs up to a quarter (or what stdout leaves), stdout the rest.
pub(crate) fn budgets(cap: usize, stdout: u64, stderr: u64) -> (usize, usize) {
    let cap64 = cap as u64;
    if stdout + stderr <= cap64 {
        return (cap, cap);
    }
    let err = stderr.min((cap64 / 4).max(cap64.saturating_sub(stdout)));
    let err = usize::try_from(err).unwrap_or(cap);
    (cap - err, err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn capture(cap: usize, chunks: &[&[u8]]) -> HeadTail {
        let mut c = HeadTail::new(cap);
        for chunk in chunks {
            c.push(chunk);
        }
        c
    }

    #[test]
    fn short_output_is_kept_whole() {
        let c = capture(10, &[b"abc", b"def"]);
        assert_eq!(c.render(10), ("abcdef".to_owned(), false));
        assert_eq!(c.total(), 6);
    }

    #[test]
    fn long_output_keeps_head_and_tail_across_chunks() {
        let c = capture(6, &[b"01234", b"56789", b"ab"]);
        assert_eq!(c.total(), 12);
        assert_eq!(
            c.render(6),
            ("012\n[… 6 bytes cut …]\n9ab".to_owned(), true)
        );
    }

    #[test]
    fn a_smaller_render_cap_cuts_what_was_kept() {
        let c = capture(10, &[b"0123456789"]);
        assert_eq!(c.render(4), ("01\n[… 6 bytes cut …]\n89".to_owned(), true));
    }

    #[test]
    fn cuts_never_split_characters() {
        let c = capture(6, &["ééééé".as_bytes()]);
        // Head: 3 bytes → "é" (2 bytes); tail: last 3 bytes start inside an "é" → "é".
        assert_eq!(c.render(6), ("é\n[… 6 bytes cut …]\né".to_owned(), true));
    }

    #[test]
    fn budgets_share_the_cap() {
        assert_eq!(budgets(100, 50, 40), (100, 100));
        assert_eq!(budgets(100, 500, 10), (90, 10));
        assert_eq!(budgets(100, 500, 500), (75, 25));
        assert_eq!(budgets(100, 10, 500), (10, 90));
    }
}
