use super::*;

/// runc's Go encoders: Int32msg, Bytemsg (value + NUL, padded), Boolmsg (u32).
fn u32_attr(ty: u16, v: u32) -> Vec<u8> {
    let mut a = 8u16.to_ne_bytes().to_vec();
    a.extend_from_slice(&ty.to_ne_bytes());
    a.extend_from_slice(&v.to_ne_bytes());
    a
}

fn str_attr(ty: u16, v: &[u8]) -> Vec<u8> {
    let mut a = ((4 + v.len() + 1) as u16).to_ne_bytes().to_vec();
    a.extend_from_slice(&ty.to_ne_bytes());
    a.extend_from_slice(v);
    a.push(0);
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a
}

fn msg(attrs: &[u8]) -> Vec<u8> {
    let mut m = ((16 + attrs.len()) as u32).to_ne_bytes().to_vec();
    m.extend_from_slice(&INIT_MSG.to_ne_bytes());
    m.extend_from_slice(&1u16.to_ne_bytes());
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(attrs);
    m
}

#[test]
fn parses_what_runc_sends() {
    let mut a = u32_attr(CLONE_FLAGS_ATTR, NsType::User.flag() | NsType::Net.flag());
    a.extend(str_attr(
        NS_PATHS_ATTR,
        b"pid:/proc/1/ns/pid,uts:/proc/1/ns/uts",
    ));
    a.extend(str_attr(UIDMAP_ATTR, b"0 1000 1\n"));
    a.extend(u32_attr(SETGROUP_ATTR, 1));
    let m = msg(&a);
    let c = parse(&m).unwrap();
    assert_eq!(c.clone_flags, NsType::User.flag() | NsType::Net.flag());
    assert_eq!(c.ns_paths.len(), 2);
    assert_eq!(
        c.ns_paths[1],
        NsPath {
            ns: NsType::Uts,
            path: b"/proc/1/ns/uts"
        }
    );
    assert_eq!(c.uid_map, Some(&b"0 1000 1\n"[..]));
    assert!(c.setgroups);
}

#[test]
fn accepts_the_one_byte_bool_of_older_runc_and_a_missing_final_pad() {
    let mut a = vec![5, 0];
    a.extend_from_slice(&ROOTLESS_EUID_ATTR.to_ne_bytes());
    a.push(1);
    let m = msg(&a);
    assert!(parse(&m).unwrap().rootless_euid);
}

#[test]
fn each_malformation_has_its_own_error() {
    assert_eq!(
        parse(&msg(&u32_attr(999, 1))),
        Err(ParseError::UnknownAttr {
            offset: 16,
            ty: 999
        })
    );
    assert_eq!(
        parse(&msg(&[2, 0, 0, 0])),
        Err(ParseError::AttrTooShort { offset: 16, len: 2 })
    );
    assert_eq!(
        parse(&msg(&[9, 0, 0x91, 0x6a, 0, 0, 0, 0])),
        Err(ParseError::AttrPastEnd {
            offset: 16,
            len: 9,
            end: 24
        })
    );
    assert_eq!(
        parse(&msg(&[1, 0])),
        Err(ParseError::AttrTruncated { offset: 16 })
    );
    assert_eq!(
        parse(&msg(&u32_attr(SETGROUP_ATTR, 7))),
        Err(ParseError::BoolValue {
            ty: SETGROUP_ATTR,
            value: 7
        })
    );
    assert_eq!(
        parse(&msg(&str_attr(NS_PATHS_ATTR, b"foo:/x"))),
        Err(ParseError::NsPathUnknownType { index: 0 })
    );
    let mut m = msg(&[]);
    m[4] = 2;
    m[5] = 0;
    assert_eq!(parse(&m), Err(ParseError::ErrorMessage));
    let big = ((MAX_MESSAGE + 1) as u32).to_ne_bytes();
    let mut h = [0u8; 16];
    h[..4].copy_from_slice(&big);
    h[4..6].copy_from_slice(&INIT_MSG.to_ne_bytes());
    assert_eq!(
        message_length(&h),
        Err(ParseError::TooLarge {
            len: MAX_MESSAGE as u32 + 1,
            max: MAX_MESSAGE
        })
    );
    let mut text = Vec::new();
    ParseError::TooLarge {
        len: 200000,
        max: MAX_MESSAGE,
    }
    .describe(&mut text);
    assert_eq!(
        text,
        b"bootstrap message is 200000 bytes, larger than nsexec's 98304-byte buffer"
    );
}

/// A small deterministic generator, so the property runs without extra crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random valid configurations, encoded as runc's Go side encodes them,
/// parse back equal; every truncation of them is an error, never a panic.
#[test]
fn random_configs_round_trip_and_truncations_fail_cleanly() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let mut flags = 0;
        for t in NsType::ALL {
            if rng.below(2) == 1 {
                flags |= t.flag();
            }
        }
        let mut types: Vec<NsType> = NsType::ALL
            .into_iter()
            .filter(|_| rng.below(3) == 0)
            .collect();
        types.dedup();
        let paths: Vec<(NsType, String)> = types
            .iter()
            .map(|t| (*t, format!("/proc/{}/ns/{}", rng.below(100000), t.name())))
            .collect();
        let lines = 1 + rng.below(340) as usize;
        let map: String = (0..lines)
            .map(|i| format!("{} {} {}\n", i, 100000 + i, 1 + rng.below(5)))
            .collect();
        let oom = format!("{}", rng.below(2001) as i64 - 1000);
        let setgroups = rng.below(2) == 1;
        let rootless = rng.below(2) == 1;
        let time = if rng.below(2) == 1 {
            Some(format!(
                "monotonic {} {}\n",
                rng.below(1 << 40) as i64 - (1 << 39),
                rng.below(1_000_000_000)
            ))
        } else {
            None
        };
        let mut a = u32_attr(CLONE_FLAGS_ATTR, flags);
        if !paths.is_empty() {
            let joined: Vec<String> = paths
                .iter()
                .map(|(t, p)| format!("{}:{p}", t.name()))
                .collect();
            a.extend(str_attr(NS_PATHS_ATTR, joined.join(",").as_bytes()));
        }
        let user = flags & NsType::User.flag() != 0;
        if user {
            a.extend(str_attr(UIDMAP_ATTR, map.as_bytes()));
            a.extend(str_attr(GIDMAP_ATTR, map.as_bytes()));
            a.extend(str_attr(UIDMAPPATH_ATTR, b"/usr/bin/newuidmap"));
            a.extend(str_attr(GIDMAPPATH_ATTR, b"/usr/bin/newgidmap"));
            a.extend(u32_attr(SETGROUP_ATTR, setgroups as u32));
        }
        a.extend(str_attr(OOMSCOREADJ_ATTR, oom.as_bytes()));
        a.extend(u32_attr(ROOTLESS_EUID_ATTR, rootless as u32));
        if let Some(t) = &time {
            a.extend(str_attr(TIMENSOFFSET_ATTR, t.as_bytes()));
        }
        let m = msg(&a);
        let c = parse(&m).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.clone_flags, flags);
        let got: Vec<(NsType, &[u8])> = c.ns_paths.iter().map(|p| (p.ns, p.path)).collect();
        let want: Vec<(NsType, &[u8])> = paths.iter().map(|(t, p)| (*t, p.as_bytes())).collect();
        assert_eq!(got, want);
        assert_eq!(c.uid_map, user.then_some(map.as_bytes()));
        assert_eq!(c.gid_map, user.then_some(map.as_bytes()));
        assert_eq!(c.setgroups, user && setgroups);
        assert_eq!(c.rootless_euid, rootless);
        assert_eq!(c.oom_score_adj, Some(oom.as_bytes()));
        assert_eq!(c.time_offsets, time.as_ref().map(|t| t.as_bytes()));
        let cut = 16 + rng.below((m.len() - 16) as u64) as usize;
        if cut != m.len() {
            assert!(parse(&m[..cut]).is_err());
            let mut shortened = m[..cut].to_vec();
            shortened[..4].copy_from_slice(&(cut as u32).to_ne_bytes());
            let _ = parse(&shortened);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(12345);
    for _ in 0..20000 {
        let n = rng.below(200) as usize;
        let mut m: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        if m.len() >= 16 && rng.below(2) == 0 {
            m[..4].copy_from_slice(&(n as u32).to_ne_bytes());
            m[4..6].copy_from_slice(&INIT_MSG.to_ne_bytes());
        }
        let _ = parse(&m);
    }
}
