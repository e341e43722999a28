#!/bin/bash
# erase.sh BIN - the crypto-erase benchmarks alone (section 4 of run.sh,
# which runs this): quick to repeat while working on the erase path.
#   BENCH_ERASE_LARGE=0 leaves out the 1 GiB copy (a minute of ingest).
set -euo pipefail
bin=$(cd "${1:-bin}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
bb=${BENCH_BUILD:-$top/build}/bench
[ -x "$bb/retain-fill" ] && [ -x "$bb/audit-fill" ] || { echo "bench: $bb/retain-fill is missing (run make bench)" >&2; exit 1; }
export PATH="$bin:$PATH"
if [ -z "${work:-}" ]; then # alone; run.sh passes its own work dir and home
	work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/spif-bench.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	export SPIF_HOME="$work/home" SPIF_CONF="$work/none.conf" TMPDIR="$work"
fi
ok() { [ "$(echo "$1" | bc -l)" = 1 ] && echo ok || echo MISSED; }

# a tiny vault copy and a large one take about as long (the deletion of
# the ciphertext aside, which the file system's work makes grow with the
# size whatever the tool)
if [ "${BENCH_ERASE_LARGE:-1}" != 0 ]; then
	rm -rf "$SPIF_HOME"
	# about 4 KiB and 1 GiB of vault (a few generated rows; 273,000 rows)
	spif-gen --rows 1 -o "$work/tiny.csv" 2>/dev/null
	spif ingest --purpose bench --store --print-id "$work/tiny.csv" > /dev/null 2>&1
	spif-gen --rows 273000 -o "$work/quarter.csv" 2>/dev/null
	spif ingest --purpose bench --store --print-id "$work/quarter.csv" > /dev/null 2>&1
	spif ingest --purpose bench --store --again --reason bench --print-id "$work/tiny.csv" > /dev/null 2>&1 # F000003: the month is not emptied
	rm -f "$work/tiny.csv" "$work/quarter.csv"
	# the source copies gone (through spif's connection: the sqlite3 shell
	# cannot write the catalog's tables)
	"$bb/audit-fill" "$SPIF_HOME" --sql "UPDATE copies SET state = 'disposed' WHERE kind = 'source'"
	ssize=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT size FROM copies WHERE kind = 'vault' AND file_id = 1")
	vsize=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT size FROM copies WHERE kind = 'vault' AND file_id = 2")
	# what deleting a file of that size costs by itself (rm of a copy)
	cp "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM copies WHERE kind = 'vault' AND file_id = 2")" "$work/ref.bin"
	sync
	s=$(date +%s.%N); spif shred --file F000001 > /dev/null; e=$(date +%s.%N); t_small=$(echo "$e - $s" | bc -l)
	s=$(date +%s.%N); spif shred --file F000002 > /dev/null; e=$(date +%s.%N); t_large=$(echo "$e - $s" | bc -l)
	s=$(date +%s.%N); rm -f "$work/ref.bin"; e=$(date +%s.%N); t_rm=$(echo "$e - $s" | bc -l)
	for f in F000001 F000002; do
		spif catalog show "$f" --json | grep -q '"state":"disposed"' || { echo "bench: crypto-erase left $f" >&2; exit 1; }
	done
	printf 'crypto-erase + certificate: %.3fs for a %d-byte vault copy, %.3fs for a %d MB one\n' \
		"$t_small" "$ssize" "$t_large" "$((vsize / 1000000))"
	printf '  (rm of a %d MB copy of it alone: %.3fs: deleting the ciphertext is most of the large one)\n' \
		"$((vsize / 1000000))" "$t_rm"
	t_net=$(echo "$t_large - $t_rm" | bc -l)
	[ "$(echo "$t_net < $t_small" | bc -l)" = 1 ] && t_net=$t_small
	ratio=$(echo "$t_net / $t_small" | bc -l)
	printf '%-44s spif %8.3fs  %-22s %8.3fs  ratio %5.2f  goal <= 1.5  %s\n' \
		"crypto-erase 1 GiB vs 4 KiB (rm of 1 GiB aside)" "$t_net" "same, 4 KiB copy" "$t_small" "$ratio" \
		"$(ok "$ratio <= 1.5")"
fi

# one file of a month of 10,000: its key replaced, 9,999 keys rewrapped,
# the old one destroyed, in under 200 ms
"$bb/retain-fill" vault "$work/r10k" 10000
sync
s=$(date +%s.%N); SPIF_HOME="$work/r10k" spif shred --file F000001 > /dev/null; e=$(date +%s.%N)
t=$(echo "$e - $s" | bc -l)
# (grep reads it all: a -q that stops early would fail the pipe under pipefail)
SPIF_HOME="$work/r10k" spif catalog log --json | grep '"rewrapped":9999' > /dev/null ||
	echo "bench: the month's key was not replaced" >&2
printf '%-44s spif %8.3fs  (rotation: 9,999 keys rewrapped)        goal < 0.200s   %s\n' \
	"crypto-erase 1 of a month of 10,000 files" "$t" "$(ok "$t < 0.2")"
rm -rf "$work/r10k"

# a purge of 1,000 files of one month (1,000 more not due: one
# replacement), at 1,000 certified disposals/s
"$bb/retain-fill" vault "$work/rp" 2000
# (through spif's connection: the sqlite3 shell cannot write the
# catalog's tables, whose triggers call spif's functions)
"$bb/audit-fill" "$work/rp" --sql "UPDATE files SET dispose_on = '2099-12-31' WHERE id > 1000"
sync
s=$(date +%s.%N)
SPIF_HOME="$work/rp" ${BENCH_PURGE_WRAP:-} spif-retain purge > "$work/purge.out" 2> "$work/purge.err" ||
	echo "bench: retain purge failed: $(tail -1 "$work/purge.err")" >&2
e=$(date +%s.%N)
n=$(grep -c ' disposed DC-' "$work/purge.out" || true)
t=$(echo "$e - $s" | bc -l)
rate=$(echo "$n / $t" | bc -l)
rot=$(SPIF_HOME="$work/rp" spif catalog log --json | grep -c '"action":"kek.rotated"' || true)
printf '%-44s spif %8.3fs  %6.0f certified disposals/s, %d key replacement(s)  goal >= 1000/s %s\n' \
	"retain purge, $n files of one month" "$t" "$rate" "$rot" "$(ok "$rate >= 1000")"
rm -rf "$work/rp"
