#!/usr/bin/env bats
# spif export --forensic --with-records: the records of an incident's
# files in its forensic bundle, as held (a CP932 copy byte for byte, a
# vault copy's NDJSON), covered by the signed custody statement and
# checked by verify; refused without a reason, without an export's
# approval (real uids, as root), from a copy that changed; streamed, so
# that memory does not grow with the rows.  Without --with-records the
# bundle holds no number (incident.bats attacks that too).
load helper

setup_file() {
	gnupg_setup
	R=$(gpg_key responder) || return 1
	export R
}

teardown_file() {
	gnupg_teardown
}

setup() {
	setup_home
	mkdir "$D/data"
}

teardown() {
	teardown_gpg
	remove_users "${IT:-}"
}

# F000001 a CP932 CSV catalogued where it is, F000002 NDJSON in the
# vault, F000003 disposed; one incident over the three.
three_files() {
	gen --rows 5 --encoding cp932 -o "$D/data/a.csv"
	gen --rows 6 --seed 3 --format ndjson -o "$D/data/b.ndjson"
	gen --rows 3 --seed 4 -o "$D/data/c.csv"
	spif ingest --purpose 個人住民税の賦課 "$D/data/a.csv" > /dev/null 2>&1
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/b.ndjson" > /dev/null 2>&1
	spif ingest --purpose 個人住民税の賦課 "$D/data/c.csv" > /dev/null 2>&1
	spif shred --force --reason test --file F000003 > /dev/null 2>&1
	inc=$(spif incident open --summary 'USB-001 紛失' --file F000001 --file F000002 --file F000003 2>/dev/null)
	spif catalog key export > "$D/catalog.pub" 2>/dev/null
}

open_bundle() {
	mkdir -p "$2"
	gpg --batch --quiet --decrypt "$1" 2>/dev/null | tar -xf - -C "$2"
}

@test "with records: a CP932 copy byte for byte, a vault file record for record, a disposed file said; verified offline" {
	three_files
	run --separate-stderr spif export --forensic --incident "$inc" --with-records --reason 'PPCへの報告' \
		-r "$R" --sign "$R" -o "$D/f.gpg"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$stderr" == *"3 files, the records of 2 (checked out as EX-"* ]]
	open_bundle "$D/f.gpg" "$D/x"
	b=$D/x/$inc-forensic
	# the CP932 copy as it is, byte for byte
	cmp "$b/data/F000001.csv" "$D/data/a.csv"
	# the vault's records: every field of every row of the source, in order
	[ "$(jq -c 'del(.["@file"], .["@row"])' "$b/data/F000002.ndjson")" = "$(jq -c . "$D/data/b.ndjson")" ]
	cmp "$b/data/F000002.ndjson" <(spif vault cat F000002 --reason 照合 2>/dev/null)
	# nothing of the disposed file, and the bundle says why
	[ ! -e "$b/data/F000003.csv" ]
	[ "$(jq -r '.records.F000003.state' "$b/spif/custody.json")" = "disposed: no records are left of it, none are bundled" ]
	[ "$(jq -r '.records.F000001 | "\(.source) \(.format) \(.encoding) \(.path)"' "$b/spif/custody.json")" = "copy csv cp932 data/F000001.csv" ]
	[ "$(jq -r '.records.F000002.source' "$b/spif/custody.json")" = vault ]
	# custody covers the records, and is the responder's
	[ "$(jq -r '.what["data/F000001.csv"]' "$b/spif/custody.json")" = "$(sha256sum "$D/data/a.csv" | cut -d' ' -f1)" ]
	[ "$(jq -r '.what["data/F000002.ndjson"]' "$b/spif/custody.json")" = "$(sha256sum "$b/data/F000002.ndjson" | cut -d' ' -f1)" ]
	gpg --batch --quiet --verify "$b/spif/custody.json.asc" "$b/spif/custody.json" 2>/dev/null
	# the manifests with plain tools
	(cd "$b" && sha256sum -c --quiet manifest-sha256.txt && sha256sum -c --quiet tagmanifest-sha256.txt)
	# the event names the files whose records left
	run spif catalog log --json
	[ "$(jq -c 'select(.action == "incident.forensic") | .details.records' <<<"$output")" = '["F000001","F000002"]' ] || { echo "$output" | tail -3; return 1; }
	# offline: only the bundle and the catalog's public key
	mkdir "$D/scratch"
	cp "$D/f.gpg" "$D/catalog.pub" "$D/scratch/"
	cd "$D/scratch"
	run --separate-stderr env SPIF_HOME="$D/scratch/nohome" spif export verify f.gpg --key catalog.pub
	[ "$status" -eq 0 ] || { echo "$output $stderr"; return 1; }
	[[ "$stderr" == *"valid BagIt bag"*"good signature by $R"* ]]
	[[ "$stderr" == *"6 payload files as custody.json says, 2 of them records; every event intact"* ]]
}

@test "with records: the bundle is a checkout in the ledger (持出し簿), out until it comes back, and holds the files" {
	three_files
	run --separate-stderr spif export --forensic --incident "$inc" --with-records --reason 'PPCへの報告' \
		-r "$R" --sign "$R" -o "$D/f.gpg"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$stderr" == *"(checked out as EX-"*")"* ]]
	ex=$(sed -n 's/.*(checked out as \(EX-[0-9-]*\)).*/\1/p' <<<"$stderr")
	# custody, signed by the responder, names the checkout
	open_bundle "$D/f.gpg" "$D/x"
	[ "$(jq -r .export "$D/x/$inc-forensic/spif/custody.json")" = "$ex" ]
	# the ledger: the files whose records left, to whom, the archive's hash, out
	run spif export ls --outstanding --json
	[ "$(jq -r .id <<<"$output")" = "$ex" ] || { echo "$output"; return 1; }
	[ "$(jq -r .state <<<"$output")" = out ]
	[ "$(jq -r .format <<<"$output")" = forensic ]
	[ "$(jq -r .archive_sha256 <<<"$output")" = "$(sha256sum "$D/f.gpg" | cut -d' ' -f1)" ]
	[ "$(jq -c '[.files[].file]' <<<"$output")" = '["F000001","F000002"]' ] || { echo "$output"; return 1; }
	[[ "$(jq -r .organisation <<<"$output")" == *"$inc"* ]]
	# an export copy of each of those files: not disposed of while it is out
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT count(*) FROM copies WHERE kind = 'export' AND state = 'present'")" -eq 2 ]
	spif catalog verify > /dev/null
	# and it ends as any checkout does
	run --separate-stderr spif export return "$ex" --received-by 情報政策課 --seal intact
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run spif export ls --outstanding --json
	[ -z "$output" ]
}

@test "without --with-records: no record and no number in the bundle, and custody names none" {
	three_files
	spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/f.gpg" > /dev/null 2>&1
	open_bundle "$D/f.gpg" "$D/x"
	b=$D/x/$inc-forensic
	[ "$(cd "$b/data" && ls | tr '\n' ' ')" = "events.ndjson host.json proofs.json rows.json " ]
	[ "$(jq -r 'has("records")' "$b/spif/custody.json")" = false ]
	# no record left: no checkout
	[ -z "$(spif export ls --json)" ]
	cat "$b"/data/* "$b"/spif/* > "$D/all"
	spif-gen --rows 6 --seed 3 --format ndjson 2>/dev/null | grep -oE '[0-9]{12}' | sort -u > "$D/b.numbers"
	[ -s "$D/b.numbers" ]
	! grep -F -f "$D/b.numbers" "$D/all" || false
}

@test "a record changed in the bundle, its manifests made to match, fails verify against custody" {
	three_files
	spif export --forensic --incident "$inc" --with-records --reason 報告 -r "$R" --sign "$R" -o "$D/f.gpg" 2>/dev/null
	open_bundle "$D/f.gpg" "$D/x"
	b=$D/x/$inc-forensic
	# the second record's reading changes, its size the same (the bag's Payload-Oxum holds);
	# the bag's own manifests are redone, as one who altered it would
	LC_ALL=C.UTF-8 sed -i '2s/"フリガナ":"./"フリガナ":"ヲ/' "$b/data/F000002.ndjson"
	! cmp -s "$b/data/F000002.ndjson" <(spif vault cat F000002 --reason 照合 2>/dev/null) || false
	(cd "$b" && sha256sum data/* > manifest-sha256.txt && sha512sum data/* > manifest-sha512.txt &&
		awk '{print $2}' tagmanifest-sha256.txt | xargs sha256sum > t && mv t tagmanifest-sha256.txt)
	tar -b 1 -cf - -C "$D/x" "$inc-forensic" | gpg --batch --quiet -r "$R" -u "$R" --sign --encrypt -o "$D/t.gpg"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/t.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 1 ] || { echo "$status $output $stderr"; return 1; }
	[[ "$output" == *"forensic: data/F000002.ndjson: its SHA-256 is not the one spif/custody.json gives: it was changed"* ]]
	[[ "$stderr" == *"valid BagIt bag"* ]]
	[[ "$stderr" == *"PROBLEMS FOUND"* ]]
	# a record file added that custody does not name
	cp "$D/data/a.csv" "$b/data/F000009.csv"
	tar -b 1 -cf - -C "$D/x" "$inc-forensic" | gpg --batch --quiet -r "$R" -u "$R" --sign --encrypt -o "$D/t2.gpg"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/t2.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$output" == *"forensic: data/F000009.csv: not in spif/custody.json: it was added"* ]]
}

@test "bad: --with-records without --reason, or without --forensic: 64, one line, catalog unchanged, nothing written" {
	three_files
	before=$(catalog_state)
	run --separate-stderr spif export --forensic --incident "$inc" --with-records -r "$R" --sign "$R" -o "$D/o.gpg"
	[ "$status" -eq 64 ]
	one_line_stderr
	[[ "$stderr" == *"--with-records"*"--reason"* ]]
	run --separate-stderr spif export --forensic --incident "$inc" --with-records --reason '' -r "$R" --sign "$R" -o "$D/o.gpg"
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif export --file F000002 --with-records -r "$R" --to-org X --basis Y --reason Z -o "$D/o.gpg"
	[ "$status" -eq 64 ]
	one_line_stderr
	[ ! -e "$D/o.gpg" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: a copy changed since it was catalogued, or gone: 65 naming the file, nothing written" {
	three_files
	# one byte of the CP932 copy changed, its size the same
	local was
	was=$(dd if="$D/data/a.csv" bs=1 skip=300 count=1 2>/dev/null | od -An -c | tr -d ' ')
	if [ "$was" = A ]; then printf B; else printf A; fi | dd of="$D/data/a.csv" bs=1 seek=300 conv=notrunc 2>/dev/null
	run --separate-stderr spif export --forensic --incident "$inc" --with-records --reason 報告 -r "$R" --sign "$R" -o "$D/o.gpg"
	[ "$status" -eq 65 ] || { echo "$status $stderr"; return 1; }
	one_line_stderr
	[[ "$stderr" == *"changed since it was catalogued"*"F000001"* ]]
	[ ! -e "$D/o.gpg" ]
	! spif catalog log --json | grep -q '"action":"incident.forensic"' || false
	# gone: nothing to read it from
	rm "$D/data/a.csv"
	run --separate-stderr spif export --forensic --incident "$inc" --with-records --reason 報告 -r "$R" --sign "$R" -o "$D/o.gpg"
	[ "$status" -eq 65 ] || { echo "$status $stderr"; return 1; }
	one_line_stderr
	[[ "$stderr" == *"F000001"* ]]
	[ ! -e "$D/o.gpg" ]
}

# peak resident memory (KiB) of a bundle of a stored file of N narrow rows
peak_for() {
	local n=$1 h=$D/h$1
	mkdir -p "$h"
	spif-gen --rows "$n" --columns narrow -o "$h/a.csv" 2>/dev/null
	SPIF_HOME=$h/home spif ingest --purpose p --store "$h/a.csv" > /dev/null 2>&1
	rm "$h/a.csv"
	local i
	i=$(SPIF_HOME=$h/home spif incident open --summary big --file F000001 2>/dev/null)
	SPIF_HOME=$h/home /usr/bin/time -f %M -o "$h/rss" spif export --forensic --incident "$i" --with-records \
		--reason 報告 -r "$R" --sign "$R" -o "$h/f.gpg" > /dev/null 2>&1 || return 1
	gpg --batch --quiet --decrypt "$h/f.gpg" 2>/dev/null | tar -xOf - "$i-forensic/data/F000001.ndjson" | wc -l > "$h/rows"
	# and its verification, with only the public key
	SPIF_HOME=$h/home spif catalog key export > "$h/pub" 2>/dev/null || return 1
	/usr/bin/time -f %M -o "$h/vrss" spif export verify --key "$h/pub" "$h/f.gpg" > /dev/null 2>&1 || return 1
	cat "$h/rss"
}

@test "streamed: the peak memory of a bundle of 200,000 rows is that of 20,000" {
	small=$(peak_for 20000)
	[ "$(cat "$D/h20000/rows")" -eq 20000 ]
	big=$(peak_for 200000)
	[ "$(cat "$D/h200000/rows")" -eq 200000 ]
	echo "peak RSS: 20,000 rows $small KiB, 200,000 rows $big KiB" >&3
	# ten times the rows (tens of megabytes more) may not cost more than a few MiB
	[ "$big" -lt $((small + 8192)) ]
	# verify reads the bundle as a stream too: it once held the whole
	# decrypted tar, and twice its size at the end
	vsmall=$(cat "$D/h20000/vrss") vbig=$(cat "$D/h200000/vrss")
	echo "verify peak RSS: 20,000 rows $vsmall KiB, 200,000 rows $vbig KiB" >&3
	[ "$vbig" -lt $((vsmall + 8192)) ]
}

# as USER CMD...: run as that user, with only their own group.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups env HOME="$IT/w/$u" PATH="$PATH" SPIF_HOME="$IT/home" \
		SPIF_CONF="$IT/spif.conf" TMPDIR="$IT/w/$u" GNUPGHOME="$IT/w/$u/g" ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$@"
}

@test "two people: records leave only with an export's approval by another, whom custody names" {
	[ "$(id -u)" -eq 0 ] || skip "needs root: it creates two users to be the two people"
	IT=$(mktemp -d /tmp/spif-frec.XXXXXX)
	chmod 755 "$IT"
	local sfx u fpr
	sfx=$(printf '%04x' $((RANDOM % 65536)))
	RSP=spfrsp$sfx APR=spfapr$sfx
	echo "$RSP $APR" > "$IT/names"
	for u in $RSP $APR; do
		useradd --user-group --no-create-home --home-dir "$IT/w/$u" --shell /bin/sh "$u"
		install -d -m 0700 -o "$u" -g "$u" "$IT/w/$u" "$IT/w/$u/g"
	done
	spif-gen --rows 4 -o "$IT/a.csv" 2>/dev/null
	chmod 644 "$IT/a.csv"
	install -d -m 0700 -o "$RSP" -g "$RSP" "$IT/home"
	as "$RSP" gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key "rsp <rsp@example.invalid>" \
		default default 1y 2>/dev/null
	fpr=$(as "$RSP" gpg --batch --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
	[ -n "$fpr" ]
	as "$RSP" spif ingest --purpose 個人住民税の賦課 --store "$IT/a.csv" > /dev/null 2>&1
	as "$RSP" spif operator add "$RSP" --role admin,responder > /dev/null 2>&1
	as "$RSP" spif operator add "$APR" --role approver > /dev/null 2>&1
	as "$RSP" spif operator grant "$RSP" 個人住民税の賦課 > /dev/null 2>&1
	inc=$(as "$RSP" spif incident open --summary 'USB-001 紛失' --file F000001 2>/dev/null)
	[ -n "$inc" ]
	# the bundle without records needs no second person
	run --separate-stderr as "$RSP" spif export --forensic --incident "$inc" -r "$fpr" --sign "$fpr" -o "$IT/w/$RSP/plain.gpg"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# with them: refused as an export of records with numbers is, nothing written
	run --separate-stderr as "$RSP" spif export --forensic --incident "$inc" --with-records --reason 報告 -r "$fpr" \
		--sign "$fpr" -o "$IT/w/$RSP/f.gpg"
	[ "$status" -eq 77 ] || { echo "$status $stderr"; return 1; }
	one_line_stderr
	[[ "$stderr" == *"$RSP may not export records with numbers of F000001 without a second person's approval"* ]]
	[ ! -e "$IT/w/$RSP/f.gpg" ]
	# the approver, another uid, approves that export
	chown -R "$APR" "$IT/home"
	run --separate-stderr as "$APR" spif operator approve export F000001 --for "$RSP" --reason 調査のため
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	chown -R "$RSP" "$IT/home"
	run --separate-stderr as "$RSP" spif export --forensic --incident "$inc" --with-records --reason 報告 -r "$fpr" \
		--sign "$fpr" -o "$IT/w/$RSP/f.gpg"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	as "$RSP" sh -c "gpg --batch --quiet --decrypt '$IT/w/$RSP/f.gpg' 2>/dev/null | tar -xOf - '$inc-forensic/spif/custody.json'" > "$IT/custody.json"
	[ "$(jq -r .approver "$IT/custody.json")" = "$APR" ]
	[ "$(jq -r .records.F000001.state "$IT/custody.json")" = bundled ]
	run as "$RSP" spif catalog log --json
	[ "$(jq -r 'select(.action == "incident.forensic") | .details.approver' <<<"$output" | tail -1)" = "$APR" ]
}
