#!/usr/bin/env bats
# harden.bats - what a run leaves behind when it is killed.

load helper

setup_file() {
	# one large source for the killed runs: about 170 MB of CSV, over a
	# gigabyte of records, so that a run is still writing when killed
	spif-gen --rows 300000 -o "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null
}

setup() {
	setup_home
	mkdir "$D/out"
}

teardown() {
	teardown_gpg
}

# kill_mid_write PID DIR: SIGKILL PID once it has written data into a file
# in DIR (writing_into).  Fails when the run ended first.
kill_mid_write() {
	for _ in $(seq 1200); do
		kill -0 "$1" 2>/dev/null || break
		if writing_into "$1" "$2"; then
			kill -KILL "$1"
			wait "$1" 2>/dev/null || true
			return 0
		fi
		sleep 0.05
	done
	echo "the run ended before it was seen writing into $2" >&2
	return 1
}

@test "ingest -o killed mid-write (SIGKILL) leaves no file beside the target" {
	spif ingest --purpose 個人住民税 -o "$D/out/out.ndjson" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$D/out"
	[ -z "$(ls -A "$D/out")" ]
}

@test "redact -o killed mid-write (SIGKILL) leaves no file beside the target" {
	spif redact -o "$D/out/red.csv" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$D/out"
	[ -z "$(ls -A "$D/out")" ]
}

@test "ingest --store killed while writing the vault copy leaves nothing in the vault" {
	spif ingest --purpose 個人住民税 --store --print-id "$BATS_FILE_TMPDIR/big.csv" >/dev/null 2>&1 3>&- &
	kill_mid_write $! "$SPIF_HOME/vault"
	[ -z "$(ls -A "$SPIF_HOME/vault")" ]
}
