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

# reads through the sqlite3 shell; changes through spif's own connection
# (the audit log's row triggers refuse any other, see spif-catalog(5))
sql() {
	case "$1" in
	SELECT* | "PRAGMA user_version" | "PRAGMA foreign_key_check") sqlite3 "$SPIF_HOME/catalog.db" "$1" ;;
	*) catalog_sql "$1" ;;
	esac
}

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

# ---- 3. no dead ends: copies gone outside spif ---------------------------------

@test "check: a copy deleted by hand is found; copy lost settles it; the certificate says lost" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/a.csv" > /dev/null 2>&1
	run --separate-stderr spif catalog check
	[ "$status" -eq 0 ]
	[[ "$output" == "2 copies checked: 0 missing, 0 changed or unreadable" ]]
	rm "$D/data/a.csv"
	# verify looks at the log, check at the disk
	spif catalog verify > /dev/null
	run --separate-stderr spif catalog check
	[ "$status" -eq 1 ]
	one_line_stderr
	[[ "$output" == *"copy 1 of F000001 (source): missing: $D/data/a.csv"* ]]
	run --separate-stderr spif catalog check --json
	[ "$status" -eq 1 ]
	[[ "$output" == *'"missing":1'*'"copy":1,"file":"F000001","kind":"source"'*'"finding":"missing"'* ]]
	# settled: it held numbers, so its file is held (an incident)
	run --separate-stderr spif catalog copy lost 1 --reason "USBメモリ紛失 $(valid_number 12345678901)"
	[ "$status" -eq 0 ]
	[[ "$output" == *"copy 1 of F000001 is lost"*"held by H000001"* ]]
	! spif catalog log --json | grep -q "$(valid_number 12345678901)" || false
	run --separate-stderr spif catalog check
	[ "$status" -eq 0 ]
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 77 ]
	spif retain release H000001 --reason 調査済み
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 0 ]
	cert=$output
	run spif catalog cert show "$cert" --format json
	[[ "$output" == *'"state":"lost"'* && "$output" == *'USBメモリ紛失'* ]]
	run spif catalog show F000001
	[[ "$output" == *"state:         disposed"* && "$output" == *" lost "*"a.csv"* ]]
	spif catalog verify > /dev/null
}

@test "check: a changed copy and a broken vault file are reported; a redacted copy lost needs no hold" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/a.csv" 2> /dev/null |
		spif redact --to csv -o "$D/data/r.csv" 2> /dev/null
	echo x >> "$D/data/a.csv"
	printf 'garbage' > "$SPIF_HOME/vault/F000001-1.spv"
	run --separate-stderr spif catalog check
	[ "$status" -eq 1 ]
	[[ "$output" == *"(source): changed: $D/data/a.csv"* ]]
	[[ "$output" == *"(vault): not a vault file"* ]]
	id=$(spif catalog show F000001 --json | python3 -c 'import sys,json
print([c["id"] for c in json.load(sys.stdin)["copies"] if c["path"].endswith("r.csv")][0])')
	rm "$D/data/r.csv"
	run --separate-stderr spif catalog copy missing "$id" --reason 削除済み
	[ "$status" -eq 0 ]
	[[ "$output" != *"held by"* ]]
}

@test "copy lost: bad input is one line with its exit code, the catalog unchanged" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 "$D/data/a.csv" > /dev/null 2>&1
	before=$(catalog_state)
	run --separate-stderr spif catalog copy lost 1
	[ "$status" -eq 64 ]; one_line_stderr
	run --separate-stderr spif catalog copy lost x1 --reason r
	[ "$status" -eq 64 ]; one_line_stderr
	run --separate-stderr spif catalog copy gone 1 --reason r
	[ "$status" -eq 64 ]; one_line_stderr
	run --separate-stderr spif catalog copy lost 99 --reason r
	[ "$status" -eq 65 ]; one_line_stderr
	[[ "$stderr" == *"no copy 99 in the catalog"* ]]
	[ "$(catalog_state)" = "$before" ]
	spif catalog copy lost 1 --reason r > /dev/null
	before=$(catalog_state)
	run --separate-stderr spif catalog copy lost 1 --reason r
	[ "$status" -eq 65 ]; one_line_stderr
	[[ "$stderr" == *"copy 1 is already lost"* ]]
	[ "$(catalog_state)" = "$before" ]
}

@test "migration: a catalog from before lost copies keeps its copy ids and certificate links" {
	vault_files 2
	spif shred --file F000001 > /dev/null 2>&1
	cp "$SPIF_HOME/catalog.db" "$D/before.db"
	# take the schema back to version 4 (copies without 'lost')
	# (an older spif knew neither the operators nor the audit log's row
	# coverage: their tables and generated triggers go too)
	local trig
	trig=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT group_concat('DROP TRIGGER ' || name, '; ') FROM sqlite_master
	       WHERE type = 'trigger' AND name LIKE 'spif_row_%'")
	sqlite3 "$SPIF_HOME/catalog.db" "PRAGMA foreign_keys=OFF; BEGIN; $trig;
	     DROP INDEX certificates_event; DROP TABLE cert_proofs; DROP TABLE merkle; DROP TABLE pending_rows;
	     CREATE TABLE c4 AS SELECT * FROM copies; DROP TABLE copies;
	     CREATE TABLE copies(id INTEGER PRIMARY KEY AUTOINCREMENT, file_id INTEGER REFERENCES files(id),
	       kind TEXT NOT NULL CHECK (kind IN ('source','output','vault','encrypted','export','found')),
	       path TEXT NOT NULL, sha256 TEXT, size INTEGER, encrypted INTEGER NOT NULL DEFAULT 0,
	       created TEXT NOT NULL,
	       state TEXT NOT NULL DEFAULT 'present' CHECK (state IN ('present','disposing','disposed')),
	       details TEXT);
	     INSERT INTO copies SELECT * FROM c4; DROP TABLE c4;
	     CREATE INDEX copies_file ON copies(file_id); CREATE INDEX copies_path ON copies(path);
	     DROP TABLE schedule_purposes;
	     DROP TABLE approvals; DROP TABLE cert_cosignatures;
	     DROP INDEX events_time; DROP TABLE plan_entries; DROP TABLE plan_approvals;
	     DROP TABLE refusals; DROP TABLE grants; DROP TABLE operators;
	     DROP TABLE export_files; DROP TABLE exports; DROP TABLE media;
	     DROP TABLE incident_notes; DROP TABLE incident_files; DROP TABLE incidents;
	     ALTER TABLE holds DROP COLUMN kind;
	     DROP TABLE tempfiles; DROP TABLE checkpoints;
	     DELETE FROM meta WHERE key IN ('merkle_edge', 'checkpoint_last');
	     PRAGMA user_version = 4; COMMIT;"
	before=$(sql "SELECT id, file_id, state FROM copies ORDER BY id; SELECT * FROM certificate_copies;")
	spif catalog ls > /dev/null
	[ "$(sql "PRAGMA user_version")" -ge 5 ]
	[ "$(sql "SELECT id, file_id, state FROM copies ORDER BY id; SELECT * FROM certificate_copies;")" = "$before" ]
	[[ "$(sql "SELECT sql FROM sqlite_master WHERE name = 'copies'")" == *"'lost'"* ]]
	[ -z "$(sql "PRAGMA foreign_key_check")" ]
	# the log still records the checkpoint row the shred made (a real
	# version 4 had neither): put it back as it was, behind its trigger
	keep=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT sql FROM sqlite_schema WHERE name = 'spif_row_checkpoints_ins'")
	sqlite3 "$SPIF_HOME/catalog.db" "ATTACH '$D/before.db' AS b; DROP TRIGGER spif_row_checkpoints_ins;
		INSERT INTO checkpoints SELECT * FROM b.checkpoints; $keep;"
	spif catalog verify > /dev/null
	# new copies carry on from the old ids
	gen --rows 3 --seed 11 -o "$D/data/n.csv"
	spif ingest --purpose 個人住民税の賦課 "$D/data/n.csv" > /dev/null 2>&1
	[ "$(sql "SELECT MAX(id) FROM copies")" -eq 3 ]
}

# ---- catalog log: everything about one file, and filters ---------------------

@test "log: --file shows the file's certificate and copy events; --since, --until, --action filter" {
	vault_files 2
	spif shred --file F000001 > /dev/null 2>&1
	run --separate-stderr spif catalog log --file F000001
	[ "$status" -eq 0 ]
	[[ "$output" == *" ingest F000001"* ]]
	[[ "$output" == *" shred.start copy:1"* ]]
	[[ "$output" == *" certificate DC-"* ]]
	[[ "$output" == *" file.disposed F000001"* ]]
	[[ "$output" != *"F000002"* ]]
	run --separate-stderr spif catalog log --action shred --json
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'"action":"shred.start"'* ]]
	today=$(TZ=Asia/Tokyo date +%F)
	run --separate-stderr spif catalog log --since "$today" --until "$today" --action ingest
	[ "$(printf '%s\n' "$output" | grep -c ' ingest ')" -eq 2 ]
	run --separate-stderr spif catalog log --since 2999-01-01
	[ -z "$output" ]
	run --separate-stderr spif catalog log --until 2000-01-01 --json
	[ -z "$output" ]
}

@test "log: a bad filter is one line, exit 64, the catalog unchanged" {
	vault_files 1
	before=$(catalog_state)
	for a in "--since 2027-02-30" "--until yesterday" "--file X9" "--action"; do
		run --separate-stderr spif catalog log $a
		[ "$status" -eq 64 ] || { echo "$a: $status"; return 1; }
		one_line_stderr
	done
	[ "$(catalog_state)" = "$before" ]
}

# ---- every target checked before any is destroyed ----------------------------

# F000001: a vault copy and a source copy in a directory nobody may change
# (immutable: even root cannot rename or unlink in it, but can overwrite).
locked_source() {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store --received 2020-01-01 "$D/data/a.csv" > /dev/null 2>&1
	chattr +i "$D/data" 2>/dev/null || skip "no immutable attribute on this file system"
}

unlock_source() {
	chattr -i "$D/data" 2>/dev/null || true
}

@test "precheck: shred --file refuses before the vault copy is erased when the source cannot be unlinked" {
	locked_source
	before=$(catalog_state)
	run --separate-stderr spif shred --file F000001
	unlock_source
	[ "$status" -eq 77 ]
	one_line_stderr
	[[ "$stderr" == *"$D/data/a.csv: refused: no write and search permission on its directory"*"nothing was destroyed"* ]]
	[ "$(catalog_state)" = "$before" ]
	run spif catalog cert ls --json
	[ -z "$output" ]
	spif vault cat F000001 > /dev/null 2>&1
}

@test "precheck: --dry-run runs the same checks and says so (exit 1)" {
	locked_source
	run --separate-stderr spif shred --file F000001 --dry-run
	[ "$status" -eq 1 ]
	[[ "$output" == *"would refuse $D/data/a.csv: no write and search permission on its directory"* ]]
	# a purge's dry run too
	spif retain schedule add short --period 1y
	spif retain assign F000001 --schedule short > /dev/null 2>&1 ||
		spif retain assign F000001 --schedule short --reason 事務終了 > /dev/null
	run --separate-stderr spif retain purge --dry-run
	unlock_source
	[ "$status" -eq 1 ]
	[[ "$output" == *"would refuse F000001: $D/data/a.csv: no write and search permission"* ]]
	# unlocked, both would go
	run --separate-stderr spif retain purge --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"would dispose of F000001"* ]]
}

@test "precheck: a purge that fails on a file names it and every certificate in its summary" {
	spif retain schedule add short --period 1y
	vault_files 2 --received 2020-01-01 --schedule short
	gen --rows 3 --seed 7 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store --received 2020-01-01 --schedule short "$D/data/a.csv" > /dev/null 2>&1
	chattr +i "$D/data" 2>/dev/null || skip "no immutable attribute on this file system"
	run --separate-stderr spif retain purge
	unlock_source
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"F000003: not disposed:"*"refused"* ]]
	[[ "$stderr" == *"2 disposed, 0 redacted, 1 failed; certificates: DC-"*", DC-"* ]]
	# the vault copy of the refused file was not erased
	spif vault cat F000003 > /dev/null 2>&1
}

# ---- ingest: duplicates, unrecognised number columns, retention by default ----

@test "ingest: the same content as an active file is refused (65) unless --again --reason or --copy-of" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --label 給与支払報告書 "$D/data/a.csv" > /dev/null 2>&1
	cp "$D/data/a.csv" "$D/data/again.csv"
	before=$(catalog_state)
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 "$D/data/again.csv"
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"same content as F000001 (給与支払報告書); use --again --reason or --copy-of F000001" ]]
	[ "$(catalog_state)" = "$before" ]
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --again "$D/data/again.csv"
	[ "$status" -eq 64 ]; one_line_stderr
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --copy-of F000001 --store "$D/data/again.csv"
	[ "$status" -eq 64 ]; one_line_stderr
	gen --rows 3 --seed 9 -o "$D/data/other.csv"
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --copy-of F000001 "$D/data/other.csv"
	[ "$status" -eq 65 ]; one_line_stderr
	[[ "$stderr" == *"not the same content as F000001"* ]]
	[ "$(catalog_state)" = "$before" ]
	# another copy of the same file
	spif ingest --purpose 個人住民税の賦課 --copy-of F000001 "$D/data/again.csv" > /dev/null 2>&1
	[ "$(spif catalog ls --json | wc -l)" -eq 1 ]
	run spif catalog show F000001
	[[ "$output" == *"$D/data/again.csv"* ]]
	# or a second file, with the reason recorded
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --again --reason 再提出 --print-id "$D/data/again.csv"
	[ "$status" -eq 0 ]
	[ "$output" = F000002 ]
	spif catalog log --file F000002 --json | grep -q '"again":{"reason":"再提出","same_content_as":"F000001"}'
}

@test "ingest: a column of valid numbers under another name is named in a warning, never a value" {
	# 27 people, their numbers under a name no rule knows
	{
		echo "氏名,番号"
		for i in $(seq 100 126); do echo "住民$i,$(valid_number 12345678$i)"; done
	} > "$D/data/n.csv"
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --print-id "$D/data/n.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"column 番号: all 27 values are valid Individual Numbers, but it is not a number field"*"--number-field 番号"* ]]
	! grep -q "$(valid_number 12345678100)" <<< "$stderr" || false
	[ "$(spif catalog show F000001 --json | python3 -c 'import sys,json; print(json.load(sys.stdin)["persons"])')" -eq 0 ]
	# named, it is one: 27 persons
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --again --reason 番号欄指定 --number-field 番号 --print-id "$D/data/n.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"column 番号"* ]]
	[ "$(spif catalog show F000002 --json | python3 -c 'import sys,json; print(json.load(sys.stdin)["persons"])')" -eq 27 ]
}

@test "retention by default: a schedule bound to a purpose; without one, a warning and retain unscheduled" {
	gen --rows 3 -o "$D/data/a.csv"
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --print-id "$D/data/a.csv"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c 'F000001 has no retention schedule')" -eq 1 ]
	run --separate-stderr spif retain unscheduled
	[ "$status" -eq 0 ]
	[[ "$output" == *"F000001  active"*"個人住民税の賦課"* ]]
	run --separate-stderr spif retain schedule bind fuka-3y --purpose 個人住民税の賦課
	[ "$status" -eq 0 ]
	gen --rows 3 --seed 5 -o "$D/data/b.csv"
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --print-id "$D/data/b.csv"
	[[ "$stderr" != *"no retention schedule"* ]]
	run spif catalog show F000002 --json
	[[ "$output" == *'"schedule":"fuka-3y"'* ]]
	run --separate-stderr spif retain unscheduled --json
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'"id":"F000001"'* ]]
	spif catalog log --json | grep -q '"action":"schedule.bind"'
}

@test "schedule bind: bad input is one line with its exit code, the catalog unchanged" {
	vault_files 1
	before=$(catalog_state)
	run --separate-stderr spif retain schedule bind fuka-3y
	[ "$status" -eq 64 ]; one_line_stderr
	run --separate-stderr spif retain schedule bind nosuch --purpose x
	[ "$status" -eq 65 ]; one_line_stderr
	run --separate-stderr spif retain schedule bind fuka-3y --purpose x --json
	[ "$status" -eq 64 ]; one_line_stderr
	run --separate-stderr spif retain unscheduled extra
	[ "$status" -eq 64 ]; one_line_stderr
	[ "$(catalog_state)" = "$before" ]
}

# ---- progress on a terminal ---------------------------------------------------

@test "progress: a line on a terminal's stderr, cleared at the end; never when stderr is not a terminal" {
	command -v script > /dev/null || skip "no script(1)"
	gen --rows 3000 -o "$D/data/big.csv"
	SPIF_PROGRESS_DELAY_MS=0 script -qec "spif ingest --purpose 個人住民税の賦課 --print-id '$D/data/big.csv'" \
		/dev/null > "$D/tty.out" 2>&1
	grep -q $'\rspif-ingest: [0-9]* records, [0-9.]* MB' "$D/tty.out"
	grep -q $'\r\e\\[K' "$D/tty.out"
	grep -q 'F000001' "$D/tty.out"
	# not a terminal: no progress, however long it is told to wait
	SPIF_PROGRESS_DELAY_MS=0 spif ingest --purpose 個人住民税の賦課 --again --reason r --print-id "$D/data/big.csv" \
		2> "$D/err" > /dev/null
	! grep -q $'\r' "$D/err" || false
	# a short run on a terminal shows none either (the default 2 s)
	gen --rows 5 --seed 3 -o "$D/data/small.csv"
	script -qec "spif ingest --purpose 個人住民税の賦課 --print-id '$D/data/small.csv'" /dev/null > "$D/tty2.out" 2>&1
	grep -q 'F000003' "$D/tty2.out"
	! grep -q 'records, [0-9.]* MB' "$D/tty2.out" || false
}
