//! Sans-IO microkernel core (work in progress).
