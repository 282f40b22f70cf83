//! Usage settlement (work in progress).
