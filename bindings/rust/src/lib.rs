// SPDX-License-Identifier: LGPL-2.1-or-later
//! gupnw ("GUP, no wait") from Rust: ask the kernel, per page of a range,
//! whether touching it now would make you wait for I/O - without waiting -
//! and, with the `tokio` feature, `await` the pages instead of blocking a
//! worker thread on a page fault.
//!
//! The kernel side is the `gupnw.ko` module and its device `/dev/gupnw`
//! (see the project's README). This crate talks to the device directly; it
//! needs neither libgupnw nor liburing.
//!
//! # Probing your own memory
//!
//! ```no_run
//! use gupnw::{Flags, Gupnw, State};
//!
//! # fn main() -> std::io::Result<()> {
//! let g = Gupnw::open()?;
//! let buf = vec![1u8; 1 << 20];
//! let mut states = vec![0u8; g.pages(buf.as_ptr() as usize, buf.len())];
//! let counts = g.probe_slice(&buf, Flags::NOFAULT, Some(&mut states))?;
//! println!("{} resident, {} cold", counts.resident, counts.cold);
//! assert!(states.iter().all(|&b| State::from_byte(b) == Some(State::Resident)));
//! # Ok(()) }
//! ```
//!
//! # Awaiting pages from tokio
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # fn main() -> std::io::Result<()> {
//! let rt = tokio::runtime::Runtime::new()?;
//! rt.block_on(async {
//!     let g = gupnw::AsyncGupnw::open()?;
//!     let file = std::fs::File::open("/var/lib/big.db")?;
//!     # let map: &[u8] = &[];
//!     // `map` is a mapping of the file (memmap2 or libc::mmap).
//!     g.ready(&map[4096..8192]).await?; // returns at once if present
//!     let record = &map[4096..8192]; // no page fault waits for I/O here
//!     # let _ = (file, record);
//!     Ok(())
//! })
//! # }
//! # #[cfg(not(feature = "tokio"))] fn main() {}
//! ```
//!
//! Errors are [`std::io::Error`]s carrying the kernel's errno: `EINVAL`
//! ([`std::io::ErrorKind::InvalidInput`]) for a misaligned address or unknown
//! flags, `EPERM`/`EACCES` ([`std::io::ErrorKind::PermissionDenied`]) without
//! ptrace rights over a target, `ENOENT` ([`std::io::ErrorKind::NotFound`])
//! without the device, `ESRCH` for a process that does not exist.
//!
//! # Soundness
//!
//! Safe code cannot make the kernel write to memory it does not borrow
//! mutably: a probe writes only into the `&mut` buffers it is given, and
//! the crate's io_uring, whose requests name memory for the kernel, is
//! private (only the ABI's structures are public, in [`sys`]). This does
//! not compile:
//!
//! ```compile_fail
//! use gupnw::ring::{io_uring_sqe, Ring};
//! let mut ring = Ring::new(8).unwrap();
//! ring.submit(&io_uring_sqe::default()).unwrap();
//! ```

#![warn(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::BitOr;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::{AsRawFd, RawFd};
use std::path::Path;

pub mod sys;

#[cfg(feature = "tokio")]
mod ready;
#[cfg(feature = "tokio")]
mod ring;
#[cfg(feature = "tokio")]
pub use ready::{AsyncGupnw, Ready, ReadyPath};

/// What touching one page would cost, as a probe reports it. A newer
/// module may report more states: match with a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// `R`: mapped and present; no fault taken.
    Resident,
    /// `F`: made present by a fault that needed no I/O.
    Faulted,
    /// `W`: needs I/O, which is under way; the probe did not wait.
    Retry,
    /// `.`: no mapping covers the address.
    Unmapped,
    /// `E`: mapped, but the kernel refused it (PROT_NONE, past EOF, ...).
    Error,
    /// `N` (report-only): not mapped now, in memory: a touch needs no I/O.
    NotPresent,
    /// `C`: a touch would read it from storage, and nothing was started.
    Cold,
}

impl State {
    /// The state of a state byte, `None` for a byte that is no state.
    pub fn from_byte(b: u8) -> Option<State> {
        Some(match b {
            sys::STATE_RESIDENT => State::Resident,
            sys::STATE_FAULTED => State::Faulted,
            sys::STATE_RETRY => State::Retry,
            sys::STATE_UNMAPPED => State::Unmapped,
            sys::STATE_ERROR => State::Error,
            sys::STATE_NOTPRESENT => State::NotPresent,
            sys::STATE_COLD => State::Cold,
            _ => return None,
        })
    }

    /// The letter of the ABI (`b'R'`, `b'F'`, ...).
    pub fn as_byte(self) -> u8 {
        match self {
            State::Resident => sys::STATE_RESIDENT,
            State::Faulted => sys::STATE_FAULTED,
            State::Retry => sys::STATE_RETRY,
            State::Unmapped => sys::STATE_UNMAPPED,
            State::Error => sys::STATE_ERROR,
            State::NotPresent => sys::STATE_NOTPRESENT,
            State::Cold => sys::STATE_COLD,
        }
    }

    /// Whether a touch costs no I/O wait (`R`, `F`, `N`).
    pub fn is_present(self) -> bool {
        matches!(self, State::Resident | State::Faulted | State::NotPresent)
    }
}

/// Probe flags; combine with `|`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(u32);

impl Flags {
    /// The default mode (NOWAIT): fault in what needs no I/O, start the I/O
    /// of the rest, never wait.
    pub const NOWAIT: Flags = Flags(0);
    /// Probe for write access (breaks copy-on-write of private pages).
    pub const WRITE: Flags = Flags(sys::PROBE_WRITE);
    /// Report only: no fault, no I/O, nothing changes.
    pub const NOFAULT: Flags = Flags(sys::PROBE_NOFAULT);
    /// Ordinary blocking GUP: waits for the I/O (a baseline, or a thread
    /// that may block).
    pub const WAIT: Flags = Flags(sys::PROBE_WAIT);

    /// The raw `GUPNW_PROBE_*` bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Flags from raw bits, unchecked: the kernel refuses unknown ones with
    /// `EINVAL` (this is how a test reaches that error).
    pub fn from_bits_unchecked(bits: u32) -> Flags {
        Flags(bits)
    }

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// How many pages of a probed range are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Pages decided (and written to the states buffer), from the start.
    pub done: u64,
    /// `R`
    pub resident: u64,
    /// `F`
    pub faulted: u64,
    /// `W`
    pub retry: u64,
    /// `.`
    pub unmapped: u64,
    /// `E`
    pub error: u64,
    /// `N`
    pub notpresent: u64,
    /// `C`
    pub cold: u64,
    /// Pages whose read this probe started itself.
    pub io_started: u64,
    /// Pages handed to the module's fault-in worker.
    pub async_faults: u64,
}

impl Counts {
    fn from_args(a: &sys::gupnw_probe_args) -> Counts {
        Counts {
            done: a.done,
            resident: a.nr_resident,
            faulted: a.nr_faulted,
            retry: a.nr_retry,
            unmapped: a.nr_unmapped,
            error: a.nr_error,
            notpresent: a.nr_notpresent,
            cold: a.nr_cold,
            io_started: a.io_started,
            async_faults: a.async_faults,
        }
    }

    /// Pages a touch reaches without waiting for I/O (`R`, `F`, `N`).
    pub fn present(&self) -> u64 {
        self.resident + self.faulted + self.notpresent
    }
}

/// One run of pages in the same state ([`Gupnw::probe_extents`]); the ABI's
/// `struct gupnw_probe_extent`, which the kernel writes in place.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    /// First address of the run.
    pub start: u64,
    /// Pages in the run.
    pub pages: u64,
    state: u32,
    reserved: u32,
}

impl Extent {
    /// The state of the run's pages.
    pub fn state(&self) -> Option<State> {
        u8::try_from(self.state).ok().and_then(State::from_byte)
    }
}

/// What the running module is and supports (`GUPNW_IOC_GET_INFO`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModuleInfo {
    /// `GUPNW_ABI_VERSION` of the module.
    pub abi_version: u32,
    /// `GUPNW_FEATURE_*` bits ([`sys::FEATURE_URING_CMD`], ...).
    pub features: u64,
    /// `GUPNW_PROBE_*` flags the module accepts.
    pub probe_flags: u64,
    /// The kernel's page size.
    pub page_size: u32,
    /// Kernel memory one probe call allocates at most.
    pub probe_kmem: u32,
    /// Pages handled per mmap_lock hold.
    pub max_chunk_pages: u64,
    /// Module version, e.g. "0.4.0".
    pub version: String,
    /// Pages of read I/O one probe may start.
    pub max_io_pages: u64,
    /// Global cap of the fault-in worker.
    pub max_async_faults: u64,
    /// Pages in the fault-in worker now.
    pub async_faults_queued: u64,
}

impl ModuleInfo {
    /// Whether the module has every feature bit of `f`.
    pub fn has(&self, f: u64) -> bool {
        self.features & f == f
    }
}

/// An open handle on `/dev/gupnw`.
#[derive(Debug)]
pub struct Gupnw {
    file: File,
    page_size: usize,
}

/// Another process's address space, opened through `/proc/PID/mem` (where
/// the kernel checks ptrace-attach rights). Holding it pins that address
/// space: a recycled pid cannot be probed by mistake.
#[derive(Debug)]
pub struct PidMem {
    file: File,
    pid: i32,
}

impl PidMem {
    /// Open `/proc/PID/mem`, for writing if `write` (what a
    /// [`Flags::WRITE`] probe needs).
    ///
    /// # Errors
    ///
    /// `ESRCH` for a process that does not exist (or a pid <= 0);
    /// `EACCES`/`EPERM` without ptrace-attach rights.
    pub fn open(pid: i32, write: bool) -> io::Result<PidMem> {
        if pid <= 0 {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(write)
            .open(format!("/proc/{}/mem", pid))
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => io::Error::from_raw_os_error(libc::ESRCH),
                _ => e,
            })?;
        Ok(PidMem { file, pid })
    }

    /// The pid it was opened for.
    pub fn pid(&self) -> i32 {
        self.pid
    }
}

impl AsRawFd for PidMem {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no memory effects.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

fn eoverflow() -> io::Error {
    io::Error::from_raw_os_error(libc::EOVERFLOW)
}

impl Gupnw {
    /// Open `$GUPNW_DEVICE` if set, else `/dev/gupnw`.
    ///
    /// # Errors
    ///
    /// Those of [`Gupnw::open_path`].
    pub fn open() -> io::Result<Gupnw> {
        match std::env::var_os("GUPNW_DEVICE") {
            Some(p) if !p.is_empty() => Gupnw::open_path(p),
            _ => Gupnw::open_path(sys::DEVICE_PATH),
        }
    }

    /// Open the device at `path`.
    ///
    /// # Errors
    ///
    /// Those of `open(2)`: [`std::io::ErrorKind::NotFound`] without the
    /// module, [`std::io::ErrorKind::PermissionDenied`] without access.
    pub fn open_path<P: AsRef<Path>>(path: P) -> io::Result<Gupnw> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)?;
        Ok(Gupnw {
            file,
            page_size: page_size(),
        })
    }

    /// The page size probes count in.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Pages of `[addr, addr + len)` once `addr` is rounded down to a page:
    /// the length a states buffer needs for [`Gupnw::probe_slice`]. Zero for
    /// `len == 0`. A range past the end of the address space is counted up
    /// to its end (a probe of it fails with `EOVERFLOW`).
    pub fn pages(&self, addr: usize, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        let ps = self.page_size;
        let start = addr & !(ps - 1);
        let end = addr.saturating_add(len);
        // Rounded up without overflow, even for end == usize::MAX.
        let span = end - start;
        span / ps + usize::from(span % ps != 0)
    }

    /// Pages of a probe of `len` bytes; `EOVERFLOW` if rounding `len` up
    /// to a page does not fit (as the module says).
    fn probe_pages(&self, len: usize) -> io::Result<u64> {
        let ps = self.page_size;
        if len > usize::MAX - (ps - 1) {
            return Err(eoverflow());
        }
        Ok(((len + ps - 1) / ps) as u64)
    }

    /// What the module is and supports.
    ///
    /// # Errors
    ///
    /// The `ioctl(2)`'s: `ENOTTY` if the device is no gupnw.
    pub fn info(&self) -> io::Result<ModuleInfo> {
        let mut ki = sys::gupnw_info {
            size: std::mem::size_of::<sys::gupnw_info>() as u32,
            ..Default::default()
        };
        self.ioctl(sys::IOC_GET_INFO, &mut ki as *mut _ as *mut libc::c_void)?;
        let n = ki.version.iter().position(|&b| b == 0).unwrap_or(32);
        Ok(ModuleInfo {
            abi_version: ki.abi_version,
            features: ki.features,
            probe_flags: ki.probe_flags,
            page_size: ki.page_size,
            probe_kmem: ki.probe_kmem,
            max_chunk_pages: ki.max_chunk_pages,
            version: String::from_utf8_lossy(&ki.version[..n]).into_owned(),
            max_io_pages: ki.max_io_pages,
            max_async_faults: ki.max_async_faults,
            async_faults_queued: ki.async_faults_queued,
        })
    }

    fn ioctl(&self, cmd: u32, arg: *mut libc::c_void) -> io::Result<()> {
        // SAFETY: arg points to the struct cmd names, alive for the call.
        let r = unsafe { libc::ioctl(self.file.as_raw_fd(), cmd as _, arg) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Probe the pages under `mem`: its start is rounded down and its end
    /// up to whole pages. `states`, if given, gets one state byte per page
    /// ([`State::from_byte`]) and must hold [`Gupnw::pages`] bytes. An
    /// empty `mem` is zero pages: no probe is made.
    ///
    /// # Errors
    ///
    /// As [`Gupnw::probe`].
    pub fn probe_slice(
        &self,
        mem: &[u8],
        flags: Flags,
        states: Option<&mut [u8]>,
    ) -> io::Result<Counts> {
        if mem.is_empty() {
            return Ok(Counts::default());
        }
        let addr = mem.as_ptr() as usize;
        let start = addr & !(self.page_size - 1);
        let len = mem.len().checked_add(addr - start).ok_or_else(eoverflow)?;
        self.probe(start, len, flags, states)
    }

    /// Probe `[addr, addr + len)` of this process; `addr` must be page
    /// aligned, `len` is rounded up to whole pages. Any address may be
    /// probed (unmapped ones are `.`); nothing is read or written through it.
    ///
    /// # Errors
    ///
    /// The kernel's errno: `EINVAL` ([`std::io::ErrorKind::InvalidInput`])
    /// for a misaligned `addr`, unknown or conflicting flags, a range past
    /// the end of user space, or a `states` buffer shorter than the range's
    /// pages (checked here, before the call); `EOVERFLOW` if the range does
    /// not fit the address space; `EINTR` on a fatal signal.
    pub fn probe(
        &self,
        addr: usize,
        len: usize,
        flags: Flags,
        states: Option<&mut [u8]>,
    ) -> io::Result<Counts> {
        self.do_probe(addr as u64, len, flags, None, states)
    }

    /// Probe `[addr, addr + len)` of the process behind `target`.
    ///
    /// # Errors
    ///
    /// As [`Gupnw::probe`]; `EBADF` for a [`Flags::WRITE`] probe through a
    /// [`PidMem`] opened read-only, `ESRCH` once the process has exited.
    pub fn probe_pid(
        &self,
        target: &PidMem,
        addr: u64,
        len: usize,
        flags: Flags,
        states: Option<&mut [u8]>,
    ) -> io::Result<Counts> {
        self.do_probe(addr, len, flags, Some(target.as_raw_fd()), states)
    }

    fn args(
        &self,
        addr: u64,
        len: usize,
        flags: Flags,
        target: Option<RawFd>,
    ) -> sys::gupnw_probe_args {
        let mut a = sys::gupnw_probe_args {
            size: std::mem::size_of::<sys::gupnw_probe_args>() as u32,
            flags: flags.0,
            addr,
            len: len as u64,
            ..Default::default()
        };
        if let Some(fd) = target {
            a.flags |= sys::PROBE_TARGET_FD;
            a.target_fd = fd;
        }
        a
    }

    fn do_probe(
        &self,
        addr: u64,
        len: usize,
        flags: Flags,
        target: Option<RawFd>,
        states: Option<&mut [u8]>,
    ) -> io::Result<Counts> {
        let pages = self.probe_pages(len)?;
        let mut a = self.args(addr, len, flags, target);
        if let Some(s) = states {
            // The kernel writes one byte per page: never past the buffer.
            if (s.len() as u64) < pages {
                return Err(einval());
            }
            a.states = s.as_mut_ptr() as u64;
        }
        self.ioctl(sys::IOC_PROBE, &mut a as *mut _ as *mut libc::c_void)?;
        Ok(Counts::from_args(&a))
    }

    /// Probe `[addr, addr + len)` of this process as runs of one state:
    /// at most `ext.len()` of them, in address order. Returns the runs
    /// written and the counts of the pages they cover; if the buffer filled
    /// first, `counts.done` pages are covered: probe again from there.
    /// Cost follows what is mapped, not the size of the range.
    ///
    /// # Errors
    ///
    /// As [`Gupnw::probe`]; `EINVAL` for an empty `ext`.
    pub fn probe_extents(
        &self,
        addr: usize,
        len: usize,
        flags: Flags,
        ext: &mut [Extent],
    ) -> io::Result<(usize, Counts)> {
        if ext.is_empty() {
            return Err(einval());
        }
        self.probe_pages(len)?;
        let mut a = self.args(addr as u64, len, flags, None);
        a.flags |= sys::PROBE_EXTENTS;
        a.states = ext.as_mut_ptr() as u64;
        a.nr_extents = ext.len().min(u32::MAX as usize) as u32;
        self.ioctl(sys::IOC_PROBE, &mut a as *mut _ as *mut libc::c_void)?;
        Ok((a.nr_extents as usize, Counts::from_args(&a)))
    }
}

impl AsRawFd for Gupnw {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

// Handles are shared between threads (a probe is one ioctl on the fd).
const _: () = {
    fn send_sync<T: Send + Sync>() {}
    #[allow(dead_code)]
    fn check() {
        send_sync::<Gupnw>();
        send_sync::<PidMem>();
    }
};

// The library's runs are the ABI's, so the kernel writes them in place.
const _: () =
    assert!(std::mem::size_of::<Extent>() == std::mem::size_of::<sys::gupnw_probe_extent>());
