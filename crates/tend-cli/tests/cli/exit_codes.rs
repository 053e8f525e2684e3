//! Exit codes: 0 success, 2 bad input the user must fix, 1 a failure while doing the work.
//! (Runtime failures from the store are in `store.rs`.)

use pretty_assertions::assert_eq;

use crate::common::Env;

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    for args in [
        &["frobnicate"][..],
        &["list", "--frob"],
        &["show"],
        &["next"],
        &["next", "0 9 * * *", "-n", "many"],
    ] {
        let out = env.tend(args);
        out.code(2);
        assert!(out.stderr.starts_with("error: "), "{}", out.transcript());
    }
}

#[test]
fn a_bad_environment_is_bad_input() {
    let env = Env::new();
    let mut cmd = env.command(&env.repo, &["list"]);
    cmd.env("TEND_NOW", "yesterday");
    let out = env.finish(&["list"], &mut cmd);
    out.code(2);
    assert!(
        out.stderr.starts_with("error: TEND_NOW=`yesterday` is not an RFC 3339 instant")
            && out.stderr.ends_with(
                "\n  hint: TEND_NOW fixes tend's clock for tests: an RFC 3339 instant such as 2026-03-08T06:00:00Z\n"
            ),
        "{}",
        out.transcript()
    );

    let mut cmd = env.command(&env.repo, &["list"]);
    cmd.env("TEND_HOME", "relative/home");
    let out = env.finish(&["list"], &mut cmd);
    out.code(2);
    assert_eq!(
        out.stderr,
        "error: TEND_HOME must be an absolute path, not `relative/home`\n"
    );

    let out = env.tend(&["-C", "nowhere", "list"]);
    out.code(2);
    assert_eq!(out.stderr, "error: -C [TMP]/repo/nowhere: no such folder\n");
}

#[test]
fn version_and_help_succeed() {
    let env = Env::new();
    let version = env.tend(&["--version"]);
    version.ok();
    assert_eq!(
        version.stdout,
        format!("tend {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = env.tend(&["--help"]);
    help.ok();
    assert!(help.stdout.contains("Usage: tend"), "{}", help.stdout);
}
