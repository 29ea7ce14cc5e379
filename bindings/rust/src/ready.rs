// SPDX-License-Identifier: LGPL-2.1-or-later
//! The async half: `ready(range).await` for tokio.
//!
//! A NOWAIT probe first: if every page is present the call returns at once
//! (the common, hot case costs one ioctl). Otherwise a
//! `GUPNW_URING_CMD_READY` goes to an io_uring, where a kernel worker
//! waits for the I/O; the ring's eventfd, registered with tokio's reactor
//! through `AsyncFd`, wakes the task when its completion is there. No tokio
//! worker thread ever blocks on a page.
//!
//! The argument block the kernel writes back into lives in the ring's
//! in-flight table, not in the future: a future dropped before its
//! completion asks the kernel to cancel (`IORING_OP_ASYNC_CANCEL`) and
//! leaves the block to the table, which frees it when the completion
//! arrives.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::unix::AsyncFd;

use crate::ring::{self, io_uring_sqe, Ring};
use crate::{sys, Flags, Gupnw};

/// How [`AsyncGupnw::ready`] got its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

struct Inner {
    ring: Ring,
    next_id: u64,
    cancelled: u64,
    inflight: HashMap<u64, Entry>,
}

impl Inner {
    fn reap(&mut self) {
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
                    Slot::Waiting(Some(w)) => w.wake(),
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

    // Whoever waits on the eventfd may have gone: let the others re-arm it.
    fn wake_waiters(&mut self) {
        for e in self.inflight.values_mut() {
            if let Slot::Waiting(w) = &mut e.slot {
                if let Some(w) = w.take() {
                    w.wake();
                }
            }
        }
    }
}

struct Shared {
    inner: Mutex<Inner>,
    efd: AsyncFd<OwnedFd>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Only abandoned requests can be left (a live future holds an Arc):
        // they are cancelled already; wait for their completions before the
        // blocks they write into are freed. If waiting fails, leak the
        // blocks rather than let the kernel write into freed memory.
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        inner.reap();
        while !inner.inflight.is_empty() {
            if inner.ring.wait_one().is_err() {
                for (_, e) in inner.inflight.drain() {
                    std::mem::forget(e.args);
                }
                break;
            }
            inner.reap();
        }
    }
}

/// `/dev/gupnw` for tokio: [`AsyncGupnw::ready`] awaits pages without
/// blocking a worker thread. Cheap to clone (one ring per
/// [`AsyncGupnw::open`], shared by the clones); create it inside the tokio
/// runtime that will poll its futures.
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

fn setup_uring(g: &Gupnw) -> io::Result<Shared> {
    if !g.info()?.has(sys::FEATURE_URING_CMD) {
        return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
    }
    let ring = Ring::new(256)?;
    // SAFETY: eventfd() has no memory effects; the fd is checked.
    let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if efd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd we own.
    let efd = unsafe { OwnedFd::from_raw_fd(efd) };
    ring.register_eventfd(efd.as_raw_fd())?;
    Ok(Shared {
        inner: Mutex::new(Inner {
            ring,
            next_id: 1,
            cancelled: 0,
            inflight: HashMap::new(),
        }),
        efd: AsyncFd::new(efd)?,
    })
}

fn no_runtime() -> io::Error {
    io::Error::new(
        io::ErrorKind::Other,
        "gupnw: AsyncGupnw must be created inside a tokio runtime",
    )
}

impl AsyncGupnw {
    /// Open the device ([`Gupnw::open`]) and set up its io_uring.
    pub fn open() -> io::Result<AsyncGupnw> {
        AsyncGupnw::new(Gupnw::open()?)
    }

    /// Use `g`, with an io_uring if the kernel and the module offer one
    /// (`IORING_OP_URING_CMD`, Linux 6.0; the module's
    /// `GUPNW_FEATURE_URING_CMD`), else with the blocking-pool fallback.
    pub fn new(g: Gupnw) -> io::Result<AsyncGupnw> {
        tokio::runtime::Handle::try_current().map_err(|_| no_runtime())?;
        let uring = setup_uring(&g).ok().map(Arc::new);
        Ok(AsyncGupnw {
            g: Arc::new(g),
            uring,
        })
    }

    /// Use `g` without io_uring: every wait is a `WAIT` probe on tokio's
    /// blocking pool (what [`AsyncGupnw::new`] falls back to).
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

    /// Requests submitted to the ring whose completion has not been taken
    /// yet, dropped (cancelled) ones included.
    pub fn in_flight(&self) -> usize {
        match &self.uring {
            Some(sh) => {
                let mut inner = sh.lock();
                inner.reap();
                inner.inflight.len()
            }
            None => 0,
        }
    }

    /// Dropped [`AsyncGupnw::ready`]s the kernel ended with `ECANCELED`
    /// (a dropped one whose pages arrived first is not counted).
    pub fn cancelled(&self) -> u64 {
        match &self.uring {
            Some(sh) => {
                let mut inner = sh.lock();
                inner.reap();
                inner.cancelled
            }
            None => 0,
        }
    }

    /// Wait until every page under `mem` is present, without blocking the
    /// calling thread: a touch of `mem` afterwards waits for no I/O (while
    /// the kernel keeps the pages; under memory pressure it may take them
    /// back). Returns at once when a NOWAIT probe finds them present.
    /// Dropping the future cancels the wait.
    pub async fn ready(&self, mem: &[u8]) -> io::Result<Ready> {
        let ps = self.g.page_size();
        let addr = mem.as_ptr() as usize;
        let start = addr & !(ps - 1);
        self.ready_range(start, mem.len() + (addr - start), false)
            .await
    }

    /// [`AsyncGupnw::ready`] for write access (breaks copy-on-write of
    /// private pages).
    pub async fn ready_mut(&self, mem: &mut [u8]) -> io::Result<Ready> {
        let ps = self.g.page_size();
        let addr = mem.as_ptr() as usize;
        let start = addr & !(ps - 1);
        self.ready_range(start, mem.len() + (addr - start), true)
            .await
    }

    /// [`AsyncGupnw::ready`] on `[addr, addr + len)` of this process; `addr`
    /// must be page aligned (`EINVAL`).
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
            match ReadyFut::submit(sh, &self.g, addr, len, wflag) {
                Ok(f) => return f.await,
                // A full ring (or a kernel without URING_CMD): fall back.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::EAGAIN)) => {}
                Err(e) => return Err(e),
            }
        }
        let g = self.g.clone();
        let c = tokio::task::spawn_blocking(move || g.probe(addr, len, wflag | Flags::WAIT, None))
            .await
            .map_err(|e| io::Error::new(io::ErrorKind::Other, e))??;
        Ok(Ready {
            pages: c.done,
            present: c.resident + c.faulted,
            error: c.error,
            unmapped: c.unmapped,
            path: ReadyPath::Blocking,
        })
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
    ) -> io::Result<ReadyFut> {
        let mut inner = sh.lock();
        inner.reap();
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
        let mut sqe = io_uring_sqe {
            opcode: ring::IORING_OP_URING_CMD,
            fd: g.as_raw_fd(),
            off: sys::URING_CMD_READY as u64,
            user_data: id,
            ..Default::default()
        };
        sqe.cmd[0] = &*args as *const sys::gupnw_probe_args as u64;
        inner.inflight.insert(
            id,
            Entry {
                args,
                slot: Slot::Waiting(None),
            },
        );
        if let Err(e) = inner.ring.submit(&sqe) {
            // Never reached the kernel: the block is ours again.
            inner.inflight.remove(&id);
            return Err(e);
        }
        drop(inner);
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
            {
                let mut inner = this.sh.lock();
                inner.reap();
                let e = inner.inflight.get_mut(&this.id).expect("in-flight slot");
                match e.slot {
                    Slot::Done(res) => {
                        let e = inner.inflight.remove(&this.id).expect("in-flight slot");
                        inner.wake_waiters();
                        this.finished = true;
                        if res < 0 {
                            return Poll::Ready(Err(io::Error::from_raw_os_error(-res)));
                        }
                        let a = &e.args;
                        return Poll::Ready(Ok(Ready {
                            pages: a.done,
                            present: a.nr_resident,
                            error: a.nr_error,
                            unmapped: a.nr_unmapped,
                            path: ReadyPath::Uring,
                        }));
                    }
                    _ => e.slot = Slot::Waiting(Some(cx.waker().clone())),
                }
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
        let mut inner = self.sh.lock();
        inner.reap();
        let done = matches!(
            inner.inflight.get(&self.id).map(|e| &e.slot),
            Some(Slot::Done(_))
        );
        if done {
            inner.inflight.remove(&self.id);
        } else if let Some(e) = inner.inflight.get_mut(&self.id) {
            e.slot = Slot::Abandoned;
            let sqe = io_uring_sqe {
                opcode: ring::IORING_OP_ASYNC_CANCEL,
                fd: -1,
                addr: self.id,
                user_data: CANCEL_TAG | self.id,
                ..Default::default()
            };
            // If this fails the READY runs to its end; its block stays in
            // the table until then either way.
            let _ = inner.ring.submit(&sqe);
        }
        inner.wake_waiters();
    }
}
