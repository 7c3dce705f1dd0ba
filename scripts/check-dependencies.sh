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
