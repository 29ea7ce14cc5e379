// SPDX-License-Identifier: LGPL-2.1-or-later

package gupnw

// A minimal io_uring through the raw system calls, as bindings/rust/src/ring.rs:
// just enough to submit IORING_OP_URING_CMD and IORING_OP_ASYNC_CANCEL and to
// reap completions.  Internal: the Device serialises every use under its lock.

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	ioringOpAsyncCancel   = 14
	ioringOpUringCmd      = 46 // 6.0
	ioringFeatSingleMmap  = 1 << 0
	ioringSetupCqsize     = 1 << 3
	ioringOffSqRing       = 0
	ioringOffCqRing       = 0x8000000
	ioringOffSqes         = 0x10000000
	ioringRegisterEventfd = 4
	ioringRegisterIowqMax = 19 // IORING_REGISTER_IOWQ_MAX_WORKERS, 5.15
	sqeSize               = 64
	cqeSize               = 16
	uringParamsSize       = 120
	sqeCmdOff             = 48
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	fileIndex   int32
	cmd         [2]uint64
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

var (
	_ [unsafe.Sizeof(sqe{}) - sqeSize]byte
	_ [sqeSize - unsafe.Sizeof(sqe{})]byte
	_ [unsafe.Sizeof(uringParams{}) - uringParamsSize]byte
	_ [uringParamsSize - unsafe.Sizeof(uringParams{})]byte
	_ [unsafe.Offsetof(sqe{}.cmd) - sqeCmdOff]byte
	_ [sqeCmdOff - unsafe.Offsetof(sqe{}.cmd)]byte
)

type ring struct {
	fd    int
	sqMap []byte
	cqMap []byte // nil with IORING_FEAT_SINGLE_MMAP: the CQ is in sqMap
	sqes  []byte
	p     uringParams
}

func newRing(entries, cqEntries uint32) (*ring, error) {
	p := uringParams{flags: ioringSetupCqsize, cqEntries: cqEntries}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, errno
	}
	r := &ring{fd: int(fd), p: p}
	if err := r.mapRings(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *ring) mapRings() error {
	p := &r.p
	sqLen := int(p.sqOff.array) + int(p.sqEntries)*4
	cqLen := int(p.cqOff.cqes) + int(p.cqEntries)*cqeSize
	single := p.features&ioringFeatSingleMmap != 0
	if single && cqLen > sqLen {
		sqLen = cqLen
	}
	prot, flags := unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE
	var err error
	if r.sqMap, err = unix.Mmap(r.fd, ioringOffSqRing, sqLen, prot, flags); err != nil {
		return err
	}
	if !single {
		if r.cqMap, err = unix.Mmap(r.fd, ioringOffCqRing, cqLen, prot, flags); err != nil {
			return err
		}
	}
	r.sqes, err = unix.Mmap(r.fd, ioringOffSqes, int(p.sqEntries)*sqeSize, prot, flags)
	return err
}

func (r *ring) close() {
	for _, m := range [][]byte{r.sqes, r.cqMap, r.sqMap} {
		if m != nil {
			_ = unix.Munmap(m)
		}
	}
	r.sqes, r.cqMap, r.sqMap = nil, nil, nil
	_ = unix.Close(r.fd)
}

func (r *ring) registerEventfd(efd int) error {
	fd := int32(efd)
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterEventfd,
		uintptr(unsafe.Pointer(&fd)), 1, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// maxWorkers sets io-wq's worker limits of the ring's tasks (0 leaves one
// as it is) and returns the limits before.
func (r *ring) maxWorkers(bounded, unbounded uint32) ([2]uint32, error) {
	v := [2]uint32{bounded, unbounded}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterIowqMax,
		uintptr(unsafe.Pointer(&v)), 2, 0, 0)
	if errno != 0 {
		return v, errno
	}
	return v, nil
}

func u32at(m []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&m[off])) }

func (r *ring) cq() []byte {
	if r.cqMap != nil {
		return r.cqMap
	}
	return r.sqMap
}

// submit queues one SQE and hands it to the kernel; it returns once the kernel
// has consumed it (without SQPOLL, io_uring_enter consumes what it is given).
// The SQ is never full: the caller bounds what is in flight.
func (r *ring) submit(s *sqe) error {
	head := atomic.LoadUint32(u32at(r.sqMap, r.p.sqOff.head))
	tail := atomic.LoadUint32(u32at(r.sqMap, r.p.sqOff.tail))
	if tail-head >= r.p.sqEntries {
		return unix.EBUSY
	}
	idx := tail & (r.p.sqEntries - 1)
	*(*sqe)(unsafe.Pointer(&r.sqes[uintptr(idx)*sqeSize])) = *s
	*(*uint32)(unsafe.Pointer(&r.sqMap[uintptr(r.p.sqOff.array)+uintptr(idx)*4])) = idx
	// Go's atomics are sequentially consistent: the SQE is visible before the tail.
	atomic.StoreUint32(u32at(r.sqMap, r.p.sqOff.tail), tail+1)
	for {
		n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 0, 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno == 0 && n >= 1 {
			return nil
		}
		// Not consumed: take the SQE back so the ring stays consistent.
		atomic.StoreUint32(u32at(r.sqMap, r.p.sqOff.tail), tail)
		if errno != 0 {
			return errno
		}
		return unix.EAGAIN
	}
}

// reap calls f for every completion there is.
func (r *ring) reap(f func(cqe)) {
	cq := r.cq()
	mask := r.p.cqEntries - 1
	head := atomic.LoadUint32(u32at(cq, r.p.cqOff.head))
	tail := atomic.LoadUint32(u32at(cq, r.p.cqOff.tail))
	for ; head != tail; head++ {
		c := *(*cqe)(unsafe.Pointer(&cq[uintptr(r.p.cqOff.cqes)+uintptr(head&mask)*cqeSize]))
		f(c)
	}
	atomic.StoreUint32(u32at(cq, r.p.cqOff.head), head)
}
