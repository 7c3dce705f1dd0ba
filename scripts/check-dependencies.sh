#!/usr/bin/env bash
# What a profiled program's build loads: the facade's normal dependencies, every feature on.
# rustc weighs the trait impls of every crate loaded into a build, so a crate here that
# implements std traits for std or primitive types (a JSON value type comparable with `u8` and
# `str`, say) changes how the user's own code type-checks. tests/drop-in catches that by
# compiling; this check names the crates known to do it, so the failure says which one came in
# and through what.
set -euo pipefail
cd "$(dirname "$0")/.."

# Crates with value types that implement PartialEq/From/... for primitives and std types.
denied='serde_json|serde_json_lenient|simd-json|sonic-rs|json|serde_yaml|serde_yml|serde_cbor|rmpv|ciborium'

tree=$(cargo tree -p pipelinescope --features enable,alloc -e normal --prefix none --format '{p}')
found=$(printf '%s\n' "$tree" | awk '{print $1}' | grep -xE "$denied" | sort -u || true)
if [ -n "$found" ]; then
    echo "error: a profiled program's build would load: $found"
    echo "Their trait impls for primitive types break type inference in user code."
    echo "How they come in:"
    for c in $found; do
        cargo tree -p pipelinescope --features enable,alloc -e normal -i "$c"
    done
    exit 1
fi
echo "dependencies of a profiled program: $(printf '%s\n' "$tree" | awk '{print $1}' | sort -u | wc -l) crates, none of: ${denied//|/, }"

# What a library annotated through pipelinescope-probe loads. Without `enable`: the macros alone,
# so that a library's users who never profile pay nothing but the attribute. With it: the
# recorder's graph, never the run machinery (reports, configuration, the live endpoint).
direct=$(cargo tree -p pipelinescope-probe -e normal --depth 1 --prefix none --format '{p}' |
    awk 'NR > 1 {print $1}' | sort -u)
if [ "$direct" != "pipelinescope-macros" ]; then
    echo "error: pipelinescope-probe without enable loads more than the macros: $direct"
    exit 1
fi
probe=$(cargo tree -p pipelinescope-probe --features enable -e normal --prefix none --format '{p}' |
    awk '{print $1}' | sort -u)
run_only=$(printf '%s\n' "$probe" | grep -xE 'pipelinescope|pipelinescope-report|askama|toml|globset|httparse|sval_json' || true)
if [ -n "$run_only" ]; then
    echo "error: pipelinescope-probe with enable loads the run machinery: $run_only"
    exit 1
fi
echo "dependencies of a library annotated through pipelinescope-probe: the macros alone; with enable, $(printf '%s\n' "$probe" | wc -l) crates, none of the run machinery"
