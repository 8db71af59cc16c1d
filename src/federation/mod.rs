//! Federation with other servers over ActivityPub (in progress: discovery, actors and HTTP
//! signatures so far).

pub mod actors;
pub mod signatures;
