//! Writing to stdout. `println!` panics when stdout is a pipe whose reader has gone
//! (`baton tasks --json | head`); a command's output has then been read as far as
//! anyone wanted, so Baton stops quietly with exit 0 instead.

use std::io::Write;

/// Write `text` to stdout; stop the process quietly if nobody reads it any more.
pub fn write(text: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(text).and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write the output: {e}");
            std::process::exit(crate::exit::Code::Usage as i32);
        }
    }
}

/// `print!` that stops quietly when stdout's reader has gone.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}

/// `println!` that stops quietly when stdout's reader has gone.
macro_rules! outln {
    () => {
        $crate::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
