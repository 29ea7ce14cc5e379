// SPDX-License-Identifier: LGPL-2.1-or-later
//! The async half: `ready(range).await` for tokio.
//!
//! A NOWAIT probe first: if every page is present the call returns at once
//! (the common, hot case costs one ioctl). Otherwise a
//! `GUPNW_URING_CMD_READY` goes to an io_uring; the ring's eventfd,
//! registered with tokio's reactor through `AsyncFd`, wakes the task when
//! its completion is there. No tokio worker thread ever blocks on a page.
//! Where the module offers it (`GUPNW_FEATURE_READY_NOWORKER`) the READY
//! waits for a file's reads with no thread at all, and goes on in the
//! submitting thread's task work when they end; else, and for what no
//! such wait covers (swapped-out memory), an io_uring worker thread waits.
//!
//! The argument block the kernel writes back into lives in the ring's
//! in-flight table, not in the future: a future dropped before its
//! completion asks the kernel to cancel (`GUPNW_URING_CMD_CANCEL` and
//! `IORING_OP_ASYNC_CANCEL`: the first reaches a READY waiting without a
//! worker, the second one with a worker) and leaves the block to the
//! table, which frees it when the completion arrives. A ring dropped with
//! such blocks left is drained by a thread of its own, so that no dropping
//! thread waits for the kernel.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ring::Ring;
use crate::sys::uring::{self as ring, io_uring_sqe};
use crate::{sys, Flags, Gupnw};

/// How [`AsyncGupnw::ready`] got its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadyPath {
    /// The NOWAIT probe found nothing to wait for: no await at all.
    Present,
    /// `GUPNW_URING_CMD_READY` on the io_uring.
    Uring,
    /// A `WAIT` probe on tokio's blocking pool (no io_uring).
    Blocking,
}

/// The outcome of [`AsyncGupnw::ready`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ready {
    /// Pages of the range.
    pub pages: u64,
    /// Pages present now: a touch waits for no I/O.
    pub present: u64,
    /// Pages that never will be (I/O error, past the end of the file,
    /// PROT_NONE, ...): touching them faults.
    pub error: u64,
    /// Pages with no mapping.
    pub unmapped: u64,
    /// How the pages were waited for.
    pub path: ReadyPath,
}

// user_data of the cancel requests; a READY's user_data is its slot id.
const CANCEL_TAG: u64 = 1 << 63;

enum Slot {
    Waiting(Option<Waker>),
    Done(i32),
    /// Its future was dropped: freed when the completion arrives.
    Abandoned,
}

struct Entry {
    // Boxed: the kernel holds its address until the completion.
    args: Box<sys::gupnw_probe_args>,
    slot: Slot,
    // One of Shared::slots, given back when the entry leaves the table
    // (its completion taken, also for a dropped future).
    _permit: OwnedSemaphorePermit,
}

struct Inner {
    ring: Ring,
    /// The device the READYs go to, for their cancels.
    g: Arc<Gupnw>,
    /// READYs wait without a worker (GUPNW_URING_READY_NOWORKER).
    noworker: bool,
    next_id: u64,
    cancelled: u64,
    /// READYs io-wq cancelled on its own, sent again ([`AsyncGupnw::retried`]).
    retried: u64,
    inflight: HashMap<u64, Entry>,
    /// Abandoned READYs whose cancel could not be submitted yet: retried
    /// whenever the ring is next used (and covered by the teardown's
    /// cancel-any).
    uncancelled: Vec<u64>,
}

impl Inner {
    /// Take every completion there is; the wakers of the READYs that
    /// finished go to `wake`, to be called once the lock is released.
    fn reap(&mut self, wake: &mut Vec<Waker>) {
        self.retry_cancels();
        let Inner {
            ring,
            inflight,
            cancelled,
            ..
        } = self;
        ring.reap(|cqe| {
            if cqe.user_data & CANCEL_TAG != 0 {
                return;
            }
            if let Some(e) = inflight.get_mut(&cqe.user_data) {
                match std::mem::replace(&mut e.slot, Slot::Done(cqe.res)) {
                    Slot::Waiting(Some(w)) => wake.push(w),
                    Slot::Abandoned => {
                        if cqe.res == -libc::ECANCELED {
                            *cancelled += 1;
                        }
                        inflight.remove(&cqe.user_data);
                    }
                    _ => {}
                }
            }
        });
    }

    /// Ask the module to end a READY waiting without a worker: by its
    /// argument block, which only that READY uses.
    fn submit_gupnw_cancel(&mut self, id: u64) -> io::Result<()> {
        let args = match self.inflight.get(&id) {
            Some(e) => &*e.args as *const sys::gupnw_probe_args as u64,
            None => return Ok(()),
        };
        let cmd = sys::gupnw_uring_cmd {
            args,
            ..Default::default()
        };
        let sqe = io_uring_sqe {
            opcode: ring::IORING_OP_URING_CMD,
            fd: self.g.as_raw_fd(),
            off: sys::URING_CMD_CANCEL as u64,
            user_data: CANCEL_TAG | id,
            cmd: cmd.words(),
            ..Default::default()
        };
        // SAFETY: a cancel writes nothing; its args is only a key.
        unsafe { self.ring.submit(&sqe) }
    }

    /// Ask the kernel to end one READY (`cancel_flags` 0: by user_data,
    /// wherever it waits), or every request of the ring (`ALL | ANY`:
    /// those with a worker).
    fn submit_cancel(&mut self, id: u64, cancel_flags: u32) -> io::Result<()> {
        if cancel_flags == 0 && self.noworker {
            self.submit_gupnw_cancel(id)?;
        }
        let sqe = io_uring_sqe {
            opcode: ring::IORING_OP_ASYNC_CANCEL,
            fd: -1,
            addr: id,
            op_flags: cancel_flags,
            user_data: CANCEL_TAG | id,
            ..Default::default()
        };
        // SAFETY: a cancel names no memory (addr is a user_data key).
        unsafe { self.ring.submit(&sqe) }
    }

    fn retry_cancels(&mut self) {
        if self.uncancelled.is_empty() {
            return;
        }
        let mut ids = std::mem::take(&mut self.uncancelled);
        ids.retain(|id| {
            matches!(
                self.inflight.get(id).map(|e| &e.slot),
                Some(Slot::Abandoned)
            ) && self.submit_cancel(*id, 0).is_err()
        });
        self.uncancelled = ids;
    }

    // Whoever waits on the eventfd may have gone: let the others re-arm it.
    fn wake_waiters(&mut self, wake: &mut Vec<Waker>) {
        for e in self.inflight.values_mut() {
            if let Slot::Waiting(w) = &mut e.slot {
                if let Some(w) = w.take() {
                    wake.push(w);
                }
            }
        }
    }
}

struct Shared {
    // Taken out by Drop (only there): the teardown may outlive Shared.
    inner: ManuallyDrop<Mutex<Inner>>,
    efd: AsyncFd<OwnedFd>,
    /// READYs that may be in flight at once: at most half the completion
    /// queue, so that cancels and READYs never overflow it. Past that, a
    /// `ready()` awaits a slot (in order), never a thread.
    slots: Arc<Semaphore>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` under the ring's lock; the wakers it collects are called
    /// after the lock is released (a waker may poll or drop a future of
    /// this ring inline, which takes the lock again).
    fn with<R>(&self, f: impl FnOnce(&mut Inner, &mut Vec<Waker>) -> R) -> R {
        let mut wake = Vec::new();
        let r = f(&mut self.lock(), &mut wake);
        for w in wake {
            w.wake();
        }
        r
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: taken once, here; self.inner is not used after this.
        let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        let mut inner = inner.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut wake = Vec::new();
        inner.reap(&mut wake);
        drop(wake); // only abandoned READYs are left: no future waits
        if inner.inflight.is_empty() {
            return; // the ring closes here
        }
        // Abandoned READYs, cancelled already (a live future holds an Arc).
        // Their blocks must outlive their completions, which may take
        // seconds (a cancel is seen at the next batch boundary) or, if a
        // cancel could not be submitted, the whole READY: never wait on
        // this thread (often a runtime worker). One cancel of everything,
        // then a thread of our own waits, frees the blocks, closes the ring.
        let mut cancel_sent = inner
            .submit_cancel(
                0,
                ring::IORING_ASYNC_CANCEL_ALL | ring::IORING_ASYNC_CANCEL_ANY,
            )
            .is_ok();
        if inner.noworker {
            // Those waiting without a worker, one by one; one not reached
            // runs to its end (or to the ring's close).
            let ids: Vec<u64> = inner.inflight.keys().copied().collect();
            for id in ids {
                cancel_sent &= inner.submit_gupnw_cancel(id).is_ok();
            }
        }
        if cancel_sent {
            inner.uncancelled.clear();
        }
        let drain = Drain(Some(inner));
        // If no thread can be started, the closure and Drain with it are
        // dropped: the blocks (and the ring) leak, never freed too early.
        let _ = std::thread::Builder::new()
            .name("gupnw-drain".into())
            .spawn(move || drain.run(cancel_sent));
    }
}

/// The rest of a ring torn down with READYs in flight. Dropped without
/// [`Drain::run`] having finished, it leaks them.
struct Drain(Option<Inner>);

impl Drain {
    fn run(mut self, mut cancel_sent: bool) {
        let inner = self.0.as_mut().expect("drain");
        let mut backoff = Duration::from_millis(1);
        loop {
            let mut wake = Vec::new();
            inner.reap(&mut wake);
            if inner.inflight.is_empty() {
                break;
            }
            if !cancel_sent {
                let any = ring::IORING_ASYNC_CANCEL_ALL | ring::IORING_ASYNC_CANCEL_ANY;
                if inner.submit_cancel(0, any).is_err() {
                    // Retried until it is submitted or the READYs end.
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
                cancel_sent = true;
            }
            if inner.ring.wait_one().is_err() {
                return; // leak rather than free what the kernel may write
            }
        }
        drop(self.0.take());
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
            std::mem::forget(inner);
        }
    }
}

/// `/dev/gupnw` for tokio: [`AsyncGupnw::ready`] awaits pages without
/// blocking a worker thread. Cheap to clone (one ring per
/// [`AsyncGupnw::open`], shared by the clones); create it inside the tokio
/// runtime that will poll its futures.
///
/// Dropping the last clone (or the last future of a dropped handle) with
/// READYs still in flight does not wait for them: it asks the kernel to
/// cancel them all and leaves the wait, and the ring, to a short-lived
/// thread of its own (`gupnw-drain`).
#[derive(Clone)]
pub struct AsyncGupnw {
    g: Arc<Gupnw>,
    uring: Option<Arc<Shared>>,
}

impl std::fmt::Debug for AsyncGupnw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncGupnw")
            .field("g", &self.g)
            .field("uring", &self.uring.is_some())
            .finish()
    }
}

/// tokio's `AsyncFd::new`, except that a runtime without the IO driver
/// (built without `enable_io()`) is an error, not a panic. tokio 1.x has
/// no way to ask first; its panic hook still prints the message.
fn async_fd(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| AsyncFd::new(fd))).unwrap_or_else(
        |_| {
            Err(io::Error::new(
                io::ErrorKind::Other,
                "gupnw: the tokio runtime has no IO driver (enable_io)",
            ))
        },
    )
}

// Submissions of one ready() at most: the first and two after io-wq
// cancelled it on its own (AsyncGupnw::retried()).
const READY_TRIES: u32 = 3;

// READYs in flight at most: half of the ring's 512 completion entries.
const MAX_IN_FLIGHT: usize = 256;

fn setup_uring(g: &Arc<Gupnw>, max_in_flight: usize) -> io::Result<Shared> {
    let info = g.info()?;
    if !info.has(sys::FEATURE_URING_CMD) {
        return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
    }
    let ring = Ring::new(256)?;
    let max_in_flight = max_in_flight.min(ring.cq_entries() as usize / 2);
    // SAFETY: eventfd() has no memory effects; the fd is checked.
    let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if efd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd we own.
    let efd = unsafe { OwnedFd::from_raw_fd(efd) };
    ring.register_eventfd(efd.as_raw_fd())?;
    Ok(Shared {
        efd: async_fd(efd)?,
        slots: Arc::new(Semaphore::new(max_in_flight)),
        inner: ManuallyDrop::new(Mutex::new(Inner {
            ring,
            g: g.clone(),
            noworker: info.has(sys::FEATURE_READY_NOWORKER),
            next_id: 1,
            cancelled: 0,
            retried: 0,
            inflight: HashMap::new(),
            uncancelled: Vec::new(),
        })),
    })
}

fn no_runtime() -> io::Error {
    io::Error::new(
        io::ErrorKind::Other,
        "gupnw: AsyncGupnw must be created inside a tokio runtime",
    )
}

fn overflow() -> io::Error {
    io::Error::from_raw_os_error(libc::EOVERFLOW)
}

impl AsyncGupnw {
    /// Open the device ([`Gupnw::open`]) and set up its io_uring.
    ///
    /// # Errors
    ///
    /// Those of [`Gupnw::open`] and [`AsyncGupnw::new`].
    pub fn open() -> io::Result<AsyncGupnw> {
        AsyncGupnw::new(Gupnw::open()?)
    }

    /// Use `g`, with an io_uring if the kernel and the module offer one
    /// (`IORING_OP_URING_CMD`, Linux 6.0; the module's
    /// `GUPNW_FEATURE_URING_CMD`) and the runtime has tokio's IO driver,
    /// else with the blocking-pool fallback.
    ///
    /// # Errors
    ///
    /// [`std::io::ErrorKind::Other`] outside a tokio runtime. A ring that
    /// cannot be set up is no error: the fallback is used. (On a runtime
    /// without the IO driver, tokio reports that as a panic, which is
    /// caught: its message is printed, and in a `panic = "abort"` build it
    /// aborts; use [`AsyncGupnw::without_uring`] there.)
    pub fn new(g: Gupnw) -> io::Result<AsyncGupnw> {
        AsyncGupnw::with_max_in_flight(g, MAX_IN_FLIGHT)
    }

    /// [`AsyncGupnw::new`], with at most `n` READYs in flight on the ring
    /// at once (256 at most, the default): a `ready()` past that awaits a
    /// slot, first come first served, without taking a thread. Waiting
    /// for a slot is an ordinary await: dropping the future leaves the
    /// queue. A small `n` keeps a disk's queue short. A READY that needs
    /// an io_uring worker (an old module, swapped-out memory) holds one
    /// thread of the kernel's while it waits; one waiting for a file's
    /// reads without a worker ([`AsyncGupnw::waits_without_worker`]) none.
    ///
    /// # Errors
    ///
    /// [`std::io::ErrorKind::InvalidInput`] if `n` is 0, and those of
    /// [`AsyncGupnw::new`].
    pub fn with_max_in_flight(g: Gupnw, n: usize) -> io::Result<AsyncGupnw> {
        if n == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        tokio::runtime::Handle::try_current().map_err(|_| no_runtime())?;
        let g = Arc::new(g);
        let uring = setup_uring(&g, n).ok().map(Arc::new);
        Ok(AsyncGupnw { g, uring })
    }

    /// Use `g` without io_uring: every wait is a `WAIT` probe on tokio's
    /// blocking pool (what [`AsyncGupnw::new`] falls back to).
    ///
    /// # Errors
    ///
    /// [`std::io::ErrorKind::Other`] outside a tokio runtime.
    pub fn without_uring(g: Gupnw) -> io::Result<AsyncGupnw> {
        tokio::runtime::Handle::try_current().map_err(|_| no_runtime())?;
        Ok(AsyncGupnw {
            g: Arc::new(g),
            uring: None,
        })
    }

    /// The synchronous handle, for probes.
    pub fn handle(&self) -> &Gupnw {
        &self.g
    }

    /// Whether waits go through io_uring (else the blocking pool).
    pub fn uses_uring(&self) -> bool {
        self.uring.is_some()
    }

    /// Whether READYs wait for a file's reads without any thread
    /// (`GUPNW_FEATURE_READY_NOWORKER`: the module's io_uring READY goes on
    /// in the submitting thread's task work when the reads end).
    pub fn waits_without_worker(&self) -> bool {
        match &self.uring {
            Some(sh) => sh.with(|inner, _| inner.noworker),
            None => false,
        }
    }

    /// Requests submitted to the ring whose completion has not been taken
    /// yet, dropped (cancelled) ones included.
    pub fn in_flight(&self) -> usize {
        match &self.uring {
            Some(sh) => sh.with(|inner, wake| {
                inner.reap(wake);
                inner.inflight.len()
            }),
            None => 0,
        }
    }

    /// Dropped [`AsyncGupnw::ready`]s the kernel ended with `ECANCELED`
    /// (a dropped one whose pages arrived first is not counted).
    pub fn cancelled(&self) -> u64 {
        match &self.uring {
            Some(sh) => sh.with(|inner, wake| {
                inner.reap(wake);
                inner.cancelled
            }),
            None => 0,
        }
    }

    /// [`AsyncGupnw::ready`]s whose READY io-wq ended with `ECANCELED`
    /// although nobody dropped them, sent again. io_uring's workers belong
    /// to the thread that submitted: when that thread exits, what it
    /// submitted is cancelled (always on 6.x, sometimes on 7.x). A
    /// `ready()` first polled on a thread that then exits (`block_on` on a
    /// thread of its own) sends its READY again, twice at most.
    pub fn retried(&self) -> u64 {
        match &self.uring {
            Some(sh) => sh.with(|inner, _| inner.retried),
            None => 0,
        }
    }

    /// Wait until every page under `mem` is present, without blocking the
    /// calling thread: a touch of `mem` afterwards waits for no I/O (while
    /// the kernel keeps the pages; under memory pressure it may take them
    /// back). Returns at once when a NOWAIT probe finds them present; an
    /// empty `mem` is zero pages, with no probe.
    ///
    /// On the io_uring path, dropping the future cancels the wait; with
    /// as many READYs in flight as the handle allows (256, or
    /// [`AsyncGupnw::with_max_in_flight`]), it first awaits a slot. On the
    /// blocking-pool fallback (no ring) dropping it does not cancel: the
    /// pool's thread finishes its `WAIT` probe, reading the pages in, and
    /// its result is discarded.
    ///
    /// # Errors
    ///
    /// Those of [`Gupnw::probe`] (the NOWAIT probe) and of the wait, with
    /// the kernel's errno.
    pub async fn ready(&self, mem: &[u8]) -> io::Result<Ready> {
        // No raw pointer held across the await: the future stays Send.
        let range = self.slice_range(mem.as_ptr() as usize, mem.len())?;
        match range {
            Some((start, len)) => self.ready_range(start, len, false).await,
            None => Ok(Ready::empty()),
        }
    }

    /// [`AsyncGupnw::ready`] for write access (breaks copy-on-write of
    /// private pages).
    ///
    /// # Errors
    ///
    /// As [`AsyncGupnw::ready`].
    pub async fn ready_mut(&self, mem: &mut [u8]) -> io::Result<Ready> {
        // No raw pointer held across the await: the future stays Send.
        let range = self.slice_range(mem.as_ptr() as usize, mem.len())?;
        match range {
            Some((start, len)) => self.ready_range(start, len, true).await,
            None => Ok(Ready::empty()),
        }
    }

    /// The page-aligned range under a slice, `None` if it is empty.
    fn slice_range(&self, addr: usize, len: usize) -> io::Result<Option<(usize, usize)>> {
        if len == 0 {
            return Ok(None);
        }
        let start = addr & !(self.g.page_size() - 1);
        let len = len.checked_add(addr - start).ok_or_else(overflow)?;
        Ok(Some((start, len)))
    }

    /// [`AsyncGupnw::ready`] on `[addr, addr + len)` of this process.
    ///
    /// # Errors
    ///
    /// As [`AsyncGupnw::ready`]; `EINVAL` if `addr` is not page aligned,
    /// `EOVERFLOW` if the range does not fit the address space.
    pub async fn ready_range(&self, addr: usize, len: usize, write: bool) -> io::Result<Ready> {
        let wflag = if write { Flags::WRITE } else { Flags::NOWAIT };
        // NOWAIT: never waits; starts the reads of what is missing.
        let c = self.g.probe(addr, len, wflag, None)?;
        if c.retry == 0 && c.cold == 0 {
            return Ok(Ready {
                pages: c.done,
                present: c.resident + c.faulted,
                error: c.error,
                unmapped: c.unmapped,
                path: ReadyPath::Present,
            });
        }
        if let Some(sh) = &self.uring {
            for tries in 1..=READY_TRIES {
                // A slot first: past the limit this waits, it takes no thread.
                let permit = sh.slots.clone().acquire_owned().await.map_err(|_| {
                    io::Error::new(io::ErrorKind::Other, "gupnw: the ring's slots are gone")
                })?;
                match ReadyFut::submit(sh, &self.g, addr, len, wflag, permit) {
                    Ok(f) => match f.await {
                        // Nobody dropped this future, and the ring lives
                        // while it does: the cancel was io-wq's, its
                        // submitting thread gone (see retried()).
                        Err(e)
                            if e.raw_os_error() == Some(libc::ECANCELED) && tries < READY_TRIES =>
                        {
                            sh.with(|inner, _| inner.retried += 1);
                        }
                        r => return r,
                    },
                    // The kernel's queue full (ENOMEM, SQ busy): fall back.
                    Err(e)
                        if matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::EAGAIN)) =>
                    {
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let g = self.g.clone();
        let c = tokio::task::spawn_blocking(move || g.probe(addr, len, wflag | Flags::WAIT, None))
            .await
            .map_err(|e| io::Error::new(io::ErrorKind::Other, e))??;
        // A WAIT probe waited for what it read: its W pages ("the fault had
        // to read from storage") are present now, like its R and F ones.
        Ok(Ready {
            pages: c.done,
            present: c.resident + c.faulted + c.retry,
            error: c.error,
            unmapped: c.unmapped,
            path: ReadyPath::Blocking,
        })
    }
}

impl Ready {
    fn empty() -> Ready {
        Ready {
            pages: 0,
            present: 0,
            error: 0,
            unmapped: 0,
            path: ReadyPath::Present,
        }
    }
}

struct ReadyFut {
    sh: Arc<Shared>,
    id: u64,
    finished: bool,
}

impl ReadyFut {
    fn submit(
        sh: &Arc<Shared>,
        g: &Gupnw,
        addr: usize,
        len: usize,
        flags: Flags,
        permit: OwnedSemaphorePermit,
    ) -> io::Result<ReadyFut> {
        let id = sh.with(|inner, wake| {
            inner.reap(wake);
            if inner.inflight.len() >= inner.ring.cq_entries() as usize / 2 {
                return Err(io::Error::from_raw_os_error(libc::EBUSY));
            }
            let id = inner.next_id;
            inner.next_id += 1;
            let args = Box::new(sys::gupnw_probe_args {
                size: std::mem::size_of::<sys::gupnw_probe_args>() as u32,
                flags: flags.bits(),
                addr: addr as u64,
                len: len as u64,
                ..Default::default()
            });
            let cmd = sys::gupnw_uring_cmd {
                args: &*args as *const sys::gupnw_probe_args as u64,
                flags: if inner.noworker {
                    sys::URING_READY_NOWORKER
                } else {
                    0
                },
                ..Default::default()
            };
            let sqe = io_uring_sqe {
                opcode: ring::IORING_OP_URING_CMD,
                fd: g.as_raw_fd(),
                off: sys::URING_CMD_READY as u64,
                user_data: id,
                cmd: cmd.words(),
                ..Default::default()
            };
            inner.inflight.insert(
                id,
                Entry {
                    args,
                    slot: Slot::Waiting(None),
                    _permit: permit,
                },
            );
            // SAFETY: the kernel writes only the argument block (states is
            // 0), a Box owned by the in-flight table until this READY's
            // completion is reaped; if the ring is torn down first, Drain
            // waits for the completion or leaks the block.
            if let Err(e) = unsafe { inner.ring.submit(&sqe) } {
                // Never reached the kernel: the block is ours again.
                inner.inflight.remove(&id);
                return Err(e);
            }
            Ok(id)
        })?;
        Ok(ReadyFut {
            sh: sh.clone(),
            id,
            finished: false,
        })
    }
}

impl Future for ReadyFut {
    type Output = io::Result<Ready>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        let this = &mut *self;
        loop {
            let id = this.id;
            let done = this.sh.with(|inner, wake| {
                inner.reap(wake);
                let e = inner.inflight.get_mut(&id).expect("in-flight slot");
                match e.slot {
                    Slot::Done(res) => {
                        let e = inner.inflight.remove(&id).expect("in-flight slot");
                        inner.wake_waiters(wake);
                        Some((res, e.args))
                    }
                    _ => {
                        e.slot = Slot::Waiting(Some(cx.waker().clone()));
                        None
                    }
                }
            });
            if let Some((res, a)) = done {
                this.finished = true;
                if res < 0 {
                    return Poll::Ready(Err(io::Error::from_raw_os_error(-res)));
                }
                return Poll::Ready(Ok(Ready {
                    pages: a.done,
                    present: a.nr_resident,
                    error: a.nr_error,
                    unmapped: a.nr_unmapped,
                    path: ReadyPath::Uring,
                }));
            }
            match this.sh.efd.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(mut guard)) => {
                    let mut v = 0u64;
                    // SAFETY: reads 8 bytes into v.
                    let r = unsafe {
                        libc::read(
                            this.sh.efd.get_ref().as_raw_fd(),
                            &mut v as *mut u64 as *mut libc::c_void,
                            8,
                        )
                    };
                    if r < 0 {
                        guard.clear_ready();
                    }
                }
            }
        }
    }
}

impl Drop for ReadyFut {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let id = self.id;
        self.sh.with(|inner, wake| {
            inner.reap(wake);
            match inner.inflight.get_mut(&id) {
                Some(Entry {
                    slot: Slot::Done(_),
                    ..
                }) => {
                    inner.inflight.remove(&id);
                }
                Some(e) => {
                    e.slot = Slot::Abandoned;
                    // Not submitted now (a full queue, ENOMEM): retried at the
                    // ring's next use and by its teardown, never forgotten.
                    if inner.submit_cancel(id, 0).is_err() {
                        inner.uncancelled.push(id);
                    }
                }
                None => {}
            }
            inner.wake_waiters(wake);
        });
    }
}

// The handle and its futures move between a runtime's threads.
const _: () = {
    fn send_sync<T: Send + Sync>() {}
    fn send_sync_val<T: Send + Sync>(_: &T) {}
    #[allow(dead_code)]
    fn check(a: &AsyncGupnw, m: &mut [u8]) {
        send_sync::<AsyncGupnw>();
        send_sync::<Ready>();
        send_sync::<ReadyFut>();
        send_sync_val(&a.ready(m));
        send_sync_val(&a.ready_mut(m));
        send_sync_val(&a.ready_range(0, 0, false));
    }
};
