#!/bin/bash
# run.sh MODE DIR [HARNESS...] - run the libFuzzer harnesses built in DIR
# (make fuzz-build puts them in build/fuzz), all of them or the ones named
# (fuzz_csv or csv).  Prints one "ok - fuzz_x" / "not ok - fuzz_x" line per
# harness, as tests/run.sh counts them; exits non-zero if any failed.
#
#   check  FUZZ_RUNS (2000) executions each, from the committed seeds in
#          tests/fuzz/corpus/HARNESS, with a fixed random seed: the same
#          inputs every time.  What it finds new is thrown away.
#   long   FUZZ_SECONDS (60) each, keeping the inputs that reach new code in
#          DIR/corpus/HARNESS for the next run.
#
# Either way an input that fails is saved as DIR/artifacts/HARNESS-crash-...
# (or -leak-, -timeout-, -oom-).
#
# A harness that fails has its output shown after its line, prefixed "# ".
set -u
mode=${1:?usage: run.sh check|long DIR [HARNESS...]}
dir=${2:?usage: run.sh check|long DIR [HARNESS...]}
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
seeds_top="$top/tests/fuzz/corpus"
runs=${FUZZ_RUNS:-2000}
secs=${FUZZ_SECONDS:-60}
case $mode in check | long) ;; *) echo "run.sh: unknown mode $mode" >&2; exit 64 ;; esac

list=()
if [ $# -gt 0 ]; then
	for h in "$@"; do list+=("$dir/fuzz_${h#fuzz_}"); done
else
	for h in "$dir"/fuzz_*; do [ -x "$h" ] && [ -f "$h" ] && list+=("$h"); done
fi
[ ${#list[@]} -gt 0 ] || { echo "run.sh: no harnesses in $dir (make fuzz-build)" >&2; exit 66; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spif-fuzzrun.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
for h in "${list[@]}"; do
	name=${h##*/}
	seeds="$seeds_top/$name"
	args=(-print_final_stats=1)
	[ -f "$top/tests/fuzz/$name.dict" ] && args+=(-dict="$top/tests/fuzz/$name.dict")
	if [ "$mode" = check ]; then
		work="$tmp/$name"
		mkdir -p "$work"
		args+=(-runs="$runs" -seed=1)
	else
		work="$dir/corpus/$name"
		mkdir -p "$work"
		# inputs grown to cross the reader's buffers cost 100 times a
		# small one: schedule the fast ones more
		args+=(-max_total_time="$secs" -entropic_scale_per_exec_time=1)
	fi
	mkdir -p "$dir/artifacts"
	args+=(-timeout=60 -artifact_prefix="$dir/artifacts/$name-")
	[ -d "$seeds" ] || seeds=
	log="$tmp/$name.log"
	"$h" "${args[@]}" "$work" ${seeds:+"$seeds"} >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs_run=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	info="${execs:-?} executions${secs_run:+ in ${secs_run}s}"
	if [ "$rc" -eq 0 ]; then
		echo "ok - $name ($info)"
	else
		echo "not ok - $name exited $rc ($info)"
		grep -v '^#[0-9]' "$log" | tail -60 | sed 's/^/# /'
		ls "$dir/artifacts/$name-"* 2>/dev/null | sed 's/^/# artifact: /'
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
