// SPDX-License-Identifier: LGPL-2.1-or-later

package gupnw

// The device tests: they run in the QEMU guests (tests/guest/t71_go.sh, a
// static "go test -c" program), where /dev/gupnw exists and $GUPNW_SLOW is the
// throttled disk; without them each test reports SKIP.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func dev(t *testing.T) *Device {
	t.Helper()
	d, err := Open()
	if errors.Is(err, unix.ENOENT) {
		t.Skip("no /dev/gupnw (load gupnw.ko)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var ps = os.Getpagesize()

func anon(t *testing.T, pages, prot int) []byte {
	t.Helper()
	m, err := unix.Mmap(-1, 0, pages*ps, prot, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	return m
}

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }

// hole returns the address of pages pages that nothing maps, and that no
// mmap(NULL) of another thread will map meanwhile: one from 4 GiB up, where
// the kernel's top-down mmap(NULL) does not reach while the top of the
// address space has room and Go's heap does not go (its own hints). A range
// just unmapped would not do: the runtime's next small mmap may take it.
func hole(t *testing.T, pages int) uintptr {
	t.Helper()
	for a := uintptr(4 << 30); a < 64<<30; a += 1 << 30 {
		r, _, e := unix.Syscall6(unix.SYS_MMAP, a, uintptr(pages*ps), unix.PROT_NONE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, ^uintptr(0), 0)
		if e != 0 {
			continue // EEXIST: something is there
		}
		if _, _, e := unix.Syscall(unix.SYS_MUNMAP, r, uintptr(pages*ps), 0); e != 0 {
			t.Fatal(e)
		}
		if r == a {
			return a
		}
	}
	t.Fatal("no free range between 4 and 64 GiB")
	return 0
}

func states(t *testing.T, d *Device, addr uintptr, pages int, f Flags) string {
	t.Helper()
	st := make([]byte, pages)
	if _, err := d.ProbeRange(addr, pages*ps, f, st); err != nil {
		t.Fatal(err)
	}
	return string(st)
}

func openFds() int {
	e, _ := os.ReadDir("/proc/self/fd")
	return len(e)
}

// slowFile maps the big file on the throttled disk read-only with
// MADV_RANDOM (a fault reads its own page, no read-around).
func slowFile(t *testing.T) []byte {
	t.Helper()
	dir := os.Getenv("GUPNW_SLOW")
	if dir == "" {
		t.Skip("no GUPNW_SLOW (the throttled disk)")
	}
	f, err := os.Open(dir + "/cold-64m")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	if err := unix.Madvise(m, unix.MADV_RANDOM); err != nil {
		t.Fatal(err)
	}
	return m
}

// cached is the number of pages of b in the page cache (mincore).
func cached(t *testing.T, b []byte) int {
	t.Helper()
	v := make([]byte, (len(b)+ps-1)/ps)
	_, _, e := unix.Syscall(unix.SYS_MINCORE, addrOf(b), uintptr(len(b)), uintptr(unsafe.Pointer(&v[0])))
	if e != 0 {
		t.Fatal("mincore:", e)
	}
	n := 0
	for _, x := range v {
		n += int(x & 1)
	}
	return n
}

// coldWindow is a window of pages pages of m that no one has read in this
// boot, looked for from the end of the file (the Rust and C tests start in
// the middle and low).
func coldWindow(t *testing.T, m []byte, pages int) []byte {
	t.Helper()
	n := pages * ps
	for off := len(m) - n; off >= 0; off -= n {
		if cached(t, m[off:off+n]) == 0 {
			return m[off : off+n : off+n]
		}
	}
	t.Fatalf("no cold window of %d pages left", pages)
	return nil
}

func TestInfoReportsABIPageSizeAndFeatures(t *testing.T) {
	d := dev(t)
	i := d.Info()
	if i.ABIVersion != ABIVersion || int(i.PageSize) != ps || !i.Has(FeatureProbe) || i.Version == "" {
		t.Fatalf("info %+v", i)
	}
	t.Logf("module %s features %#x, io_uring READY: %v", i.Version, i.Features, d.UsesUring())
}

func TestStatesOfTouchedUntouchedUnmappedAndProtNoneMemory(t *testing.T) {
	d := dev(t)
	m := anon(t, 4, unix.PROT_READ|unix.PROT_WRITE)
	m[0], m[ps] = 1, 1
	for _, c := range []struct {
		f    Flags
		want string
	}{{NoFault, "RRNN"}, {NoWait, "RRFF"}, {NoWait, "RRRR"}} {
		if got := states(t, d, addrOf(m), 4, c.f); got != c.want {
			t.Fatalf("flags %d: states %q, want %q", c.f, got, c.want)
		}
	}
	none := anon(t, 2, unix.PROT_NONE)
	if got := states(t, d, addrOf(none), 2, NoWait); got != "EE" {
		t.Fatalf("PROT_NONE: %q", got)
	}
	if got := states(t, d, hole(t, 3), 3, NoFault); got != "..." {
		t.Fatalf("unmapped: %q", got)
	}
}

func TestProbeRoundsToPagesAndCounts(t *testing.T) {
	d := dev(t)
	v := make([]byte, 10*ps)
	for i := range v {
		v[i] = 7
	}
	s := v[100 : 5*ps+1]
	n := d.Pages(addrOf(s), len(s))
	st := make([]byte, n)
	c, err := d.Probe(s, NoWait, st)
	if err != nil {
		t.Fatal(err)
	}
	if int(c.Done) != n || int(c.Present()) != n {
		t.Fatalf("counts %+v for %d pages", c, n)
	}
	for _, b := range st {
		if State(b) != Resident {
			t.Fatalf("states %q", st)
		}
	}
}

func TestWriteProbeOnReadOnlyMemoryIsError(t *testing.T) {
	d := dev(t)
	m := anon(t, 2, unix.PROT_READ)
	c, err := d.Probe(m, Write, nil)
	if err != nil || c.Error != 2 {
		t.Fatalf("counts %+v, err %v", c, err)
	}
}

func TestExtentsDescribeRuns(t *testing.T) {
	d := dev(t)
	m := anon(t, 8, unix.PROT_READ|unix.PROT_WRITE)
	for _, i := range []int{0, 1, 2, 5} {
		m[i*ps] = 1
	}
	ext, c, err := d.ProbeExtents(addrOf(m), 8*ps, NoFault, make([]Extent, 8))
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, e := range ext {
		got += fmt.Sprintf("%d+%d%c ", (e.Start-uint64(addrOf(m)))/uint64(ps), e.Pages, e.State())
	}
	if got != "0+3R 3+2N 5+1R 6+2N " || c.Done != 8 || c.Resident != 4 || c.NotPresent != 4 {
		t.Fatalf("extents %q, counts %+v", got, c)
	}
	// A full buffer: what was covered; Done says how far it got.
	ext, c, err = d.ProbeExtents(addrOf(m), 8*ps, NoFault, make([]Extent, 1))
	if err != nil || len(ext) != 1 || ext[0].State() != Resident || c.Done != ext[0].Pages {
		t.Fatalf("one extent: %+v %+v %v", ext, c, err)
	}
}

func TestPidModeProbesThroughProcPidMem(t *testing.T) {
	d := dev(t)
	m := anon(t, 4, unix.PROT_READ|unix.PROT_WRITE)
	m[0] = 1
	me, err := OpenPidMem(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer me.Close()
	st := make([]byte, 4)
	c, err := d.ProbePid(me, uint64(addrOf(m)), 4*ps, NoFault, st)
	if err != nil || string(st) != "RNNN" || c.Resident != 1 || c.NotPresent != 3 {
		t.Fatalf("states %q counts %+v err %v", st, c, err)
	}
}

func TestErrorsWrapTheKernelsErrno(t *testing.T) {
	d := dev(t)
	m := anon(t, 4, unix.PROT_READ)
	_, misaligned := d.ProbeRange(addrOf(m)|1, 100, NoWait, nil)
	_, unknown := d.ProbeRange(addrOf(m), ps, Flags(1<<30), nil)
	_, both := d.ProbeRange(addrOf(m), ps, NoFault|Wait, nil)
	_, short := d.ProbeRange(addrOf(m), 4*ps, NoFault, make([]byte, 3))
	_, kernel := d.ProbeRange(0xffff800000000000, ps, NoFault, nil)
	_, _, noExt := d.ProbeExtents(addrOf(m), ps, NoFault, nil)
	_, readyMisaligned := d.ReadyRange(context.Background(), addrOf(m)|1, ps, false)
	_, noPid := OpenPidMem(0x3ffffff0, false)
	_, negPid := OpenPidMem(-1, false)
	_, noDev := OpenPath("/dev/gupnw-does-not-exist")
	for _, c := range []struct {
		name string
		err  error
		want unix.Errno
	}{
		{"misaligned address", misaligned, unix.EINVAL},
		{"unknown flag", unknown, unix.EINVAL},
		{"NoFault with Wait", both, unix.EINVAL},
		{"states buffer too short", short, unix.EINVAL},
		{"range into kernel space", kernel, unix.EINVAL},
		{"extents with empty buffer", noExt, unix.EINVAL},
		{"Ready on a misaligned range", readyMisaligned, unix.EINVAL},
		{"no such process", noPid, unix.ESRCH},
		{"negative pid", negPid, unix.ESRCH},
		{"missing device", noDev, unix.ENOENT},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want an error wrapping %v", c.name, c.err, c.want)
		}
	}
}

func TestPidModeWithoutPtraceRightsIsEPERMOrEACCES(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to drop to another uid")
	}
	// pid 1 as uid 65534: the kernel refuses /proc/1/mem (the check is
	// ptrace-attach). setresuid changes one thread only in Go 1.19's x/sys
	// raw call, so the open runs on that locked thread, which then exits.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with its goroutine
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, 65534, 65534, 65534); e != 0 {
			errc <- e
			return
		}
		_, err := OpenPidMem(1, false)
		errc <- err
	}()
	err := <-errc
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) {
		t.Fatalf("%v, want EPERM or EACCES", err)
	}
}

func TestReadyOnPresentMemoryReturnsAtOnce(t *testing.T) {
	d := dev(t)
	v := make([]byte, 16*ps)
	for i := range v {
		v[i] = 3
	}
	r, err := d.ReadyRange(context.Background(), addrOf(v)&^uintptr(ps-1), len(v), false)
	if err != nil || r.Path != PathPresent || r.Present != r.Pages {
		t.Fatalf("%+v %v", r, err)
	}
	if err := d.Ready(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s.InFlight != 0 || s.Uring != 0 || s.Present != 2 {
		t.Fatalf("stats %+v", s)
	}
	// What the hot path costs: a figure for the README, not a check.
	const n = 20000
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if err := d.Ready(context.Background(), v[:ps]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("Ready on a present page: %.2f us per call", float64(time.Since(t0).Nanoseconds())/n/1000)
}

func TestReadyOnUnmappedMemoryIsNotPresent(t *testing.T) {
	d := dev(t)
	r, err := d.ReadyRange(context.Background(), hole(t, 2), 2*ps, false)
	if err != nil || r.Unmapped != 2 || r.Present != 0 {
		t.Fatalf("%+v %v", r, err)
	}
	none := anon(t, 2, unix.PROT_NONE)
	if err := d.Ready(context.Background(), none); !errors.Is(err, ErrNotPresent) || !errors.Is(err, unix.EFAULT) {
		t.Fatalf("PROT_NONE: %v, want ErrNotPresent", err)
	}
}

func TestReadyOnAColdFileRangeWaitsOnTheRing(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	if !d.UsesUring() {
		t.Fatal("io_uring READY expected on 6.1+")
	}
	w := coldWindow(t, m, 4)
	if err := d.Ready(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s.Uring != 1 || s.InFlight != 0 {
		t.Fatalf("stats %+v", s)
	}
	if n := cached(t, w); n != 4 {
		t.Fatalf("%d of 4 pages cached after Ready", n)
	}
	if st := states(t, d, addrOf(w), 4, NoFault); st != "RRRR" && st != "NNNN" && st != "RRNN" {
		for _, b := range []byte(st) {
			if !State(b).Present() {
				t.Fatalf("states after Ready: %q", st)
			}
		}
	}
}

// iouWorkers counts this process's threads named iou-wrk-*: io_uring's workers.
func iouWorkers(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		c, err := os.ReadFile("/proc/self/task/" + e.Name() + "/comm")
		if err == nil && strings.HasPrefix(string(c), "iou-wrk") {
			n++
		}
	}
	return n
}

// With FeatureReadyNoWorker a Ready of cold file pages waits with no thread:
// no io_uring worker exists while it waits.
func TestReadyOnAColdFileStartsNoIOUringWorker(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	if !d.WaitsWithoutWorker() {
		t.Fatal("the module offers READY_NOWORKER")
	}
	w := coldWindow(t, m, 8)
	done := make(chan error, 1)
	go func() { done <- d.Ready(context.Background(), w) }()
	workers := 0
	for wait := true; wait; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			wait = false
		case <-time.After(10 * time.Millisecond):
			workers += iouWorkers(t)
		}
	}
	if workers += iouWorkers(t); workers != 0 {
		t.Fatalf("io_uring workers seen %d times while Ready waited", workers)
	}
	if n := cached(t, w); n != 8 {
		t.Fatalf("%d of 8 pages cached after Ready", n)
	}
}

func TestReadyWithoutUringFallsBackToAWaitProbe(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	if d.async != nil {
		d.async.close()
		d.async = nil
	}
	w := coldWindow(t, m, 2)
	r, err := d.ReadyRange(context.Background(), addrOf(w), len(w), false)
	if err != nil || r.Path != PathBlocking || r.Present != 2 {
		t.Fatalf("%+v %v", r, err)
	}
}

// The fallback's Wait probe reads cold pages itself and reports them 'W'
// (needed I/O, waited for): present, not ErrNotPresent.
func TestReadyFallbackCountsPagesItsWaitProbeRead(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	w := coldWindow(t, m, 2)
	// No NOWAIT probe first (ReadyRange's): the Wait probe starts the reads.
	r, err := d.readyBlocking(context.Background(), uint64(addrOf(w)), len(w), 0)
	if err != nil || r.Pages != 2 || r.Present != 2 {
		t.Fatalf("%+v %v", r, err)
	}
}

// Thousands of goroutines at once, over a few cold pages: every Ready
// returns, at most maxInflight READYs are in the kernel at a time.
func TestReadyFromThousandsOfGoroutines(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	const goroutines, pages = 4000, 16
	w := coldWindow(t, m, pages)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var peak atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := (i % pages) * ps
			if err := d.Ready(ctx, w[p:p+ps]); err != nil {
				failed.Add(1)
				t.Log(err)
			}
			if n := int64(len(d.async.slots)); n > peak.Load() {
				peak.Store(n)
			}
		}(i)
	}
	wg.Wait()
	s := d.Stats()
	t.Logf("stats %+v, peak slots in use %d", s, peak.Load())
	if failed.Load() != 0 || s.InFlight != 0 || s.Present+s.Uring != goroutines || s.Uring == 0 {
		t.Fatalf("%d failed, stats %+v", failed.Load(), s)
	}
	if cached(t, w) != pages {
		t.Fatalf("not every page cached")
	}
}

// One io-wq worker per submitting thread: the READYs beyond it queue in
// io-wq, and every one of them still completes.
func TestSetReadyWorkersOneStillCompletesEveryReady(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	// The limit is per thread that submits: this one, once it has.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := d.Ready(context.Background(), coldWindow(t, m, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetReadyWorkers(1); err != nil {
		t.Fatal(err)
	}
	const pages = 6
	w := coldWindow(t, m, 4*pages)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < pages; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := 4 * i * ps // a page in four: not read around another
			if err := d.Ready(context.Background(), w[p:p+ps]); err != nil {
				failed.Add(1)
				t.Log(err)
			}
		}(i)
	}
	wg.Wait()
	old, err := d.SetReadyWorkers(2)
	if err != nil || old != 1 {
		t.Fatalf("limit before %d (want 1), %v", old, err)
	}
	if s := d.Stats(); failed.Load() != 0 || s.InFlight != 0 || s.Uring == 0 {
		t.Fatalf("%d failed, stats %+v", failed.Load(), s)
	}
}

func TestSetReadyWorkersErrors(t *testing.T) {
	d := dev(t)
	for _, n := range []int{0, -1} {
		if _, err := d.SetReadyWorkers(n); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("SetReadyWorkers(%d): %v, want EINVAL", n, err)
		}
	}
	if d.async != nil {
		d.async.close()
		d.async = nil
	}
	if _, err := d.SetReadyWorkers(1); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("without io_uring: %v, want EOPNOTSUPP", err)
	}
}

// A READY submitted by a thread that exits is cancelled by io-wq (its
// workers are the thread's; on 7.x not always); Ready, whose ctx is live,
// sends it again.
func TestReadyCancelledByAnExitingThreadIsSentAgain(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	w := coldWindow(t, m, 64) // seconds of the throttled disk
	first := true
	testHookSubmit = func(submit func()) {
		if !first {
			submit()
			return
		}
		first = false
		// Never unlocked: the thread ends with the goroutine. Unless it is
		// the process's main thread, which Go never ends (it parks it for
		// good), and where a goroutine started by the test's own goroutine
		// tends to run: then the READY would simply complete. So a
		// goroutine on the main thread keeps it, locked, until the READY
		// is submitted, and the next one runs on another thread.
		release := make(chan struct{})
		defer close(release)
		for tries := 1; ; tries++ {
			done := make(chan bool)
			go func() {
				runtime.LockOSThread()
				if unix.Gettid() == unix.Getpid() && tries < 10 {
					done <- false
					<-release
					runtime.UnlockOSThread()
					return
				}
				submit()
				done <- true
			}()
			if <-done {
				return
			}
			t.Logf("the goroutine ran on the main thread: holding it there, trying another")
		}
	}
	defer func() { testHookSubmit = func(submit func()) { submit() } }()
	if err := d.Ready(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	// 6.x cancels the exiting thread's io-wq work (io_uring_clean_tctx()
	// stops its workers); on 7.x the READY may also finish first.
	var u unix.Utsname
	_ = unix.Uname(&u)
	v6 := u.Release[0] == '6' && u.Release[1] == '.'
	s := d.Stats()
	t.Logf("stats %+v (kernel %s)", s, unix.ByteSliceToString(u.Release[:]))
	if s.Retried > 1 || (v6 && s.Retried != 1) || s.Uring != 1 || s.InFlight != 0 {
		t.Fatalf("want one READY sent again (at most one after 6.x)")
	}
}

func TestReadyCancelledByItsContextIsCancelledInTheKernel(t *testing.T) {
	fds := openFds()
	d, err := Open()
	if err != nil {
		t.Skip(err)
	}
	m := slowFile(t)
	// 512 pages: half a minute of the throttled disk (20 reads of 4 KiB a
	// second), far more than we wait, whatever burst the throttle allows.
	w := coldWindow(t, m, 512)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t1 := time.Now()
	r, err := d.ReadyRange(ctx, addrOf(w), len(w), false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a 512-page cold Ready: %+v, %v after %v, want the context's error", r, err, time.Since(t1))
	}
	// The READY ends at its next batch boundary; what proves the cancel is
	// Cancelled, since a READY that ran to its end reports success.
	t0 := time.Now()
	for d.Stats().InFlight != 0 && time.Since(t0) < 60*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	s := d.Stats()
	t.Logf("the abandoned READY ended %.1f s after its cancel", time.Since(t0).Seconds())
	if s.InFlight != 0 || s.Cancelled != 1 {
		t.Fatalf("stats %+v: the cancel did not reach the READY", s)
	}
	// The ring still works after a cancel.
	v := make([]byte, 4*ps)
	if err := d.Ready(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if n := openFds(); n != fds {
		t.Fatalf("%d fds open after Close, %d before Open", n, fds)
	}
}

func TestCloseWithAReadyInFlightEndsItAndClosesEverything(t *testing.T) {
	fds := openFds()
	d, err := Open()
	if err != nil {
		t.Skip(err)
	}
	m := slowFile(t)
	w := coldWindow(t, m, 64)
	errc := make(chan error, 1)
	go func() { errc <- d.Ready(context.Background(), w) }()
	for d.Stats().InFlight == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, unix.ECANCELED) {
		t.Fatalf("Ready during Close: %v, want ECANCELED", err)
	}
	if err := d.Ready(context.Background(), w); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Ready after Close: %v, want os.ErrClosed", err)
	}
	if _, err := d.Probe(w, NoFault, nil); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Probe after Close: %v, want os.ErrClosed", err)
	}
	if s := d.Stats(); s.InFlight != 0 || s.Uring != 1 {
		t.Fatalf("stats after Close: %+v", s)
	}
	if n := openFds(); n != fds {
		t.Fatalf("%d fds open after Close, %d before Open", n, fds)
	}
}

// threadsInD counts this process's Go threads (not io_uring's iou-wrk
// workers) in uninterruptible sleep: a thread stalled on a page fault's read.
func threadsInD() (goThreads, inD int) {
	ents, _ := os.ReadDir("/proc/self/task")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) S ...: comm may hold spaces, the state follows the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) || strings.HasPrefix(s[strings.IndexByte(s, '(')+1:], "iou-wrk") {
			continue
		}
		goThreads++
		if s[i+2] == 'D' {
			inD++
		}
	}
	return
}

// spinWhile runs wait with GOMAXPROCS=1 while another goroutine spins,
// counting its rounds while wait is under way, the rounds in which the
// device had a READY in the kernel, and those in which a Go thread (not an
// io_uring worker) slept in D: a thread stalled on a page's read.
func spinWhile(t *testing.T, d *Device, wait func() error) (rounds, inflight, inD int) {
	t.Helper()
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var waiting atomic.Bool
	stop := make(chan struct{})
	spun := make(chan struct{})
	go func() {
		defer close(spun)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if waiting.Load() {
				rounds++
				if d.Stats().InFlight > 0 {
					inflight++
				}
				if _, n := threadsInD(); n > 0 {
					inD++
				}
			}
			runtime.Gosched()
		}
	}()
	waiting.Store(true)
	err := wait()
	waiting.Store(false)
	close(stop)
	<-spun
	if err != nil {
		t.Fatal(err)
	}
	return
}

// The parking, counted: with GOMAXPROCS=1 a goroutine awaiting cold pages of
// the throttled disk does not stop another goroutine from running: the
// spinner runs while the READY is in the kernel (a thread stalled on a fault
// would hold the only P), and never sees a Go thread in D.
func TestReadyParksTheGoroutineAtGOMAXPROCS1(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	if !d.UsesUring() {
		t.Fatal("io_uring READY expected on 6.1+")
	}
	w := coldWindow(t, m, 8)
	rounds, inflight, inD := spinWhile(t, d, func() error { return d.Ready(context.Background(), w) })
	t.Logf("spinner rounds while Ready waited: %d, with the READY in the kernel: %d, with a Go thread in D: %d",
		rounds, inflight, inD)
	if d.Stats().Uring != 1 {
		t.Fatalf("stats %+v: the READY did not go to the ring", d.Stats())
	}
	if inflight == 0 {
		t.Fatal("the other goroutine never ran while the READY was in the kernel")
	}
	if inD != 0 {
		t.Fatalf("a Go thread slept in D in %d of %d rounds", inD, rounds)
	}
}

// The control of the test above: the same count sees a thread that blocks
// on the pages (a Wait probe, the fallback without io_uring) in D. The
// spinner gets the P back from the blocked thread only when sysmon retakes
// it, so a wait the spinner saw fewer than 10 rounds of proves nothing
// either way: skipped, with what the probe found.
func TestWaitProbeBlocksAThreadTheSpinnerSees(t *testing.T) {
	d := dev(t)
	m := slowFile(t)
	w := coldWindow(t, m, 32)
	var c Counts
	t0 := time.Now()
	rounds, _, inD := spinWhile(t, d, func() error {
		var err error
		c, err = d.Probe(w, Wait, nil)
		return err
	})
	t.Logf("spinner rounds while the Wait probe ran (%v): %d, with a Go thread in D: %d; counts %+v",
		time.Since(t0), rounds, inD, c)
	// After a Wait probe, 'W' is a page that needed I/O and got it.
	if c.Done != 32 || c.Present()+c.Retry != 32 {
		t.Fatalf("the Wait probe left pages absent: %+v", c)
	}
	if rounds < 10 {
		t.Skipf("the spinner ran %d rounds only: too short a wait to observe", rounds)
	}
	if inD == 0 {
		t.Fatal("the blocked thread was never seen in D: the parking test above proves nothing")
	}
}
