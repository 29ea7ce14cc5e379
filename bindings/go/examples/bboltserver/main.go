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
//	       (branch, leaf, overflow; present ones cost one probe), then Get
//
// Usage:
//
//	bboltserver -create DB [-keys N] [-value-size S]
//	bboltserver -bench DB [-seconds S] [-modes plain,pread,gupnw] [-procs 2]
//	            [-hot-conns N] [-hot-interval D] [-cold-conns N]
//	bboltserver -touch FILE [-goroutines N] [-pages K]
//
// -touch measures cold pages made present per second by N goroutines, at
// GOMAXPROCS 2 and 4, touching them (each fault blocks a P) or awaiting them
// with Ready first (the reads overlap in io_uring's workers); each run gets
// its own K never-read pages of FILE (a big file on a fast disk).
//
// -bench starts one server process per row (-serve, GOMAXPROCS=-procs) and
// prints a line per row: hot p50/p99/max in ms, hot and cold requests
// answered, the server's OS threads and peak RSS.
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
	"math/rand"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
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
			// page-cache pages takes minor faults at most).
			_, err = walk(uint64(b.Root()), k, func(id, n uint64) ([]byte, error) {
				pg := s.mm[id*s.ps : (id+n)*s.ps]
				return pg, s.d.Ready(ctx, pg)
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
	name           string
	p50, p99, max  float64
	hot, cold      int
	threads, rssKB int
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
	seconds             time.Duration
	procs               int
	hotConns, coldConns int
	hotInterval         time.Duration
	keys                uint64
}

func runOne(cfg benchCfg, mode string, cold bool, coldBase, coldEnd uint64) (row, error) {
	r := row{name: mode + ", no cold"}
	if cold {
		r.name = mode + " + cold"
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
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var addr string
	if _, err := fmt.Fscanf(stdout, "listening %s\n", &addr); err != nil {
		return r, fmt.Errorf("%s server did not start: %v", mode, err)
	}
	stop := time.Now().Add(cfg.seconds)
	var mu sync.Mutex
	var lat []float64
	var wg sync.WaitGroup
	for c := 0; c < cfg.hotConns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				log.Print(err)
				return
			}
			defer conn.Close()
			rd := bufio.NewReader(conn)
			// Open loop: latency counts from the scheduled send, so a stalled
			// server's queued requests count with their wait; one still
			// unanswered at the end counts with its age.
			next := time.Now().Add(time.Duration(c) * cfg.hotInterval / time.Duration(cfg.hotConns))
			rnd := rand.New(rand.NewSource(int64(c)))
			for next.Before(stop) {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				done := make(chan error, 1)
				go func() { done <- ask(conn, rd, uint64(rnd.Intn(hotKeys))) }()
				var ms float64
				select {
				case err = <-done:
					ms = float64(time.Since(next).Microseconds()) / 1000
				case <-time.After(time.Until(stop) + time.Second):
					ms, err = float64(time.Since(next).Microseconds())/1000, nil
					mu.Lock()
					lat = append(lat, ms)
					mu.Unlock()
					return
				}
				if err != nil {
					log.Print(err)
					return
				}
				mu.Lock()
				lat = append(lat, ms)
				mu.Unlock()
				next = next.Add(cfg.hotInterval)
			}
		}(c)
	}
	var coldDone int
	if cold {
		per := (coldEnd - coldBase) / uint64(cfg.coldConns)
		for c := 0; c < cfg.coldConns; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer conn.Close()
				rd := bufio.NewReader(conn)
				// Every 8th key: each request a leaf page never read before.
				for i := coldBase + uint64(c)*per; i < coldBase+uint64(c+1)*per && time.Now().Before(stop); i += 8 {
					conn.SetDeadline(stop.Add(time.Second))
					if ask(conn, rd, i) != nil {
						return
					}
					mu.Lock()
					coldDone++
					mu.Unlock()
				}
			}(c)
		}
	}
	wg.Wait()
	r.threads = procStatus(cmd.Process.Pid, "Threads")
	r.rssKB = procStatus(cmd.Process.Pid, "VmHWM")
	sort.Float64s(lat)
	r.hot, r.cold = len(lat), coldDone
	if len(lat) > 0 {
		r.p50, r.p99, r.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return r, nil
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
	runs := uint64(len(modes))
	span := (cfg.keys - hotKeys) / runs
	fmt.Printf("# bbolt server: %d keys, GOMAXPROCS=%d, %d hot conns every %v, %d cold conns, %v per row\n",
		cfg.keys, cfg.procs, cfg.hotConns, cfg.hotInterval, cfg.coldConns, cfg.seconds)
	var rows []row
	for _, cold := range []bool{false, true} {
		for i, m := range modes {
			base := hotKeys + uint64(i)*span
			r, err := runOne(cfg, m, cold, base, base+span)
			if err != nil {
				return err
			}
			fmt.Printf("# run %s: hot p50 %.2f p99 %.2f max %.2f ms; hot %d; cold %d; threads %d; rss %d KiB\n",
				r.name, r.p50, r.p99, r.max, r.hot, r.cold, r.threads, r.rssKB)
			rows = append(rows, r)
		}
	}
	printTargets(rows)
	fmt.Println("| server | hot p50 ms | hot p99 ms | hot max ms | hot served | cold served | OS threads | peak RSS MiB |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %.2f | %.2f | %.2f | %d | %d | %d | %.1f |\n",
			r.name, r.p50, r.p99, r.max, r.hot, r.cold, r.threads, float64(r.rssKB)/1024)
	}
	return nil
}

// touchRun makes pages pages of m from first on present with n goroutines.
func touchRun(m []byte, d *gupnw.Device, first, pages, n int) (float64, error) {
	ps := os.Getpagesize()
	var next int64 = int64(first)
	var mu sync.Mutex
	var ferr error
	var wg sync.WaitGroup
	var sum byte
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
	_ = sum
	return float64(pages) / time.Since(t0).Seconds(), ferr
}

// touch runs one row per GOMAXPROCS and mode, in this process.
func touch(path string, n, pages int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	defer unix.Munmap(m)
	if err := unix.Madvise(m, unix.MADV_RANDOM); err != nil {
		return err
	}
	d, err := gupnw.Open()
	if err != nil {
		return err
	}
	defer d.Close()
	total := len(m) / os.Getpagesize()
	if 4*pages > total {
		pages = total / 4
	}
	fmt.Printf("# %s: %d goroutines, %d never-read pages per run\n", path, n, pages)
	fmt.Println("| GOMAXPROCS | plain touch pages/s | Ready first pages/s | ratio |")
	fmt.Println("|---|---|---|---|")
	run := 0
	for _, procs := range []int{2, 4} {
		old := runtime.GOMAXPROCS(procs)
		plain, err := touchRun(m, nil, run*pages, pages, n)
		run++
		if err != nil {
			return err
		}
		ready, err := touchRun(m, d, run*pages, pages, n)
		run++
		runtime.GOMAXPROCS(old)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %.0f | %.0f | %.2fx |\n", procs, plain, ready, ready/plain)
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
}

func main() {
	createPath := flag.String("create", "", "create the database at this path")
	keys := flag.Int("keys", 16384, "with -create: number of keys")
	size := flag.Int("value-size", 1000, "with -create: bytes per value")
	servePath := flag.String("serve", "", "serve this database (one server process of -bench)")
	mode := flag.String("mode", "plain", "with -serve: plain, pread or gupnw")
	benchPath := flag.String("bench", "", "benchmark the servers on this database")
	seconds := flag.Float64("seconds", 10, "seconds per row")
	modes := flag.String("modes", "plain,pread,gupnw", "servers to measure")
	procs := flag.Int("procs", 2, "GOMAXPROCS of the servers")
	hotConns := flag.Int("hot-conns", 2, "connections asking hot keys")
	hotInterval := flag.Duration("hot-interval", 100*time.Millisecond, "each hot connection's request interval")
	coldConns := flag.Int("cold-conns", 4, "connections asking cold keys")
	touchPath := flag.String("touch", "", "measure cold pages made present per second on this file")
	goroutines := flag.Int("goroutines", 64, "with -touch: goroutines")
	pages := flag.Int("pages", 2048, "with -touch: pages per run")
	flag.Parse()
	var err error
	switch {
	case *touchPath != "":
		err = touch(*touchPath, *goroutines, *pages)
	case *createPath != "":
		err = create(*createPath, *keys, *size)
	case *servePath != "":
		err = serve(*servePath, *mode)
	case *benchPath != "":
		runtime.GOMAXPROCS(2)
		err = bench(benchCfg{db: *benchPath, seconds: time.Duration(*seconds * float64(time.Second)),
			procs: *procs, hotConns: *hotConns, coldConns: *coldConns, hotInterval: *hotInterval},
			strings.Split(*modes, ","))
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		log.Fatal(err)
	}
}
