// SPDX-License-Identifier: LGPL-2.1-or-later
//! The kernel ABI of `/dev/gupnw`, transcribed from `uapi/linux/gupnw.h`.
//!
//! `tests/abi.rs` compiles a C program against that header with the system's
//! C compiler and compares every size and offset below with what it prints,
//! so a change of the header that is not made here fails a test.

#![allow(non_camel_case_types, missing_docs)]

use std::mem::size_of;

pub const DEVICE_PATH: &str = "/dev/gupnw";
pub const ABI_VERSION: u32 = 1;

pub const STATE_RESIDENT: u8 = b'R';
pub const STATE_FAULTED: u8 = b'F';
pub const STATE_RETRY: u8 = b'W';
pub const STATE_UNMAPPED: u8 = b'.';
pub const STATE_ERROR: u8 = b'E';
pub const STATE_NOTPRESENT: u8 = b'N';
pub const STATE_COLD: u8 = b'C';

pub const PROBE_WRITE: u32 = 1 << 0;
pub const PROBE_NOFAULT: u32 = 1 << 1;
pub const PROBE_WAIT: u32 = 1 << 2;
pub const PROBE_TARGET_FD: u32 = 1 << 3;
pub const PROBE_EXTENTS: u32 = 1 << 4;
pub const PROBE_FLAGS_ALL: u32 =
    PROBE_WRITE | PROBE_NOFAULT | PROBE_WAIT | PROBE_TARGET_FD | PROBE_EXTENTS;

pub const FEATURE_PROBE: u64 = 1 << 0;
pub const FEATURE_TARGET_FD: u64 = 1 << 1;
pub const FEATURE_EXTENTS: u64 = 1 << 2;
pub const FEATURE_IO_CAP: u64 = 1 << 3;
pub const FEATURE_URING_CMD: u64 = 1 << 4;
pub const FEATURE_COLD: u64 = 1 << 5;
pub const FEATURE_ASYNC_FAULT: u64 = 1 << 6;
pub const FEATURE_READY_NOWORKER: u64 = 1 << 7;

/// `struct gupnw_probe_extent`
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct gupnw_probe_extent {
    pub start: u64,
    pub nr_pages: u64,
    pub state: u32,
    pub reserved: u32,
}

/// `struct gupnw_probe_args`
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gupnw_probe_args {
    pub size: u32,
    pub flags: u32,
    pub addr: u64,
    pub len: u64,
    pub states: u64,
    pub target_fd: i32,
    pub nr_extents: u32,
    pub done: u64,
    pub nr_resident: u64,
    pub nr_faulted: u64,
    pub nr_retry: u64,
    pub nr_unmapped: u64,
    pub nr_error: u64,
    pub nr_notpresent: u64,
    pub io_started: u64,
    pub nr_cold: u64,
    pub async_faults: u64,
    pub reserved: [u64; 1],
}

pub const PROBE_ARGS_SIZE_VER0: usize = 128;

/// `struct gupnw_info`
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gupnw_info {
    pub size: u32,
    pub abi_version: u32,
    pub features: u64,
    pub probe_flags: u64,
    pub page_size: u32,
    pub probe_kmem: u32,
    pub max_chunk_pages: u64,
    pub version: [u8; 32],
    pub max_io_pages: u64,
    pub max_async_faults: u64,
    pub async_faults_queued: u64,
    pub reserved: [u64; 1],
}

pub const INFO_SIZE_VER0: usize = 104;

/// `struct gupnw_uring_cmd`: the 16-byte payload of an `IORING_OP_URING_CMD` SQE.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gupnw_uring_cmd {
    pub args: u64,
    pub flags: u32,
    pub reserved: u32,
}

/// `gupnw_uring_cmd.flags` of READY: wait without an io_uring worker.
pub const URING_READY_NOWORKER: u32 = 1 << 0;

impl gupnw_uring_cmd {
    /// The payload as the SQE's `cmd` words.
    pub fn words(self) -> [u64; 2] {
        let mut w = [0u64; 2];
        // SAFETY: both are 16 bytes of plain data (checked by the assert).
        unsafe {
            std::ptr::copy_nonoverlapping(
                &self as *const gupnw_uring_cmd as *const u8,
                w.as_mut_ptr() as *mut u8,
                16,
            )
        };
        w
    }
}

pub const IOC_MAGIC: u32 = 0xBA;

// <asm-generic/ioctl.h>: dir:2 size:14 type:8 nr:8, _IOC_READ|_IOC_WRITE = 3.
const fn iowr(nr: u32, size: usize) -> u32 {
    (3 << 30) | ((size as u32) << 16) | (IOC_MAGIC << 8) | nr
}

// The command numbers carry the VER0 sizes (uapi/linux/gupnw.h).
pub const IOC_GET_INFO: u32 = iowr(0x00, INFO_SIZE_VER0);
pub const IOC_PROBE: u32 = iowr(0x01, PROBE_ARGS_SIZE_VER0);
pub const URING_CMD_PROBE: u32 = iowr(0x20, size_of::<gupnw_uring_cmd>());
pub const URING_CMD_READY: u32 = iowr(0x21, size_of::<gupnw_uring_cmd>());
pub const URING_CMD_CANCEL: u32 = iowr(0x22, size_of::<gupnw_uring_cmd>());

// Compile-time guards; the header itself is compared in tests/abi.rs.
const _: () = assert!(size_of::<gupnw_probe_args>() == PROBE_ARGS_SIZE_VER0);
const _: () = assert!(size_of::<gupnw_info>() == INFO_SIZE_VER0);
const _: () = assert!(size_of::<gupnw_probe_extent>() == 24);
const _: () = assert!(size_of::<gupnw_uring_cmd>() == 16);

/// The io_uring structures and constants the crate uses, transcribed from
/// `<linux/io_uring.h>` and compared with it by `tests/abi.rs`. Plain data:
/// nothing in this crate's public API submits them. The ring that does is
/// private, since a request names memory the kernel writes to (soundness is
/// the submitter's burden, which safe code cannot carry).
pub mod uring {
    #![allow(non_camel_case_types, missing_docs)]

    pub const IORING_OP_ASYNC_CANCEL: u8 = 14;
    pub const IORING_OP_URING_CMD: u8 = 46; // 6.0
    pub const IORING_FEAT_SINGLE_MMAP: u32 = 1 << 0;
    pub const IORING_OFF_SQ_RING: i64 = 0;
    pub const IORING_OFF_CQ_RING: i64 = 0x8000000;
    pub const IORING_OFF_SQES: i64 = 0x10000000;
    pub const IORING_ENTER_GETEVENTS: u32 = 1 << 0;
    pub const IORING_REGISTER_EVENTFD: u32 = 4;
    /// `cancel_flags` (the SQE's `op_flags`) of `IORING_OP_ASYNC_CANCEL`:
    /// every match, and any request of the ring (both Linux 5.19).
    pub const IORING_ASYNC_CANCEL_ALL: u32 = 1 << 0;
    pub const IORING_ASYNC_CANCEL_ANY: u32 = 1 << 2;

    #[repr(C)]
    #[derive(Default, Clone, Copy, Debug)]
    pub struct io_sqring_offsets {
        pub head: u32,
        pub tail: u32,
        pub ring_mask: u32,
        pub ring_entries: u32,
        pub flags: u32,
        pub dropped: u32,
        pub array: u32,
        pub resv1: u32,
        pub user_addr: u64,
    }

    #[repr(C)]
    #[derive(Default, Clone, Copy, Debug)]
    pub struct io_cqring_offsets {
        pub head: u32,
        pub tail: u32,
        pub ring_mask: u32,
        pub ring_entries: u32,
        pub overflow: u32,
        pub cqes: u32,
        pub flags: u32,
        pub resv1: u32,
        pub user_addr: u64,
    }

    #[repr(C)]
    #[derive(Default, Clone, Copy, Debug)]
    pub struct io_uring_params {
        pub sq_entries: u32,
        pub cq_entries: u32,
        pub flags: u32,
        pub sq_thread_cpu: u32,
        pub sq_thread_idle: u32,
        pub features: u32,
        pub wq_fd: u32,
        pub resv: [u32; 3],
        pub sq_off: io_sqring_offsets,
        pub cq_off: io_cqring_offsets,
    }

    /// A 64-byte SQE, with the fields this crate uses named; for
    /// `IORING_OP_URING_CMD`, `off` holds `cmd_op` in its low 32 bits and the
    /// 16-byte command payload sits at `cmd` (offset 48).
    #[repr(C)]
    #[derive(Default, Clone, Copy, Debug)]
    pub struct io_uring_sqe {
        pub opcode: u8,
        pub flags: u8,
        pub ioprio: u16,
        pub fd: i32,
        pub off: u64,
        pub addr: u64,
        pub len: u32,
        pub op_flags: u32,
        pub user_data: u64,
        pub buf_index: u16,
        pub personality: u16,
        pub file_index: i32,
        pub cmd: [u64; 2],
    }

    #[repr(C)]
    #[derive(Default, Clone, Copy, Debug)]
    pub struct io_uring_cqe {
        pub user_data: u64,
        pub res: i32,
        pub flags: u32,
    }

    const _: () = assert!(std::mem::size_of::<io_uring_sqe>() == 64);
    const _: () = assert!(std::mem::size_of::<io_uring_params>() == 120);
}
