//! Baton's engine.

pub mod staff;
