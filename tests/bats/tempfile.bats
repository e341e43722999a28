#!/usr/bin/env bats
# tempfile.bats - outputs written where the file system has no O_TMPFILE:
# the hidden temporary is in the catalog before it exists, and what a
# killed run leaves is destroyed by catalog check and by the next run.
#
# A bindfs (FUSE) mount refuses O_TMPFILE (EOPNOTSUPP), as vfat and some
# network file systems do; mounting it needs root and /dev/fuse.

load helper

setup_file() {
	[ "$(id -u)" -eq 0 ] && command -v bindfs >/dev/null || return 0
	# large enough that a run is still writing when it is killed
	spif-gen --rows 300000 -o "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null
}

setup() {
	setup_home
	[ "$(id -u)" -eq 0 ] || skip "mounting bindfs (a file system without O_TMPFILE) needs root"
	command -v bindfs >/dev/null || skip "bindfs is not installed (make deps-test)"
	[ -c /dev/fuse ] || skip "no /dev/fuse: FUSE is not available here"
	mkdir "$D/src" "$D/mnt" "$D/out"
	bindfs "$D/src" "$D/mnt" || skip "bindfs cannot mount here"
	MNT=$(realpath "$D/mnt")
	gen --rows 40 -o "$D/small.csv"
}

teardown() {
	if [ -n "${MNT:-}" ]; then
		fusermount -u "$MNT" 2>/dev/null || umount "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	teardown_gpg
}

rows() {
	sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM tempfiles ORDER BY path"
}

# The one hidden file in src (bindfs shows src's files under mnt).
hidden() {
	ls -A "$D/src" | grep '^\..*\.spif-......$'
}

@test "tempfile: bindfs refuses O_TMPFILE (what the rest of this suite relies on)" {
	run spif ingest --purpose 個人住民税 -o "$D/mnt/a.ndjson" "$D/small.csv"
	[ "$status" -eq 0 ]
	# the fallback was taken: its name was recorded, then dropped
	[ "$(spif catalog log --json | grep -c '"action":"tempfile.record"')" -eq 1 ]
	[ -z "$(rows)" ]
	[ -z "$(hidden)" ]
	[ -s "$D/src/a.ndjson" ]
}

@test "tempfile: ingest -o killed on bindfs: the hidden file is in the catalog; check destroys it, a rerun finds nothing" {
	# the first run: no catalog until the input has proved good, so the
	# still empty temporary is recorded then, before a record is written
	spif ingest --purpose 個人住民税 -o "$D/mnt/out.ndjson" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$MNT"
	h=$(hidden)
	[ -n "$h" ]
	[ -s "$D/src/$h" ]
	grep -q '個人番号\|"@file"' "$D/src/$h"
	[ "$(rows)" = "$MNT/$h" ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT target, command FROM tempfiles")" = "$MNT/out.ndjson|ingest" ]

	run --separate-stderr spif catalog check
	[ "$status" -eq 1 ]
	[[ "$output" == *"leftover of a killed spif ingest"*"writing $MNT/out.ndjson: destroyed: $MNT/$h"* ]]
	[[ "$stderr" == *"check: 1 hidden output of a killed run found (see above)"* ]]
	[ ! -e "$D/src/$h" ]
	[ -z "$(ls -A "$D/src")" ]
	[ -z "$(rows)" ]
	spif catalog log --json | grep '"action":"tempfile.destroy"' | grep -q '"fate":"destroyed"'
	spif catalog verify >/dev/null

	run --separate-stderr spif catalog check
	[ "$status" -eq 0 ]
	[[ "$output" != *leftover* ]]
	run spif catalog check --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"leftovers":[]'* ]]
}

@test "tempfile: the next ingest destroys what a killed ingest -o left, and says so" {
	spif ingest --purpose 個人住民税 -o "$D/out/first.ndjson" "$D/small.csv" 2>/dev/null
	# a catalog exists: recorded before the file is created
	spif ingest --purpose 個人住民税 -o "$D/mnt/out.ndjson" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$MNT"
	h=$(hidden)
	[ -s "$D/src/$h" ]
	[ "$(rows)" = "$MNT/$h" ]
	gen --rows 30 -o "$D/other.csv"
	run --separate-stderr spif ingest --purpose 個人住民税 -o "$D/mnt/second.ndjson" "$D/other.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"note: destroyed $MNT/$h, left by a killed spif ingest"* ]]
	[ ! -e "$D/src/$h" ]
	[ -z "$(rows)" ]
	[ -s "$D/src/second.ndjson" ]
	spif catalog verify >/dev/null
}

@test "tempfile: a failing ingest -o on bindfs leaves neither file nor row" {
	spif ingest --purpose 個人住民税 "$D/small.csv" >/dev/null 2>&1
	# the same content again: refused after the output was opened
	run --separate-stderr spif ingest --purpose 個人住民税 -o "$D/mnt/again.ndjson" "$D/small.csv"
	[ "$status" -eq 65 ]
	[ -z "$(ls -A "$D/src")" ]
	[ -z "$(rows)" ]
	[ "$(spif catalog log --json | grep -c '"action":"tempfile.record"')" -eq 1 ]
	[ "$(spif catalog log --json | grep -c '"action":"tempfile.forget"')" -eq 1 ]
	spif catalog verify >/dev/null
}

@test "tempfile: redact -o killed on bindfs is recorded and destroyed by catalog check" {
	spif ingest --purpose 個人住民税 "$D/small.csv" >/dev/null 2>&1
	spif redact -o "$D/mnt/red.csv" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$MNT"
	h=$(hidden)
	[ -s "$D/src/$h" ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path, command FROM tempfiles")" = "$MNT/$h|redact" ]
	run spif catalog check
	[ "$status" -eq 1 ]
	[[ "$output" == *"leftover of a killed spif redact"*"destroyed: $MNT/$h"* ]]
	[ -z "$(ls -A "$D/src")" ]
	[ -z "$(rows)" ]
}

@test "tempfile: redact -o and encrypt -o on bindfs, succeeding and failing, leave no row" {
	spif ingest --purpose 個人住民税 "$D/small.csv" >/dev/null 2>&1
	spif redact -o "$D/mnt/red.csv" "$D/small.csv" 2>/dev/null
	[ -s "$D/src/red.csv" ]
	# a field the input lacks: refused once the output is open
	run --separate-stderr spif redact --field nosuchfield -o "$D/mnt/red2.csv" "$D/small.csv"
	[ "$status" -eq 64 ]
	[ ! -e "$D/src/red2.csv" ]
	printf 'secret passphrase\n' >"$D/pass"
	chmod 600 "$D/pass"
	run --separate-stderr spif encrypt --passphrase-file "$D/pass" -o "$D/mnt/enc.gpg" "$D/small.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -s "$D/src/enc.gpg" ]
	[ -z "$(rows)" ]
	[ -z "$(hidden)" ]
	[ "$(spif catalog log --json | grep -c '"action":"tempfile.record"')" -ge 3 ]
	spif catalog verify >/dev/null
}

@test "tempfile: a sweep leaves alone the hidden file of a run still writing" {
	spif ingest --purpose 個人住民税 "$D/small.csv" >/dev/null 2>&1
	spif ingest --purpose 個人住民税 -o "$D/mnt/live.ndjson" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	pid=$!
	for _ in $(seq 1200); do
		writing_into "$pid" "$MNT" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	h=$(hidden) || true
	run spif catalog check
	[[ "$output" != *leftover* ]]
	wait "$pid"
	[ -s "$D/src/live.ndjson" ]
	[ -z "$(rows)" ]
	[ -z "$(hidden)" ]
	[ -n "$h" ]
}

@test "tempfile: a row naming a file that is not a spif temporary destroys nothing" {
	spif ingest --purpose 個人住民税 "$D/small.csv" >/dev/null 2>&1
	cp "$D/small.csv" "$D/src/keep.csv"
	catalog_sql "INSERT INTO tempfiles VALUES('$MNT/keep.csv', '$MNT/x', 999999999, 0, 'now', 'ingest')"
	before=$(sha256sum <"$D/src/keep.csv")
	run spif catalog check
	[ "$status" -eq 1 ]
	[[ "$output" == *"not destroyed: $MNT/keep.csv: not a name spif gives"* ]]
	[ "$(sha256sum <"$D/src/keep.csv")" = "$before" ]
	[ "$(rows)" = "$MNT/keep.csv" ]
}

@test "tempfile: outputs where O_TMPFILE works record nothing" {
	spif ingest --purpose 個人住民税 -o "$D/out/a.ndjson" "$D/small.csv" 2>/dev/null
	spif redact -o "$D/out/r.csv" "$D/small.csv" 2>/dev/null
	spif ingest --purpose 個人住民税 -o "$D/out/b.ndjson" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$D/out"
	[ -z "$(ls -A "$D/out" | grep spif-)" ]
	[ "$(spif catalog log --json | grep -c '"action":"tempfile')" -eq 0 ]
	[ -z "$(rows)" ]
}
