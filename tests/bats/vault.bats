#!/usr/bin/env bats
# The vault: ingest --store, spif vault cat/ls, damage detected before
# anything is emitted, and crypto-erase by spif shred.
load helper

setup() {
	setup_home
	gen --rows 3000 --text-numbers -o "$D/a.csv" # about 1.7 MB: several 1 MiB chunks as NDJSON
	spif ingest --purpose 個人住民税 --store "$D/a.csv" 2>/dev/null > "$D/records.ndjson"
	VAULT=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM copies WHERE kind = 'vault'")
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
}

teardown() {
	teardown_gpg
}

@test "ingest --store keeps the records encrypted; vault cat gives them back exactly" {
	[ -f "$VAULT" ]
	[ "$(stat -c %a "$VAULT")" = 600 ]
	[ "$(stat -c %a "$SPIF_HOME/keys/kek-indefinite.key")" = 600 ]
	run spif vault cat F000001
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | cmp - "$D/records.ndjson"
	run spif vault ls
	[[ "$output" == *F000001*present*indefinite* ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"vault.read"'* ]]
}

@test "a vault copy holds no plaintext number, and the catalog no unwrapped key" {
	valid_numbers_in "$VAULT" "$D/n"
	[ ! -s "$D/n" ]
	! grep -qa '個人' "$VAULT" || false
	key=$(od -An -tx1 "$SPIF_HOME/keys/kek-indefinite.key" | tr -d ' \n')
	sqlite3 "$SPIF_HOME/catalog.db" .dump | tr -d '\n' > "$D/dump"
	! grep -qi "$key" "$D/dump" || false
}

@test "bad: one flipped byte: a clear error and nothing emitted" {
	size=$(stat -c %s "$VAULT")
	flip_bit "$VAULT" $((size / 2))
	run --separate-stderr spif vault cat F000001
	[ "$status" -eq 65 ]
	[[ "$stderr" =~ chunk\ [0-9]+:\ authentication\ failed ]] || { echo "$stderr"; false; }
	[ -z "$output" ]
	one_line_stderr
}

@test "bad: truncated at a chunk boundary, and two chunks swapped" {
	cp "$VAULT" "$D/orig"
	chunk=$((4 + 1048576 + 16))
	truncate -s $((48 + chunk)) "$VAULT"
	run --separate-stderr spif vault cat F000001
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"truncated"* ]]
	[ -z "$output" ]
	# swap chunk 0 and chunk 1
	{ head -c 48 "$D/orig"; tail -c +$((49 + chunk)) "$D/orig" | head -c $chunk
	  tail -c +49 "$D/orig" | head -c $chunk; tail -c +$((49 + 2 * chunk)) "$D/orig"; } > "$VAULT"
	[ "$(stat -c %s "$VAULT")" -eq "$(stat -c %s "$D/orig")" ]
	run --separate-stderr spif vault cat F000001
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"authentication failed"* ]]
	[ -z "$output" ]
}

@test "bad: a missing or wrong key file" {
	mv "$SPIF_HOME/keys/kek-indefinite.key" "$D/kek"
	run --separate-stderr spif vault cat F000001
	[ "$status" -eq 66 ]
	[[ "$stderr" == *"key for indefinite is missing"* ]]
	head -c 32 /dev/urandom > "$SPIF_HOME/keys/kek-indefinite.key"
	chmod 600 "$SPIF_HOME/keys/kek-indefinite.key"
	run --separate-stderr spif vault cat F000001
	[ "$status" -eq 65 ]
	[ "$stderr" = "spif-vault: key for indefinite does not match the catalog: $SPIF_HOME/keys/kek-indefinite.key" ]
	[ -z "$output" ]
}

@test "bad: vault cat of an unknown file, or one with no vault copy" {
	run --separate-stderr spif vault cat F000009
	[ "$status" -eq 65 ]
	gen --rows 5 -o "$D/b.csv"
	spif ingest --purpose x --print-id "$D/b.csv" >/dev/null 2>&1
	run --separate-stderr spif vault cat F000002
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"no vault copy"* ]]
}

@test "crypto-erase: Purge certificate, the key gone, the month's KEK retired" {
	rm "$D/a.csv" # only the vault copy is left to dispose of
	catalog_sql "UPDATE copies SET state = 'disposed' WHERE kind = 'source'"
	run --separate-stderr spif shred --reason 保存期間満了 --file F000001
	[ "$status" -eq 0 ]
	id=$output
	[ ! -e "$VAULT" ]
	[ ! -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	run spif catalog cert show "$id" --format json
	[[ "$output" == *'"category":"Purge (cryptographic erase)"'* ]]
	[[ "$output" == *'"cannot_vouch_for":['* ]]
	[[ "$output" == *'"result":"passed: the wrapped data key is in neither file"'* ]]
	run --separate-stderr spif vault cat F000001
	[ "$status" -eq 65 ]
	run spif catalog log --json
	[[ "$output" == *'"action":"kek.retired"'* ]] || { echo "$output" | tail -3 | cut -c1-300; false; }
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "crypto-erase takes about as long for a large vault file as for a tiny one" {
	rm "$D/a.csv"
	catalog_sql "UPDATE copies SET state = 'disposed' WHERE kind = 'source'"
	printf 'a,受給者の個人番号\n1,621498320257\n' > "$D/tiny.csv"
	spif ingest --purpose x --store --print-id "$D/tiny.csv" >/dev/null 2>&1
	rm "$D/tiny.csv"
	catalog_sql "UPDATE copies SET state = 'disposed' WHERE kind = 'source'"
	s=$(date +%s%N); spif shred --file F000001 >/dev/null; big=$(( ($(date +%s%N) - s) / 1000000 ))
	s=$(date +%s%N); spif shred --file F000002 >/dev/null; small=$(( ($(date +%s%N) - s) / 1000000 ))
	echo "crypto-erase: ${big} ms for the 1.7 MB file's vault copy, ${small} ms for a 1-record one"
	[ "$big" -lt $((small * 3 + 200)) ]
}


@test "shred --method crypto --file: Purge certificate; the last file of a month says its KEK was destroyed" {
	spif retain schedule add g-1y --period 1y
	vault_files 2 --received 2025-01-15 --schedule g-1y # F000002, F000003, due 2026-01-15
	v2=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM copies WHERE file_id = 2")
	run --separate-stderr spif shred --method crypto --reason 保存期間満了 --file F000002
	[ "$status" -eq 0 ]
	id=$output
	[ ! -e "$v2" ]
	run spif catalog show F000002 --json
	[[ "$output" == *'"state":"disposed"'* ]]
	run spif catalog cert show "$id" --format json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"category":"Purge (cryptographic erase)"'* ]]
	# the month's key is replaced: F000003's data key is rewrapped under
	# generation 2, and generation 1, which wrapped F000002's, is destroyed
	[[ "$output" == *'"kek":{"bucket":"2026-01","destroyed":"'*'"generation":1,"key_file":"'"$SPIF_HOME"'/keys/kek-2026-01.key",'*'"other_files_rewrapped":1,'*'"replaced_by":2,"still_exists":false,'* ]]
	[[ "$output" == *'"result":"passed: the wrapped data key is in neither file"'* ]]
	[ ! -e "$SPIF_HOME/keys/kek-2026-01.key" ]
	[ -e "$SPIF_HOME/keys/kek-2026-01-2.key" ] # F000003 uses it
	# the month's last file: its KEK goes in the same run, before the certificate
	run --separate-stderr spif shred --method crypto --reason 保存期間満了 --file F000003
	[ "$status" -eq 0 ]
	id=$output
	[ ! -e "$SPIF_HOME/keys/kek-2026-01-2.key" ]
	run spif catalog cert show "$id" --format json
	[[ "$output" == *'"kek":{"bucket":"2026-01","destroyed":"'*'","destroyed_by":"the key file overwritten in place, synced, read back, renamed and unlinked (as spif shred overwrites)",'*'"generation":2,"key_file":"'"$SPIF_HOME"'/keys/kek-2026-01-2.key",'*'"still_exists":false,'* ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"kek.retired"'*'"bucket":"2026-01"'*'"action":"certificate"'* ]] || { echo "$output" | tail -4 | cut -c1-300; false; }
	# indefinite is kept: F000001 still uses it
	[ -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "retain purge: the certificates of a month's files say its KEK was destroyed" {
	vault_files 2 --received 2018-05-01 --schedule kazei-shiryo-7y # due 2026-04-01
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ ! -e "$SPIF_HOME/keys/kek-2026-04.key" ]
	for id in $(printf '%s\n' "${lines[@]}" | grep -o 'DC-[0-9-]*'); do
		run spif catalog cert show "$id" --format json
		[[ "$output" == *'"kek":{"bucket":"2026-04","destroyed":"'*'"still_exists":false,'* ]] || { echo "$id: $output" | cut -c1-2000; false; }
	done
}

@test "retain assign re-encrypts the vault copy: a catalog backup's key opens nothing there; vault cat unchanged" {
	vault_files 1 # F000002, also in indefinite
	mkdir -m 700 "$D/bk"
	sqlite3 "$SPIF_HOME/catalog.db" ".backup '$D/bk/catalog.db'"
	cp -a "$SPIF_HOME/keys" "$D/bk/"
	spif retain schedule add g-1y --period 1y
	run --separate-stderr spif retain assign F000001 --schedule g-1y
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	new=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM copies WHERE kind = 'vault' AND file_id = 1")
	[ "$new" != "$VAULT" ]
	[ ! -e "$VAULT" ]
	[ "$(stat -c %a "$new")" = 600 ]
	run spif vault cat F000001
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | cmp - "$D/records.ndjson"
	run spif vault ls
	[[ "$output" =~ F000001\ +present\ +20[0-9][0-9]-[01][0-9]\  ]]
	# the backup's data key is not the one the copy is under now
	key=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT id FROM data_keys WHERE file_id = 1")
	[ "$(sqlite3 "$D/bk/catalog.db" "SELECT count(*) FROM data_keys WHERE id = $key")" -eq 0 ]
	cp "$new" "$VAULT" # where the backup catalog looks for it
	run --separate-stderr spif vault --home "$D/bk" cat F000001
	rm "$VAULT"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"its data key ("*") is not in the catalog"* ]]
	[ -z "$output" ]
	run spif catalog log --file F000001 --json
	[[ "$output" == *'"action":"retain.assign"'*'"vault_rekey":{"bucket":"20'*'"reencrypted":[{"copy":'* ]]
	# indefinite keeps its KEK while F000002 uses it; then it is retired
	[ -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	run spif retain assign F000002 --schedule g-1y
	[ "$status" -eq 0 ]
	[ ! -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	run spif catalog log --json
	[[ "$output" == *'"action":"kek.retired"'*'"bucket":"indefinite"'* ]]
	run spif vault cat F000001
	printf '%s\n' "$output" | cmp - "$D/records.ndjson"
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "a vault file a killed ingest left under the ids the next one reuses does not block it" {
	# what ingest --store leaves when killed after its vault file is in
	# place and before its commit: a file named for the file and key ids
	# the next run is given again
	head -c 4096 /dev/urandom > "$SPIF_HOME/vault/F000002-2.spv"
	chmod 600 "$SPIF_HOME/vault/F000002-2.spv"
	gen --rows 5 -o "$D/b.csv"
	run --separate-stderr spif ingest --purpose 個人住民税 --store --print-id "$D/b.csv"
	[ "$status" -eq 0 ]
	[ "$output" = F000002 ]
	path=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT path FROM copies WHERE kind = 'vault' AND file_id = 2")
	[ "$path" = "$SPIF_HOME/vault/F000002-2~2.spv" ]
	run spif vault cat F000002
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	# the leftover is left alone: spif did not make it in this catalog
	[ -f "$SPIF_HOME/vault/F000002-2.spv" ]
}
