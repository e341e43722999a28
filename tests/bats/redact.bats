#!/usr/bin/env bats
# spif redact: every number found and removed, the bytes around them kept;
# --check as a gate, --report without values, operators, bad input.
load helper

setup() {
	setup_home
}

teardown() {
	teardown_gpg
}

# No Individual Number left in FILE (UTF-8), by a check that shares no code
# with spif: full-width digits become ASCII and every separator of the
# forms people type (- ‐ − － ー . ． space U+3000) one '-'; then every 12
# digits in a row, and every 4-4-4 with one separator or none between the
# groups, not touched by another digit (whatever stands beyond: a superset
# of what spif looks for), is tested for a valid check digit.  Says on which
# line, never the number.
no_valid_number() {
	perl -CSD -Mutf8 -e '
		my $bad = 0;
		while (my $l = <>) {
			$l =~ tr/０-９/0-9/;
			$l =~ s/[ .\x{2010}\x{2212}\x{FF0D}\x{30FC}\x{FF0E}\x{3000}-]/-/g;
			while ($l =~ /(?<![0-9])(?=([0-9]{4})-?([0-9]{4})-?([0-9]{4})(?![0-9]))/g) {
				my @d = split //, "$1$2$3";
				my @w = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2);
				my $s = 0;
				$s += $d[$_] * $w[$_] for 0 .. 10;
				my $r = $s % 11;
				next unless ($r <= 1 ? 0 : 11 - $r) == $d[11];
				print STDERR "line $.: a valid Individual Number is left\n";
				$bad++;
			}
		}
		exit($bad > 0);' "$1"
}

# The same check, on a string.
no_valid_number_in() {
	printf '%s\n' "$1" > "$D/str.txt"
	no_valid_number "$D/str.txt"
}

@test "redact: records from ingest lose every number, in fields and in free text" {
	gen --rows 500 --text-numbers --forms mixed -o "$D/a.csv"
	spif ingest --purpose x "$D/a.csv" 2>/dev/null > "$D/a.ndjson"
	run -1 no_valid_number "$D/a.ndjson" # the check does see the numbers
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
	iconv -f CP932 -t UTF-8 "$D/s.csv" > "$D/s8.csv"
	run -1 no_valid_number "$D/s8.csv"
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
	! grep -qE '[0-9]{4}' "$D/rep.ndjson" || false
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
	# 摘要欄 (the last column) is emptied where it held a number, and kept
	# where it did not
	printf 'id,受給者の個人番号,摘要欄\n1,621498320257,前職分個人番号６２１４－９８３２－０２５７を含む\n2,123456789018,年末調整済み\n3,,"注文番号 6214 9832 0257, 別送"\n' > "$D/e.csv"
	run --separate-stderr spif redact --field 摘要欄=empty --report "$D/rep" "$D/e.csv"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = '1,************,' ]
	[ "${lines[2]}" = '2,************,年末調整済み' ]
	[ "${lines[3]}" = '3,,""' ] # it was quoted, and stays so
	[ "$(grep -c '"field":"摘要欄".*"op":"empty"' "$D/rep")" -eq 2 ]
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
	# offsets count from the start of the text, past the first window too
	run --separate-stderr spif redact --format text --check --report "$D/rep" "$D/mail.txt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "spif-redact: 2 windows, 3 numbers found"* ]]
	at=$(perl -CSD -Mutf8 -0777 -ne 'print index($_, "末尾 6") + 3' "$D/mail.txt")
	[[ "$(sed -n 3p "$D/rep")" == '{"row":1,"field":"text","offset":'"$at"',"form":"plain",'* ]]
}

@test "redact --format text: CP932 half-width katakana (1 byte in, 3 out) to the end of the file" {
	# ｱ is one byte in CP932 and three in UTF-8: the decoded text outgrows
	# what was read, and the end of the file must still be read and scanned
	n=$(valid_number 31415926535)
	perl -e 'print(("\xb1" x 79) . "\n") for 1 .. 25000' > "$D/k.txt"
	printf '末尾 個人番号 %s\n' "$n" | iconv -f UTF-8 -t CP932 >> "$D/k.txt"
	run --separate-stderr spif redact --format text --encoding cp932 --check "$D/k.txt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *" 1 number found (1 high, 0 low confidence)" ]]
	run --separate-stderr spif redact --format text --encoding cp932 -o "$D/out.txt" "$D/k.txt"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$D/k.txt")" -eq "$(stat -c %s "$D/out.txt")" ]
	[ "$(tail -n 1 "$D/out.txt" | iconv -f CP932 -t UTF-8)" = '末尾 個人番号 ************' ]
	cmp -l "$D/k.txt" "$D/out.txt" | awk '$3 != 52 { bad++ } END { exit bad > 0 }'
	[ "$(cmp -l "$D/k.txt" "$D/out.txt" | wc -l)" -eq 12 ]
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

@test "redact: a number one separator away from a date, a postal code or a count is found" {
	printf 'id,摘要欄\n1,個人番号 2026-10-16 6214-9832-0257\n2,個人番号 〒100-0001 6214-9832-0257\n3,個人番号 No.3 6214 9832 0257\n4,個人番号 6214 9832 0257 1件\n5,個人番号 16 621498320257\n6,個人番号 2026．10．16　６２１４．９８３２．０２５７\n7,カード番号 1234-6214-9832-0257\n8,カード番号 1234 5678 9018 6214 9832 0257\n' > "$D/t.csv"
	run --separate-stderr spif redact --min-confidence high --report "$D/rep" "$D/t.csv"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = '1,個人番号 2026-10-16 ****-****-****' ]
	[ "${lines[2]}" = '2,個人番号 〒100-0001 ****-****-****' ]
	[ "${lines[3]}" = '3,個人番号 No.3 **** **** ****' ]
	[ "${lines[4]}" = '4,個人番号 **** **** **** 1件' ]
	[ "${lines[5]}" = '5,個人番号 16 ************' ]
	[ "${lines[6]}" = '6,個人番号 2026．10．16　＊＊＊＊．＊＊＊＊．＊＊＊＊' ]
	# card numbers (4-4-4-4 with one kind of separator) give no number
	# from three of their groups
	[ "${lines[7]}" = '7,カード番号 1234-6214-9832-0257' ]
	[ "${lines[8]}" = '8,カード番号 1234 5678 9018 6214 9832 0257' ]
	[ "$(grep -c '"confidence":"high","keyword":"個人番号"' "$D/rep")" -eq 6 ]
	[ "$(wc -l < "$D/rep")" -eq 6 ]
}

@test "redact: fields whose names begin with @ are scanned, but for spif's own @file and @row" {
	printf '{"@file":"F000001","@row":3,"@note":"個人番号621498320257","a":"x","@n":621498320257}\n' > "$D/m.ndjson"
	run --separate-stderr spif redact --check --report "$D/rep" "$D/m.ndjson"
	[ "$status" -eq 1 ]
	[[ "$(sed -n 1p "$D/rep")" == '{"row":3,"field":"@note","offset":4,"form":"plain","confidence":"high","keyword":"個人番号","op":"mask"}' ]]
	[[ "$(sed -n 2p "$D/rep")" == '{"row":3,"field":"@n",'* ]]
	run --separate-stderr spif redact "$D/m.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = '{"@file":"F000001","@row":3,"@note":"個人番号************","a":"x","@n":"************"}' ]
	# metadata that is not what spif writes is scanned too, and a number
	# there is never reported as the row
	printf '{"@file":"F621498320257","@row":621498320257,"a":"x"}\n' > "$D/m.ndjson"
	run --separate-stderr spif redact --report "$D/rep" "$D/m.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = '{"@file":"F************","@row":"************","a":"x"}' ]
	no_valid_number "$D/rep"
	[[ "$(sed -n 1p "$D/rep")" == '{"row":1,"field":"@file",'* ]]
	# the key record of spif encrypt --fields is an object, not a string:
	# refused like any other, nothing passed on unscanned
	printf '{"@spif-encrypted":{"v":1,"note":"621498320257"}}\n' > "$D/k.ndjson"
	run --separate-stderr spif redact "$D/k.ndjson"
	[ "$status" -eq 65 ]
	[ -z "$output" ]
}

@test "redact: a number as a CSV header or an NDJSON key is found, counted and masked" {
	n=$(valid_number 27182818284)
	printf 'name,%s\n山田,x\n佐藤,y\n' "$n" > "$D/h.csv"
	run --separate-stderr spif redact --check --report "$D/rep" "$D/h.csv"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"2 records, 1 number found (0 high, 1 low confidence)" ]]
	[ "$(cat "$D/rep")" = '{"row":1,"field":"************","offset":0,"form":"plain","confidence":"low","keyword":null,"op":"mask","in":"name"}' ]
	# fail closed: a name is never a way past the gate
	run --separate-stderr spif redact --check --min-confidence high "$D/h.csv"
	[ "$status" -eq 1 ]
	run --separate-stderr spif redact -o "$D/r.csv" "$D/h.csv"
	[ "$status" -eq 0 ]
	[ "$(head -n 1 "$D/r.csv")" = 'name,************' ]
	[ "$(sed -n 2p "$D/r.csv")" = '山田,x' ]
	no_valid_number "$D/r.csv"
	[[ "$stderr" == *"1 number removed"* ]]
	# a header with no records
	printf '氏名,個人番号 %s\r\n' "$n" > "$D/h0.csv"
	run --separate-stderr spif redact --check "$D/h0.csv"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"0 records, 1 number found (1 high, 0 low confidence)" ]]
	spif redact "$D/h0.csv" 2>/dev/null > "$D/r0.csv"
	[ "$(cat "$D/r0.csv")" = $'氏名,個人番号 ************\r' ]
	# NDJSON: a key in every record that has it
	printf '{"%s":"x","a":"y"}\n{"b":"z"}\n{"%s":"w"}\n' "$n" "$n" > "$D/k.ndjson"
	run --separate-stderr spif redact --check --report "$D/rep" "$D/k.ndjson"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"3 records, 2 numbers found"* ]]
	[[ "$(sed -n 2p "$D/rep")" == '{"row":3,"field":"************",'*'"in":"name"}' ]]
	no_valid_number "$D/rep"
	run --separate-stderr spif redact "$D/k.ndjson"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"************":"x","a":"y"}' ]
	[ "${lines[2]}" = '{"************":"w"}' ]
	# and CSV to NDJSON: the masked name as the key
	run --separate-stderr spif redact --to ndjson "$D/h.csv"
	[ "${lines[0]}" = '{"name":"山田","************":"x"}' ]
}

@test "redact: number fields by their header name, and a keyword in a name as context" {
	printf '共通番号,My Number,個人番号カード交付日,個人番号確認済,通知カード番号,マイナンバーカード番号,備考\n6214983202,621498320258,2026-10-16,1,123456789012,621498320257,621498320257\n' > "$D/t.csv"
	run --separate-stderr spif redact --min-confidence high --report "$D/rep" "$D/t.csv"
	[ "$status" -eq 0 ]
	# 共通番号 and My Number are number fields: every digit goes, valid or
	# not; a date, a flag and another card's number are not, and keep theirs
	[ "${lines[1]}" = '**********,************,2026-10-16,1,123456789012,************,621498320257' ]
	[[ "$stderr" == *"1 low-confidence left"* ]]
	grep -q '"field":"マイナンバーカード番号","offset":0,"form":"plain","confidence":"high","keyword":"マイナンバーカード番号"' "$D/rep"
	grep -q '"field":"備考".*"confidence":"low"' "$D/rep"
	for h in 個人識別番号 mynumber My_Number my-number マイナンバー（本人） 扶養親族1_個人番号; do
		printf 'id,%s\n1,1234\n' "$h" > "$D/h.csv"
		run --separate-stderr spif redact "$D/h.csv"
		[ "${lines[1]}" = '1,****' ]
	done
}

@test "redact --report: the op is what was applied, drop included" {
	printf 'id,受給者の個人番号,摘要欄,備考\n1,621498320257,個人番号 6214-9832-0257,注文番号 123456789018\n' > "$D/t.csv"
	run --separate-stderr spif redact --op drop --report "$D/rep" "$D/t.csv"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'id,摘要欄,備考' ]
	[ "${lines[1]}" = '1,個人番号 ****-****-****,注文番号 ************' ]
	grep -q '"field":"受給者の個人番号".*"op":"drop"' "$D/rep"
	grep -q '"field":"摘要欄".*"op":"mask"' "$D/rep"
	run --separate-stderr spif redact --field 摘要欄=drop --field 備考=empty --report "$D/rep" "$D/t.csv"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'id,受給者の個人番号,備考' ]
	[ "${lines[1]}" = '1,************,' ]
	grep -q '"field":"受給者の個人番号".*"op":"mask"' "$D/rep"
	grep -q '"field":"摘要欄".*"op":"drop"' "$D/rep"
	grep -q '"field":"備考".*"op":"empty"' "$D/rep"
	run --separate-stderr spif redact --check --field 受給者の個人番号=drop --report "$D/rep" "$D/t.csv"
	[ "$status" -eq 1 ]
	grep -q '"field":"受給者の個人番号".*"op":"drop"' "$D/rep"
}

@test "redact: a CSV or TSV with a header and no records comes back as its header" {
	printf '"氏名","受給者の個人番号","摘要欄"\r\n' > "$D/h.csv"
	run --separate-stderr spif redact -o "$D/r.csv" "$D/h.csv"
	[ "$status" -eq 0 ]
	cmp "$D/h.csv" "$D/r.csv"
	printf '氏名\t受給者の個人番号\n' > "$D/h.tsv"
	spif redact "$D/h.tsv" 2>/dev/null > "$D/r.tsv"
	cmp "$D/h.tsv" "$D/r.tsv"
	printf '\xef\xbb\xbfid,摘要欄' > "$D/b.csv" # a BOM, no line break at the end
	spif redact "$D/b.csv" 2>/dev/null > "$D/rb.csv"
	cmp "$D/b.csv" "$D/rb.csv"
	printf '\x8e\x81\x96\xbc,\x8c\xc2\x90\x6c\x94\xd4\x8d\x86\r\n' > "$D/s.csv" # 氏名,個人番号 in CP932
	spif redact "$D/s.csv" 2>/dev/null > "$D/rs.csv"
	cmp "$D/s.csv" "$D/rs.csv"
	run --separate-stderr spif redact --check "$D/h.csv"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# the fields named are checked against the header
	run --separate-stderr spif redact --field nosuch "$D/h.csv"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--field nosuch: no such field in"* ]]
	one_line_stderr
	[ -z "$output" ]
	run --separate-stderr spif redact --number-field nosuch "$D/h.tsv"
	[ "$status" -eq 64 ]
	run --separate-stderr spif redact --field 摘要欄=empty "$D/h.csv"
	[ "$status" -eq 0 ]
}

@test "redact --corporate: 13-digit 法人番号 too" {
	printf 'id,摘要欄\n1,法人番号：5835678256246\n2,法人番号 5-8356-7825-6246 と 個人番号 621498320257\n' > "$D/t.csv"
	run --separate-stderr spif redact --report "$D/rep" "$D/t.csv"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = '1,法人番号：5835678256246' ]
	[ "${lines[2]}" = '2,法人番号 5-8356-7825-6246 と 個人番号 ************' ]
	run --separate-stderr spif redact --corporate --min-confidence high --report "$D/rep" "$D/t.csv"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = '1,法人番号：*************' ]
	[ "${lines[2]}" = '2,法人番号 *-****-****-**** と 個人番号 ************' ]
	[ "$(grep -c '"keyword":"法人番号"' "$D/rep")" -eq 2 ]
	run --separate-stderr spif redact --corporate --check "$D/t.csv"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *" 3 numbers found"* ]]
}

@test "redact --to and --output-encoding: other formats and encodings, the same bytes but the digits" {
	gen --rows 300 --text-numbers --forms mixed -o "$D/s8.csv"
	gen --rows 300 --text-numbers --forms mixed --encoding cp932 -o "$D/s932.csv"
	spif redact -o "$D/r8.csv" "$D/s8.csv" 2>/dev/null
	no_valid_number "$D/r8.csv"
	# UTF-8 in, CP932 out: byte for byte what redacting the CP932 file gives
	spif redact --output-encoding cp932 -o "$D/r932.csv" "$D/s8.csv" 2>/dev/null
	spif redact -o "$D/r932b.csv" "$D/s932.csv" 2>/dev/null
	cmp "$D/r932.csv" "$D/r932b.csv"
	cmp -l "$D/s932.csv" "$D/r932.csv" | awk '$3 != 52 && $3 != 201 && $3 != 226 { bad++ } END { exit bad > 0 }'
	# and back: CP932 in, UTF-8 out
	spif redact --output-encoding utf-8 "$D/s932.csv" 2>/dev/null > "$D/r8b.csv"
	cmp "$D/r8.csv" "$D/r8b.csv"
	# CSV -> TSV -> CSV and CSV -> NDJSON -> CSV give the redacted CSV again
	spif redact --to tsv "$D/s8.csv" 2>/dev/null > "$D/r.tsv"
	no_valid_number "$D/r.tsv"
	spif redact --format tsv --to csv "$D/r.tsv" 2>/dev/null > "$D/rt.csv"
	cmp "$D/r8.csv" "$D/rt.csv"
	spif redact --to ndjson "$D/s8.csv" 2>/dev/null > "$D/r.ndjson"
	no_valid_number "$D/r.ndjson"
	run --separate-stderr spif redact --format ndjson --to csv -o "$D/rn.csv" "$D/r.ndjson"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *" 0 numbers removed"* ]]
	cmp "$D/r8.csv" "$D/rn.csv"
}

@test "redact --op pseudonym: in free text and --format text, the number field's token" {
	spif redact --new-key k 2>/dev/null
	printf 'id,受給者の個人番号,摘要欄\n1,6214.9832.0257,前職分個人番号６２１４－９８３２－０２５７を含む\n2,６２１４．９８３２．０２５７,621498320257\n' > "$D/t.csv"
	run --separate-stderr spif redact --op pseudonym --key k "$D/t.csv"
	[ "$status" -eq 0 ]
	tok=$(echo "${lines[1]}" | cut -d, -f2)
	[[ "$tok" =~ ^PSN:[A-Z2-7]{26}$ ]]
	[ "${lines[1]}" = "1,$tok,前職分個人番号${tok}を含む" ]
	[ "${lines[2]}" = "2,$tok,$tok" ]
	printf 'マイナンバー：6214 9832 0257 を確認\n' > "$D/m.txt"
	run --separate-stderr spif redact --op pseudonym --key k "$D/m.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "マイナンバー：$tok を確認" ]
}

@test "the labelled corpus (UTF-8, CP932): every planted number found where its label says, none elsewhere" {
	for enc in utf-8 cp932; do
		gen --corpus --rows 3000 --encoding $enc --labels "$D/labels.tsv" -o "$D/c.csv"
		spif redact --report "$D/rep" "$D/c.csv" > /dev/null 2>&1
		# numbers one separator away from other digits are in it
		[ "$(grep -c $'\tnumber\tnear-' "$D/labels.tsv")" -gt 100 ]
		perl -CSD -e '
			my (%lab, %got, $bad);
			open(my $l, "<", $ARGV[0]) or die;
			while (<$l>) {
				next if /^#/;
				chomp;
				my @c = split /\t/;
				$lab{"$c[0]\t$c[1]\t$c[2]"} = $c[3];
			}
			open(my $r, "<", $ARGV[1]) or die;
			while (<$r>) {
				/"row":(\d+),"field":"([^"]*)","offset":(\d+)/ or die "a report line without row, field, offset";
				my $k = "$1\t$2\t$3";
				$got{$k} = 1;
				my $kind = $lab{$k} // "unlabelled place";
				next if $kind eq "number" || $kind eq "decoy-valid";
				print STDERR "a finding on a $kind\n";
				$bad++;
			}
			for my $k (keys %lab) {
				next unless $lab{$k} eq "number" && !$got{$k};
				print STDERR "a number missed (row, field, offset: $k)\n";
				$bad++;
			}
			exit($bad > 0);' "$D/labels.tsv" "$D/rep"
	done
}

# ---- bad input ----------------------------------------------------------

@test "bad: invalid JSON on line N (exit 65 naming the line), no number in the message" {
	printf '{"a":"621498320257"}\n{"個人番号":"６２１４－９８３２－０２５７","b":6214-9832-0257}\n' > "$D/b.ndjson"
	run --separate-stderr spif redact "$D/b.ndjson"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"b.ndjson:2:"* ]]
	one_line_stderr
	no_valid_number_in "$stderr"
	[[ ! "$stderr" =~ [0-9]{4} ]]
	for bad in '{"b":"621498320257"' '{"621498320257":1}' '{"b":621498320257}' '["621498320257"]'; do
		printf '%s\n' "$bad" > "$D/b.ndjson"
		run --separate-stderr spif redact --check "$D/b.ndjson"
		[ "$status" -eq 65 ]
		one_line_stderr
		no_valid_number_in "$stderr"
	done
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
	[[ "$stderr" == "spif-redact: --op shuffle: unknown operator (mask, empty, drop, pseudonym)"* ]]
	one_line_stderr
	[ -z "$output" ]
	run --separate-stderr spif redact --field a=blur x.csv
	[ "$status" -eq 64 ]
	[[ "$stderr" == "spif-redact: --field a=blur: unknown operator (mask, empty, drop, pseudonym)"* ]]
	one_line_stderr
	[ -z "$output" ]
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
	# right after a number (plain, and full-width 4-4-4): the message names
	# the offset, never the number
	printf 'a,b\r\n1,621498320257\x85\x40\r\n' > "$D/s.csv"
	run --separate-stderr spif redact --encoding cp932 "$D/s.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"s.csv:2: byte offset 19: not valid CP932"* ]]
	one_line_stderr
	no_valid_number_in "$stderr"
	printf 'a,b\r\n1,\x82\x55\x82\x51\x82\x50\x82\x53\x81\x7c\x82\x58\x82\x57\x82\x52\x82\x51\x81\x7c\x82\x4f\x82\x51\x82\x54\x82\x56\x85\x40\r\n' > "$D/s.csv"
	iconv -f CP932 -t UTF-8 < <(head -c -4 "$D/s.csv") | grep -q '６２１４－９８３２－０２５７'
	run --separate-stderr spif redact --encoding cp932 "$D/s.csv"
	[ "$status" -eq 65 ]
	one_line_stderr
	no_valid_number_in "$stderr"
	printf '個人番号 621498320257\n\xff\n' > "$D/t.txt"
	run --separate-stderr spif redact --format text "$D/t.txt"
	[ "$status" -eq 65 ]
	one_line_stderr
	no_valid_number_in "$stderr"
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
	! grep -qE '[0-9]{12}' "$D/rep" || false
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
	no_valid_number "$D/kept.ndjson"
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
	catalog_sql "UPDATE copies SET state = 'disposed'"
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

@test "redact --format text: a number written with a newer separator is not cut at a window's end" {
	# 3 MB of lines, each a generated number grouped with _, U+00A0 or
	# U+30FB: every window boundary falls somewhere in them, and the reader
	# must not end a window inside a number, whatever its separator (the
	# window rule and the detector share one list of separators).
	perl -CSD -e 'srand(7); my @s = ("_", "\x{a0}", "\x{30fb}");
	  for my $l (1 .. 120000) { my @d = map { int(rand(10)) } 1 .. 11; my $t = 0;
	    $t += $d[$_] * (6,5,4,3,2,7,6,5,4,3,2)[$_] for 0 .. 10; my $r = $t % 11;
	    my $n = join("", @d, $r <= 1 ? 0 : 11 - $r); my $p = $s[$l % 3];
	    print "line $l ", join($p, substr($n,0,4), substr($n,4,4), substr($n,8,4)), "\n" }' > "$D/t.txt"
	run --separate-stderr spif redact --format text --check "$D/t.txt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "spif-redact: "*" windows, 120000 numbers found"* ]] || { echo "$stderr"; false; }
}

@test "redact --format text: rows of numbers separated only by spaces and line breaks lose every one" {
	# the whole text is one run of digits and separators: the window must
	# still not end inside a number (it goes after a line break)
	perl -e 'srand(3); for my $l (1 .. 11540) { my @o; for (1 .. 20) {
	    my @d = map { int(rand(10)) } 1 .. 11; my $t = 0;
	    $t += $d[$_] * (6,5,4,3,2,7,6,5,4,3,2)[$_] for 0 .. 10; my $r = $t % 11;
	    push @o, join("", @d, $r <= 1 ? 0 : 11 - $r) } print join(" ", @o), "\n" }' > "$D/rows.txt"
	run --separate-stderr spif redact --format text -o "$D/out.txt" "$D/rows.txt"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"230800 numbers"* ]] || { echo "$stderr"; false; }
	run grep -c '[0-9]' "$D/out.txt"
	[ "$output" = 0 ]
}
