// SPDX-License-Identifier: LGPL-2.1-or-later

package gupnw

// The ABI transcribed in sys.go and ring.go against the C headers, without
// cgo: the values of uapi/linux/gupnw.h's #defines, the field offsets of its
// structs (natural alignment, as the header promises), and the io_uring
// values against <linux/io_uring.h> where linux-libc-dev is installed.

import (
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

func readHeader(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	return string(b)
}

// define evaluates "#define NAME value" for the forms the headers use:
// a number, (1U << n), (1ULL << n), or a character literal.
func define(t *testing.T, h, name string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^#define\s+` + name + `\s+(.+?)\s*(/\*.*)?$`).FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("no #define %s", name)
	}
	v := strings.TrimSpace(m[1])
	if s := regexp.MustCompile(`^\(1U?L?L? << (\d+)\)$`).FindStringSubmatch(v); s != nil {
		n, _ := strconv.Atoi(s[1])
		return 1 << n
	}
	if len(v) == 3 && v[0] == '\'' {
		return uint64(v[1])
	}
	n, err := strconv.ParseUint(strings.TrimRight(v, "UL"), 0, 64)
	if err != nil {
		t.Fatalf("#define %s %s: %v", name, v, err)
	}
	return n
}

// structOffsets lays out "struct name { ... };" of h with natural alignment.
func structOffsets(t *testing.T, h, name string) (offs []uintptr, size uintptr) {
	t.Helper()
	m := regexp.MustCompile(`(?s)struct ` + name + ` \{(.*?)\};`).FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("no struct %s", name)
	}
	sizes := map[string]uintptr{"__u8": 1, "char": 1, "__u16": 2, "__u32": 4, "__s32": 4, "__u64": 8}
	field := regexp.MustCompile(`^\s*(\w+)\s+\w+(\[(\d+)\])?;`)
	var off, maxAlign uintptr = 0, 1
	for _, l := range strings.Split(m[1], "\n") {
		f := field.FindStringSubmatch(l)
		if f == nil {
			continue
		}
		sz, ok := sizes[f[1]]
		if !ok {
			t.Fatalf("struct %s: type %s", name, f[1])
		}
		n := uintptr(1)
		if f[3] != "" {
			k, _ := strconv.Atoi(f[3])
			n = uintptr(k)
		}
		off = (off + sz - 1) &^ (sz - 1)
		offs = append(offs, off)
		off += sz * n
		if sz > maxAlign {
			maxAlign = sz
		}
	}
	return offs, (off + maxAlign - 1) &^ (maxAlign - 1)
}

func goOffsets(v interface{}) (offs []uintptr, size uintptr) {
	ty := reflect.TypeOf(v)
	for i := 0; i < ty.NumField(); i++ {
		offs = append(offs, ty.Field(i).Offset)
	}
	return offs, ty.Size()
}

func TestABIMatchesTheUAPIHeader(t *testing.T) {
	h := readHeader(t, "../../uapi/linux/gupnw.h")
	for name, v := range map[string]uint64{
		"GUPNW_ABI_VERSION": ABIVersion, "GUPNW_IOC_MAGIC": iocMagic,
		"GUPNW_PROBE_WRITE": probeWrite, "GUPNW_PROBE_NOFAULT": probeNoFault,
		"GUPNW_PROBE_WAIT": probeWait, "GUPNW_PROBE_TARGET_FD": probeTargetFD,
		"GUPNW_PROBE_EXTENTS":          probeExtents,
		"GUPNW_FEATURE_PROBE":          FeatureProbe,
		"GUPNW_FEATURE_TARGET_FD":      FeatureTargetFD,
		"GUPNW_FEATURE_EXTENTS":        FeatureExtents,
		"GUPNW_FEATURE_IO_CAP":         FeatureIOCap,
		"GUPNW_FEATURE_URING_CMD":      FeatureUringCmd,
		"GUPNW_FEATURE_COLD":           FeatureCold,
		"GUPNW_FEATURE_ASYNC_FAULT":    FeatureAsyncFault,
		"GUPNW_FEATURE_READY_NOWORKER": FeatureReadyNoWorker,
		"GUPNW_URING_READY_NOWORKER":   uringReadyNoWorker,
		"GUPNW_STATE_RESIDENT":         uint64(Resident),
		"GUPNW_STATE_FAULTED":          uint64(Faulted),
		"GUPNW_STATE_RETRY":            uint64(Retry),
		"GUPNW_STATE_UNMAPPED":         uint64(Unmapped),
		"GUPNW_STATE_ERROR":            uint64(Error),
		"GUPNW_STATE_NOTPRESENT":       uint64(NotPresent),
		"GUPNW_STATE_COLD":             uint64(Cold),
		"GUPNW_PROBE_ARGS_SIZE_VER0":   probeArgsSizeVer0,
		"GUPNW_INFO_SIZE_VER0":         infoSizeVer0,
	} {
		if got := define(t, h, name); got != v {
			t.Errorf("%s: header %#x, Go %#x", name, got, v)
		}
	}
	for _, c := range []struct {
		c string
		v interface{}
	}{
		{"gupnw_probe_args", probeArgs{}}, {"gupnw_info", kinfo{}},
		{"gupnw_probe_extent", Extent{}}, {"gupnw_uring_cmd", [2]uint64{}},
	} {
		co, cs := structOffsets(t, h, c.c)
		if reflect.TypeOf(c.v).Kind() == reflect.Array {
			if cs != unsafe.Sizeof(c.v) {
				t.Errorf("struct %s: size %d, Go %d", c.c, cs, unsafe.Sizeof(c.v))
			}
			continue
		}
		gofs, gs := goOffsets(c.v)
		if !reflect.DeepEqual(co, gofs) || cs != gs {
			t.Errorf("struct %s: offsets %v size %d, Go %v size %d", c.c, co, cs, gofs, gs)
		}
	}
}

func TestIoUringValuesMatchTheKernelHeader(t *testing.T) {
	h := readHeader(t, "/usr/include/linux/io_uring.h")
	for name, v := range map[string]uint64{
		"IORING_SETUP_CQSIZE": ioringSetupCqsize, "IORING_FEAT_SINGLE_MMAP": ioringFeatSingleMmap,
		"IORING_OFF_SQ_RING": ioringOffSqRing, "IORING_OFF_CQ_RING": ioringOffCqRing,
		"IORING_OFF_SQES": ioringOffSqes,
	} {
		if got := define(t, h, name); got != v {
			t.Errorf("%s: header %#x, Go %#x", name, got, v)
		}
	}
	// enum io_uring_op counts from 0; IORING_REGISTER_EVENTFD is "= 4".
	m := regexp.MustCompile(`(?s)enum io_uring_op \{(.*?)\};`).FindStringSubmatch(h)
	if m == nil {
		t.Fatal("no enum io_uring_op")
	}
	ops := regexp.MustCompile(`IORING_OP_\w+`).FindAllString(m[1], -1)
	idx := map[string]int{}
	for i, o := range ops {
		idx[o] = i
	}
	if idx["IORING_OP_ASYNC_CANCEL"] != ioringOpAsyncCancel || idx["IORING_OP_URING_CMD"] != ioringOpUringCmd {
		t.Errorf("opcodes: header ASYNC_CANCEL %d URING_CMD %d", idx["IORING_OP_ASYNC_CANCEL"], idx["IORING_OP_URING_CMD"])
	}
	if !regexp.MustCompile(`IORING_REGISTER_EVENTFD\s*=\s*4,`).MatchString(h) {
		t.Error("IORING_REGISTER_EVENTFD is not 4")
	}
}
