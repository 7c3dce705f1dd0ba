//! An orchestrator calling a processor calling a helper: function-level profiling
//! (`#[profile]`) of the call tree, with the batch processor also a pipeline stage.
//!
//! `cargo run --release -p pipelinescope-examples --bin nested_calls`

use pipelinescope::{profile, stage};

const BATCHES: usize = 40;
const BATCH: usize = 5_000;

/// The helper: a checksum over one record's bytes.
#[profile]
fn checksum(record: &[u8]) -> u32 {
    record.iter().fold(0x811C_9DC5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The processor: validates a batch with the helper, keeps the records whose checksum is even.
#[profile]
#[stage("process_batch")]
fn process_batch(batch: &[Vec<u8>]) -> Vec<u32> {
    batch
        .iter()
        .map(|r| checksum(r))
        .filter(|c| c % 2 == 0)
        .collect()
}

/// Makes one batch of records.
#[profile]
fn load_batch(index: usize) -> Vec<Vec<u8>> {
    (0..BATCH)
        .map(|i| {
            let seed = (index * BATCH + i) as u32;
            (0..32u32)
                .map(|k| (seed.wrapping_mul(2_654_435_761).rotate_left(k) & 0xFF) as u8)
                .collect()
        })
        .collect()
}

/// The orchestrator: loads and processes every batch.
#[profile]
fn orchestrate() -> usize {
    let mut kept = 0;
    for b in 0..BATCHES {
        let batch = load_batch(b);
        kept += process_batch(&batch).len();
    }
    kept
}

fn main() {
    let _run = pipelinescope::start();
    let kept = orchestrate();
    println!(
        "nested_calls: {} records in {BATCHES} batches, {kept} kept after validation",
        BATCHES * BATCH
    );
}
