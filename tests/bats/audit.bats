#!/usr/bin/env bats
# The audit log as evidence: every row covered, signed checkpoints, and
# inclusion proofs that verify offline.  The insider's rewrites are made by
# tests/unit/test_auditlog.c's "rewrite" and "cut" (a tiny C program with
# spif's functions, as an insider could write): the host alone cannot tell
# them from the real log; a checkpoint kept elsewhere can.
load helper

setup() {
	setup_home
	mkdir -p "$D/data"
	gen --rows 50 --columns narrow -o "$D/data/a.csv"
	spif ingest --purpose 個人住民税 --print-id "$D/data/a.csv" >/dev/null 2>&1
	gen --rows 20 --seed 2 --columns narrow -o "$D/data/b.csv"
	spif ingest --purpose 給与支払報告書 --print-id "$D/data/b.csv" >/dev/null 2>&1
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
}

# the SQL of a trigger, to put it back word for word after a change
trigger_sql() {
	sqlite3 "$SPIF_HOME/catalog.db" "SELECT sql FROM sqlite_schema WHERE name = '$1'"
}

@test "checkpoint: a C2SP signed note by the catalog's own key, made at first use and kept private" {
	run --separate-stderr spif catalog checkpoint
	[ "$status" -eq 0 ]
	id=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT value FROM meta WHERE key = 'catalog_id'")
	[ "${lines[0]}" = "spif.catalog/$id" ]
	[ "${lines[1]}" = 2 ]
	[[ "${lines[2]}" =~ ^[A-Za-z0-9+/]{43}=$ ]]
	[ -z "${lines[3]}" ] || [ "${#lines[@]}" -eq 4 ]
	[[ "$output" == *$'\n\n'"— spif.catalog/$id "* ]]
	[ "$(stat -c %a "$SPIF_HOME/keys")" = 700 ]
	[ "$(stat -c %a "$SPIF_HOME/keys/checkpoint.key")" = 600 ]
	grep -q "^PRIVATE+KEY+spif.catalog/$id+" "$SPIF_HOME/keys/checkpoint.key"
	# it signs the log as it was (2 events); one event after it records its row
	[ "$(spif catalog log --json | wc -l)" -eq 3 ]
	spif catalog log --json --limit 1 | grep -q '"action":"catalog.checkpoint"'
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT size FROM checkpoints")" -eq 2 ]
	# the same key signs the next one
	spif catalog checkpoint --append "$D/cp.log" >/dev/null
	spif catalog checkpoint --append "$D/cp.log" >/dev/null
	[ "$(grep -c '^— ' "$D/cp.log")" -eq 2 ]
	[ "$(grep '^— ' "$D/cp.log" | cut -d' ' -f2 | sort -u | wc -l)" -eq 1 ]
}

@test "key export: the signed-note verifier key and its SHA-256 fingerprint" {
	run --separate-stderr spif catalog key export
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" =~ ^spif\.catalog/[0-9a-f]{32}\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$ ]]
	[ "${lines[1]}" = "SHA256:$(printf '%s' "${lines[0]}" | sha256sum | cut -c1-64)" ]
	run --separate-stderr spif catalog key export --fingerprint
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == SHA256:* ]]
	! grep -q PRIVATE <(spif catalog key export) || false
}

@test "verify without --checkpoint says plainly that only internal consistency was checked" {
	run --separate-stderr spif catalog verify
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "audit log intact: 2 events"* ]]
	[[ "${lines[1]}" == "rows intact: "* ]]
	[ "$(printf '%s\n' "$output" | grep -c '^internal consistency only')" -eq 1 ]
	run --separate-stderr spif catalog verify --json
	[[ "$output" == *'"scope":"internal"'* ]]
	[[ "$output" == *'"tree_intact":true'* ]]
}

@test "an event edited and the whole chain recomputed: verify alone says intact, an older checkpoint refuses it" {
	spif catalog checkpoint > "$D/old.cp"
	audit_tool rewrite "$SPIF_HOME" 1 '"records":50' '"records":5'
	spif catalog log --json | head -1 | grep -q '"records":5,'
	# a perfect rewrite: chain, head, tiles, triggers as spif would leave them
	run --separate-stderr spif catalog verify
	[ "$status" -eq 0 ]
	[[ "$output" == *"internal consistency only"* ]]
	run --separate-stderr spif catalog verify --checkpoint "$D/old.cp"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"old.cp: checkpoint 1: the log of 3 events is not the checkpoint's 2 events with events added"*"the log was rewritten"* ]]
}

@test "the tail cut off with the head in meta fixed: caught by an older checkpoint" {
	gen --rows 5 --seed 3 --columns narrow -o "$D/data/c.csv"
	spif ingest --purpose x --store --print-id "$D/data/c.csv" >/dev/null 2>&1
	spif vault cat F000003 > /dev/null # an event that changes no row
	spif catalog checkpoint > "$D/old.cp"
	# the checkpoint signs n - 1 events; the last records its row
	n=$(spif catalog log --json | wc -l)
	[ "$(sed -n 2p "$D/old.cp")" -eq $((n - 1)) ]
	audit_tool cut "$SPIF_HOME" $((n - 2))
	# the checkpoint's row is recorded by no event now: verify alone sees it
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"verify: checkpoints 1: added outside spif"* ]]
	# an insider deletes the row too, its trigger put back word for word
	keep=$(trigger_sql spif_row_checkpoints_del)
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER spif_row_checkpoints_del; DELETE FROM checkpoints; $keep;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 0 ]
	run --separate-stderr spif catalog verify --checkpoint "$D/old.cp"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the checkpoint vouches for $((n - 1)) events and the log has $((n - 2)): events were removed"* ]]
}

@test "every event deleted: the rows no event records are named, and the checkpoint refuses the empty log" {
	spif catalog checkpoint > "$D/old.cp"
	audit_tool cut "$SPIF_HOME" 0
	[ "$(spif catalog log --json | wc -l)" -eq 0 ]
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"verify: files 1: added outside spif (no event records it)"* ]]
	[[ "$stderr" == *"verify: copies 2: added outside spif"* ]]
	run --separate-stderr spif catalog verify --checkpoint "$D/old.cp"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the checkpoint vouches for 2 events and the log has 0: events were removed"* ]]
}

@test "the sqlite3 shell cannot change a covered table: its triggers need spif's functions" {
	run sqlite3 "$SPIF_HOME/catalog.db" "UPDATE copies SET path = '/etc/hostname' WHERE id = 1"
	[ "$status" -ne 0 ]
	[[ "$output" == *"no such function: spif_tx"* ]]
	run sqlite3 "$SPIF_HOME/catalog.db" "DELETE FROM files WHERE id = 2"
	[ "$status" -ne 0 ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT count(*) FROM files")" -eq 2 ]
	spif catalog verify > /dev/null
}

@test "copies.path redirected in SQL, the trigger dropped and put back: verify names the row" {
	keep=$(trigger_sql spif_row_copies_upd)
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER spif_row_copies_upd;
		UPDATE copies SET path = '$D/data/b.csv' WHERE id = 1; $keep;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"verify: copies 1: changed outside spif (the audit log last recorded it in event 1)"* ]]
	[[ "$stderr" != *schema* ]]
	one_line_stderr
	# a shred of that file now would destroy another: verify is what says so
	run --separate-stderr spif catalog verify --json
	[[ "$output" == *'"rows_outside":1,"rows_outside_first":[{"table":"copies","key":"1","change":"changed","event":1}]'* ]]
}

@test "a trigger left dropped: verify names the schema change" {
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER spif_row_files_del"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"verify: schema: the trigger spif_row_files_del is missing: changed outside spif"* ]]
	sqlite3 "$SPIF_HOME/catalog.db" "CREATE TABLE spare(x)"
	run --separate-stderr spif catalog verify
	[[ "$stderr" == *"verify: schema: the table spare is not one spif creates"* ]]
}

@test "a schedule's period shortened in SQL: reported" {
	spif retain schedule add kyuyo-7y --period 7y >/dev/null 2>&1
	keep=$(trigger_sql spif_row_schedules_upd)
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER spif_row_schedules_upd;
		UPDATE schedules SET period = '1d' WHERE name = 'kyuyo-7y'; $keep;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"verify: schedules kyuyo-7y: changed outside spif (the audit log last recorded it in event "* ]]
}

@test "a checkpoint from an older state against a rewritten log is refused; one issued after the rewrite is not" {
	spif catalog checkpoint > "$D/old.cp"
	gen --rows 5 --seed 4 --columns narrow -o "$D/data/d.csv"
	spif ingest --purpose x --print-id "$D/data/d.csv" >/dev/null 2>&1
	run --separate-stderr spif catalog verify --checkpoint "$D/old.cp"
	[ "$status" -eq 0 ]
	[[ "${lines[2]}" == "checkpoint: the log extends 1 checkpoint in $D/old.cp"* ]]
	audit_tool rewrite "$SPIF_HOME" 2 '"records":20' '"records":2'
	# root on the host can sign the rewritten log: nothing there proves otherwise
	spif catalog checkpoint > "$D/new.cp"
	run --separate-stderr spif catalog verify --checkpoint "$D/new.cp"
	[ "$status" -eq 0 ]
	# but whoever kept the older checkpoint catches it
	cat "$D/old.cp" "$D/new.cp" > "$D/both.cp"
	run --separate-stderr spif catalog verify --checkpoint "$D/both.cp"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"both.cp: checkpoint 1: the log of 5 events is not the checkpoint's 2 events with events added"* ]]
	one_line_stderr
	# and a checkpoint edited (its size) does not verify at all
	sed '2s/.*/1/' "$D/old.cp" > "$D/forged.cp"
	run --separate-stderr spif catalog verify --checkpoint "$D/forged.cp"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the checkpoint is not one this catalog's key signed"* ]]
}

@test "a checkpoint checked with another catalog's key is refused" {
	spif catalog checkpoint > "$D/mine.cp"
	SPIF_HOME="$D/other" spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	SPIF_HOME="$D/other" spif catalog key export | head -1 > "$D/other.key"
	run --separate-stderr spif catalog verify --checkpoint "$D/mine.cp" --key "$D/other.key"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the checkpoint is not one this catalog's key signed: the note carries no signature by spif.catalog/"* ]]
	# the signing key is not a verifier key
	run --separate-stderr spif catalog verify --checkpoint "$D/mine.cp" --key "$SPIF_HOME/keys/checkpoint.key"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"that is the signing key, not the public one"* ]]
}

@test "shred ends with a checkpoint, appended to checkpoint_log, and the certificate gets its inclusion proof" {
	printf 'checkpoint_log = %s\n' "$D/offhost/checkpoints" >> "$SPIF_CONF"
	mkdir "$D/offhost"
	id=$(spif shred --file F000001)
	[ "$(grep -c '^— spif.catalog/' "$D/offhost/checkpoints")" -eq 1 ]
	n=$(( $(spif catalog log --json | wc -l) - 1 )) # the checkpoint's own event follows it
	[ "$(sed -n 2p "$D/offhost/checkpoints")" -eq "$n" ]
	run --separate-stderr spif catalog verify --checkpoint "$D/offhost/checkpoints"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT count(*) FROM cert_proofs WHERE cert_id = '$id'")" -eq 1 ]
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "$id: inclusion proof verified: event "*" under a checkpoint of $n events"* ]]
	[[ "${lines[1]}" == "$id: good: "* ]]
	spif shred --file F000002 >/dev/null
	[ "$(grep -c '^— spif.catalog/' "$D/offhost/checkpoints")" -eq 2 ]
	spif catalog verify --checkpoint "$D/offhost/checkpoints" >/dev/null
	# a relative checkpoint_log is refused
	printf 'checkpoint_log = offhost/x\n' > "$SPIF_CONF"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"checkpoint_log must be an absolute path"* ]]
}

@test "cert export writes ID.proof.json; a certificate verifies offline with only the exported public key" {
	id=$(spif shred --file F000001)
	mkdir "$D/out"
	run --separate-stderr spif catalog cert export "$id" -o "$D/out"
	[ "$status" -eq 0 ]
	[ -f "$D/out/$id.proof.json" ]
	grep -q '"format":"spif-inclusion/1"' "$D/out/$id.proof.json"
	spif catalog key export | head -1 > "$D/out/catalog.pub"
	# another machine: no catalog, no home, only the files
	mkdir "$D/elsewhere"
	cp "$D/out/"* "$D/elsewhere/"
	run --separate-stderr env SPIF_HOME="$D/elsewhere/nohome" spif catalog cert verify "$D/elsewhere/$id.json" \
		--key "$D/elsewhere/catalog.pub"
	[ "$status" -eq 0 ]
	[[ "$output" == "$id: good, offline: its event "*"(inclusion proof verified), unsigned" ]]
	[ ! -e "$D/elsewhere/nohome" ]
	# without the key it cannot be checked
	run --separate-stderr env SPIF_HOME="$D/elsewhere/nohome" spif catalog cert verify "$D/elsewhere/$id.json"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"give the catalog's public key with --key FILE"* ]]
	# the certificate changed by one byte: its proof no longer fits it
	sed -i 's/"件数":50/"件数":51/' "$D/elsewhere/$id.json"
	run --separate-stderr env SPIF_HOME="$D/elsewhere/nohome" spif catalog cert verify "$D/elsewhere/$id.json" \
		--key "$D/elsewhere/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the certificate is not the one the proof was made for"* ]]
}

@test "an inclusion proof with one byte changed: cert verify fails" {
	id=$(spif shred --file F000001)
	mkdir "$D/out"
	spif catalog cert export "$id" -o "$D/out" >/dev/null
	spif catalog key export | head -1 > "$D/catalog.pub"
	cp "$D/out/$id.proof.json" "$D/proof.orig"
	# one hex digit of the first proof hash
	perl -pi -e 's/("proof":\[")(.)/$1 . ($2 eq "0" ? "1" : "0")/e' "$D/out/$id.proof.json"
	! cmp -s "$D/proof.orig" "$D/out/$id.proof.json" || false
	run --separate-stderr spif catalog cert verify "$D/out/$id.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the inclusion proof does not verify: the inclusion proof does not lead to the root"* ]]
	run --separate-stderr env SPIF_HOME="$D/nohome" spif catalog cert verify "$D/out/$id.json" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	# one byte of the event it carries
	cp "$D/proof.orig" "$D/out/$id.proof.json"
	sed -i 's/"action":"certificate"/"action":"certificatf"/' "$D/out/$id.proof.json"
	run --separate-stderr env SPIF_HOME="$D/nohome" spif catalog cert verify "$D/out/$id.json" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the proof's event does not match its hash"* ]]
	# one byte of the checkpoint's signature
	cp "$D/proof.orig" "$D/out/$id.proof.json"
	perl -pi -e 's/(\\u2014 spif\.catalog\/[0-9a-f]+ )(.)/$1 . ($2 eq "A" ? "B" : "A")/e; s/(— spif\.catalog\/[0-9a-f]+ )(.)/$1 . ($2 eq "A" ? "B" : "A")/e' "$D/out/$id.proof.json"
	! cmp -s "$D/proof.orig" "$D/out/$id.proof.json" || false
	run --separate-stderr env SPIF_HOME="$D/nohome" spif catalog cert verify "$D/out/$id.json" --key "$D/catalog.pub"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the checkpoint: "* ]]
}

@test "an older catalog is covered when it is opened: its rows recorded, its tree built" {
	# back to schema 6 (the one before coverage): no row triggers, no tiles
	sqlite3 "$SPIF_HOME/catalog.db" "$(sqlite3 "$SPIF_HOME/catalog.db" \
		"SELECT 'DROP TRIGGER ' || name || ';' FROM sqlite_schema WHERE name LIKE 'spif_row_%'")
		DROP TABLE pending_rows; DROP TABLE merkle; DROP TABLE cert_proofs; DROP INDEX certificates_event;
		DELETE FROM meta WHERE key = 'merkle_edge';
		DROP TABLE export_files; DROP TABLE exports; DROP TABLE media; DROP TABLE approvals; DROP TABLE cert_cosignatures;
		DROP TABLE incident_notes; DROP TABLE incident_files; DROP TABLE incidents; ALTER TABLE holds DROP COLUMN kind;
		DROP TABLE tempfiles; DROP TABLE checkpoints; PRAGMA user_version = 6;"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 0 ]
	[[ "$output" == "audit log intact: 3 events"* ]]
	run spif catalog log --json --limit 1
	[[ "$output" == *'"action":"catalog.cover"'*'"rows":[['* ]]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "PRAGMA user_version")" -eq 13 ]
}

@test "a copy of the catalog without its keys: cert verify checks the rest and says the proof was not checked" {
	id=$(spif shred --file F000001)
	mkdir "$D/copy"
	cp "$SPIF_HOME/catalog.db" "$D/copy/"
	chmod 700 "$D/copy"
	run --separate-stderr spif --home "$D/copy" catalog cert verify "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == "$id: good: "* ]]
	[[ "$stderr" == *"$id: inclusion proof not checked: "*"give the catalog's public key with --key FILE"* ]]
	spif catalog key export | head -1 > "$D/catalog.pub"
	run --separate-stderr spif --home "$D/copy" catalog cert verify "$id" --key "$D/catalog.pub"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "$id: inclusion proof verified: "* ]]
	run --separate-stderr spif --home "$D/copy" catalog verify --checkpoint <(spif catalog checkpoint) --key "$D/catalog.pub"
	[ "$status" -eq 0 ]
}
