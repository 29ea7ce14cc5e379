// SPDX-License-Identifier: LGPL-2.1-or-later
//! What the crate decides on its own, before any probe reaches the module:
//! run on the build host with /dev/null as the device (its ioctl() fails
//! with ENOTTY, so a result other than ENOTTY proves that no probe was
//! made). The module itself is tested by tests/device.rs in the guests.

use gupnw::{AsyncGupnw, Counts, Flags, Gupnw, PidMem, ReadyPath};

fn null_dev() -> Gupnw {
    Gupnw::open_path("/dev/null").expect("open /dev/null")
}

fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

#[test]
fn empty_slice_is_zero_pages_and_no_probe() {
    let g = null_dev();
    let ps = g.page_size();
    let empty: &[u8] = &[];
    assert_eq!(g.pages(empty.as_ptr() as usize, 0), 0);
    assert_eq!(g.pages(ps + 1, 0), 0);
    assert_eq!(g.pages(ps, 0), 0);
    let c = g
        .probe_slice(empty, Flags::NOFAULT, Some(&mut []))
        .expect("empty slice");
    assert_eq!(c, Counts::default());
    let c = g
        .probe_slice(&[][..], Flags::NOWAIT, None)
        .expect("empty slice");
    assert_eq!(c.done, 0);
}

#[test]
fn ready_of_an_empty_slice_is_zero_pages_and_no_probe() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = AsyncGupnw::new(null_dev()).unwrap();
        let r = a.ready(&[]).await.expect("ready(&[])");
        assert_eq!(
            (r.pages, r.present, r.unmapped, r.path),
            (0, 0, 0, ReadyPath::Present)
        );
        let mut v: Vec<u8> = Vec::new();
        let r = a.ready_mut(&mut v).await.expect("ready_mut(&mut [])");
        assert_eq!(r.pages, 0);
    });
}

#[test]
fn pages_of_a_range_at_the_end_of_the_address_space_neither_panics_nor_wraps() {
    let g = null_dev();
    let ps = g.page_size();
    assert_eq!(g.pages(0, usize::MAX), usize::MAX / ps + 1);
    assert_eq!(g.pages(usize::MAX - ps + 1, ps), 1);
    assert!(g.pages(usize::MAX - 5, 10) >= 1);
}

#[test]
fn length_overflow_is_eoverflow_not_a_panic_or_a_wrap() {
    let g = null_dev();
    let ps = g.page_size();
    for len in [usize::MAX, usize::MAX - ps + 2] {
        let e = g.probe(0, len, Flags::NOFAULT, Some(&mut [])).unwrap_err();
        assert_eq!(errno(&e), libc::EOVERFLOW, "len {:#x}: {}", len, e);
        let e = g.probe(0, len, Flags::NOFAULT, None).unwrap_err();
        assert_eq!(errno(&e), libc::EOVERFLOW, "len {:#x}: {}", len, e);
    }
    // SAFETY: getpid has no memory effects.
    let me = PidMem::open(unsafe { libc::getpid() }, false).unwrap();
    let e = g
        .probe_pid(&me, 0, usize::MAX, Flags::NOFAULT, Some(&mut []))
        .unwrap_err();
    assert_eq!(errno(&e), libc::EOVERFLOW);
    let e = g
        .probe_extents(0, usize::MAX, Flags::NOFAULT, &mut [Default::default()])
        .unwrap_err();
    assert_eq!(errno(&e), libc::EOVERFLOW);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = AsyncGupnw::new(null_dev()).unwrap();
        let e = a.ready_range(0, usize::MAX, false).await.unwrap_err();
        assert_eq!(errno(&e), libc::EOVERFLOW);
    });
}
