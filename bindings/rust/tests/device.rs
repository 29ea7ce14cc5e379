// SPDX-License-Identifier: LGPL-2.1-or-later
//! The crate against the real module: run in the project's QEMU guests
//! (tests/guest/t70_rust.sh), where /dev/gupnw exists and $GUPNW_SLOW is
//! the mount point of the disk throttled to 20 reads of 4 KiB per second.
//! Without the device every test passes with a "skipped" line (so a plain
//! `cargo test` on a build host runs them harmlessly); without
//! $GUPNW_SLOW the cold-file tests do.

use std::fs::File;
use std::io::{self, ErrorKind};
use std::os::unix::io::AsRawFd;
use std::time::Duration;

use gupnw::{AsyncGupnw, Extent, Flags, Gupnw, PidMem, ReadyPath, State};

/// `need!(dev())`: the value, or the test ends here, skipped (dev() and
/// slow_file() print why).
macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return,
        }
    };
}

fn dev() -> Option<Gupnw> {
    match Gupnw::open() {
        Ok(g) => Some(g),
        Err(e) => {
            println!("skipped: no gupnw device ({})", e);
            None
        }
    }
}

fn ps() -> usize {
    // SAFETY: no memory effects.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// The address of `pages` pages nothing maps, and that no other test
/// thread's mmap(NULL) will map meanwhile: one from 4 GiB up, below where the
/// kernel's top-down mmap(NULL) reaches while the top of the address space
/// has room. A range just unmapped would not do: the tests run on several
/// threads, and the next small mmap may take it.
fn hole(pages: usize) -> usize {
    let len = pages * ps();
    for a in (4usize << 30..64 << 30).step_by(1 << 30) {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces a mapping; checked.
        let p = unsafe {
            libc::mmap(
                a as *mut libc::c_void,
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            continue; // EEXIST: something is there
        }
        // SAFETY: the mapping just made.
        unsafe { libc::munmap(p, len) };
        if p as usize == a {
            return a;
        }
    }
    panic!("no free range between 4 and 64 GiB");
}

/// An anonymous private mapping, unmapped on drop.
struct Map {
    p: *mut u8,
    len: usize,
}

impl Map {
    fn anon(pages: usize, prot: i32) -> Map {
        Map::new(
            pages * ps(),
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    fn new(len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> Map {
        // SAFETY: a fresh mapping; checked.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, fd, off) };
        assert_ne!(p, libc::MAP_FAILED, "mmap: {}", io::Error::last_os_error());
        Map {
            p: p as *mut u8,
            len,
        }
    }
    fn addr(&self) -> usize {
        self.p as usize
    }
    fn slice(&self) -> &[u8] {
        // SAFETY: the whole mapping, readable (callers map PROT_READ).
        unsafe { std::slice::from_raw_parts(self.p, self.len) }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: our mapping.
        unsafe { libc::munmap(self.p as *mut libc::c_void, self.len) };
    }
}

fn states(g: &Gupnw, addr: usize, len: usize, flags: Flags) -> Vec<State> {
    let mut st = vec![0u8; len / ps()];
    g.probe(addr, len, flags, Some(&mut st)).expect("probe");
    st.iter()
        .map(|&b| State::from_byte(b).unwrap_or_else(|| panic!("state byte {:?}", b as char)))
        .collect()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn thread_majflt() -> i64 {
    // SAFETY: ru is written by the call.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
        ru.ru_majflt
    }
}

/// The big file on the throttled disk, mapped read-only with MADV_RANDOM
/// (a fault reads its own page, no read-around): None without $GUPNW_SLOW.
fn slow_file() -> Option<(File, Map)> {
    let dir = match std::env::var("GUPNW_SLOW") {
        Ok(d) => d,
        Err(_) => {
            println!("skipped: no GUPNW_SLOW (the throttled disk)");
            return None;
        }
    };
    let f = File::open(format!("{}/cold-64m", dir)).expect("open cold-64m");
    let len = f.metadata().unwrap().len() as usize;
    let m = Map::new(len, libc::PROT_READ, libc::MAP_SHARED, f.as_raw_fd(), 0);
    // SAFETY: advice on our mapping.
    unsafe { libc::madvise(m.p as *mut libc::c_void, len, libc::MADV_RANDOM) };
    Some((f, m))
}

/// Pages of [addr, addr + len) in the page cache (mincore(2)): the module's
/// report-only mode may not tell cached from cold file pages.
fn cached_pages(addr: usize, len: usize) -> usize {
    let mut v = vec![0u8; len / ps()];
    // SAFETY: one result byte per page of a range of our mapping.
    let r = unsafe { libc::mincore(addr as *mut libc::c_void, len, v.as_mut_ptr()) };
    assert_eq!(r, 0, "mincore: {}", io::Error::last_os_error());
    v.iter().filter(|&&b| b & 1 != 0).count()
}

/// A window of `pages` pages of the mapping that no one has read in this
/// boot (not in the page cache), at `from` MiB or later.
fn cold_window(m: &Map, pages: usize, from_mib: usize) -> usize {
    let len = pages * ps();
    let mut off = from_mib << 20;
    while off + len <= m.len {
        if cached_pages(m.addr() + off, len) == 0 {
            return m.addr() + off;
        }
        off += len;
    }
    panic!("no cold window of {} pages left", pages);
}

/// The runtime of a server: READYs submitted from two threads.
fn rt_two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn rt_current() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------- sync API

#[test]
fn info_reports_abi_page_size_and_features() {
    let g = need!(dev());
    let i = g.info().unwrap();
    assert_eq!(i.abi_version, gupnw::sys::ABI_VERSION);
    assert_eq!(i.page_size as usize, ps());
    assert!(i.has(gupnw::sys::FEATURE_PROBE));
    assert!(!i.version.is_empty());
    println!("module {} features {:#x}", i.version, i.features);
}

#[test]
fn states_of_touched_untouched_unmapped_and_prot_none_memory() {
    let g = need!(dev());
    let p = ps();
    let m = Map::anon(4, libc::PROT_READ | libc::PROT_WRITE);
    // SAFETY: first two pages of our mapping.
    unsafe {
        *m.p = 1;
        *m.p.add(p) = 1;
    }
    use State::*;
    assert_eq!(
        states(&g, m.addr(), 4 * p, Flags::NOFAULT),
        [Resident, Resident, NotPresent, NotPresent]
    );
    assert_eq!(
        states(&g, m.addr(), 4 * p, Flags::NOWAIT),
        [Resident, Resident, Faulted, Faulted]
    );
    assert_eq!(states(&g, m.addr(), 4 * p, Flags::NOWAIT), [Resident; 4]);
    let none = Map::anon(2, libc::PROT_NONE);
    assert_eq!(states(&g, none.addr(), 2 * p, Flags::NOWAIT), [Error; 2]);
    assert_eq!(states(&g, hole(3), 3 * p, Flags::NOFAULT), [Unmapped; 3]);
}

#[test]
fn probe_slice_rounds_to_pages_and_counts() {
    let g = need!(dev());
    let v = vec![7u8; 10 * ps()];
    let s = &v[100..5 * ps() + 1];
    let n = g.pages(s.as_ptr() as usize, s.len());
    let mut st = vec![0u8; n];
    let c = g.probe_slice(s, Flags::NOWAIT, Some(&mut st)).unwrap();
    assert_eq!(c.done as usize, n);
    assert_eq!(c.present() as usize, n);
    assert!(st.iter().all(|&b| b == b'R'));
}

#[test]
fn write_probe_on_read_only_memory_is_error() {
    let g = need!(dev());
    let m = Map::anon(2, libc::PROT_READ);
    let c = g.probe(m.addr(), 2 * ps(), Flags::WRITE, None).unwrap();
    assert_eq!(c.error, 2);
}

#[test]
fn extents_describe_runs() {
    let g = need!(dev());
    let p = ps();
    let m = Map::anon(8, libc::PROT_READ | libc::PROT_WRITE);
    for i in [0, 1, 2, 5] {
        // SAFETY: inside our mapping.
        unsafe { *m.p.add(i * p) = 1 };
    }
    let mut ext = [Extent::default(); 8];
    let (n, c) = g
        .probe_extents(m.addr(), 8 * p, Flags::NOFAULT, &mut ext)
        .unwrap();
    let got: Vec<(u64, u64, Option<State>)> = ext[..n]
        .iter()
        .map(|e| (e.start - m.addr() as u64, e.pages, e.state()))
        .collect();
    let p = p as u64;
    assert_eq!(
        got,
        [
            (0, 3, Some(State::Resident)),
            (3 * p, 2, Some(State::NotPresent)),
            (5 * p, 1, Some(State::Resident)),
            (6 * p, 2, Some(State::NotPresent)),
        ]
    );
    assert_eq!((c.done, c.resident, c.notpresent), (8, 4, 4));
    // A full buffer: what was covered, then the rest from there.
    let mut one = [Extent::default(); 1];
    let (n, c) = g
        .probe_extents(m.addr(), 8 * ps(), Flags::NOFAULT, &mut one)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        (one[0].start, one[0].state()),
        (m.addr() as u64, Some(State::Resident))
    );
    // The array's end may cut the run: done says how far it got.
    assert!(
        one[0].pages >= 1 && one[0].pages <= 3 && c.done == one[0].pages,
        "{:?} {:?}",
        one,
        c
    );
}

#[test]
fn pid_mode_probes_through_proc_pid_mem() {
    let g = need!(dev());
    let m = Map::anon(4, libc::PROT_READ | libc::PROT_WRITE);
    // SAFETY: first page of our mapping.
    unsafe { *m.p = 1 };
    // SAFETY: getpid has no memory effects.
    let me = PidMem::open(unsafe { libc::getpid() }, false).unwrap();
    let mut st = [0u8; 4];
    let c = g
        .probe_pid(
            &me,
            m.addr() as u64,
            4 * ps(),
            Flags::NOFAULT,
            Some(&mut st),
        )
        .unwrap();
    assert_eq!(&st, b"RNNN");
    assert_eq!((c.resident, c.notpresent), (1, 3));
}

// ------------------------------------------------------------------ errors

fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

#[test]
fn error_misaligned_address_is_invalid_input() {
    let g = need!(dev());
    let v = vec![0u8; 2 * ps()];
    let e = g
        .probe(v.as_ptr() as usize | 1, 100, Flags::NOWAIT, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(errno(&e), libc::EINVAL);
}

#[test]
fn error_unknown_flag_is_invalid_input() {
    let g = need!(dev());
    let m = Map::anon(1, libc::PROT_READ);
    let e = g
        .probe(m.addr(), ps(), Flags::from_bits_unchecked(1 << 30), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn error_nofault_with_wait_is_invalid_input() {
    let g = need!(dev());
    let m = Map::anon(1, libc::PROT_READ);
    let e = g
        .probe(m.addr(), ps(), Flags::NOFAULT | Flags::WAIT, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn error_states_buffer_too_short_is_invalid_input() {
    let g = need!(dev());
    let m = Map::anon(4, libc::PROT_READ);
    let mut st = [0u8; 3];
    let e = g
        .probe(m.addr(), 4 * ps(), Flags::NOFAULT, Some(&mut st))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn error_range_into_kernel_space_is_invalid_input() {
    let g = need!(dev());
    let e = g
        .probe(0xffff_8000_0000_0000, ps(), Flags::NOFAULT, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn error_no_such_process_is_esrch() {
    let e = PidMem::open(0x3fff_fff0, false).unwrap_err();
    assert_eq!(errno(&e), libc::ESRCH);
    let e = PidMem::open(-1, false).unwrap_err();
    assert_eq!(errno(&e), libc::ESRCH);
}

#[test]
fn error_missing_device_is_not_found() {
    let e = Gupnw::open_path("/dev/gupnw-does-not-exist").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[test]
fn error_extents_with_empty_buffer_is_invalid_input() {
    let g = need!(dev());
    let m = Map::anon(1, libc::PROT_READ);
    let e = g
        .probe_extents(m.addr(), ps(), Flags::NOFAULT, &mut [])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn error_async_handle_outside_a_runtime() {
    let g = need!(dev());
    let e = AsyncGupnw::new(g).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Other);
}

// ------------------------------------------------------------------- async

#[test]
fn ready_on_present_memory_returns_at_once() {
    let g = need!(dev());
    let v = vec![3u8; 16 * ps()];
    rt_current().block_on(async {
        let a = AsyncGupnw::new(g).unwrap();
        let r = a.ready(&v).await.unwrap();
        assert_eq!(r.path, ReadyPath::Present);
        assert_eq!(r.present, r.pages);
        assert_eq!(a.in_flight(), 0);
    });
}

#[test]
fn ready_on_a_cold_file_range_completes_without_blocking_the_thread() {
    let g = need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let addr = cold_window(&m, 4, 40);
    assert!(states(&g, addr, 4 * p, Flags::NOFAULT)
        .iter()
        .all(|s| !s.is_present() || *s == State::NotPresent));
    rt_current().block_on(async {
        let a = AsyncGupnw::new(g).unwrap();
        assert!(a.uses_uring(), "io_uring READY expected on 6.1+");
        let off = addr - m.addr();
        let maj = thread_majflt();
        let r = a.ready(&m.slice()[off..off + 4 * p]).await.unwrap();
        // The wait happened in the kernel's worker, not on this thread.
        assert_eq!(thread_majflt(), maj);
        assert_eq!(r.path, ReadyPath::Uring);
        assert_eq!((r.pages, r.present, r.error), (4, 4, 0));
        assert_eq!(cached_pages(addr, 4 * p), 4);
        let st = states(a.handle(), addr, 4 * p, Flags::NOFAULT);
        assert!(st.iter().all(|s| s.is_present()), "{:?}", st);
        // Touching now needs no I/O.
        let sum: u32 = m.slice()[off..off + 4 * p]
            .iter()
            .step_by(p)
            .map(|&b| b as u32)
            .sum();
        assert_eq!(thread_majflt(), maj, "{}", sum);
        assert_eq!(a.in_flight(), 0);
    });
}

/// Threads of this process named `iou-wrk-*`: io_uring's workers.
fn iou_workers() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|c| c.starts_with("iou-wrk"))
        .count()
}

/// With GUPNW_FEATURE_READY_NOWORKER a READY of cold file pages waits with
/// no thread: no io_uring worker exists while it waits.
#[test]
fn ready_on_a_cold_file_range_starts_no_io_uring_worker() {
    let g = need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let addr = cold_window(&m, 8, 44);
    rt_two_workers().block_on(async {
        let a = AsyncGupnw::new(g).unwrap();
        assert!(a.waits_without_worker(), "the module offers READY_NOWORKER");
        let off = addr - m.addr();
        let mut fut = Box::pin(a.ready(&m.slice()[off..off + 8 * p]));
        let mut workers = 0;
        let r = loop {
            match tokio::time::timeout(Duration::from_millis(10), &mut fut).await {
                Ok(r) => break r.unwrap(),
                Err(_) => workers += iou_workers(),
            }
        };
        assert_eq!(r.path, ReadyPath::Uring);
        assert_eq!((r.pages, r.present, r.error), (8, 8, 0));
        assert_eq!(workers + iou_workers(), 0, "an io_uring worker ran");
        assert_eq!(a.in_flight(), 0);
    });
}

#[test]
fn ready_without_uring_falls_back_to_the_blocking_pool() {
    let g = need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let addr = cold_window(&m, 2, 44);
    rt_current().block_on(async {
        let a = AsyncGupnw::without_uring(g).unwrap();
        assert!(!a.uses_uring());
        let maj = thread_majflt();
        let r = a.ready_range(addr, 2 * p, false).await.unwrap();
        assert_eq!(thread_majflt(), maj);
        assert_eq!(r.path, ReadyPath::Blocking);
        assert_eq!((r.pages, r.present), (2, 2));
    });
}

#[test]
fn ready_many_at_once_all_complete() {
    let g = need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let base = cold_window(&m, 16, 46);
    rt_two_workers().block_on(async {
        let a = AsyncGupnw::new(g).unwrap();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let a = a.clone();
            tasks.push(tokio::spawn(async move {
                a.ready_range(base + i * 2 * p, 2 * p, false).await
            }));
        }
        for t in tasks {
            let r = tokio::time::timeout(Duration::from_secs(60), t)
                .await
                .expect("a ready() never woke up")
                .unwrap()
                .unwrap();
            assert_eq!(r.present, 2);
        }
        assert_eq!(a.in_flight(), 0);
    });
}

#[test]
fn ready_past_the_in_flight_limit_awaits_a_slot_not_a_thread() {
    let g = need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let base = cold_window(&m, 24, 54);
    rt_two_workers().block_on(async {
        let a = AsyncGupnw::with_max_in_flight(g, 2).unwrap();
        assert!(a.uses_uring());
        let mut tasks = Vec::new();
        for i in 0..6 {
            let a = a.clone();
            // a page in four: what the probe reads around one is not the next
            tasks.push(tokio::spawn(async move {
                a.ready_range(base + i * 4 * p, p, false).await
            }));
        }
        let mut peak = 0;
        while !tasks.iter().all(|t| t.is_finished()) {
            peak = peak.max(a.in_flight());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut uring = 0;
        for t in tasks {
            let r = t.await.unwrap().unwrap();
            assert_ne!(r.path, ReadyPath::Blocking, "a ready() took a thread");
            assert_eq!((r.pages, r.present), (1, 1));
            uring += (r.path == ReadyPath::Uring) as usize;
        }
        println!("{uring} of 6 READYs on the ring, at most {peak} in flight");
        assert!(peak <= 2, "{peak} READYs in flight, limit 2");
        assert!(uring > 0, "no READY reached the ring: nothing was cold");
        assert_eq!(a.in_flight(), 0);
    });
}

#[test]
fn error_zero_in_flight_limit_is_invalid_input() {
    let g = need!(dev());
    rt_current().block_on(async {
        let e = AsyncGupnw::with_max_in_flight(g, 0).unwrap_err();
        assert_eq!(errno(&e), libc::EINVAL);
    });
}

#[test]
fn ready_dropped_is_cancelled_and_nothing_leaks() {
    need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let fds = open_fds();
    rt_current().block_on(async {
        let a = AsyncGupnw::open().unwrap();
        // 128 pages: seconds of the throttled disk, more than we wait before
        // dropping it.  But QEMU's throttle lets a burst through after an idle
        // spell (a READY of 128 pages once ended in 300 ms on 6.1), and a READY
        // that ended before its drop tests no cancel: then a larger window,
        // in the first 16 MiB, which no other test here reads.
        let mut dropped = false;
        for (pages, from_mib) in [(128, 50), (512, 0), (2048, 8)] {
            let addr = cold_window(&m, pages, from_mib);
            let t = tokio::time::timeout(
                Duration::from_millis(300),
                a.ready_range(addr, pages * p, false),
            )
            .await;
            if t.is_err() {
                dropped = true;
                break;
            }
            println!("a {pages}-page cold READY ended within 300 ms (a throttle burst)");
        }
        assert!(dropped, "even a 2048-page cold READY finished in 300 ms");
        // The cancel's completion frees the argument block.  The READY
        // ends at its next batch boundary, once the batch's pages are read;
        // on the throttled disk those may queue behind reads an earlier
        // test started (up to a few seconds at 20 IOPS, more under load),
        // so the limit is generous: what proves the cancel is cancelled()
        // below, since a READY that ran to its end reports success.
        let t0 = std::time::Instant::now();
        let mut n = a.in_flight();
        while n != 0 && t0.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            n = a.in_flight();
        }
        println!(
            "the dropped READY ended {:.1} s after its cancel",
            t0.elapsed().as_secs_f64()
        );
        assert_eq!(n, 0, "the dropped READY is still in flight after 60 s");
        // Ended by the cancel (-ECANCELED), not by its pages arriving.
        assert_eq!(
            a.cancelled(),
            1,
            "the dropped READY ran to its end: the cancel did not reach it"
        );
        // The ring still works after a cancel.
        let v = vec![1u8; 4 * p];
        assert_eq!(a.ready(&v).await.unwrap().path, ReadyPath::Present);
    });
    // Ring, eventfd and device closed again.
    assert_eq!(open_fds(), fds);
}

/// io_uring instances this process has open.
fn uring_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| l.to_string_lossy().contains("io_uring"))
        .count()
}

/// Wait (up to 60 s) until the process has `n` open fds again.
fn wait_fds(n: usize) -> usize {
    let t0 = std::time::Instant::now();
    let mut now = open_fds();
    while now != n && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
        now = open_fds();
    }
    now
}

#[test]
fn async_handle_dropped_with_a_ready_in_flight_returns_at_once_and_closes_everything() {
    need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let fds = open_fds();
    let urings = uring_fds();
    rt_current().block_on(async {
        let a = AsyncGupnw::open().unwrap();
        assert!(a.uses_uring(), "io_uring READY expected on 6.1+");
        // Dropped while in flight, not after it ended.  Read-ahead reads 32
        // pages per request, so 64 cold pages are two reads at 20 IOPS, and
        // QEMU's throttle lets a burst through after an idle spell: a READY
        // that ended within 200 ms is followed by a larger window.
        let mut dropped = false;
        for (pages, from_mib) in [(64, 56), (512, 40), (2048, 24)] {
            let addr = cold_window(&m, pages, from_mib);
            let fut = a.ready_range(addr, pages * p, false);
            if tokio::time::timeout(Duration::from_millis(200), fut)
                .await
                .is_err()
            {
                dropped = true;
                break;
            }
            println!("a {pages}-page cold READY ended within 200 ms (a throttle burst)");
        }
        assert!(dropped, "even a 2048-page cold READY finished in 200 ms");
        // Cancelled, not ended.
        assert_eq!(a.in_flight(), 1);
        drop(a);
        // The drop did not wait on this (the runtime's) thread for the
        // READY to end: its ring is still open, waited for elsewhere.
        assert_eq!(
            uring_fds(),
            urings + 1,
            "drop() waited for the cancelled READY on the runtime's thread"
        );
    });
    // Ring, eventfd and device closed once the READY ended.
    assert_eq!(wait_fds(fds), fds);
}

#[test]
fn async_handle_on_a_runtime_without_io_falls_back_to_the_blocking_pool() {
    let g = need!(dev());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let v = vec![5u8; 4 * ps()];
    let slow = slow_file();
    rt.block_on(async {
        let a = AsyncGupnw::new(g).expect("AsyncGupnw::new without tokio's IO driver");
        assert!(!a.uses_uring());
        assert_eq!(a.ready(&v).await.unwrap().path, ReadyPath::Present);
        if let Some((_f, m)) = &slow {
            let addr = cold_window(m, 2, 58);
            let r = a.ready_range(addr, 2 * ps(), false).await.unwrap();
            assert_eq!((r.path, r.pages, r.present), (ReadyPath::Blocking, 2, 2));
        }
    });
}

/// A waker that takes the ring's lock (as a waker that polls inline, or
/// drops a task owning a future, would).
struct LockingWaker {
    a: std::sync::Mutex<Option<AsyncGupnw>>,
    woken: std::sync::atomic::AtomicUsize,
}

impl std::task::Wake for LockingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if let Some(a) = &*self.a.lock().unwrap() {
            let _ = a.in_flight();
        }
        self.woken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn ready_wakers_are_called_outside_the_ring_lock() {
    let g = need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let (wa_addr, wb_addr) = (cold_window(&m, 16, 60), cold_window(&m, 16, 62));
    let (tx, rx) = std::sync::mpsc::channel();
    // On a thread of its own: a deadlock fails the test instead of hanging it.
    let t = std::thread::spawn(move || {
        rt_current().block_on(async {
            use std::future::Future;
            use std::sync::atomic::Ordering;
            let a = AsyncGupnw::new(g).unwrap();
            assert!(a.uses_uring(), "io_uring READY expected on 6.1+");
            let wa = std::sync::Arc::new(LockingWaker {
                a: std::sync::Mutex::new(Some(a.clone())),
                woken: Default::default(),
            });
            let waker = std::task::Waker::from(wa.clone());
            let mut cx = std::task::Context::from_waker(&waker);
            let mut fa = Box::pin(a.ready_range(wa_addr, 16 * p, false));
            let mut fb = Box::pin(a.ready_range(wb_addr, 16 * p, false));
            // A READY without a worker completes in its submission when
            // its pages arrived first (a throttle burst, a slow kernel):
            // then there is nothing pending to drop.
            if fa.as_mut().poll(&mut cx).is_ready() || fb.as_mut().poll(&mut cx).is_ready() {
                println!("skipped: a window was read before its first poll returned");
                *wa.a.lock().unwrap() = None;
                return;
            }
            let before = wa.woken.load(Ordering::SeqCst);
            // Dropping one wakes the others (one of them may wait on the
            // eventfd for all): with the ring's lock held, this deadlocked.
            // Unless fa's READY finished first: then fb's poll reaped it and
            // already called its waker (the same path), and none is left.
            drop(fb);
            assert!(
                before > 0 || wa.woken.load(Ordering::SeqCst) > before,
                "the other READY's waker was not called"
            );
            drop(fa);
            // No cycle through the waker: the ring can go.
            *wa.a.lock().unwrap() = None;
        });
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => t.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("dropping a READY deadlocked in a waker (called with the ring's lock held)")
        }
        Err(_) => std::panic::resume_unwind(t.join().unwrap_err()),
    }
}

/// A waker that only counts: the first poll below runs outside any runtime.
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A READY submitted by a thread that then exits is cancelled - by io-wq
/// (the workers are that thread's; always on 6.x, sometimes on 7.x), or,
/// waiting without a worker, by the module when the thread's task work
/// runs as it exits (or in io_uring's fallback after it): the future,
/// still alive, sends it again and completes.
#[test]
fn ready_cancelled_by_an_exiting_thread_is_sent_again() {
    use std::future::Future;
    let g = need!(dev());
    let (_f, m) = need!(slow_file());
    let p = ps();
    let w = cold_window(&m, 64, 32); // seconds of the throttled disk
    rt_current().block_on(async {
        let a = AsyncGupnw::new(g).unwrap();
        assert!(a.uses_uring(), "io_uring READY expected on 6.1+");
        let mut fut = Box::pin(a.ready_range(w, 64 * p, false));
        // The first poll (the probe, the READY's submission) on a thread
        // that ends right after it.
        let pending = std::thread::scope(|s| {
            s.spawn(|| {
                let waker =
                    std::task::Waker::from(std::sync::Arc::new(CountingWaker(Default::default())));
                let mut cx = std::task::Context::from_waker(&waker);
                fut.as_mut().poll(&mut cx).is_pending()
            })
            .join()
            .unwrap()
        });
        if !pending {
            println!("skipped: the window was read before the thread exited");
            return;
        }
        let r = fut.await.expect("ready after its thread exited");
        assert_eq!(r.present, r.pages, "{:?}", r);
        assert_eq!(r.path, ReadyPath::Uring);
        // SAFETY: utsname is plain bytes; all zeroes is a valid value.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: uname fills the struct.
        unsafe { libc::uname(&mut u) };
        let v6 = u.release[0] as u8 == b'6' && u.release[1] as u8 == b'.';
        println!("retried {} (6.x: {})", a.retried(), v6);
        assert!(a.retried() <= 1, "sent again more than once");
        assert!(
            !v6 || a.retried() == 1,
            "6.x cancels an exiting thread's READY"
        );
        assert_eq!(a.in_flight(), 0);
    });
}

#[test]
fn ready_misaligned_range_is_invalid_input() {
    let g = need!(dev());
    rt_current().block_on(async {
        let a = AsyncGupnw::new(g).unwrap();
        let e = a.ready_range(4097, 10, false).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    });
}
