#!/usr/bin/env bats
# Every checkpoint kept (the table checkpoints), listed by spif catalog
# checkpoint ls, and a forensic bundle's consistency proof from the last
# checkpoint issued before its window (--since), the first when none was,
# the last before the run without a window.  Attacks: an old checkpoint's
# row rewritten (verify names it; a bundle proving from it fails), one byte
# of the consistency proof changed (verify fails naming it).
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
	gen --rows 6 -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store "$D/data/a.csv" > /dev/null 2>&1
}

teardown() {
	teardown_gpg
}

# the checkpoints as "id size" lines
sizes() {
	spif catalog checkpoint ls --json | sed 's/^{"id":\([0-9]*\),"size":\([0-9]*\),.*/\1 \2/'
}

# open BUNDLE DIR: decrypt and untar with plain gpg and tar
open_bundle() {
	mkdir -p "$2"
	gpg --batch --quiet --decrypt "$1" 2>/dev/null | tar -xf - -C "$2"
}

# an incident of F000001, and the public key
incident() {
	inc=$(spif incident open --summary 'USB-001 紛失' --file F000001 2>/dev/null)
	spif catalog key export > "$D/catalog.pub" 2>/dev/null
}

# the UTC time now, to the second, after a pause on either side
instant() {
	sleep 1.1
	date -u +%Y-%m-%dT%H:%M:%SZ
	sleep 1.1
}

@test "checkpoint ls: every checkpoint issued, local time with its zone; --json in UTC with the note" {
	run --separate-stderr spif catalog checkpoint ls
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ] # the heading: none issued yet
	spif catalog checkpoint > "$D/1.cp"
	spif catalog checkpoint > "$D/2.cp"
	run --separate-stderr spif catalog checkpoint ls
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == *ID*EVENTS*ISSUED*ROOT* ]]
	# the second signs the first's event too
	[[ "${lines[1]}" =~ ^\ +1\ +1\ [0-9-]{10}\ [0-9:]{8}\ JST\ +[0-9a-f]{64}$ ]]
	[[ "${lines[2]}" =~ ^\ +2\ +2\ [0-9-]{10}\ [0-9:]{8}\ JST\ +[0-9a-f]{64}$ ]]
	# the root is the note's, in hex
	root=$(sed -n 3p "$D/2.cp" | base64 -d | od -An -tx1 | tr -d ' \n')
	[[ "${lines[2]}" == *" $root" ]]
	run --separate-stderr spif catalog checkpoint ls --json
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" =~ ^\{\"id\":2,\"size\":2,\"root\":\"$root\",\"created\":\"[0-9-]{10}T[0-9:.]+Z\",\"note\":\"spif.catalog/ ]]
	# the note kept is the note issued
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT note FROM checkpoints WHERE id = 2")" = "$(cat "$D/2.cp")" ]
	spif catalog verify > /dev/null
}

@test "bad: checkpoint ls with an argument, an unknown checkpoint subcommand, --append: 64; no catalog: 66" {
	spif catalog checkpoint > /dev/null
	before=$(catalog_state)
	local -a cases=("checkpoint ls x" "checkpoint lsx" "checkpoint ls --append $D/x.cp" "checkpoint ls --syslog")
	local a
	for a in "${cases[@]}"; do
		run --separate-stderr spif catalog $a
		[ "$status" -eq 64 ] || { echo "$a: $status $stderr"; return 1; }
		one_line_stderr
	done
	[ ! -e "$D/x.cp" ]
	[ "$(catalog_state)" = "$before" ]
	run --separate-stderr env SPIF_HOME="$D/none" spif catalog checkpoint ls
	[ "$status" -eq 66 ]
	one_line_stderr
	[ ! -e "$D/none/catalog.db" ]
}

@test "an old checkpoint's row rewritten in SQL behind spif: verify names the row" {
	spif catalog checkpoint > /dev/null
	spif catalog checkpoint > /dev/null
	spif catalog verify > /dev/null
	keep=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT sql FROM sqlite_schema WHERE name = 'spif_row_checkpoints_upd'")
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER spif_row_checkpoints_upd;
		UPDATE checkpoints SET created = '2020-01-01T00:00:00.000Z' WHERE id = 1; $keep;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"verify: checkpoints 1: changed outside spif (the audit log last recorded it in event "* ]]
	[[ "$stderr" != *schema* ]]
}

@test "forensic --since: the consistency proof starts at the last checkpoint before the window, not a later one" {
	incident
	spif catalog checkpoint > /dev/null
	t1=$(instant)
	spif catalog checkpoint > /dev/null
	spif catalog checkpoint > /dev/null
	[ "$(sizes | wc -l)" -eq 3 ]
	first=$(sizes | sed -n '1s/.* //p')
	# a window starting between the first and the second: the first
	spif export --forensic --incident "$inc" --since "$t1" -r "$R" --sign "$R" -o "$D/a.gpg" > /dev/null 2>&1
	open_bundle "$D/a.gpg" "$D/a"
	p=$D/a/$inc-forensic/data/proofs.json
	grep -q '"consistency_from":{"created":"[^"]*","pick":"before","since":"[^"]*","size":'"$first"',' "$p"
	grep -q '"previous_checkpoint":"spif.catalog/[0-9a-f]*\\n'"$first"'\\n' "$p"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/a.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 0 ] || { echo "$output $stderr"; return 1; }
	[[ "$stderr" == *"with a consistency proof from the one before"*"every event intact"* ]]
	# no window: the last one issued before this run (bundle a's own)
	last=$(sizes | sed -n '$s/.* //p')
	[ "$(sizes | wc -l)" -eq 4 ]
	spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/b.gpg" > /dev/null 2>&1
	open_bundle "$D/b.gpg" "$D/b"
	grep -q '"consistency_from":{"created":"[^"]*","pick":"last",[^}]*"size":'"$last"',' "$D/b/$inc-forensic/data/proofs.json"
	# a window before every checkpoint: the first, and proofs.json says so
	spif export --forensic --incident "$inc" --since 2020-01-01 -r "$R" --sign "$R" -o "$D/c.gpg" > /dev/null 2>&1
	open_bundle "$D/c.gpg" "$D/c"
	p=$D/c/$inc-forensic/data/proofs.json
	grep -q '"pick":"first","since":"2020-01-01","size":'"$first"',"why":"no checkpoint was issued before the window' "$p"
	spif export verify "$D/c.gpg" --key "$D/catalog.pub" > /dev/null 2>&1
}

@test "forensic with no checkpoint before its own: no consistency proof, and proofs.json says why" {
	incident
	spif export --forensic --incident "$inc" --since 2020-01-01 -r "$R" --sign "$R" -o "$D/a.gpg" > /dev/null 2>&1
	open_bundle "$D/a.gpg" "$D/a"
	p=$D/a/$inc-forensic/data/proofs.json
	grep -q '"consistency_from":{"pick":"none","since":"2020-01-01","why":"no checkpoint was issued before this bundle' "$p"
	! grep -q previous_checkpoint "$p" || false
}

@test "an old checkpoint rewritten (its size, through spif's own connection): the bundle proving from it fails verify" {
	incident
	spif catalog checkpoint > /dev/null
	t1=$(instant)
	# recorded like any change, so verify alone has nothing to say: but the
	# note no longer carries the key's signature
	catalog_sql "UPDATE checkpoints SET size = size - 1, note = substr(note, 1, instr(note, char(10))) ||
		(size - 1) || substr(note, instr(note, char(10)) + length(size) + 1) WHERE id = 1"
	spif catalog verify > /dev/null
	spif export --forensic --incident "$inc" --since "$t1" -r "$R" --sign "$R" -o "$D/a.gpg" > /dev/null 2>&1
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/a.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$output" == *"forensic: the previous checkpoint: "* ]]
	[[ "$stderr" == *"PROBLEMS FOUND"* ]]
}

@test "one byte of the consistency proof changed: verify fails, naming the proof" {
	incident
	spif catalog checkpoint > /dev/null
	spif catalog checkpoint > /dev/null
	spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/f.gpg" > /dev/null 2>&1
	open_bundle "$D/f.gpg" "$D/x"
	p=$D/x/$inc-forensic/data/proofs.json
	cp "$p" "$D/orig.json"
	# the first hash of the proof, its first hex digit changed
	perl -pi -e 's/("consistency":\[")(.)/$1 . ($2 eq "0" ? "1" : "0")/e' "$p"
	[ "$(cmp -l "$D/orig.json" "$p" | wc -l)" -eq 1 ]
	tar -b 1 -cf - -C "$D/x" "$inc-forensic" | gpg --batch --quiet -r "$R" -u "$R" --sign --encrypt -o "$D/t.gpg"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/t.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$output" == *"forensic: the consistency proof from "*" events does not verify"* ]]
	# the size consistency_from states must be the previous note's
	cp "$D/orig.json" "$p"
	perl -pi -e 's/("consistency_from":\{[^}]*"size":)([0-9]+)/$1 . ($2 + 1)/e' "$p"
	tar -b 1 -cf - -C "$D/x" "$inc-forensic" | gpg --batch --quiet -r "$R" -u "$R" --sign --encrypt -o "$D/u.gpg"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/u.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$output" == *"forensic: consistency_from says another size than the previous checkpoint's"* ]]
	# nor may the proof go while consistency_from still names its checkpoint
	cp "$D/orig.json" "$p"
	perl -pi -e 's/"consistency":\[[^]]*\],//; s/,"previous_checkpoint":"[^"]*"//' "$p"
	! grep -q '"consistency":\|previous_checkpoint' "$p" || false
	tar -b 1 -cf - -C "$D/x" "$inc-forensic" | gpg --batch --quiet -r "$R" -u "$R" --sign --encrypt -o "$D/v.gpg"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif export verify "$D/v.gpg" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$output" == *"forensic: consistency_from names a last checkpoint, and the bundle holds no consistency proof"* ]]
}

@test "host.json: what each clock source present said, and unknown with none reachable" {
	incident
	spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/a.gpg" > /dev/null 2>&1
	open_bundle "$D/a.gpg" "$D/a"
	h=$D/a/$inc-forensic/data/host.json
	grep -q '"clock":"\(synchronised\|unsynchronised\|unknown\)","clock_sources":\[' "$h"
	grep -q '{"detail":"[^"]*","source":"adjtimex","synchronized":\(true\|false\|null\)}' "$h"
	if [ -x /usr/bin/timedatectl ]; then
		grep -q '"source":"timedatectl"' "$h"
	fi
	SPIF_CLOCK_TOOLS=none spif export --forensic --incident "$inc" -r "$R" --sign "$R" -o "$D/b.gpg" > /dev/null 2>&1
	open_bundle "$D/b.gpg" "$D/b"
	grep -q '"clock":"unknown","clock_sources":\[\]' "$D/b/$inc-forensic/data/host.json"
}
