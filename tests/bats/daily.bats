#!/usr/bin/env bats
# A month of an administrator's daily work: times in Japan's calendar
# whatever the host's clock, tables that line up with kana, and no dead
# ends (lost copies, preflight checks, duplicates, unrecognised number
# columns, retention by default, the log of one file, progress).
load helper

setup() {
	setup_home
	mkdir -p "$D/data"
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
}

teardown() {
	teardown_gpg
}

sql() { sqlite3 "$SPIF_HOME/catalog.db" "$1"; }

# ---- 1. local time, legal dates ---------------------------------------------

# A file with a hold placed and a certificate issued at 23:30 UTC on 31
# March 2027: 08:30 JST on 1 April, fiscal year 2027.
march_31_night() {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 "$D/data/a.csv" > /dev/null 2>&1
	spif retain hold F000001 --reason 監査 > /dev/null
	sql "UPDATE holds SET placed = '2027-03-31T23:30:00.000Z'"
}

@test "time: a hold placed at 08:30 JST on 1 April shows as placed 1 April on a UTC host" {
	march_31_night
	TZ=UTC run --separate-stderr spif retain holds
	[ "$status" -eq 0 ]
	[[ "$output" == *" 2027-04-01 "* ]]
	[[ "$output" != *"2027-03-31"* ]]
	# JSON keeps UTC
	TZ=UTC run --separate-stderr spif retain holds --json
	[[ "$output" == *'"placed":"2027-03-31T23:30:00.000Z"'* ]]
}

@test "time: the fiscal-year report puts a 1 April (JST) hold and certificate in the new year" {
	march_31_night
	vault_files 1
	spif shred --file F000002 > /dev/null 2>&1
	[ "$(sql "SELECT COUNT(*) FROM certificates")" -eq 1 ]
	sql "DROP TRIGGER certificates_no_update; UPDATE certificates SET issued = '2027-03-31T23:40:00.000Z'"
	sql "UPDATE holds SET released = '2027-03-31T23:45:00.000Z', released_by = 'x', release_reason = 'y'"
	TZ=UTC run --separate-stderr spif retain report --fiscal-year 2027
	[ "$status" -eq 0 ]
	[[ "$output" == *"(1 certificate)"* ]]
	[[ "$output" == *"  2027-04-01 DC-"* ]]
	[[ "$output" == *"placed 2027-04-01 by"*"released 2027-04-01 by"* ]]
	TZ=UTC run --separate-stderr spif retain report --fiscal-year 2026
	[[ "$output" == *"(0 certificates)"* ]]
}

@test "time: catalog log, cert ls and show print local time with its zone; JSON stays UTC" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 "$D/data/a.csv" > /dev/null 2>&1
	sql "DROP TRIGGER IF EXISTS events_no_update"
	sql "UPDATE events SET time = '2027-03-31T23:30:00.000Z' WHERE seq = 1"
	sql "UPDATE files SET created = '2027-03-31T23:30:00.000Z'"
	TZ=UTC run --separate-stderr spif catalog log
	[[ "$output" == *"2027-04-01 08:30:00 JST"* ]]
	TZ=UTC run --separate-stderr spif catalog log --json
	[[ "$output" == *'"time":"2027-03-31T23:30:00.000Z"'* ]]
	TZ=UTC run --separate-stderr spif catalog show F000001
	[[ "$output" == *"created:       2027-04-01 08:30:00 JST"* ]]
	# another zone in spif.conf: the host's TZ still does not matter
	printf 'timezone = UTC\n' >> "$SPIF_CONF"
	TZ=Asia/Tokyo run --separate-stderr spif catalog show F000001
	[[ "$output" == *"created:       2027-03-31 23:30:00 UTC"* ]]
}

@test "time: an unknown timezone in spif.conf is one line, exit 65, catalog unchanged" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 "$D/data/a.csv" > /dev/null 2>&1
	before=$(catalog_state)
	printf 'timezone = Mars/Olympus\n' >> "$SPIF_CONF"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"timezone Mars/Olympus: not a known time zone"* ]]
	printf 'timezone = ../../etc/passwd\n' >> "$SPIF_CONF"
	run --separate-stderr spif retain due
	[ "$status" -eq 65 ]
	sed -i '/^timezone/d' "$SPIF_CONF"
	[ "$(catalog_state)" = "$before" ]
}

# ---- 2. tables with kana and kanji --------------------------------------------

@test "tables: catalog ls lines up purposes in kanji and half-width katakana" {
	gen --rows 3 -o "$D/data/a.csv"
	gen --rows 3 --seed 2 -o "$D/data/b.csv"
	spif ingest --purpose 個人住民税の賦課 --label a "$D/data/a.csv" > /dev/null 2>&1
	spif ingest --purpose ｼﾞｭｳﾐﾝｾﾞｲ --label b "$D/data/b.csv" > /dev/null 2>&1
	run --separate-stderr spif catalog ls
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	# the label column starts at the same display column on every row
	cols=$(printf '%s\n' "$output" | tail -n +2 | while IFS= read -r l; do
		pre=${l% *}; printf '%s' "$pre" | python3 -c 'import sys,unicodedata as u
s=sys.stdin.read(); print(sum(2 if u.east_asian_width(c) in "WF" else 1 for c in s))'; done | sort -u)
	[ "$(printf '%s\n' "$cols" | wc -l)" -eq 1 ]
}
