#!/bin/bash
# run.sh BUILD - every test: the C unit tests and the bats suites, against
# the sanitised build in BUILD (ASan + UBSan, leaks fatal).  Sanitiser
# reports go to files, so that a leak or an overflow fails the run even in a
# test that expects a command to fail.  Ends with "N passed, N failed".
set -u
build=${1:-build/asan}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 70
san=$(mktemp -d "${TMPDIR:-/tmp}/spif-san.XXXXXX")
trap 'rm -rf "$san"' EXIT
export ASAN_OPTIONS="detect_leaks=1:log_path=$san/asan:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan:exitcode=86"
export LSAN_OPTIONS="exitcode=86"
export SPIF_BIN="$top/$build/bin"
# Some suites run spif as a second real user (nobody, or users they
# create).  A checkout in a private directory (mode 0700, as mktemp -d
# makes) is out of their reach, so they run a copy of the build from a
# directory anyone can enter; the copy keeps the build's layout (bin,
# locale, unit) that the programs and helper.bash look up beside it.
if [ "$(id -u)" -eq 0 ] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$SPIF_BIN/spif" 2>/dev/null; then
	pub=$(mktemp -d /tmp/spif-build.XXXXXX)
	chmod 755 "$pub"
	cp -a "$top/$build/bin" "$pub/bin"
	for d in locale unit; do [ ! -d "$top/$build/$d" ] || cp -a "$top/$build/$d" "$pub/$d"; done
	chmod -R a+rX "$pub"
	echo "# $top is private to its owner: the tests run a copy of $build in $pub, which other users can reach"
	SPIF_BIN="$pub/bin"
	trap 'rm -rf "$san" "$pub"' EXIT
fi
# a sanitiser report by a second user's run lands here too
chmod 1777 "$san"
export PATH="$SPIF_BIN:$PATH"
pass=0 fail=0 skip=0
log=$(mktemp "${TMPDIR:-/tmp}/spif-tests.XXXXXX")

for t in "$build"/unit/test_*; do
	[ -x "$t" ] || continue
	echo "# unit: ${t##*/}"
	"$t"
	rc=$?
	[ "$rc" -eq 0 ] || echo "not ok - ${t##*/} exited $rc"
done 2>&1 | tee "$log"
pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok ' "$log")
skip=$(grep -Ec '^ok .*# (skip|SKIP)' "$log")

# the libFuzzer harnesses, when built (make fuzz-build): a fixed number of
# runs each from the committed seeds, one ok/not ok per harness
fuzzdir=${FUZZ_BUILD:-$(dirname "$build")/fuzz}
if ls "$fuzzdir"/fuzz_* >/dev/null 2>&1; then
	flog=$(mktemp "${TMPDIR:-/tmp}/spif-fuzzlog.XXXXXX")
	echo "# fuzz: $fuzzdir"
	tests/fuzz/run.sh check "$fuzzdir" 2>&1 | tee "$flog"
	pass=$((pass + $(grep -c '^ok ' "$flog"))) fail=$((fail + $(grep -c '^not ok ' "$flog")))
	rm -f "$flog"
fi

suites=$(ls tests/bats/*.bats 2>/dev/null)
if [ -n "$suites" ]; then
	blog=$(mktemp "${TMPDIR:-/tmp}/spif-bats.XXXXXX")
	bats --tap $suites | tee "$blog"
	p=$(grep -c '^ok ' "$blog" || true)
	f=$(grep -c '^not ok ' "$blog" || true)
	s=$(grep -Ec '^ok .*# (skip|SKIP)' "$blog" || true)
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	rm -f "$blog"
fi
rm -f "$log"

reports=$(ls "$san" 2>/dev/null | wc -l)
if [ "$reports" -gt 0 ]; then
	echo "# sanitizer reports:"
	for r in "$san"/*; do sed 's/^/#   /' "$r" | head -40; done
	echo "not ok - $reports sanitizer report(s): leaks or memory errors"
	fail=$((fail + reports))
fi
pass=$((pass - skip))
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
