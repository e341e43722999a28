#!/usr/bin/env bats
# spif export delivered: a disclosure answer (開示請求, --subject-file)
# handed to the person ends its checkout, instead of staying "out" (and
# overdue) for ever.  Only a disclosure answer, only while out; the
# ledger, ls and the paper ledger show it; bad input leaves one stderr
# line, the documented exit code and the catalog as it was.
load helper

setup_file() {
	gnupg_setup
	R=$(gpg_key r) && S=$(gpg_key s) || return 1
	export R S
}

teardown_file() {
	gnupg_teardown
}

setup() {
	setup_home
	mkdir "$D/out"
	N=$(valid_number 31415926535)
	M=$(valid_number 27182818284)
	printf '%s\n' "$N" > "$D/number"
	printf '{"氏名":"山田太郎","個人番号":"%s"}\n{"氏名":"鈴木花子","個人番号":"%s"}\n' "$N" "$M" |
		spif ingest --purpose 個人住民税の賦課 --store --format ndjson - > /dev/null 2>&1
}

teardown() {
	teardown_gpg
}

# a disclosure answer, due on a past day (so it would be overdue)
answer() {
	spif export --subject-file "$D/number" -r "$R" --sign "$S" --reason 開示請求受付第12号 --due 2026-01-05 \
		-o "$D/out/$1.gpg" 2>/dev/null
}

@test "delivered: the answer leaves the outstanding and overdue lists; ledger, log and paper ledger say so" {
	id=$(answer a)
	[[ "$id" =~ ^EX-[0-9]{4}-000001$ ]]
	spif export ls --outstanding | grep -q "^$id "
	run spif export ls --overdue
	[ "$status" -eq 1 ]
	[[ "$output" == *"$id "* ]]
	run --separate-stderr spif export delivered "$id" --received-by 山田太郎 --note 窓口で本人確認のうえ交付
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ -z "$output" ]
	[[ "${stderr%%$'\n'*}" == "spif-export: $id delivered to 山田太郎: the disclosure answer is theirs; the checkout is closed" ]]
	# the archive is still where it was written: a copy to shred, said so
	[[ "$stderr" == *"the archive is still here ($D/out/a.gpg): destroy it with: spif shred $D/out/a.gpg"* ]]
	run spif export ls --outstanding
	[ "$status" -eq 0 ]
	[[ "$output" != *"$id"* ]]
	run spif export ls --overdue
	[ "$status" -eq 0 ]
	[[ "$output" != *"$id"* ]]
	run spif export ls --json
	[[ "$output" == *'"id":"'"$id"'","state":"delivered"'* ]]
	[[ "$output" == *'"fate":{"archive_kept_here":true,"note":"窓口で本人確認のうえ交付","received_by":"山田太郎"}'* ]]
	spif catalog log --json --limit 1 | grep -q '"action":"export.delivered","object":"'"$id"'"'
	spif catalog verify > /dev/null
	run spif catalog report --ledger checkout
	[[ "$output" == *"本人交付 / delivered"*"受領 / received by 山田太郎"* ]]
	# the archive gone with the person: its export copy is settled
	id2=$(answer b)
	rm "$D/out/b.gpg"
	run --separate-stderr spif export delivered "$id2" --received-by 山田太郎
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"still here"* ]]
	spif export ls --json | grep "\"id\":\"$id2\"" | grep -q '"fate":{"archive_kept_here":false,"note":null,'
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT c.state FROM export_files f JOIN copies c ON c.id = f.copy_id
		WHERE f.export_id = '$id2'")" = disposed ]
	spif catalog verify > /dev/null
	# a copy declared lost before the delivery stays lost
	id3=$(answer c)
	rm "$D/out/c.gpg"
	cp=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT copy_id FROM export_files WHERE export_id = '$id3'")
	spif catalog copy lost "$cp" --reason 'USBごと本人へ' > /dev/null 2>&1
	spif export delivered "$id3" --received-by 山田太郎 2>/dev/null
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT state FROM copies WHERE id = $cp")" = lost ]
	spif catalog verify > /dev/null
}

@test "bad: unknown export 66, not a disclosure answer 65, not out 65, options 64: one line, catalog unchanged" {
	id=$(answer a)
	gen --rows 3 -o "$D/g.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/g.csv" > /dev/null 2>&1
	ex=$(spif export --file F000002 -r "$R" --sign "$S" --to-org 印刷委託先 --basis 番号法第19条第6号 \
		--reason 印刷 -o "$D/out/p.gpg" 2>/dev/null)
	[[ "$ex" =~ ^EX- ]]
	before=$(catalog_state; spif export ls --json)
	local -a cases=(
		"66|delivered EX-2026-999999 --received-by 山田太郎"
		"65|delivered $ex --received-by 山田太郎"
		"64|delivered $id"
		"64|delivered $id --received-by"
		"64|delivered $id --received-by ''"
		"64|delivered"
		"64|delivered EX-1 --received-by 山田太郎"
		"64|delivered $id $id --received-by 山田太郎"
		"64|delivered $id --received-by 山田太郎 --seal intact"
		"64|delivered $id --received-by 山田太郎 --note ''"
	)
	local cse code args
	for cse in "${cases[@]}"; do
		code=${cse%%|*} args=${cse#*|}
		eval "run --separate-stderr spif export $args"
		[ "$status" -eq "$code" ] || { echo "$args: $status $stderr"; return 1; }
		one_line_stderr
	done
	# a number in the note or the name: refused, never recorded
	run --separate-stderr spif export delivered "$id" --received-by 山田太郎 --note "番号 $N"
	[ "$status" -eq 64 ]
	one_line_stderr
	[[ "$stderr" != *"$N"* ]]
	run --separate-stderr spif export delivered "$id" --received-by "$N"
	[ "$status" -eq 64 ]
	[[ "$stderr" != *"$N"* ]]
	[ "$(catalog_state; spif export ls --json)" = "$before" ]
	# and once delivered, not again (nor returned)
	spif export delivered "$id" --received-by 山田太郎 2>/dev/null
	before=$(catalog_state; spif export ls --json)
	run --separate-stderr spif export delivered "$id" --received-by 山田太郎
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"$id is delivered already"* ]]
	run --separate-stderr spif export return "$id" --received-by 山田太郎 --seal intact
	[ "$status" -eq 65 ]
	[ "$(catalog_state; spif export ls --json)" = "$before" ]
}

@test "migration 13: exports rebuilt for 'delivered' keeps every row and its files" {
	id=$(answer a)
	before=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT * FROM exports; SELECT * FROM export_files;")
	# back to schema 12: exports with the CHECK that knew no 'delivered'
	local trig
	trig=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT group_concat('DROP TRIGGER ' || name, '; ') FROM sqlite_master
	       WHERE type = 'trigger' AND (name LIKE 'spif_row_exports_%' OR name LIKE 'spif_row_export_files_%')")
	sqlite3 "$SPIF_HOME/catalog.db" "PRAGMA foreign_keys=OFF; BEGIN; $trig;
	     CREATE TABLE x AS SELECT * FROM exports; CREATE TABLE xf AS SELECT * FROM export_files;
	     DROP TABLE export_files; DROP TABLE exports;
	     $(sqlite3 "$SPIF_HOME/catalog.db" "SELECT sql FROM sqlite_master WHERE name = 'exports'" |
	       sed "s/,'delivered'//; s/\"exports\"/exports/");
	     INSERT INTO exports SELECT * FROM x; DROP TABLE x;
	     CREATE INDEX exports_open ON exports(due) WHERE state = 'out';
	     CREATE TABLE export_files(export_id TEXT NOT NULL REFERENCES exports(id),
	       file_id INTEGER NOT NULL REFERENCES files(id), copy_id INTEGER REFERENCES copies(id),
	       PRIMARY KEY (export_id, file_id));
	     INSERT INTO export_files SELECT * FROM xf; DROP TABLE xf;
	     CREATE INDEX export_files_file ON export_files(file_id);
	     PRAGMA user_version = 12; COMMIT;"
	[[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT sql FROM sqlite_master WHERE name = 'exports'")" != *delivered* ]]
	spif export ls > /dev/null
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "PRAGMA user_version")" -eq 13 ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT * FROM exports; SELECT * FROM export_files;")" = "$before" ]
	[ -z "$(sqlite3 "$SPIF_HOME/catalog.db" "PRAGMA foreign_key_check")" ]
	spif catalog verify > /dev/null
	spif export delivered "$id" --received-by 山田太郎 2>/dev/null
	spif catalog verify > /dev/null
}
