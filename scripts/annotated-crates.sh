#!/usr/bin/env bash
# Whole crates with #[pipelinescope::profile] on every function: does each still build and pass
# its own tests, and what does that cost at run time?
#
# For semver 1.0.28, smallvec 1.16.5 and base64 0.22.1 (or the crates named as arguments): fetch
# the published sources, copy them twice into a scratch folder, put the attribute on every
# function with a body of one copy (tools/annotate: free functions, methods, trait default
# bodies, nested functions; `const fn` left out), make that copy depend on this repository's
# facade by path with the `enable` feature, and run `cargo test` on both copies, each in its own
# test profile (base64's sets opt-level = 3). Prints per crate the functions annotated, the
# tests passed and failed, and the test run's time plain and annotated (wall and CPU, build
# excluded: `cargo test --no-run` first).
#
#   scripts/annotated-crates.sh                 # all three
#   scripts/annotated-crates.sh smallvec        # one
#   scripts/annotated-crates.sh --setup smallvec   # only prepare the two copies (compile-time.sh)
#
# Environment: WORK (scratch folder, default /tmp/pipelinescope-annotated), FACADE (the checkout
# whose crates the annotated copies depend on, default this one: another checkout of an earlier
# commit compares versions), THROUGH (`probe`, the default: the copies depend on
# pipelinescope-probe under the name `pipelinescope`, as the README tells library authors to;
# `facade`: on the pipelinescope crate itself, for checkouts older than the probe crate),
# ENABLE (1, the default, turns the `enable` feature on; 0 leaves the attributes inert), CORE_OPT
# (if set, e.g. 3: adds `[profile.<test profile>.package.pipelinescope-core] opt-level = $CORE_OPT`
# to the annotated copy, the setting the README recommends for debug builds).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
facade="${FACADE:-$repo}"
work="${WORK:-/tmp/pipelinescope-annotated}"
setup_only=0
if [[ "${1:-}" == "--setup" ]]; then
    setup_only=1
    shift
fi
crates=("$@")
[[ ${#crates[@]} -gt 0 ]] || crates=(semver smallvec base64)

version_of() {
    case "$1" in
        semver) echo 1.0.28 ;;
        smallvec) echo 1.16.5 ;;
        base64) echo 0.22.1 ;;
        *) echo "unknown crate $1 (semver, smallvec or base64)" >&2; exit 2 ;;
    esac
}

mkdir -p "$work"

# The annotator, built once.
annotate="$work/tool-target/release/pipelinescope-annotate"
cargo build --quiet --release --manifest-path "$repo/tools/annotate/Cargo.toml" \
    --target-dir "$work/tool-target"

# The published sources, through a throwaway project that depends on the exact versions.
mkdir -p "$work/fetch/src"
touch "$work/fetch/src/lib.rs"
{
    printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n'
    printf '[workspace]\n[dependencies]\n'
    for c in "${crates[@]}"; do printf '%s = "=%s"\n' "$c" "$(version_of "$c")"; done
} > "$work/fetch/Cargo.toml"
cargo fetch --quiet --manifest-path "$work/fetch/Cargo.toml"

source_of() {
    local c="$1" v
    v="$(version_of "$c")"
    # The manifest path cargo reports for that package, less `/Cargo.toml`.
    cargo metadata --quiet --format-version 1 --manifest-path "$work/fetch/Cargo.toml" |
        tr ',' '\n' | grep -o "\"manifest_path\":\"[^\"]*/$c-$v/Cargo.toml\"" | head -n 1 |
        sed -e 's/^"manifest_path":"//' -e 's#/Cargo.toml"$##'
}

# Test profile of a crate's `cargo test` ([profile.test] if the crate sets one; it inherits dev).
prepare() {
    local c="$1" src plain annotated
    src="$(source_of "$c")"
    [[ -d "$src" ]] || { echo "sources of $c not found" >&2; exit 1; }
    plain="$work/$c-plain"
    annotated="$work/$c-annotated"
    rm -rf "$plain" "$annotated"
    cp -r "$src" "$plain"
    cp -r "$src" "$annotated"
    chmod -R u+w "$plain" "$annotated"
    "$annotate" "$annotated/src" > "$work/$c-annotate.log"
    {
        printf '\n[dependencies.pipelinescope]\n'
        if [[ "${THROUGH:-probe}" == "probe" ]]; then
            printf 'package = "pipelinescope-probe"\npath = "%s/pipelinescope-probe"\n' "$facade"
        else
            printf 'path = "%s"\n' "$facade"
        fi
        if [[ "${ENABLE:-1}" == "1" ]]; then
            printf 'features = ["enable"]\n'
        fi
        if [[ -n "${CORE_OPT:-}" ]]; then
            printf '\n[profile.dev.package.pipelinescope-core]\nopt-level = %s\n' "$CORE_OPT"
        fi
    } >> "$annotated/Cargo.toml"
}

functions_annotated() {
    sed -n 's/^annotated \([0-9]*\) functions.*/\1/p' "$work/$1-annotate.log"
}

# `cargo test` of one copy: build first, then the run alone; prints "passed failed wall cpu".
run_tests() {
    local dir="$1" log="$2" t0 t1 passed failed times
    (cd "$dir" && CARGO_TARGET_DIR="$work/target-$(basename "$dir")" cargo test --no-run \
        > "$log.build" 2>&1) || { echo "0 build-failed 0 0"; return; }
    t0=$(date +%s.%N)
    set +e
    times=$( { TIMEFORMAT='%U %S'; time (cd "$dir" &&
        CARGO_TARGET_DIR="$work/target-$(basename "$dir")" cargo test > "$log" 2>&1); } 2>&1 )
    set -e
    t1=$(date +%s.%N)
    passed=$(grep -o 'test result: [A-Za-z]*\. [0-9]* passed' "$log" | awk '{s += $4} END {print s + 0}')
    failed=$(grep -o '[0-9]* failed' "$log" | awk '{s += $1} END {print s + 0}')
    if grep -q '^error' "$log"; then failed="$failed+error"; fi
    echo "$passed $failed $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') \
$(echo "$times" | awk '{printf "%.1f", $1 + $2}')"
}

for c in "${crates[@]}"; do
    prepare "$c"
done
if [[ $setup_only -eq 1 ]]; then
    for c in "${crates[@]}"; do echo "$work/$c-plain $work/$c-annotated"; done
    exit 0
fi

results=()
for c in "${crates[@]}"; do
    echo "== $c $(version_of "$c"): $(tail -n 1 "$work/$c-annotate.log")"
    read -r pp pf pw pc < <(run_tests "$work/$c-plain" "$work/$c-plain.log")
    echo "   plain:     $pp passed, $pf failed, tests ran in ${pw} s (CPU ${pc} s)"
    read -r ap af aw ac < <(run_tests "$work/$c-annotated" "$work/$c-annotated.log")
    echo "   annotated: $ap passed, $af failed, tests ran in ${aw} s (CPU ${ac} s)"
    if [[ "$af" != "0" ]]; then
        echo "   first errors (full log: $work/$c-annotated.log):"
        grep -m 5 -E '^error|panicked|FAILED' "$work/$c-annotated.log" | sed 's/^/     /' || true
    fi
    results+=("$c $(functions_annotated "$c") $pp/$pf $ap/$af $pw $aw $pc $ac")
done

echo
printf '| %-8s | %9s | %13s | %17s | %14s | %14s | %9s |\n' crate functions \
    "plain passed" "annotated passed" "plain run (s)" "annot. run (s)" "ratio"
printf '|%s|\n' "----------|-----------|---------------|-------------------|----------------|----------------|-----------"
for r in "${results[@]}"; do
    read -r c n p a pw aw pc ac <<< "$r"
    printf '| %-8s | %9s | %13s | %17s | %14s | %14s | %9s |\n' "$c" "$n" "$p" "$a" \
        "$pw (CPU $pc)" "$aw (CPU $ac)" "$(echo "$pw $aw" | awk '{printf "%.2fx", $2 / $1}')"
done
echo "(passed/failed; run = the test run after a build with --no-run, wall, and CPU of all its processes)"
