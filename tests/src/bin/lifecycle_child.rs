//! A program profiled by the lifecycle tests: its behaviour and exit status must not change
//! whatever happens to the profiler.
//!
//! Arguments: `<mode> <output_dir>`. Modes: `ok` (exit 0), `exit3` (returns exit code 3),
//! `panic` (panics in main after starting the run).

use pipelinescope::__private::{Site, SiteKind, enter};
use std::process::ExitCode;

static WORK: Site = Site::new(
    "child_work",
    module_path!(),
    file!(),
    line!(),
    SiteKind::Sync,
);

fn work(n: u64) -> u64 {
    let _g = enter(&WORK);
    (0..n).map(|i| i * i).sum()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("ok");
    let out = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| ".pipelinescope_output".into());
    let _run = pipelinescope::start_with(pipelinescope::Config::new().output_dir(out));
    let mut total = 0;
    for i in 0..100 {
        total += work(1000 + i);
    }
    println!("result {total}");
    match mode {
        "exit3" => ExitCode::from(3),
        "panic" => panic!("deliberate failure in the profiled program"),
        _ => ExitCode::SUCCESS,
    }
}
