//! Memory hints for the hash-table loops.

/// Asks the CPU to start loading the cache line of `slice[i]` (a hint: it reads nothing, and
/// an index out of range is harmless).
#[inline]
pub(crate) fn prefetch<T>(slice: &[T], i: usize) {
    let p = slice.as_ptr().wrapping_add(i);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint to the cache; it cannot fault whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
