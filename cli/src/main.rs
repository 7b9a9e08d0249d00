//! `baton`: the one binary. Each subcommand lives in `cmd/`; this file only parses
//! arguments and turns a command's outcome into an exit code (see `exit`).

mod client;
mod cmd;
mod exit;
mod files;
mod table;

use clap::Parser;

fn main() {
    let cli = cmd::Cli::parse();
    let code = cmd::run(cli);
    std::process::exit(code as i32);
}
