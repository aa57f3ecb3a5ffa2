//! Process start-up: turns the kernel's initial stack into argument and
//! environment slices, refuses `AT_SECURE`, runs `crate::main`, exits.
#![allow(unsafe_code)]

use core::slice;
use core::sync::atomic::{AtomicUsize, Ordering};

/// A NUL-terminated string from the initial stack.
pub type CPtr = *const u8;

/// The process's arguments and environment, borrowed from the initial stack,
/// which lives until exit (but for a long-lived init's loop, which reads
/// neither and gives back the arrays' pages: `sys::shed_setup_pages`). Both
/// arrays are followed by a null pointer, so a tail of either can be handed
/// to `execve` as it is.
#[derive(Clone, Copy)]
pub struct Process {
    pub argv: &'static [CPtr],
    pub envp: &'static [CPtr],
}

impl Process {
    /// Argument `i` without its NUL.
    pub fn arg(&self, i: usize) -> Option<&'static [u8]> {
        self.argv.get(i).map(|&p| cstr(p))
    }

    /// `argv` with the null pointer that follows it, for `execve`.
    pub fn argv_terminated(&self) -> &'static [CPtr] {
        // SAFETY: the kernel ends argv with a null pointer (see `start`),
        // and the initial stack lives until exit.
        unsafe { slice::from_raw_parts(self.argv.as_ptr(), self.argv.len() + 1) }
    }

    /// The value of environment variable `name`, if set.
    pub fn env(&self, name: &[u8]) -> Option<&'static [u8]> {
        self.envp.iter().find_map(|&p| {
            let kv = cstr(p);
            let rest = kv.strip_prefix(name)?;
            rest.strip_prefix(b"=")
        })
    }
}

/// The bytes of a NUL-terminated string from the initial stack.
pub fn cstr(p: CPtr) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: `Process` only holds pointers the kernel placed on the initial
    // stack, each to a NUL-terminated string that lives until exit.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        slice::from_raw_parts(p, n)
    }
}

/// The page size the kernel gave in the auxiliary vector (4 KiB until read).
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(4096);

pub fn page_size() -> usize {
    PAGE_SIZE.load(Ordering::Relaxed)
}

/// The lowest address of the argument and environment strings the kernel
/// placed at the top of the stack (`/proc/PID/cmdline` and `environ` read
/// them there). Below them: the pointer arrays and the auxiliary vector
/// (which [`Process`] reads only while the program sets up), then frames.
/// 0 until `start` runs.
static ARG_STRINGS: AtomicUsize = AtomicUsize::new(0);

pub fn arg_strings() -> usize {
    ARG_STRINGS.load(Ordering::Relaxed)
}

/// The read-only part of nsexec's own image (code and constants), as the
/// linker script lays it out: page-aligned start, end within the last page.
#[cfg(not(test))]
pub fn image() -> (usize, usize) {
    unsafe extern "C" {
        static __ehdr_start: u8;
        static __nsexec_image_end: u8;
    }
    // Only the addresses are taken; nothing is read through them. The
    // linker defines __ehdr_start at the ELF header, the image's first byte.
    (
        (&raw const __ehdr_start) as usize,
        (&raw const __nsexec_image_end) as usize,
    )
}

#[cfg(not(test))]
const AT_NULL: usize = 0;
#[cfg(not(test))]
const AT_SECURE: usize = linux_raw_sys::auxvec::AT_SECURE as usize;
#[cfg(not(test))]
const AT_PAGESZ: usize = linux_raw_sys::auxvec::AT_PAGESZ as usize;

/// Entered from the arch `_start` with the address of `argc`.
///
/// # Safety
/// `sp` is the initial stack the kernel built: argc, argv[argc], NULL,
/// envp..., NULL, auxv pairs ending in AT_NULL.
#[cfg(not(test))]
pub unsafe extern "C" fn start(sp: *const usize) -> ! {
    // SAFETY: the layout is the one the function's contract describes.
    let (process, secure) = unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const CPtr;
        let envp = argv.add(argc + 1);
        let mut envc = 0;
        while !(*envp.add(envc)).is_null() {
            envc += 1;
        }
        let mut aux = envp.add(envc + 1) as *const usize;
        let mut secure = false;
        while *aux != AT_NULL {
            if *aux == AT_SECURE {
                secure = *aux.add(1) != 0;
            }
            if *aux == AT_PAGESZ {
                PAGE_SIZE.store(*aux.add(1), Ordering::Relaxed);
            }
            aux = aux.add(2);
        }
        let first = [argv, envp]
            .into_iter()
            .map(|a| *a as usize)
            .find(|&s| s != 0)
            .unwrap_or(sp as usize);
        ARG_STRINGS.store(first, Ordering::Relaxed);
        (
            Process {
                argv: slice::from_raw_parts(argv, argc),
                envp: slice::from_raw_parts(envp, envc),
            },
            secure,
        )
    };
    if secure {
        // Installed setuid, setgid or with file capabilities: the environment
        // and descriptors came from someone less privileged than we are.
        let _ = crate::sys::write_all(
            2,
            b"nsexec: refusing to run with AT_SECURE set (setuid, setgid or file capabilities)\n",
        );
        crate::sys::exit(1);
    }
    crate::sys::exit(crate::main(&process))
}

#[cfg(all(not(test), not(debug_assertions), not(feature = "selftest")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Release builds must contain no reachable panic. This symbol exists
    // nowhere, so if optimisation leaves a panic path, linking fails.
    unsafe extern "C" {
        fn nsexec_release_build_has_a_reachable_panic() -> !;
    }
    // SAFETY: never linked; a build that reaches here does not link.
    unsafe { nsexec_release_build_has_a_reachable_panic() }
}

// Debug builds and the selftest variant (a test tool, not the product) may
// keep panic paths; they report and exit.
#[cfg(all(not(test), any(debug_assertions, feature = "selftest")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let _ = crate::sys::write_all(
        2,
        b"nsexec: internal error (panic in a debug or selftest build)\n",
    );
    crate::sys::exit(125)
}
