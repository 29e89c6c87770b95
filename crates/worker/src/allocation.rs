//! The worker's global allocator: the system's, noting whether it ever refused.
//!
//! The PDF trial parse (`scribe_core::pdf::guard`) runs this binary under an
//! address-space limit. lopdf asks for some buffers with `try_reserve` (a
//! predictor's rows, sized by the file) and drops the error, so there a refused
//! allocation looked like a parse that came back, and the worker, which has no
//! such limit, then zero-filled gigabytes for a file of a few hundred bytes.
//! The probe asks [`refused`] before it vouches for a file.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

static REFUSED: AtomicBool = AtomicBool::new(false);

/// [`System`], noting a null answer.
pub struct NotingRefusals;

/// Whether any allocation in this process has been refused.
pub fn refused() -> bool {
    REFUSED.load(Ordering::Relaxed)
}

fn note(ptr: *mut u8) -> *mut u8 {
    if ptr.is_null() {
        REFUSED.store(true, Ordering::Relaxed);
    }
    ptr
}

// A global allocator cannot be written without unsafe code. Every call is
// passed to `System` unchanged, with the caller's own guarantees; only the
// answer is looked at.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for NotingRefusals {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `GlobalAlloc::alloc`, passed on.
        note(unsafe { System.alloc(layout) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `GlobalAlloc::alloc_zeroed`, passed on.
        note(unsafe { System.alloc_zeroed(layout) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` through this allocator; the caller's
        // guarantees for `GlobalAlloc::realloc`, passed on.
        note(unsafe { System.realloc(ptr, layout, new_size) })
    }
}
