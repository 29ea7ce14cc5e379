// SPDX-License-Identifier: LGPL-2.1-or-later
//! A tokio TCP server that serves fixed-size records straight out of a large
//! mmap'd file, and a load generator that measures it: a steady stream of
//! requests for hot records (in memory) mixed with requests for cold ones
//! (on a slow disk). One cold page fault parks a whole tokio worker thread,
//! and every hot request queued behind it waits; `gupnw` lets the task
//! await the page instead.
//!
//! Modes of the server (how a request reads its record):
//!   plain     touch the mapping in the task (what mmap-serving projects do)
//!   blocking  every read inside spawn_blocking
//!   gupnw     AsyncGupnw::ready(record).await, then touch it
//!
//! ```text
//! mmap_server FILE [--seconds S] [--warmup S] [--workers N] [--hot-conns N]
//!             [--hot-rate R] [--cold-conns N] [--ready-limit N]
//!             [--modes baseline,baseline-gupnw,plain,blocking,gupnw]
//! ```
//! Prints one line per run and a table; each run gets a fresh server (a new
//! runtime on 127.0.0.1) and its own, never-read cold records. `baseline`
//! is the plain server with no cold traffic; `baseline-gupnw` the gupnw
//! server with none. A mode with cold traffic may say how many cold
//! connections it gets, `gupnw:1000`, else `--cold-conns`. While a run
//! lasts, the server process's threads and RSS are sampled (the peak is
//! reported); below the table, one `cdf tokio SLUG ms@pct ...` line per run
//! gives its hot latencies at percentiles 0..99, 99.9, 99.99 and 100.

use std::io;
use std::net::SocketAddr;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gupnw::Flags;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes per record, whatever the page size: on a kernel with larger pages
/// (16 or 64 KiB) a page holds several records.
const RECORD: usize = 4096;
const HOT_RECORDS: u64 = 256;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Plain,
    Blocking,
    Gupnw,
    /// gupnw without io_uring: `ready()` waits on a blocking pool of one
    /// thread.
    Gupnw1,
    /// gupnw as `Gupnw`, but the first probe is NOWAIT (it starts the
    /// read), as `ready()` itself does: for comparison (not run by default).
    GupnwNowait,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Blocking => "blocking",
            Mode::Gupnw => "gupnw",
            Mode::Gupnw1 => "gupnw1",
            Mode::GupnwNowait => "gupnw-nowait",
        }
    }

    /// The name in the `cdf` lines.
    fn slug(self) -> &'static str {
        match self {
            Mode::Blocking => "spawn_blocking",
            m => m.name(),
        }
    }
}

/// The file, mapped read-only, shared by every task.
struct Mapping {
    ptr: *const u8,
    len: usize,
    page: usize,
    _file: std::fs::File,
}

// SAFETY: a read-only shared mapping, never unmapped while referenced.
// Caveat, as for any slice over a MAP_SHARED file mapping: if another
// process truncates the file, touching a record past the new end raises
// SIGBUS (the process dies). Acceptable for this example, whose file no
// one else writes; a server over files others may shrink must catch it or
// hold a lease.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

/// The page-aligned span (start, length) that covers `[addr, addr + len)`:
/// what mincore(2) wants, since it refuses an address inside a page.
fn page_span(addr: usize, len: usize, page: usize) -> (usize, usize) {
    let start = addr & !(page - 1);
    let end = (addr + len + page - 1) & !(page - 1);
    (start, end - start)
}

impl Mapping {
    fn open(path: &str) -> io::Result<Mapping> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len() as usize;
        // SAFETY: a fresh read-only shared mapping of the whole file.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // Random access: a cold fault reads its own page, no read-around.
        // And no 2 MiB collapses by khugepaged: on 7.x it collapses ext4 file
        // mappings too, reading the rest of each 2 MiB range from the disk
        // (7.3 mm/khugepaged.c collapse_file()), ahead of the reads we wait for.
        // SAFETY: advice on our mapping.
        unsafe {
            libc::madvise(p, len, libc::MADV_RANDOM);
            libc::madvise(p, len, libc::MADV_NOHUGEPAGE);
        }
        // SAFETY: no memory effects.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        Ok(Mapping {
            ptr: p as *const u8,
            len,
            page,
            _file: file,
        })
    }

    /// mincore(2): whether the record's page(s) are in the page cache.
    fn in_memory(&self, i: u64) -> bool {
        let (start, len) = page_span(self.ptr as usize + i as usize * RECORD, RECORD, self.page);
        let mut v = vec![0u8; len / self.page];
        // SAFETY: whole pages of the mapping (it starts on a page and its
        // last page is whole to the kernel), one byte of result per page.
        let r = unsafe { libc::mincore(start as *mut libc::c_void, len, v.as_mut_ptr()) };
        r == 0 && v.iter().all(|b| b & 1 != 0)
    }

    fn records(&self) -> u64 {
        (self.len / RECORD) as u64
    }

    fn record(&self, i: u64) -> &[u8] {
        let off = i as usize * RECORD;
        assert!(off + RECORD <= self.len);
        // SAFETY: inside the mapping, which lives as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr.add(off), RECORD) }
    }
}

fn checksum(r: &[u8]) -> u64 {
    r.chunks(8).fold(0u64, |s, c| s.wrapping_add(c[0] as u64))
}

/// What the gupnw server holds: the handle, and the permits of the READYs
/// it lets wait at once (`--ready-limit`). A request for a record whose
/// NOWAIT probe (which starts its read) finds it missing takes a permit
/// before `ready().await`: with a thousand cold requests the crate would
/// otherwise send the 257th wait on to tokio's blocking pool (its ring's
/// limit), a thread per wait; the reads are all under way anyway.
#[derive(Clone)]
struct Waits {
    g: gupnw::AsyncGupnw,
    permits: Arc<tokio::sync::Semaphore>,
}

async fn serve_conn(
    mut s: TcpStream,
    map: Arc<Mapping>,
    mode: Mode,
    w: Option<Waits>,
) -> io::Result<()> {
    s.set_nodelay(true)?;
    let mut req = [0u8; 8];
    loop {
        if s.read_exact(&mut req).await.is_err() {
            return Ok(()); // client gone
        }
        let i = u64::from_le_bytes(req) % map.records();
        match mode {
            Mode::Plain => {
                let r = map.record(i);
                let sum = checksum(r); // may fault and park this worker
                s.write_all(&sum.to_le_bytes()).await?;
                s.write_all(r).await?;
            }
            Mode::Blocking => {
                let m = map.clone();
                let (sum, buf) = tokio::task::spawn_blocking(move || {
                    let r = m.record(i);
                    (checksum(r), r.to_vec())
                })
                .await
                .map_err(|e| io::Error::new(io::ErrorKind::Other, e))?;
                s.write_all(&sum.to_le_bytes()).await?;
                s.write_all(&buf).await?;
            }
            Mode::Gupnw | Mode::Gupnw1 | Mode::GupnwNowait => {
                let r = map.record(i);
                let w = w.as_ref().expect("gupnw handle");
                // Report-only first: a NOWAIT probe would start the read
                // here, and with hundreds of reads queued on the disk,
                // submitting one more waits for a free request tag of the
                // block layer (blk_mq_get_tag): the worker would park.
                // Only the READYs let through start reads.
                let c = if mode == Mode::GupnwNowait {
                    w.g.handle().probe_slice(r, Flags::NOWAIT, None)?
                } else {
                    w.g.handle().probe_slice(r, Flags::NOFAULT, None)?
                };
                if c.cold != 0 || c.retry != 0 || c.error != 0 {
                    let _p = w.permits.acquire().await;
                    w.g.ready(r).await?;
                }
                let sum = checksum(r);
                s.write_all(&sum.to_le_bytes()).await?;
                s.write_all(r).await?;
            }
        }
    }
}

/// Start a server on its own runtime; returns its address and the runtime.
fn start_server(
    map: Arc<Mapping>,
    mode: Mode,
    workers: usize,
    ready_limit: usize,
) -> io::Result<(SocketAddr, tokio::runtime::Runtime)> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.worker_threads(workers).enable_all();
    if mode == Mode::Gupnw1 {
        b.max_blocking_threads(1);
    }
    let rt = b.build()?;
    let (addr, listener, g) = rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let g = if mode == Mode::Gupnw1 {
            let g = gupnw::AsyncGupnw::without_uring(gupnw::Gupnw::open()?)?;
            Some(Waits {
                g,
                permits: Arc::new(tokio::sync::Semaphore::new(ready_limit)),
            })
        } else if mode == Mode::Gupnw || mode == Mode::GupnwNowait {
            let g = gupnw::AsyncGupnw::open()?;
            if !g.uses_uring() {
                eprintln!(
                    "mmap_server: no io_uring READY: the gupnw mode waits on the blocking pool"
                );
            }
            Some(Waits {
                g,
                permits: Arc::new(tokio::sync::Semaphore::new(ready_limit)),
            })
        } else {
            None
        };
        Ok::<_, io::Error>((l.local_addr()?, l, g))
    })?;
    rt.spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve_conn(s, map.clone(), mode, g.clone()));
        }
    });
    Ok((addr, rt))
}

struct Stats {
    unanswered: usize,
    hot_us: Vec<u64>,
    cold_us: Vec<u64>,
    secs: f64,
}

impl Stats {
    fn print(&self) {
        let j = |v: &[u64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("secs {}", self.secs);
        println!("unanswered {}", self.unanswered);
        println!("hot {}", j(&self.hot_us));
        println!("cold {}", j(&self.cold_us));
    }

    fn parse(s: &str) -> Stats {
        let mut st = Stats {
            unanswered: 0,
            hot_us: Vec::new(),
            cold_us: Vec::new(),
            secs: 1.0,
        };
        for l in s.lines() {
            let mut w = l.split_whitespace();
            match w.next() {
                Some("secs") => st.secs = w.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
                Some("unanswered") => {
                    st.unanswered = w.next().and_then(|v| v.parse().ok()).unwrap_or(0)
                }
                Some("hot") => st.hot_us = w.filter_map(|v| v.parse().ok()).collect(),
                Some("cold") => st.cold_us = w.filter_map(|v| v.parse().ok()).collect(),
                _ => {}
            }
        }
        st
    }
}

/// `--client ADDR FILE SECS WARMUP RATE HOT_CONNS COLD_CONNS COLD_START COLD_END`:
/// the load generator process; prints its latencies for the server process.
fn client(a: &[String]) -> io::Result<()> {
    raise_nofile();
    let p = |i: usize| -> f64 { a[i].parse().expect("client argument") };
    let addr: SocketAddr = a[0].parse().expect("client address");
    // Its own mapping of the file: mincore() sees the shared page cache.
    let map = Arc::new(Mapping::open(&a[1])?);
    let cold = (p(7) as u64)..(p(8) as u64);
    let st = load(
        map,
        addr,
        p(2),
        p(3),
        p(5) as usize,
        p(4),
        p(6) as usize,
        Arc::new(Mutex::new(cold)),
    )?;
    st.print();
    Ok(())
}

/// A thousand connections need more descriptors than the usual soft limit
/// of 1024: take the hard limit. Returns it.
fn raise_nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 0;
        }
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
    }
    r.rlim_max as u64
}

async fn request(s: &mut TcpStream, i: u64, buf: &mut [u8]) -> io::Result<()> {
    s.write_all(&i.to_le_bytes()).await?;
    s.read_exact(buf).await?;
    Ok(())
}

/// Hot clients paced at `rate` requests/s each, latency measured from the
/// scheduled send time (a stalled server is charged for the requests it
/// delayed); cold clients closed-loop over never-read records.
#[allow(clippy::too_many_arguments)]
fn load(
    map: Arc<Mapping>,
    addr: SocketAddr,
    secs: f64,
    warmup: f64,
    hot_conns: usize,
    rate: f64,
    cold_conns: usize,
    cold: Arc<Mutex<std::ops::Range<u64>>>,
) -> io::Result<Stats> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stop = Arc::new(AtomicBool::new(false));
        // The cold connections first, all of them: a thousand connections
        // set up under TCG take seconds, which are no part of the question.
        let mut conns = Vec::new();
        for _ in 0..cold_conns {
            conns.push(tokio::spawn(async move {
                let s = TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Ok::<_, io::Error>(s)
            }));
        }
        let mut streams = Vec::new();
        for c in conns {
            streams.push(
                c.await
                    .map_err(|e| io::Error::new(io::ErrorKind::Other, e))??,
            );
        }
        // Requests before `start` warm up the emulator's code cache and the
        // connections; they are not counted.
        let t0 = Instant::now();
        let start = t0 + Duration::from_secs_f64(warmup);
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut hot = Vec::new();
        for c in 0..hot_conns {
            // Latencies so far and the scheduled time of the next request,
            // readable while the client waits on a stalled server.
            let shared = Arc::new(Mutex::new((Vec::new(), Instant::now())));
            let sh = shared.clone();
            let task = tokio::spawn(async move {
                // Spread the connections over one period; the schedule
                // starts before the connection does (a late one is charged).
                let mut next = t0 + period.mul_f64(c as f64 / hot_conns as f64);
                sh.lock().unwrap().1 = next;
                let mut s = TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                let mut buf = vec![0u8; 8 + RECORD];
                let mut k = c as u64;
                loop {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
                    request(&mut s, k % HOT_RECORDS, &mut buf).await?;
                    let mut g = sh.lock().unwrap();
                    if next >= start {
                        g.0.push(next.elapsed().as_micros() as u64);
                    }
                    k = k
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407)
                        >> 1;
                    next += period;
                    g.1 = next;
                }
                #[allow(unreachable_code)]
                Ok::<_, io::Error>(())
            });
            hot.push((task, shared));
        }
        // Cold latencies of every connection, kept outside the tasks: at the
        // end they are aborted, not waited for (a thousand of them may be
        // stuck behind the throttled disk).
        let cold_lat = Arc::new(Mutex::new(Vec::new()));
        let mut colds = Vec::new();
        for mut s in streams {
            let (stop, cold, map) = (stop.clone(), cold.clone(), map.clone());
            let lat = cold_lat.clone();
            colds.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 8 + RECORD];
                while !stop.load(Ordering::Relaxed) {
                    // Never a record someone else read (other tests of the boot).
                    let i = match cold.lock().unwrap().find(|&i| !map.in_memory(i)) {
                        Some(i) => i,
                        None => break,
                    };
                    let t = Instant::now();
                    request(&mut s, i, &mut buf).await?;
                    // Answered in the measured window, whenever sent: a
                    // thousand connections' first requests, sent in the
                    // warm-up, are most of what a run answers.
                    if Instant::now() >= start {
                        lat.lock().unwrap().push(t.elapsed().as_micros() as u64);
                    }
                }
                Ok::<_, io::Error>(())
            }));
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(
            start + Duration::from_secs_f64(secs),
        ))
        .await;
        stop.store(true, Ordering::Relaxed);
        let elapsed = start.elapsed().as_secs_f64();
        let mut st = Stats {
            unanswered: 0,
            hot_us: Vec::new(),
            cold_us: Vec::new(),
            secs: elapsed,
        };
        // Requests not answered by the end (sent and waiting, or not sent
        // yet because the previous one is still waiting) count with their
        // age then: a server that answers nothing has no good percentile.
        let end = Instant::now();
        for (task, shared) in hot {
            task.abort();
            let (mut lat, mut t) = {
                let g = shared.lock().unwrap();
                (g.0.clone(), g.1)
            };
            while t < end {
                if t >= start {
                    lat.push((end - t).as_micros() as u64);
                    st.unanswered += 1;
                }
                t += period;
            }
            st.hot_us.extend(lat);
        }
        // A cold client may be stuck on its last record for a while: its
        // earlier latencies count, the last one is left behind.
        for c in colds {
            c.abort();
        }
        st.cold_us = cold_lat.lock().unwrap().clone();
        st.secs = st.secs.max(elapsed);
        Ok(st)
    })
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i] as f64 / 1000.0
}

fn ms(v: f64, prec: usize) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{:.*} ms", prec, v)
    }
}

struct Row {
    name: String,
    slug: String,
    mode: Mode,
    cold_conns: usize,
    hot: usize,
    unanswered: usize,
    p50: f64,
    p99: f64,
    max: f64,
    hot_rps: f64,
    cold: usize,
    cold_p50: f64,
    cold_rps: f64,
    peak: Peak,
    cdf: String,
}

/// What the server process held at most while a run lasted.
#[derive(Default, Clone)]
struct Peak {
    /// `Threads` of /proc/self/status, less the main thread (it starts the
    /// servers and the load generators and samples this; it serves nothing).
    threads: u64,
    /// The most io_uring workers (`iou-wrk-*`) seen (counted every 250 ms:
    /// a scan reads every thread's name).
    iou_wrk: u64,
    /// `VmHWM` (reset before the run): anonymous memory, and the file's
    /// pages this process has mapped (the hot set, and the cold records
    /// earlier runs read: the RSS of a run includes theirs).
    hwm_kib: u64,
    /// The most `RssAnon` sampled: thread stacks, buffers, the heap.
    anon_kib: u64,
    /// Where tokio's threads (workers and blocking pool) slept, by
    /// /proc/self/task/*/wchan, counted at each scan: what parks them.
    waits: std::collections::HashMap<String, u64>,
}

impl Peak {
    fn top_waits(&self) -> String {
        let mut v: Vec<_> = self.waits.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let s = v
            .iter()
            .take(3)
            .map(|(w, n)| format!("{} x{}", w, n))
            .collect::<Vec<_>>()
            .join(", ");
        if s.is_empty() {
            "-".into()
        } else {
            s
        }
    }
}

fn status_field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l[key.len()..].split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// io_uring workers now; the wait channels of tokio's sleeping threads go
/// to `waits` (an idle worker's epoll wait and the pool's idle wait are
/// left out: they are no stall).
fn scan_threads(waits: &mut std::collections::HashMap<String, u64>) -> u64 {
    let mut n = 0;
    if let Ok(d) = std::fs::read_dir("/proc/self/task") {
        for e in d.flatten() {
            let c = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            if c.starts_with("iou-wrk") {
                n += 1;
            } else if c.starts_with("tokio-") {
                let w = std::fs::read_to_string(e.path().join("wchan")).unwrap_or_default();
                let w = w.trim();
                let idle = w.starts_with("futex") || w.contains("ep_poll") || w.contains("epoll");
                if !w.is_empty() && w != "0" && !idle {
                    *waits.entry(w.to_string()).or_default() += 1;
                }
            }
        }
    }
    n
}

/// Wait for `child` (the load generator), sampling this process every
/// 20 ms meanwhile.
fn sample_until_exit(
    child: &mut std::process::Child,
) -> io::Result<(std::process::ExitStatus, Peak)> {
    // "5": reset VmHWM to the current RSS (Linux 4.0+).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut pk = Peak::default();
    let mut last_scan: Option<Instant> = None;
    loop {
        if let Some(st) = child.try_wait()? {
            let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            pk.hwm_kib = status_field(&s, "VmHWM:");
            return Ok((st, pk));
        }
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        pk.threads = pk
            .threads
            .max(status_field(&s, "Threads:").saturating_sub(1));
        pk.anon_kib = pk.anon_kib.max(status_field(&s, "RssAnon:"));
        if last_scan.map_or(true, |t| t.elapsed() > Duration::from_millis(250)) {
            let n = scan_threads(&mut pk.waits);
            pk.iou_wrk = pk.iou_wrk.max(n);
            last_scan = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Threads of this process but the main one, after `secs` at most of
/// waiting for the last run's to end (blocking-pool threads still in a
/// page fault outlive their runtime).
fn settle_threads(secs: u64) -> u64 {
    let t0 = Instant::now();
    loop {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let n = status_field(&s, "Threads:").saturating_sub(1);
        if n == 0 || t0.elapsed() > Duration::from_secs(secs) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `ms@pct` of the hot latencies at percentiles 0, 1, ..., 99, 99.9,
/// 99.99 and 100, for the plots.
fn cdf(v: &mut [u64]) -> String {
    let mut ps: Vec<f64> = (0..100).map(|p| p as f64).collect();
    ps.extend([99.9, 99.99, 100.0]);
    ps.iter()
        .map(|&p| {
            let q = if p == 0.0 {
                v.iter().min().map_or(f64::NAN, |&x| x as f64 / 1000.0)
            } else {
                pct(v, p / 100.0)
            };
            format!("{:.3}@{}", q, p)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Read never-read records from the end of the file until one takes less
/// than 150 ms (at most 300 s); the runs take theirs from the front.
fn drain(map: &Mapping) -> (f64, usize) {
    let t0 = Instant::now();
    let mut reads = 0;
    let mut i = map.records() - 1;
    while i > map.records() / 2 && t0.elapsed() < Duration::from_secs(300) {
        if !map.in_memory(i) {
            let t = Instant::now();
            // SAFETY: inside the mapping; volatile, so the read happens.
            unsafe { std::ptr::read_volatile(map.record(i).as_ptr()) };
            reads += 1;
            if t.elapsed() < Duration::from_millis(150) {
                break;
            }
        }
        i -= 1;
    }
    (t0.elapsed().as_secs_f64(), reads)
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("bad value for {}", name))
        })
        .unwrap_or(default)
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 11 && args[1] == "--client" {
        return client(&args[2..]);
    }
    let path = match args.get(1) {
        Some(p) if !p.starts_with("--") => p.clone(),
        _ => {
            eprintln!("usage: mmap_server FILE [--seconds S] [--warmup S] [--workers N] [--hot-conns N] [--hot-rate R] [--cold-conns N] [--ready-limit N] [--modes LIST]");
            std::process::exit(2);
        }
    };
    let secs: f64 = arg(&args, "--seconds", 5.0);
    let warmup: f64 = arg(&args, "--warmup", 1.0);
    let workers: usize = arg(&args, "--workers", 2);
    // Far below what a loaded TCG guest serves: latency, not capacity.
    let hot_conns: usize = arg(&args, "--hot-conns", 2);
    let rate: f64 = arg(&args, "--hot-rate", 10.0);
    let cold_conns: usize = arg(&args, "--cold-conns", 4);
    let ready_limit: usize = arg(&args, "--ready-limit", 1);
    let modes: String = arg(
        &args,
        "--modes",
        "baseline,baseline-gupnw,plain,blocking,gupnw".to_string(),
    );
    let nofile = raise_nofile();

    let map = Arc::new(Mapping::open(&path)?);
    let nrec = map.records();
    if nrec < HOT_RECORDS * 4 {
        eprintln!("mmap_server: {} is too small ({} records)", path, nrec);
        std::process::exit(1);
    }
    // Warm the hot set: it stays in memory for the whole run.
    let warm: u64 = (0..HOT_RECORDS).map(|i| checksum(map.record(i))).sum();
    println!(
        "# {}: {} records of {} bytes; hot set {} records (warm, checksum {:x}); {} workers; {} hot conns x {}/s; {} cold conns; {} s per run after {} s of warm-up",
        path, nrec, RECORD, HOT_RECORDS, warm, workers, hot_conns, rate, cold_conns, secs, warmup
    );
    println!(
        "# gupnw server: at most {} READY(s) waiting at once; open files: up to {}",
        ready_limit, nofile
    );

    // Reads queued on the throttled disk by whoever used it before (other
    // tests, other benchmarks) would delay every cold request of the first
    // runs: wait until a cold read takes one throttle slot again.
    let (drained, reads) = drain(&map);
    println!(
        "# throttled disk drained: {} cold read(s), {:.1} s",
        reads, drained
    );

    // Runs: "mode" or "mode:N" (N cold connections).
    let runs: Vec<(&str, Option<usize>)> = modes
        .split(',')
        .map(|r| match r.split_once(':') {
            Some((m, n)) => (
                m,
                Some(n.parse().unwrap_or_else(|_| {
                    eprintln!("mmap_server: bad run {}", r);
                    std::process::exit(2)
                })),
            ),
            None => (r, None),
        })
        .collect();
    // Each run with cold traffic gets its own slice of never-read records,
    // in proportion to its connections (each holds one at a time) plus
    // what the throttled disk can read meanwhile.
    let want = |n: usize| n as u64 + 4 * (20.0 * (secs + warmup)) as u64;
    let mut with_cold_total = 0;
    for (m, n) in &runs {
        if !m.starts_with("baseline") {
            with_cold_total += want(n.unwrap_or(cold_conns));
        }
    }
    let scale = ((nrec - HOT_RECORDS) as f64 / with_cold_total.max(1) as f64).min(1e9);
    let mut next_cold = HOT_RECORDS;
    let mut rows = Vec::new();
    for (run, n) in &runs {
        let (mode, with_cold) = match *run {
            "baseline" => (Mode::Plain, false),
            "baseline-gupnw" => (Mode::Gupnw, false),
            "plain" => (Mode::Plain, true),
            "blocking" => (Mode::Blocking, true),
            "gupnw" => (Mode::Gupnw, true),
            "gupnw1" => (Mode::Gupnw1, true),
            "gupnw-nowait" => (Mode::GupnwNowait, true),
            other => {
                eprintln!("mmap_server: unknown mode {}", other);
                std::process::exit(2);
            }
        };
        let conns = if with_cold {
            n.unwrap_or(cold_conns)
        } else {
            0
        };
        let cold = if with_cold {
            let per = ((want(conns) as f64 * scale) as u64).max(1);
            let r = next_cold..(next_cold + per).min(nrec);
            next_cold = r.end;
            r
        } else {
            0..0
        };
        let left = settle_threads(60);
        if left > 0 {
            println!("# {} thread(s) of the last run still there", left);
        }
        let (addr, rt) = start_server(map.clone(), mode, workers, ready_limit)?;
        // The load generator is a process of its own, as a real client would
        // be: a fault holding the server's mmap_lock must not stall it. Its
        // report goes to a file: this thread samples, it reads no pipe.
        let out_path =
            std::env::temp_dir().join(format!("mmap-server-load-{}", std::process::id()));
        let out_file = std::fs::File::create(&out_path)?;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args(["--client", &addr.to_string(), &path])
            .args([secs, warmup, rate].iter().map(|v| v.to_string()))
            .args([hot_conns, conns].iter().map(|v| v.to_string()))
            .args([cold.start, cold.end].iter().map(|v| v.to_string()))
            .stdout(out_file)
            .stderr(std::process::Stdio::inherit())
            .spawn()?;
        let (status, peak) = sample_until_exit(&mut child)?;
        rt.shutdown_timeout(Duration::from_secs(10));
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        let _ = std::fs::remove_file(&out_path);
        if !status.success() {
            eprintln!("mmap_server: the load generator failed ({})", status);
            std::process::exit(1);
        }
        let mut st = Stats::parse(&out);
        let (name, slug) = match (with_cold, n) {
            (false, _) => (format!("{}, no cold", mode.name()), mode.slug().to_string()),
            (true, None) => (
                format!("{} + cold", mode.name()),
                format!("{}-cold", mode.slug()),
            ),
            (true, Some(k)) => (
                format!("{} + {} cold", mode.name(), k),
                format!("{}-cold{}", mode.slug(), k),
            ),
        };
        let row = Row {
            name,
            slug,
            mode,
            cold_conns: conns,
            hot: st.hot_us.len() - st.unanswered,
            unanswered: st.unanswered,
            p50: pct(&mut st.hot_us, 0.50),
            p99: pct(&mut st.hot_us, 0.99),
            max: pct(&mut st.hot_us, 1.0),
            hot_rps: (st.hot_us.len() - st.unanswered) as f64 / st.secs,
            cold: st.cold_us.len(),
            cold_p50: pct(&mut st.cold_us, 0.50),
            cold_rps: st.cold_us.len() as f64 / st.secs,
            peak,
            cdf: cdf(&mut st.hot_us),
        };
        println!(
            "# run {:<22} hot {} (+{} unanswered) p50 {:.2} ms p99 {:.2} ms max {:.2} ms; cold {} p50 {:.1} ms; threads {} (iou-wrk {}), RSS {} KiB, anon {} KiB; tokio threads slept in: {}",
            row.name, row.hot, row.unanswered, row.p50, row.p99, row.max, row.cold, row.cold_p50,
            row.peak.threads, row.peak.iou_wrk, row.peak.hwm_kib, row.peak.anon_kib,
            row.peak.top_waits()
        );
        rows.push(row);
        // Let the throttled disk drain what the run left queued: a run of
        // many cold connections leaves as many reads.
        if conns > cold_conns {
            let (d, _) = drain(&map);
            println!("# throttled disk drained in {:.1} s", d);
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    println!();
    println!(
        "{:<24} {:>7} {:>6} {:>10} {:>10} {:>10} {:>7} {:>6} {:>9} {:>7} {:>7} {:>7} {:>5}",
        "server",
        "hot req",
        "unans",
        "hot p50",
        "hot p99",
        "hot max",
        "hot/s",
        "cold",
        "cold p50",
        "cold/s",
        "threads",
        "RSS MiB",
        "anon"
    );
    for r in &rows {
        println!(
            "{:<24} {:>7} {:>6} {:>10} {:>10} {:>10} {:>7.1} {:>6} {:>9} {:>7.1} {:>7} {:>7.1} {:>5.1}",
            r.name,
            r.hot,
            r.unanswered,
            ms(r.p50, 2),
            ms(r.p99, 2),
            ms(r.max, 1),
            r.hot_rps,
            r.cold,
            ms(r.cold_p50, 0),
            r.cold_rps,
            r.peak.threads,
            r.peak.hwm_kib as f64 / 1024.0,
            r.peak.anon_kib as f64 / 1024.0
        );
    }
    println!(
        "(threads: the server process's at peak, its main thread not counted (it runs the harness); RSS: VmHWM; anon: RssAnon at peak, MiB)"
    );
    println!("Where tokio's threads slept (wchan, one count per thread per 250 ms sample; idle waits left out):");
    for r in &rows {
        println!("  {:<24} {}", r.name, r.peak.top_waits());
    }
    let find = |n: &str| rows.iter().find(|r| r.name == n);
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    println!("Targets (ratios of this run):");
    if let (Some(b), Some(a), Some(c)) = (
        find("plain, no cold"),
        find("plain + cold"),
        find("gupnw + cold"),
    ) {
        let r1 = c.p99 / b.p99;
        let r2 = a.p99 / c.p99;
        println!(
            "  gupnw + cold hot p99 / no-cold baseline p99   {:>8.2}x  (<= 2x)   {}",
            r1,
            verdict(r1 <= 2.0)
        );
        println!(
            "  plain + cold hot p99 / gupnw + cold hot p99   {:>8.1}x  (>= 10x)  {}",
            r2,
            verdict(r2 >= 10.0)
        );
        // The no-cold baselines differ only by noise (a vCPU stall under TCG
        // lands in one run or the other): the other one, for reference.
        if let Some(bg) = find("gupnw, no cold") {
            println!(
                "  (gupnw + cold hot p99 / gupnw, no cold p99    {:>8.2}x, for reference)",
                c.p99 / bg.p99
            );
        }
    }
    // At scale: the gupnw server's own no-cold run is its baseline; each
    // gupnw server at the most cold connections is held to the targets.
    let gupnw = |m: Mode| m == Mode::Gupnw || m == Mode::Gupnw1;
    let gupnw_family = |m: Mode| gupnw(m) || m == Mode::GupnwNowait;
    let top = rows
        .iter()
        .filter(|r| r.cold_conns > cold_conns)
        .map(|r| r.cold_conns)
        .max();
    if let (Some(k), Some(bg)) = (top, find("gupnw, no cold")) {
        for g in rows.iter().filter(|r| gupnw(r.mode) && r.cold_conns == k) {
            let r = g.p99 / bg.p99;
            println!(
                "  {} hot p99 / gupnw, no cold p99 {:>7.2}x  (<= 2x)  {}",
                g.name,
                r,
                verdict(r <= 2.0)
            );
            println!(
                "  {} threads at peak {:>14}  (<= {} workers + 1)  {}  ({} iou-wrk)",
                g.name,
                g.peak.threads,
                workers,
                verdict(g.peak.threads <= workers as u64 + 1),
                g.peak.iou_wrk
            );
        }
        for r in rows
            .iter()
            .filter(|r| !gupnw_family(r.mode) && r.cold_conns == k)
        {
            println!(
                "  ({} hot p99 {}, {} unanswered, {} threads: reported, no target)",
                r.name,
                ms(r.p99, 1),
                r.unanswered,
                r.peak.threads
            );
        }
    }
    println!();
    for r in &rows {
        println!("cdf tokio {} {}", r.slug, r.cdf);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_spans_are_whole_pages_for_any_page_size() {
        for page in [4096, 16384, 65536] {
            let base = 0x7f00_0000_0000usize; // a mapping starts on a page
            for i in 0..40 {
                let addr = base + i * RECORD;
                let (start, len) = page_span(addr, RECORD, page);
                assert_eq!(
                    (start % page, len % page),
                    (0, 0),
                    "record {} page {}",
                    i,
                    page
                );
                assert!(start <= addr && addr + RECORD <= start + len);
                assert_eq!(len, page, "a record lies in one page");
            }
        }
    }

    #[test]
    fn in_memory_sees_a_touched_record_at_any_offset_in_its_page() {
        let path = std::env::temp_dir().join(format!("mmap-server-test-{}", std::process::id()));
        std::fs::write(&path, vec![1u8; 64 * RECORD]).unwrap();
        let map = Mapping::open(path.to_str().unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        // Just written: in the page cache, every record, aligned or not.
        assert!((0..64).all(|i| map.in_memory(i)));
        assert_eq!(checksum(map.record(63)), (RECORD / 8) as u64);
    }
}
