#!/usr/bin/env bats
# spif shred: destroy, certify, refuse what cannot be proven; the proof on a
# loop-mounted ext4 image that no marker survives.
load helper

setup() {
	setup_home
	mkdir -p "$D/data"
	gen --rows 200 --columns narrow --markers -o "$D/data/a.csv"
	# This machine's disk is virtual: spif cannot see whether it writes in
	# place, so the tests vouch for it as an administrator would.
	DISK=$(disk_of "$D")
	printf 'trusted_media = %s\n' "$DISK" > "$SPIF_CONF"
}

teardown() {
	for m in "$D"/mnt*; do mountpoint -q "$m" 2>/dev/null && umount "$m"; done
	if [ -n "${CG:-}" ]; then
		as_nobody env GNUPGHOME="$CG" gpgconf --kill all 2>/dev/null
		rm -rf "$CG"
	fi
	[ "${GNUPGHOME:-}" = "$D/gnupg" ] && gpgconf --kill all 2>/dev/null
	[ -n "${SHARED:-}" ] && rm -rf "$SHARED"
	teardown_gpg
}

# A shared install another user can reach (bats' own temp dir is private):
# sets SHARED, SPIF_HOME and SPIF_CONF.
shared_home() {
	getent group spiftest >/dev/null || groupadd spiftest
	SHARED=$(mktemp -d /tmp/spif-shared.XXXXXX)
	chmod 755 "$SHARED"
	cp "$SPIF_CONF" "$SHARED/spif.conf"
	printf 'group = spiftest\n' >> "$SHARED/spif.conf"
	chmod 644 "$SHARED/spif.conf"
	export SPIF_CONF="$SHARED/spif.conf" SPIF_HOME="$SHARED/home"
}

# Run a command as another operator (nobody) in the spiftest group.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --groups="$(getent group spiftest | cut -d: -f3)" "$@"
}

# A throwaway GnuPG home with one signing key; sets KEY to its fingerprint.
make_key() {
	export GNUPGHOME="$D/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key \
		'Records Office <records@example.invalid>' ed25519 sign 1d 2>/dev/null
	KEY=$(gpg --with-colons --list-keys records@example.invalid | awk -F: '/^fpr/ {print $10; exit}')
}

# The state of the newest catalog row at a path.
copy_state() {
	sqlite3 "$SPIF_HOME/catalog.db" "SELECT state FROM copies WHERE path = '$1' ORDER BY id DESC LIMIT 1"
}

# Wait until a file of zeros is being overwritten (its first bytes changed).
wait_overwritten() {
	for _ in $(seq 600); do
		cmp -s -n 4096 "$1" /dev/zero || return 0
		sleep 0.05
	done
	echo "$1 was never overwritten" >&2
	return 1
}

# planned_name SEED ROUND TRY LEN: the name spif shred renames a file to, as
# spif-shred(1) describes it (SEED as in the shred.start event: a-p for 0-f).
planned_name() {
	local hex out="" block=0 h j b alnum=abcdefghijklmnopqrstuvwxyz0123456789
	hex=$(printf '%s' "$1" | tr 'a-p' '0-9a-f')
	while [ ${#out} -lt "$4" ]; do
		h=$(printf "$(printf '%s%08x%08x%08x' "$hex" "$2" "$3" "$block" | sed 's/../\\x&/g')" | sha256sum | cut -c1-64)
		for ((j = 0; j < 64 && ${#out} < $4; j += 2)); do
			b=$((16#${h:j:2}))
			if [ "$b" -lt 252 ]; then out+=${alnum:b%36:1}; fi
		done
		block=$((block + 1))
	done
	echo "$out"
}

loop_ext4() { # loop_ext4 NAME SIZE [mount options]: an ext4 image mounted at $D/NAME
	[ "$(id -u)" -eq 0 ] || skip "needs root for loop mounts"
	truncate -s "$2" "$D/$1.img"
	mkfs.ext4 -q -F "$D/$1.img"
	mkdir -p "$D/$1"
	mount -o "loop${3:+,$3}" "$D/$1.img" "$D/$1" || skip "loop mounts are not available here"
}

@test "shred a catalogued copy: certificate id on stdout, copy disposed, file stays until every copy is" {
	spif ingest --purpose 個人住民税 -o "$D/data/out.ndjson" "$D/data/a.csv" 2>/dev/null
	run --separate-stderr spif shred --reason 保存期間満了 "$D/data/a.csv"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^DC-[0-9]{4}-000001$ ]]
	[ ! -e "$D/data/a.csv" ]
	[ "$(ls -A "$D/data")" = out.ndjson ]
	run spif catalog show F000001 --json
	[[ "$output" == *'"state":"active"'* ]]
	[[ "$output" == *'"kind":"source"'*'"state":"disposed"'* ]]
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^DC-[0-9]{4}-000002$ ]]
	[ ! -e "$D/data/out.ndjson" ]
	run spif catalog show F000001
	[[ "$output" == *"state:         disposed"* ]]
	[[ "$output" == *"records:       200"* ]]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "the certificate carries the NIST and Japanese record items" {
	printf 'title = 税務課 主査\nlocation = 市役所 本庁舎3階\ncontact = 内線 1234\n' >> "$SPIF_CONF"
	spif ingest --purpose 個人住民税の賦課 --print-id "$D/data/a.csv" >/dev/null 2>&1
	id=$(spif shred --reason 保存期間満了 --destination "remains in service" --file F000001)
	run spif catalog cert show "$id" --format json
	[ "$status" -eq 0 ]
	for k in '"id":"'"$id"'"' '"category":"Clear' '"sha256_before":"' '"fstype":"ext4"' \
		'"media_type":"' '"post_sanitization_destination":"remains in service"' \
		'"verification":{"method":' '"result":"passed"' '"title":"税務課 主査"' '"location":"市役所 本庁舎3階"' \
		'"証明書番号":"'"$id"'"' '"事務":"個人住民税の賦課"' '"件数":200' '"実施者":"' '"理由":"保存期間満了"' \
		'"audit_head":{"hash":"' '"jst":"'; do
		[[ "$output" == *$k* ]] || { echo "missing $k"; return 1; }
	done
	run spif catalog cert show "$id"
	[[ "$output" == *"廃棄証明書 / Certificate of Sanitization"* ]]
	[[ "$output" == *"確認者 / Verified by"* ]]
	run spif catalog cert ls
	[[ "$output" == *"$id"*disposal*F000001* ]]
	run spif catalog cert verify "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"good"* ]]
}

@test "a medium spif cannot see into is refused unless vouched for, and the certificate says which" {
	: > "$SPIF_CONF"
	run --separate-stderr spif shred --dry-run "$D/data/a.csv"
	if [[ "$output" == "would refuse"*"cannot be shown to reach the medium"* ]]; then
		[ "$status" -eq 1 ]
		run --separate-stderr spif shred "$D/data/a.csv"
		[ "$status" -eq 1 ]
		[[ "$stderr" == *"refused: overwriting cannot be shown to reach the medium"* ]]
		[ -e "$D/data/a.csv" ]
		printf 'trusted_media = %s\n' "$DISK" > "$SPIF_CONF"
		run --separate-stderr spif shred "$D/data/a.csv"
		[ "$status" -eq 0 ]
		run spif catalog cert show "$output" --format json
		[[ "$output" == *'"category":"Clear (medium attested by the administrator)"'* ]]
		[[ "$output" == *'"medium_attestation":"spif could not see the medium'* ]]
	else
		# a disk the kernel describes and spif trusts: plain Clear
		run --separate-stderr spif shred "$D/data/a.csv"
		[ "$status" -eq 0 ]
		run spif catalog cert show "$output" --format json
		[[ "$output" == *'"category":"Clear"'* ]]
	fi
}

@test "a path two files share is disposed for both, each with its own certificate" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	spif ingest --again --reason テスト --purpose y -o "$D/data/b.ndjson" "$D/data/a.csv" 2>/dev/null
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ ! -e "$D/data/a.csv" ]
	run spif catalog show F000001 --json
	[[ "$output" == *'"state":"disposed"'* ]]
	run spif catalog show F000002 --json
	[[ "$output" == *'"state":"active"'* ]]
	[[ "$output" == *'"kind":"source"'*'"state":"disposed"'* ]]
	[[ "$output" == *'"kind":"output"'*'"state":"present"'* ]]
	run spif catalog cert ls --json
	[[ "$output" == *'"file":"F000001"'* ]]
	[[ "$output" == *'"file":"F000002"'* ]]
}

@test "a path the catalog does not know is destroyed and certified as not catalogued" {
	cp "$D/data/a.csv" "$D/data/stray.csv"
	run --separate-stderr spif shred "$D/data/stray.csv"
	[ "$status" -eq 0 ]
	[ ! -e "$D/data/stray.csv" ]
	run spif catalog cert show "$output" --format json
	[[ "$output" == *'"catalogued":false'* ]]
	[[ "$output" == *'found outside the catalog'* ]]
}

@test "--dry-run says what would happen and changes nothing" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	before=$(catalog_state)
	run --separate-stderr spif shred --dry-run --file F000001
	[ "$status" -eq 0 ]
	[[ "$output" == "would overwrite $D/data/a.csv (F000001, source"*"Clear"* ]]
	[ -e "$D/data/a.csv" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "--dry-run reads a catalog that cannot be written" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	mkdir -p "$D/ro"
	mount -t tmpfs -o size=16m,mode=0700 tmpfs "$D/ro" || skip "tmpfs mounts are not available here"
	cp -a "$SPIF_HOME/." "$D/ro/"
	mount -o remount,ro "$D/ro"
	run --separate-stderr spif --home "$D/ro" shred --dry-run --file F000001
	st=$status
	left=$(ls -A "$D/ro")
	umount "$D/ro"
	[ "$st" -eq 0 ]
	[[ "$output" == "would overwrite $D/data/a.csv (F000001, source"* ]]
	[ "$left" = catalog.db ]
	[ -e "$D/data/a.csv" ]
}

@test "bad: a symlink, a directory, a FIFO, a missing file" {
	ln -s "$D/data/a.csv" "$D/data/link.csv"
	mkfifo "$D/data/fifo"
	before=$(catalog_state)
	run --separate-stderr spif shred "$D/data/link.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"is a symbolic link"* ]]
	one_line_stderr
	run --separate-stderr spif shred "$D/data"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"is a directory"* ]]
	run --separate-stderr spif shred "$D/data/fifo"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"is a FIFO"* ]]
	run --separate-stderr spif shred "$D/data/nope.csv"
	[ "$status" -eq 66 ]
	one_line_stderr
	[ -e "$D/data/a.csv" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: tmpfs is refused without --force, and certified as not verified with it" {
	mkdir -p /dev/shm/spif-test.$$
	cp "$D/data/a.csv" /dev/shm/spif-test.$$/a.csv
	run --separate-stderr spif shred /dev/shm/spif-test.$$/a.csv
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"refused"*"tmpfs"*"crypto-erase"* ]]
	one_line_stderr
	[ -e /dev/shm/spif-test.$$/a.csv ]
	run --separate-stderr spif shred --force /dev/shm/spif-test.$$/a.csv
	[ "$status" -eq 0 ]
	id=$output
	rmdir /dev/shm/spif-test.$$
	run spif catalog cert show "$id" --format json
	[[ "$output" == *'"category":"Clear (overwrite) — not verified at the medium: tmpfs'* ]]
	[[ "$output" != *Purge* ]]
}

@test "bad: a hard-linked file is refused unless --force, which the certificate records" {
	ln "$D/data/a.csv" "$D/data/other-name.csv"
	run --separate-stderr spif shred "$D/data/a.csv"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"refused: it has 2 hard links"* ]]
	run --separate-stderr spif shred --force "$D/data/a.csv"
	[ "$status" -eq 0 ]
	run spif catalog cert show "$output" --format json
	[[ "$output" == *'"hard_links":2'* ]]
	[[ "$output" == *'forced over other hard links'* ]]
	# the other name now holds only overwritten bytes: the markers are gone
	! grep -q MARKER "$D/data/other-name.csv" || false
}

@test "bad: an unknown --file id" {
	run --separate-stderr spif shred --file F000042
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"no file F000042"* ]]
	one_line_stderr
}

@test "bad: a file on a read-only mount" {
	loop_ext4 mntro 8M
	cp "$D/data/a.csv" "$D/mntro/a.csv"
	mount -o remount,ro "$D/mntro"
	run --separate-stderr spif shred "$D/mntro/a.csv"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"Read-only file system"* ]]
	run spif catalog cert ls --json
	[ -z "$output" ]
	# nothing of it was overwritten: present, not left disposing
	[ "$(copy_state "$D/mntro/a.csv")" = present ]
}

@test "bad: a signing key that is missing (exit 69, nothing destroyed)" {
	make_key
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	before=$(catalog_state)
	run --separate-stderr spif shred --sign nobody@example.invalid --file F000001
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"no secret key"* ]]
	[ -e "$D/data/a.csv" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "signed certificates verify with spif and with plain gpg; one edited byte fails both" {
	make_key
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	id=$(spif shred --sign "$KEY" --file F000001)
	mkdir "$D/out"
	run spif catalog cert export "$id" -o "$D/out"
	[ "$status" -eq 0 ]
	[ -f "$D/out/$id.json" ]
	[ -f "$D/out/$id.json.asc" ]
	gpg --verify "$D/out/$id.json.asc" "$D/out/$id.json"
	run spif catalog cert verify "$D/out/$id.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature by $KEY"* ]]
	sed -i 's/"件数":200/"件数":201/' "$D/out/$id.json"
	run spif catalog cert verify "$D/out/$id.json"
	[ "$status" -eq 1 ]
	run gpg --verify "$D/out/$id.json.asc" "$D/out/$id.json"
	[ "$status" -ne 0 ]
}

@test "a certificate edited inside the catalog fails verify" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	id=$(spif shred --file F000001)
	drop_row_triggers certificates
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER certificates_no_update;
		UPDATE certificates SET body = replace(body, '\"件数\":200', '\"件数\":20') WHERE id = '$id';"
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no longer matches its hash"* ]]
}

@test "confirm: refused for the sanitizer, accepted from another operator" {
	shared_home
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	id=$(spif shred --file F000001)
	run --separate-stderr spif catalog cert confirm "$id"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"must come from another operator"* ]]
	run --separate-stderr as_nobody env SPIF_HOME="$SPIF_HOME" SPIF_CONF="$SPIF_CONF" "$SPIF_BIN/spif" \
		catalog cert confirm "$id" --note 照合済
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run spif catalog cert show "$id"
	[[ "$output" == *"氏名 / Name"*nobody* ]]
	run spif catalog cert verify "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *", confirmed by nobody (event "*", unsigned)" ]]
}

@test "a confirmation is a signed document of its own: exported, shown, verified, and one edited byte fails" {
	make_key
	shared_home
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	id=$(spif shred --sign "$KEY" --file F000001)
	# the confirmer's own key, in a keyring of their own
	CG=$(mktemp -d /tmp/spif-cg.XXXXXX)
	chown nobody "$CG"
	chmod 700 "$CG"
	as_nobody env GNUPGHOME="$CG" gpg --batch --pinentry-mode loopback --passphrase '' \
		--quick-gen-key 'Checker <checker@example.invalid>' ed25519 sign 1d 2>/dev/null
	as_nobody env GNUPGHOME="$CG" gpg --export checker@example.invalid | gpg --import 2>/dev/null
	CKEY=$(gpg --with-colons --list-keys checker@example.invalid | awk -F: '/^fpr/ {print $10; exit}')
	run --separate-stderr as_nobody env GNUPGHOME="$CG" SPIF_HOME="$SPIF_HOME" SPIF_CONF="$SPIF_CONF" \
		"$SPIF_BIN/spif" catalog cert confirm "$id" --note 照合済 --sign checker@example.invalid
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# show --format json: the certificate as signed, then the confirmation,
	# which names the certificate and its hash
	run spif catalog cert show "$id" --format json
	[ "${#lines[@]}" -eq 2 ]
	sha=$(printf '%s' "${lines[0]}" | sha256sum | cut -c1-64)
	[[ "${lines[0]}" == '{'*'"verified_by":"pending'* ]]
	[[ "${lines[1]}" == *'"certificate":"'"$id"'","certificate_sha256":"'"$sha"'"'* ]]
	[[ "${lines[1]}" == *'"format":"spif-confirmation/1"'* ]]
	[[ "${lines[1]}" == *'"verified_by":{'*'"name":"nobody"'*'"signature":"OpenPGP detached signature by checker@example.invalid"'* ]]
	# export: both documents, both signed, both verify with plain gpg
	mkdir "$D/out"
	run spif catalog cert export "$id" -o "$D/out"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(ls "$D/out" | tr '\n' ' ')" = "$id.confirm.json $id.confirm.json.asc $id.json $id.json.asc $id.proof.json " ]
	gpg --verify "$D/out/$id.json.asc" "$D/out/$id.json"
	gpg --verify "$D/out/$id.confirm.json.asc" "$D/out/$id.confirm.json"
	[ "$(cat "$D/out/$id.confirm.json")" = "$(spif catalog cert show "$id" --format json | sed -n 2p)" ]
	# cert verify checks the confirmation: bound to the hash, signed, in the chain
	run --separate-stderr spif catalog cert verify "$D/out/$id.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature by $KEY, confirmed by nobody (event "*", signature by $CKEY)" ]]
	run --separate-stderr spif catalog cert verify "$D/out/$id.confirm.json"
	[ "$status" -eq 0 ]
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"confirmed by nobody"*"signature by $CKEY)" ]]
	# one byte of the exported confirmation edited
	sed -i 's/照合済/照合未/' "$D/out/$id.confirm.json"
	run gpg --verify "$D/out/$id.confirm.json.asc" "$D/out/$id.confirm.json"
	[ "$status" -ne 0 ]
	run --separate-stderr spif catalog cert verify "$D/out/$id.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the confirmation differs from the one the catalog recorded"* ]]
	run --separate-stderr spif catalog cert verify "$D/out/$id.confirm.json"
	[ "$status" -eq 1 ]
	# ... or inside the catalog: the body, or its signature taken away
	cp "$SPIF_HOME/catalog.db" "$D/before.db"
	drop_row_triggers confirmations
	sqlite3 "$SPIF_HOME/catalog.db" "UPDATE confirmations SET body = replace(body, '照合済', '照合未')"
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the confirmation's event is missing from the audit log or does not match it"* ]]
	cp "$D/before.db" "$SPIF_HOME/catalog.db"
	drop_row_triggers confirmations
	sqlite3 "$SPIF_HOME/catalog.db" "UPDATE confirmations SET signature = NULL, signer = NULL"
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"confirmation: signed by $CKEY when it was made, but the signature is missing"* ]]
	cp "$D/before.db" "$SPIF_HOME/catalog.db"
	drop_row_triggers confirmations
	sqlite3 "$SPIF_HOME/catalog.db" "UPDATE confirmations SET body = replace(body, '$sha', '$(printf '%064d' 0)')"
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the confirmation does not name this certificate and its hash"* ]]
}

@test "SIGHUP (the terminal closed) stops a run the way SIGTERM does: never half-way through a write" {
	head -c 600M /dev/zero > "$D/data/big.bin"
	spif shred --passes 4 "$D/data/big.bin" > "$D/ids" 2>"$D/err" &
	pid=$!
	wait_overwritten "$D/data/big.bin"
	kill -HUP "$pid"
	wait "$pid" && status=0 || status=$?
	[ "$status" -eq 75 ]
	grep -q interrupted "$D/err"
	[ ! -s "$D/ids" ]
	[ "$(copy_state "$D/data/big.bin")" = disposing ]
}

@test "SIGTERM in the middle of a large overwrite: no certificate, left disposing, the next run certifies it once" {
	head -c 600M /dev/zero > "$D/data/big.bin"
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	spif shred --passes 4 "$D/data/big.bin" > "$D/ids" 2>"$D/err" &
	pid=$!
	wait_overwritten "$D/data/big.bin"
	kill -TERM "$pid"
	wait "$pid" && status=0 || status=$?
	[ "$status" -eq 75 ]
	grep -q interrupted "$D/err"
	[ ! -s "$D/ids" ]
	[ -e "$D/data/big.bin" ]
	run spif catalog cert ls --json
	[ -z "$output" ]
	# partly overwritten: neither disposed nor present
	[ "$(copy_state "$D/data/big.bin")" = disposing ]
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"($D/data/big.bin) was left marked for destruction"* ]]
	run --separate-stderr spif shred --resume
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" =~ ^DC- ]]
	[ ! -e "$D/data/big.bin" ]
	[ "$(copy_state "$D/data/big.bin")" = disposed ]
	run sqlite3 "$SPIF_HOME/catalog.db" "SELECT COUNT(*) FROM certificate_copies k JOIN copies c ON c.id = k.copy_id
		WHERE c.path = '$D/data/big.bin'"
	[ "$output" = 1 ]
	spif catalog verify
}

@test "SIGTERM during --file: what was destroyed is certified before the exit, the rest is settled, each copy certified once" {
	printf 'pw\n' > "$D/pf"
	export GNUPGHOME="$D/gnupg" # gpg's own home, not the user's (which may not exist)
	mkdir -m 700 "$GNUPGHOME"
	spif ingest --purpose x --store -o "$D/data/out1.ndjson" "$D/data/a.csv" 2>/dev/null
	spif encrypt --passphrase-file "$D/pf" -o "$D/data/out2.gpg" "$D/data/out1.ndjson" 2>/dev/null
	spif ingest --again --reason テスト --purpose y -o "$D/data/b.ndjson" "$D/data/a.csv" 2>/dev/null
	# F000001: 1 a.csv, 2 its vault copy, 3 out1 (made large), 4 out2.gpg;
	# F000002: 5 a.csv again, 6 b.ndjson
	run sqlite3 "$SPIF_HOME/catalog.db" "SELECT group_concat(id || ':' || kind, ' ') FROM (SELECT * FROM copies ORDER BY id)"
	[ "$output" = "1:source 2:vault 3:output 4:encrypted 5:source 6:output" ]
	# out1 made large: no longer the contents catalogued, destroyed all the same
	head -c 600M /dev/zero > "$D/data/out1.ndjson"
	spif shred --passes 4 --changed-ok --reason 'made large for the test' --file F000001 > "$D/ids" 2>"$D/err" &
	pid=$!
	wait_overwritten "$D/data/out1.ndjson"
	kill -TERM "$pid"
	wait "$pid" && status=0 || status=$?
	[ "$status" -eq 75 ]
	grep -q "out1.ndjson: interrupted" "$D/err"
	# certified before the exit: a.csv for both files (one path, destroyed
	# once), and the vault copy whose key was erased; out1 was being
	# overwritten and stays disposing; out2 was not touched
	[ "$(wc -l < "$D/ids")" -eq 3 ]
	run sqlite3 "$SPIF_HOME/catalog.db" "SELECT group_concat(id || ':' || state, ' ') FROM (SELECT * FROM copies ORDER BY id)"
	[ "$output" = "1:disposed 2:disposed 3:disposing 4:present 5:disposed 6:present" ]
	[ ! -e "$D/data/a.csv" ]
	[ -z "$(ls -A "$SPIF_HOME/vault")" ]
	[ -e "$D/data/out2.gpg" ]
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"copy 3 ($D/data/out1.ndjson)"* ]]
	[[ "$stderr" != *"copy 4 "* ]]
	# the next runs: no destroyed copy is called present, none is certified twice
	run --separate-stderr spif shred --resume
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$D/data/out1.ndjson" ]
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$D/data/out2.gpg" ]
	run sqlite3 "$SPIF_HOME/catalog.db" "SELECT group_concat(copy_id || ':' || n, ' ') FROM
		(SELECT copy_id, COUNT(*) AS n FROM certificate_copies GROUP BY copy_id ORDER BY copy_id)"
	[ "$output" = "1:1 2:1 3:1 4:1 5:1" ]
	run spif catalog show F000001
	[[ "$output" == *"state:         disposed"* ]]
	spif catalog verify
}

@test "a copy gone from its path when its disposal resumes: found under the name it was given, or certified as not verified" {
	head -c 300M /dev/zero > "$D/data/big1.bin"
	head -c 300M /dev/zero > "$D/data/big2.bin"
	ln "$D/data/big1.bin" "$D/data/big1-other-name.bin"
	spif shred --force --passes 4 "$D/data/big1.bin" "$D/data/big2.bin" > /dev/null 2>&1 &
	pid=$!
	wait_overwritten "$D/data/big1.bin"
	kill -KILL "$pid"
	wait "$pid" || true
	[ "$(copy_state "$D/data/big1.bin")" = disposing ]
	[ "$(copy_state "$D/data/big2.bin")" = disposing ]
	# as if the run had died after its second rename (which comes after the
	# read-back and the truncation) ...
	seed=$(spif catalog log --json | grep '"action":"shred.start"' | grep '"path":"'"$D/data/big1.bin"'"' |
		sed 's/.*"rename_seed":"\([a-p]*\)".*/\1/')
	name=$(planned_name "$seed" 1 0 8)
	mv "$D/data/big1.bin" "$D/data/$name"
	truncate -s 0 "$D/data/$name"
	# ... and big2 was removed by other means
	rm "$D/data/big2.bin"
	run --separate-stderr spif shred --dry-run --resume
	[[ "$output" == *"found $D/data/big1.bin (not catalogued) as $D/data/$name"* ]]
	[[ "$output" == *"would certify $D/data/big2.bin (not catalogued) as not verified"* ]]
	run --separate-stderr spif shred --force --resume
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "$stderr" == *"$D/data/big2.bin: was missing when its disposal resumed: certified in ${lines[1]} as not verified"* ]]
	found_id=${lines[0]} missing_id=${lines[1]}
	[ ! -e "$D/data/$name" ]
	[ -z "$(ls "$D/data" | grep -v -e a.csv -e big1-other-name.bin)" ]
	run spif catalog cert show "$found_id" --format json
	[[ "$output" == *'"found_at":"'"$D/data/$name"'"'* ]]
	[[ "$output" == *'"category":"Clear'* ]]
	[[ "$output" == *'"result":"passed, by the interrupted run'* ]]
	# both caveats, one list: neither hides the other
	[[ "$output" == *'"caveats":["forced over other hard links'*'","finished after an interrupted run'* ]]
	run spif catalog cert show "$missing_id" --format json
	[[ "$output" == *'"category":"not verified: the copy was missing when its disposal resumed"'* ]]
	[[ "$output" == *'"result":"not verified: the file was at none of them"'* ]]
	[[ "$output" != *'"category":"Clear'* ]]
	run spif catalog cert show "$missing_id"
	[[ "$output" == *"留意事項 / Caveat"*"the file was gone when its disposal resumed"* ]]
	spif catalog verify
}

@test "a copy left 'disposing' by a crash is reported by verify and finished by the next shred" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	catalog_sql "UPDATE copies SET state = 'disposing' WHERE id = 1"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"marked for destruction"* ]]
	cp "$D/data/a.csv" "$D/data/b.csv"
	run --separate-stderr spif shred "$D/data/b.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"left marked for destruction"*"finishing it"* ]]
	[ "${#lines[@]}" -eq 2 ]
	[ ! -e "$D/data/a.csv" ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "the proof: after shred, no marker is left on the raw ext4 image (ordered mode)" {
	loop_ext4 mnt 32M
	gen --rows 2000 --columns narrow --markers -o "$D/mnt/給与支払報告書.csv"
	sync
	grep -c MARKER "$D/mnt.img" > /dev/null # the markers are on the image now
	spif ingest --purpose x --print-id "$D/mnt/給与支払報告書.csv" >/dev/null 2>&1
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 0 ]
	umount "$D/mnt"
	run grep -c -a MARKER "$D/mnt.img"
	[ "$output" = 0 ]
}

@test "the proof's twin: on an ext4 mounted data=journal, shred refuses without --force" {
	loop_ext4 mntj 32M data=journal
	cp "$D/data/a.csv" "$D/mntj/a.csv"
	run --separate-stderr spif shred "$D/mntj/a.csv"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"data=journal"* ]]
	[ -e "$D/mntj/a.csv" ]
}

@test "shred --help and usage errors" {
	run spif shred --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spif shred"* ]]
	run --separate-stderr spif shred
	[ "$status" -eq 64 ]
	run --separate-stderr spif shred --passes 0 x
	[ "$status" -eq 64 ]
	run --separate-stderr spif shred --method crypto "$D/data/a.csv"
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "shred of hundreds of files: each event's command line stays bounded, with a digest of the rest" {
	mkdir -p "$D/many"
	for i in $(seq 300); do printf 'x%d\n' "$i" > "$D/many/stray-copy-number-$i.csv"; done
	# each is held open from its check to its destruction: under a low limit too
	run --separate-stderr bash -c 'ulimit -n 512 && exec "$0" "$@"' spif shred "$D"/many/*
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 300 ]
	[ -z "$(ls -A "$D/many")" ]
	# 600 events (disposing + certificate per file), none carrying all 300 paths
	max=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT max(length(argv)) FROM events")
	[ "$max" -le 4096 ]
	argv=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT argv FROM events ORDER BY seq DESC LIMIT 1")
	[[ "$argv" =~ \.\.\.\ [0-9]+\ more\ arguments\ \(sha256\ of\ the\ whole\ list:\ [0-9a-f]{64}\) ]]
	spif catalog verify
}

# ---- a certificate bound to the bytes it destroyed ------------------------

# The body of certificate ID, for sqlite3's json_extract: cert_field ID PATH.
cert_field() {
	sqlite3 "$SPIF_HOME/catalog.db" "SELECT json_extract(body, '$2') FROM certificates WHERE id = '$1'"
}

# What the catalog holds besides its events: files, copies, certificates.
catalog_rows() {
	sqlite3 "$SPIF_HOME/catalog.db" "SELECT id, state, sha256 FROM files; SELECT id, state, path, sha256 FROM copies;
		SELECT COUNT(*) FROM certificates"
}

@test "a copy replaced at its path is refused: exit 1, the stand-in untouched, only the refusal recorded" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	want=$(sha256sum < "$D/data/a.csv" | cut -c1-64)
	mkdir "$D/elsewhere"
	mv "$D/data/a.csv" "$D/elsewhere/a.csv"
	printf 'a stand-in\n' > "$D/data/a.csv"
	got=$(sha256sum < "$D/data/a.csv" | cut -c1-64)
	rows=$(catalog_rows)
	events=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT COUNT(*) FROM events")
	for args in "--file F000001" "$D/data/a.csv"; do
		run --separate-stderr spif shred $args
		[ "$status" -eq 1 ]
		[ "$stderr" = "spif-shred: $D/data/a.csv: changed since it was catalogued" ]
		[ -z "$output" ]
		[ "$(cat "$D/data/a.csv")" = "a stand-in" ]
		[ "$(catalog_rows)" = "$rows" ]
		events=$((events + 1))
		[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT COUNT(*) FROM events")" -eq "$events" ]
		run sqlite3 "$SPIF_HOME/catalog.db" "SELECT action, object, json_extract(details, '$.catalogued_sha256'),
			json_extract(details, '$.found_sha256') FROM events ORDER BY seq DESC LIMIT 1"
		[ "$output" = "shred.refused|copy:1|$want|$got" ]
	done
	[ "$(sha256sum < "$D/elsewhere/a.csv" | cut -c1-64)" = "$want" ]
	spif catalog verify
	# a dry run says the same, and records nothing
	run --separate-stderr spif shred --dry-run --file F000001
	[ "$status" -eq 1 ]
	[[ "$output" == "would refuse $D/data/a.csv: changed since it was catalogued"* ]]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT COUNT(*) FROM events")" -eq "$events" ]
}

@test "a copy moved away from its path is missing: exit 66, nothing destroyed, nothing recorded" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	mkdir "$D/elsewhere"
	mv "$D/data/a.csv" "$D/elsewhere/a.csv"
	before=$(catalog_state)
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 66 ]
	[[ "$stderr" == *"$D/data/a.csv"*"No such file"* ]]
	one_line_stderr
	[ -z "$output" ]
	[ "$(catalog_state)" = "$before" ]
	grep -q MARKER "$D/elsewhere/a.csv"
}

@test "--changed-ok --reason destroys a copy that changed, and its certificate says so with both hashes" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	want=$(sha256sum < "$D/data/a.csv" | cut -c1-64)
	printf 'edited after ingest\n' >> "$D/data/a.csv"
	got=$(sha256sum < "$D/data/a.csv" | cut -c1-64)
	run --separate-stderr spif shred --changed-ok --file F000001
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--changed-ok needs --reason"* ]]
	[ -e "$D/data/a.csv" ]
	run --separate-stderr spif shred --changed-ok --reason 'edited copy, retention over' --file F000001
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^DC-[0-9]{4}-000001$ ]]
	id=$output
	[ ! -e "$D/data/a.csv" ]
	[ "$(cert_field "$id" '$.copies[0].sha256_catalogued')" = "$want" ]
	[ "$(cert_field "$id" '$.copies[0].sha256_before')" = "$got" ]
	[[ "$(cert_field "$id" '$.copies[0].changed')" == *"differed from the catalogued copy"* ]]
	[[ "$(cert_field "$id" '$.sanitization.caveats')" == *"--changed-ok"* ]]
	[ "$(cert_field "$id" '$.reason')" = "edited copy, retention over" ]
	run spif catalog cert show "$id"
	[[ "$output" == *"$want"* ]]
	[[ "$output" == *"$got"* ]]
	spif catalog verify
}

@test "two files' copies at one path: each certified only if the path's contents match its catalogued hash" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	h1=$(sha256sum < "$D/data/a.csv" | cut -c1-64)
	tail -1 "$D/data/a.csv" >> "$D/data/a.csv" # one more record
	spif ingest --purpose y --print-id "$D/data/a.csv" >/dev/null 2>&1
	h2=$(sha256sum < "$D/data/a.csv" | cut -c1-64)
	rows=$(catalog_rows)
	# the path holds F000002's copy, no longer F000001's
	run --separate-stderr spif shred --file F000002
	[ "$status" -eq 1 ]
	[ "$stderr" = "spif-shred: $D/data/a.csv: changed since it was catalogued" ]
	[ "$(sha256sum < "$D/data/a.csv" | cut -c1-64)" = "$h2" ]
	[ "$(catalog_rows)" = "$rows" ]
	run sqlite3 "$SPIF_HOME/catalog.db" "SELECT object FROM events WHERE action = 'shred.refused'"
	[ "$output" = copy:1 ]
	# with --changed-ok: F000002's certificate is plain, F000001's says it changed
	run --separate-stderr spif shred --changed-ok --reason 'superseded by F000002' --file F000002
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ ! -e "$D/data/a.csv" ]
	for id in "${lines[@]}"; do
		case $(cert_field "$id" '$.file.file_id') in
		F000001)
			[ "$(cert_field "$id" '$.copies[0].sha256_catalogued')" = "$h1" ]
			[ "$(cert_field "$id" '$.copies[0].sha256_before')" = "$h2" ]
			[ -n "$(cert_field "$id" '$.copies[0].changed')" ] ;;
		F000002)
			[ "$(cert_field "$id" '$.copies[0].sha256_catalogued')" = "$h2" ]
			[ "$(cert_field "$id" '$.copies[0].sha256_before')" = "$h2" ]
			[ -z "$(cert_field "$id" '$.copies[0].changed')" ] ;;
		*) false ;;
		esac
	done
	spif catalog verify
}

@test "a resumed overwrite: the certificate says resumed and carries the hash recorded when disposal began" {
	head -c 300M /dev/zero > "$D/data/big.bin"
	start=$(head -c 300M /dev/zero | sha256sum | cut -c1-64)
	spif shred --passes 4 "$D/data/big.bin" > /dev/null 2>&1 &
	pid=$!
	wait_overwritten "$D/data/big.bin"
	kill -KILL "$pid"
	wait "$pid" || true
	[ "$(copy_state "$D/data/big.bin")" = disposing ]
	run sqlite3 "$SPIF_HOME/catalog.db" "SELECT json_extract(details, '$.sha256') FROM events WHERE action = 'shred.start'"
	[ "$output" = "$start" ]
	found=$(sha256sum < "$D/data/big.bin" | cut -c1-64)
	[ "$found" != "$start" ]
	# another file put in its place is not finished for it
	mv "$D/data/big.bin" "$D/data/big.aside"
	printf 'a stand-in\n' > "$D/data/big.bin"
	run --separate-stderr spif shred --resume
	[ "$status" -eq 1 ]
	[ "$(printf "%s\n" "$stderr" | tail -1)" = "spif-shred: $D/data/big.bin: is not the file its interrupted disposal began on (another file is at its path)" ]
	[ "$(cat "$D/data/big.bin")" = "a stand-in" ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT action FROM events ORDER BY seq DESC LIMIT 1")" = shred.refused ]
	mv "$D/data/big.aside" "$D/data/big.bin"
	run --separate-stderr spif shred --resume
	[ "$status" -eq 0 ]
	id=$output
	[ ! -e "$D/data/big.bin" ]
	[ "$(cert_field "$id" '$.copies[0].sha256_before')" = "$start" ]
	[ "$(cert_field "$id" '$.copies[0].sha256_when_resumed')" = "$found" ]
	[[ "$(cert_field "$id" '$.copies[0].resumed')" == *"interrupted run"* ]]
	[[ "$(cert_field "$id" '$.sanitization.caveats')" == *resumed* ]]
	run spif catalog cert show "$id"
	[[ "$output" == *"After an interruption"* ]]
	spif catalog verify
}

# swap_parent DIR LINK: until $D/stop exists, DIR (a real directory) stays
# in place for 40 to 120 ms, then is moved aside and replaced by a symbolic
# link to LINK for 15 ms, and put back.
swap_parent() {
	while [ ! -e "$D/stop" ]; do
		sleep "$(printf 0.%03d $((RANDOM % 81 + 40)))"
		mv -T "$1" "$1.away"
		ln -s "$2" "$1"
		sleep 0.015
		rm "$1"
		mv -T "$1.away" "$1"
	done
}

@test "a parent directory swapped for a symlink to tmpfs during shred: no certificate names a filesystem the bytes were not on" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a tmpfs"
	mkdir -p "$D/mnttmp"
	mount -t tmpfs -o size=16m,mode=0700 tmpfs "$D/mnttmp" || skip "tmpfs mounts are not available here"
	fs=$(findmnt -no FSTYPE -T "$D/data")
	[ "$fs" != tmpfs ]
	mkdir -p "$D/data/sub" "$D/mnttmp/sub"
	certified=0
	for round in $(seq 30); do
		paths=()
		for i in $(seq 15); do
			printf 'real %d\n' "$i" > "$D/data/sub/f$i"
			printf 'tmpfs %d\n' "$i" > "$D/mnttmp/sub/f$i"
			paths+=("$D/data/sub/f$i")
		done
		rm -f "$D/stop"
		swap_parent "$D/data/sub" "$D/mnttmp/sub" &
		swapper=$!
		spif shred "${paths[@]}" > "$D/ids" 2> "$D/err" || echo "round $round: exit $?: $(head -c 300 "$D/err")"
		touch "$D/stop"
		wait "$swapper"
		for id in $(cat "$D/ids"); do
			path=$(cert_field "$id" '$.copies[0].path')
			i=${path##*/f}
			[ "$path" = "$D/data/sub/f$i" ]
			[ "$(cert_field "$id" '$.copies[0].fstype')" = "$fs" ] ||
				{ echo "$id: $path certified on $(cert_field "$id" '$.copies[0].fstype')"; false; }
			# the bytes destroyed were the real directory's; the tmpfs twin is untouched
			[ "$(cert_field "$id" '$.copies[0].sha256_before')" = "$(printf 'real %d\n' "$i" | sha256sum | cut -c1-64)" ] ||
				{ echo "$id: certified on $fs, but the bytes hashed were not $path's"; false; }
			[ "$(cat "$D/mnttmp/sub/f$i")" = "tmpfs $i" ] ||
				{ echo "$id: certified on $fs, but $D/mnttmp/sub/f$i was destroyed"; false; }
			[ ! -e "$D/data/sub/f$i" ]
			certified=$((certified + 1))
		done
		rm -f "$D/data/sub"/f* "$D/mnttmp/sub"/f*
		[ "$certified" -lt 60 ] || break
	done
	echo "$certified certificates checked"
	[ "$certified" -gt 0 ]
}
