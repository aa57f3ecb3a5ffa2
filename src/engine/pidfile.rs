//! `--pid-file PATH`: a temporary file is made next to PATH before anything
//! else happens (so an unwritable place fails at once and leaves nothing),
//! and renamed over PATH once the pid is known, so a reader never sees a
//! partial file. Dropped without a commit, the temporary file goes away.

use crate::fmt::{Out, Text};
use crate::log::{Fail, OrFail};
use crate::sys::{self, OwnedFd, Pid};
use linux_raw_sys::general as g;

pub struct PidFile<'a> {
    /// The directory, opened where the caller stands: later namespace
    /// changes do not move where the file lands.
    dir: OwnedFd,
    name: &'a [u8],
    tmp: Text<300>,
    file: OwnedFd,
    committed: bool,
}

impl<'a> PidFile<'a> {
    pub fn create(path: &'a [u8]) -> Result<PidFile<'a>, Fail> {
        let (dir, name) = match path.iter().rposition(|&c| c == b'/') {
            Some(0) => (&b"/"[..], path.get(1..).unwrap_or(&[])),
            Some(i) => (
                path.get(..i).unwrap_or(&[]),
                path.get(i + 1..).unwrap_or(&[]),
            ),
            None => (&b"."[..], path),
        };
        let dir = sys::open(dir, g::O_PATH | g::O_DIRECTORY)
            .or_fail("open of the pid file's directory", dir)?;
        let mut tmp: Text<300> = Text::new();
        tmp.put(b".");
        tmp.put(name);
        tmp.put(b".nsexec-");
        tmp.int(i64::from(sys::getpid()));
        if tmp.overflowed() || name.len() > 255 {
            return Err(Fail::new("pid file name too long:").on(path));
        }
        let file = sys::openat(
            dir.raw(),
            tmp.bytes(),
            g::O_WRONLY | g::O_CREAT | g::O_EXCL,
            0o644,
        )
        .or_fail("cannot write the pid file", path)?;
        Ok(PidFile {
            dir,
            name,
            tmp,
            file,
            committed: false,
        })
    }

    /// Writes `pid` and puts the file in place.
    pub fn commit(mut self, pid: Pid) -> Result<(), Fail> {
        let mut t: Text<16> = Text::new();
        t.int(i64::from(pid));
        sys::write_all(self.file.raw(), t.bytes()).or_fail("write of", self.name)?;
        sys::rename_in(self.dir.raw(), self.tmp.bytes(), self.name)
            .or_fail("rename of the pid file to", self.name)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PidFile<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = sys::unlink_in(self.dir.raw(), self.tmp.bytes());
        }
    }
}
