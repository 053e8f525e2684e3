//! Commands that only read: what a `read-only` run may run without a rule.
//!
//! Conservative on purpose. A command counts only if every one of its forms is known to leave
//! files, processes and other machines alone: no output redirection to a file, no variable
//! outside the safe list, a bare program name (not `./ls`), and for programs with writing or
//! executing options, none of those options. Where an argument is only known at run time and
//! could be such an option (`find . $x`), the command does not count.

use super::git::git_reads;
use super::long_name;
use crate::shell::{ShellCommand, TrailingArgs, Word, system_name};

/// Programs that only read whatever their arguments; see [`is_read_only`] for the ones whose
/// options are checked.
pub(crate) const READ_ONLY_PROGRAMS: [&str; 66] = [
    "ls",
    "cat",
    "head",
    "tail",
    "wc",
    "pwd",
    "echo",
    "which",
    "whereis",
    "type",
    "stat",
    "cut",
    "tr",
    "jq",
    "basename",
    "dirname",
    "realpath",
    "readlink",
    "true",
    "false",
    "test",
    "[",
    "[[",
    "du",
    "df",
    "nl",
    "tac",
    "rev",
    "fold",
    "paste",
    "join",
    "expand",
    "unexpand",
    "comm",
    "cmp",
    "diff",
    "od",
    "hexdump",
    "strings",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "b2sum",
    "cksum",
    "base64",
    "id",
    "whoami",
    "uname",
    "printenv",
    "seq",
    "expr",
    "nproc",
    "locale",
    "arch",
    "groups",
    "sleep",
    ":",
    "cd",
    "grep",
    "egrep",
    "fgrep",
    "column",
    "for",
    "env",
    "xargs",
];

pub(crate) fn is_read_only(cmd: &ShellCommand) -> bool {
    let f = &cmd.facts;
    if f.unsafe_env || f.wrapper_writes || cmd.redirects.iter().any(|r| r.writes_file()) {
        return false;
    }
    let Some(program) = f.words.first() else {
        // Only assignments (of safe variables) or input redirections.
        return true;
    };
    if f.runs_analysed_script {
        // `bash -c '…'`, `eval …`: the script's commands are judged on their own.
        return true;
    }
    if f.runs_script_file || !program.is_static() {
        return false;
    }
    if program.text.starts_with("((") || program.text.starts_with("for ((") {
        return true;
    }
    let Some(name) = system_name(&program.text) else {
        return false;
    };
    let args = &f.words[1..];
    // Unseen arguments (xargs) may be any option.
    let options_known = f.trailing == TrailingArgs::Known
        && args.iter().all(|a| a.is_static() || !a.may_be_option());
    let none = |bad: &dyn Fn(&str) -> bool| options_known && !args.iter().any(|a| bad(&a.text));
    match name {
        "find" => none(&|t| {
            matches!(
                t,
                "-exec"
                    | "-execdir"
                    | "-ok"
                    | "-okdir"
                    | "-delete"
                    | "-fprint"
                    | "-fprint0"
                    | "-fprintf"
                    | "-fls"
            )
        }),
        "fd" | "fdfind" => none(&|t| {
            matches!(long_name(t), "--exec" | "--exec-batch")
                || (short_cluster(t) && (t.contains('x') || t.contains('X')))
        }),
        "rg" => none(&|t| matches!(long_name(t), "--pre" | "--hostname-bin")),
        "sort" => none(&|t| {
            matches!(long_name(t), "--output" | "--compress-program")
                || (short_cluster(t) && t.contains('o'))
        }),
        "file" => none(&|t| long_name(t) == "--compile" || (short_cluster(t) && t.contains('C'))),
        "tree" => none(&|t| short_cluster(t) && t.contains('o')),
        "printf" => none(&|t| t.starts_with("-v")),
        "hostname" => none(&|t| !t.starts_with('-')),
        "uniq" => options_known && args.iter().filter(|a| !a.text.starts_with('-')).count() <= 1,
        "date" => options_known && date_reads(args),
        "sed" => options_known && sed_reads(args),
        "git" => f.trailing == TrailingArgs::Known && git_reads(args),
        "read" => options_known && read_reads(args),
        "awk" | "gawk" | "mawk" | "nawk" => options_known && awk_reads(args),
        "command" => args
            .first()
            .is_some_and(|a| a.text == "-v" || a.text == "-V"),
        _ => READ_ONLY_PROGRAMS.contains(&name),
    }
}

/// `-abc`, not `--abc` or `-`.
fn short_cluster(t: &str) -> bool {
    t.starts_with('-') && !t.starts_with("--") && t.len() > 1
}

/// `date` shows the time unless asked to set it (`-s`, or an operand not starting with `+`).
fn date_reads(args: &[Word]) -> bool {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        match t {
            "-d" | "--date" | "-f" | "--file" | "-r" | "--reference" => i += 1,
            _ if long_name(t) == "--set" || (short_cluster(t) && t.contains('s')) => return false,
            _ if !t.starts_with('-') && !t.starts_with('+') => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// `sed` without in-place editing, script files, or the `w`/`W`/`e` commands (which write files
/// and run commands). Any script containing those letters is refused, which is conservative.
fn sed_reads(args: &[Word]) -> bool {
    // (script text, known before running)
    let mut e_scripts: Vec<(&str, bool)> = Vec::new();
    let mut operands: Vec<(&str, bool)> = Vec::new();
    let mut only_operands = false;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        i += 1;
        let t = a.text.as_str();
        if only_operands || !t.starts_with('-') || t == "-" {
            operands.push((t, a.is_static()));
            continue;
        }
        if t == "--" {
            only_operands = true;
            continue;
        }
        if t.starts_with("--") {
            match (long_name(t), t.split_once('=')) {
                ("--in-place" | "--file", _) => return false,
                ("--expression", Some((_, script))) => e_scripts.push((script, a.is_static())),
                ("--expression", None) => {
                    if let Some(n) = args.get(i) {
                        e_scripts.push((&n.text, n.is_static()));
                    }
                    i += 1;
                }
                ("--line-length", None) => i += 1,
                _ => {}
            }
            continue;
        }
        for (j, c) in t.char_indices().skip(1) {
            match c {
                'i' | 'f' => return false,
                'e' | 'l' => {
                    let attached = &t[j + 1..];
                    if attached.is_empty() {
                        if let (Some(n), 'e') = (args.get(i), c) {
                            e_scripts.push((&n.text, n.is_static()));
                        }
                        i += 1;
                    } else if c == 'e' {
                        e_scripts.push((attached, a.is_static()));
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    // Without `-e`, the first operand is the script; the others are files.
    let scripts = if e_scripts.is_empty() {
        operands.into_iter().take(1).collect()
    } else {
        e_scripts
    };
    scripts
        .iter()
        .all(|(text, known)| *known && sed_script_reads(text))
}

/// Whether a sed script has no `w`/`W` (write a file) or `e` (run a command) command and no
/// `s///w` or `s///e` flag. Regexes, replacements and `a`/`i`/`c` texts are skipped, so their
/// letters do not count.
fn sed_script_reads(script: &str) -> bool {
    let chars: Vec<char> = script.chars().collect();
    // Index just past the next unescaped `delimiter` from `i`.
    let skip_to = |mut i: usize, delimiter: char| {
        while let Some(&c) = chars.get(i) {
            i += 1;
            if c == '\\' {
                i += 1;
            } else if c == delimiter {
                break;
            }
        }
        i.min(chars.len())
    };
    let to_end_of_command = |mut i: usize| {
        while chars
            .get(i)
            .is_some_and(|&c| c != '\n' && c != ';' && c != '}')
        {
            i += 1;
        }
        i
    };
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '/' => i = skip_to(i, '/'),
            '\\' => {
                if let Some(&d) = chars.get(i) {
                    i = skip_to(i + 1, d);
                }
            }
            's' | 'y' => {
                let Some(&d) = chars.get(i) else {
                    return false;
                };
                i = skip_to(skip_to(i + 1, d), d);
                if c == 's' {
                    let end = to_end_of_command(i);
                    if chars[i..end].iter().any(|f| matches!(f, 'w' | 'W' | 'e')) {
                        return false;
                    }
                    i = end;
                }
            }
            'w' | 'W' | 'e' => return false,
            // Text runs to the end of the line, and on while lines end in `\`.
            'a' | 'i' | 'c' | '#' => loop {
                while chars.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
                let continued = c != '#' && i > 0 && chars[i - 1] == '\\';
                if !continued || i >= chars.len() {
                    break;
                }
                i += 1;
            },
            // Labels and file names run to the end of the command.
            'r' | 'R' | 'b' | 't' | 'T' | ':' => i = to_end_of_command(i),
            _ => {}
        }
    }
    true
}

/// `read` only assigns variables; lowercase names cannot be `PATH`, `IFS`, `BASH_ENV` or any
/// other variable that changes what later commands run.
fn read_reads(args: &[Word]) -> bool {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        i += 1;
        if matches!(t, "-d" | "-i" | "-n" | "-N" | "-p" | "-t" | "-u") {
            i += 1;
        } else if t.starts_with('-') && t != "-a" {
            continue;
        } else {
            let name = if t == "-a" {
                i += 1;
                args.get(i - 1).map_or("", |w| w.text.as_str())
            } else {
                t
            };
            let lowercase = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !lowercase {
                return false;
            }
        }
    }
    true
}

/// `awk` with an inline program that cannot run commands or write files: no `system`, no `|`
/// (pipes to and from commands), no `>` (output redirection; comparisons are refused too, which
/// is conservative), and only `-F` and `-v` as options.
fn awk_reads(args: &[Word]) -> bool {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if matches!(t, "-F" | "-v" | "--field-separator" | "--assign") {
            i += 2;
        } else if t.starts_with("-F")
            || t.starts_with("-v")
            || t.starts_with("--field-separator=")
            || t.starts_with("--assign=")
        {
            i += 1;
        } else if t.starts_with('-') {
            return false;
        } else {
            break;
        }
    }
    args.get(i).is_some_and(|program| {
        program.is_static()
            && !program.text.contains("system")
            && !program.text.contains(['|', '>'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn sed_scripts() {
        let cases = [
            ("1,20p", true),
            ("/start/,/end/p", true),
            ("s/hello/everywhere/g", true),
            ("s|/usr|/opt|", true),
            ("\\,begin,,\\,end,d", true),
            ("y/abc/xyz/", true),
            ("1i\\\nheader with w and e", true),
            ("$a trailer w e", true),
            ("/x/{p;q}", true),
            ("s/a/b/w out.txt", false),
            ("s/a/b/e", false),
            ("s/a/b/gw out", false),
            ("1e rm -rf x", false),
            ("w out.txt", false),
            ("/x/W out", false),
            ("p;e ls", false),
            // Cut short: no panic, and nothing unsafe was seen.
            ("s/x\\", true),
            ("s", false),
            ("y/a", true),
            ("\\", true),
            ("/abc", true),
        ];
        for (script, reads) in cases {
            assert_eq!(sed_script_reads(script), reads, "{script:?}");
        }
    }

    #[test]
    fn read_and_awk() {
        let words = |s: &[&str]| s.iter().map(|w| Word::literal(w)).collect::<Vec<_>>();
        assert!(read_reads(&words(&["-r", "line"])));
        assert!(read_reads(&words(&["-p", "Name? ", "-a", "parts"])));
        assert!(!read_reads(&words(&["PATH"])));
        assert!(!read_reads(&words(&["-a", "IFS"])));
        assert!(awk_reads(&words(&["-F:", "{print $1}", "/etc/passwd"])));
        assert!(awk_reads(&words(&["-v", "n=3", "NR<n"])));
        assert!(!awk_reads(&words(&["{system(\"rm x\")}"])));
        assert!(!awk_reads(&words(&["{print > \"out\"}"])));
        assert!(!awk_reads(&words(&["{print | \"sh\"}"])));
        assert!(!awk_reads(&words(&["-f", "prog.awk"])));
        assert!(!awk_reads(&words(&["-i", "inplace", "{}"])));
    }
}
