// SPDX-License-Identifier: LGPL-2.1-or-later

// Command bboltserver serves the values of a bbolt database over TCP on
// 127.0.0.1, and measures itself: hot keys requested on a fixed schedule,
// plus connections asking for cold keys (on a slow disk). A cold page fault
// inside bbolt's Get blocks its OS thread and the P it holds, and every hot
// request queued on that P waits; with gupnw the goroutine awaits the pages
// (Device.Ready) before Get touches them.
//
// How a request finds its value (-mode):
//
//	plain  tx.Bucket(b).Get(key) on bbolt's mapping
//	pread  the same B+tree walk with pread(2) (os.File.ReadAt): the thread
//	       blocks in a system call, the Go runtime hands its P to another
//	gupnw  the walk first, Ready(ctx, page) on each page Get will touch
//	       (branch, leaf, overflow; present ones cost one probe), then Get;
//	       a branch page found present is not probed again for a second
//
// Usage:
//
//	bboltserver -create DB [-keys N] [-value-size S]
//	bboltserver -bench DB [-seconds S] [-rounds R] [-modes plain,pread,gupnw] [-procs 2]
//	            [-hot-conns N] [-hot-interval D] [-cold-conns N]
//	bboltserver -touch FILE [-goroutines N] [-pages K] [-touch-rounds R]
//
// -touch measures cold pages made present per second by N goroutines, at
// GOMAXPROCS 2 and 4, touching them (each fault blocks a P) or awaiting them
// with Ready first (the reads overlap in io_uring's workers, N of them per
// submitting thread); each row gets its own K never-read pages of FILE per
// round (a big file, or a block device: the bench's disk whose every read
// takes 1 ms, whose read latency it prints first).
//
// -bench starts a fresh server process (-serve, GOMAXPROCS=-procs) per row
// and round (-rounds rounds of -seconds each, every row once per round, so
// the host's changing load falls on every row alike) and prints a table:
// hot requests answered and unanswered, hot p50/p99/max in ms, cold requests
// answered and per second, the server's OS threads and peak RSS; then the
// targets and one "cdf bbolt ROW MS@PCT ..." line per row.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
	"gupnw.local/gupnw"
)

var bucketName = []byte("records")

// Keys 0..hotKeys-1 are the hot set; the rest is split among the runs.
const hotKeys = 256

func key(i uint64) []byte { return []byte(fmt.Sprintf("k%09d", i)) }

func create(path string, keys, size int) error {
	db, err := bolt.Open(path, 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		return err
	}
	rnd := rand.New(rand.NewSource(1))
	v := make([]byte, size)
	// One transaction: a compact file, no freed pages.
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketName)
		if err != nil {
			return err
		}
		b.FillPercent = 1 // sequential keys: full leaves
		for i := 0; i < keys; i++ {
			rnd.Read(v)
			if err := b.Put(key(uint64(i)), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return err
	}
	if err := db.Sync(); err != nil {
		return err
	}
	return db.Close()
}

// bbolt's page format (1.3.6, page.go): a 16-byte header, then elements.
const (
	branchFlag = 0x01
	leafFlag   = 0x02
	hdrSize    = 16
	elemSize   = 16
)

// walk finds key's value below page root the way bbolt's Cursor does,
// reading each page (and its overflow pages) through page.
func walk(root uint64, k []byte, page func(id, n uint64) ([]byte, error)) ([]byte, error) {
	le := binary.LittleEndian
	id := root
	for depth := 0; depth < 64; depth++ {
		p, err := page(id, 1)
		if err != nil {
			return nil, err
		}
		if ov := uint64(le.Uint32(p[12:])); ov > 0 {
			if p, err = page(id, 1+ov); err != nil {
				return nil, err
			}
		}
		flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
		elem := func(i int) (e []byte, kk []byte) {
			e = p[hdrSize+i*elemSize:]
			pos, ks := le.Uint32(e[4:]), le.Uint32(e[8:])
			if flags&branchFlag != 0 {
				pos, ks = le.Uint32(e[0:]), le.Uint32(e[4:])
			}
			return e, e[pos : pos+ks]
		}
		switch {
		case flags&branchFlag != 0:
			exact := false
			i := sort.Search(count, func(i int) bool {
				_, kk := elem(i)
				c := bytes.Compare(kk, k)
				exact = exact || c == 0
				return c != -1
			})
			if !exact && i > 0 {
				i--
			}
			if i >= count {
				i = count - 1
			}
			e, _ := elem(i)
			id = le.Uint64(e[8:])
		case flags&leafFlag != 0:
			i := sort.Search(count, func(i int) bool { _, kk := elem(i); return bytes.Compare(kk, k) >= 0 })
			if i == count {
				return nil, nil
			}
			e, kk := elem(i)
			if !bytes.Equal(kk, k) {
				return nil, nil
			}
			pos, ks, vs := le.Uint32(e[4:]), le.Uint32(e[8:]), le.Uint32(e[12:])
			return e[pos+ks : pos+ks+vs], nil
		default:
			return nil, fmt.Errorf("page %d: flags %#x", id, flags)
		}
	}
	return nil, errors.New("tree too deep")
}

type server struct {
	mode string
	db   *bolt.DB
	f    *os.File
	d    *gupnw.Device
	mm   []byte // our own mapping of the file, for Ready
	ps   uint64
	// When each branch page was last found present (UnixNano), for
	// skipping its Ready for a while.
	branches []int64
}

// branchFresh is how long a branch page found present is trusted without
// another probe. Branch pages are few and on every walk's path, so the
// kernel keeps them; if one were dropped meanwhile, Get would wait for it as
// plain Get does, for that request only. (mlock would pin them, but takes
// mmap_lock for writing, which on 6.1 stalls every fault behind it.)
const branchFresh = time.Second

func (s *server) fresh(id uint64) bool {
	return id < uint64(len(s.branches)) && time.Now().UnixNano()-atomic.LoadInt64(&s.branches[id]) < int64(branchFresh)
}

func (s *server) present(id uint64) {
	if id < uint64(len(s.branches)) {
		atomic.StoreInt64(&s.branches[id], time.Now().UnixNano())
	}
}

func (s *server) lookup(ctx context.Context, i uint64, out []byte) ([]byte, error) {
	k := key(i)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		var v []byte
		var err error
		switch s.mode {
		case "plain":
			v = b.Get(k)
		case "pread":
			v, err = walk(uint64(b.Root()), k, func(id, n uint64) ([]byte, error) {
				buf := make([]byte, n*s.ps)
				_, err := s.f.ReadAt(buf, int64(id*s.ps))
				return buf, err
			})
		case "gupnw":
			// Every page Get will touch, awaited first: Get then takes no
			// fault that waits for I/O (bbolt's own mapping of the same
			// page-cache pages takes minor faults at most). A branch page
			// found present is not probed again for branchFresh.
			_, err = walk(uint64(b.Root()), k, func(id, n uint64) ([]byte, error) {
				pg := s.mm[id*s.ps : (id+n)*s.ps]
				if s.fresh(id) {
					return pg, nil
				}
				if err := s.d.Ready(ctx, pg); err != nil {
					return pg, err
				}
				if binary.LittleEndian.Uint16(pg[8:])&branchFlag != 0 {
					s.present(id)
				}
				return pg, nil
			})
			if err == nil {
				v = b.Get(k)
			}
		}
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("key %s not found", k)
		}
		out = append(out[:0], v...)
		return nil
	})
	return out, err
}

func checkWalk(s *server) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		for i := uint64(0); i < hotKeys; i += 7 {
			v, err := walk(uint64(b.Root()), key(i), func(id, n uint64) ([]byte, error) {
				buf := make([]byte, n*s.ps)
				_, err := s.f.ReadAt(buf, int64(id*s.ps))
				return buf, err
			})
			if err != nil || !bytes.Equal(v, b.Get(key(i))) {
				return fmt.Errorf("walk of key %d differs from Get: %v", i, err)
			}
		}
		return nil
	})
}

func serve(path, mode string) error {
	db, err := bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	s := &server{mode: mode, db: db, ps: uint64(os.Getpagesize())}
	if s.f, err = os.Open(path); err != nil {
		return err
	}
	if mode == "gupnw" {
		if s.d, err = gupnw.Open(); err != nil {
			return err
		}
		st, _ := s.f.Stat()
		if s.mm, err = unix.Mmap(int(s.f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED); err != nil {
			return err
		}
		if err = unix.Madvise(s.mm, unix.MADV_RANDOM); err != nil {
			return err
		}
		s.branches = make([]int64, uint64(len(s.mm))/s.ps)
	}
	var out []byte
	if mode == "pread" { // the walk finds what Get finds
		if err := checkWalk(s); err != nil {
			return err
		}
	}
	for i := uint64(0); i < hotKeys; i++ { // the hot set is in memory
		if out, err = s.lookup(context.Background(), i, out); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			var req [8]byte
			var out []byte
			for {
				if _, err := io.ReadFull(r, req[:]); err != nil {
					return
				}
				out, err = s.lookup(context.Background(), binary.LittleEndian.Uint64(req[:]), out)
				var hdr [4]byte
				if err != nil {
					log.Print(err)
					binary.LittleEndian.PutUint32(hdr[:], 0)
					out = out[:0]
				} else {
					binary.LittleEndian.PutUint32(hdr[:], uint32(len(out)))
				}
				if _, err := c.Write(append(hdr[:], out...)); err != nil {
					return
				}
			}
		}()
	}
}

func ask(c net.Conn, r *bufio.Reader, i uint64) error {
	var req [8]byte
	binary.LittleEndian.PutUint64(req[:], i)
	if _, err := c.Write(req[:]); err != nil {
		return err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0 {
		return errors.New("server: lookup failed")
	}
	_, err := io.CopyN(io.Discard, r, int64(n))
	return err
}

type row struct {
	name, slug     string
	p50, p99, max  float64
	hot, unans     int
	cold           int
	coldPerSec     float64
	threads, rssKB int
	lat            []float64 // hot latencies, ms, sorted
}

func procStatus(pid int, field string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			n, _ := strconv.Atoi(strings.Fields(l[len(field)+1:])[0])
			return n
		}
	}
	return 0
}

type benchCfg struct {
	db                  string
	seconds, warmup     time.Duration
	procs               int
	hotConns, coldConns int
	hotInterval         time.Duration
	rounds              int
	keys                uint64
}

// pct is the latency at or below which a fraction p of v (sorted) lies.
func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(v))*p)) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(v) {
		i = len(v) - 1
	}
	return v[i]
}

// hotConn is one hot connection's latencies so far and the scheduled time of
// its next request, readable while it waits on a stalled server.
type hotConn struct {
	mu   sync.Mutex
	lat  []float64
	next time.Time
}

func runOne(cfg benchCfg, mode string, cold bool, coldBase, coldEnd uint64) (row, error) {
	r := row{name: mode + ", no cold", slug: mode}
	if cold {
		r.name, r.slug = mode+" + cold", mode+"-cold"
	}
	cmd := exec.Command("/proc/self/exe", "-serve", cfg.db, "-mode", mode)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", cfg.procs))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var addr string
	if _, err := fmt.Fscanf(stdout, "listening %s\n", &addr); err != nil {
		return r, fmt.Errorf("%s server did not start: %v", mode, err)
	}
	// Requests before start warm the emulator's code cache and the
	// connections up; they are not counted. The cold connections run from
	// the beginning, so the window sees them in their steady state.
	t0 := time.Now()
	start := t0.Add(cfg.warmup)
	stop := start.Add(cfg.seconds)
	var conns []net.Conn
	var connMu sync.Mutex
	dial := func() (net.Conn, error) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			connMu.Lock()
			conns = append(conns, c)
			connMu.Unlock()
		}
		return c, err
	}
	hot := make([]*hotConn, cfg.hotConns)
	for c := range hot {
		h := &hotConn{next: t0.Add(time.Duration(c) * cfg.hotInterval / time.Duration(cfg.hotConns))}
		hot[c] = h
		go func(c int) {
			conn, err := dial()
			if err != nil {
				log.Print(err)
				return
			}
			rd := bufio.NewReader(conn)
			rnd := rand.New(rand.NewSource(int64(c)))
			// Open loop: latency counts from the scheduled send, so a
			// stalled server is charged for every request it delayed.
			for {
				h.mu.Lock()
				next := h.next
				h.mu.Unlock()
				time.Sleep(time.Until(next))
				if ask(conn, rd, uint64(rnd.Intn(hotKeys))) != nil {
					return
				}
				ms := float64(time.Since(next).Microseconds()) / 1000
				h.mu.Lock()
				if !next.Before(start) && next.Before(stop) {
					h.lat = append(h.lat, ms)
				}
				h.next = next.Add(cfg.hotInterval)
				h.mu.Unlock()
			}
		}(c)
	}
	var coldMu sync.Mutex
	coldDone := 0
	nextCold := coldBase
	if cold {
		for c := 0; c < cfg.coldConns; c++ {
			go func() {
				conn, err := dial()
				if err != nil {
					return
				}
				rd := bufio.NewReader(conn)
				// Every 4th key (at most 4 to a leaf): each request a
				// leaf page nobody has read, one after another.
				for {
					coldMu.Lock()
					i := nextCold
					nextCold += 4
					coldMu.Unlock()
					if i >= coldEnd || ask(conn, rd, i) != nil {
						return
					}
					if t := time.Now(); t.After(start) && t.Before(stop) {
						coldMu.Lock()
						coldDone++
						coldMu.Unlock()
					}
				}
			}()
		}
	}
	time.Sleep(time.Until(stop))
	end := time.Now()
	r.threads = procStatus(cmd.Process.Pid, "Threads")
	r.rssKB = procStatus(cmd.Process.Pid, "VmHWM")
	// Requests not answered by the end (sent and waiting, or not sent yet
	// because the previous one still waits) count with their age then: a
	// server that answers nothing has no good percentile.
	var lat []float64
	for _, h := range hot {
		h.mu.Lock()
		lat = append(lat, h.lat...)
		for t := h.next; t.Before(end); t = t.Add(cfg.hotInterval) {
			if !t.Before(start) && t.Before(stop) {
				lat = append(lat, float64(end.Sub(t).Microseconds())/1000)
				r.unans++
			}
		}
		h.mu.Unlock()
	}
	coldMu.Lock()
	r.cold = coldDone
	coldMu.Unlock()
	connMu.Lock()
	for _, c := range conns {
		c.Close()
	}
	connMu.Unlock()
	r.lat = lat
	return r, nil
}

// merge adds another round of the same row: threads and RSS are the most seen.
func (r *row) merge(o row) {
	r.lat = append(r.lat, o.lat...)
	r.unans += o.unans
	r.cold += o.cold
	if o.threads > r.threads {
		r.threads = o.threads
	}
	if o.rssKB > r.rssKB {
		r.rssKB = o.rssKB
	}
}

// waitDiskIdle waits (up to max) until the disk under path has no request in
// flight (/sys/dev/block/MAJ:MIN/inflight).
func waitDiskIdle(path string, max time.Duration) {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return
	}
	f := fmt.Sprintf("/sys/dev/block/%d:%d/inflight", unix.Major(st.Dev), unix.Minor(st.Dev))
	for end := time.Now().Add(max); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(f)
		if err != nil || len(strings.Fields(string(b))) == 2 && strings.Fields(string(b))[0] == "0" &&
			strings.Fields(string(b))[1] == "0" {
			return
		}
	}
}

// cdfLine is the hot latencies' distribution as one line for plots:
// "cdf bbolt SLUG MS@PCT ..." at 0, 1, ..., 99, 99.9, 99.99 and 100 %.
func cdfLine(r row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cdf bbolt %s", r.slug)
	ps := make([]float64, 0, 103)
	for p := 0; p < 100; p++ {
		ps = append(ps, float64(p))
	}
	ps = append(ps, 99.9, 99.99, 100)
	for _, p := range ps {
		v := 0.0
		if len(r.lat) > 0 {
			i := int(math.Ceil(float64(len(r.lat))*p/100)) - 1
			if i < 0 {
				i = 0
			}
			v = r.lat[i]
		}
		fmt.Fprintf(&b, " %.3f@%s", v, strconv.FormatFloat(p, 'f', -1, 64))
	}
	return b.String()
}

func bench(cfg benchCfg, modes []string) error {
	db, err := bolt.Open(cfg.db, 0o444, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	// The last key says how many there are (Stats would read every page).
	err = db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketName).Cursor().Last()
		n, err := strconv.ParseUint(strings.TrimPrefix(string(k), "k"), 10, 64)
		cfg.keys = n + 1
		return err
	})
	db.Close()
	if err != nil {
		return err
	}
	// Each row runs in rounds, the rows one after another in each round:
	// the host's load, which changes from minute to minute under TCG, hits
	// every row alike. Every round of a cold row has its own cold keys.
	span := (cfg.keys - hotKeys) / uint64(len(modes)*cfg.rounds)
	fmt.Printf("# bbolt server: %d keys, GOMAXPROCS=%d, %d hot conns x %.0f/s, %d cold conns; "+
		"each row %d rounds of %v after %v of warm-up, a fresh server each\n",
		cfg.keys, cfg.procs, cfg.hotConns, float64(time.Second)/float64(cfg.hotInterval), cfg.coldConns,
		cfg.rounds, cfg.seconds, cfg.warmup)
	var rows []row
	for round := 0; round < cfg.rounds; round++ {
		i := 0
		for _, cold := range []bool{false, true} {
			for mi, m := range modes {
				base := hotKeys + uint64(mi*cfg.rounds+round)*span
				// No cold row starts with another's reads still queued.
				waitDiskIdle(cfg.db, 10*time.Second)
				r, err := runOne(cfg, m, cold, base, base+span)
				if err != nil {
					return err
				}
				if round == 0 {
					rows = append(rows, r)
				} else {
					rows[i].merge(r)
				}
				i++
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		sort.Float64s(r.lat)
		r.hot = len(r.lat) - r.unans
		r.p50, r.p99, r.max = pct(r.lat, 0.5), pct(r.lat, 0.99), pct(r.lat, 1)
		r.coldPerSec = float64(r.cold) / (cfg.seconds.Seconds() * float64(cfg.rounds))
		fmt.Printf("# run %s: hot p50 %.2f p99 %.2f max %.2f ms; hot %d; unans %d; cold %d; threads %d; rss %d KiB\n",
			r.name, r.p50, r.p99, r.max, r.hot, r.unans, r.cold, r.threads, r.rssKB)
	}
	fmt.Println()
	fmt.Printf("%-18s %7s %6s %10s %10s %10s %6s %7s %8s %8s\n",
		"server", "hot req", "unans", "hot p50", "hot p99", "hot max", "cold", "cold/s", "threads", "RSS MiB")
	for _, r := range rows {
		fmt.Printf("%-18s %7d %6d %7.2f ms %7.2f ms %7.1f ms %6d %7.1f %8d %8.1f\n",
			r.name, r.hot, r.unans, r.p50, r.p99, r.max, r.cold, r.coldPerSec, r.threads, float64(r.rssKB)/1024)
	}
	fmt.Println()
	printTargets(rows)
	for _, r := range rows {
		fmt.Println(cdfLine(r))
	}
	return nil
}

// touchRun makes pages pages of m from first on present with n goroutines
// and returns the pages per second, the disk's reads meanwhile (from
// diskStat, its /sys/dev/block/M:m/stat; none if "") and the most io-wq
// workers seen at once, and the CPU time the guest was busy meanwhile.
func touchRun(m []byte, d *gupnw.Device, first, pages, n int, diskStat string) (float64, diskReads, float64, int, error) {
	ps := os.Getpagesize()
	var next int64 = int64(first)
	var mu sync.Mutex
	var ferr error
	var wg sync.WaitGroup
	var sum byte
	stop := make(chan struct{})
	workers := make(chan int)
	go func() { workers <- peakWorkers(stop) }()
	r0 := readDiskStat(diskStat)
	c0 := cpuBusy()
	t0 := time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s byte
			for {
				mu.Lock()
				i := int(next)
				next++
				mu.Unlock()
				if i >= first+pages {
					break
				}
				pg := m[i*ps : (i+1)*ps]
				if d != nil {
					if err := d.Ready(context.Background(), pg); err != nil {
						mu.Lock()
						ferr = err
						mu.Unlock()
						return
					}
				}
				s += pg[0]
			}
			mu.Lock()
			sum += s
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	r1 := readDiskStat(diskStat)
	cpu := cpuBusy() - c0
	close(stop)
	_ = sum
	return float64(pages) / secs, diskReads{r1.reads - r0.reads, r1.ms - r0.ms, secs}, cpu, <-workers, ferr
}

// cpuBusy is the seconds all CPUs spent outside idle and iowait since boot
// (/proc/stat's cpu line, in USER_HZ ticks): the whole machine's work, the
// kernel's on the program's behalf (I/O completions, io-wq) included.
func cpuBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	var name string
	var v [8]uint64
	if n, _ := fmt.Sscan(string(b), &name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]); n < 9 {
		return 0
	}
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7] // all but idle (3), iowait (4)
	return float64(busy) / 100
}

// diskReads are a disk's reads completed and the milliseconds they took,
// summed over the reads (fields 1 and 4 of its stat), in secs seconds.
type diskReads struct {
	reads, ms uint64
	secs      float64
}

func (a *diskReads) add(b diskReads) {
	a.reads += b.reads
	a.ms += b.ms
	a.secs += b.secs
}

// inFlight is the mean number of reads in flight: the time they took
// together over the time it took.
func (a diskReads) inFlight() float64 { return float64(a.ms) / 1000 / a.secs }

func (a diskReads) msPerRead() float64 {
	if a.reads == 0 {
		return 0
	}
	return float64(a.ms) / float64(a.reads)
}

func readDiskStat(path string) diskReads {
	var r diskReads
	if path == "" {
		return r
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return r
	}
	var f [4]uint64
	if n, _ := fmt.Sscan(string(b), &f[0], &f[1], &f[2], &f[3]); n == 4 {
		r.reads, r.ms = f[0], f[3]
	}
	return r
}

// peakWorkers counts this process's io-wq workers (threads named iou-wrk-*)
// every 100 ms until stop is closed, and returns the most seen at once. Not
// more often: a sample reads every thread's comm, hundreds of files when
// READYs wait, and at 10 ms that took a third of a vCPU from the row it
// measured. An idle worker lives 5 s, so the peak stays long enough to see.
func peakWorkers(stop chan struct{}) int {
	peak := 0
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
		tasks, _ := os.ReadDir("/proc/self/task")
		n := 0
		for _, e := range tasks {
			c, _ := os.ReadFile("/proc/self/task/" + e.Name() + "/comm")
			if strings.HasPrefix(string(c), "iou-wrk-") {
				n++
			}
		}
		if n > peak {
			peak = n
		}
	}
}

// readLatency reads pages at the end of path with O_DIRECT pread, one at a
// time and then from n goroutines at once (GOMAXPROCS n meanwhile: each in
// its own thread), and prints what they took: on a disk whose reads
// overlap, n at once take about as long as one.
func readLatency(path string, size int64, n int) error {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	const reads = 16
	ps := os.Getpagesize()
	base := size - int64(reads*n+reads)*int64(ps)
	if base < 0 {
		return fmt.Errorf("%s: too small", path)
	}
	buf := func() ([]byte, error) { // page-aligned, for O_DIRECT
		return unix.Mmap(-1, 0, ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	}
	b, err := buf()
	if err != nil {
		return err
	}
	t0 := time.Now()
	for i := 0; i < reads; i++ {
		if _, err := f.ReadAt(b, base+int64(i*ps)); err != nil {
			return err
		}
	}
	one := time.Since(t0).Seconds() / reads
	// A P per goroutine: each enters its pread at once, none waits for
	// sysmon to hand a P on from a thread blocked in one.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	t0 = time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			b, err := buf()
			if err != nil {
				errs <- err
				return
			}
			defer unix.Munmap(b)
			for i := 0; i < reads; i++ {
				off := base + int64(reads+g*reads+i)*int64(ps)
				if _, err := f.ReadAt(b, off); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	rate := float64(reads*n) / time.Since(t0).Seconds()
	fmt.Printf("# %s: O_DIRECT 4 KiB reads one at a time %.2f ms each (%.0f/s); "+
		"%d goroutines at once %.0f reads/s (%.1f in flight on average)\n",
		path, one*1000, 1/one, n, rate, rate*one)
	return nil
}

// touch measures cold pages made present per second, plain touching against
// Ready first, at GOMAXPROCS 2 and 4, in rounds (every row once per round,
// fresh pages each time), and prints one table row per GOMAXPROCS over all
// rounds. A block device is mapped whole, after its reads are timed.
func touch(path string, n, pages, rounds, workers int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd) // a block device's Stat says 0
	if err != nil {
		return err
	}
	// The disk's reads: of the device itself, or of the one holding the
	// file (a whole disk, as in the test guests).
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	dev := st.Dev
	// Erigon's ratios are a target on a disk whose reads overlap (a block
	// device: the latency disk). A file on the guest's fast disk is read in
	// less time than the emulated CPU spends around it: reported, no target.
	target := st.Mode&unix.S_IFMT == unix.S_IFBLK
	if target {
		dev = st.Rdev
		if err := readLatency(path, size, n); err != nil {
			return err
		}
	}
	diskStat := fmt.Sprintf("/sys/dev/block/%d:%d/stat", unix.Major(dev), unix.Minor(dev))
	if _, err := os.Stat(diskStat); err != nil {
		diskStat = ""
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	defer unix.Munmap(m)
	// Each fault reads its own page, as erigon's random reads of its
	// database do.
	if err := unix.Madvise(m, unix.MADV_RANDOM); err != nil {
		return err
	}
	d, err := gupnw.Open()
	if err != nil {
		return err
	}
	defer d.Close()
	// io-wq's bounded workers (min(SQ entries, 4 * CPUs) per submitting
	// thread) bound the READYs waiting at once; -ready-workers sets them.
	wk := "io-wq's default"
	if workers < 0 {
		workers = n
	}
	if workers > 0 {
		old, err := d.SetReadyWorkers(workers)
		if err != nil {
			return err
		}
		wk = fmt.Sprintf("%d (was %d)", workers, old)
	}
	procs := []int{2, 4}
	runs := len(procs) * 2 * rounds
	total := len(m) / os.Getpagesize()
	if runs*pages > total {
		pages = total / runs
	}
	fmt.Printf("# %s: %d goroutines, %d rounds of %d never-read pages per row; io-wq workers per thread %s\n",
		path, n, rounds, pages, wk)
	type cell struct {
		secs    float64
		cpu     float64
		workers int
		disk    diskReads
	}
	cells := make(map[[2]int]*cell)
	run := 0
	for r := 0; r < rounds; r++ {
		for _, p := range procs {
			for mode := 0; mode < 2; mode++ {
				dd := d
				if mode == 0 {
					dd = nil
				}
				prev := runtime.GOMAXPROCS(p)
				rate, dr, cpu, w, err := touchRun(m, dd, run*pages, pages, n, diskStat)
				runtime.GOMAXPROCS(prev)
				run++
				if err != nil {
					return err
				}
				c := cells[[2]int{p, mode}]
				if c == nil {
					c = &cell{}
					cells[[2]int{p, mode}] = c
				}
				c.secs += float64(pages) / rate
				c.cpu += cpu
				if w > c.workers {
					c.workers = w
				}
				c.disk.add(dr)
			}
		}
	}
	// erigon's figure: faults taken from C (cgo, outside the P) vs from Go.
	erigon := map[int]float64{2: 1.86, 4: 2.14}
	fmt.Println("| GOMAXPROCS | plain touch pages/s | Ready first pages/s | ratio | erigon's (cgo vs Go) " +
		"| disk reads in flight, mean: plain / Ready | ms per read: plain / Ready | CPU us per page: plain / Ready | io-wq workers, most |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	var verdict []string
	var reads uint64
	for _, p := range procs {
		pc, rc := cells[[2]int{p, 0}], cells[[2]int{p, 1}]
		plain := float64(rounds*pages) / pc.secs
		ready := float64(rounds*pages) / rc.secs
		fmt.Printf("| %d | %.0f | %.0f | %.2fx | %.2fx | %.1f / %.1f | %.2f / %.2f | %.0f / %.0f | %d |\n",
			p, plain, ready, ready/plain, erigon[p], pc.disk.inFlight(), rc.disk.inFlight(),
			pc.disk.msPerRead(), rc.disk.msPerRead(),
			pc.cpu*1e6/float64(rounds*pages), rc.cpu*1e6/float64(rounds*pages), rc.workers)
		reads += pc.disk.reads + rc.disk.reads
		met := "MISS"
		if ready/plain >= erigon[p] {
			met = "PASS"
		}
		if !target {
			met = "(no target here)"
		}
		verdict = append(verdict, fmt.Sprintf("  GOMAXPROCS=%d: Ready / plain %.2fx (>= erigon's %.2fx)  %s",
			p, ready/plain, erigon[p], met))
	}
	if diskStat != "" {
		fmt.Printf("# the disk's reads per page made present: %.2f\n", float64(reads)/float64(runs*pages))
	}
	if target {
		fmt.Println("Target (ratios of this run):")
	} else {
		fmt.Println("Ratios of this run, for contrast (reads here cost less than the CPU around them):")
	}
	for _, v := range verdict {
		fmt.Println(v)
	}
	return nil
}

// printTargets prints the targets as ratios of this run.
func printTargets(rows []row) {
	p99 := map[string]float64{}
	for _, r := range rows {
		p99[r.name] = r.p99
	}
	base, plainCold, gCold := p99["plain, no cold"], p99["plain + cold"], p99["gupnw + cold"]
	if base == 0 || gCold == 0 {
		return
	}
	met := func(ok bool) string {
		if ok {
			return "MET"
		}
		return "MISS"
	}
	fmt.Println("Targets (ratios of this run):")
	fmt.Printf("  gupnw + cold hot p99 / plain, no cold p99   %8.2fx  (<= 2x)   %s\n", gCold/base, met(gCold <= 2*base))
	fmt.Printf("  plain + cold hot p99 / gupnw + cold hot p99 %8.1fx  (>= 10x)  %s\n", plainCold/gCold, met(plainCold >= 10*gCold))
	if p := p99["pread + cold"]; p > 0 {
		fmt.Printf("  (pread + cold hot p99 / gupnw + cold hot p99 %6.2fx, for reference)\n", p/gCold)
	}
	// The no-cold rows do the same work for the hot keys: how far apart
	// their p99s are is this run's noise (the host's load under TCG).
	lo, hi := 0.0, 0.0
	for _, r := range rows {
		if strings.HasSuffix(r.name, ", no cold") && r.p99 > 0 {
			if lo == 0 || r.p99 < lo {
				lo = r.p99
			}
			hi = math.Max(hi, r.p99)
		}
	}
	if lo > 0 {
		fmt.Printf("  (no-cold rows' hot p99, highest / lowest   %6.2fx: this run's noise)\n", hi/lo)
	}
}

func main() {
	createPath := flag.String("create", "", "create the database at this path")
	keys := flag.Int("keys", 16384, "with -create: number of keys")
	size := flag.Int("value-size", 1000, "with -create: bytes per value")
	servePath := flag.String("serve", "", "serve this database (one server process of -bench)")
	mode := flag.String("mode", "plain", "with -serve: plain, pread or gupnw")
	benchPath := flag.String("bench", "", "benchmark the servers on this database")
	seconds := flag.Float64("seconds", 4, "seconds per row and round")
	rounds := flag.Int("rounds", 8, "rounds of every row")
	warmup := flag.Float64("warmup", 1, "seconds of warm-up per row, not counted")
	modes := flag.String("modes", "plain,pread,gupnw", "servers to measure")
	procs := flag.Int("procs", 2, "GOMAXPROCS of the servers")
	hotConns := flag.Int("hot-conns", 2, "connections asking hot keys")
	hotInterval := flag.Duration("hot-interval", 100*time.Millisecond, "each hot connection's request interval")
	coldConns := flag.Int("cold-conns", 16, "connections asking cold keys")
	touchPath := flag.String("touch", "", "measure cold pages made present per second on this file")
	goroutines := flag.Int("goroutines", 64, "with -touch: goroutines")
	pages := flag.Int("pages", 2048, "with -touch: pages per row and round")
	touchRounds := flag.Int("touch-rounds", 1, "with -touch: rounds of every row")
	readyWorkers := flag.Int("ready-workers", -1, "with -touch: io-wq workers per thread (-1: goroutines, 0: io-wq's default)")
	flag.Parse()
	var err error
	switch {
	case *touchPath != "":
		err = touch(*touchPath, *goroutines, *pages, *touchRounds, *readyWorkers)
	case *createPath != "":
		err = create(*createPath, *keys, *size)
	case *servePath != "":
		err = serve(*servePath, *mode)
	case *benchPath != "":
		runtime.GOMAXPROCS(2)
		err = bench(benchCfg{db: *benchPath, seconds: time.Duration(*seconds * float64(time.Second)),
			warmup: time.Duration(*warmup * float64(time.Second)),
			rounds: *rounds, procs: *procs, hotConns: *hotConns, coldConns: *coldConns, hotInterval: *hotInterval},
			strings.Split(*modes, ","))
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		log.Fatal(err)
	}
}
