#!/usr/bin/env bats
# spif incident: an incident kept as catalog rows with events; every file it
# names held first, by the one kind of hold a lost export or copy places
# too; that hold released only by a second person (an approver who did not
# place it) when the catalog has operators, proved with real uids as root.
# Bad input leaves one stderr line, the documented exit code and the
# catalog as it was.
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

# two files of 5 rows, F000001 and F000002
two_files() {
	gen --rows 5 -o "$D/data/a.csv"
	gen --rows 7 --seed 2 -o "$D/data/b.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/a.csv" > /dev/null 2>&1
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/b.csv" > /dev/null 2>&1
}

@test "open: the incident, its files with counts, each held first (kind incident); events; verify intact" {
	two_files
	run --separate-stderr spif incident open --summary 'USB-001 紛失' --file F000001 --file F2
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^INC-[0-9]{4}-000001$ ]]
	id=$output
	[[ "$stderr" == *"$id opened; 2 files held"* ]]
	run spif incident show "$id" --json
	[[ "$output" == *'"state":"open"'*'"summary":"USB-001 紛失"'* ]]
	[[ "$output" == *'"file":"F000001","label":"a.csv","records":5,'*'"hold":"H000001"'* ]]
	[[ "$output" == *'"file":"F000002","label":"b.csv","records":7,'*'"hold":"H000002"'* ]]
	run spif retain holds --json
	[ "$(grep -c '"kind":"incident"' <<< "$output")" -eq 2 ]
	spif catalog log --json | grep -q '"action":"incident.open","object":"'"$id"'"'
	[ "$(spif catalog log --json | grep -c '"action":"hold.place"')" -eq 2 ]
	# held: nothing of it is destroyed
	run --separate-stderr spif shred --force --reason test --file F000001
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"held (H000001)"* ]]
	spif catalog verify > /dev/null
}

@test "note, close, ls: closing releases no hold; a closed incident takes no note" {
	two_files
	id=$(spif incident open --summary 'wrong recipient' --file F000001 2>/dev/null)
	spif incident note "$id" --note '相手方に削除を依頼'
	run --separate-stderr spif incident close "$id" --note '削除確認書を受領'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"holds stay"* ]]
	run spif incident show "$id"
	[[ "$output" == *"($id closed)"* || "$output" == *"$id (closed)"* ]]
	[[ "$output" == *"相手方に削除を依頼"* ]]
	# times for a person in the office's zone, not the UTC the JSON keeps
	[[ "$output" == *"opened 20"??"-"??"-"??" "??":"??":"??" JST by "* ]]
	[[ "$output" == *"closed 20"??"-"??"-"??" "??":"??":"??" JST by "* ]]
	[[ "$output" =~ \ 20[0-9-]{8}\ [0-9:]{8}\ JST\ .*相手方に削除を依頼 ]]
	[[ "$output" != *"T"??":"??":"??*"Z"* ]]
	run spif retain holds --json
	[[ "$output" == *'"hold":"H000001"'*'"released":null'* ]]
	run spif incident ls
	[[ "$output" != *"$id"* ]]
	run spif incident ls --all --json
	[[ "$output" == *'"id":"'"$id"'","state":"closed"'*'"close_note":"削除確認書を受領"'* ]]
	before=$(catalog_state)
	run --separate-stderr spif incident note "$id" --note more
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"$id is closed"* ]]
	run --separate-stderr spif incident close "$id" --note again
	[ "$status" -eq 65 ]
	[ "$(catalog_state)" = "$before" ]
	for a in incident.note incident.close; do
		spif catalog log --json | grep -q "\"action\":\"$a\""
	done
}

@test "one kind of incident hold: export lost and catalog copy lost place it too" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/a.csv" > /dev/null 2>&1
	rm "$D/data/a.csv"
	spif catalog copy lost 1 --reason 'USBメモリ紛失' > /dev/null 2>&1
	run spif retain holds --json
	[[ "$output" == *'"hold":"H000001"'*'"kind":"incident"'* ]]
	# an ordinary hold stays ordinary
	spif retain hold F000001 --reason 訴訟 > /dev/null
	run spif retain holds --json
	[[ "$output" == *'"hold":"H000002"'*'"kind":"hold"'* ]]
	# spif export lost: the same function (tests/bats/export.bats covers the ledger)
	grep -q 'spif_hold_place_incident' "$BATS_TEST_DIRNAME/../../lib/export.c"
	! grep -q 'spif_hold_place(' "$BATS_TEST_DIRNAME/../../lib/export.c" "$BATS_TEST_DIRNAME/../../lib/copycheck.c" || false
}

@test "a personal install: anyone who may release holds releases an incident hold, as before" {
	two_files
	spif incident open --summary lost --file F000001 > /dev/null 2>&1
	run --separate-stderr spif retain release H000001 --reason 調査済み
	[ "$status" -eq 0 ]
	run --separate-stderr spif shred --force --reason test --file F000001
	[ "$status" -eq 0 ]
}

@test "a disposed file is named without a hold: nothing is left to hold" {
	two_files
	spif shred --force --reason test --file F000001 > /dev/null 2>&1
	run --separate-stderr spif incident open --summary lost --file F000001 --file F000002
	[ "$status" -eq 0 ]
	run spif incident show "$output" --json
	[[ "$output" == *'"file":"F000001"'*'"hold":null'* ]]
	[[ "$output" == *'"file":"F000002"'*'"hold":"H000001"'* ]]
}

# as USER CMD...: run as that user, with only their own group.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups env HOME="$IT/w/$u" PATH="$PATH" SPIF_HOME="$IT/home" \
		SPIF_CONF="$IT/spif.conf" TMPDIR="$IT/w/$u" GNUPGHOME="$IT/w/$u/g" ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$@"
}

@test "two people: an incident hold's release is refused to who placed it and to a non-approver, done by an approver" {
	[ "$(id -u)" -eq 0 ] || skip "needs root: it creates two users to be the two people"
	IT=$(mktemp -d /tmp/spif-inc.XXXXXX)
	chmod 755 "$IT"
	local sfx u
	sfx=$(printf '%04x' $((RANDOM % 65536)))
	RSP=spirsp$sfx APR=spiapr$sfx OPR=spiopr$sfx
	echo "$RSP $APR $OPR" > "$IT/names"
	for u in $RSP $APR $OPR; do
		useradd --user-group --no-create-home --home-dir "$IT/w/$u" --shell /bin/sh "$u"
		install -d -m 0700 -o "$u" -g "$u" "$IT/w/$u" "$IT/w/$u/g"
	done
	spif-gen --rows 4 -o "$IT/a.csv" 2>/dev/null
	chmod 644 "$IT/a.csv"
	install -d -m 0700 -o "$RSP" -g "$RSP" "$IT/home"
	# the responder's own catalog: a file, then the operators (the first an admin)
	as "$RSP" spif ingest --purpose 個人住民税の賦課 --store "$IT/a.csv" > /dev/null 2>&1
	as "$RSP" spif operator add "$RSP" --role admin,responder,approver > /dev/null 2>&1
	as "$RSP" spif operator add "$APR" --role approver > /dev/null 2>&1
	as "$RSP" spif operator add "$OPR" --role operator,responder > /dev/null 2>&1
	run --separate-stderr as "$RSP" spif incident open --summary 'USB-001 紛失' --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# who placed it, though an approver, is not the second person
	run --separate-stderr as "$RSP" spif retain release H000001 --reason 調査済み
	[ "$status" -eq 77 ]
	one_line_stderr
	[[ "$stderr" == *"$RSP did the work"* ]]
	# a responder without the approver role may release ordinary holds, not this one
	chown -R "$OPR" "$IT/home"
	run --separate-stderr as "$OPR" spif retain release H000001 --reason 調査済み
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"needs the role approver"* ]]
	run --separate-stderr as "$OPR" spif retain holds --json
	[[ "$output" == *'"hold":"H000001"'*'"released":null'* ]]
	# the approver, another uid, releases it
	chown -R "$APR" "$IT/home"
	run --separate-stderr as "$APR" spif retain release H000001 --reason 調査済み
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run as "$APR" spif catalog log --json
	[[ "$output" == *'"operator":"'"$RSP"'"'*'"action":"operator.refused"'* ]]
	[[ "$output" == *'"operator":"'"$APR"'"'*'"action":"hold.release"'* ]]
	as "$APR" spif catalog verify > /dev/null
}

# ---- bad input ---------------------------------------------------------------

@test "bad: open without --summary, without --file, a malformed --file: 64, nothing written" {
	two_files
	before=$(catalog_state)
	for args in "--file F000001" "--summary x" "--summary x --file Fx" "--summary x --file 0" "--summary x --note y --file F1"; do
		run --separate-stderr spif incident open $args
		[ "$status" -eq 64 ] || { echo "$args: $status $stderr"; return 1; }
		one_line_stderr
	done
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: an unknown file, one named twice, a summary with a number or a line break: nothing held" {
	two_files
	before=$(catalog_state)
	run --separate-stderr spif incident open --summary x --file F000001 --file F000009
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"F000009"* ]]
	run --separate-stderr spif incident open --summary x --file F000001 --file F1
	[ "$status" -eq 64 ]
	one_line_stderr
	n=$(valid_number 12345678901)
	run --separate-stderr spif incident open --summary "番号 $n 流出" --file F000001
	[ "$status" -eq 64 ]
	one_line_stderr
	[[ "$stderr" != *"$n"* ]]
	run --separate-stderr spif incident open --summary $'two\nlines' --file F000001
	[ "$status" -eq 64 ]
	one_line_stderr
	[ "$(catalog_state)" = "$before" ]
	run spif retain holds --json
	[ -z "$output" ]
}

@test "bad: note and close without --note, a malformed or unknown id, a note with a number; ls and show extra options" {
	two_files
	id=$(spif incident open --summary x --file F000001 2>/dev/null)
	before=$(catalog_state)
	run --separate-stderr spif incident note "$id"
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif incident close "$id"
	[ "$status" -eq 64 ]
	run --separate-stderr spif incident note INC-26-1 --note x
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif incident close INC-2026-999999 --note x
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"no incident INC-2026-999999"* ]]
	run --separate-stderr spif incident show INC-2026-999999
	[ "$status" -eq 65 ]
	run --separate-stderr spif incident note "$id" --note "$(valid_number 98765432109)"
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif incident ls --note x
	[ "$status" -eq 64 ]
	run --separate-stderr spif incident show "$id" --all
	[ "$status" -eq 64 ]
	run --separate-stderr spif incident frobnicate
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif incident ls --bogus
	[ "$status" -eq 64 ]
	one_line_stderr
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: no catalog: 66, and none is made" {
	run --separate-stderr spif incident open --summary x --file F000001
	[ "$status" -eq 66 ]
	one_line_stderr
	[ ! -e "$SPIF_HOME/catalog.db" ]
}

# ---- the forensic bundle -------------------------------------------------------

# a stored file exported to R and lost: the incident of a lost medium
lost_medium() {
	gen --rows 6 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/a.csv" > /dev/null 2>&1
	ex=$(spif export --file F000001 -r "$R" --sign "$R" --to-org 印刷委託先 --basis 番号法第19条第6号 \
		--reason 納税通知書の印刷 -o "$D/out.gpg" 2>/dev/null)
	spif export lost "$ex" --reason 'USB-001 配送中に紛失' > /dev/null 2>&1
	inc=$(spif incident open --summary 'USB-001 紛失' --file F000001 2>/dev/null)
	spif catalog key export > "$D/catalog.pub" 2>/dev/null
}

# open BUNDLE DIR: decrypt and untar with plain gpg and tar
open_bundle() {
	mkdir -p "$2"
	gpg --batch --quiet --decrypt "$1" 2>/dev/null | tar -xf - -C "$2"
}

@test "forensic: a lost medium end to end, verified offline with only the bundle and the public key" {
	lost_medium
	gen --rows 2 --seed 9 -o "$D/data/b.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/b.csv" > /dev/null 2>&1
	run --separate-stderr spif export --forensic --incident "$inc" --file F000002 -r "$R" --sign "$R" \
		--reason 'PPCへの報告' -o "$D/f.gpg"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	[ "$(sha256sum "$D/f.gpg" | cut -d' ' -f1)" = "$output" ]
	# the file it added is held first, and the run is an event
	run spif retain holds --json
	[[ "$output" == *'"file":"F000002"'*'"kind":"incident"'* ]]
	spif catalog log --json | grep -q '"action":"incident.forensic","object":"'"$inc"'"'
	# offline: a scratch directory, no catalog, only the bundle and the key
	mkdir "$D/scratch"
	cp "$D/f.gpg" "$D/catalog.pub" "$D/scratch/"
	cd "$D/scratch"
	run --separate-stderr env SPIF_HOME="$D/scratch/nohome" spif export verify f.gpg --key catalog.pub
	[ "$status" -eq 0 ] || { echo "$output $stderr"; return 1; }
	[[ "$stderr" == *"valid BagIt bag"*"good signature by $R"* ]]
	[[ "$stderr" == *"every event intact"* ]]
	[ ! -e "$D/scratch/nohome" ]
	# what it holds: the lost export, the holds, the rows, the custody signed by the responder
	open_bundle f.gpg x
	b=x/$inc-forensic
	grep -q '"action":"export.lost"' "$b/data/events.ndjson"
	grep -q '"action":"incident.open"' "$b/data/events.ndjson"
	grep -q '"exports":\[{' "$b/data/rows.json"
	! grep -q '"keks"\|"data_keys"\|wrapped' "$b/data/rows.json" || false
	grep -q '"clock":"\(synchronised\|unsynchronised\|unknown\)"' "$b/data/host.json"
	grep -q '"why":"PPCへの報告"' "$b/spif/custody.json"
	gpg --batch --quiet --verify "$b/spif/custody.json.asc" "$b/spif/custody.json" 2>/dev/null
}

@test "forensic: one changed event in the bundle fails verify, naming it" {
	lost_medium
	spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/f.gpg" > /dev/null 2>&1
	open_bundle "$D/f.gpg" "$D/x"
	b=$D/x/$inc-forensic
	# the third event says another operator did it; re-sealed as the responder could
	seq=$(sed -n '3s/^{"seq":\([0-9]*\),.*/\1/p' "$b/data/events.ndjson")
	sed -i '3s/"operator":"[^"]*"/"operator":"someone-else"/' "$b/data/events.ndjson"
	# (-b 1: no padding after the end of the archive, which the bag check
	# does not read, and gpg would then meet a closed pipe)
	tar -b 1 -cf - -C "$D/x" "$inc-forensic" | gpg --batch --quiet -r "$R" -u "$R" --sign --encrypt -o "$D/t.gpg"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/t.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 1 ] || { echo "$status $output $stderr"; return 1; }
	[[ "$output" == *"forensic: event $seq: its fields do not match its hash: it was changed"* ]]
	[[ "$stderr" == *"PROBLEMS FOUND"* ]]
	# a proof of another catalog's key: the checkpoint is refused
	SPIF_HOME="$D/other" spif media add USB-9 --kind usb --location 金庫 2>/dev/null
	SPIF_HOME="$D/other" spif catalog key export > "$D/other.pub" 2>/dev/null
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/f.gpg" --key "$D/other.pub"
	[ "$status" -eq 1 ]
	[[ "$output" == *"forensic: the checkpoint: "* ]]
}

@test "forensic: no Individual Number in the bundle" {
	lost_medium
	spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/f.gpg" > /dev/null 2>&1
	open_bundle "$D/f.gpg" "$D/x"
	cat "$D"/x/*/data/* "$D"/x/*/spif/* > "$D/all"
	valid_numbers_in "$D/data/a.csv" "$D/source.numbers"
	[ -s "$D/source.numbers" ]
	! grep -F -f "$D/source.numbers" "$D/all" || false
	# nor any 12-digit run outside hashes and signatures
	! sed 's/[0-9a-f]\{64\}//g; /BEGIN PGP/,/END PGP/d' "$D/all" | grep -E '(^|[^0-9])[0-9]{12}([^0-9]|$)' || false
}

@test "bad: forensic options: one line, the documented exit, the catalog unchanged, nothing written" {
	lost_medium
	before=$(catalog_state)
	local -a cases=(
		"64|--forensic -r $R -o $D/o.gpg"
		"64|--forensic --incident INC-1 -r $R -o $D/o.gpg"
		"64|--forensic --incident $inc -o $D/o.gpg"
		"64|--forensic --incident $inc -r $R"
		"64|--forensic --incident $inc -r $R -o $D/o.gpg --since yesterday"
		"64|--forensic --incident $inc -r $R -o $D/o.gpg --until 2026-02-30"
		"64|--forensic --incident $inc -r $R -o $D/o.gpg --since 2026-12-01 --until 2026-01-01"
		"64|--forensic --incident $inc -r $R -o $D/o.gpg --to-org X"
		"64|--forensic --incident $inc -r $R -o $D/o.gpg --file Fx"
		"64|--forensic --incident $inc -r $R -o $D/o.gpg F000001"
		"64|--forensic --incident $inc -r $R -o $D/o.gpg"
		"65|--forensic --incident INC-2026-999999 -r $R --sign $R -o $D/o.gpg"
		"65|--forensic --incident $inc --file F000009 -r $R --sign $R -o $D/o.gpg"
	)
	local cse code args
	for cse in "${cases[@]}"; do
		code=${cse%%|*} args=${cse#*|}
		run --separate-stderr spif export $args
		[ "$status" -eq "$code" ] || { echo "$args: $status $stderr"; return 1; }
		one_line_stderr
		[ ! -e "$D/o.gpg" ]
	done
	run --separate-stderr spif export --forensic --incident "$inc" -r "$R" -o "$D/o.gpg" \
		--reason "番号 $(valid_number 12345678901)"
	[ "$status" -eq 64 ]
	one_line_stderr
	[ "$(catalog_state)" = "$before" ]
	# a closed incident: 65; an output that exists: 73
	spif incident close "$inc" --note 調査終了 2>/dev/null
	run --separate-stderr spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/o.gpg"
	[ "$status" -eq 65 ]
	one_line_stderr
	[ ! -e "$D/o.gpg" ]
	inc2=$(spif incident open --summary again --file F000001 2>/dev/null)
	: > "$D/exists.gpg"
	run --separate-stderr spif export --forensic --incident "$inc2" -r "$R" --sign "$R" -o "$D/exists.gpg"
	[ "$status" -eq 73 ]
	[ ! -s "$D/exists.gpg" ]
	# verify: a missing key file 66, a file that is not a key 65
	spif export --forensic --incident "$inc2" -r "$R" --sign "$R" -o "$D/f.gpg" 2>/dev/null
	run --separate-stderr spif export verify "$D/f.gpg" --key "$D/none.pub"
	[ "$status" -eq 66 ]
	[[ "$stderr" == *"none.pub"* ]]
	echo garbage > "$D/bad.pub"
	run --separate-stderr spif export verify "$D/f.gpg" --key "$D/bad.pub"
	[ "$status" -eq 65 ]
}

@test "forensic: a number that reached a row stops the bundle, fail closed: 65, nothing written" {
	lost_medium
	# an insider's note, written through spif's own connection (so the log records it)
	catalog_sql "INSERT INTO incident_notes(incident_id,time,operator,note) VALUES('$inc','2026-01-01T00:00:00.000Z','x','番号 $(valid_number 98765432109)')"
	run --separate-stderr spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/f.gpg"
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == *"data/rows.json holds what may be an Individual Number"* ]]
	[[ "$stderr" != *"$(valid_number 98765432109)"* ]]
	[ ! -e "$D/f.gpg" ]
}
