#!/usr/bin/env bats
# Crypto-erase that holds against the raw disk, backups, a token, and a
# kill at any point of the month key's replacement; backups and the
# restore drill.  The raw-disk proof runs tests/recover-vault.c, built
# here from the library's own vault format code, over the bytes.
load helper

setup() {
	setup_home
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
}

teardown() {
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT" 2>/dev/null; then
		umount "$MNT" || umount -l "$MNT"
	fi
	gnupg_teardown
}

# recover_tool: build tests/recover-vault.c against the library (the
# plain build when there is one, it is faster over a whole image)
recover_tool() {
	local lib=$top/lib/libspif.a flags=(-O2)
	if [ ! -f "$lib" ]; then
		lib=$top/build/asan/libspif.a
		flags=(-O1 -fsanitize=address,undefined)
	fi
	[ -f "$lib" ] || skip "no lib/libspif.a to build the recovery tool against"
	# shellcheck disable=SC2046
	cc -std=c11 -D_GNU_SOURCE "${flags[@]}" -I"$top/lib" $(pkg-config --cflags sqlite3 gpgme libarchive libgcrypt jansson) \
		-o "$D/recover" "$top/tests/recover-vault.c" "$lib" \
		$(pkg-config --libs sqlite3 gpgme libarchive libgcrypt jansson) -lpthread -ldl
}

# two files kept only in the vault, in the same month (indefinite), each
# with its own marker rows: F000001 (MARKER-11-) and F000002 (MARKER-22-)
two_files() {
	gen --rows 3 --markers --seed 11 -o "$D/a.csv"
	gen --rows 3 --markers --seed 22 -o "$D/b.csv"
	spif ingest --purpose 個人住民税の賦課 --store --print-id - < "$D/a.csv" > /dev/null 2>&1
	spif ingest --purpose 個人住民税の賦課 --store --print-id - < "$D/b.csv" > /dev/null 2>&1
}

# SoftHSM2 with a token of the test's own, and spif.conf naming it
token_setup() {
	[ -f /usr/lib/softhsm/libsofthsm2.so ] && command -v softhsm2-util > /dev/null ||
		skip "SoftHSM2 is not installed (Debian package softhsm2)"
	mkdir -p "$D/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$D/tokens" > "$D/softhsm2.conf"
	export SOFTHSM2_CONF="$D/softhsm2.conf"
	softhsm2-util --init-token --free --label spif-test --pin 4321 --so-pin 87654321 > /dev/null
	mkdir -p -m 700 "$SPIF_HOME"
	printf '4321\n' > "$SPIF_HOME/token.pin"
	chmod 600 "$SPIF_HOME/token.pin"
	printf 'pkcs11_module = /usr/lib/softhsm/libsofthsm2.so\npkcs11_token = spif-test\npkcs11_pin_file = token.pin\n' > "$SPIF_CONF"
	# SoftHSM's own allocations outlive C_Finalize: not spif's to report
	printf 'leak:libsofthsm2\nleak:libcrypto\n' > "$D/lsan.supp"
	export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$D/lsan.supp"
}

@test "raw disk: after shred --file, nothing of the erased file decrypts from the image; the other file does" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to loop-mount an ext4 image"
	command -v mkfs.ext4 > /dev/null || skip "mkfs.ext4 is missing (e2fsprogs)"
	recover_tool
	truncate -s 16M "$D/disk.img"
	mkfs.ext4 -q -F "$D/disk.img"
	MNT=$D/mnt
	mkdir -p "$MNT"
	mount -o loop "$D/disk.img" "$MNT" || skip "cannot loop-mount here"
	export SPIF_HOME=$MNT/home
	two_files
	# what a disk keeps of the catalog besides catalog.db: here, for
	# certain, an old copy an administrator left (free blocks and old WAL
	# frames keep the same bytes, but not always)
	cp "$SPIF_HOME/catalog.db" "$MNT/catalog-copy.db"
	key=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT hex(wrapped) FROM data_keys WHERE file_id = 1")
	run --separate-stderr spif shred --reason test --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# the keys an attacker with the disk finds: those still on it
	cp -a "$SPIF_HOME/keys" "$D/keys-left"
	sync
	umount "$MNT"
	# control: the erased file's wrapped key is still on the disk
	od -An -v -tx1 "$D/disk.img" | tr -d ' \n' | grep -qi "$key"
	run "$D/recover" "$D/disk.img" "$D"/keys-left/kek-* -- MARKER-11- MARKER-22-
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"marker MARKER-22- found"* ]]     # control: the live file
	[[ "$output" == *"marker MARKER-11- not found"* ]] # the erased one
	[[ "$output" != *"opened F000001"* ]]
}

@test "a backup taken before the erase, restored after it: the erased file is gone and nothing of it decrypts" {
	recover_tool
	two_files
	run --separate-stderr spif catalog backup -o "$D/bk"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(stat -c %a "$D/bk")" = 700 ]
	[ "$(stat -c %a "$D/bk/catalog.db")" = 600 ]
	[ ! -e "$D/bk/keys" ]
	[ -z "$(find "$D/bk" -name 'kek-*')" ]
	run spif catalog log --json
	[[ "$output" == *'"action":"catalog.backup"'* ]]
	# the drill before the erase: everything opens
	run spif catalog restore-test "$D/bk"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[[ "$output" == *"2 of 2 sampled vault files open with the live keys"* ]]
	[[ "$output" == *"restore drill: passed"* ]]
	run spif shred --reason test --file F000001
	[ "$status" -eq 0 ]
	# the backup's catalog holds F000001's wrapped key, its vault file the
	# ciphertext: under the keys alive now, nothing of it opens
	cat "$D/bk/catalog.db" "$D"/bk/vault/* > "$D/all.bin"
	run "$D/recover" "$D/all.bin" "$SPIF_HOME"/keys/kek-* -- MARKER-11-
	echo "$output"
	[[ "$output" == *"marker MARKER-11- not found"* ]]
	[[ "$output" != *"opened F000001"* ]]
	# the drill says so, and records it
	run spif catalog restore-test "$D/bk"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"F000001: gone: disposed after the backup was taken: its key is gone"* ]]
	[[ "$output" == *"F000002: stale: its month's key was replaced after the backup"* ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"catalog.restore-test"'*'"ok":false'* ]]
	# a restore into a new home refuses to resurrect it, file by file
	run spif catalog restore "$D/bk" --home "$D/new" --keys "$SPIF_HOME/keys"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"F000001: not restored: its key is gone"* ]]
	run spif --home "$D/new" vault cat F000001
	[ "$status" -ne 0 ]
	[ -z "$(ls "$D/new/vault")" ]
	run spif --home "$D/new" catalog verify
	[ "$status" -eq 0 ]
	# a backup taken now restores what is live
	run spif catalog backup -o "$D/bk2"
	[ "$status" -eq 0 ]
	run spif catalog restore "$D/bk2" --home "$D/new2" --keys "$SPIF_HOME/keys"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	run spif --home "$D/new2" vault cat F000002
	[ "$status" -eq 0 ]
	[[ "$output" == *MARKER-22-* ]]
	run spif catalog restore "$D/bk2" --home "$D/new2"
	[ "$status" -eq 73 ]
	[[ "$output" == *"already has a catalog"* ]]
}

@test "killed during the month key's replacement, before its commit: every file reads, the erase finishes" {
	command -v gdb > /dev/null || skip "gdb is missing"
	two_files
	vault_files 2
	# stopped in the middle of rewrapping the month's other keys
	run gdb -batch -nx -ex 'set startup-with-shell off' -ex 'break spif_kek_wrap' -ex run -ex kill \
		--args "$SPIF_BIN/spif-shred" --reason test --file F000001
	[[ "$output" == *"Breakpoint 1, "*"spif_kek_wrap"* ]] || { echo "$output" | tail -5; return 1; }
	# nothing committed: F000001's key is still there (its copy stays
	# "disposing" for the next run), every other file reads, under the
	# old month key, which is still there
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT count(*) FROM data_keys WHERE file_id = 1")" -eq 1 ]
	for f in F000002 F000003 F000004; do
		run spif vault cat "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; return 1; }
	done
	[ -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	# the next run finishes it
	run --separate-stderr spif shred --reason test --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run spif vault cat F000001
	[ "$status" -ne 0 ]
	for f in F000002 F000003 F000004; do
		run spif vault cat "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; return 1; }
	done
	[ ! -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "killed after the replacement's commit, before the old key is destroyed: the next run destroys it" {
	command -v gdb > /dev/null || skip "gdb is missing"
	recover_tool
	two_files
	cp "$SPIF_HOME/catalog.db" "$D/before.db" # a copy holding F000001's wrapped key
	run gdb -batch -nx -ex 'set startup-with-shell off' -ex 'break spif_vault_destroy_old_keks' -ex run -ex kill \
		--args "$SPIF_BIN/spif-shred" --reason test --file F000001
	[[ "$output" == *"Breakpoint 1, "*"spif_vault_destroy_old_keks"* ]] || { echo "$output" | tail -5; return 1; }
	# committed: the erased file does not read, the other one does, under
	# the new key; the old key is still there
	run spif vault cat F000001
	[ "$status" -ne 0 ]
	run spif vault cat F000002
	[ "$status" -eq 0 ]
	[[ "$output" == *MARKER-22-* ]]
	[ -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	[ -e "$SPIF_HOME/keys/kek-indefinite-2.key" ]
	# the next run (finishing the copy left "disposing") destroys it
	run --separate-stderr spif shred --resume
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ ! -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	run spif catalog log --json
	[[ "$output" == *'"action":"kek.destroyed"'*'"generation":1'* ]]
	run spif vault cat F000002
	[ "$status" -eq 0 ]
	cat "$D/before.db" "$SPIF_HOME"/vault/* > "$D/all.bin"
	run "$D/recover" "$D/all.bin" "$SPIF_HOME"/keys/kek-* -- MARKER-11-
	[[ "$output" == *"marker MARKER-11- not found"* ]]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "purge: one replacement per month however many files it erases" {
	vault_files 5 --received 2018-05-01 --schedule kazei-shiryo-7y
	vault_files 1 # indefinite: stays
	vault_files 2 --received 2018-05-01 --schedule kazei-shiryo-7y
	spif retain hold F000007 --reason 監査 > /dev/null 2>&1 || spif retain hold F000007 --reason 監査 > /dev/null
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run spif catalog log --json
	[ "$(printf '%s\n' "$output" | grep -c '"action":"kek.rotated"')" -eq 1 ]
	[[ "$output" == *'"action":"kek.rotated"'*'"bucket":"2026-04","created":'*'"replaced_by":2,"rewrapped":1'* ]]
	run spif vault cat F000007
	[ "$status" -eq 0 ]
}

# two disposal months due, three files each (F000001-3: 2026-04,
# F000004-6: 2025-04), each month with one held file that stays
# (F000007, F000008)
two_months() {
	vault_files 3 --received 2018-05-01 --schedule kazei-shiryo-7y
	vault_files 3 --received 2017-05-01 --schedule kazei-shiryo-7y
	vault_files 1 --received 2018-05-01 --schedule kazei-shiryo-7y
	vault_files 1 --received 2017-05-01 --schedule kazei-shiryo-7y
	spif retain hold F000007 --reason 監査 > /dev/null
	spif retain hold F000008 --reason 監査 > /dev/null
}

# generation BUCKET: the generation of the month's live KEK
generation() {
	spif vault keys --json | sed -n "s/.*\"bucket\":\"$1\",\"generation\":\([0-9]*\).*/\1/p"
}

# the erased files do not read, the held ones do
months_after_purge() {
	for f in F000001 F000002 F000003 F000004 F000005 F000006; do
		run spif vault cat "$f"
		[ "$status" -ne 0 ] || { echo "$f still reads"; return 1; }
	done
	for f in F000007 F000008; do
		run spif vault cat "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; return 1; }
	done
	[ ! -e "$SPIF_HOME/keys/kek-2026-04.key" ]
	[ ! -e "$SPIF_HOME/keys/kek-2025-04.key" ]
}

@test "purge in several batches of claims: each month's key replaced exactly once" {
	two_months
	[ "$(generation 2026-04)" -eq 1 ]
	[ "$(generation 2025-04)" -eq 1 ]
	SPIF_TEST_PURGE_BATCH=2 run --separate-stderr spif retain purge
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(printf '%s\n' "$output" | grep -c ' disposed DC-')" -eq 6 ]
	[ "$(generation 2026-04)" -eq 2 ]
	[ "$(generation 2025-04)" -eq 2 ]
	run spif catalog log --json
	[ "$(printf '%s\n' "$output" | grep -o '"replaced_by":' | wc -l)" -eq 2 ]
	months_after_purge
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "purge killed in the month keys' replacement, before its commit: nothing lost, the next purge replaces once" {
	command -v gdb > /dev/null || skip "gdb is missing"
	two_months
	run gdb -batch -nx -ex 'set startup-with-shell off' -ex 'break spif_kek_wrap' -ex run -ex kill \
		--args "$SPIF_BIN/spif-retain" purge
	[[ "$output" == *"Breakpoint 1, "*"spif_kek_wrap"* ]] || { echo "$output" | tail -5; return 1; }
	# nothing erased: the claimed files keep their keys (their copies stay
	# "disposing" for the next purge), the held ones read, under the old keys
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT count(*) FROM data_keys WHERE file_id <= 6")" -eq 6 ]
	for f in F000007 F000008; do
		run spif vault cat "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; return 1; }
	done
	[ "$(generation 2026-04)" -eq 1 ]
	[ "$(generation 2025-04)" -eq 1 ]
	SPIF_TEST_PURGE_BATCH=2 run --separate-stderr spif retain purge
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# the killed run's new key never protected anything committed: its
	# generation number is skipped, and the key destroyed with the old one
	[ "$(generation 2026-04)" -gt 1 ]
	[ "$(generation 2025-04)" -gt 1 ]
	months_after_purge
	[ "$(find "$SPIF_HOME/keys" -name 'kek-*' | wc -l)" -eq 2 ]
	run spif catalog log --json
	[ "$(printf '%s\n' "$output" | grep -o '"replaced_by":' | wc -l)" -eq 2 ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "purge killed after the replacement's commit: erased stays erased, the next purge destroys the old keys" {
	command -v gdb > /dev/null || skip "gdb is missing"
	two_months
	SPIF_TEST_PURGE_BATCH=2 run gdb -batch -nx -ex 'set startup-with-shell off' \
		-ex 'break spif_vault_destroy_old_keks' -ex run -ex kill --args "$SPIF_BIN/spif-retain" purge
	[[ "$output" == *"Breakpoint 1, "*"spif_vault_destroy_old_keks"* ]] || { echo "$output" | tail -5; return 1; }
	for f in F000001 F000004; do
		run spif vault cat "$f"
		[ "$status" -ne 0 ] || { echo "$f still reads"; return 1; }
	done
	for f in F000007 F000008; do
		run spif vault cat "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; return 1; }
	done
	[ -e "$SPIF_HOME/keys/kek-2026-04.key" ] # not destroyed yet
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(generation 2026-04)" -eq 2 ]
	[ "$(generation 2025-04)" -eq 2 ]
	months_after_purge
	run spif catalog log --json
	[ "$(printf '%s\n' "$output" | grep -o '"replaced_by":' | wc -l)" -eq 2 ]
	[[ "$output" == *'"action":"kek.destroyed"'* ]]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "token: KEKs are non-extractable token objects; erase destroys the object; a backup restores nothing of it" {
	token_setup
	two_files
	run spif vault keys --json
	echo "$output"
	[[ "$output" == *'"bucket":"indefinite","generation":1,"store":"pkcs11"'* ]]
	[[ "$output" == *'"extractable":false,"sensitive":true,"value_readable":false'* ]]
	[ ! -e "$SPIF_HOME/keys/kek-indefinite.key" ]
	run spif vault cat F000002
	[ "$status" -eq 0 ]
	[[ "$output" == *MARKER-22-* ]]
	spif catalog backup -o "$D/bk" > /dev/null
	run --separate-stderr spif shred --reason test --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	id=$output
	run spif catalog cert show "$id" --format json
	[[ "$output" == *'"destroyed_by":"C_DestroyObject in the token'* ]]
	[[ "$output" == *'NIST SP 800-88 Rev. 2'* ]]
	[[ "$output" == *"software token: its objects are files in $D/tokens"* ]]
	run spif vault keys --json
	[[ "$output" == *'"generation":2,"store":"pkcs11"'*'"extractable":false'* ]]
	run spif vault cat F000002
	[ "$status" -eq 0 ]
	mkdir -m 700 "$D/new" && cp -p "$SPIF_HOME/token.pin" "$D/new/"
	run spif catalog restore "$D/bk" --home "$D/new"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"F000001: not restored: its key is gone"* ]]
	[[ "$output" == *"generation 1) no longer exists"* ]]
}

@test "token: a missing token or a wrong PIN is exit 69, one line, and nothing destroyed" {
	token_setup
	two_files
	printf '9999\n' > "$SPIF_HOME/token.pin"
	run --separate-stderr spif shred --reason test --file F000001
	[ "$status" -eq 69 ]
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "$stderr"; return 1; }
	[[ "$stderr" == *"pkcs11: token \"spif-test\": login: wrong PIN"* ]]
	printf '4321\n' > "$SPIF_HOME/token.pin"
	run spif vault cat F000001
	[ "$status" -eq 0 ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT state FROM copies WHERE file_id = 1")" = present ]
	sed -i 's/pkcs11_token = spif-test/pkcs11_token = nowhere/' "$SPIF_CONF"
	run --separate-stderr spif shred --reason test --file F000001
	[ "$status" -eq 69 ]
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "$stderr"; return 1; }
	[[ "$stderr" == *'no token labelled "nowhere"'* ]]
	run --separate-stderr spif vault cat F000002
	[ "$status" -eq 69 ]
	sed -i 's/pkcs11_token = nowhere/pkcs11_token = spif-test/' "$SPIF_CONF"
	run spif vault cat F000001
	[ "$status" -eq 0 ]
}

@test "escrow: the certificate lists the custodian's copy outstanding; its confirmation closes it" {
	gnupg_setup
	fpr=$(gpg_key custodian)
	printf 'custodian_key = %s\n' "$fpr" > "$SPIF_CONF"
	two_files
	run --separate-stderr spif shred --reason test --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	id=$output
	run spif catalog cert show "$id" --format json
	[[ "$output" == *'"escrow":[{"bucket":"indefinite","created":"'*'","custodian":"'"$fpr"'","fingerprint":"'"$fpr"'","generation":1,"state":"outstanding"}]'* ]]
	[[ "$output" == *"Outstanding: the custodian $fpr"* ]]
	run spif catalog cert verify "$id"
	[[ "$output" == *"escrow OUTSTANDING"* ]]
	run spif vault escrow ls
	[[ "$output" == *"indefinite  gen 1"* ]]
	run spif vault escrow destroyed indefinite --note "shredded by the custodian" --sign "$fpr"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[[ "$output" == "indefinite: 1 escrow copy recorded destroyed by "*" (signed)" ]]
	run spif catalog cert verify "$id"
	[[ "$output" == *"escrow closed: the custodian's copy of the indefinite key (generation 1) confirmed destroyed by"* ]]
	run spif vault escrow destroyed indefinite
	[ "$status" -eq 65 ]
	run spif catalog log --json
	[[ "$output" == *'"action":"kek.escrow-destroyed"'* ]]
	# the backup holds no escrow copy either
	spif catalog backup -o "$D/bk" > /dev/null
	[ "$(sqlite3 "$D/bk/catalog.db" "SELECT count(*) FROM keks WHERE custodian_wrapped IS NOT NULL")" -eq 0 ]
}

@test "completions: every option of spif vault and spif catalog --help is in both" {
	for cmd in vault catalog; do
		for opt in $(spif "$cmd" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "$opt" "$top/completions/spif.bash" || { echo "spif.bash: $cmd $opt"; return 1; }
			grep -q -- "$opt" "$top/completions/_spif" || { echo "_spif: $cmd $opt"; return 1; }
		done
	done
	for sub in keys escrow backup restore-test restore; do
		grep -q -- "$sub" "$top/completions/spif.bash" || { echo "spif.bash: $sub"; return 1; }
		grep -q -- "$sub" "$top/completions/_spif" || { echo "_spif: $sub"; return 1; }
	done
}
