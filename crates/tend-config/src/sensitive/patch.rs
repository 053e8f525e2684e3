//! Reading a proposal's patch (`git diff --binary` output): each file entry's paths (both
//! sides of a rename, quoted names unquoted), its new mode, and an added symlink's target.

/// A file's mode as git writes it, for the kinds that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Symlink,
    Gitlink,
    Other,
}

impl Mode {
    fn parse(text: &str) -> Mode {
        match text.trim() {
            "120000" => Mode::Symlink,
            "160000" => Mode::Gitlink,
            _ => Mode::Other,
        }
    }
}

/// One `diff --git` entry of a patch.
#[derive(Debug, Default)]
pub(super) struct Entry {
    /// Every path the entry names (without git's `a/`/`b/`), old side and new.
    pub(super) paths: Vec<String>,
    /// The path after the change (the last one named, `+++`/`rename to` over `---`).
    new_path: Option<String>,
    /// The mode after the change, when the patch says it.
    pub(super) new_mode: Option<Mode>,
    pub(super) deleted: bool,
    /// The `+` lines of the hunks, for a symlink: its target.
    pub(super) symlink_target: Option<String>,
}

impl Entry {
    fn name(&mut self, path: String, side: Side) {
        if matches!(side, Side::New) {
            self.new_path = Some(path.clone());
        }
        if !self.paths.contains(&path) {
            self.paths.push(path);
        }
    }

    pub(super) fn shown_path(&self) -> String {
        self.new_path
            .clone()
            .or_else(|| self.paths.last().cloned())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Old,
    New,
}

/// Splits a patch into its entries. Only what classification needs is read: names, modes and,
/// for symlinks, the added lines.
pub(super) fn entries(patch: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut in_hunks = false;
    let mut added: Vec<&str> = Vec::new();
    let finish = |entry: &mut Entry, added: &mut Vec<&str>| {
        if entry.deleted {
            entry.new_mode = None;
        }
        if entry.new_mode == Some(Mode::Symlink) && !added.is_empty() {
            entry.symlink_target = Some(added.join("\n"));
        }
        added.clear();
    };
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            if let Some(last) = out.last_mut() {
                finish(last, &mut added);
            }
            let mut entry = Entry::default();
            for (path, side) in header_paths(rest) {
                entry.name(path, side);
            }
            out.push(entry);
            in_hunks = false;
            continue;
        }
        let Some(entry) = out.last_mut() else {
            continue;
        };
        if in_hunks {
            if let Some(text) = line.strip_prefix('+') {
                added.push(text);
            }
            continue;
        }
        if line.starts_with("@@") {
            in_hunks = true;
        } else if let Some(p) = line.strip_prefix("--- ") {
            if let Some(path) = patch_name(p, Strip::Prefix) {
                entry.name(path, Side::Old);
            }
        } else if let Some(p) = line.strip_prefix("+++ ") {
            if let Some(path) = patch_name(p, Strip::Prefix) {
                entry.name(path, Side::New);
            }
        } else if let Some(p) = line
            .strip_prefix("rename from ")
            .or_else(|| line.strip_prefix("copy from "))
        {
            if let Some(path) = patch_name(p, Strip::None) {
                entry.name(path, Side::Old);
            }
        } else if let Some(p) = line
            .strip_prefix("rename to ")
            .or_else(|| line.strip_prefix("copy to "))
        {
            if let Some(path) = patch_name(p, Strip::None) {
                entry.name(path, Side::New);
            }
        } else if let Some(m) = line
            .strip_prefix("new file mode ")
            .or_else(|| line.strip_prefix("new mode "))
        {
            entry.new_mode = Some(Mode::parse(m));
        } else if line.starts_with("deleted file mode ") {
            entry.deleted = true;
        } else if let Some(rest) = line.strip_prefix("index ") {
            // `index abc..def 120000`: the mode when it did not change.
            if let Some(mode) = rest.split_whitespace().nth(1)
                && entry.new_mode.is_none()
            {
                entry.new_mode = Some(Mode::parse(mode));
            }
        }
    }
    if let Some(last) = out.last_mut() {
        finish(last, &mut added);
    }
    out
}

/// Whether a name in the patch carries git's one-component prefix (`a/`, `b/`, or another
/// one under `diff.mnemonicPrefix`): `git apply` strips exactly one, so this does too.
#[derive(Debug, Clone, Copy)]
enum Strip {
    Prefix,
    None,
}

/// A name from a `---`/`+++`/`rename` line: C-quoted or plain (git ends a plain name that
/// holds a space with a tab), `/dev/null` for none.
fn patch_name(text: &str, strip: Strip) -> Option<String> {
    let name = if text.starts_with('"') {
        unquote(text)?.0
    } else {
        text.strip_suffix('\t').unwrap_or(text).to_owned()
    };
    if name == "/dev/null" {
        return None;
    }
    match strip {
        Strip::None => Some(name),
        Strip::Prefix => Some(strip_component(&name)),
    }
}

fn strip_component(name: &str) -> String {
    name.split_once('/')
        .map_or_else(|| name.to_owned(), |(_, rest)| rest.to_owned())
}

/// The two names of a `diff --git A B` line. Plain names hold no quote; when both are plain,
/// git writes the same name twice (`a/P b/P`) unless it is a rename, whose names the `rename`
/// lines give anyway.
fn header_paths(rest: &str) -> Vec<(String, Side)> {
    if rest.starts_with('"') {
        let Some((old, after)) = unquote(rest) else {
            return Vec::new();
        };
        let after = after.trim_start();
        let new = if after.starts_with('"') {
            unquote(after).map(|(n, _)| n)
        } else {
            Some(after.to_owned())
        };
        let mut out = vec![(strip_component(&old), Side::Old)];
        out.extend(new.map(|n| (strip_component(&n), Side::New)));
        return out;
    }
    if let Some(at) = rest.find(" \"") {
        let old = &rest[..at];
        let new = unquote(&rest[at + 1..]).map(|(n, _)| n);
        let mut out = vec![(strip_component(old), Side::Old)];
        out.extend(new.map(|n| (strip_component(&n), Side::New)));
        return out;
    }
    // `a/P b/P`: the middle space splits two equal halves.
    let bytes = rest.len();
    if bytes % 2 == 1 {
        let half = bytes / 2;
        if let (Some(old), Some(new)) = (rest.get(..half), rest.get(half + 1..))
            && rest.as_bytes().get(half) == Some(&b' ')
            && strip_component(old) == strip_component(new)
        {
            return vec![(strip_component(new), Side::New)];
        }
    }
    // Different plain names (a rename; its `rename` lines name both): classify each side of
    // every split, so that no reading of the line escapes.
    let mut out = Vec::new();
    for (at, _) in rest.match_indices(' ') {
        out.push((strip_component(&rest[..at]), Side::Old));
        out.push((strip_component(&rest[at + 1..]), Side::Old));
    }
    out
}

/// A C-quoted name as git writes it (`"a/x\ty\303\251"`), and the text after it.
fn unquote(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut bytes = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let name = String::from_utf8_lossy(&bytes).into_owned();
                return Some((name, &body[i + 1..]));
            }
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'a' => bytes.push(0x07),
                    'b' => bytes.push(0x08),
                    't' => bytes.push(b'\t'),
                    'n' => bytes.push(b'\n'),
                    'v' => bytes.push(0x0b),
                    'f' => bytes.push(0x0c),
                    'r' => bytes.push(b'\r'),
                    '0'..='7' => {
                        let mut value = e.to_digit(8)?;
                        for _ in 0..2 {
                            let (_, d) = chars.next()?;
                            value = value * 8 + d.to_digit(8)?;
                        }
                        bytes.push(u8::try_from(value).ok()?);
                    }
                    other => {
                        let mut buf = [0; 4];
                        bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            other => {
                let mut buf = [0; 4];
                bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    None
}
