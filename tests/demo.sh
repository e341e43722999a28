#!/bin/bash
# demo.sh BIN - the lifecycle so far, on generated data in a throwaway home.
# Nothing outside a temporary directory is touched; it is removed at the end.
set -euo pipefail
bin=$(cd "${1:-bin}" && pwd)
export PATH="$bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/spif-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SPIF_HOME="$work/home" SPIF_CONF="$work/spif.conf" TMPDIR="$work"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

echo "spif demo: a throwaway catalog in $SPIF_HOME"
step "spif-gen --rows 1000 --encoding cp932 --gaiji -o 給与支払報告書.csv   # synthetic, valid check digits"
spif-gen --rows 1000 --persons 980 --encoding cp932 --gaiji -o "$work/給与支払報告書.csv"
cd "$work"
run spif ingest --purpose "個人住民税の賦課（給与支払報告書）" --source "eLTAX" \
	--received 2026-02-02 -o records.ndjson 給与支払報告書.csv
step "head -n 1 records.ndjson | cut -d, -f1-8"
head -n 1 records.ndjson | cut -d, -f1-8
run spif ingest --purpose "個人住民税の賦課（給与支払報告書）" --to csv --output-encoding cp932 \
	--again --reason "書き戻しの確認" -o back.csv 給与支払報告書.csv
run cmp 給与支払報告書.csv back.csv
echo "(byte-identical CP932 round trip, 髙 﨑 ㈱ and 外字 included)"
run spif catalog ls
run spif catalog show F000001
run spif catalog log
run spif catalog verify
step "spif-gen --rows 20 --invalid-row 12 | spif ingest --purpose demo -   # a wrong check digit"
if spif-gen --rows 20 --invalid-row 12 2>/dev/null | spif ingest --purpose demo - > /dev/null; then
	echo "demo: the bad file was accepted" >&2
	exit 1
fi
echo "(refused: nothing registered, no number in the message)"
run spif catalog ls

# A contractor needs the data without numbers: from the vault, through redact.
run spif ingest --purpose "個人住民税の賦課（給与支払報告書）" --store --again --reason "保管用" --print-id 給与支払報告書.csv
step "spif vault cat F000003 | spif redact --to csv --output-encoding cp932 -o 委託先提供用.csv"
spif vault cat F000003 | spif redact --to csv --output-encoding cp932 -o 委託先提供用.csv
step "spif redact --check 委託先提供用.csv && echo 'gate: no number, may leave'"
spif redact --check 委託先提供用.csv && echo "gate: no number, may leave"
step "spif redact --check 給与支払報告書.csv || echo 'gate: numbers found, stays here'"
spif redact --check 給与支払報告書.csv || echo "gate: numbers found, stays here"
iconv -f CP932 -t UTF-8 委託先提供用.csv > 委託先提供用.utf8.csv
step "head -2 委託先提供用.csv (shown in UTF-8) | cut -d, -f14,60-66"
head -2 委託先提供用.utf8.csv | cut -d, -f14,60-66

# Keys for what follows, in a throwaway GnuPG home: the records office's,
# which signs, and the contractor's, which receives.
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key \
	'税務課 記録管理 <records@example.invalid>' ed25519 sign 1d 2>/dev/null
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key \
	'印刷委託先 <insatsu@example.invalid>' ed25519 sign 1d 2>/dev/null
insatsu=$(gpg --batch --with-colons --list-keys insatsu@example.invalid 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }')
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-add-key "$insatsu" cv25519 encr 1d 2>/dev/null

# When the contractor must have the numbers: encrypted for its key alone,
# signed by the office, registered as a copy of the file.
step "spif vault cat F000003 --reason 委託先（印刷）への提供 | spif encrypt -r insatsu@example.invalid --sign records@example.invalid -o 委託先.ndjson.gpg"
spif vault cat F000003 --reason '委託先（印刷）への提供' |
	spif encrypt -r insatsu@example.invalid --sign records@example.invalid -o 委託先.ndjson.gpg
step "gpg --decrypt 委託先.ndjson.gpg | head -1 | cut -d, -f1-4   # the contractor, with plain GnuPG"
{ gpg --batch --decrypt 委託先.ndjson.gpg 2>/dev/null || true; } | head -1 | cut -d, -f1-4
run spif encrypt -d --require-signature -o 受領確認.ndjson 委託先.ndjson.gpg
step "spif vault cat F000003 | cmp - 受領確認.ndjson && echo 'the same records'"
spif vault cat F000003 | cmp - 受領確認.ndjson && echo "the same records"
# Only the numbers sealed, the rest readable; CP932 CSV, back byte for byte.
run spif encrypt --fields 受給者の個人番号,扶養親族1_個人番号 -r insatsu@example.invalid \
	-o 番号のみ暗号化.csv 給与支払報告書.csv
step "sed -n 3p 番号のみ暗号化.csv | iconv -f CP932 -t UTF-8 | grep -o 'ENC\\[[^]]*\\]' | sed -n 1p"
sed -n 3p 番号のみ暗号化.csv | iconv -f CP932 -t UTF-8 | grep -o 'ENC\[[^]]*\]' | sed -n 1p
run spif encrypt -d -o 復号.csv 番号のみ暗号化.csv
run cmp 給与支払報告書.csv 復号.csv
run spif catalog show F000003

# Disposal: the retention period of F000001 is over.
step "spif shred --dry-run --file F000001"
spif shred --dry-run --file F000001 || true
echo "(F000002 was ingested from the same source file: destroying that path disposes of its copy too)"
disk=$(findmnt -no SOURCE -T "$work" | head -1)
pk=$(lsblk -no PKNAME "$disk" 2>/dev/null | head -1)
printf 'title = 税務課 主査\nlocation = 市役所 本庁舎3階\ncontact = 内線 1234\n' > "$SPIF_CONF"
plan=$(LC_ALL=C spif shred --dry-run --file F000001 || true) # read by this script, not shown
if [[ "$plan" == *"would refuse"* ]]; then
	echo "(refused: spif cannot see what this virtual disk is made of.  An administrator who"
	echo " knows it is a raw volume on spinning disks vouches for it in spif.conf:)"
	printf 'trusted_media = %s\n' "${pk:-${disk##*/}}" >> "$SPIF_CONF"
	step "cat spif.conf"
	cat "$SPIF_CONF"
fi
step "spif shred --reason 保存期間満了 --sign records@example.invalid --file F000001"
ids=$(spif shred --reason 保存期間満了 --sign records@example.invalid --file F000001)
echo "$ids"
echo "(one certificate per file: F000001's two copies, and F000002's copy of the same source)"
id=${ids%%$'\n'*}
run spif catalog cert show "$id"
mkdir "$work/certs"
run spif catalog cert export "$id" -o "$work/certs"
run gpg --verify "$work/certs/$id.json.asc" "$work/certs/$id.json"
run spif catalog cert verify "$work/certs/$id.json"
run spif catalog ls
# the stored copy goes by cryptographic erase (its key is destroyed), the
# copies made from it (the contractor's, encrypted, decrypted) by
# overwriting: one certificate each way
step "spif shred --reason 保存期間満了 --file F000003"
ids=$(spif shred --reason 保存期間満了 --file F000003)
echo "$ids"
run spif catalog cert show "${ids%%$'\n'*}"
run spif vault ls
run spif catalog ls

# Retention: files received years ago are due; the nightly purge disposes of
# them by their schedule, with a certificate each.
run spif retain schedule show kazei-shiryo-7y
step "for y in 2017 2018 2025: spif ingest --received \$y-06-15 --schedule kazei-shiryo-7y --store ..."
ids=()
for y in 2017 2018 2025; do
	spif-gen --rows 200 --persons 190 --seed "$y" -o "kyuyo$y.csv" 2>/dev/null
	ids+=("$(spif ingest --purpose "個人住民税の賦課（給与支払報告書）" --label "給与支払報告書_$y.csv" \
		--received "$y-06-15" --schedule kazei-shiryo-7y --store --print-id - < "kyuyo$y.csv" 2>/dev/null)")
	rm -f "kyuyo$y.csv"
done
echo "${ids[*]}"
echo "(kept 7 years from the 1 April after receipt: 2017-06-15 is counted from 2018-04-01)"
run spif retain due
run spif retain hold "${ids[1]}" --reason "審査請求 令和8年第12号"
echo "(held: whatever its dates, it stays until the hold is released)"
run spif retain plan
step "spif retain purge --sign records@example.invalid   # what cron runs every night"
out=$(spif retain purge --sign records@example.invalid)
echo "$out"
cert=$(printf '%s\n' "$out" | sed -n '1s/^[^ ]* disposed \([^ ,]*\).*/\1/p')
run spif catalog cert show "$cert"
run spif catalog cert verify "$cert"
step "spif retain purge; echo \$?   # the next night: nothing is due, nothing is printed"
spif retain purge
echo $?
run spif retain report
run spif catalog verify
gpgconf --kill all 2>/dev/null || true
echo
echo "spif demo: done"
