//! Exit codes, documented in the README and in `baton --help`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Code {
    /// Everything is fine (warnings may have been printed).
    Ok = 0,
    /// The input has errors: a definition does not check, `fmt --check` found
    /// unformatted files, or a command was refused.
    Problems = 1,
    /// Bad usage, or a file that cannot be read.
    Usage = 2,
}
