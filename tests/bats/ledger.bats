#!/usr/bin/env bats
# spif catalog report --ledger and cert show --format pdf: the paper an
# office files.  The PDF's text (pdftotext) holds every item the text
# format holds, page n of m over a ledger of several pages, the footer's
# key fingerprint is the one spif catalog key export prints; one page of
# each kind is rendered to PNG under tests/out/ for a person to look at.
# The certificate names its standard (revision by category) in its
# signed body.  Bad input: one line, the documented exit, nothing written.
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
	mkdir -p "$D/data"
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
	OUT="$BATS_TEST_DIRNAME/../out"
	mkdir -p "$OUT"
	# legal dates are spif.conf's zone's (Asia/Tokyo by default), not the host's
	TODAY=$(TZ=Asia/Tokyo date +%Y-%m-%d)
	FY=${TODAY%%-*}
	[ "$(TZ=Asia/Tokyo date +%m)" -ge 4 ] || FY=$((FY - 1))
}

teardown() {
	teardown_gpg
}

# one ingested and shredded file: F000001 and its certificate in $CERT
disposed_one() {
	gen --rows 40 --columns narrow -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --label 給与支払報告書 "$D/data/a.csv" > /dev/null 2>&1
	CERT=$(spif shred --reason 保存期間満了 --file F000001 2>/dev/null)
	[ -n "$CERT" ]
}

# pdf_text FILE [PAGE]: the PDF's text, laid out, of one page or all
pdf_text() {
	if [ -n "${2:-}" ]; then
		pdftotext -layout -f "$2" -l "$2" "$1" -
	else
		pdftotext -layout "$1" -
	fi
}

# pdf_flat FILE: the PDF's text in the order it was drawn (a cell's
# wrapped lines together), without spaces and line breaks: an item is
# found whatever its cell's width made of it
pdf_flat() {
	pdftotext -raw "$1" - | tr -d ' \n'
}

# has_items TEXT ITEM...: every item (spaces aside) is in TEXT
has_items() {
	local t=$1 i
	shift
	for i in "$@"; do
		[[ "$t" == *"${i// /}"* ]] || { echo "pdf: no $i"; return 1; }
	done
}

# the items every ledger page carries: seals, page n of m, the key
page_items() {
	local t=$1 n=$2 m=$3 fpr
	fpr=$(spif catalog key export --fingerprint)
	[[ "$t" == *"押印欄"* ]] && [[ "$t" == *"実施者"* ]] && [[ "$t" == *"確認者"* ]] && [[ "$t" == *"管理者"* ]] ||
		{ echo "no stamp boxes"; return 1; }
	[[ "$t" == *"$n / $m ページ (page $n of $m)"* ]] || { echo "no page $n of $m"; return 1; }
	# the footer wraps anywhere: compare without the layout's spaces and lines
	[[ "$(printf '%s' "$t" | tr -d ' \n')" == *"$fpr"* ]] || { echo "no $fpr in the footer"; return 1; }
}

@test "ledger disposal: text and PDF hold every item of the 廃棄簿, page 1 of 1, the key's fingerprint" {
	disposed_one
	run --separate-stderr spif catalog report --ledger disposal
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "${lines[0]}" == "廃棄簿 / Disposal ledger"* ]]
	[[ "${lines[1]}" == "${FY}年度 / Fiscal year $FY ($FY-04-01 – $((FY + 1))-03-31)"*"1件 / 1 rows" ]]
	row=$(printf '%s\n' "$output" | grep "^$CERT ")
	for item in "$TODAY" "F000001 給与支払報告書" 個人住民税の賦課 " 40 " Clear "(1 copy)" "$(id -un)" \
		"未確認 / unconfirmed" 保存期間満了; do
		[[ "$row" == *"$item"* ]] || { echo "text: no $item in: $row"; return 1; }
	done
	spif catalog report --ledger disposal --fiscal-year "$FY" --format pdf -o "$D/d.pdf"
	[ "$(head -c 5 "$D/d.pdf")" = "%PDF-" ]
	has_items "$(pdf_flat "$D/d.pdf")" 廃棄簿 証明書番号 廃棄日 ファイル 事務 件数 人数 廃棄方法 実施者 確認者 \
		理由 "$CERT" "$TODAY" "F000001 給与支払報告書" 個人住民税の賦課 40 Clear "$(id -un)" \
		未確認 保存期間満了
	page_items "$(pdf_text "$D/d.pdf")" 1 1
	pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$D/d.pdf" "$OUT/ledger-disposal"
	[ -s "$OUT/ledger-disposal.png" ]
	# another fiscal year has none of it
	run spif catalog report --ledger disposal --fiscal-year $((FY - 1))
	[ "$status" -eq 0 ]
	[[ "$output" != *"$CERT"* ]]
	[[ "$output" == *"0件 / 0 rows"* ]]
}

@test "ledger checkout: the 持出し簿 items, export and return" {
	gen --rows 12 --columns narrow -o "$D/data/b.csv"
	spif ingest --purpose 個人住民税の賦課 --label 特別徴収税額通知 "$D/data/b.csv" > /dev/null 2>&1
	x=$(spif export --to-org 印刷委託先 --to-person 山田 --basis 番号法第19条第6号 --reason 納税通知書の印刷 \
		--file F000001 -r "$R" --due 2099-12-31 -o "$D/x.gpg" 2>/dev/null)
	[ -n "$x" ]
	spif catalog report --ledger checkout --format pdf -o "$D/c1.pdf"
	has_items "$(pdf_flat "$D/c1.pdf")" 持出し簿 番号 持出日 持出先 媒体 返却予定 返却・廃棄 "$x" \
		"$TODAY" "F000001 特別徴収税額通知" 個人住民税の賦課 12 "印刷委託先 山田" "$(id -un)" 2099-12-31 out
	# no checkpoint key yet: the footer says so (a report makes none)
	[[ "$(pdf_flat "$D/c1.pdf")" == *"Checkpointkeyなし/noneyet"* ]]
	[ ! -e "$SPIF_HOME/keys/checkpoint.key" ]
	spif catalog checkpoint > /dev/null
	spif export return "$x" --received-by 佐藤 --seal intact "$D/x.gpg" 2>/dev/null
	run spif catalog report --ledger checkout
	[ "$status" -eq 0 ]
	row=$(printf '%s\n' "$output" | grep "^$x ")
	[[ "$row" == *"returned $TODAY ($(id -un)) 受領 / received by 佐藤, seal intact"* ]]
	spif catalog report --ledger checkout --format pdf -o "$D/c2.pdf"
	has_items "$(pdf_flat "$D/c2.pdf")" "returned $TODAY ($(id -un))"
	page_items "$(pdf_text "$D/c2.pdf")" 1 1
	pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$D/c2.pdf" "$OUT/ledger-checkout"
}

@test "ledger files: a register of several pages says page n of m on each, headings and footer on each" {
	disposed_one
	spif catalog checkpoint > /dev/null
	# 70 more files like the first, through spif's own connection (audited)
	catalog_sql "INSERT INTO files(label,purpose,source,received,format,encoding,records,persons,sha256,created)
		SELECT label || ' ' || n, purpose, source, received, format, encoding, records, persons, sha256, created
		FROM files, (WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 70) SELECT n FROM k)
		WHERE id = 1"
	spif catalog report --ledger files --format pdf -o "$D/f.pdf"
	m=$(pdfinfo "$D/f.pdf" | awk '/^Pages:/ { print $2 }')
	[ "$m" -ge 3 ]
	for n in $(seq 1 "$m"); do
		t=$(pdf_text "$D/f.pdf" "$n")
		page_items "$t" "$n" "$m"
		[[ "$t" == *"特定個人情報ファイル簿"* ]] && [[ "$t" == *"保存期限"* ]] && [[ "$t" == *"Retain until"* ]]
		# and the last checkpoint's size
		[[ "$(printf '%s' "$t" | tr -d ' \n')" == *"Lastcheckpoint"[0-9]* ]]
	done
	has_items "$(pdf_flat "$D/f.pdf")" F000001 F000071 "給与支払報告書 70" disposed active 40
	# the text has the same rows
	run spif catalog report --ledger files
	[ "$(printf '%s\n' "$output" | grep -c '^F0000')" -eq 71 ]
	pdftoppm -png -r 80 -f 2 -l 2 -singlefile "$D/f.pdf" "$OUT/ledger-files-page2"
}

@test "cert show --format pdf: the certificate's items, its standard and guideline, seals, the key" {
	disposed_one
	spif catalog cert show "$CERT" --format pdf -o "$D/cert.pdf"
	m=$(pdfinfo "$D/cert.pdf" | awk '/^Pages:/ { print $2 }')
	has_items "$(pdf_flat "$D/cert.pdf")" "$CERT" 廃棄証明書 F000001 給与支払報告書 個人住民税の賦課 \
		"NIST SP 800-88 Rev. 1" 特定個人情報の適正な取扱いに関するガイドライン 保存期間満了 "$D/data/a.csv" passed
	page_items "$(pdf_text "$D/cert.pdf" "$m")" "$m" "$m"
	pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$D/cert.pdf" "$OUT/certificate"
}

@test "certificate JSON: the standard by category (Rev. 1 Clear, Rev. 2 crypto-erase) and the guideline, signed" {
	disposed_one
	run spif catalog cert show "$CERT" --format json
	[[ "$output" == *'"standard":{'*'"guideline":"特定個人情報の適正な取扱いに関するガイドライン'* ]]
	[[ "$output" == *'"revision":"Rev. 1"'* ]]
	[[ "$output" == *'"other_revision":"under Rev. 2 '* ]]
	# a vault copy only: crypto-erase, Rev. 2
	gen --rows 5 --columns narrow -o "$D/data/v.csv"
	spif ingest --purpose 個人住民税の賦課 --store - < "$D/data/v.csv" > /dev/null 2>&1
	c2=$(spif shred --file F000002 2>/dev/null)
	run spif catalog cert show "$c2" --format json
	[[ "$output" == *'"category":"Purge (cryptographic erase)"'* ]]
	[[ "$output" == *'"revision":"Rev. 2"'*'"published":"2025-09"'* ]] ||
		[[ "$output" == *'"published":"2025-09"'*'"revision":"Rev. 2"'* ]]
	run spif catalog cert verify "$CERT"
	[ "$status" -eq 0 ]
	# the field is inside what is hashed: changed, the certificate fails
	catalog_sql "DROP TRIGGER certificates_no_update; UPDATE certificates SET body = replace(body, '\"revision\":\"Rev. 1\"', '\"revision\":\"Rev. 2\"') WHERE id = '$CERT'"
	run spif catalog cert verify "$CERT"
	[ "$status" -eq 1 ]
}

@test "report: bad input is one line, exit 64 (73 for an existing -o), nothing written, catalog unchanged" {
	disposed_one
	before=$(catalog_state)
	run --separate-stderr spif catalog report --ledger nope
	[ "$status" -eq 64 ]
	one_line_stderr
	[[ "$stderr" == "spif-catalog: --ledger nope: unknown (disposal, checkout, files)"* ]]
	run --separate-stderr spif catalog report
	[ "$status" -eq 64 ]
	one_line_stderr
	for y in 20x6 1800 "" 2026.5; do
		run --separate-stderr spif catalog report --ledger files --fiscal-year "$y" -o "$D/y.pdf"
		[ "$status" -eq 64 ]
		one_line_stderr
		[[ "$stderr" == *"--fiscal-year $y: not a year"* ]]
	done
	run --separate-stderr spif catalog report --ledger files --format html -o "$D/h"
	[ "$status" -eq 64 ]
	one_line_stderr
	# a PDF is never poured onto a terminal
	run script -qec "$SPIF_BIN/spif catalog report --ledger files --format pdf" /dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"--format pdf: not onto a terminal"* ]]
	[[ "$output" != *"%PDF"* ]]
	run script -qec "$SPIF_BIN/spif catalog cert show $CERT --format pdf" /dev/null
	[ "$status" -eq 64 ]
	[[ "$output" != *"%PDF"* ]]
	# -o never replaces a file
	echo keep > "$D/exists.pdf"
	run --separate-stderr spif catalog report --ledger disposal --format pdf -o "$D/exists.pdf"
	[ "$status" -eq 73 ]
	one_line_stderr
	[ "$(cat "$D/exists.pdf")" = keep ]
	# a write that fails: one line, 74
	run --separate-stderr bash -c 'spif catalog report --ledger disposal --format pdf > /dev/full'
	[ "$status" -eq 74 ]
	one_line_stderr
	[ ! -e "$D/y.pdf" ] && [ ! -e "$D/h" ]
	[ "$(catalog_state)" = "$before" ]
}
