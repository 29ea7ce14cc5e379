// SPDX-License-Identifier: LGPL-2.1-or-later

package gupnw

// Ready: a NOWAIT probe first; if every page is present the call returns at
// once (the hot case costs one ioctl). Otherwise a GUPNW_URING_CMD_READY goes
// to the Device's io_uring and the goroutine parks on a channel. Where the
// module offers it (FeatureReadyNoWorker) the READY waits for a file's reads
// with no thread at all and goes on in the submitting thread's task work;
// else, and for what no such wait covers (swapped-out memory), a kernel
// worker waits. One reaper goroutine per Device waits on the ring's eventfd
// through the netpoller (os.File's RawConn), reaps the completions and wakes
// their goroutines: no OS thread blocks on a page.
//
// The argument block the kernel writes back into belongs to the in-flight
// table, not to the caller: a Ready whose context ends asks the kernel to
// cancel (GUPNW_URING_CMD_CANCEL for a READY waiting without a worker,
// IORING_OP_ASYNC_CANCEL for one with) and returns at once, leaving the
// block to the table until its completion arrives.

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadyPath says how Ready got its pages.
type ReadyPath int

// The ways to get pages.
const (
	// PathPresent: the NOWAIT probe found nothing to wait for.
	PathPresent ReadyPath = iota
	// PathUring: GUPNW_URING_CMD_READY on the Device's io_uring.
	PathUring
	// PathBlocking: a Wait probe on a goroutine of its own (no io_uring):
	// its OS thread blocks, the Go runtime hands the P to another thread.
	PathBlocking
)

func (p ReadyPath) String() string {
	switch p {
	case PathPresent:
		return "present"
	case PathUring:
		return "uring"
	case PathBlocking:
		return "blocking"
	}
	return fmt.Sprintf("ReadyPath(%d)", int(p))
}

// ReadyResult is the outcome of ReadyRange.
type ReadyResult struct {
	Pages    uint64 // pages of the range
	Present  uint64 // pages present now: a touch waits for no I/O
	Error    uint64 // pages that never will be (I/O error, past EOF, PROT_NONE): a touch faults
	Unmapped uint64 // pages with no mapping
	Path     ReadyPath
}

// ErrNotPresent is wrapped by Ready's error when some pages of the range can
// never be made present (Error or Unmapped pages); it wraps unix.EFAULT.
var ErrNotPresent = fmt.Errorf("some pages will never be present: %w", unix.EFAULT)

// Stats are counters of a Device's Ready calls.
type Stats struct {
	InFlight  int    // READYs submitted whose completion has not arrived (abandoned ones included)
	Cancelled uint64 // abandoned READYs the kernel ended with ECANCELED
	Present   uint64 // Ready calls that found every page present
	Uring     uint64 // Ready calls that waited on the io_uring
	Blocking  uint64 // Ready calls that fell back to a Wait probe
	Retried   uint64 // READYs io-wq cancelled on its own (a submitting thread exited), sent again
}

const (
	ringEntries = 64
	// Each READY may post two completions (its own and its cancel's): the
	// CQ never overflows with at most cqEntries/2 in flight; more callers
	// park on the slots channel.
	cqEntries   = 1024
	maxInflight = cqEntries / 2
	cancelTag   = 1 << 63 // user_data of cancel requests; a READY's is its id
)

type request struct {
	args      probeArgs // the kernel holds its address until the completion
	done      chan struct{}
	res       int32
	abandoned bool
}

type uringState struct {
	d          *Device
	mu         sync.Mutex // the ring's SQ and CQ, inflight, closing
	r          *ring
	efd        *os.File
	rc         syscall.RawConn
	nextID     uint64
	inflight   map[uint64]*request
	slots      chan struct{}
	closing    bool
	drained    chan struct{}
	reaperDone chan struct{}
	cancelled  uint64
	noWorker   bool // READYs wait without a worker (FeatureReadyNoWorker)
}

func newUringState(d *Device) (*uringState, error) {
	r, err := newRing(ringEntries, cqEntries)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		r.close()
		return nil, err
	}
	if err = r.registerEventfd(efd); err != nil {
		unix.Close(efd)
		r.close()
		return nil, err
	}
	// Non-blocking, so os.NewFile registers it with the netpoller.
	f := os.NewFile(uintptr(efd), "gupnw-eventfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		r.close()
		return nil, err
	}
	u := &uringState{
		d: d, r: r, efd: f, rc: rc, nextID: 1,
		inflight:   make(map[uint64]*request),
		slots:      make(chan struct{}, maxInflight),
		drained:    make(chan struct{}),
		reaperDone: make(chan struct{}),
		noWorker:   d.info.Has(FeatureReadyNoWorker),
	}
	go u.reaper()
	return u, nil
}

// reaper parks on the eventfd until the kernel posts completions.
func (u *uringState) reaper() {
	defer close(u.reaperDone)
	var buf [8]byte
	for {
		err := u.rc.Read(func(fd uintptr) bool {
			_, err := unix.Read(int(fd), buf[:])
			return err != unix.EAGAIN
		})
		u.mu.Lock()
		u.reapLocked()
		u.mu.Unlock()
		if err != nil { // the eventfd was closed: Device.Close
			return
		}
	}
}

func (u *uringState) reapLocked() {
	if u.r == nil { // closed
		return
	}
	u.r.reap(func(c cqe) {
		if c.userData&cancelTag != 0 {
			return
		}
		rq, ok := u.inflight[c.userData]
		if !ok {
			return
		}
		delete(u.inflight, c.userData)
		<-u.slots
		rq.res = c.res
		if rq.abandoned && c.res == -int32(unix.ECANCELED) {
			u.cancelled++
		}
		close(rq.done)
	})
	if u.closing && len(u.inflight) == 0 {
		select {
		case <-u.drained:
		default:
			close(u.drained)
		}
	}
}

func (u *uringState) cancelLocked(id uint64) {
	// If these fail the READY runs to its end; its block stays in the
	// table until then either way.
	if rq, ok := u.inflight[id]; ok && u.noWorker {
		// The module's cancel, for a READY waiting without a worker: it
		// names the READY by its argument block.
		s := sqe{opcode: ioringOpUringCmd, fd: int32(u.d.fd), off: uint64(uringCmdCancel),
			userData: cancelTag | id}
		s.cmd[0] = uint64(uintptr(unsafe.Pointer(&rq.args)))
		_ = u.r.submit(&s)
	}
	s := sqe{opcode: ioringOpAsyncCancel, fd: -1, addr: id, userData: cancelTag | id}
	_ = u.r.submit(&s)
}

var errClosed = fmt.Errorf("gupnw: device closed: %w", os.ErrClosed)

// submit sends a READY for [addr, addr+length); the caller holds a slot.
func (u *uringState) submit(addr uint64, length int, flags uint32) (uint64, *request, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closing {
		return 0, nil, errClosed
	}
	id := u.nextID
	u.nextID++
	rq := &request{done: make(chan struct{})}
	rq.args = probeArgs{size: uint32(unsafe.Sizeof(probeArgs{})), flags: flags, addr: addr, len: uint64(length)}
	s := sqe{opcode: ioringOpUringCmd, fd: int32(u.d.fd), off: uint64(uringCmdReady), userData: id}
	s.cmd[0] = uint64(uintptr(unsafe.Pointer(&rq.args)))
	if u.noWorker {
		// gupnw_uring_cmd.flags: the 4 bytes after args
		*(*uint32)(unsafe.Pointer(&s.cmd[1])) = uringReadyNoWorker
	}
	u.inflight[id] = rq
	if err := u.r.submit(&s); err != nil {
		delete(u.inflight, id) // never reached the kernel: the block is ours again
		return 0, nil, err
	}
	return id, rq, nil
}

func (u *uringState) close() {
	u.mu.Lock()
	u.closing = true
	for id, rq := range u.inflight {
		if !rq.abandoned {
			u.cancelLocked(id)
		}
	}
	u.reapLocked()
	u.mu.Unlock()
	// Parks (no OS thread blocks) until the kernel is done with every
	// argument block; the reaper is still running.
	<-u.drained
	u.efd.Close()
	<-u.reaperDone
	u.mu.Lock()
	u.r.close()
	u.r = nil
	u.mu.Unlock()
}

// Ready waits until every page under b is present, without blocking the
// calling goroutine's OS thread: a touch of b afterwards waits for no I/O
// (while the kernel keeps the pages; under memory pressure it may take them
// back). It returns at once when a NOWAIT probe finds them present.
//
// While it waits, the goroutine is parked like one reading a socket, and its
// P runs other goroutines. When ctx ends first, the wait is cancelled in the
// kernel and Ready returns ctx.Err(). When some pages can never be present
// (an I/O error, past the end of the file, unmapped), the error wraps
// ErrNotPresent.
func (d *Device) Ready(ctx context.Context, b []byte) error {
	return d.readySlice(ctx, b, false)
}

// ReadyWrite is Ready for write access (breaks copy-on-write of private pages).
func (d *Device) ReadyWrite(ctx context.Context, b []byte) error {
	return d.readySlice(ctx, b, true)
}

func (d *Device) readySlice(ctx context.Context, b []byte, write bool) error {
	if len(b) == 0 {
		return nil
	}
	addr := uintptr(unsafe.Pointer(&b[0]))
	start := addr &^ uintptr(d.pageSize-1)
	r, err := d.ReadyRange(ctx, start, len(b)+int(addr-start), write)
	runtime.KeepAlive(b)
	if err != nil {
		return err
	}
	if r.Present < r.Pages {
		return fmt.Errorf("gupnw: ready: %d of %d pages: %w", r.Pages-r.Present, r.Pages, ErrNotPresent)
	}
	return nil
}

// ReadyRange is Ready on [addr, addr+length) of this process, with the
// counts; addr must be page aligned (unix.EINVAL).
func (d *Device) ReadyRange(ctx context.Context, addr uintptr, length int, write bool) (ReadyResult, error) {
	var flags uint32
	if write {
		flags = probeWrite
	}
	// NOWAIT: never waits; starts the reads of what is missing.
	c, err := d.probe(uint64(addr), length, flags, nil, nil)
	if err != nil {
		return ReadyResult{}, fmt.Errorf("gupnw: ready: %w", err)
	}
	if c.Retry == 0 && c.Cold == 0 {
		d.nPresent.Add(1)
		return ReadyResult{Pages: c.Done, Present: c.Resident + c.Faulted, Error: c.Error,
			Unmapped: c.Unmapped, Path: PathPresent}, nil
	}
	if err := ctx.Err(); err != nil {
		return ReadyResult{}, err
	}
	if u := d.async; u != nil {
		return d.readyUring(ctx, u, uint64(addr), length, flags)
	}
	return d.readyBlocking(ctx, uint64(addr), length, flags)
}

func (d *Device) readyUring(ctx context.Context, u *uringState, addr uint64, length int, flags uint32) (ReadyResult, error) {
	d.nUring.Add(1)
	for tries := 1; ; tries++ {
		r, res, err := d.readyUringOnce(ctx, u, addr, length, flags)
		// ECANCELED that neither ctx nor Close asked for: io-wq cancels
		// what a thread submitted when that thread exits (io_uring's
		// io-wq is per thread, and Go ends the thread of a goroutine
		// that returns locked to it), and so does the module for a
		// READY without a worker, whose task work is that thread's. The
		// reads it started go on; wait again, a few times at most.
		if err != nil && res == -int32(unix.ECANCELED) && ctx.Err() == nil &&
			!u.isClosing() && tries < readyRetries {
			d.nRetried.Add(1)
			continue
		}
		return r, err
	}
}

// READYs cancelled by io-wq, not by their caller, resubmitted at most.
const readyRetries = 3

// testHookSubmit runs a READY's submission: a test submits from a thread
// that then exits.
var testHookSubmit = func(submit func()) { submit() }

func (u *uringState) isClosing() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.closing
}

// readyUringOnce is one READY and its wait; res is its completion's result
// (0 when it was not submitted or ctx ended first).
func (d *Device) readyUringOnce(ctx context.Context, u *uringState, addr uint64, length int, flags uint32) (ReadyResult, int32, error) {
	select {
	case u.slots <- struct{}{}:
	case <-ctx.Done():
		return ReadyResult{}, 0, ctx.Err()
	}
	var id uint64
	var rq *request
	var err error
	testHookSubmit(func() { id, rq, err = u.submit(addr, length, flags) })
	if err != nil {
		<-u.slots
		return ReadyResult{}, 0, fmt.Errorf("gupnw: ready: %w", err)
	}
	select {
	case <-rq.done:
	case <-ctx.Done():
		u.mu.Lock()
		select {
		case <-rq.done:
			u.mu.Unlock() // completed meanwhile: take the result
		default:
			rq.abandoned = true
			u.cancelLocked(id)
			u.mu.Unlock()
			return ReadyResult{}, 0, ctx.Err()
		}
	}
	if rq.res < 0 {
		return ReadyResult{}, rq.res, fmt.Errorf("gupnw: ready: %w", syscall.Errno(-rq.res))
	}
	a := &rq.args
	return ReadyResult{Pages: a.done, Present: a.nrResident, Error: a.nrError,
		Unmapped: a.nrUnmapped, Path: PathUring}, rq.res, nil
}

func (d *Device) readyBlocking(ctx context.Context, addr uint64, length int, flags uint32) (ReadyResult, error) {
	d.nBlocking.Add(1)
	type res struct {
		c   Counts
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := d.probe(addr, length, flags|probeWait, nil, nil)
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return ReadyResult{}, fmt.Errorf("gupnw: ready: %w", r.err)
		}
		// After a Wait probe 'W' means "needed I/O, which was waited for":
		// present too (module/gupnw_walk.c).
		return ReadyResult{Pages: r.c.Done, Present: r.c.Resident + r.c.Faulted + r.c.Retry,
			Error: r.c.Error, Unmapped: r.c.Unmapped, Path: PathBlocking}, nil
	case <-ctx.Done():
		return ReadyResult{}, ctx.Err() // the Wait probe finishes on its own
	}
}

// UsesUring reports whether Ready waits on io_uring (else a Wait probe on a
// goroutine of its own: Linux before 6.0, or io_uring disabled).
func (d *Device) UsesUring() bool { return d.async != nil }

// WaitsWithoutWorker reports whether Ready's READYs wait for a file's reads
// with no thread at all (FeatureReadyNoWorker; else in io_uring workers).
func (d *Device) WaitsWithoutWorker() bool { return d.async != nil && d.async.noWorker }

// Stats returns the counters of Ready calls.
func (d *Device) Stats() Stats {
	s := Stats{Present: d.nPresent.Load(), Uring: d.nUring.Load(), Blocking: d.nBlocking.Load(),
		Retried: d.nRetried.Load()}
	if u := d.async; u != nil {
		u.mu.Lock()
		u.reapLocked()
		s.InFlight = len(u.inflight)
		s.Cancelled = u.cancelled
		u.mu.Unlock()
	}
	return s
}

// SetReadyWorkers sets how many of the Device's READYs may wait at once
// per thread that submits them, for those that need an io_uring worker (all
// of them without FeatureReadyNoWorker; with it, those that meet swapped-out
// memory or a file no folio wait covers): io-wq runs them on its bounded workers, at
// most min(64, 4 * CPUs) of them by default (IORING_REGISTER_IOWQ_MAX_WORKERS;
// the others queue in io-wq). The kernel applies it to every thread that
// submits to the Device's ring, now and later. It returns the limit before
// of the calling thread's io-wq (0 if it has none yet). Without an
// io_uring (Ready falls back to Wait probes) it returns an error wrapping
// unix.EOPNOTSUPP.
func (d *Device) SetReadyWorkers(n int) (int, error) {
	u := d.async
	if u == nil {
		return 0, fmt.Errorf("gupnw: no io_uring READY: %w", unix.EOPNOTSUPP)
	}
	if n <= 0 {
		return 0, fmt.Errorf("gupnw: %d workers: %w", n, unix.EINVAL)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.r == nil {
		return 0, errClosed
	}
	old, err := u.r.maxWorkers(uint32(n), 0)
	if err != nil {
		return 0, fmt.Errorf("gupnw: IORING_REGISTER_IOWQ_MAX_WORKERS: %w", err)
	}
	return int(old[0]), nil
}

// Close cancels the READYs still in flight, waits (parked) until the kernel
// has finished with them, and closes the ring and the device. Ready calls
// still waiting return an error wrapping unix.ECANCELED; later ones one
// wrapping os.ErrClosed.
func (d *Device) Close() error {
	if !d.closed.CompareAndSwap(false, true) {
		return errClosed
	}
	if d.async != nil {
		d.async.close()
	}
	return d.f.Close()
}
