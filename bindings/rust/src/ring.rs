// SPDX-License-Identifier: LGPL-2.1-or-later
//! A minimal io_uring, through the raw system calls: just enough to submit
//! `IORING_OP_URING_CMD` and `IORING_OP_ASYNC_CANCEL` and to reap
//! completions. No io_uring crate is packaged in Debian 12. Private to the
//! crate: whoever submits an SQE decides what the kernel writes where, so
//! [`Ring::submit`] is an `unsafe fn` and no safe public function reaches it.
//! The structures are [`crate::sys::uring`]'s.

use std::io;
use std::os::unix::io::RawFd;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sys::uring::*;

struct Map {
    ptr: *mut u8,
    len: usize,
}

impl Map {
    fn new(fd: RawFd, len: usize, off: i64) -> io::Result<Map> {
        // SAFETY: a fresh shared mapping of the ring fd; checked below.
        let p = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd,
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Map {
            ptr: p as *mut u8,
            len,
        })
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unused from here on.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

/// The rings of one io_uring instance. Not synchronised: the caller
/// serialises submissions and reaping (ready.rs holds it under a mutex).
pub(crate) struct Ring {
    fd: RawFd,
    sq_map: Map,
    cq_map: Option<Map>,
    sqes: Map,
    p: io_uring_params,
}

// SAFETY: the raw pointers are into mappings owned by the Ring; access is
// serialised by its owner.
unsafe impl Send for Ring {}

impl Ring {
    pub(crate) fn new(entries: u32) -> io::Result<Ring> {
        let mut p = io_uring_params::default();
        // SAFETY: p is a valid io_uring_params for the call.
        let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, entries, &mut p as *mut _) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = fd as RawFd;
        let r = (|| {
            let sq_len = p.sq_off.array as usize + p.sq_entries as usize * 4;
            let cq_len = p.cq_off.cqes as usize
                + p.cq_entries as usize * std::mem::size_of::<io_uring_cqe>();
            let single = p.features & IORING_FEAT_SINGLE_MMAP != 0;
            let sq_map = Map::new(
                fd,
                if single { sq_len.max(cq_len) } else { sq_len },
                IORING_OFF_SQ_RING,
            )?;
            let cq_map = if single {
                None
            } else {
                Some(Map::new(fd, cq_len, IORING_OFF_CQ_RING)?)
            };
            let sqes = Map::new(
                fd,
                p.sq_entries as usize * std::mem::size_of::<io_uring_sqe>(),
                IORING_OFF_SQES,
            )?;
            Ok(Ring {
                fd,
                sq_map,
                cq_map,
                sqes,
                p,
            })
        })();
        if r.is_err() {
            // SAFETY: our fd, not shared yet.
            unsafe { libc::close(fd) };
        }
        r
    }

    pub(crate) fn cq_entries(&self) -> u32 {
        self.p.cq_entries
    }

    /// Signal `efd` on every completion.
    pub(crate) fn register_eventfd(&self, efd: RawFd) -> io::Result<()> {
        // SAFETY: &efd is an array of one fd, as the call wants.
        let r = unsafe {
            libc::syscall(
                libc::SYS_io_uring_register,
                self.fd,
                IORING_REGISTER_EVENTFD,
                &efd as *const RawFd,
                1u32,
            )
        };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    fn sq_u32(&self, off: u32) -> &AtomicU32 {
        // SAFETY: off is one of the kernel's offsets into the SQ ring mapping.
        unsafe { &*(self.sq_map.ptr.add(off as usize) as *const AtomicU32) }
    }

    fn cq_base(&self) -> *mut u8 {
        self.cq_map.as_ref().unwrap_or(&self.sq_map).ptr
    }

    fn cq_u32(&self, off: u32) -> &AtomicU32 {
        // SAFETY: off is one of the kernel's offsets into the CQ ring mapping.
        unsafe { &*(self.cq_base().add(off as usize) as *const AtomicU32) }
    }

    /// Queue one SQE and submit it; returns once the kernel has consumed it
    /// (without SQPOLL, io_uring_enter() consumes what it is given).
    ///
    /// # Errors
    ///
    /// `EBUSY` if the submission queue is full; the error of
    /// `io_uring_enter(2)` (`EAGAIN` if it consumed nothing). Either way the
    /// SQE was not submitted.
    ///
    /// # Safety
    ///
    /// The kernel reads and writes whatever memory the SQE names (`addr`,
    /// `cmd`: for `GUPNW_URING_CMD_READY` the argument block) until the
    /// request's completion is reaped, and may do so after this returns:
    /// that memory must stay valid, and not be otherwise accessed in a way
    /// the request's writes would race with, until then, even if the ring
    /// is dropped first (closing the ring does not wait for its requests).
    pub(crate) unsafe fn submit(&mut self, sqe: &io_uring_sqe) -> io::Result<()> {
        let mask = self.p.sq_entries - 1;
        let head = self.sq_u32(self.p.sq_off.head).load(Ordering::Acquire);
        let tail = self.sq_u32(self.p.sq_off.tail).load(Ordering::Relaxed);
        if tail.wrapping_sub(head) >= self.p.sq_entries {
            return Err(io::Error::from_raw_os_error(libc::EBUSY));
        }
        let idx = tail & mask;
        // SAFETY: idx < sq_entries, inside the SQE array and the SQ index
        // array; the kernel reads neither slot until the tail moves past it.
        unsafe {
            ptr::write_volatile((self.sqes.ptr as *mut io_uring_sqe).add(idx as usize), *sqe);
            let array = self.sq_map.ptr.add(self.p.sq_off.array as usize) as *mut u32;
            ptr::write_volatile(array.add(idx as usize), idx);
        }
        self.sq_u32(self.p.sq_off.tail)
            .store(tail.wrapping_add(1), Ordering::Release);
        loop {
            let r = self.enter(1, 0, 0);
            if r >= 1 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if r < 0 && e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            // Not consumed: take the SQE back so the ring stays consistent.
            self.sq_u32(self.p.sq_off.tail)
                .store(tail, Ordering::Release);
            return Err(if r < 0 {
                e
            } else {
                io::Error::from_raw_os_error(libc::EAGAIN)
            });
        }
    }

    /// `io_uring_enter(2)` on our ring, without a signal mask: its return
    /// value (-1 with errno on failure).
    fn enter(&self, to_submit: u32, min_complete: u32, flags: u32) -> libc::c_long {
        // SAFETY: plain system call on our ring; it reads no memory of ours.
        unsafe {
            libc::syscall(
                libc::SYS_io_uring_enter,
                self.fd,
                to_submit,
                min_complete,
                flags,
                ptr::null::<libc::c_void>(),
                0usize,
            )
        }
    }

    /// Take every completion there is.
    pub(crate) fn reap(&mut self, mut f: impl FnMut(io_uring_cqe)) {
        let mask = self.p.cq_entries - 1;
        let mut head = self.cq_u32(self.p.cq_off.head).load(Ordering::Relaxed);
        let tail = self.cq_u32(self.p.cq_off.tail).load(Ordering::Acquire);
        while head != tail {
            // SAFETY: the kernel published every CQE before tail.
            let cqe = unsafe {
                ptr::read_volatile(
                    (self.cq_base().add(self.p.cq_off.cqes as usize) as *const io_uring_cqe)
                        .add((head & mask) as usize),
                )
            };
            head = head.wrapping_add(1);
            f(cqe);
        }
        self.cq_u32(self.p.cq_off.head)
            .store(head, Ordering::Release);
    }

    /// Block until at least one completion is there (used only when the
    /// ring is torn down with requests still in flight). A signal does not
    /// end the wait.
    pub(crate) fn wait_one(&mut self) -> io::Result<()> {
        loop {
            let r = self.enter(0, 1, IORING_ENTER_GETEVENTS);
            if r >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // The maps unmap themselves after this.
        // SAFETY: our fd.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    extern "C" fn on_signal(_: libc::c_int) {}

    // A signal during the teardown's wait must not end it (the blocks of
    // the requests in flight would then be leaked for nothing).
    #[test]
    fn wait_one_retries_when_a_signal_interrupts_it() {
        let mut ring = match Ring::new(4) {
            Ok(r) => r,
            Err(e) => {
                println!("skipped: no io_uring ({})", e);
                return;
            }
        };
        // SAFETY: a handler that does nothing, without SA_RESTART, so the
        // wait returns EINTR.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as usize;
            libc::sigaction(libc::SIGUSR1, &sa, ptr::null_mut());
        }
        // IORING_OP_TIMEOUT: a completion (-ETIME) 300 ms from now.
        let ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 300_000_000,
        };
        let sqe = io_uring_sqe {
            opcode: 11,
            fd: -1,
            addr: &ts as *const libc::timespec as u64,
            len: 1,
            user_data: 7,
            ..Default::default()
        };
        // SAFETY: ts outlives the request: its completion is reaped below.
        unsafe { ring.submit(&sqe) }.unwrap();
        // SAFETY: no memory effects.
        let me = unsafe { libc::pthread_self() };
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let kicker = std::thread::spawn(move || {
            while !d.load(Ordering::SeqCst) {
                // SAFETY: the test thread lives until done is set.
                unsafe { libc::pthread_kill(me, libc::SIGUSR1) };
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
        let mut got = Vec::new();
        let r = ring.wait_one();
        ring.reap(|c| got.push((c.user_data, c.res)));
        done.store(true, Ordering::SeqCst);
        kicker.join().unwrap();
        r.expect("wait_one");
        assert_eq!(got, [(7, -libc::ETIME)]);
    }
}
