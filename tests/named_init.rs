//! nsexec called by another init's name (src/cli/names.rs): tini's and
//! catatonit's command lines as runtimes give them, and the pause process
//! of a pod, on real processes. tests/inject.rs runs the same binary under
//! podman and Docker.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use support::*;

/// `dir/NAME`, a link to nsexec: how a runtime's bind mount names it.
fn named(name: &str) -> PathBuf {
    let dir = PathBuf::from(tempdir("named-init"));
    let link = dir.join(name);
    std::os::unix::fs::symlink(init_nsexec(), &link).unwrap();
    link
}

fn run_named(name: &str, args: &[&str]) -> Output {
    let mut c = match emulator() {
        Some(e) => {
            let mut c = Command::new(e);
            // qemu-user's -0 sets the program's argv[0].
            c.args(["-0", name]).arg(init_nsexec());
            c
        }
        None => Command::new(named(name)),
    };
    c.args(args).stdin(Stdio::null());
    run(c, Duration::from_secs(30))
}

fn exited(child: &mut Child) -> Option<std::process::ExitStatus> {
    child.try_wait().unwrap()
}

#[test]
fn tinis_command_line_as_docker_and_podman_give_it() {
    // `/sbin/docker-init -- PROGRAM`, `/run/podman-init -- PROGRAM`.
    for name in ["docker-init", "podman-init", "tini"] {
        let o = run_named(name, &["--", "/bin/sh", "-c", "echo ran; exit 7"]);
        assert_eq!(o.status.code(), Some(7), "{name}: {}", stderr(&o));
        assert_eq!(stdout(&o), "ran\n", "{name}");
    }
    // -e remaps an exit code to 0, as --remap-exit does.
    let o = run_named(
        "tini",
        &["-s", "-e", "143", "--", "/bin/sh", "-c", "exit 143"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The program's own flags stay its own.
    let o = run_named("tini", &["/bin/sh", "-c", "echo \"$0 $1\"", "-g", "x"]);
    assert_eq!(stdout(&o), "-g x\n", "{}", stderr(&o));
}

#[test]
fn what_those_inits_take_and_nsexec_does_not_is_one_line_and_125() {
    for (name, args, needle) in [
        ("tini", &["-w", "--", "true"][..], "'-w'"),
        ("docker-init", &["-l"][..], "'-l'"),
        ("catatonit", &["-L"][..], "'-L'"),
        ("tini", &["-p", "TERM", "true"][..], "'-p': 'TERM'"),
        ("tini", &[][..], "no program"),
        ("pause", &["sleep", "1"][..], "runs no program"),
        ("catatonit", &["-P", "sleep", "1"][..], "runs no program"),
    ] {
        let o = run_named(name, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(125), "{name} {args:?}: {err}");
        assert!(
            err.lines().next().is_some_and(|l| l.contains(needle)),
            "{name} {args:?}: {err}"
        );
        assert!(stdout(&o).is_empty());
    }
}

/// Help under any name is the one usage of every init line: it names each
/// line, the one asked under among them.
#[test]
fn help_under_each_name_shows_every_init_line() {
    for (name, flag) in [
        ("tini", "-h"),
        ("docker-init", "--help"),
        ("catatonit", "-h"),
    ] {
        let o = run_named(name, &[flag]);
        assert!(o.status.success(), "{name} {flag}: {}", stderr(&o));
        let help = stdout(&o);
        for line in [
            "Usage: nsexec --init ",
            "or: tini|docker-init|podman-init|init ",
            "or: catatonit ",
            "or: pause",
        ] {
            assert!(
                help.contains(line),
                "{name} {flag}: {line:?} missing in\n{help}"
            );
        }
    }
}

#[test]
fn version_in_the_form_dockerd_parses() {
    // dockerd splits `docker-init --version` at " - " and takes the commit
    // after "git." for `docker info`.
    for (name, flag) in [
        ("docker-init", "--version"),
        ("catatonit", "-V"),
        ("pause", "-v"),
    ] {
        let o = run_named(name, &[flag]);
        assert_eq!(o.status.code(), Some(0), "{name}");
        let out = stdout(&o);
        let (head, commit) = out
            .trim_end()
            .split_once(" - ")
            .expect("NAME version V - git.C");
        assert_eq!(
            head,
            concat!("nsexec version ", env!("CARGO_PKG_VERSION")),
            "{name}"
        );
        let commit = commit.strip_prefix("git.").unwrap();
        assert!(!commit.is_empty() && !commit.contains('.'), "{name}: {out}");
    }
}

/// `NAME ARGS` as PID 1 of a new pid namespace (`unshare -p -f`, which exits
/// with its child's status), and that pid once it runs there.
fn start_pid1(name: &str, args: &[&str]) -> (Child, u32) {
    let link = named(name);
    let m = marker(&format!("pid1-{name}"));
    let child = Command::new("unshare")
        .args([
            "-p",
            "-f",
            "--",
            "/bin/sh",
            "-c",
            &format!("exec \"$0\" \"$@\" # {m}"),
        ])
        .arg(&link)
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let link = link.display().to_string();
    let find = || {
        pids_matching(&link)
            .into_iter()
            .find(|p| ns_link(&p.to_string(), "pid") != ns_link("self", "pid"))
    };
    wait_until(|| find().is_some());
    let pid = find().unwrap();
    (child, pid)
}

/// An orphan in `pid`'s pid namespace: a shell that starts `sleep` and
/// exits at once, so that the sleep is re-parented to PID 1 there.
fn orphan_under(pid: u32) {
    let st = Command::new("nsenter")
        .args([
            "-t",
            &pid.to_string(),
            "-p",
            "--",
            "/bin/sh",
            "-c",
            "sleep 0.3 &",
        ])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn a_pause_process_reaps_orphans_ignores_other_signals_and_exits_0_on_term() {
    if skip_under_qemu("pid namespaces") {
        return;
    }
    for (name, args, stop) in [
        ("pause", &[][..], "TERM"),
        ("catatonit", &["-P"][..], "INT"),
        ("nsexec", &["--init"][..], "TERM"),
    ] {
        let (mut child, pid) = start_pid1(name, args);
        orphan_under(pid);
        // The orphan is its child, then gone: reaped, not a zombie.
        wait_until(|| !children(pid).is_empty());
        wait_until(|| children(pid).is_empty());
        assert_eq!(zombies_of(pid), 0);
        // What the pause processes ignore does not end it: after HUP and
        // USR1 it still reaps (the signals were taken before that SIGCHLD).
        for sig in ["HUP", "USR1", "USR2", "QUIT"] {
            assert!(
                Command::new("kill")
                    .args(["-s", sig, &pid.to_string()])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        orphan_under(pid);
        wait_until(|| !children(pid).is_empty());
        wait_until(|| children(pid).is_empty());
        assert!(
            exited(&mut child).is_none(),
            "{name} ended on an ignored signal"
        );
        assert!(
            Command::new("kill")
                .args(["-s", stop, &pid.to_string()])
                .status()
                .unwrap()
                .success()
        );
        let st = child.wait().unwrap();
        assert_eq!(st.code(), Some(0), "{name}: SIG{stop}");
    }
}
