//! The role builds (Cargo features `bootstrap` and `init`) as what they
//! are: each does its own role, names itself, and answers what it leaves
//! out with one line naming the build that has it, exit status 125, having
//! started nothing. What each role does is tested where the role is
//! (bootstrap.rs and named_init.rs run these builds); the syscall surface
//! of each is held by audit.rs and cross.rs.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

fn builds() -> [(PathBuf, &'static str); 2] {
    [(bootstrap_nsexec(), "bootstrap"), (init_nsexec(), "init")]
}

/// Runs `bin ARGS` and checks the refusal: status 125, exactly one line on
/// stderr (two with the pointer to --help), nothing on stdout.
fn refused(bin: &Path, args: &[&str]) -> String {
    let o = run(cmd_of(bin, args), Duration::from_secs(10));
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(125),
        "{} {args:?}: {err}",
        bin.display()
    );
    assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("Try ")),
        "{args:?}: {err}"
    );
    lines[0].to_owned()
}

#[test]
fn a_mode_left_out_names_the_build_that_has_it_and_runs_nothing() {
    let dir = PathBuf::from(tempdir("roles"));
    for (bin, build) in builds() {
        let ran = dir.join(format!("ran-{build}"));
        let touch = format!("touch {}", ran.display());
        for args in [
            vec!["-U", "-r", "--", "/bin/sh", "-c", &touch],
            vec!["-t", "1", "-u", "--", "/bin/sh", "-c", &touch],
            vec!["--tty", "--", "/bin/sh", "-c", &touch],
            vec!["--seccomp-profile"],
            vec!["/bin/sh", "-c", &touch],
        ] {
            let line = refused(&bin, &args);
            assert_eq!(
                line,
                format!(
                    "nsexec: this is the {build} build: '{}' needs the full build",
                    args[0]
                ),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
        assert!(!ran.exists(), "{build}: the program ran");
    }
    // The init's options are the init build's; any other option beside
    // them is the full build's, and nothing starts.
    let ran = dir.join("ran-init-p");
    let touch = format!("touch {}", ran.display());
    let line = refused(
        &init_nsexec(),
        &["--init", "-p", "--", "/bin/sh", "-c", &touch],
    );
    assert_eq!(
        line,
        "nsexec: this is the init build: '-p' needs the full build"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(!ran.exists(), "the program ran");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_bootstrap_build_refuses_to_be_an_init() {
    let dir = PathBuf::from(tempdir("roles-names"));
    for name in ["tini", "docker-init", "catatonit", "pause"] {
        let link = dir.join(name);
        std::os::unix::fs::symlink(bootstrap_nsexec(), &link).unwrap();
        let line = refused(&link, &["--", "/bin/true"]);
        assert_eq!(
            line,
            format!(
                "nsexec: this is the bootstrap build: running as an init ({}) needs the init or full build",
                link.display()
            )
        );
    }
    let line = refused(&bootstrap_nsexec(), &["--init", "--", "/bin/true"]);
    assert_eq!(
        line,
        "nsexec: this is the bootstrap build: '--init' needs the full build"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// runc's parent, as far as the refusal goes: the init build answers the
/// init pipe with one line and closes it, sending runc nothing to wait on.
#[test]
fn the_init_build_refuses_runc_and_closes_its_pipe() {
    let (mut ours, child, fd) =
        spawn_with_init_pipe(&init_nsexec(), &["/bin/sh", "-c", "echo ran"]);
    let o = wait_output(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "nsexec: this is the init build: runc's bootstrap (_LIBCONTAINER_INITPIPE={fd}) needs the bootstrap or full build\n"
        )
    );
    let mut got = Vec::new();
    ours.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    ours.read_to_end(&mut got).unwrap();
    assert!(got.is_empty(), "the pipe got {got:?}");
}

#[test]
fn each_build_names_itself_and_its_usage() {
    for (bin, build) in builds() {
        for v in ["--version", "-V"] {
            let o = run(cmd_of(&bin, [v]), Duration::from_secs(10));
            assert!(o.status.success(), "{}", stderr(&o));
            assert_eq!(
                stdout(&o),
                format!("nsexec {} ({build} build)\n", env!("CARGO_PKG_VERSION"))
            );
        }
        let o = run(cmd_of(&bin, ["--help"]), Duration::from_secs(10));
        assert!(o.status.success(), "{}", stderr(&o));
        let help = stdout(&o);
        assert!(help.starts_with("Usage: nsexec "), "{help}");
        assert!(help.contains("in the full build"), "{help}");
        let line = refused(&bin, &[]);
        assert_eq!(
            line,
            format!("nsexec: this is the {build} build: nothing to run (see --help)")
        );
    }
    // The full build says nothing of builds: its help is the whole command line.
    let o = run(cmd(["--help"]), Duration::from_secs(10));
    assert!(stdout(&o).contains("--init"), "{}", stdout(&o));
}
