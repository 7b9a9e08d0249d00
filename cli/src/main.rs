//! `baton`: the one binary. Each subcommand lives in `cmd/`; this file only parses
//! arguments and turns a command's outcome into an exit code (see `exit`).

mod client;

// Before `cmd`, whose commands print with its macros.
#[macro_use]
mod out;

mod cmd;
mod exit;
mod files;
mod table;

use clap::Parser;

/// sled copies a tree node on every write; mimalloc serves those short-lived
/// allocations far faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cmd::Cli::parse();
    let code = cmd::run(cli);
    std::process::exit(code as i32);
}
