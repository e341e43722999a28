#!/usr/bin/env bats
# spif ingest: normal use, encodings, and every kind of bad input the
# foundation issue lists (each: one line naming file and row, a documented
# exit code, no records emitted, catalog unchanged).
load helper

setup() {
	setup_home
}

teardown() {
	teardown_gpg
}

# Run ingest on a bad file and prove nothing happened.
refused() { # refused EXIT-CODE PATTERN ingest-args...
	local code=$1 pat=$2
	shift 2
	local before
	before=$(catalog_state)
	run --separate-stderr spif ingest "$@"
	[ "$status" -eq "$code" ] || { echo "status $status, stderr: $stderr"; return 1; }
	[[ "$stderr" == *$pat* ]] || { echo "stderr: $stderr"; return 1; }
	one_line_stderr
	[ -z "$output" ] || { echo "records were emitted: ${output:0:200}"; return 1; }
	[ "$(catalog_state)" = "$before" ] || { echo "catalog changed"; return 1; }
}

@test "ingest: records on stdout with @file and @row, summary on stderr" {
	gen --rows 1000 -o "$D/給与支払報告書.csv"
	persons=$(gen_persons)
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 "$D/給与支払報告書.csv"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1000 ]
	[[ "${lines[0]}" == '{"@file":"F000001","@row":2,"法定資料の種類":"315",'* ]]
	[[ "${lines[999]}" == '{"@file":"F000001","@row":1001,'* ]]
	# the summary, then the warning that it has no retention schedule
	[[ "${stderr%%$'\n'*}" =~ ^spif-ingest:\ F000001\ \(給与支払報告書.csv\):\ 1000\ records,\ $persons\ persons,\ [0-9]+\ number\ fields$ ]]
	[[ "${stderr#*$'\n'}" == "spif-ingest: F000001 has no retention schedule"* ]]
	run spif catalog ls --json
	[[ "$output" == *'"records":1000'* ]]
	[[ "$output" == *"\"persons\":$persons"* ]]
}

@test "ingest: person count is distinct numbers across all number fields" {
	gen --rows 300 --persons 120 -o "$D/p.csv"
	persons=$(gen_persons)
	run --separate-stderr spif ingest --purpose x --print-id "$D/p.csv"
	[ "$status" -eq 0 ]
	[ "$output" = F000001 ]
	run spif catalog show F000001 --json
	[[ "$output" == *"\"persons\":$persons"* ]]
	[[ "$output" == *'"records":300'* ]]
}

@test "ingest: number fields are found by name, 扶養親族1_個人番号 included" {
	gen --rows 10 -o "$D/a.csv"
	spif ingest --purpose x --print-id "$D/a.csv" 2>/dev/null
	run spif catalog show F000001 --json
	[[ "$output" == *'"受給者の個人番号"'* ]]
	[[ "$output" == *'"扶養親族1_個人番号"'* ]]
	[[ "$output" == *'"提出義務者の個人番号又は法人番号"'* ]]
}

@test "ingest: --number-field names a column the headers do not announce" {
	printf 'id,MN,name\n1,621498320257,a\n2,123456789018,b\n' > "$D/mn.csv"
	run --separate-stderr spif ingest --purpose x --number-field MN --print-id "$D/mn.csv"
	[ "$status" -eq 0 ]
	run spif catalog show F000001 --json
	[[ "$output" == *'"number_fields":["MN"]'* ]]
	[[ "$output" == *'"persons":2'* ]]
	printf 'id,MN\n1,621498320258\n' > "$D/bad.csv"
	refused 65 "bad.csv:2: field MN: check digit does not match" --purpose x --number-field MN "$D/bad.csv"
	refused 64 "--number-field XX: no such column" --purpose x --number-field XX "$D/mn.csv"
}

@test "ingest: full-width and 4-4-4 forms are valid numbers, kept as written" {
	gen --rows 200 --forms mixed -o "$D/m.csv"
	run --separate-stderr spif ingest --purpose x "$D/m.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"－"* || "$output" == *"０"* || "$output" =~ [0-9]{4}-[0-9]{4}-[0-9]{4} ]]
}

@test "ingest: CP932 with 髙 﨑 ㈱ and 外字 comes back byte for byte" {
	gen --rows 500 --encoding cp932 --gaiji -o "$D/sjis.csv"
	run --separate-stderr spif ingest --purpose x --to csv --output-encoding cp932 -o "$D/back.csv" "$D/sjis.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"encoding cp932 (detected)"* ]]
	cmp "$D/sjis.csv" "$D/back.csv"
	# and the records are UTF-8 with the characters themselves
	spif ingest --purpose x --again --reason 再読込 "$D/sjis.csv" 2>/dev/null > "$D/r.ndjson"
	grep -q '髙' "$D/r.ndjson"
	grep -q $'\xee\x80' "$D/r.ndjson"
}

@test "ingest: CP932 stdout round trip through a pipe" {
	gen --rows 100 --encoding cp932 -o "$D/s.csv"
	spif ingest --purpose x --to csv --output-encoding cp932 "$D/s.csv" 2>/dev/null > "$D/o.csv"
	cmp "$D/s.csv" "$D/o.csv"
}

@test "ingest: NEC-selected codes decode, and the write-back warning says so" {
	printf '\x96\xbc\x91\x4f,\x8c\xc2\x90\x6c\x94\xd4\x8d\x86\r\n\xee\xe0\x8b\xb4,621498320257\r\n' > "$D/nec.csv"
	run --separate-stderr spif ingest --purpose x --encoding cp932 "$D/nec.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"名前":"髙橋"'* ]]
	[[ "$stderr" == *"nec.csv:2: 1 characters use NEC-selected codes"* ]]
}

@test "ingest: EUC-JP and UTF-8 with BOM are detected" {
	gen --rows 50 --encoding euc-jp -o "$D/e.csv"
	run --separate-stderr spif ingest --purpose x "$D/e.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"encoding euc-jp (detected)"* ]]
	gen --rows 50 --encoding utf-8-bom -o "$D/b.csv"
	run --separate-stderr spif ingest --purpose x --to csv --output-encoding utf-8-bom "$D/b.csv"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$D/b.csv" | tr -d '\r')" ] || cmp <(printf '%s\n' "$output") "$D/b.csv" || true
	spif ingest --purpose x --again --reason 再読込 --to csv --output-encoding utf-8-bom "$D/b.csv" 2>/dev/null > "$D/b2.csv"
	cmp "$D/b.csv" "$D/b2.csv"
}

@test "ingest: TSV and LF line ends round trip" {
	gen --rows 40 --format tsv --eol lf -o "$D/t.tsv"
	spif ingest --purpose x --to tsv "$D/t.tsv" 2>/dev/null > "$D/t2.tsv"
	cmp "$D/t.tsv" "$D/t2.tsv"
}

@test "ingest: a CSV that ends without a line break comes back without one" {
	gen --rows 40 -o "$D/s.csv"
	head -c -2 "$D/s.csv" > "$D/n.csv" # drop the final CRLF
	spif ingest --purpose x --to csv "$D/n.csv" 2>/dev/null > "$D/n2.csv"
	cmp "$D/n.csv" "$D/n2.csv"
}

@test "ingest: a quoted header over partly quoted records comes back byte for byte" {
	printf '"氏名","個人番号","摘要欄"\r\n髙橋,"%s",なし\r\n"山﨑",%s,"a,b"\r\n' \
		"$(valid_number 12345678901)" "$(valid_number 98765432109)" > "$D/q.csv"
	spif ingest --purpose x --to csv "$D/q.csv" 2>/dev/null > "$D/q2.csv"
	cmp "$D/q.csv" "$D/q2.csv"
}

@test "ingest: NDJSON from another spif command is re-ingested with new metadata" {
	gen --rows 30 -o "$D/a.csv"
	spif ingest --purpose x "$D/a.csv" 2>/dev/null > "$D/a.ndjson"
	run --separate-stderr spif ingest --purpose y --format ndjson - < "$D/a.ndjson"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == '{"@file":"F000002","@row":1,'* ]]
	[[ "${lines[0]}" != *F000001* ]]
	[ "${#lines[@]}" -eq 30 ]
}

@test "ingest -o FILE registers the output as a copy with its hash" {
	gen --rows 100 -o "$D/a.csv"
	run --separate-stderr spif ingest --purpose x -o "$D/out.ndjson" "$D/a.csv"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(wc -l < "$D/out.ndjson")" -eq 100 ]
	[ "$(stat -c %a "$D/out.ndjson")" = 600 ]
	sum=$(sha256sum "$D/out.ndjson" | cut -d' ' -f1)
	run spif catalog show F000001
	[[ "$output" == *output*"$sum"*"$D/out.ndjson"* ]]
	# an existing file is never overwritten
	refused 73 "already exists" --purpose x -o "$D/out.ndjson" "$D/a.csv"
}

@test "ingest on a terminal prints a summary instead of records" {
	command -v script >/dev/null || skip "script(1) not installed"
	gen --rows 10 -o "$D/a.csv"
	run script -qec "spif ingest --purpose x '$D/a.csv'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"F000001"*"records:  10"* ]]
	[[ "$output" != *'"@row"'* ]]
}

@test "ingest: the catalog holds no Individual Number, not even in argv or labels" {
	gen --rows 200 --text-numbers -o "$D/a.csv"
	cp "$D/a.csv" "$D/621498320257.csv"
	spif ingest --purpose x --label "台帳 621498320257" --print-id "$D/a.csv" 2>/dev/null
	spif ingest --purpose x --source "from 6214-9832-0257" --again --reason "再 6214-9832-0257" --print-id "$D/a.csv" 2>/dev/null
	refused 65 "the file name holds what may be an Individual Number" --purpose x "$D/621498320257.csv"
	valid_numbers_in "$D/a.csv" "$D/nums"
	echo 621498320257 >> "$D/nums"
	[ "$(wc -l < "$D/nums")" -gt 200 ]
	sqlite3 "$SPIF_HOME/catalog.db" .dump > "$D/dump.sql"
	run grep -c -F -f "$D/nums" "$D/dump.sql"
	[ "$output" = 0 ]
	run grep -c '6214-9832-0257' "$D/dump.sql"
	[ "$output" = 0 ]
}

@test "ingest --on-invalid flag registers and counts invalid values" {
	gen --rows 100 --invalid-row 40 -o "$D/a.csv"
	run --separate-stderr spif ingest --purpose x --on-invalid flag --print-id "$D/a.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"1 invalid values flagged"* ]]
	run spif catalog show F000001 --json
	[[ "$output" == *'"invalid":1'* ]]
}

@test "ingest --help and spif help ingest" {
	run spif ingest --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spif ingest"* ]]
	run spif help ingest
	[[ "$output" == "usage: spif ingest"* ]]
}

@test "ingest: memory stays flat as rows grow (same persons, 10x the rows)" {
	# the optimised build: the sanitiser's own bookkeeping would hide the answer
	bin="$BATS_TEST_DIRNAME/../../bin"
	gen --rows 20000 --persons 300 -o "$D/s.csv"
	gen --rows 200000 --persons 300 -o "$D/l.csv"
	small=$(/usr/bin/time -f %M "$bin/spif" ingest --purpose m --print-id "$D/s.csv" 2>&1 >/dev/null | tail -1)
	large=$(/usr/bin/time -f %M "$bin/spif" ingest --purpose m --print-id "$D/l.csv" 2>&1 >/dev/null | tail -1)
	echo "peak RSS: $small KB at 20k rows, $large KB at 200k rows"
	[ $((large - small)) -lt 4096 ]
	small=$(/usr/bin/time -f %M "$bin/spif" ingest --purpose m "$D/s.csv" 2>&1 >/dev/null | tail -1)
	large=$(/usr/bin/time -f %M "$bin/spif" ingest --purpose m "$D/l.csv" 2>&1 >/dev/null | tail -1)
	echo "emitting records: $small KB at 20k rows, $large KB at 200k rows"
	[ $((large - small)) -lt 4096 ]
}

# ---- bad input: each refused with one line, nothing registered ----------

@test "bad: empty file" {
	: > "$D/empty.csv"
	refused 65 "empty.csv:1: no header row" --purpose x "$D/empty.csv"
}

@test "bad: header only" {
	printf '氏名,受給者の個人番号\r\n' > "$D/h.csv"
	refused 65 "h.csv:1: no records" --purpose x "$D/h.csv"
}

@test "bad: duplicate header names" {
	printf 'a,b,a\n1,2,3\n' > "$D/d.csv"
	refused 65 "d.csv:1: duplicate column name" --purpose x "$D/d.csv"
}

@test "bad: a row with more or fewer fields than the header" {
	printf 'a,b,c\n1,2,3\n1,2\n' > "$D/f.csv"
	refused 65 "f.csv:3: 2 fields, header has 3" --purpose x "$D/f.csv"
	printf 'a,b,c\n1,2,3\n1,2,3,4\n' > "$D/g.csv"
	refused 65 "g.csv:3: 4 fields, header has 3" --purpose x "$D/g.csv"
}

@test "bad: an unterminated quote" {
	printf 'a,b\n1,"2\n3,4\n' > "$D/q.csv"
	refused 65 "q.csv:2: unterminated quoted field" --purpose x "$D/q.csv"
}

@test "bad: invalid UTF-8, with row and byte offset" {
	printf 'a,b\n1,ok\n2,\xff\xfe\n' > "$D/u.csv"
	refused 65 "u.csv:3: byte offset 11: not valid UTF-8" --purpose x --encoding utf-8 "$D/u.csv"
}

@test "bad: a byte that is not CP932" {
	gen --rows 20 --encoding cp932 -o "$D/s.csv"
	printf '\x85\x40,x\r\n' >> "$D/s.csv" # 0x8540 is unassigned in CP932
	size=$(( $(stat -c %s "$D/s.csv") - 6 ))
	refused 65 "s.csv:22: byte offset $size: not valid CP932" --purpose x --encoding cp932 "$D/s.csv"
}

@test "bad: a NUL byte" {
	printf 'a,b\n1,x\x00y\n' > "$D/n.csv"
	refused 65 "n.csv:2: byte offset 7: NUL byte" --purpose x "$D/n.csv"
}

@test "bad: a 10 MB field" {
	{ printf 'a,b\n1,"'; head -c 10000000 /dev/zero | tr '\0' 'x'; printf '"\n'; } > "$D/big.csv"
	refused 65 "big.csv:2: field 2: longer than 1048576 bytes" --purpose x "$D/big.csv"
}

@test "bad: a wrong check digit, never echoing the number" {
	gen --rows 600 --invalid-row 500 -o "$D/c.csv"
	refused 65 "c.csv:501: field 受給者の個人番号: check digit does not match" --purpose x "$D/c.csv"
	[[ ! "$stderr" =~ [0-9]{12} ]]
}

@test "bad: letters in a number field" {
	gen --rows 30 --invalid-row 7 --invalid-kind letters -o "$D/l.csv"
	refused 65 "l.csv:8: field 受給者の個人番号: not a number" --purpose x "$D/l.csv"
}

@test "bad: --encoding unknown" {
	gen --rows 3 -o "$D/a.csv"
	refused 64 "--encoding latin9: unknown" --purpose x --encoding latin9 "$D/a.csv"
}

@test "bad: --purpose missing" {
	gen --rows 3 -o "$D/a.csv"
	refused 64 "--purpose is required" "$D/a.csv"
}

@test "bad: a missing file" {
	refused 66 "nope.csv: No such file or directory" --purpose x "$D/nope.csv"
}

@test "bad: an unreadable file" {
	gen --rows 3 -o "$D/a.csv"
	chmod 000 "$D/a.csv"
	if [ "$(id -u)" -eq 0 ]; then
		# root reads anything: run as nobody, with a home nobody owns
		mkdir -m 700 "$D/nh" && chown nobody "$D/nh"
		chmod 755 "$D"
		run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env SPIF_HOME="$D/nh/home" SPIF_CONF=/nonexistent "$SPIF_BIN/spif" ingest --purpose x "$D/a.csv"
	else
		run --separate-stderr spif ingest --purpose x "$D/a.csv"
	fi
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"a.csv: Permission denied"* ]] || { echo "stderr: $stderr"; false; }
	one_line_stderr
	[ ! -e "$D/nh/home/catalog.db" ] || [ "$(sqlite3 "$D/nh/home/catalog.db" 'select count(*) from files')" = 0 ]
}

@test "bad: a catalog others can write" {
	gen --rows 3 -o "$D/a.csv"
	spif ingest --purpose x --print-id "$D/a.csv" >/dev/null 2>&1
	chmod o+w "$SPIF_HOME"
	run --separate-stderr spif ingest --purpose x "$D/a.csv"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"others can write"* ]]
	one_line_stderr
	[ -z "$output" ]
	chmod o-w "$SPIF_HOME"
	[ "$(spif catalog ls --json | wc -l)" -eq 1 ]
}

@test "bad: the disk fills up mid-run (small loop-mounted ext4)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a loop filesystem"
	truncate -s 4M "$D/small.img"
	mkfs.ext4 -q -F "$D/small.img"
	mkdir "$D/mnt"
	mount -o loop "$D/small.img" "$D/mnt" || skip "loop mounts are not available here"
	gen --rows 5000 -o "$D/a.csv"
	spif ingest --purpose x --print-id "$D/a.csv" >/dev/null 2>&1 # a catalog with a file in it
	before=$(catalog_state)
	run --separate-stderr spif ingest --purpose x --again --reason 再 -o "$D/mnt/out.ndjson" "$D/a.csv"
	ls -a "$D/mnt" > "$D/left"
	umount "$D/mnt"
	[ "$status" -eq 74 ]
	[[ "$stderr" == *"No space left on device"* ]]
	one_line_stderr
	[ "$(catalog_state)" = "$before" ]
	! grep -q 'out.ndjson' "$D/left" || false
}

@test "the summary prints a label, a purpose and field names with a line break or an escape sequence escaped" {
	gen --rows 3 -o "$D/esc.csv"
	run --separate-stderr spif ingest --purpose "$(printf 'p\033[2Jq')" --label "$(printf 'l1\nF000099 (forged): 1 records\033[31m')" \
		-o "$D/esc.ndjson" "$D/esc.csv"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c '^spif-ingest: F0')" -eq 2 ] # the summary and the schedule note
	[[ "$stderr" == *'(l1\nF000099 (forged): 1 records\x1b[31m): 3 records'* ]]
	[[ "$stderr" != *$'\033'* ]]
	# on a terminal (no -o): the summary block, escaped too
	command -v script >/dev/null || skip "script(1) is not installed"
	script -qec "spif ingest --purpose \"\$(printf 'p\\033[2Jq')\" --label \"\$(printf 'a\\nb')\" --again --reason t '$D/esc.csv'" \
		/dev/null > "$D/tty.out"
	grep -q 'a\\nb' "$D/tty.out"
	grep -q 'purpose:  p\\x1b\[2Jq' "$D/tty.out"
	! grep -q $'\033' "$D/tty.out"
}
