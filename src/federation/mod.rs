//! Federation with other servers over ActivityPub (in progress: HTTP signatures first).

pub mod signatures;
