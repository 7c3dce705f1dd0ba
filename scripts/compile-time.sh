#!/usr/bin/env bash
# What annotating every function of a crate costs its build: smallvec 1.16.5's library (or the
# crate named as the first argument: semver, base64), plain and with #[pipelinescope::profile] on
# every function (copies prepared by scripts/annotated-crates.sh --setup), built in the dev
# profile, `cargo clean -p` of that crate alone before each build so its dependencies stay
# built. Alternates plain and annotated builds REPS times (default 7) and prints the medians of
# wall time and CPU time (cargo and rustc together) and their ratios.
#
# The machine's other load moves wall time by tens of percent; with valgrind installed,
# INSTRUCTIONS=1 also counts the instructions rustc executes for each crate once (the figure does
# not depend on load: the README's figures are these).
#
# The annotated copy depends on pipelinescope-probe with `enable` on; THROUGH=facade and ENABLE=0
# (see annotated-crates.sh) measure the facade and the inert attributes instead.
#
#   scripts/compile-time.sh            # smallvec, 7 alternations
#   REPS=11 scripts/compile-time.sh semver
#   ENABLE=0 INSTRUCTIONS=1 scripts/compile-time.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
crate="${1:-smallvec}"
reps="${REPS:-7}"
profile_flag=()
profile_name=dev
if [[ "${RELEASE:-0}" == "1" ]]; then
    profile_flag=(--release)
    profile_name=release
fi
work="${WORK:-/tmp/pipelinescope-annotated}"
export WORK="$work"

read -r plain annotated < <("$repo/scripts/annotated-crates.sh" --setup "$crate" | tail -n 1)

target_of() { echo "$work/target-build-$(basename "$1")"; }

# Dependencies first (the facade and its graph for the annotated copy), outside the timing.
for d in "$plain" "$annotated"; do
    (cd "$d" && CARGO_TARGET_DIR="$(target_of "$d")" cargo build --quiet --lib "${profile_flag[@]}")
done

# One clean build of the crate's library: "wall cpu" in seconds.
build_once() {
    local d="$1" t0 t1 cpu
    (cd "$d" && CARGO_TARGET_DIR="$(target_of "$d")" cargo clean --quiet -p "$crate" "${profile_flag[@]}")
    t0=$(date +%s.%N)
    cpu=$( { TIMEFORMAT='%U %S'; time (cd "$d" &&
        CARGO_TARGET_DIR="$(target_of "$d")" cargo build --quiet --lib "${profile_flag[@]}"); } 2>&1 )
    t1=$(date +%s.%N)
    echo "$t0 $t1 $cpu" | awk '{printf "%.3f %.3f\n", $2 - $1, $3 + $4}'
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

: > "$work/ct-plain.txt"
: > "$work/ct-annotated.txt"
for ((i = 1; i <= reps; i++)); do
    build_once "$plain" >> "$work/ct-plain.txt"
    build_once "$annotated" >> "$work/ct-annotated.txt"
done
pw=$(cut -d' ' -f1 "$work/ct-plain.txt" | median)
pc=$(cut -d' ' -f2 "$work/ct-plain.txt" | median)
aw=$(cut -d' ' -f1 "$work/ct-annotated.txt" | median)
ac=$(cut -d' ' -f2 "$work/ct-annotated.txt" | median)
echo "$crate library, $profile_name profile, clean build of the crate alone, median of $reps:"
echo "  plain:     wall $pw s, CPU $pc s"
echo "  annotated: wall $aw s, CPU $ac s   ($(sed -n 's/^annotated \([0-9]*\) functions.*/\1/p' "$work/$crate-annotate.log") functions annotated)"
echo "  ratio:     wall $(echo "$pw $aw" | awk '{printf "%.2f", $2 / $1}'), CPU $(echo "$pc $ac" | awk '{printf "%.2f", $2 / $1}')"

if [[ "${INSTRUCTIONS:-0}" == "1" ]] && command -v valgrind > /dev/null; then
    # rustc's own command line for the crate, from a verbose build, run again under cachegrind.
    ir() {
        local d="$1" cmd out
        (cd "$d" && CARGO_TARGET_DIR="$(target_of "$d")" cargo clean --quiet -p "$crate" "${profile_flag[@]}")
        cmd=$(cd "$d" && CARGO_TARGET_DIR="$(target_of "$d")" cargo build --lib -v "${profile_flag[@]}" 2>&1 |
            grep "Running .*--crate-name ${crate//-/_} " | sed -e 's/.*Running `//' -e 's/`$//')
        out="$work/ir-out"
        rm -rf "$out"
        mkdir -p "$out"
        cmd=$(echo "$cmd" | sed -e 's# -C incremental=[^ ]*##' -e "s#--out-dir [^ ]*#--out-dir $out#")
        (cd "$d" && eval "valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $cmd" 2>&1 >/dev/null |
            grep "I *refs" | awk '{gsub(",", "", $NF); printf "%.1f\n", $NF / 1e6}')
    }
    pi=$(ir "$plain")
    ai=$(ir "$annotated")
    echo "  rustc instructions (millions, no incremental cache): plain $pi, annotated $ai, ratio $(echo "$pi $ai" | awk '{printf "%.2f", $2 / $1}')"
fi
