// SPDX-License-Identifier: LGPL-2.1-or-later
//! The crate's ABI structs against the C headers: a C program built here
//! with the system's C compiler against `uapi/linux/gupnw.h` (and
//! <linux/io_uring.h>) prints sizeof/offsetof of every struct and field and
//! the values of the constants; each must equal what Rust computes from the
//! crate's own definitions. Runs on the build host (it needs `cc`); set
//! GUPNW_UAPI to the directory holding linux/gupnw.h if it is not
//! ../../uapi of the crate.

use std::collections::HashMap;
use std::mem::{size_of, MaybeUninit};
use std::path::PathBuf;
use std::process::Command;

use gupnw::sys;
use gupnw::sys::uring as ring;

macro_rules! off {
    ($t:ty, $f:ident) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! computes a field address without reading it.
        let field = unsafe { std::ptr::addr_of!((*base).$f) };
        field as usize - base as usize
    }};
}

const C_PROGRAM: &str = r#"
#include <stddef.h>
#include <stdio.h>
#include <linux/gupnw.h>
#include <linux/io_uring.h>
#define S(t) printf("sizeof %s %zu\n", #t, sizeof(struct t))
#define O(t, f) printf("offsetof %s.%s %zu\n", #t, #f, offsetof(struct t, f))
#define V(c) printf("value %s %llu\n", #c, (unsigned long long)(c))
int main(void)
{
	S(gupnw_probe_extent); O(gupnw_probe_extent, start); O(gupnw_probe_extent, nr_pages);
	O(gupnw_probe_extent, state); O(gupnw_probe_extent, reserved);
	S(gupnw_probe_args); O(gupnw_probe_args, size); O(gupnw_probe_args, flags);
	O(gupnw_probe_args, addr); O(gupnw_probe_args, len); O(gupnw_probe_args, states);
	O(gupnw_probe_args, target_fd); O(gupnw_probe_args, nr_extents); O(gupnw_probe_args, done);
	O(gupnw_probe_args, nr_resident); O(gupnw_probe_args, nr_faulted);
	O(gupnw_probe_args, nr_retry); O(gupnw_probe_args, nr_unmapped);
	O(gupnw_probe_args, nr_error); O(gupnw_probe_args, nr_notpresent);
	O(gupnw_probe_args, io_started); O(gupnw_probe_args, nr_cold);
	O(gupnw_probe_args, async_faults); O(gupnw_probe_args, reserved);
	S(gupnw_info); O(gupnw_info, size); O(gupnw_info, abi_version); O(gupnw_info, features);
	O(gupnw_info, probe_flags); O(gupnw_info, page_size); O(gupnw_info, probe_kmem);
	O(gupnw_info, max_chunk_pages); O(gupnw_info, version); O(gupnw_info, max_io_pages);
	O(gupnw_info, max_async_faults); O(gupnw_info, async_faults_queued); O(gupnw_info, reserved);
	S(gupnw_uring_cmd); O(gupnw_uring_cmd, args); O(gupnw_uring_cmd, flags);
	O(gupnw_uring_cmd, reserved); V(GUPNW_URING_READY_NOWORKER);
	V(GUPNW_ABI_VERSION); V(GUPNW_PROBE_ARGS_SIZE_VER0); V(GUPNW_INFO_SIZE_VER0);
	V(GUPNW_STATE_RESIDENT); V(GUPNW_STATE_FAULTED); V(GUPNW_STATE_RETRY);
	V(GUPNW_STATE_UNMAPPED); V(GUPNW_STATE_ERROR); V(GUPNW_STATE_NOTPRESENT); V(GUPNW_STATE_COLD);
	V(GUPNW_PROBE_WRITE); V(GUPNW_PROBE_NOFAULT); V(GUPNW_PROBE_WAIT);
	V(GUPNW_PROBE_TARGET_FD); V(GUPNW_PROBE_EXTENTS); V(GUPNW_PROBE_FLAGS_ALL);
	V(GUPNW_FEATURE_PROBE); V(GUPNW_FEATURE_TARGET_FD); V(GUPNW_FEATURE_EXTENTS);
	V(GUPNW_FEATURE_IO_CAP); V(GUPNW_FEATURE_URING_CMD); V(GUPNW_FEATURE_COLD);
	V(GUPNW_FEATURE_ASYNC_FAULT); V(GUPNW_FEATURE_READY_NOWORKER);
	V(GUPNW_IOC_GET_INFO); V(GUPNW_IOC_PROBE); V(GUPNW_URING_CMD_PROBE); V(GUPNW_URING_CMD_READY);
	V(GUPNW_URING_CMD_CANCEL);
	S(io_uring_sqe); O(io_uring_sqe, opcode); O(io_uring_sqe, flags); O(io_uring_sqe, ioprio);
	O(io_uring_sqe, fd); O(io_uring_sqe, off); O(io_uring_sqe, cmd_op); O(io_uring_sqe, addr);
	O(io_uring_sqe, len); O(io_uring_sqe, user_data); O(io_uring_sqe, buf_index);
	O(io_uring_sqe, personality); O(io_uring_sqe, file_index); O(io_uring_sqe, cmd);
	S(io_uring_cqe); O(io_uring_cqe, user_data); O(io_uring_cqe, res); O(io_uring_cqe, flags);
	S(io_uring_params); O(io_uring_params, sq_entries); O(io_uring_params, cq_entries);
	O(io_uring_params, features); O(io_uring_params, sq_off); O(io_uring_params, cq_off);
	S(io_sqring_offsets); O(io_sqring_offsets, head); O(io_sqring_offsets, tail);
	O(io_sqring_offsets, ring_mask); O(io_sqring_offsets, array);
	S(io_cqring_offsets); O(io_cqring_offsets, head); O(io_cqring_offsets, tail);
	O(io_cqring_offsets, ring_mask); O(io_cqring_offsets, cqes);
	V(IORING_OP_URING_CMD); V(IORING_OP_ASYNC_CANCEL); V(IORING_FEAT_SINGLE_MMAP);
	V(IORING_OFF_SQ_RING); V(IORING_OFF_CQ_RING); V(IORING_OFF_SQES);
	V(IORING_ENTER_GETEVENTS); V(IORING_REGISTER_EVENTFD);
	V(IORING_ASYNC_CANCEL_ALL); V(IORING_ASYNC_CANCEL_ANY); O(io_uring_sqe, cancel_flags);
	return 0;
}
"#;

fn c_layout() -> HashMap<String, u64> {
    let uapi = std::env::var_os("GUPNW_UAPI")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../uapi"));
    assert!(
        uapi.join("linux/gupnw.h").is_file(),
        "no linux/gupnw.h under {} (set GUPNW_UAPI)",
        uapi.display()
    );
    let dir = std::env::temp_dir().join(format!("gupnw-abi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("abi.c");
    let exe = dir.join("abi");
    std::fs::write(&src, C_PROGRAM).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(&cc)
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(&uapi)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {}", cc, e));
    assert!(st.success(), "{} failed on the ABI program", cc);
    let out = Command::new(&exe).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut w = l.split_whitespace();
            let kind = w.next().unwrap();
            let name = w.next().unwrap();
            (
                format!("{} {}", kind, name),
                w.next().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn abi_structs_and_constants_match_the_c_headers() {
    let c = c_layout();
    let mut rust: Vec<(String, u64)> = Vec::new();
    macro_rules! s {
        ($cname:literal, $t:ty) => {
            rust.push((format!("sizeof {}", $cname), size_of::<$t>() as u64))
        };
    }
    macro_rules! o {
        ($cname:literal, $t:ty, $f:ident) => {
            o!($cname, $t, $f, $f)
        };
        ($cname:literal, $t:ty, $f:ident, $cf:ident) => {
            rust.push((
                format!("offsetof {}.{}", $cname, stringify!($cf)),
                off!($t, $f) as u64,
            ))
        };
    }
    macro_rules! v {
        ($cname:ident, $val:expr) => {
            rust.push((format!("value {}", stringify!($cname)), $val as u64))
        };
    }
    use sys::{gupnw_info as Info, gupnw_probe_args as Args, gupnw_probe_extent as Ext};
    s!("gupnw_probe_extent", Ext);
    o!("gupnw_probe_extent", Ext, start);
    o!("gupnw_probe_extent", Ext, nr_pages);
    o!("gupnw_probe_extent", Ext, state);
    o!("gupnw_probe_extent", Ext, reserved);
    // The public Extent is written by the kernel in place.
    s!("gupnw_probe_extent", gupnw::Extent);
    o!("gupnw_probe_extent", gupnw::Extent, start);
    o!("gupnw_probe_extent", gupnw::Extent, pages, nr_pages);
    s!("gupnw_probe_args", Args);
    o!("gupnw_probe_args", Args, size);
    o!("gupnw_probe_args", Args, flags);
    o!("gupnw_probe_args", Args, addr);
    o!("gupnw_probe_args", Args, len);
    o!("gupnw_probe_args", Args, states);
    o!("gupnw_probe_args", Args, target_fd);
    o!("gupnw_probe_args", Args, nr_extents);
    o!("gupnw_probe_args", Args, done);
    o!("gupnw_probe_args", Args, nr_resident);
    o!("gupnw_probe_args", Args, nr_faulted);
    o!("gupnw_probe_args", Args, nr_retry);
    o!("gupnw_probe_args", Args, nr_unmapped);
    o!("gupnw_probe_args", Args, nr_error);
    o!("gupnw_probe_args", Args, nr_notpresent);
    o!("gupnw_probe_args", Args, io_started);
    o!("gupnw_probe_args", Args, nr_cold);
    o!("gupnw_probe_args", Args, async_faults);
    o!("gupnw_probe_args", Args, reserved);
    s!("gupnw_info", Info);
    o!("gupnw_info", Info, size);
    o!("gupnw_info", Info, abi_version);
    o!("gupnw_info", Info, features);
    o!("gupnw_info", Info, probe_flags);
    o!("gupnw_info", Info, page_size);
    o!("gupnw_info", Info, probe_kmem);
    o!("gupnw_info", Info, max_chunk_pages);
    o!("gupnw_info", Info, version);
    o!("gupnw_info", Info, max_io_pages);
    o!("gupnw_info", Info, max_async_faults);
    o!("gupnw_info", Info, async_faults_queued);
    o!("gupnw_info", Info, reserved);
    s!("gupnw_uring_cmd", sys::gupnw_uring_cmd);
    o!("gupnw_uring_cmd", sys::gupnw_uring_cmd, args);
    o!("gupnw_uring_cmd", sys::gupnw_uring_cmd, flags);
    o!("gupnw_uring_cmd", sys::gupnw_uring_cmd, reserved);
    v!(GUPNW_URING_READY_NOWORKER, sys::URING_READY_NOWORKER);
    v!(GUPNW_ABI_VERSION, sys::ABI_VERSION);
    v!(GUPNW_PROBE_ARGS_SIZE_VER0, sys::PROBE_ARGS_SIZE_VER0);
    v!(GUPNW_INFO_SIZE_VER0, sys::INFO_SIZE_VER0);
    v!(GUPNW_STATE_RESIDENT, gupnw::State::Resident.as_byte());
    v!(GUPNW_STATE_FAULTED, gupnw::State::Faulted.as_byte());
    v!(GUPNW_STATE_RETRY, gupnw::State::Retry.as_byte());
    v!(GUPNW_STATE_UNMAPPED, gupnw::State::Unmapped.as_byte());
    v!(GUPNW_STATE_ERROR, gupnw::State::Error.as_byte());
    v!(GUPNW_STATE_NOTPRESENT, gupnw::State::NotPresent.as_byte());
    v!(GUPNW_STATE_COLD, gupnw::State::Cold.as_byte());
    v!(GUPNW_PROBE_WRITE, gupnw::Flags::WRITE.bits());
    v!(GUPNW_PROBE_NOFAULT, gupnw::Flags::NOFAULT.bits());
    v!(GUPNW_PROBE_WAIT, gupnw::Flags::WAIT.bits());
    v!(GUPNW_PROBE_TARGET_FD, sys::PROBE_TARGET_FD);
    v!(GUPNW_PROBE_EXTENTS, sys::PROBE_EXTENTS);
    v!(GUPNW_PROBE_FLAGS_ALL, sys::PROBE_FLAGS_ALL);
    v!(GUPNW_FEATURE_PROBE, sys::FEATURE_PROBE);
    v!(GUPNW_FEATURE_TARGET_FD, sys::FEATURE_TARGET_FD);
    v!(GUPNW_FEATURE_EXTENTS, sys::FEATURE_EXTENTS);
    v!(GUPNW_FEATURE_IO_CAP, sys::FEATURE_IO_CAP);
    v!(GUPNW_FEATURE_URING_CMD, sys::FEATURE_URING_CMD);
    v!(GUPNW_FEATURE_COLD, sys::FEATURE_COLD);
    v!(GUPNW_FEATURE_ASYNC_FAULT, sys::FEATURE_ASYNC_FAULT);
    v!(GUPNW_FEATURE_READY_NOWORKER, sys::FEATURE_READY_NOWORKER);
    v!(GUPNW_IOC_GET_INFO, sys::IOC_GET_INFO);
    v!(GUPNW_IOC_PROBE, sys::IOC_PROBE);
    v!(GUPNW_URING_CMD_PROBE, sys::URING_CMD_PROBE);
    v!(GUPNW_URING_CMD_READY, sys::URING_CMD_READY);
    v!(GUPNW_URING_CMD_CANCEL, sys::URING_CMD_CANCEL);
    use ring::{io_cqring_offsets as Cq, io_sqring_offsets as Sq, io_uring_cqe as Cqe};
    use ring::{io_uring_params as Params, io_uring_sqe as Sqe};
    s!("io_uring_sqe", Sqe);
    o!("io_uring_sqe", Sqe, opcode);
    o!("io_uring_sqe", Sqe, flags);
    o!("io_uring_sqe", Sqe, ioprio);
    o!("io_uring_sqe", Sqe, fd);
    o!("io_uring_sqe", Sqe, off);
    o!("io_uring_sqe", Sqe, off, cmd_op); // cmd_op: the low half of off
    o!("io_uring_sqe", Sqe, addr);
    o!("io_uring_sqe", Sqe, len);
    o!("io_uring_sqe", Sqe, user_data);
    o!("io_uring_sqe", Sqe, buf_index);
    o!("io_uring_sqe", Sqe, personality);
    o!("io_uring_sqe", Sqe, file_index);
    o!("io_uring_sqe", Sqe, op_flags, cancel_flags); // one of the op_flags union
    o!("io_uring_sqe", Sqe, cmd);
    s!("io_uring_cqe", Cqe);
    o!("io_uring_cqe", Cqe, user_data);
    o!("io_uring_cqe", Cqe, res);
    o!("io_uring_cqe", Cqe, flags);
    s!("io_uring_params", Params);
    o!("io_uring_params", Params, sq_entries);
    o!("io_uring_params", Params, cq_entries);
    o!("io_uring_params", Params, features);
    o!("io_uring_params", Params, sq_off);
    o!("io_uring_params", Params, cq_off);
    s!("io_sqring_offsets", Sq);
    o!("io_sqring_offsets", Sq, head);
    o!("io_sqring_offsets", Sq, tail);
    o!("io_sqring_offsets", Sq, ring_mask);
    o!("io_sqring_offsets", Sq, array);
    s!("io_cqring_offsets", Cq);
    o!("io_cqring_offsets", Cq, head);
    o!("io_cqring_offsets", Cq, tail);
    o!("io_cqring_offsets", Cq, ring_mask);
    o!("io_cqring_offsets", Cq, cqes);
    v!(IORING_OP_URING_CMD, ring::IORING_OP_URING_CMD);
    v!(IORING_OP_ASYNC_CANCEL, ring::IORING_OP_ASYNC_CANCEL);
    v!(IORING_FEAT_SINGLE_MMAP, ring::IORING_FEAT_SINGLE_MMAP);
    v!(IORING_OFF_SQ_RING, ring::IORING_OFF_SQ_RING);
    v!(IORING_OFF_CQ_RING, ring::IORING_OFF_CQ_RING);
    v!(IORING_OFF_SQES, ring::IORING_OFF_SQES);
    v!(IORING_ENTER_GETEVENTS, ring::IORING_ENTER_GETEVENTS);
    v!(IORING_REGISTER_EVENTFD, ring::IORING_REGISTER_EVENTFD);
    v!(IORING_ASYNC_CANCEL_ALL, ring::IORING_ASYNC_CANCEL_ALL);
    v!(IORING_ASYNC_CANCEL_ANY, ring::IORING_ASYNC_CANCEL_ANY);

    let mut bad = Vec::new();
    for (k, v) in &rust {
        match c.get(k) {
            Some(cv) if cv == v => {}
            Some(cv) => bad.push(format!("{}: C {} Rust {}", k, cv, v)),
            None => bad.push(format!("{}: not printed by the C program", k)),
        }
    }
    // Every struct size the C side knows is checked.
    for k in c.keys().filter(|k| k.starts_with("sizeof ")) {
        if !rust.iter().any(|(r, _)| r == k) {
            bad.push(format!("{}: not compared", k));
        }
    }
    assert!(bad.is_empty(), "ABI mismatches:\n{}", bad.join("\n"));
    println!("{} sizes, offsets and values compared", rust.len());
}
