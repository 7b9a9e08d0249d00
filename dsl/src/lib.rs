//! Baton's process language: pest grammar -> syntax tree with spans -> checked,
//! typed model. Pure: text in, model or diagnostics out; no I/O.

pub mod ast;
mod branches;
pub mod catalogue;
pub mod check;
pub mod diagnostic;
mod display;
pub mod eval;
pub mod fmt;
pub mod graph;
pub mod handbook;
pub mod model;
mod parse;
pub mod zone;

pub use catalogue::Code;
pub use check::{check, signature, Context, Outcome, PersonShape, Signature, StaffNames};
pub use diagnostic::{Diagnostic, Located, Severity};
pub use parse::parse;
