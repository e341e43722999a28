#!/usr/bin/env bats
# Progress on stderr for redact, encrypt, vault cat and export, as ingest
# and purge have it (lib/progress.h): a line rewritten with '\r' when
# stderr is a terminal (script(1) gives one) and the work runs past the
# delay (SPIF_PROGRESS_DELAY_MS=0 here), cleared at the end; nothing when
# stderr is not a terminal, however long the work.
load helper

setup_file() {
	gnupg_setup
	R=$(gpg_key r) || return 1
	export R
}

teardown_file() {
	gnupg_teardown
}

setup() {
	setup_home
	command -v script > /dev/null || skip "no script(1)"
	mkdir -p "$D/data"
	gen --rows 3000 --columns narrow -o "$D/data/big.csv"
}

teardown() {
	teardown_gpg
}

# on_tty OUT CMD: run CMD with a terminal for stdin/stdout/stderr, all of
# it into OUT; the progress line is shown at once
on_tty() {
	local out=$1
	shift
	SPIF_PROGRESS_DELAY_MS=0 script -qec "$*" /dev/null > "$out" 2>&1
}

# shown OUT PROG UNIT: a progress line of PROG, then the line cleared
shown() {
	grep -q $'\r'"$2: [0-9]* $3" "$1" || { echo "no progress of $2 in: $(cat -v "$1")"; return 1; }
	grep -q $'\r\e\\[K' "$1"
}

@test "progress: redact and encrypt (whole stream and fields) on a terminal; none off it" {
	on_tty "$D/r.out" "spif redact --format csv -o '$D/r.csv' '$D/data/big.csv'"
	shown "$D/r.out" spif-redact records
	[ -s "$D/r.csv" ]
	on_tty "$D/e.out" "spif encrypt -r '$R' -o '$D/e.gpg' '$D/data/big.csv'"
	shown "$D/e.out" spif-encrypt bytes
	gpg --batch --quiet --decrypt "$D/e.gpg" 2>/dev/null | cmp - "$D/data/big.csv"
	on_tty "$D/f.out" "spif encrypt -r '$R' --fields 受給者の個人番号 -o '$D/f.csv' '$D/data/big.csv'"
	shown "$D/f.out" spif-encrypt bytes
	# stderr not a terminal: not a '\r'
	SPIF_PROGRESS_DELAY_MS=0 spif redact --format csv -o "$D/r2.csv" "$D/data/big.csv" 2> "$D/err"
	SPIF_PROGRESS_DELAY_MS=0 spif encrypt -r "$R" -o "$D/e2.gpg" "$D/data/big.csv" 2>> "$D/err"
	! grep -q $'\r' "$D/err" || false
}

@test "progress: vault cat and export on a terminal; none off it" {
	spif ingest --purpose 個人住民税の賦課 --store --print-id - < "$D/data/big.csv" > /dev/null 2>&1
	on_tty "$D/v.out" "spif vault cat F000001 > '$D/v.ndjson'"
	shown "$D/v.out" "spif-vault: cat" bytes
	[ "$(wc -l < "$D/v.ndjson")" -eq 3000 ]
	on_tty "$D/x.out" "spif export --to-org 印刷委託先 --basis 番号法第19条第6号 --reason 印刷 --file F000001 \
		-r '$R' -o '$D/x.gpg'"
	shown "$D/x.out" spif-export bytes
	[ -s "$D/x.gpg" ]
	SPIF_PROGRESS_DELAY_MS=0 spif vault cat F000001 2> "$D/err" > /dev/null
	SPIF_PROGRESS_DELAY_MS=0 spif export --to-org 印刷委託先 --basis 番号法第19条第6号 --reason 印刷 \
		--file F000001 -r "$R" -o "$D/x2.gpg" 2>> "$D/err" > /dev/null
	! grep -q $'\r' "$D/err" || false
}
