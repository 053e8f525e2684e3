use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::time::{Duration, SystemTime};

use pretty_assertions::assert_eq;

use super::*;

struct Dir {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

fn dir() -> Dir {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().canonicalize().unwrap();
    Dir { _tmp: tmp, path }
}

impl Dir {
    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Appends `text` and sets the file's modification time to `minute` minutes after an
    /// arbitrary epoch, so the order of files is the test's, not the file system's.
    fn append(&self, name: &str, text: &str, minute: u64) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.file(name))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + minute * 60))
            .unwrap();
    }

    fn read(&self, pattern: &str, previous: Option<&[FileCursor]>, max: u64) -> LogRead {
        read(&self.path.join(pattern), previous, max).unwrap()
    }

    fn show(&self, text: &str) -> String {
        text.replace(&self.path.display().to_string(), "D")
    }
}

#[test]
fn the_first_read_takes_everything_then_only_what_was_appended() {
    let d = dir();
    d.append("app.log", "one\ntwo\n", 1);
    let first = d.read("*.log", None, 1000);
    assert_eq!(d.show(&first.text), "==> D/app.log <==\none\ntwo\n");
    assert_eq!(first.new_bytes, 8);
    assert_eq!(first.files[0].offset, 8);
    d.append("app.log", "three\n", 2);
    let second = d.read("*.log", Some(&first.files), 1000);
    assert_eq!(d.show(&second.text), "==> D/app.log <==\nthree\n");
    assert_eq!(second.new_bytes, 6);
    let third = d.read("*.log", Some(&second.files), 1000);
    assert_eq!((third.text.as_str(), third.new_bytes), ("", 0));
    assert_eq!(third.files, second.files);
}

#[test]
fn a_half_written_line_waits_for_the_next_run() {
    let d = dir();
    d.append("app.log", "done\nhalf", 1);
    let first = d.read("app.log", None, 1000);
    assert_eq!(d.show(&first.text), "==> D/app.log <==\ndone\n");
    assert_eq!(first.files[0].offset, 5);
    d.append("app.log", " and end\n", 2);
    let second = d.read("app.log", Some(&first.files), 1000);
    assert_eq!(d.show(&second.text), "==> D/app.log <==\nhalf and end\n");
}

#[test]
fn after_rotation_the_rest_of_the_old_file_comes_first_then_the_new_file() {
    let d = dir();
    d.append("app.log", "a1\n", 1);
    let first = d.read("app.log", None, 1000);
    d.append("app.log", "a2\n", 2);
    // logrotate: rename, and a new file at the old path.
    std::fs::rename(d.file("app.log"), d.file("app.log.1")).unwrap();
    d.append("app.log", "b1\n", 3);
    let second = d.read("app.log", Some(&first.files), 1000);
    assert_eq!(
        d.show(&second.text),
        "==> D/app.log.1 <== (rotated: the rest of the previous file)\na2\n\n\
         ==> D/app.log <==\nb1\n"
    );
    assert_eq!(second.new_bytes, 6);
    // Only the file the glob names is followed from now on.
    assert_eq!(second.files.len(), 1);
    assert_eq!(second.files[0].path, d.file("app.log"));
    assert_eq!(second.files[0].offset, 3);
}

#[test]
fn a_rotated_file_the_glob_still_matches_is_followed_by_its_identity() {
    let d = dir();
    d.append("app.log", "a1\n", 1);
    let first = d.read("app.log*", None, 1000);
    d.append("app.log", "a2\n", 2);
    std::fs::rename(d.file("app.log"), d.file("app.log.1")).unwrap();
    d.append("app.log", "b1\n", 3);
    let second = d.read("app.log*", Some(&first.files), 1000);
    assert_eq!(
        d.show(&second.text),
        "==> D/app.log.1 <==\na2\n\n==> D/app.log <==\nb1\n"
    );
    let third = d.read("app.log*", Some(&second.files), 1000);
    assert_eq!(third.new_bytes, 0);
}

#[test]
fn a_truncated_file_is_read_from_the_start() {
    let d = dir();
    d.append("app.log", "old line one\nold line two\n", 1);
    let first = d.read("app.log", None, 1000);
    File::create(d.file("app.log")).unwrap();
    d.append("app.log", "new\n", 2);
    let second = d.read("app.log", Some(&first.files), 1000);
    assert_eq!(
        d.show(&second.text),
        "==> D/app.log <== (truncated since the last run: from the start)\nnew\n"
    );
    assert_eq!(second.files[0].offset, 4);
}

#[test]
fn several_files_in_time_order_and_new_files_from_the_start() {
    let d = dir();
    d.append("b.log", "b first\n", 1);
    d.append("a.log", "a later\n", 2);
    let first = d.read("*.log", None, 1000);
    assert_eq!(
        d.show(&first.text),
        "==> D/b.log <==\nb first\n\n==> D/a.log <==\na later\n"
    );
    d.append("c.log", "c new\n", 3);
    d.append("a.log", "a more\n", 4);
    let second = d.read("*.log", Some(&first.files), 1000);
    assert_eq!(
        d.show(&second.text),
        "==> D/c.log <==\nc new\n\n==> D/a.log <==\na more\n"
    );
    assert_eq!(second.files.len(), 3);
}

#[test]
fn max_bytes_keeps_the_newest_lines_and_says_how_much_was_left_out() {
    let d = dir();
    d.append("old.log", "0123456789\n", 1);
    d.append("new.log", "line one\nline two\n", 2);
    // 18 bytes fit: all of new.log; old.log's 11 bytes are left out.
    let r = d.read("*.log", None, 18);
    assert_eq!(
        d.show(&r.text),
        "[… 11 older bytes left out: only the newest 18 bytes (max_bytes) are shown]\n\
         ==> D/new.log <==\nline one\nline two\n"
    );
    // A cut inside a line drops the rest of that line too.
    let r = d.read("*.log", None, 12);
    assert_eq!(
        d.show(&r.text),
        "[… 20 older bytes left out: only the newest 12 bytes (max_bytes) are shown]\n\
         ==> D/new.log <==\nline two\n"
    );
    // Everything counts as read: the next run starts after it.
    assert_eq!(r.new_bytes, 29);
    assert_eq!(
        r.files.iter().map(|f| f.offset).collect::<Vec<_>>(),
        vec![18, 11]
    );
}

#[test]
fn binary_data_is_not_shown() {
    let d = dir();
    d.append("app.log", "a\0b\n", 1);
    let r = d.read("app.log", None, 1000);
    assert_eq!(
        d.show(&r.text),
        "==> D/app.log <==\n(binary data, 4 bytes, not shown)\n"
    );
}
