//! sea-orm entities. Private to the crate: callers see the typed records of
//! the query modules, never raw rows.

pub(crate) mod teams;
pub(crate) mod users;
