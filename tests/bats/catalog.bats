#!/usr/bin/env bats
# spif catalog: ls, show, log, verify; tampering detected; bad use refused.
load helper

setup() {
	setup_home
	gen --rows 50 --columns narrow -o "$D/a.csv"
	spif ingest --purpose 個人住民税 --print-id "$D/a.csv" >/dev/null 2>&1
	gen --rows 20 --seed 2 --columns narrow -o "$D/b.csv"
	spif ingest --purpose 給与支払報告書 --print-id "$D/b.csv" >/dev/null 2>&1
}

teardown() {
	teardown_gpg
}

@test "catalog ls lists every file with counts" {
	run --separate-stderr spif catalog ls
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == ID* ]]
	[[ "${lines[1]}" == F000001*active*50* ]]
	[[ "${lines[2]}" == F000002*active*20* ]]
}

@test "catalog ls --json gives one object per file" {
	run --separate-stderr spif catalog ls --json
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *'"id":"F000001"'* ]]
	[[ "${lines[0]}" == *'"records":50'* ]]
}

@test "catalog show gives the file and its source copy" {
	run --separate-stderr spif catalog show F000001
	[ "$status" -eq 0 ]
	[[ "$output" == *"purpose:       個人住民税"* ]]
	[[ "$output" == *"source"*"$D/a.csv"* ]]
	sum=$(sha256sum "$D/a.csv" | cut -d' ' -f1)
	[[ "$output" == *"$sum"* ]]
	run --separate-stderr spif catalog show 2 --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"copies":[{'* ]]
}

@test "catalog show of an unknown id: exit 65, one line" {
	run --separate-stderr spif catalog show F000099
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"no file F000099"* ]]
	one_line_stderr
	run --separate-stderr spif catalog show nonsense
	[ "$status" -eq 64 ]
}

@test "catalog log shows the ingest events with operator and masked argv" {
	run --separate-stderr spif catalog log --json
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *'"action":"ingest"'* ]]
	[[ "${lines[0]}" == *"\"operator\":\"$(id -un)\""* ]]
	run --separate-stderr spif catalog log --file F000002
	[[ "$output" == *F000002* ]]
	[[ "$output" != *F000001* ]]
	run --separate-stderr spif catalog log --limit 1 --json
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == *'"seq":2'* ]]
}

@test "catalog verify: intact chain exits 0" {
	run --separate-stderr spif catalog verify
	[ "$status" -eq 0 ]
	[[ "$output" == "audit log intact: 2 events"* ]]
	run --separate-stderr spif catalog verify --json
	[[ "$output" == *'"intact":true'* ]]
}

@test "catalog verify: a changed event is named (exit 1)" {
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER events_no_update;
		UPDATE events SET details = replace(details, '50', '51') WHERE seq = 1;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"event 1 does not match its hash"* ]]
	one_line_stderr
}

@test "catalog verify: a deleted event is named (exit 1)" {
	spif ingest --purpose x --again --reason 再 --print-id "$D/a.csv" >/dev/null 2>&1
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 2;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"event 2 is missing"* ]]
}

@test "catalog verify: reordered events are caught (exit 1)" {
	spif ingest --purpose x --again --reason 再 --print-id "$D/a.csv" >/dev/null 2>&1
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER events_no_update;
		UPDATE events SET seq = -1 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3;
		UPDATE events SET seq = 3 WHERE seq = -1;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"event 2 does not follow event 1"* ]]
}

@test "catalog verify: a cut-off tail is caught (exit 1)" {
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 2;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"removed from the end"* ]]
}

@test "the events table refuses updates and deletes" {
	run sqlite3 "$SPIF_HOME/catalog.db" "DELETE FROM events WHERE seq = 1"
	[ "$status" -ne 0 ]
	[[ "$output" == *"append-only"* ]]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "catalog: no catalog yet is exit 66" {
	export SPIF_HOME="$D/empty"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 66 ]
	[[ "$stderr" == *"no catalog yet"* ]]
}

@test "catalog: unknown subcommand or option is exit 64" {
	run --separate-stderr spif catalog frob
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif catalog ls --frob
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "catalog --help" {
	run spif catalog --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
}

@test "catalog writable by others is refused (exit 77)" {
	chmod o+w "$SPIF_HOME/catalog.db"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"others can write"* ]]
	one_line_stderr
	chmod o-w "$SPIF_HOME/catalog.db"
	chmod g+w "$SPIF_HOME"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"group can write"* ]]
}

@test "catalog files are private: home 0700, catalog 0600" {
	[ "$(stat -c %a "$SPIF_HOME")" = 700 ]
	[ "$(stat -c %a "$SPIF_HOME/catalog.db")" = 600 ]
}

@test "a group install: home 2770 in the configured group is accepted" {
	getent group spiftest >/dev/null || groupadd spiftest
	printf 'group = spiftest\n' > "$SPIF_CONF"
	export SPIF_HOME="$D/shared"
	gen --rows 5 --columns narrow -o "$D/s.csv"
	run --separate-stderr spif ingest --purpose x --print-id "$D/s.csv"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%a %G' "$SPIF_HOME")" = "2770 spiftest" ]
	[ "$(stat -c '%a %G' "$SPIF_HOME/catalog.db")" = "660 spiftest" ]
	chgrp root "$SPIF_HOME"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"not by the configured group"* ]]
}

# A copy of the home on read-only media, as kept for evidence.
ro_copy() {
	mkdir -p "$D/ro"
	mount -t tmpfs -o size=16m,mode=0700 tmpfs "$D/ro"
	cp -a "$SPIF_HOME/." "$D/ro/"
	mount -o remount,ro "$D/ro"
}

@test "catalog on read-only media: ls, show, log, verify and cert ls read it, and nothing is written" {
	ro_copy
	run --separate-stderr spif --home "$D/ro" catalog verify
	umount_ro() { umount "$D/ro"; }
	[ "$status" -eq 0 ] || { umount_ro; false; }
	[[ "$output" == "audit log intact: 2 events"* ]] || { umount_ro; false; }
	run --separate-stderr spif --home "$D/ro" catalog ls --json
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ] || { umount_ro; false; }
	spif --home "$D/ro" catalog show F000002 > /dev/null || { umount_ro; false; }
	spif --home "$D/ro" catalog log > /dev/null || { umount_ro; false; }
	spif --home "$D/ro" catalog cert ls > /dev/null || { umount_ro; false; }
	[ "$(ls -A "$D/ro")" = "catalog.db" ] || { umount_ro; false; }
	umount_ro
}

@test "catalog on read-only media: a tampered copy fails verify; a change is refused" {
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER events_no_update;
		UPDATE events SET details = replace(details, '50', '51') WHERE seq = 1;"
	ro_copy
	run --separate-stderr spif --home "$D/ro" catalog verify
	st=$status err=$stderr
	run --separate-stderr spif --home "$D/ro" catalog cert confirm DC-2026-000001
	st2=$status
	umount "$D/ro"
	[ "$st" -eq 1 ]
	[[ "$err" == *"event 1 does not match its hash"* ]]
	[ "$st2" -ne 0 ]
}

@test "ls and show print a label, purpose or path with a line break or an escape sequence escaped" {
	gen --rows 3 -o "$D/a.csv"
	mkdir -p "$D/two
lines"
	cp "$D/a.csv" "$D/two
lines/b.csv"
	spif ingest --purpose "$(printf 'p\nF000099  active  1 1 2026-01-01 forged')" \
		--label "$(printf 'x\033[2Jy\tz\\w')" "$D/a.csv" > /dev/null 2>&1
	run --separate-stderr spif catalog ls
	[ "$status" -eq 0 ]
	# the header, the two files of setup and this one: the purpose's line
	# break cannot make a row of its own
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 4 ]
	[[ "$output" == *'p\nF000099'* ]]
	[[ "$output" == *'x\x1b[2Jy\tz\\w'* ]]
	[[ "$output" != *$'\033'* ]]
	spif ingest --purpose q --again --reason t -o "$D/two
lines/out.ndjson" "$D/two
lines/b.csv" > /dev/null 2>&1
	run --separate-stderr spif catalog show F000004
	[ "$status" -eq 0 ]
	[[ "$output" == *'two\nlines/b.csv'* ]]
	[ "$(printf '%s\n' "$output" | grep -c 'lines/')" -eq 2 ]
	[ "$(printf '%s\n' "$output" | grep -c '^lines/')" -eq 0 ]
	# JSON is not for terminals: it keeps the text, JSON-escaped
	run spif catalog ls --json
	[[ "$output" == *'"purpose":"p\nF000099'* ]]
}
