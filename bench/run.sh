#!/bin/bash
# run.sh BIN - spif against its peer tools on the same data, in one run.
# Prints each time, the peer's time and the ratio against the goal.
# Data is generated (synthetic, valid check digits) into a scratch dir.
set -euo pipefail
bin=$(cd "${1:-bin}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
# the bench helpers make bench builds (audit-fill, retain-fill, ...)
bb=${BENCH_BUILD:-$top/build}/bench
for h in audit-fill detect-score retain-fill test_retention; do
	[ -x "$bb/$h" ] || { echo "bench: $bb/$h is missing (run make bench)" >&2; exit 1; }
done
export PATH="$bin:$PATH"
ROWS=${BENCH_ROWS:-1000000}
EVENTS=${BENCH_EVENTS:-1000000}
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/spif-bench.XXXXXX")
# a throwaway GnuPG home for the encrypt benchmarks; short, since
# gpg-agent's socket lives in it and must fit in 108 bytes
export GNUPGHOME=$(mktemp -d /tmp/spif-bench-gpg.XXXXXX)
trap 'gpgconf --kill all 2>/dev/null; rm -rf "$work" "$GNUPGHOME"' EXIT
export SPIF_HOME="$work/home" SPIF_CONF="$work/none.conf" TMPDIR="$work"

# seconds COMMAND...: wall time of the best of $REPEAT runs
REPEAT=${BENCH_REPEAT:-1}
seconds() {
	local best="" t
	for _ in $(seq "$REPEAT"); do
		local s e
		s=$(date +%s.%N)
		"$@" > /dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
	done
	printf '%.3f' "$best"
}
report() { # report NAME SPIF_S PEER NAME PEER_S GOAL_RATIO
	local ratio ok
	ratio=$(echo "$2 / $4" | bc -l)
	ok=$(echo "$ratio <= $5" | bc -l)
	printf '%-44s spif %8.3fs  %-22s %8.3fs  ratio %5.2f  goal <= %-4s %s\n' \
		"$1" "$2" "$3" "$4" "$ratio" "$5" "$([ "$ok" = 1 ] && echo ok || echo MISSED)"
}

echo "spif bench: $ROWS rows, $EVENTS events, best of $REPEAT; $(nproc) cores"
spif-gen --rows "$ROWS" --persons $((ROWS * 98 / 100)) -o "$work/big.csv" 2>/dev/null
printf 'data: %s, %d MB, %s columns\n' big.csv $(( $(stat -c %s "$work/big.csv") / 1000000 )) \
	"$(head -1 "$work/big.csv" | tr ',' '\n' | wc -l)"

# 1. ingest (parse, validate every number, count persons, hash, catalog,
#    emit NDJSON) against Miller's CSV -> JSON Lines on the same file.
t_mlr=$(seconds mlr --icsv --ojsonl cat "$work/big.csv")
t_ing=$(seconds spif ingest --again --reason bench --purpose bench "$work/big.csv")
report "ingest 1M rows -> NDJSON" "$t_ing" "mlr --icsv --ojsonl" "$t_mlr" 0.5
t_id=$(seconds spif ingest --again --reason bench --purpose bench --print-id "$work/big.csv")
report "ingest 1M rows, register only (--print-id)" "$t_id" "mlr --icsv --ojsonl" "$t_mlr" 0.5

# 2. catalog verify over 1,000,000 events against sha256sum of the database:
#    the hash chain, the Merkle tree (every stored tile), the schema, and the
#    replay of every row the events record against a scan of the tables.
#    audit-fill writes through lib/audit: 100,000 files registered (a file
#    and a copy each), then a third of the events change a row.
rm -rf "$SPIF_HOME"
"$bb/audit-fill" "$SPIF_HOME" "$EVENTS"
t_sum=$(seconds sha256sum "$SPIF_HOME/catalog.db")
t_ver=$(seconds spif catalog verify)
printf 'catalog: %d MB, %s rows in its tables\n' $(( $(stat -c %s "$SPIF_HOME/catalog.db") / 1000000 )) \
	"$(spif catalog verify --json | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')"
report "catalog verify, $EVENTS events + row replay" "$t_ver" "sha256sum catalog.db" "$t_sum" 1.5
rate=$(echo "$EVENTS / $t_ver" | bc -l)
printf '%-44s %12.0f events/s  goal >= 1000000  %s\n' "catalog verify, events per second" "$rate" \
	"$([ "$(echo "$rate >= 1000000" | bc -l)" = 1 ] && echo ok || echo MISSED)"
# an inclusion proof at 10^7 events: a tile store of that many synthetic
# leaves filled through the library's own store functions, proofs timed
PROOF_LEAVES=${BENCH_PROOF_LEAVES:-10000000}
"$bb/audit-fill" --tiles "$work/tiles.db" "$PROOF_LEAVES" > "$work/tiles.out"
grep -v '^proof: ' "$work/tiles.out"
read -r _ pbytes pms < <(grep '^proof: ' "$work/tiles.out")
printf '%-44s %6d bytes, %6.2f ms   goal <= 1024 bytes, < 10 ms  %s\n' "inclusion proof at $PROOF_LEAVES events" \
	"$pbytes" "$pms" "$([ "$pbytes" -le 1024 ] && [ "$(echo "$pms < 10" | bc -l)" = 1 ] && echo ok || echo MISSED)"
rm -f "$work/tiles.db" "$work/tiles.db-wal" "$work/tiles.db-shm" "$work/tiles.out"

# 3. redact: every string field scanned, number fields and free text, CSV
#    written back byte for byte but the digits, against Miller's gsub over
#    the number columns and 摘要欄 (which knows no check digit or form), and
#    against sha256sum reading the same bytes.
cols=$(head -1 "$work/big.csv" | tr -d '\r' | tr ',' '\n' | grep -E '個人番号|摘要欄')
expr=$(printf '%s\n' "$cols" | awk '{ printf "$%s = gsub($%s, \"[0-9]\", \"*\");\n", "{" $0 "}", "{" $0 "}" }')
t_mlr=$(seconds mlr --icsv --ocsv put "$expr" "$work/big.csv")
t_red=$(seconds spif redact --format csv "$work/big.csv")
t_sum=$(seconds sha256sum "$work/big.csv")
report "redact 1M rows (CSV in, CSV out)" "$t_red" "mlr --icsv --ocsv put gsub" "$t_mlr" 0.1
report "redact 1M rows (CSV in, CSV out)" "$t_red" "sha256sum (same bytes)" "$t_sum" 2
# memory: redact's peak RSS on 100,000 rows and on all of them, which one
# pass over a stream keeps about the same (O(1) in the input)
if [ -x /usr/bin/time ]; then
	spif-gen --rows 100000 -o "$work/r100k.csv" 2>/dev/null
	m1=$(/usr/bin/time -f %M spif redact --format csv "$work/r100k.csv" 2>&1 >/dev/null | tail -1)
	m2=$(/usr/bin/time -f %M spif redact --format csv "$work/big.csv" 2>&1 >/dev/null | tail -1)
	rm -f "$work/r100k.csv"
	echo "memory: redact peak RSS ${m1} KB at 100000 rows, ${m2} KB at $ROWS rows"
fi
# quality: a labelled corpus in UTF-8 and in CP932 (the same kinds of
# numbers and decoys, next to kanji, punctuation and other digits), scored
# for the default run and for a run of its own with --min-confidence high;
# detect-score marks each goal ok or MISSED
{
	CORPUS=${BENCH_CORPUS_ROWS:-100000}
	for enc in utf-8 cp932; do
		spif-gen --corpus --rows "$CORPUS" --encoding "$enc" --labels "$work/labels.tsv" -o "$work/corpus.csv" 2>/dev/null
		spif redact --format csv --report "$work/report.ndjson" "$work/corpus.csv" > /dev/null 2>&1
		spif redact --format csv --min-confidence high --report "$work/high.ndjson" "$work/corpus.csv" > /dev/null 2>&1
		echo "detection quality on a labelled $enc corpus of $CORPUS rows (numbers in every form, decoys):"
		"$bb/detect-score" "$work/labels.tsv" "$work/report.ndjson" "$work/high.ndjson" > "$work/score.txt"
		grep -v '^goal: ' "$work/score.txt" | sed 's/^/  /'
		sed -n 's/^goal: //p' "$work/score.txt" | while read -r line; do
			printf '%-44s %s\n' "detection, $enc corpus" "$line"
		done
	done
	rm -f "$work/corpus.csv" "$work/labels.tsv" "$work/report.ndjson" "$work/high.ndjson" "$work/score.txt"
}

# 4. crypto-erase: a tiny vault copy and a large one take about as long
#    (the deletion of the ciphertext aside); one file erased out of a
#    month of 10,000, the month's key replaced and the old one destroyed,
#    in under 200 ms; a purge of 1,000 files of one month, whose key is
#    replaced once, at 1,000 certified disposals/s.  In bench/erase.sh, to
#    be run alone while working on the erase path.
work=$work BENCH_BUILD=${BENCH_BUILD:-$top/build} "$top/bench/erase.sh" "$bin"

# 5. shred: 1 GiB (1 pass + read-back verify + certificate) against GNU
#    shred -n1 -u (1 pass, no verify, no record), and 2,000 files of 4 KiB
#    with certificates against shred -u.  This machine's disk is virtual,
#    so the bench vouches for it in spif.conf as an administrator would,
#    naming it as the tests do (disk_of), and checks that spif's probe
#    takes it: a refusal takes milliseconds and would pass for a fast run.
. "$top/tests/bats/helper.bash"
disk=$(disk_of "$work")
printf 'trusted_media = %s\n' "$disk" > "$SPIF_CONF"
printf 'x\n' > "$work/probe.csv"
plan=$(spif shred --dry-run "$work/probe.csv" 2>&1) ||
	{ echo "bench: spif would not overwrite on $work with trusted_media = $disk: $plan" >&2; exit 1; }
rm -f "$work/probe.csv"
# spif shred FILE...: must succeed, certify each file and leave none of them
spif_shred() {
	spif shred "$@" > "$work/shred.ids" 2> "$work/shred.err" ||
		{ echo "bench: spif shred failed with exit $?: $(head -c 600 "$work/shred.err")" >&2; exit 1; }
}
gone() { # gone WHAT FILE...: none of the files is left, and each has its certificate
	local what=$1 f
	shift
	for f in "$@"; do [ ! -e "$f" ] || { echo "bench: $what left $f" >&2; exit 1; }; done
	if [ "$what" = "spif shred" ] && [ "$(grep -c '^DC-' "$work/shred.ids")" -ne $# ]; then
		echo "bench: spif shred printed $(grep -c '^DC-' "$work/shred.ids") certificate ids for $# files" >&2
		exit 1
	fi
}
gnu_shred() { shred "$@" || { echo "bench: shred $* failed with exit $?" >&2; exit 1; }; }
big() { head -c 1073741824 /dev/urandom > "$work/1g.bin"; sync; }
# both wait on the disk, whose writeback moves a single run by a fifth:
# 3 runs of each, alternating, and the medians decide (median3 below)
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
t_gs=() t_ss=()
for _ in 1 2 3; do
	big; s=$(date +%s.%N); gnu_shred -n1 -u "$work/1g.bin"; e=$(date +%s.%N); t_gs+=("$(echo "$e - $s" | bc -l)")
	gone "shred -n1 -u" "$work/1g.bin"
	big; s=$(date +%s.%N); spif_shred "$work/1g.bin"; e=$(date +%s.%N); t_ss+=("$(echo "$e - $s" | bc -l)")
	gone "spif shred" "$work/1g.bin"
done
report "shred 1 GiB (1 pass + verify + certificate), median of 3" "$(median3 "${t_ss[@]}")" "shred -n1 -u" \
	"$(median3 "${t_gs[@]}")" 1.1
small() { mkdir -p "$work/small"; for i in $(seq 2000); do head -c 4096 /dev/urandom > "$work/small/f$i.csv"; done; sync; }
# spif opens each file once, hashes it and checks it before anything is
# destroyed, then overwrites, reads back, renames and certifies it.  Both
# tools wait on fsync, where writeback from elsewhere on a shared disk
# moves a single run's time by half: 3 runs of each, alternating, and the
# medians decide
t_gs=() t_ss=()
for _ in 1 2 3; do
	small; files=("$work"/small/*)
	s=$(date +%s.%N); gnu_shred -u "${files[@]}"; e=$(date +%s.%N); t_gs+=("$(echo "$e - $s" | bc -l)")
	gone "shred -u" "${files[@]}"
	small; s=$(date +%s.%N); spif_shred "${files[@]}"; e=$(date +%s.%N); t_ss+=("$(echo "$e - $s" | bc -l)")
	gone "spif shred" "${files[@]}"
done
report "shred 2000 x 4 KiB, each certified, median of 3" "$(median3 "${t_ss[@]}")" "shred -u" \
	"$(median3 "${t_gs[@]}")" 1.0

# 6. encrypt: a 100 MB record stream whole, against gpg -z0 (no
#    compression, as spif) on the same bytes, to standard output: the goal;
#    and an empty input, for the start-up under it.  Then to a file, for
#    what -o costs on top: spif's is hashed (SHA-256 of the ciphertext,
#    read back behind gpg), synced and registered; gpg's is synced too,
#    but not hashed, so this line has no goal.
#    Then column level: two number fields of 1,000,000 records sealed,
#    against the same gpg over the whole stream, and against gpg run once
#    per value (timed on 50 values, multiplied out).
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
	--quick-gen-key 'Bench <bench@example.invalid>' ed25519 sign 1d 2>/dev/null
fpr=$(gpg --batch --with-colons --list-keys bench@example.invalid 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }')
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-add-key "$fpr" cv25519 encr 1d 2>/dev/null
rm -rf "$SPIF_HOME"
spif-gen --rows 26000 -o "$work/w.csv" 2>/dev/null
spif ingest --purpose bench -o "$work/w.ndjson" "$work/w.csv" 2>/dev/null
# what earlier sections wrote is on disk before anything is timed: write-
# back running under a timed run takes a core from whichever tool it meets
sync
printf 'encrypt data: %d MB of NDJSON records (%s)\n' $(( $(stat -c %s "$work/w.ndjson") / 1000000 )) \
	"$(head -c 19 "$work/w.ndjson")..."
# a quarter-second run, where one scheduling hiccup moves a time by 5%:
# 11 runs of each, alternating, and the medians decide (the best of each
# is printed too; a best-of ratio compares each tool's luckiest run)
median_pair() { # median_pair N CMD_A -- CMD_B: "median_a median_b best_a best_b"
	local n=$1; shift
	local a=() b=() i s e
	local -a ca cb
	while [ "$1" != -- ]; do ca+=("$1"); shift; done; shift
	cb=("$@")
	for i in $(seq "$n"); do
		s=$(date +%s%N); "${ca[@]}" > /dev/null 2>&1 || { echo "bench: failed: ${ca[*]}" >&2; exit 1; }
		e=$(date +%s%N); a+=($((e - s)))
		s=$(date +%s%N); "${cb[@]}" > /dev/null 2>&1 || { echo "bench: failed: ${cb[*]}" >&2; exit 1; }
		e=$(date +%s%N); b+=($((e - s)))
	done
	local sa sb
	sa=$(printf '%s\n' "${a[@]}" | sort -n); sb=$(printf '%s\n' "${b[@]}" | sort -n)
	printf '%s %s %s %s\n' "$(sed -n "$((n / 2 + 1))p" <<< "$sa")" "$(sed -n "$((n / 2 + 1))p" <<< "$sb")" \
		"$(head -1 <<< "$sa")" "$(head -1 <<< "$sb")"
}
read -r m_enc m_gpg b_enc b_gpg < <(median_pair 11 spif encrypt -r "$fpr" "$work/w.ndjson" -- \
	gpg --batch -z0 --encrypt -r "$fpr" -o - "$work/w.ndjson")
ns() { echo "$1 / 1000000000" | bc -l; }
report "encrypt 100 MB -> stdout, median of 11" "$(ns "$m_enc")" "gpg -z0 --encrypt" "$(ns "$m_gpg")" 1.1
printf '%-44s spif %8.3fs  %-22s %8.3fs  ratio %5.2f  (best of 11 each; for reference)\n' \
	"encrypt 100 MB -> stdout, best of 11" "$(ns "$b_enc")" "gpg -z0 --encrypt" "$(ns "$b_gpg")" \
	"$(echo "$b_enc / $b_gpg" | bc -l)"
# what is under it whatever the size: an empty input times the start-up
# alone (spif's, the key lookup, gpg's own), the best of 9
: > "$work/empty"
t_gpg=$(REPEAT=$((REPEAT > 9 ? REPEAT : 9)) seconds gpg --batch -z0 --encrypt -r "$fpr" -o - "$work/empty")
t_enc=$(REPEAT=$((REPEAT > 9 ? REPEAT : 9)) seconds spif encrypt -r "$fpr" "$work/empty")
printf '%-44s spif %8.3fs  %-22s %8.3fs  (start-up only; no goal)\n' \
	"encrypt an empty input -> stdout" "$t_enc" "gpg -z0 --encrypt" "$t_gpg"
gpg_o() { rm -f "$work/g.gpg"; gpg --batch -z0 --encrypt -r "$fpr" -o "$work/g.gpg" "$work/w.ndjson" && sync "$work/g.gpg"; }
spif_o() { rm -f "$work/s.gpg"; spif encrypt -r "$fpr" -o "$work/s.gpg" "$work/w.ndjson"; }
t_gpg=$(seconds gpg_o)
t_enc=$(seconds spif_o)
printf '%-44s spif %8.3fs  %-22s %8.3fs  ratio %5.2f  (hashed, synced, registered; no goal)\n' \
	"encrypt 100 MB -o FILE" "$t_enc" "gpg -z0 -e -o; sync" "$t_gpg" "$(echo "$t_enc / $t_gpg" | bc -l)"
spif-gen --rows "$ROWS" --columns narrow -o "$work/n.csv" 2>/dev/null
spif ingest --purpose bench -o "$work/n.ndjson" "$work/n.csv" 2>/dev/null
rm -f "$work/n.csv" "$work"/*.gpg
sync
# alternating, medians of 5: spif seals on two threads, so a core taken
# by something else costs it more than gpg
read -r m_fld m_gpg _ _ < <(median_pair 5 spif encrypt --fields 受給者の個人番号,扶養親族1_個人番号 -r "$fpr" \
	"$work/n.ndjson" -- gpg --batch -z0 --encrypt -r "$fpr" -o - "$work/n.ndjson")
t_fld=$(ns "$m_fld")
t_gpg=$(ns "$m_gpg")
printf 'encrypt --fields data: %d records, %d MB\n' "$ROWS" $(( $(stat -c %s "$work/n.ndjson") / 1000000 ))
report "encrypt --fields, 2 fields of $ROWS records" "$t_fld" "gpg -z0 --encrypt (all)" "$t_gpg" 2
s=$(date +%s.%N)
for v in $(head -50 "$work/n.ndjson" | grep -o '"受給者の個人番号":"[0-9]*"' | cut -d'"' -f4); do
	printf '%s' "$v" | gpg --batch -z0 --encrypt -r "$fpr" > /dev/null 2>&1
done
e=$(date +%s.%N)
t_one=$(echo "($e - $s) / 50" | bc -l)
t_all=$(echo "$t_one * 2 * $ROWS" | bc -l)
ratio=$(echo "$t_all / $t_fld" | bc -l)
printf '%-44s spif %8.3fs  %-22s %8.0fs  speed-up %6.0fx  goal >= 100  %s\n' \
	"encrypt --fields vs gpg once per value" "$t_fld" "gpg x $((2 * ROWS)) (est.)" "$t_all" "$ratio" \
	"$([ "$(echo "$ratio >= 100" | bc -l)" = 1 ] && echo ok || echo MISSED)"
rm -f "$work/n.ndjson" "$work/w.ndjson" "$work/w.csv" "$work/empty" "$work"/*.gpg
# 7. retention: "retain due" over a catalog of 1,000,000 files against one
#    of 1,000 (the same 100 due in each; the rest disposed years ago or due
#    in years to come), which an index range makes about equal; then a purge
#    of 2,000 vault-only files, each crypto-erased and certified; then the
#    retention property test, longer than make check runs it.
FILES=${BENCH_FILES:-1000000}
"$bb/retain-fill" files "$work/r1k" 1000 100
"$bb/retain-fill" files "$work/r1m" "$FILES" 100
printf 'retention catalogs: 1,000 files %d MB, %d files %d MB\n' $(( $(stat -c %s "$work/r1k/catalog.db") / 1000000 )) \
	"$FILES" $(( $(stat -c %s "$work/r1m/catalog.db") / 1000000 ))
t_1k=$(SPIF_HOME="$work/r1k" REPEAT=3 seconds spif retain due)
t_1m=$(SPIF_HOME="$work/r1m" REPEAT=3 seconds spif retain due)
report "retain due, $FILES files (100 due)" "$t_1m" "same, 1,000 files" "$t_1k" 10
rm -rf "$work/r1k" "$work/r1m"
"$bb/retain-fill" vault "$work/rv" 2000
sync
s=$(date +%s.%N)
SPIF_HOME="$work/rv" spif retain purge > "$work/purge.out" 2> "$work/purge.err" ||
	echo "bench: retain purge failed: $(tail -1 "$work/purge.err")" >&2
e=$(date +%s.%N)
n=$(grep -c ' disposed DC-' "$work/purge.out" || true)
t=$(echo "$e - $s" | bc -l)
rate=$(echo "$n / $t" | bc -l)
printf '%-44s spif %8.3fs  %6.0f certified disposals/s              goal >= 1000/s %s\n' \
	"retain purge, $n vault files (crypto-erase)" "$t" "$rate" \
	"$([ "$(echo "$rate >= 1000" | bc -l)" = 1 ] && echo ok || echo MISSED)"
SPIF_HOME="$work/rv" spif catalog verify > /dev/null || echo "bench: catalog verify failed after the purge" >&2
rm -rf "$work/rv"
ops=${BENCH_PROPERTY_OPS:-200000}
"$bb/test_retention" "$ops" > "$work/prop.tap" 2>&1 || echo "bench: the property test exited non-zero" >&2
bad=$(grep -c '^not ok' "$work/prop.tap" || true)
printf 'retention property test: %s\n' "$(sed -n 's/^# \([0-9]* operations.*\)/\1/p' "$work/prop.tap")"
printf '%-44s %d checks failed  (zero held, early or compliance-shortened disposals)  %s\n' \
	"retention property test, $ops operations" "$bad" "$([ "$bad" = 0 ] && echo ok || echo MISSED)"

# 8. memory: ingest's peak RSS at 100k and 1M rows with the same persons.
if [ -x /usr/bin/time ]; then
	spif-gen --rows 100000 --persons 1000 -o "$work/s.csv" 2>/dev/null
	spif-gen --rows $ROWS --persons 1000 -o "$work/l.csv" 2>/dev/null
	m1=$(/usr/bin/time -f %M spif ingest --purpose m "$work/s.csv" 2>&1 >/dev/null | tail -1)
	m2=$(/usr/bin/time -f %M spif ingest --purpose m "$work/l.csv" 2>&1 >/dev/null | tail -1)
	echo "memory: ingest peak RSS ${m1} KB at 100k rows, ${m2} KB at $ROWS rows (same 1000 persons)"
fi

# 9. export: the $ROWS-row file from the vault to one recipient (one
#    OpenPGP message of a tar of a BagIt bag: SHA-256 and SHA-512 of the
#    records, the ledger, the copy registered) against the hand-made way
#    on the same plaintext, the records already decrypted into a directory:
#    tar -cf - DIR | gpg -z0 -e -r X > out, then sha256sum of the records
#    (what a manifest needs): at most 1.0x; and against a ZIP of the same
#    directory with AES-256 (bsdtar, stored, no compression): at least 3x
#    faster.  Beside them gpg -z0 -e alone on the same plaintext, file
#    to file: the floor of an export that has gpg encrypt (on 2 cores it
#    is above bsdtar's time / 3, and so is the CPU the bag needs in any
#    case over 2 cores: SHA-512 and SHA-256 of the payload, SHA-256 of
#    the archive, OpenPGP's CFB and SHA-1, writing the output).  spif and
#    gpg alone: the median of 3 alternating runs; the peers best of
#    $REPEAT.  Then the peak RSS at 100,000 rows and at $ROWS, which one
#    streaming pass keeps flat.
rm -rf "$SPIF_HOME"
spif-gen --rows "$ROWS" --persons $((ROWS * 98 / 100)) -o "$work/x.csv" 2>/dev/null
spif ingest --purpose bench --store --print-id - < "$work/x.csv" > /dev/null 2>&1
spif-gen --rows 100000 -o "$work/x.csv" 2>/dev/null
spif ingest --purpose bench --store --print-id - < "$work/x.csv" > /dev/null 2>&1
rm -f "$work/x.csv"
mkdir -p "$work/plain"
spif vault cat F000001 > "$work/plain/F000001.ndjson" 2>/dev/null
printf 'export data: %d records, %d MB of NDJSON in the vault\n' "$ROWS" \
	$(( $(stat -c %s "$work/plain/F000001.ndjson") / 1000000 ))
sync
spif_export() {
	rm -f "$work/ex.gpg"
	spif export --file F000001 -r "$fpr" --to-org bench --basis bench --reason bench -o "$work/ex.gpg"
}
by_hand() {
	rm -f "$work/hand.gpg"
	tar -cf - -C "$work" plain | gpg --batch -z0 --encrypt -r "$fpr" -o "$work/hand.gpg" &&
		sha256sum "$work/plain/F000001.ndjson"
}
# the same bag as a password ZIP (--zip-aes256): against bsdtar's ZIP of
# the plaintext, the like for like (no gpg on either side)
spif_zip() {
	rm -f "$work/ex.zip"
	spif export --zip-aes256 --passphrase-file "$work/zip.pw" --file F000001 --to-org bench --basis bench \
		--reason bench -o "$work/ex.zip"
}
printf 'bench password 12345\n' > "$work/zip.pw"
zip_aes() {
	rm -f "$work/z.zip"
	bsdtar --format zip --options zip:compression=store,zip:encryption=aes256 --passphrase bench \
		-cf "$work/z.zip" -C "$work" plain
}
# gpg alone, the plaintext file to a file: the floor of any export that
# has gpg encrypt, set beside bsdtar's time / 3
gpg_alone() {
	rm -f "$work/alone.gpg"
	gpg --batch -z0 --encrypt -r "$fpr" -o "$work/alone.gpg" "$work/plain/F000001.ndjson"
}
# spif and gpg alone vary by a fifth from run to run here: the median of
# 3 alternating runs each; the slower peers once (best of $REPEAT)
t_exs=() t_alones=()
for _ in 1 2 3; do
	t_alones+=("$(REPEAT=1 seconds gpg_alone)")
	rm -f "$work/alone.gpg"
	t_exs+=("$(REPEAT=1 seconds spif_export)")
done
t_ex=$(median3 "${t_exs[@]}") t_alone=$(median3 "${t_alones[@]}")
t_hand="" t_zip="" t_sz=""
for _ in $(seq "$REPEAT"); do
	t=$(REPEAT=1 seconds by_hand); [ -z "$t_hand" ] || [ "$(echo "$t < $t_hand" | bc -l)" = 1 ] && t_hand=$t
	rm -f "$work/hand.gpg"
	t=$(REPEAT=1 seconds zip_aes); [ -z "$t_zip" ] || [ "$(echo "$t < $t_zip" | bc -l)" = 1 ] && t_zip=$t
	rm -f "$work/z.zip"
	t=$(REPEAT=1 seconds spif_zip); [ -z "$t_sz" ] || [ "$(echo "$t < $t_sz" | bc -l)" = 1 ] && t_sz=$t
	rm -f "$work/ex.zip"
done
spif export verify "$work/ex.gpg" > /dev/null 2>&1 || echo "bench: the export does not verify" >&2
report "export $ROWS rows (vault -> OpenPGP BagIt), median of 3" "$t_ex" "tar | gpg -z0; sha256sum" "$t_hand" 1.0
ratio=$(echo "$t_zip / $t_ex" | bc -l)
printf '%-44s spif %8.3fs  %-22s %8.3fs  speed-up %5.2fx  goal >= 3    %s\n' \
	"export $ROWS rows vs ZIP AES-256 (store)" "$t_ex" "bsdtar zip aes256" "$t_zip" "$ratio" \
	"$([ "$(echo "$ratio >= 3" | bc -l)" = 1 ] && echo ok || echo MISSED)"
if [ "$(echo "$t_alone > $t_zip / 3" | bc -l)" = 1 ]; then
	why="above it: no export that has gpg encrypt can be 3x here"
else
	why="below it: 3x is within gpg's reach here"
fi
printf '%-44s gpg %9.3fs  %-22s %8.3fs  (%s)\n' "  floor: gpg -z0 -e, file to file, median of 3" "$t_alone" \
	"bsdtar zip aes256 / 3" "$(echo "$t_zip / 3" | bc -l)" "$why"
printf '%-44s spif %8.3fs  %-22s %8.3fs  ratio %5.2f  (like for like; no goal)\n' \
	"export $ROWS rows --zip-aes256" "$t_sz" "bsdtar zip aes256" "$t_zip" "$(echo "$t_sz / $t_zip" | bc -l)"
rm -rf "$work/plain" "$work/ex.gpg" "$work/zip.pw"
if [ -x /usr/bin/time ]; then
	m1=$(/usr/bin/time -f %M spif export --file F000002 -r "$fpr" --to-org b --basis b --reason b \
		-o "$work/m1.gpg" 2>&1 >/dev/null | tail -1)
	m2=$(/usr/bin/time -f %M spif export --file F000001 -r "$fpr" --to-org b --basis b --reason b \
		-o "$work/m2.gpg" 2>&1 >/dev/null | tail -1)
	m3=$(/usr/bin/time -f %M spif export --file F000001 -r "$fpr" --to csv --output-encoding cp932 --redact \
		--to-org b --basis b --reason b -o "$work/m3.gpg" 2>&1 >/dev/null | tail -1)
	rm -f "$work"/m?.gpg
	echo "memory: export peak RSS ${m1} KB at 100000 rows, ${m2} KB at $ROWS rows (${m3} KB redacted to CP932 CSV)"
fi

# 10. a disclosure request (開示請求): one person's records searched in 10
#     vault files of 100,000 rows each (every value, the detector's
#     normalised view), bagged with the files' access history, encrypted
#     and entered in the ledger, against spif vault cat of the same files
#     into /dev/null: at most 1.5x.  Alternating, medians of 5.
rm -rf "$SPIF_HOME"
SUBJ_ROWS=${BENCH_SUBJECT_ROWS:-100000}
for i in $(seq 10); do
	spif-gen --rows "$SUBJ_ROWS" --seed "$i" --forms mixed --text-numbers -o "$work/s.csv" 2>/dev/null
	spif ingest --purpose bench --store --print-id - < "$work/s.csv" > /dev/null 2>&1
done
rm -f "$work/s.csv"
# the person: the first 受給者 of the fifth file (their number in a file, never on argv)
{ spif vault cat F000005 2>/dev/null || true; } | head -1 | grep -o '"受給者の個人番号":"[^"]*"' | cut -d'"' -f4 > "$work/subject"
printf 'disclosure data: 10 vault files of %d rows, %d MB of NDJSON\n' "$SUBJ_ROWS" \
	$(( $(du -sk "$SPIF_HOME/vault" | cut -f1) / 1000 ))
cat_all() { for i in $(seq -w 1 10); do spif vault cat "F0000$i" || return 1; done; }
subject() {
	rm -f "$work/subj.gpg"
	spif export --subject-file "$work/subject" -r "$fpr" --reason bench -o "$work/subj.gpg"
}
read -r m_subj m_cat b_subj b_cat < <(median_pair 5 subject -- cat_all)
report "disclosure request, 10 x $SUBJ_ROWS rows, median of 5" "$(ns "$m_subj")" "spif vault cat > null" \
	"$(ns "$m_cat")" 1.5
spif export verify "$work/subj.gpg" > /dev/null 2>&1 || echo "bench: the disclosure does not verify" >&2
rm -f "$work/subj.gpg" "$work/subject"
