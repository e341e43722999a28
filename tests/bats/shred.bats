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
	return 0
}

# A throwaway GnuPG home with one signing key; sets KEY to its fingerprint.
make_key() {
	export GNUPGHOME="$D/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key \
		'Records Office <records@example.invalid>' ed25519 sign 1d 2>/dev/null
	KEY=$(gpg --with-colons --list-keys records@example.invalid | awk -F: '/^fpr/ {print $10; exit}')
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
	spif ingest --purpose y -o "$D/data/b.ndjson" "$D/data/a.csv" 2>/dev/null
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
	! grep -q MARKER "$D/data/other-name.csv"
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
	sqlite3 "$SPIF_HOME/catalog.db" "DROP TRIGGER certificates_no_update;
		UPDATE certificates SET body = replace(body, '\"件数\":200', '\"件数\":20') WHERE id = '$id';"
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no longer matches its hash"* ]]
}

@test "confirm: refused for the sanitizer, accepted from another operator" {
	getent group spiftest >/dev/null || groupadd spiftest
	# a shared install another user can reach (bats' own temp dir is private)
	SHARED=$(mktemp -d /tmp/spif-shared.XXXXXX)
	chmod 755 "$SHARED"
	cp "$SPIF_CONF" "$SHARED/spif.conf"
	printf 'group = spiftest\n' >> "$SHARED/spif.conf"
	chmod 644 "$SHARED/spif.conf"
	export SPIF_CONF="$SHARED/spif.conf" SPIF_HOME="$SHARED/home"
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	id=$(spif shred --file F000001)
	run --separate-stderr spif catalog cert confirm "$id"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"must come from another operator"* ]]
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --groups="$(getent group spiftest | cut -d: -f3)" \
		env SPIF_HOME="$SPIF_HOME" SPIF_CONF="$SPIF_CONF" "$SPIF_BIN/spif" catalog cert confirm "$id" --note 照合済
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run spif catalog cert show "$id"
	[[ "$output" == *"氏名 / Name"*nobody* ]]
	run spif catalog cert verify "$id"
	[[ "$output" == *", confirmed"* ]]
	rm -rf "$SHARED"
}

@test "SIGTERM in the middle of a large overwrite: no certificate, not disposed, the next run finishes" {
	head -c 600M /dev/zero > "$D/data/big.bin"
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	spif shred --passes 4 "$D/data/big.bin" > "$D/ids" 2>"$D/err" &
	pid=$!
	# wait until the overwrite is under way (the copy is marked disposing)
	for _ in $(seq 100); do
		[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT state FROM copies WHERE path = '$D/data/big.bin'" 2>/dev/null)" = disposing ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid" && status=0 || status=$?
	[ "$status" -eq 75 ]
	grep -q interrupted "$D/err"
	[ ! -s "$D/ids" ]
	[ -e "$D/data/big.bin" ]
	run spif catalog cert ls --json
	[ -z "$output" ]
	run sqlite3 "$SPIF_HOME/catalog.db" "SELECT state FROM copies WHERE path = '$D/data/big.bin'"
	[ "$output" = present ]
	run --separate-stderr spif shred "$D/data/big.bin"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^DC- ]]
	[ ! -e "$D/data/big.bin" ]
}

@test "a copy left 'disposing' by a crash is reported by verify and finished by the next shred" {
	spif ingest --purpose x --print-id "$D/data/a.csv" >/dev/null 2>&1
	sqlite3 "$SPIF_HOME/catalog.db" "UPDATE copies SET state = 'disposing' WHERE id = 1"
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
	run --separate-stderr spif shred "$D"/many/*
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
