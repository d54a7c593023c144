//! Structs the library hands out for C to read (a result, an event, a
//! delivery): the struct C sees comes first in a box that also keeps what its
//! pointers point into, so one `_free` frees both.

use std::ffi::{c_char, CString};

/// A view and what its pointers point into.
#[repr(C)]
pub(crate) struct Owned<V, K> {
    view: V,
    keep: K,
}

/// `view`, whose pointers point into `keep` (heap data, which boxing does
/// not move), boxed with it.
pub(crate) fn own<V, K>(view: V, keep: K) -> Box<Owned<V, K>> {
    Box::new(Owned { view, keep })
}

impl<V, K> Owned<V, K> {
    /// The view, inside the box, as C reads it.
    pub(crate) fn view(&self) -> *const V {
        &self.view
    }

    /// The box as the pointer C holds: `repr(C)` puts the view first.
    pub(crate) fn into_raw(self: Box<Self>) -> *mut V {
        Box::into_raw(self).cast()
    }

    /// Free what [`Owned::into_raw`] handed out. NULL is ignored.
    ///
    /// # Safety
    /// `view` is NULL or came from `into_raw` of an `Owned<V, K>`, freed once.
    pub(crate) unsafe fn free(view: *mut V) {
        if !view.is_null() {
            // SAFETY: a box of this very type, per the contract.
            drop(unsafe { Box::from_raw(view.cast::<Self>()) });
        }
    }
}

/// A C string field: NULL when there is none.
pub(crate) fn or_null(text: &Option<CString>) -> *const c_char {
    text.as_ref().map_or(std::ptr::null(), |t| t.as_ptr())
}
