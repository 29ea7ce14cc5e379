// SPDX-License-Identifier: LGPL-2.1-or-later

package gupnw_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/sys/unix"
	"gupnw.local/gupnw"
)

// Await the pages of a record of a memory-mapped file before touching it: the
// goroutine parks while a kernel worker reads them, its P runs others.
func ExampleDevice_Ready() {
	d, err := gupnw.Open()
	if err != nil {
		log.Fatal(err) // no /dev/gupnw: load gupnw.ko
	}
	defer d.Close()
	f, err := os.Open("/var/lib/big.db")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, 1<<30, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		log.Fatal(err)
	}
	record := m[4096:8192]

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := d.Ready(ctx, record); err != nil { // at once if present
		log.Fatal(err) // ctx.Err() if the second passed: the read was cancelled
	}
	fmt.Println(record[0]) // no page fault waits for I/O here
}

// Ask what touching a range would cost, without faulting anything in.
func ExampleDevice_Probe() {
	d, err := gupnw.Open()
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 1<<20)
	states := make([]byte, len(buf)/d.PageSize()+1) // buf need not be page aligned
	c, err := d.Probe(buf, gupnw.NoFault, states)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d present, %d cold, first page %c\n", c.Present(), c.Cold, states[0])
}

// Probe another process through /proc/PID/mem (ptrace-attach rights needed:
// errors.Is(err, unix.EPERM) or unix.EACCES without them).
func ExampleDevice_ProbePid() {
	d, err := gupnw.Open()
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	pm, err := gupnw.OpenPidMem(1234, false)
	if err != nil {
		log.Fatal(err)
	}
	defer pm.Close()
	c, err := d.ProbePid(pm, 0x7f0000000000, 1<<20, gupnw.NoFault, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Resident, "resident")
}

func ExampleState() {
	for _, s := range []byte("RFWC.") {
		fmt.Printf("%c present: %v\n", s, gupnw.State(s).Present())
	}
	// Output:
	// R present: true
	// F present: true
	// W present: false
	// C present: false
	// . present: false
}
