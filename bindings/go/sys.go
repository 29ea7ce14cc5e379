// SPDX-License-Identifier: LGPL-2.1-or-later

package gupnw

import "unsafe"

// The kernel ABI of /dev/gupnw, transcribed from uapi/linux/gupnw.h; the
// sizes are checked at compile time below and the values by abi_test.go.

const devicePath = "/dev/gupnw"

// ABIVersion is the GUPNW_ABI_VERSION this package speaks.
const ABIVersion = 1

const (
	probeWrite    = 1 << 0
	probeNoFault  = 1 << 1
	probeWait     = 1 << 2
	probeTargetFD = 1 << 3
	probeExtents  = 1 << 4
)

// Feature bits of Info.Features (GUPNW_FEATURE_*).
const (
	FeatureProbe      uint64 = 1 << 0
	FeatureTargetFD   uint64 = 1 << 1
	FeatureExtents    uint64 = 1 << 2
	FeatureIOCap      uint64 = 1 << 3
	FeatureUringCmd   uint64 = 1 << 4
	FeatureCold       uint64 = 1 << 5
	FeatureAsyncFault uint64 = 1 << 6
	// READY waits for a file's reads with no io_uring worker (Ready uses it).
	FeatureReadyNoWorker uint64 = 1 << 7
)

type probeArgs struct {
	size         uint32
	flags        uint32
	addr         uint64
	len          uint64
	states       uint64
	targetFD     int32
	nrExtents    uint32
	done         uint64
	nrResident   uint64
	nrFaulted    uint64
	nrRetry      uint64
	nrUnmapped   uint64
	nrError      uint64
	nrNotPresent uint64
	ioStarted    uint64
	nrCold       uint64
	asyncFaults  uint64
	reserved     [1]uint64
}

type kinfo struct {
	size              uint32
	abiVersion        uint32
	features          uint64
	probeFlags        uint64
	pageSize          uint32
	probeKmem         uint32
	maxChunkPages     uint64
	version           [32]byte
	maxIOPages        uint64
	maxAsyncFaults    uint64
	asyncFaultsQueued uint64
	reserved          [1]uint64
}

const (
	probeArgsSizeVer0 = 128
	infoSizeVer0      = 104
	iocMagic          = 0xBA
	uringCmdSize      = 16
)

// <asm-generic/ioctl.h>: dir:2 size:14 type:8 nr:8, _IOC_READ|_IOC_WRITE = 3.
func iowr(nr, size uintptr) uintptr { return 3<<30 | size<<16 | iocMagic<<8 | nr }

// The command numbers carry the VER0 sizes.
var (
	iocGetInfo     = iowr(0x00, infoSizeVer0)
	iocProbe       = iowr(0x01, probeArgsSizeVer0)
	uringCmdReady  = uint32(iowr(0x21, uringCmdSize))
	uringCmdCancel = uint32(iowr(0x22, uringCmdSize))
)

// gupnw_uring_cmd.flags of READY: wait without an io_uring worker.
const uringReadyNoWorker = 1 << 0

// Compile-time size guards: an array of negative length does not compile.
var (
	_ [unsafe.Sizeof(probeArgs{}) - probeArgsSizeVer0]byte
	_ [probeArgsSizeVer0 - unsafe.Sizeof(probeArgs{})]byte
	_ [unsafe.Sizeof(kinfo{}) - infoSizeVer0]byte
	_ [infoSizeVer0 - unsafe.Sizeof(kinfo{})]byte
	_ [unsafe.Sizeof(Extent{}) - 24]byte
	_ [24 - unsafe.Sizeof(Extent{})]byte
)
