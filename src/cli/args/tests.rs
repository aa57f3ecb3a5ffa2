use super::*;

fn p<'a>(args: &[&'a str]) -> Result<Cli<'a>, CliError<'a>> {
    let v: std::vec::Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    parse(&v).map(|(c, _)| c)
}

#[test]
fn short_flags_bundle_and_create() {
    let c = p(&["-Urpm", "-uin", "true"]).unwrap();
    let want = g::CLONE_NEWUSER
        | g::CLONE_NEWPID
        | g::CLONE_NEWNS
        | g::CLONE_NEWUTS
        | g::CLONE_NEWIPC
        | g::CLONE_NEWNET;
    assert_eq!(c.create, want);
    assert_eq!(c.uid_map, IdMapSpec::Root);
    assert_eq!(c.payload, 2);
}

#[test]
fn options_stop_at_the_program_or_double_dash() {
    let c = p(&["-n", "ls", "-l", "--pid"]).unwrap();
    assert_eq!(c.create, g::CLONE_NEWNET);
    assert_eq!(c.payload, 1);
    let c = p(&["-n", "--", "-weird-name"]).unwrap();
    assert_eq!(c.payload, 2);
}

#[test]
fn values_attach_in_every_form() {
    let c = p(&["-t", "12", "-p", "x"]).unwrap();
    assert_eq!(
        (c.target, c.target_types, c.create),
        (Some(12), g::CLONE_NEWPID, 0)
    );
    let c = p(&["-t12", "x"]).unwrap();
    assert_eq!(c.target, Some(12));
    let c = p(&["--target=12", "x"]).unwrap();
    assert_eq!(c.target, Some(12));
    let c = p(&["--target", "12", "x"]).unwrap();
    assert_eq!(c.target, Some(12));
}

#[test]
fn map_ranges_accumulate() {
    let (c, r) = parse(&[
        &b"--map-users=0:100000:1000"[..],
        b"--map-users",
        b"1000:200000:10",
        b"--map-groups=auto",
        b"x",
    ])
    .unwrap();
    assert_eq!(c.uid_map, IdMapSpec::Ranges);
    assert_eq!(&r.uid[..], [(0, 100000, 1000), (1000, 200000, 10)]);
    assert!(r.gid.is_empty());
    assert_eq!(c.gid_map, IdMapSpec::Auto);
    assert_ne!(
        c.create & g::CLONE_NEWUSER,
        0,
        "mapping implies a user namespace"
    );
    let mut out = std::vec::Vec::new();
    write_map(&c.uid_map, &r.uid, 1000, None, &mut out).unwrap();
    assert_eq!(out, b"0 100000 1000\n1000 200000 10\n");
    out.clear();
    write_map(&c.gid_map, &r.gid, 1000, Some((100000, 65536)), &mut out).unwrap();
    assert_eq!(out, b"0 1000 1\n1 100000 65536\n");
}

#[test]
fn single_maps_use_the_caller() {
    let mut out = std::vec::Vec::new();
    write_map(&IdMapSpec::Root, &[], 1000, None, &mut out).unwrap();
    write_map(&IdMapSpec::Current, &[], 1000, None, &mut out).unwrap();
    write_map(&IdMapSpec::Single(7), &[], 1000, None, &mut out).unwrap();
    assert_eq!(out, b"0 1000 1\n1000 1000 1\n7 1000 1\n");
}

#[test]
fn contradictions_are_refused() {
    assert_eq!(
        p(&["--boottime", "5", "x"]).unwrap_err(),
        CliError::Needs("--boottime", "--time")
    );
    assert_eq!(
        p(&["--monotonic=5", "x"]).unwrap_err(),
        CliError::Needs("--monotonic", "--time")
    );
    assert_eq!(
        p(&["--hostname", "h", "x"]).unwrap_err(),
        CliError::Needs("--hostname", "--uts")
    );
    assert_eq!(
        p(&["--mount-proc", "x"]).unwrap_err(),
        CliError::Needs("--mount-proc", "--pid")
    );
    assert_eq!(
        p(&["--setgroups=deny", "x"]).unwrap_err(),
        CliError::Needs("--setgroups", "--user")
    );
    assert!(matches!(
        p(&["-t", "1", "-U", "-r", "x"]),
        Err(CliError::Needs(..))
    ));
}

#[test]
fn bad_command_lines_are_named() {
    assert_eq!(
        p(&["--frobnicate", "x"]).unwrap_err(),
        CliError::UnknownOption(b"--frobnicate")
    );
    assert_eq!(p(&["-Z", "x"]).unwrap_err(), CliError::UnknownOption(b"-Z"));
    assert_eq!(
        p(&["--target"]).unwrap_err(),
        CliError::MissingValue("target")
    );
    assert_eq!(p(&["-t"]).unwrap_err(), CliError::MissingValue("target"));
    assert_eq!(
        p(&["--target=abc", "x"]).unwrap_err(),
        CliError::BadValue("target", b"abc")
    );
    assert_eq!(
        p(&["--pid=1", "x"]).unwrap_err(),
        CliError::UnexpectedValue("pid")
    );
    assert_eq!(p(&["-U"]).unwrap_err(), CliError::NoProgram);
    assert_eq!(p(&[]).unwrap_err(), CliError::NoProgram);
    assert_eq!(
        p(&["--oom-score-adj", "1001", "x"]).unwrap_err(),
        CliError::BadValue("oom-score-adj", b"1001")
    );
    assert_eq!(
        p(&["--join", "bogus=/x", "y"]).unwrap_err(),
        CliError::BadValue("join", b"bogus=/x")
    );
    assert_eq!(
        p(&["--remap-exit", "256", "y"]).unwrap_err(),
        CliError::BadValue("remap-exit", b"256")
    );
    assert_eq!(p(&["--help", "-U"]).unwrap_err(), CliError::Alone("--help"));
    let mut text = std::vec::Vec::new();
    CliError::UnknownOption(b"--frobnicate").describe(&mut text);
    assert_eq!(text, b"unrecognized option '--frobnicate'");
}

#[test]
fn standalone_actions() {
    assert_eq!(
        p(&["--syscalls"]).unwrap().action,
        Action::Syscalls(crate::syscalls::mode::ALL)
    );
    assert_eq!(
        p(&["--syscalls=init,console"]).unwrap().action,
        Action::Syscalls(crate::syscalls::mode::INIT | crate::syscalls::mode::CONSOLE)
    );
    assert!(p(&["--syscalls=bogus"]).is_err());
    // Merging profiles is for tools made for JSON (README: jq).
    assert!(p(&["--seccomp-profile=init", "--merge", "f.json"]).is_err());
    assert_eq!(
        p(&["--seccomp-profile"]).unwrap().action,
        Action::SeccompProfile(crate::syscalls::mode::ALL)
    );
    assert_eq!(p(&["-h"]).unwrap().action, Action::Help);
    assert_eq!(p(&["-V"]).unwrap().action, Action::Version);
}

#[test]
fn init_options() {
    let c = p(&[
        "--init-group",
        "--remap-exit",
        "143",
        "--remap-exit=2",
        "--pdeathsig",
        "TERM",
        "--kill-child",
        "app",
    ])
    .unwrap();
    assert!(c.init && c.init_group);
    assert_eq!(&c.remap_exit[..], &[143, 2]);
    assert_eq!(c.pdeathsig, Some(15));
    assert_eq!(c.kill_child, Some(9));
    assert_eq!(
        p(&["--kill-child=SIGUSR1", "app"]).unwrap().kill_child,
        Some(10)
    );
    assert!(
        p(&["--init", "--no-new-privs", "--console-socket", "/s", "app"])
            .unwrap()
            .no_new_privs
    );
}

#[test]
fn joins_and_time() {
    let c = p(&[
        "--join",
        "net=/proc/1/ns/net",
        "--join=uts=/x",
        "-T",
        "--monotonic",
        "-5",
        "--boottime=7",
        "a",
    ])
    .unwrap();
    let joined: std::vec::Vec<(NsType, &[u8])> = c.joined().collect();
    assert_eq!(
        joined,
        [
            (NsType::Net, &b"/proc/1/ns/net"[..]),
            (NsType::Uts, &b"/x"[..])
        ]
    );
    assert_eq!((c.monotonic, c.boottime), (Some(-5), Some(7)));
    assert_eq!(c.create, g::CLONE_NEWTIME);
    assert!(matches!(
        p(&["--join", "net=/a", "--join", "net=/b", "x"]),
        Err(CliError::Twice(_))
    ));
}
