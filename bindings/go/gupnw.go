// SPDX-License-Identifier: LGPL-2.1-or-later

// Package gupnw is gupnw ("GUP, no wait") from Go: ask the kernel, per page
// of a range, whether touching it now would wait for I/O - without waiting -
// and await pages with Ready instead of stalling a P on a page fault.
//
// The kernel side is the gupnw.ko module and its device /dev/gupnw (see the
// project's README). The package talks to the device directly with ioctl and
// io_uring system calls; it needs no cgo, libgupnw or liburing.
//
// A page fault on memory-mapped file data (a bbolt database, say) that needs
// a read from storage blocks the OS thread in the kernel, and with it the P
// that thread holds: no other goroutine runs on that P until the read is done,
// and the Go scheduler cannot tell. Ready makes the read happen in a kernel
// worker instead, while the calling goroutine is parked on the netpoller like
// one waiting for a socket.
//
// Errors wrap the kernel's errno (a syscall.Errno, which unix.Errno is):
// errors.Is(err, unix.EINVAL) for a misaligned address or unknown flags,
// unix.EPERM or unix.EACCES without ptrace rights over a target process,
// unix.ENOENT without the device, unix.ESRCH for a process that does not exist.
package gupnw

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// State is what touching one page costs, as a probe reports it: one of the
// letters of the ABI.
type State byte

// The page states.
const (
	Resident   State = 'R' // mapped and present; no fault taken
	Faulted    State = 'F' // made present by a fault that needed no I/O
	Retry      State = 'W' // needs I/O, which is under way; the probe did not wait
	Unmapped   State = '.' // no mapping covers the address
	Error      State = 'E' // mapped, but the kernel refused it (PROT_NONE, past EOF, ...)
	NotPresent State = 'N' // report-only: not mapped now, in memory: a touch needs no I/O
	Cold       State = 'C' // a touch would read it from storage; nothing was started
)

// Present reports whether a touch costs no I/O wait (R, F, N).
func (s State) Present() bool { return s == Resident || s == Faulted || s == NotPresent }

func (s State) String() string { return string(rune(s)) }

// Flags select a probe's mode; combine with |.
type Flags uint32

// Probe modes.
const (
	// NoWait is the default: fault in what needs no I/O, start the I/O of
	// the rest, never wait.
	NoWait Flags = 0
	// Write probes for write access (breaks copy-on-write of private pages).
	Write Flags = probeWrite
	// NoFault is report-only: no fault, no I/O, nothing changes.
	NoFault Flags = probeNoFault
	// Wait is ordinary blocking GUP: waits for the I/O (a baseline). It
	// blocks the calling OS thread; use Ready to wait without doing so.
	// After a Wait probe, Retry counts pages that needed I/O and got it:
	// they are present.
	Wait Flags = probeWait
)

// Counts says how many pages of a probed range are in each state.
type Counts struct {
	Done       uint64 // pages decided (and written to the states buffer), from the start
	Resident   uint64 // R
	Faulted    uint64 // F
	Retry      uint64 // W
	Unmapped   uint64 // .
	Error      uint64 // E
	NotPresent uint64 // N
	Cold       uint64 // C
	IOStarted  uint64 // pages whose read this probe started itself
	AsyncFault uint64 // pages handed to the module's fault-in worker
}

// Present is the number of pages a touch reaches without waiting for I/O.
func (c Counts) Present() uint64 { return c.Resident + c.Faulted + c.NotPresent }

func countsOf(a *probeArgs) Counts {
	return Counts{
		Done: a.done, Resident: a.nrResident, Faulted: a.nrFaulted, Retry: a.nrRetry,
		Unmapped: a.nrUnmapped, Error: a.nrError, NotPresent: a.nrNotPresent, Cold: a.nrCold,
		IOStarted: a.ioStarted, AsyncFault: a.asyncFaults,
	}
}

// Extent is one run of pages in the same state (ProbeExtents); the ABI's
// struct gupnw_probe_extent, which the kernel writes in place.
type Extent struct {
	Start    uint64 // first address of the run
	Pages    uint64 // pages in the run
	state    uint32
	reserved uint32
}

// State is the state of the run's pages.
func (e Extent) State() State { return State(e.state) }

// Info is what the running module is and supports (GUPNW_IOC_GET_INFO).
type Info struct {
	ABIVersion        uint32 // GUPNW_ABI_VERSION of the module
	Features          uint64 // Feature* bits
	ProbeFlags        uint64 // GUPNW_PROBE_* flags the module accepts
	PageSize          uint32 // the kernel's page size
	ProbeKmem         uint32 // kernel memory one probe call allocates at most
	MaxChunkPages     uint64 // pages handled per mmap_lock hold
	Version           string // module version, e.g. "0.2.0"
	MaxIOPages        uint64 // pages of read I/O one probe may start
	MaxAsyncFaults    uint64 // global cap of the fault-in worker
	AsyncFaultsQueued uint64 // pages in the fault-in worker now
}

// Has reports whether the module has every feature bit of f.
func (i Info) Has(f uint64) bool { return i.Features&f == f }

// PidMem is another process's address space, opened through /proc/PID/mem
// (where the kernel checks ptrace-attach rights). Holding it pins that
// address space: a recycled pid cannot be probed by mistake.
type PidMem struct {
	f   *os.File
	pid int
}

// OpenPidMem opens /proc/PID/mem, for writing if write (what a Write probe
// needs). unix.ESRCH for a process that does not exist; unix.EACCES or
// unix.EPERM without ptrace-attach rights.
func OpenPidMem(pid int, write bool) (*PidMem, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("gupnw: pid %d: %w", pid, unix.ESRCH)
	}
	mode := os.O_RDONLY
	if write {
		mode = os.O_RDWR
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", pid), mode, 0)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("gupnw: pid %d: %w", pid, unix.ESRCH)
		}
		return nil, err
	}
	return &PidMem{f: f, pid: pid}, nil
}

// Pid is the pid it was opened for.
func (m *PidMem) Pid() int { return m.pid }

// Close closes the /proc/PID/mem file.
func (m *PidMem) Close() error { return m.f.Close() }

// Device is an open /dev/gupnw. Its methods are safe for concurrent use.
type Device struct {
	f        *os.File
	rc       syscall.RawConn // ioctls through it: a Close waits for them, and fails later ones
	fd       int
	pageSize int
	info     Info
	async    *uringState // nil without io_uring READY: Ready falls back
	closed   atomic.Bool

	nPresent, nUring, nBlocking, nRetried atomic.Uint64
}

// Open opens $GUPNW_DEVICE if set, else /dev/gupnw, and sets up the
// io_uring Ready waits on (when the kernel and the module offer one).
func Open() (*Device, error) {
	if p := os.Getenv("GUPNW_DEVICE"); p != "" {
		return OpenPath(p)
	}
	return OpenPath(devicePath)
}

// OpenPath opens the device at path.
func OpenPath(path string) (*Device, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	d := &Device{f: f, fd: int(f.Fd()), pageSize: os.Getpagesize()}
	if d.rc, err = f.SyscallConn(); err != nil {
		f.Close()
		return nil, err
	}
	if d.info, err = d.getInfo(); err != nil {
		f.Close()
		return nil, err
	}
	if d.info.Has(FeatureUringCmd) {
		// A kernel without io_uring (or with it disabled) leaves the fallback.
		d.async, _ = newUringState(d)
	}
	return d, nil
}

// Fd is the device's file descriptor (for a ring of your own), valid until
// Close.
func (d *Device) Fd() int { return d.fd }

// PageSize is the page size probes count in.
func (d *Device) PageSize() int { return d.pageSize }

// Pages is the number of pages of [addr, addr+length) once addr is rounded
// down to a page: the length a states buffer needs.
func (d *Device) Pages(addr uintptr, length int) int {
	ps := uintptr(d.pageSize)
	start := addr &^ (ps - 1)
	return int((addr + uintptr(length) - start + ps - 1) / ps)
}

// Info is what the module is and supports, as read at Open.
func (d *Device) Info() Info { return d.info }

// ReadInfo asks the module again (AsyncFaultsQueued changes).
func (d *Device) ReadInfo() (Info, error) { return d.getInfo() }

func (d *Device) getInfo() (Info, error) {
	ki := &kinfo{size: uint32(unsafe.Sizeof(kinfo{}))}
	if err := d.ioctl(iocGetInfo, unsafe.Pointer(ki)); err != nil {
		return Info{}, fmt.Errorf("gupnw: info: %w", err)
	}
	n := 0
	for n < len(ki.version) && ki.version[n] != 0 {
		n++
	}
	return Info{
		ABIVersion: ki.abiVersion, Features: ki.features, ProbeFlags: ki.probeFlags,
		PageSize: ki.pageSize, ProbeKmem: ki.probeKmem, MaxChunkPages: ki.maxChunkPages,
		Version: string(ki.version[:n]), MaxIOPages: ki.maxIOPages,
		MaxAsyncFaults: ki.maxAsyncFaults, AsyncFaultsQueued: ki.asyncFaultsQueued,
	}, nil
}

// escapes makes p escape to the heap: memory whose address the kernel gets
// inside a struct (not as a system call argument) must not be on a goroutine
// stack, which may move.
//
//go:noinline
func escapes(p unsafe.Pointer) {
	if escapeSink.on {
		escapeSink.p = p
	}
}

var escapeSink struct {
	on bool
	p  unsafe.Pointer
}

func (d *Device) ioctl(cmd uintptr, arg unsafe.Pointer) error {
	escapes(arg)
	var errno unix.Errno
	err := d.rc.Control(func(fd uintptr) {
		for {
			_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, cmd, uintptr(arg))
			// The module restarts a probe interrupted by a signal the Go
			// runtime sends (preemption) from the start.
			if errno != unix.EINTR {
				return
			}
		}
	})
	if err != nil {
		return os.ErrClosed // Control fails only on a closed file
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// Probe probes the pages under b (its start rounded down, its end up to
// whole pages). states, if not nil, gets one State byte per page and must
// hold Pages(&b[0], len(b)) bytes (unix.EINVAL otherwise).
func (d *Device) Probe(b []byte, flags Flags, states []byte) (Counts, error) {
	if len(b) == 0 {
		return Counts{}, nil
	}
	addr := uintptr(unsafe.Pointer(&b[0]))
	start := addr &^ uintptr(d.pageSize-1)
	return d.ProbeRange(start, len(b)+int(addr-start), flags, states)
}

// ProbeRange probes [addr, addr+length) of this process; addr must be page
// aligned, length is rounded up to whole pages. Any address may be probed
// (unmapped ones are '.'); nothing is read or written through it.
func (d *Device) ProbeRange(addr uintptr, length int, flags Flags, states []byte) (Counts, error) {
	return d.probe(uint64(addr), length, uint32(flags), nil, states)
}

// ProbePid probes [addr, addr+length) of the process behind m.
func (d *Device) ProbePid(m *PidMem, addr uint64, length int, flags Flags, states []byte) (Counts, error) {
	return d.probe(addr, length, uint32(flags), m, states)
}

func (d *Device) args(addr uint64, length int, flags uint32) *probeArgs {
	return &probeArgs{size: uint32(unsafe.Sizeof(probeArgs{})), flags: flags, addr: addr, len: uint64(length)}
}

// ioctlTarget is the probe ioctl with a's target_fd the fd of target, held
// open for the call.
func (d *Device) ioctlTarget(a *probeArgs, target *PidMem) error {
	if target == nil {
		return d.ioctl(iocProbe, unsafe.Pointer(a))
	}
	rc, err := target.f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err = rc.Control(func(fd uintptr) {
		a.flags |= probeTargetFD
		a.targetFD = int32(fd)
		ierr = d.ioctl(iocProbe, unsafe.Pointer(a))
	}); err != nil {
		return fmt.Errorf("target: %w", os.ErrClosed)
	}
	return ierr
}

func (d *Device) probe(addr uint64, length int, flags uint32, target *PidMem, states []byte) (Counts, error) {
	if length < 0 {
		return Counts{}, fmt.Errorf("gupnw: probe: negative length: %w", unix.EINVAL)
	}
	a := d.args(addr, length, flags)
	if states != nil {
		// The kernel writes one byte per page: never past the buffer.
		pages := (uint64(length) + uint64(d.pageSize) - 1) / uint64(d.pageSize)
		if uint64(len(states)) < pages || len(states) == 0 {
			return Counts{}, fmt.Errorf("gupnw: probe: states buffer of %d bytes for %d pages: %w",
				len(states), pages, unix.EINVAL)
		}
		escapes(unsafe.Pointer(&states[0]))
		a.states = uint64(uintptr(unsafe.Pointer(&states[0])))
	}
	err := d.ioctlTarget(a, target)
	runtime.KeepAlive(states)
	if err != nil {
		return countsOf(a), fmt.Errorf("gupnw: probe: %w", err)
	}
	return countsOf(a), nil
}

// ProbeExtents probes [addr, addr+length) of this process as runs of one
// state, written to ext (at least one element; unix.EINVAL otherwise). It
// returns the extents written; when ext fills first, Counts.Done says how
// far it got: probe again from addr + Done*PageSize.
func (d *Device) ProbeExtents(addr uintptr, length int, flags Flags, ext []Extent) ([]Extent, Counts, error) {
	if len(ext) == 0 || length < 0 {
		return nil, Counts{}, fmt.Errorf("gupnw: probe extents: empty buffer: %w", unix.EINVAL)
	}
	a := d.args(uint64(addr), length, uint32(flags)|probeExtents)
	escapes(unsafe.Pointer(&ext[0]))
	a.states = uint64(uintptr(unsafe.Pointer(&ext[0])))
	n := uint64(len(ext))
	if n > 1<<32-1 {
		n = 1<<32 - 1
	}
	a.nrExtents = uint32(n)
	err := d.ioctl(iocProbe, unsafe.Pointer(a))
	runtime.KeepAlive(ext)
	if err != nil {
		return nil, countsOf(a), fmt.Errorf("gupnw: probe extents: %w", err)
	}
	return ext[:a.nrExtents], countsOf(a), nil
}
