#!/usr/bin/env bash
# The whole test suite: every package with profiling on, the feature-off package on its own
# (cargo unifies features within one invocation, so it cannot share a build with the others),
# doc tests, and one quick pass of each benchmark so they cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== tests, profiling on (all packages but the feature-off one)"
cargo test --workspace --exclude pipelinescope-feature-off --exclude pipelinescope-bench

echo "== figures against the truth, optimised as profiled programs are"
cargo test --release -p pipelinescope-tests --test accuracy --test compensation_switches \
    --test stage_timing --test size_scaling

echo "== allocation tracking (feature alloc: installs a global allocator in its own test binary,"
echo "   and lazy stages publish themselves on every record)"
cargo test -p pipelinescope-core --features alloc --test alloc --test stage
cargo test -p pipelinescope-tests --features alloc --test lines_alloc

echo "== tests, profiling off (the enable feature is not turned on)"
cargo test -p pipelinescope-feature-off
cargo test -p pipelinescope --doc

echo "== drop-in: user code that leans on type inference, probes on and off, each on its own"
scripts/check-dependencies.sh
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}" cargo test --manifest-path tests/drop-in/Cargo.toml
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}" cargo test --manifest-path tests/drop-in/Cargo.toml \
    --features enable

echo "== benchmarks, one quick pass each"
cargo test -p pipelinescope-bench --benches
