//! Exit codes, documented in the README and in `baton --help`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Code {
    /// Everything is fine (warnings may have been printed).
    Ok = 0,
    /// The input has errors: a definition does not check or was not deployed, or
    /// `fmt --check` found unformatted files.
    Problems = 1,
    /// Bad usage, or a file that cannot be read.
    Usage = 2,
    /// No such instance, task or process.
    NotFound = 3,
    /// The state moved on: the task is already completed, or claimed by someone else.
    Conflict = 4,
    /// Not allowed for this person.
    Forbidden = 5,
    /// Data that breaks the definition's schema (one message per bad field).
    Invalid = 6,
    /// A `require` condition of the process refused the start.
    Requirement = 7,
    /// The process cannot go on (for example nobody to assign a task to).
    Stuck = 8,
    /// The database could not be opened, read or written.
    Storage = 9,
}
