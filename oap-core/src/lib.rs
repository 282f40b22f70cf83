//! Sans-IO core of OAP/1 (work in progress).
