#!/usr/bin/env bats
# Japanese messages (gettext, text domain "spif", po/ja.po): under a ja_JP
# locale every diagnostic, refusal, --help and heading is Japanese, with
# the same exit code and still one line; under LANG=C (and with no locale
# at all) everything stays the English the other suites check.  And the
# catalogue of messages stays whole: po/ja.po translates every message
# `make pot` extracts, with no fuzzy entry, and msgfmt --check passes (the
# printf conversions of each translation match its English).
#
# Needs the ja_JP.UTF-8 locale: make check (tests/deps.sh) makes it as root.
load helper

top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	setup_home
	unset LC_ALL LC_MESSAGES LANGUAGE
	locale -a 2>/dev/null | grep -qi '^ja_JP\.utf-\?8$' ||
		{ echo "no ja_JP.UTF-8 locale: make deps-test as root, or localedef -i ja_JP -f UTF-8 ja_JP.UTF-8"; return 1; }
}

teardown() {
	teardown_gpg
}

# bad EXPECT-EN EXPECT-JA CODE CMD ARGS...: CMD fails with CODE under both
# locales, one stderr line each, English under C and Japanese under ja_JP,
# nothing on stdout, and the catalog unchanged.
bad() {
	local en=$1 ja=$2 code=$3 before
	shift 3
	before=$(catalog_state)
	run --separate-stderr env LANG=C "$@"
	[ "$status" -eq "$code" ] || { echo "LANG=C: exit $status, not $code: $stderr"; return 1; }
	[ -z "$output" ] && [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || { echo "LANG=C: $stderr"; return 1; }
	[[ "$stderr" == *"$en"* ]] || { echo "LANG=C, not English: $stderr"; return 1; }
	run --separate-stderr env LANG=ja_JP.UTF-8 "$@"
	[ "$status" -eq "$code" ] || { echo "ja_JP: exit $status, not $code: $stderr"; return 1; }
	[ -z "$output" ] && [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || { echo "ja_JP: $stderr"; return 1; }
	[[ "$stderr" == *"$ja"* ]] || { echo "ja_JP, not the Japanese line: $stderr"; return 1; }
	[[ "$stderr" != *"$en"* ]] || { echo "ja_JP, still English: $stderr"; return 1; }
	[ "$(catalog_state)" = "$before" ] || { echo "the catalog changed"; return 1; }
}

ingested() {
	gen --rows 3 -o "$D/a.csv"
	spif ingest --purpose 個人住民税 "$D/a.csv" >/dev/null 2>&1
}

@test "ja: po/ja.po translates every message make pot extracts, none fuzzy, msgfmt --check" {
	cd "$top"
	run make -s --no-print-directory B="$D/b" pot
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	run msgcmp --use-untranslated po/ja.po "$D/b/spif.pot"
	[ "$status" -eq 0 ] || { echo "messages po/ja.po lacks (make po-update, then translate):"; echo "$output"; return 1; }
	run msgattrib --only-fuzzy po/ja.po
	[ -z "$output" ] || { echo "fuzzy entries:"; echo "$output"; return 1; }
	run msgattrib --untranslated po/ja.po
	[ -z "$output" ] || { echo "untranslated entries:"; echo "$output"; return 1; }
	run msgfmt --check --statistics -o /dev/null po/ja.po
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[[ "$output" != *fuzzy* && "$output" != *untranslated* ]]
}

@test "ja: the messages' formats are the English ones, conversion for conversion" {
	# msgfmt --check compares them only where the entry says c-format:
	# every message with a conversion must say so
	cd "$top"
	run msgattrib --no-wrap --no-obsolete po/ja.po
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | awk '
		/^#,/ { fl = $0; next }
		/^msgid "/ { if ($0 ~ /%[-#0-9.*]*[sdiuxXcp%l<]/ && fl !~ /c-format/) { print; bad = 1 } fl = "" }
		END { exit bad }'
}

@test "ja: ingest's bad input in Japanese, same codes" {
	ingested
	printf 'a,a\n1,2\n' >"$D/dup.csv"
	bad "--purpose is required" "--purpose が必要です" 64 spif ingest "$D/a.csv"
	bad 'duplicate column name "a"' '列名 "a" が重複しています' 65 spif ingest --purpose p "$D/dup.csv"
	bad "no schedule nosuch" "保存スケジュール nosuch はありません" 65 spif ingest --purpose p --schedule nosuch "$D/a.csv"
	bad "unknown option or missing value" "不明なオプションか、値がありません" 64 spif ingest --bogus
}

@test "ja: catalog's bad input in Japanese, same codes" {
	ingested
	bad "no file F000009 in the catalog" "カタログにファイル F000009 はありません" 65 spif catalog show F000009
	bad "not a file id" "ファイル ID ではありません" 64 spif catalog show X
	bad "unknown subcommand" "不明なサブコマンドです" 64 spif catalog bogus
}

@test "ja: shred, redact and vault's bad input in Japanese, same codes" {
	ingested
	bad "nothing to shred" "廃棄するものがありません" 64 spif shred
	bad "unknown operator" "不明な操作です" 64 spif redact --op bogus
	bad "has no vault copy (ingest it with --store)" "には保管庫の複製がありません（ingest --store" 65 spif vault cat F000001
}

@test "ja: encrypt, export and media's bad input in Japanese, same codes" {
	ingested
	bad "no recipient" "受取人がいません" 64 spif encrypt "$D/a.csv"
	bad "where to: -o OUT" "持出し先: -o OUT" 64 spif export --file F000001
	bad "expected: add ID, ls or retire ID" "のいずれかを指定してください" 64 spif media add
	bad "no medium nosuch is registered" "媒体 nosuch は登録されていません" 65 spif media retire nosuch
}

@test "ja: retain and operator's bad input and refusals in Japanese, same codes" {
	ingested
	bad "no hold H000009" "保留 H000009 はありません" 65 spif retain release H000009 --reason x
	bad "unknown subcommand" "不明なサブコマンドです" 64 spif retain bogus
	bad "unknown subcommand" "不明なサブコマンドです" 64 spif operator bogus
	bad "is not an operator" "は担当者ではありません" 65 spif operator show nosuchuser
}

@test "ja: incident's bad input in Japanese, same codes" {
	ingested
	bad "expected: open, note ID, close ID, ls or show ID" "のいずれかを指定してください" 64 spif incident bogus
	bad "no incident INC-2026-000009" "インシデント INC-2026-000009 はありません" 65 spif incident close INC-2026-000009 --note x
	bad "open needs --summary TEXT" "open には --summary TEXT が必要です" 64 spif incident open --file F000001
}

@test "ja: a note said in parts (cli_note_begin, cli_note_more) is Japanese in each part" {
	gen --rows 3 -o "$D/a.csv"
	run --separate-stderr env LANG=C spif ingest --purpose p "$D/a.csv"
	[ "$status" -eq 0 ] && [[ "$stderr" == *"(a.csv): 3 records, "*" persons, "* ]] || { echo "$stderr"; return 1; }
	gen --rows 3 --seed 2 -o "$D/b.csv"
	run --separate-stderr env LANG=ja_JP.UTF-8 spif ingest --purpose p "$D/b.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$stderr" == *"（b.csv）: 3 レコード、"*" 人、個人番号フィールド "* ]] || { echo "$stderr"; return 1; }
	[[ "$stderr" != *records* ]]
}

@test "ja: --help of the front and of every command in Japanese; English under LANG=C" {
	local c
	run env LANG=ja_JP.UTF-8 spif --help
	[ "$status" -eq 0 ]
	[[ "$output" == "使い方: spif "* ]] && [[ "$output" == *"特定個人情報ファイル"* ]]
	for c in ingest catalog shred redact vault encrypt retain operator export media incident; do
		run env LANG=ja_JP.UTF-8 spif "$c" --help
		[ "$status" -eq 0 ] || { echo "$c: exit $status"; return 1; }
		[[ "$output" == "使い方: spif $c "* ]] || { echo "$c: ${output:0:80}"; return 1; }
		[[ "$output" == *"終了コード: 0 "* ]] || { echo "$c: no Japanese exit codes"; return 1; }
		run env LANG=C spif "$c" --help
		[[ "$output" == "usage: spif $c "* ]] || { echo "$c under C: ${output:0:80}"; return 1; }
	done
}

@test "ja: headings are Japanese and aligned by display width; byte-identical English under C" {
	ingested
	run env LANG=C spif catalog ls
	[ "${lines[0]}" = "ID       STATE       RECORDS   PERSONS RECEIVED   PURPOSE              LABEL" ]
	run env LANG=ja_JP.UTF-8 spif catalog ls
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "ID       状態"* ]] || { echo "${lines[0]}"; return 1; }
	# the column of LABEL starts where it does in English: display columns
	local h=${lines[0]} r=${lines[1]} en="ID       STATE       RECORDS   PERSONS RECEIVED   PURPOSE              "
	[ "$(printf '%s' "${h%ラベル}" | LC_ALL=ja_JP.UTF-8 wc -L)" -eq ${#en} ] || { echo "heading: $h"; return 1; }
	[ "$(printf '%s' "${r%a.csv}" | LC_ALL=ja_JP.UTF-8 wc -L)" -eq ${#en} ] || { echo "row: $r"; return 1; }
	run env LANG=ja_JP.UTF-8 spif catalog verify
	[[ "$output" == *"監査ログは完全です"* ]]
}

@test "ja: with no locale at all, and with an unknown one, English" {
	run --separate-stderr env -u LANG spif catalog show X
	[ "$status" -eq 64 ] && [[ "$stderr" == *"not a file id"* ]]
	run --separate-stderr env LANG=xx_YY.UTF-8 spif catalog show X
	[ "$status" -eq 64 ] && [[ "$stderr" == *"not a file id"* ]]
}

@test "ja: an install under another PREFIX reads its own messages" {
	cd "$top"
	run make -s --no-print-directory install DESTDIR="$D/inst" PREFIX=/opt/spif-ja
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ -f "$D/inst/opt/spif-ja/share/locale/ja/LC_MESSAGES/spif.mo" ]
	[ -f "$D/inst/opt/spif-ja/share/man/ja/man7/spif.7" ]
	# a command in PREFIX/libexec/spif finds PREFIX/share/locale, the
	# front in PREFIX/bin too: neither knows DESTDIR
	run env LANG=ja_JP.UTF-8 "$D/inst/opt/spif-ja/libexec/spif/spif-media" --help
	[[ "$output" == "使い方: spif media "* ]] || { echo "${output:0:80}"; return 1; }
	run env LANG=ja_JP.UTF-8 "$D/inst/opt/spif-ja/bin/spif" --help
	[[ "$output" == "使い方: spif "* ]] || { echo "${output:0:80}"; return 1; }
}

@test "ja: spif(7) and every command have a Japanese manual page, lint clean" {
	cd "$top"
	local c bad=0
	[ -f man/ja/spif.7 ] || { echo "no man/ja/spif.7"; bad=1; }
	for c in $(make -s --no-print-directory --eval 'ja-cmds: ; @echo $(CMDS)' ja-cmds); do
		[ -f "man/ja/spif-$c.1" ] || { echo "no man/ja/spif-$c.1"; bad=1; }
		grep -qx "\.It Cm $c" man/ja/spif.7 || { echo "man/ja/spif.7 does not list $c"; bad=1; }
	done
	for c in man/ja/*.[1-9]; do
		mandoc -Tlint -W warning "$c" || bad=1
	done
	[ "$bad" -eq 0 ]
}

@test "ja: shred --dry-run says what it would do in Japanese, same exit code, nothing destroyed" {
	echo hi >"$D/x.txt"
	run env LANG=C spif shred --dry-run --force "$D/x.txt"
	local code=$status
	[[ "$output" == "would overwrite $D/x.txt ("* ]] || { echo "$output"; return 1; }
	run env LANG=ja_JP.UTF-8 spif shred --dry-run --force "$D/x.txt"
	[ "$status" -eq "$code" ]
	[[ "$output" == "$D/x.txt（"*"を乱数で 1 回上書きし"* ]] || { echo "$output"; return 1; }
	[ "$(cat "$D/x.txt")" = hi ]
}

# The English words that once leaked into Japanese output through %s (a
# word handed to a translated format), a label printed as it was, or a
# reason lib/ made: each is looked for as a whole word once paths,
# option names and ids are taken out.  Values a user types back (states,
# kinds, schedule fields like shred, governance, fiscal-year), an
# event's JSON details under catalog log, and the
# bilingual ledgers and certificate text stay as they are, and are not
# run here.
leaked_words="records numbers removed registered signature signed redacted failed certificates label persons invalid created copies summary opened notes period cutoff grace basis checked inclusion proof matches yes catalogued passphrase confirmed permission directory memory missing unreadable purpose state roles refusals grants outside sampled approver valid"

# ja_life CMD ARGS...: run under ja_JP, its stdout and stderr (one line
# each, as read) appended to $D/life.txt with the command first
ja_life() {
	printf '### %s\n' "$*" >>"$D/life.txt"
	env LANG=ja_JP.UTF-8 "$@" >>"$D/life.txt" 2>&1 || true
}

@test "ja: a lifecycle in Japanese leaves no English word in what a person reads" {
	export GNUPGHOME
	GNUPGHOME=$(mktemp -d /tmp/spif-ja.XXXXXX) # a socket path must fit in 108 bytes
	chmod 700 "$GNUPGHOME"
	local rec con inc
	rec=$(gpg_key rec) && con=$(gpg_key con) || return 1
	gen --rows 30 --encoding cp932 --gaiji -o "$D/a.csv"
	gen --rows 10 --seed 7 -o "$D/b.csv"
	gen --rows 10 --seed 8 -o "$D/c.csv"
	: >"$D/life.txt"
	ja_life spif ingest --purpose 個人住民税 --store -o "$D/a.ndjson" "$D/a.csv"
	spif ingest --purpose 個人住民税 --store --received 2015-06-01 --schedule kazei-shiryo-7y - <"$D/b.csv" >/dev/null 2>&1
	spif ingest --purpose 個人住民税 --store --received 2016-06-01 --schedule kazei-shiryo-7y - <"$D/c.csv" >/dev/null 2>&1
	ja_life spif redact -o "$D/red.csv" "$D/a.csv"
	ja_life spif redact --check "$D/red.csv"
	ja_life spif redact --check "$D/a.csv"
	ja_life spif encrypt -r "$con" --sign "$rec" -o "$D/a.gpg" "$D/a.csv"
	ja_life spif encrypt -d -o "$D/a.dec" "$D/a.gpg"
	ja_life spif encrypt --fields 受給者の個人番号 -r "$con" -o "$D/f.csv" "$D/a.csv"
	ja_life spif encrypt -d -o "$D/f.dec" "$D/f.csv"
	ja_life spif retain schedule add ichinen --period 1y --cutoff fiscal-year --basis 条例第3条
	ja_life spif retain schedule show ichinen
	ja_life spif retain assign F000001 --schedule ichinen
	ja_life spif retain purge --dry-run
	ja_life spif retain purge --sign "$rec"
	ja_life spif shred --dry-run --force "$D/red.csv"
	ja_life spif export --file F000001 -r "$con" --sign "$rec" --redact --to-org 委託先 --basis 契約 --reason 委託 -o "$D/ex.gpg"
	ja_life spif export ls
	ja_life spif export verify "$D/ex.gpg"
	ja_life spif media add USB-01 --kind usb --location 金庫
	ja_life spif media ls
	inc=$(spif incident open --summary 紛失 --file F000001 2>/dev/null)
	ja_life spif incident note "$inc" --note 調査
	ja_life spif incident ls
	ja_life spif incident show "$inc"
	ja_life spif operator ls
	ja_life spif catalog ls
	ja_life spif catalog show F000001
	ja_life spif catalog show F000002
	ja_life spif catalog log --file F000002
	ja_life spif catalog verify
	rm "$D/f.dec"
	ja_life spif catalog check
	ja_life spif catalog cert ls
	ja_life spif catalog cert verify DC-$(date +%Y)-000001
	ja_life spif vault ls
	ja_life spif catalog backup -o "$D/bk"
	ja_life spif catalog restore-test "$D/bk"
	ja_life spif operator approvals
	ja_life spif catalog review
	# what a script reads stays English whatever the locale
	run env LANG=ja_JP.UTF-8 spif catalog review --json
	[[ "$output" == *'"what":"certificate DC-'*' is not confirmed (spif catalog cert confirm)"'* ]] || { echo "$output"; return 1; }
	gpgconf --kill all 2>/dev/null
	rm -rf "$GNUPGHOME"
	# what ran did run: the words are looked for in real output
	grep -q '監査ログは完全です' "$D/life.txt" && grep -q 'DC-[0-9]*-000002' "$D/life.txt" || { cat "$D/life.txt"; return 1; }
	local w bad=0 text
	text=$(grep -v '^### \|^ *{' "$D/life.txt" | sed -E 's#[^ ]*/[^ ]*##g; s/--[A-Za-z-]+//g')
	for w in $leaked_words; do
		if printf '%s\n' "$text" | grep -qiw -- "$w"; then
			echo "English \"$w\" in Japanese output:"
			grep -v '^### \|^ *{' "$D/life.txt" | grep -iw -- "$w" | head -3
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "ja: the progress line is Japanese, its unit too; English under C" {
	command -v script >/dev/null || skip "no script(1)"
	gen --rows 3000 --columns narrow -o "$D/big.csv"
	LANG=ja_JP.UTF-8 SPIF_PROGRESS_DELAY_MS=0 script -qec "spif ingest --purpose p -o '$D/ja.ndjson' '$D/big.csv'" \
		/dev/null >"$D/ja.txt" 2>&1
	grep -q $'\r''spif-ingest: [0-9]* レコード、[0-9.]* MB（[0-9]* 秒）' "$D/ja.txt" || { cat -v "$D/ja.txt"; return 1; }
	! grep -q 'records\| s)' "$D/ja.txt" || { cat -v "$D/ja.txt"; return 1; }
	LANG=C SPIF_PROGRESS_DELAY_MS=0 script -qec "spif ingest --purpose p --again --reason r -o '$D/c.ndjson' '$D/big.csv'" \
		/dev/null >"$D/c.txt" 2>&1
	grep -q $'\r''spif-ingest: [0-9]* records, [0-9.]* MB ([0-9]* s)' "$D/c.txt" || { cat -v "$D/c.txt"; return 1; }
}

@test "ja: a purge child's failure is kept in English in the catalog, and shown as kept" {
	# the catalog's words do not depend on who ran the purge: the reason a
	# child gives (its last line of stderr) is recorded, so the child speaks
	# English; the operator's own lines stay Japanese
	spif retain schedule add short --period 1y
	gen --rows 3 -o "$D/a.csv"
	mkdir -p /dev/shm/spif-ja.$$
	cp "$D/a.csv" /dev/shm/spif-ja.$$/a.csv
	spif ingest --purpose x --received 2020-01-01 --schedule short --print-id /dev/shm/spif-ja.$$/a.csv > /dev/null
	run --separate-stderr env LANG=ja_JP.UTF-8 spif retain purge
	rm -rf /dev/shm/spif-ja.$$
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"F000001: 廃棄されませんでした: spif-shred: "*"refused"*"tmpfs"* ]]
	why=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT json_extract(details, '\$.why') FROM events WHERE action = 'purge.failed'")
	[[ "$why" == "spif-shred: "*"refused"*"tmpfs"* ]]
	! LC_ALL=C.UTF-8 grep -qP '[^\x00-\x7f]' <<< "$why"
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT error FROM purge_items")" = "$why" ]
}

@test "ja: a forged checkpoint is refused in Japanese, outer and inner reason; --json keeps both in English" {
	gen --rows 3 -o "$D/a.csv"
	spif ingest --purpose x --print-id "$D/a.csv" > /dev/null 2>&1
	spif catalog checkpoint > "$D/cp"
	sed '2s/.*/999/' "$D/cp" > "$D/forged.cp"
	run --separate-stderr env LANG=ja_JP.UTF-8 spif catalog verify --checkpoint "$D/forged.cp"
	[ "$status" -eq 1 ] || { echo "exit $status: $stderr"; return 1; }
	[[ "$stderr" == *"このチェックポイントはこのカタログの鍵が署名したものではありません: "* ]] || { echo "$stderr"; return 1; }
	! grep -qiE 'the checkpoint|signed|note|altered' <<< "$stderr"
	run --separate-stderr env LANG=ja_JP.UTF-8 spif catalog verify --checkpoint "$D/forged.cp" --json
	[ "$status" -eq 1 ] || { echo "exit $status: $output $stderr"; return 1; }
	why=$(jq -r '.checkpoints.why[0].why' <<< "$output")
	[[ "$why" == "the checkpoint is not one this catalog's key signed: "* ]] || { echo "$why"; return 1; }
	! LC_ALL=C.UTF-8 grep -qP '[^\x00-\x7f]' <<< "$why"
}

@test "ja: a certificate edited inside the catalog fails verify in Japanese" {
	gen --rows 3 -o "$D/a.csv"
	spif ingest --purpose x --print-id "$D/a.csv" > /dev/null 2>&1
	id=$(spif shred --force --file F000001 2>/dev/null)
	drop_row_triggers certificates
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER certificates_no_update;
		UPDATE certificates SET body = replace(body, '\"F000001\"', '\"F000002\"') WHERE id = '$id';"
	run --separate-stderr env LANG=ja_JP.UTF-8 spif catalog cert verify "$id"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"$id: 保存された証明書がそのハッシュと一致しなくなっています"* ]] || { echo "$stderr"; return 1; }
	run --separate-stderr env LANG=C spif catalog cert verify "$id"
	[[ "$stderr" == *"$id: the stored certificate no longer matches its hash"* ]]
}
