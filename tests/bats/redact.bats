#!/usr/bin/env bats
# spif redact: every number found and removed, the bytes around them kept;
# --check as a gate, --report without values, operators, bad input.
load helper

setup() {
	setup_home
}

# No 12-digit run that passes the check digit, anywhere in FILE.
no_valid_number() {
	valid_numbers_in "$1" "$D/left"
	[ ! -s "$D/left" ] || { echo "numbers left: $(wc -l < "$D/left")"; return 1; }
	! grep -qP '[０-９]{4}[－ー\x{3000} -]?[０-９]{4}[－ー\x{3000} -]?[０-９]{4}' "$1"
}

@test "redact: records from ingest lose every number, in fields and in free text" {
	gen --rows 500 --text-numbers --forms mixed -o "$D/a.csv"
	spif ingest --purpose x "$D/a.csv" 2>/dev/null > "$D/a.ndjson"
	run --separate-stderr spif redact "$D/a.ndjson"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 500 ]
	[[ "${lines[0]}" == '{"@file":"F000001","@row":2,'* ]]
	printf '%s\n' "$output" > "$D/r.ndjson"
	no_valid_number "$D/r.ndjson"
	[[ "$stderr" =~ ^spif-redact:\ 500\ records,\ [0-9]+\ numbers\ removed ]]
	# the rest is untouched: names and amounts are still there
	grep -q '支払金額' "$D/r.ndjson"
}

@test "redact: CP932 CSV comes back with the same bytes except the removed digits" {
	gen --rows 400 --encoding cp932 --text-numbers --forms mixed -o "$D/s.csv"
	run --separate-stderr spif redact --format csv -o "$D/r.csv" "$D/s.csv"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$D/s.csv")" -eq "$(stat -c %s "$D/r.csv")" ]
	# every changed byte is '*' (052) or a byte of ＊ (0x81 0x96 = 201 226)
	cmp -l "$D/s.csv" "$D/r.csv" | awk '$3 != 52 && $3 != 201 && $3 != 226 { bad++ } END { exit bad > 0 }'
	iconv -f CP932 -t UTF-8 "$D/r.csv" > "$D/r8.csv"
	no_valid_number "$D/r8.csv"
	grep -q '髙' "$D/r8.csv" || grep -q '﨑' "$D/r8.csv"
}

@test "redact: a CSV that ends without a line break ends without one (thousands of rows)" {
	gen --rows 3000 -o "$D/s.csv"
	head -c -2 "$D/s.csv" > "$D/n.csv" # drop the final CRLF
	[ "$(tail -c 1 "$D/n.csv" | od -An -c | tr -d ' ')" != '\n' ]
	spif redact --format csv -o "$D/r.csv" "$D/n.csv" 2>/dev/null
	[ "$(stat -c %s "$D/n.csv")" -eq "$(stat -c %s "$D/r.csv")" ]
	cmp -l "$D/n.csv" "$D/r.csv" | awk '$3 != 52 { bad++ } END { exit bad > 0 }'
}

@test "redact: a quoted header over partly quoted records keeps each field's quoting" {
	printf '"氏名","個人番号","摘要欄"\r\n髙橋,"%s",なし\r\n"山﨑",%s,"a,b"\r\n' \
		"$(valid_number 12345678901)" "$(valid_number 98765432109)" > "$D/q.csv"
	spif redact --format csv -o "$D/r.csv" "$D/q.csv" 2>/dev/null
	[ "$(stat -c %s "$D/q.csv")" -eq "$(stat -c %s "$D/r.csv")" ]
	[ "$(cmp -l "$D/q.csv" "$D/r.csv" | awk '$3 == 52' | wc -l)" -eq 24 ]
	cmp -l "$D/q.csv" "$D/r.csv" | awk '$3 != 52 { bad++ } END { exit bad > 0 }'
}

@test "redact --check: exit 1 when a number is found, 0 when none, and writes nothing" {
	gen --rows 50 -o "$D/a.csv"
	run --separate-stderr spif redact --check "$D/a.csv"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	spif redact -o "$D/clean.csv" "$D/a.csv" 2>/dev/null
	run --separate-stderr spif redact --check "$D/clean.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *" 0 numbers found"* ]]
}

@test "redact --report: one finding per number, never the value" {
	printf 'id,摘要欄\n1,前職の個人番号は6214-9832-0257です\n2,注文番号 202610160001\n3,なし\n' > "$D/t.csv"
	run --separate-stderr spif redact --report "$D/rep.ndjson" "$D/t.csv"
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$D/rep.ndjson")" -eq 2 ]
	run cat "$D/rep.ndjson"
	[[ "${lines[0]}" == '{"row":2,"field":"摘要欄","offset":8,"form":"grouped","confidence":"high","keyword":"個人番号","op":"mask"}' ]]
	[[ "${lines[1]}" == *'"row":3'*'"confidence":"low"'*'"keyword":null'* ]]
	! grep -qE '[0-9]{4}' "$D/rep.ndjson"
}

@test "redact --min-confidence high keeps a checksum-valid number with no context" {
	printf 'id,摘要欄\n1,個人番号621498320257\n2,注文番号 202610160001\n' > "$D/t.csv"
	run --separate-stderr spif redact --min-confidence high "$D/t.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *'個人番号************'* ]]
	[[ "$output" == *'注文番号 202610160001'* ]]
	[[ "$stderr" == *"1 low-confidence left"* ]]
	run --separate-stderr spif redact "$D/t.csv"
	[[ "$output" == *'注文番号 ************'* ]]
}

@test "redact: a mistyped number in a number field still loses every digit" {
	printf '氏名,受給者の個人番号\n山田,621498320258\n佐藤,6214-9832\n' > "$D/t.csv"
	run --separate-stderr spif redact "$D/t.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *'山田,************'* ]]
	[[ "$output" == *'佐藤,****-****'* ]]
}

@test "redact operators: drop, empty, per-field choice" {
	gen --rows 20 --columns narrow --text-numbers -o "$D/a.csv"
	run --separate-stderr spif redact --field 受給者の個人番号=drop --field 摘要欄=empty "$D/a.csv"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" != *受給者の個人番号* ]]
	[[ "${lines[0]}" == *扶養親族1_個人番号* ]]
	run --separate-stderr spif redact --op empty "$D/a.csv"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$D/e.csv"
	no_valid_number "$D/e.csv"
}

@test "redact --op pseudonym: stable for one key, different for another, never a number" {
	printf 'id,受給者の個人番号\n1,621498320257\n2,６２１４－９８３２－０２５７\n3,123456789018\n' > "$D/t.csv"
	spif redact --new-key tax2026 2>/dev/null
	spif redact --new-key other 2>/dev/null
	[ "$(stat -c %a "$SPIF_HOME/keys/psn-tax2026.key")" = 600 ]
	run --separate-stderr spif redact --op pseudonym --key tax2026 "$D/t.csv"
	[ "$status" -eq 0 ]
	a=$(echo "${lines[1]}" | cut -d, -f2); b=$(echo "${lines[2]}" | cut -d, -f2); c=$(echo "${lines[3]}" | cut -d, -f2)
	[[ "$a" =~ ^PSN:[A-Z2-7]{26}$ ]]
	[ "$a" = "$b" ] # the same number in another form: the same pseudonym
	[ "$a" != "$c" ]
	run --separate-stderr spif redact --op pseudonym --key other "$D/t.csv"
	[ "$(echo "${lines[1]}" | cut -d, -f2)" != "$a" ]
	run spif catalog log --json
	[[ "$output" == *'"action":"key.create"'* ]]
}

@test "redact --format text: mail bodies and logs, numbers near a window boundary too" {
	{ printf 'お世話になっております。\nマイナンバー：６２１４　９８３２　０２５７\n'
	  head -c 1048000 /dev/zero | tr '\0' 'a'; printf '\n個人番号 1234-5678-9018 を送付します\n'
	  head -c 2000 /dev/zero | tr '\0' 'b'; printf '\n末尾 621498320257\n'; } > "$D/mail.txt"
	run --separate-stderr spif redact --format text -o "$D/out.txt" "$D/mail.txt"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$D/mail.txt")" -eq "$(stat -c %s "$D/out.txt")" ]
	grep -q 'マイナンバー：＊＊＊＊　＊＊＊＊　＊＊＊＊' "$D/out.txt"
	grep -q '個人番号 \*\*\*\*-\*\*\*\*-\*\*\*\* を送付します' "$D/out.txt"
	grep -q '末尾 \*\*\*\*\*\*\*\*\*\*\*\*' "$D/out.txt"
	run spif redact --format text --check "$D/out.txt"
	[ "$status" -eq 0 ]
}

@test "redact -o registers the redacted copy of the file its records came from" {
	gen --rows 30 -o "$D/a.csv"
	spif ingest --purpose x "$D/a.csv" 2>/dev/null | spif redact -o "$D/r.ndjson" 2>/dev/null
	run spif catalog show F000001 --json
	[[ "$output" == *'"kind":"output"'*"$D/r.ndjson"* ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"redact"'* ]]
}

@test "redact --help" {
	run spif redact --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spif redact"* ]]
}

# ---- bad input ----------------------------------------------------------

@test "bad: invalid JSON on line N (exit 65 naming the line)" {
	printf '{"a":"621498320257"}\n{"a":"x"\n' > "$D/b.ndjson"
	run --separate-stderr spif redact "$D/b.ndjson"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"b.ndjson:2:"* ]]
	one_line_stderr
	[[ ! "$stderr" =~ [0-9]{12} ]]
}

@test "bad: an unknown field in --field is refused, never skipped (exit 64)" {
	printf 'a,b\n1,621498320257\n' > "$D/t.csv"
	run --separate-stderr spif redact --field 個人番号=drop "$D/t.csv"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--field 個人番号: no such field"* ]]
	one_line_stderr
	[ -z "$output" ]
}

@test "bad: an unknown operator" {
	run --separate-stderr spif redact --op shuffle x.csv
	[ "$status" -eq 64 ]
	run --separate-stderr spif redact --field a=blur x.csv
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "bad: a pseudonym key that does not exist (exit 69)" {
	printf 'a,受給者の個人番号\n1,621498320257\n' > "$D/t.csv"
	run --separate-stderr spif redact --op pseudonym --key nosuch "$D/t.csv"
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"pseudonym key nosuch"* ]]
	[ -z "$output" ]
}

@test "bad: undecodable bytes in CP932 input (exit 65 with the offset)" {
	printf 'a,b\r\n1,\x85\x40\r\n' > "$D/s.csv"
	run --separate-stderr spif redact --encoding cp932 "$D/s.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"s.csv:2: byte offset 7: not valid CP932"* ]]
	one_line_stderr
}

@test "bad: an empty input is exit 0 with no output" {
	: > "$D/e.ndjson"
	run --separate-stderr spif redact "$D/e.ndjson"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr spif redact --format text /dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "no message ever shows a found number" {
	gen --rows 40 --text-numbers --invalid-row 5 -o "$D/a.csv"
	run --separate-stderr spif redact --check --report "$D/rep" "$D/a.csv"
	[[ ! "$stderr" =~ [0-9]{12} ]]
	! grep -qE '[0-9]{12}' "$D/rep"
}

@test "redact --file: keep the record, lose the number (vault copy rewritten, old one crypto-erased)" {
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
	gen --rows 300 --text-numbers -o "$D/a.csv"
	spif ingest --purpose 個人住民税 --store --print-id "$D/a.csv" >/dev/null 2>&1
	old=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM copies WHERE kind = 'vault'")
	# a plaintext copy with numbers still exists: refused, nothing changed
	run --separate-stderr spif redact --file F000001
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"still has a copy with numbers outside the vault"* ]]
	spif shred "$D/a.csv" >/dev/null
	run --separate-stderr spif redact --file F000001 --reason 保存期間満了後も記録を保管
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^DC-[0-9]{4}-[0-9]{6}$ ]]
	id=$output
	[ ! -e "$old" ]
	run spif catalog show F000001 --json
	[[ "$output" == *'"state":"redacted"'* ]]
	[[ "$output" == *'"number_fields":[]'* ]]
	spif vault cat F000001 > "$D/kept.ndjson"
	[ "$(wc -l < "$D/kept.ndjson")" -eq 300 ]
	valid_numbers_in "$D/kept.ndjson" "$D/n"
	[ ! -s "$D/n" ]
	run spif redact --check "$D/kept.ndjson"
	[ "$status" -eq 0 ]
	grep -q '受給者の氏名' "$D/kept.ndjson"
	run spif catalog cert show "$id" --format json
	[[ "$output" == *'"kind":"redaction"'* ]]
	[[ "$output" == *'"category":"Purge (cryptographic erase)"'* ]]
	[[ "$output" == *'"result":"passed: no number in the new copy; the old key is in neither file"'* ]]
	run spif catalog cert verify "$id"
	[ "$status" -eq 0 ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "bad: redact --file of a file with no vault copy, or an unknown one" {
	gen --rows 5 -o "$D/a.csv"
	spif ingest --purpose x --print-id "$D/a.csv" >/dev/null 2>&1
	rm "$D/a.csv"
	sqlite3 "$SPIF_HOME/catalog.db" "UPDATE copies SET state = 'disposed'"
	run --separate-stderr spif redact --file F000001
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"no vault copy"* ]]
	run --separate-stderr spif redact --file F000007
	[ "$status" -eq 65 ]
	run --separate-stderr spif redact --file F000001 --min-confidence high
	[ "$status" -eq 64 ]
}

@test "redact --check --report -: the findings on standard output, no file named -" {
	gen --rows 20 -o "$D/a.csv"
	cd "$D"
	run --separate-stderr spif redact --check --report - a.csv
	[ "$status" -eq 1 ]
	[ ! -e "$D/-" ]
	[ "${#lines[@]}" -gt 20 ]
	[[ "${lines[0]}" == '{'*'"confidence"'* ]]
}

@test "bad: --report - while the records go to standard output; --output-encoding with NDJSON" {
	gen --rows 5 -o "$D/a.csv"
	cd "$D"
	run --separate-stderr spif redact --report - a.csv
	[ "$status" -eq 64 ]
	one_line_stderr
	[[ "$stderr" == *"standard output carries the records"* ]]
	[ ! -e "$D/-" ]
	run --separate-stderr spif redact --to ndjson --output-encoding cp932 a.csv
	[ "$status" -eq 64 ]
	one_line_stderr
	[[ "$stderr" == *"NDJSON is UTF-8"* ]]
}
