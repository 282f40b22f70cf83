//! The error a store reports for stored bytes that no longer match their
//! id.

use std::fmt;
use std::io;

use oap_core::ObjectId;

/// Stored bytes that do not hash to their object's id (disk rot, a file
/// changed behind the store's back, a network store returning the wrong
/// bytes). Reported inside an [`io::Error`] of kind
/// [`io::ErrorKind::InvalidData`]; find it with [`CorruptObject::find`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptObject {
    /// The object whose stored copy is corrupt.
    pub obj: ObjectId,
}

impl CorruptObject {
    /// The error to return from a read.
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The corruption `e` reports, if that is what it reports.
    pub fn find(e: &io::Error) -> Option<&CorruptObject> {
        e.get_ref()?.downcast_ref::<CorruptObject>()
    }
}

impl fmt::Display for CorruptObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the stored copy of {} does not match its id", self.obj)
    }
}

impl std::error::Error for CorruptObject {}
