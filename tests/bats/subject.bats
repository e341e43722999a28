#!/usr/bin/env bats
# spif export --subject-file: a disclosure request (開示請求).  The
# person's records from every file (a CP932 copy, NDJSON in the vault) in
# every form their number is written (number fields, free text, full-width,
# 4-4-4 with hyphens or spaces) and nobody else's; the files' access
# history; the number never on the command line, never in the catalog, the
# log or a message, only its keyed pseudonym, the same for every request
# about one person; a copy that changed never read.
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
	N=$(valid_number 31415926535)   # the person
	M=$(valid_number 27182818284)   # someone else
	FW=$(printf '%s' "$N" | sed 'y/0123456789/０１２３４５６７８９/')
	HY="${N:0:4}-${N:4:4}-${N:8:4}"
	SP="${N:0:4} ${N:4:4} ${N:8:4}"
	printf '%s\n' "$N" > "$D/number"
}

teardown() {
	teardown_gpg
}

# files: F000001 a CP932 CSV kept only as its present copy, F000002 NDJSON
# only in the vault, F000003 generated people only (in the vault).
files() {
	printf '氏名,個人番号,摘要\r\n山田太郎,%s,なし\r\n鈴木花子,%s,本人分\r\n髙橋一郎,%s,マイナンバー %s の扶養親族\r\n佐藤次郎,%s,控除\r\n' \
		"$N" "$M" "$M" "$FW" "$M" | iconv -f utf-8 -t cp932 > "$D/a.csv"
	spif ingest --purpose 個人住民税の賦課 "$D/a.csv" > /dev/null 2>&1
	printf '{"氏名":"山田太郎","個人番号":"%s","摘要":"x"}\n{"氏名":"鈴木花子","個人番号":"%s","摘要":"前職分 %s を含む"}\n{"氏名":"佐藤次郎","個人番号":"%s","摘要":"y"}\n' \
		"$HY" "$M" "$SP" "$M" |
		spif ingest --purpose 個人住民税の賦課 --store --format ndjson - > /dev/null 2>&1
	gen --rows 30 --format ndjson --text-numbers -o "$D/g.ndjson"
	spif ingest --purpose 個人住民税の賦課 --store --format ndjson - < "$D/g.ndjson" > /dev/null 2>&1
	rm "$D/g.ndjson"
}

# ask [ARGS]: a disclosure request with what every request needs.
ask() {
	spif export --subject-file "$D/number" -r "$R" --sign "$S" --reason 開示請求受付第12号 "$@"
}

open_bag() {
	mkdir -p "$2"
	gpg --batch --quiet --decrypt "$1" 2>/dev/null | tar -xf - -C "$2"
}

@test "subject: the person's records in every form, from CP932 and the vault, and nobody else's" {
	files
	run --separate-stderr ask -o "$D/out/a.gpg"
	[ "$status" -eq 0 ]
	id=$output
	[[ "$id" =~ ^EX-[0-9]{4}-000001$ ]]
	one_line_stderr
	[[ "$stderr" == "spif-export: $id: disclosure to PSN:"*": 4 records in 2 of 3 files searched, encrypted for 1 key, signed by $S -> $D/out/a.gpg ("*" bytes)" ]]
	open_bag "$D/out/a.gpg" "$D/x"
	b=$D/x/$id
	# the CP932 copy's records in CP932 CSV, as the file is
	iconv -f cp932 -t utf-8 "$b/data/F000001.csv" > "$D/a.txt"
	[ "$(head -1 "$D/a.txt")" = $'氏名,個人番号,摘要\r' ]
	[ "$(wc -l < "$D/a.txt")" -eq 3 ]
	grep -q "^山田太郎,$N,なし" "$D/a.txt"
	grep -q "^髙橋一郎,$M,マイナンバー $FW の扶養親族" "$D/a.txt"
	! grep -q '鈴木花子\|佐藤次郎' "$D/a.txt" || false
	# the vault's records as NDJSON, with the forms as written
	[ "$(wc -l < "$b/data/F000002.ndjson")" -eq 2 ]
	grep -q "\"個人番号\":\"$HY\"" "$b/data/F000002.ndjson"
	grep -q "前職分 $SP を含む" "$b/data/F000002.ndjson"
	! grep -q '佐藤次郎' "$b/data/F000002.ndjson" || false
	[ ! -e "$b/data/F000003.ndjson" ]
	# the access history of the files they came from
	grep -q '"action": "ingest"' "$b/spif/access-history.json"
	grep -q "Spif-Recipient: 本人" "$b/bag-info.txt"
	grep -q "Spif-Basis: 個人情報の保護に関する法律第76条第1項(開示請求)" "$b/bag-info.txt"
	(cd "$b" && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt)
	run spif export verify "$D/out/a.gpg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid BagIt bag, 2 payload files"* ]]
}

@test "subject: the history shows reads, exports and to whom; the answer is in the ledger" {
	files
	spif vault cat F000002 > /dev/null
	spif export --file F000002 -r "$R" --to-org 印刷委託先 --basis 番号法第19条第6号 --reason 印刷 \
		-o "$D/out/e.gpg" > /dev/null 2>&1
	id=$(ask -o "$D/out/a.gpg" 2>/dev/null)
	open_bag "$D/out/a.gpg" "$D/x"
	h=$D/x/$id/spif/access-history.json
	grep -q '"action": "vault.read"' "$h"
	grep -q '"organisation": "印刷委託先"' "$h"
	grep -q '"basis": "番号法第19条第6号"' "$h"
	spif export ls | grep -q "^$id  out .*本人"
}

@test "subject: the event holds a keyed pseudonym, never the number; the same for every request about one person" {
	files
	spif export --subject-file - -r "$R" --sign "$S" --reason 第1号 -o "$D/out/a.gpg" < "$D/number" \
		> /dev/null 2> "$D/err1"
	ask -o "$D/out/b.gpg" > /dev/null 2> "$D/err2"
	printf '%s\n' "$FW" > "$D/fw" # the same person, written in full-width digits
	spif export --subject-file "$D/fw" -r "$R" --sign "$S" --reason 第3号 -o "$D/out/c.gpg" > /dev/null 2> "$D/err3"
	printf '%s\n' "$M" > "$D/m"
	spif export --subject-file "$D/m" -r "$R" --sign "$S" --reason 第4号 -o "$D/out/d.gpg" > /dev/null 2> "$D/err4"
	spif catalog log --action export --json > "$D/log"
	[ "$(grep -c '"subject":' "$D/log")" -eq 4 ]
	p=$(grep -o '"pseudonym":"PSN:[A-Z2-7]*"' "$D/log" | sort | uniq -c | sort -rn)
	[ "$(printf '%s\n' "$p" | head -1 | awk '{print $1}')" -eq 3 ]
	[ "$(printf '%s\n' "$p" | wc -l)" -eq 2 ]
	grep -q '"records":4' "$D/log"
	# the human log too
	spif catalog log | grep -q 'PSN:'
	# the key is in the home's key store, made once, with its event
	[ -f "$SPIF_HOME/keys/psn-subject.key" ]
	[ "$(spif catalog log --action key.create --json | wc -l)" -eq 1 ]
	# never the number, in any form, anywhere the office keeps
	for n in "$N" "$M" "$HY" "$FW"; do
		! grep -rqaF -- "$n" "$SPIF_HOME" "$D/log" "$D"/err? || false
		! spif catalog log | grep -qF -- "$n" || false
	done
}

@test "subject: the number on the command line is refused (64) before anything is opened" {
	files
	before=$(catalog_state)
	for args in "--subject $N" "--subject=$N" "--subject-file $N" "--reason $HY" "--to-person 担当$FW" "$N"; do
		# shellcheck disable=SC2086
		run --separate-stderr spif export $args -r "$R" --reason x -o "$D/out/a.gpg"
		[ "$status" -eq 64 ]
		one_line_stderr
		[[ "$stderr" == "spif-export: argument "*" holds an Individual Number: it never goes on the command line; put it in a file (--subject-file FILE, or - for standard input)" ]]
	done
	# --subject without a number: told where the number goes
	run --separate-stderr spif export --subject x -r "$R" --reason x -o "$D/out/a.gpg"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--subject-file FILE"* ]]
	# nothing was opened: a spif.conf that cannot be read is not even looked at
	printf 'no such setting = 1\n' > "$SPIF_CONF"
	run --separate-stderr spif export --subject-file x -r "$R" --reason "$N" -o "$D/out/a.gpg"
	[ "$status" -eq 64 ]
	[[ "$stderr" == "spif-export: argument 6 holds"* ]]
	rm "$SPIF_CONF"
	[ ! -e "$D/out/a.gpg" ]
	[ "$(catalog_state)" = "$before" ]
	[ ! -e "$SPIF_HOME/keys/psn-subject.key" ]
}

@test "subject: a wrong check digit (65), not one number (65), no file (66): nothing written, catalog unchanged" {
	files
	before=$(catalog_state)
	bad=${N:0:11}$(( (${N:11:1} + 1) % 10 ))
	printf '%s\n' "$bad" > "$D/bad"
	run --separate-stderr spif export --subject-file "$D/bad" -r "$R" --reason x -o "$D/out/a.gpg"
	[ "$status" -eq 65 ]
	one_line_stderr
	[ "$stderr" = "spif-export: $D/bad: not an Individual Number: its check digit is wrong" ]
	printf '%s %s\n' "$N" "$M" > "$D/two"
	run --separate-stderr spif export --subject-file "$D/two" -r "$R" --reason x -o "$D/out/a.gpg"
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" != *"${N:0:4}"* ]]
	run --separate-stderr spif export --subject-file "$D/none" -r "$R" --reason x -o "$D/out/a.gpg"
	[ "$status" -eq 66 ]
	one_line_stderr
	run --separate-stderr spif export --subject-file "$D/number" --reason x -o "$D/out/a.gpg"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"-r RECIPIENT"* ]]
	run --separate-stderr spif export --subject-file "$D/number" -r "$R" --file F000001 --reason x -o "$D/out/a.gpg"
	[ "$status" -eq 64 ]
	[ "$stderr" = "spif-export: --file does not go with --subject-file (see 'spif-export --help')" ]
	[ ! -e "$D/out/a.gpg" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "subject: a copy that changed since it was catalogued is never read; its file is listed as not searched" {
	files
	# the person's number written into the CP932 copy after ingest
	printf '伊藤,%s,追記\r\n' "$N" | iconv -f utf-8 -t cp932 >> "$D/a.csv"
	run --separate-stderr ask -o "$D/out/a.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *": 2 records in 1 of 2 files searched (1 not searched: see spif/access-history.json), "* ]]
	open_bag "$D/out/a.gpg" "$D/x"
	[ ! -e "$D/x/$output/data/F000001.csv" ]
	grep -q '"file": "F000001"' "$D/x/$output/spif/access-history.json"
	grep -q 'its copy changed since it was catalogued' "$D/x/$output/spif/access-history.json"
}

@test "subject: nobody's records: the answer still goes, with nothing in data/" {
	files
	printf '%s\n' "$(valid_number 11111111111)" > "$D/nobody"
	run --separate-stderr spif export --subject-file "$D/nobody" -r "$R" --sign "$S" --reason x -o "$D/out/a.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *": 0 records in 0 of 3 files searched, "* ]]
	run spif export verify "$D/out/a.gpg"
	[ "$status" -eq 0 ]
}

@test "subject: a damaged vault copy fails the request (65): nothing written, catalog unchanged" {
	files
	v=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM copies WHERE kind = 'vault' AND file_id = 2")
	size=$(stat -c %s "$v")
	perl -e 'open(my $f, "+<", $ARGV[0]) or die; seek($f, $ARGV[1], 0); read($f, my $b, 1);
		seek($f, $ARGV[1], 0); print $f chr(ord($b) ^ 1); close($f) or die' "$v" $((size / 2))
	before=$(catalog_state)
	run --separate-stderr ask -o "$D/out/a.gpg"
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"authentication failed"* ]]
	[ ! -e "$D/out/a.gpg" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "subject: a TSV copy's records come back as TSV, its dialect kept" {
	printf '氏名\t個人番号\t摘要\n山田太郎\t%s\t a;b \n鈴木花子\t%s\tなし\n' "$N" "$M" > "$D/c.tsv"
	spif ingest --purpose 個人住民税の賦課 "$D/c.tsv" > /dev/null 2>&1
	id=$(ask -o "$D/out/a.gpg" 2>/dev/null)
	open_bag "$D/out/a.gpg" "$D/x"
	[ "$(cat "$D/x/$id/data/F000001.tsv")" = "$(printf '氏名\t個人番号\t摘要\n山田太郎\t%s\t a;b ' "$N")" ]
}
