#!/usr/bin/env bats
# spif export: the archive (an OpenPGP message of a tar of a BagIt bag) as
# plain tools read it, its payload as asked (NDJSON, CSV in CP932 byte for
# byte, redacted, cut to fields), plain bags only without numbers, verify
# listing every problem, no plaintext file at any time, and the ledger:
# ls, return, destroyed, lost, and disposal waiting for what is out.
# Bad input leaves one stderr line, the documented exit code, the catalog
# as it was and nothing under the output's name.
load helper

setup_file() {
	gnupg_setup
	R=$(gpg_key r) && S=$(gpg_key s) && X=$(gpg_key x) || return 1
	O=$(gpg_key o --faked-system-time 20200101T000000!) || return 1 # expired in 2021
	export R S X O
}

teardown_file() {
	gnupg_teardown
}

setup() {
	setup_home
	mkdir "$D/out"
}

teardown() {
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2>/dev/null || true
	fi
	teardown_gpg
}

# stored N [ARGS]: a file of N rows kept only in the vault, read from
# standard input so that there is no source copy (F00000k printed).
stored() {
	local n=$1
	shift
	gen --rows "$n" "$@" -o "$D/src$n.csv"
	spif ingest --purpose 個人住民税の賦課 --store --print-id - < "$D/src$n.csv" 2>/dev/null
}

# state_of ID: the file's state in the catalog.
state_of() {
	spif catalog show "$1" --json | sed -n 's/^{"id":"[^"]*","state":"\([a-z]*\)".*/\1/p'
}

# ex ARGS...: spif export with the custody items every export needs.
ex() {
	spif export --to-org 印刷委託先 --basis 番号法第19条第6号 --reason 納税通知書の印刷 "$@"
}

# open_bag ARCHIVE DIR: decrypt with plain gpg and untar with plain tar.
open_bag() {
	mkdir -p "$2"
	gpg --batch --quiet --decrypt "$1" 2>/dev/null | tar -xf - -C "$2"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

@test "export: --help; spif lists it; every option is in both completions" {
	run spif export --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spif export (--file ID... | --purpose P) -r RECIPIENT"* ]]
	run spif help
	[[ "$output" == *"  export "* ]]
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	missing=""
	for o in $(spif export --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
		grep -qe "$o\\b" "$top/completions/spif.bash" || missing="$missing bash:$o"
		grep -qe "$o\\b" "$top/completions/_spif" || missing="$missing zsh:$o"
	done
	[ -z "$missing" ] || { echo "not completed:$missing"; return 1; }
}

@test "export: plain gpg and tar open it; sha256sum -c and sha512sum -c pass inside the bag" {
	stored 40 > /dev/null
	run --separate-stderr ex --file F000001 -r r@example.invalid --sign s@example.invalid -o "$D/out/a.gpg"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^EX-[0-9]{4}-000001$ ]]
	id=$output
	[[ "$stderr" == "spif-export: $id: 1 file, 40 records, "*" persons, to 印刷委託先, encrypted for 1 key, signed by $S -> $D/out/a.gpg ("*" bytes)" ]]
	[ "$(stat -c %a "$D/out/a.gpg")" = 600 ]
	! grep -qa '受給者' "$D/out/a.gpg" || false
	open_bag "$D/out/a.gpg" "$D/x"
	[ -d "$D/x/$id/data" ]
	(cd "$D/x/$id" && sha256sum --quiet -c manifest-sha256.txt && sha512sum --quiet -c manifest-sha512.txt &&
		sha256sum --quiet -c tagmanifest-sha256.txt)
	[ "$(cat "$D/x/$id/bagit.txt")" = "BagIt-Version: 1.0
Tag-File-Character-Encoding: UTF-8" ]
	# the payload is the vault's records, byte for byte
	spif vault cat F000001 | cmp - "$D/x/$id/data/F000001.ndjson"
	# the custody items
	info=$D/x/$id/bag-info.txt
	grep -qx "External-Identifier: $id" "$info"
	grep -qx "Spif-Recipient: 印刷委託先" "$info"
	grep -qx "Spif-Recipient-Key: $R" "$info"
	grep -qx "Spif-Basis: 番号法第19条第6号" "$info"
	grep -qx "Spif-Reason: 納税通知書の印刷" "$info"
	grep -qx "Spif-Operator: $(id -un)" "$info"
	grep -qx "Spif-Approver: " "$info"
	grep -qx "Spif-Signer: $S" "$info"
	grep -q "^Spif-File: F000001 data/F000001.ndjson records=40 persons=[0-9]*$" "$info"
	grep -qx "Payload-Oxum: $(stat -c %s "$D/x/$id/data/F000001.ndjson").1" "$info"
	grep -q "^Bagging-Date: [0-9-]*$" "$info"
	! grep -q '^Source-Organization' "$info" || false # none configured
	# the ledger row, canonical (sorted keys, compact), whose hash the ledger keeps
	co=$D/x/$id/spif/checkout.json
	[[ "$(head -c 12 "$co")" == '{"approver":' ]]
	[ "$(wc -l < "$co")" -eq 0 ]
	spif export ls --json | grep -q "\"checkout_sha256\":\"$(sha "$co")\""
}

@test "export: registered as an export copy of each file, in the ledger, with its event; verify is happy" {
	stored 10 > /dev/null
	stored 12 > /dev/null
	id=$(ex --file F000001 F000002 -r "$R" -o "$D/out/b.gpg" 2>/dev/null)
	for f in F000001 F000002; do
		run spif catalog show "$f" --json
		[[ "$output" == *"\"kind\":\"export\",\"path\":\"$D/out/b.gpg\",\"sha256\":\"$(sha "$D/out/b.gpg")\""* ]]
	done
	run spif export ls
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == "$id  out "*"22 F000001,F000002 印刷委託先" ]]
	run spif catalog log --json
	[[ "$output" == *"\"action\":\"export\",\"object\":\"$id\""* ]]
	run --separate-stderr spif export verify "$D/out/b.gpg"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == "spif-export: $id: valid BagIt bag, 2 payload files, "*" bytes; not signed" ]]
	spif catalog verify > /dev/null
}

@test "export: unsigned only without --sign and sign_key, and it says so; sign_key signs" {
	stored 5 > /dev/null
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/out/u.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: not signed: no --sign and no sign_key in spif.conf"* ]]
	printf 'sign_key = %s\n' "$S" > "$SPIF_CONF"
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/out/s.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"signed by $S"* ]]
	[[ "$stderr" != *"not signed"* ]]
	run --separate-stderr spif export verify "$D/out/s.gpg"
	[[ "$stderr" == *"good signature by $S" ]]
	# and bag-info carries the sender from spif.conf
	printf 'org_name = 〇〇市税務課\ncontact_name = 山田太郎\ncontact_phone = 03-0000-0000\ncontact_email = zei@example.invalid\n' > "$SPIF_CONF"
	id=$(ex --file F000001 -r "$R" -o "$D/out/o.gpg" 2>/dev/null)
	open_bag "$D/out/o.gpg" "$D/y"
	grep -qx 'Source-Organization: 〇〇市税務課' "$D/y/$id/bag-info.txt"
	grep -qx 'Contact-Name: 山田太郎' "$D/y/$id/bag-info.txt"
	grep -qx 'Contact-Phone: 03-0000-0000' "$D/y/$id/bag-info.txt"
	grep -qx 'Contact-Email: zei@example.invalid' "$D/y/$id/bag-info.txt"
}

@test "export --to csv --output-encoding cp932: the CP932 source back byte for byte, from the vault" {
	gen --rows 60 --encoding cp932 --gaiji -o "$D/c.csv"
	spif ingest --purpose 個人住民税の賦課 --store --print-id - < "$D/c.csv" > /dev/null 2>&1 # vault only
	id=$(ex --file F000001 -r "$R" --to csv --output-encoding cp932 -o "$D/out/c.gpg" 2>/dev/null)
	open_bag "$D/out/c.gpg" "$D/x"
	cmp "$D/c.csv" "$D/x/$id/data/F000001.csv"
}

@test "export --redact, --fields, --drop: what leaves is what was asked" {
	stored 30 --text-numbers > /dev/null
	id=$(ex --file F000001 -r "$R" --redact --to csv -o "$D/out/r.gpg" 2>/dev/null)
	open_bag "$D/out/r.gpg" "$D/r"
	run spif redact --check --format csv "$D/r/$id/data/F000001.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"30 records, 0 numbers found"* ]]
	grep -q '"redact":"mask"' "$D/r/$id/spif/checkout.json"
	spif redact --new-key k 2>/dev/null
	id=$(ex --file F000001 -r "$R" --redact pseudonym --key k -o "$D/out/p.gpg" 2>/dev/null)
	open_bag "$D/out/p.gpg" "$D/p"
	grep -q 'PSN:' "$D/p/$id/data/F000001.ndjson"
	id=$(ex --file F000001 -r "$R" --fields 受給者の氏名,受給者の個人番号 -o "$D/out/f.gpg" 2>/dev/null)
	open_bag "$D/out/f.gpg" "$D/f"
	run head -1 "$D/f/$id/data/F000001.ndjson"
	[[ "$output" =~ ^\{\"@file\":\"F000001\",\"@row\":2,\"受給者の氏名\":\"[^\"]*\",\"受給者の個人番号\":\"[0-9]{12}\"\}$ ]]
	id=$(ex --file F000001 -r "$R" --drop 摘要欄 --to csv -o "$D/out/d.gpg" 2>/dev/null)
	open_bag "$D/out/d.gpg" "$D/d"
	! head -1 "$D/d/$id/data/F000001.csv" | grep -q 摘要欄 || false
	head -1 "$D/d/$id/data/F000001.csv" | grep -q 受給者の氏名
	# a field the file does not have is an error, never skipped
	before=$(catalog_state)
	run --separate-stderr ex --file F000001 -r "$R" --fields nosuch -o "$D/out/n.gpg"
	[ "$status" -eq 64 ]
	[ "$stderr" = "spif-export: --fields nosuch: no such field in F000001" ]
	[ ! -e "$D/out/n.gpg" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "export --purpose: every file of the purpose that is not disposed" {
	stored 3 > /dev/null
	stored 4 > /dev/null
	gen --rows 2 -o "$D/other.csv"
	spif ingest --purpose 別の事務 --store --print-id "$D/other.csv" > /dev/null 2>&1
	id=$(ex --purpose 個人住民税の賦課 -r "$R" -o "$D/out/p.gpg" 2>/dev/null)
	run spif export ls --json
	[[ "$output" == *'"records":7,'* ]]
	open_bag "$D/out/p.gpg" "$D/x"
	[ "$(ls "$D/x/$id/data")" = "F000001.ndjson
F000002.ndjson" ]
	run --separate-stderr ex --purpose 存在しない -r "$R" -o "$D/out/q.gpg"
	[ "$status" -eq 66 ]
	one_line_stderr
}

@test "export --format dir|tar: only without numbers (65, nothing left); redacted, a plain bag sha256sum accepts" {
	stored 20 > /dev/null
	before=$(catalog_state)
	for f in dir tar; do
		run --separate-stderr ex --file F000001 --format "$f" -o "$D/out/plain"
		[ "$status" -eq 65 ]
		[[ "$stderr" == "spif-export: F000001:2: field "*" holds what may be an Individual Number: numbers leave only encrypted (--format bag), or without them (--redact)" ]]
		one_line_stderr
		[ -z "$(ls -A "$D/out")" ]
		[ "$(catalog_state)" = "$before" ]
	done
	id=$(ex --file F000001 --format dir --redact -o "$D/out/plain" 2>/dev/null)
	(cd "$D/out/plain" && sha256sum --quiet -c manifest-sha256.txt)
	[ "$(stat -c %a "$D/out/plain/data/F000001.ndjson")" = 600 ]
	run spif export verify "$D/out/plain"
	[ "$status" -eq 0 ]
	id=$(ex --file F000001 --format tar --redact -o "$D/out/plain.tar" 2>/dev/null)
	tar -tf "$D/out/plain.tar" | grep -qx "$id/data/F000001.ndjson"
	run spif export verify "$D/out/plain.tar"
	[ "$status" -eq 0 ]
	# -r has no meaning for a plain form
	run --separate-stderr ex --file F000001 --format dir -r "$R" -o "$D/out/x"
	[ "$status" -eq 64 ]
}

@test "export verify: every missing, extra and mismatched file, with its path (exit 1)" {
	stored 10 > /dev/null
	stored 11 > /dev/null
	id=$(ex --file F000001 F000002 -r "$R" -o "$D/out/v.gpg" 2>/dev/null)
	open_bag "$D/out/v.gpg" "$D/x"
	b=$D/x/$id
	echo tampered >> "$b/data/F000001.ndjson"
	rm "$b/data/F000002.ndjson"
	echo extra > "$b/data/extra.txt"
	sed -i 's/Spif-Reason: .*/Spif-Reason: changed/' "$b/bag-info.txt"
	run --separate-stderr spif export verify "$b"
	[ "$status" -eq 1 ]
	[ "$output" = "invalid: bag-info.txt (Payload-Oxum $(grep Payload-Oxum "$b/bag-info.txt" | cut -d' ' -f2), but the payload is $(($(stat -c %s "$b/data/F000001.ndjson") + 6)).2)
mismatched: bag-info.txt (sha256)
mismatched: data/F000001.ndjson (sha256, sha512)
missing: data/F000002.ndjson (listed in manifest-sha256.txt, listed in manifest-sha512.txt)
extra: data/extra.txt (not in manifest-sha256.txt, not in manifest-sha512.txt)" ]
	[[ "$stderr" == "spif-export: $id: INVALID bag, 2 payload files, "*" bytes, 5 problems; not encrypted" ]]
	# the same as a tar
	(cd "$D/x" && tar -cf "$D/t.tar" "$id")
	run spif export verify "$D/t.tar"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 6 ]
	run --separate-stderr spif export verify /etc/hostname
	[ "$status" -eq 65 ]
	one_line_stderr
}

@test "export verify: a bag repacked from inside its directory (no top directory) is read as the bag" {
	stored 10 > /dev/null
	id=$(ex --file F000001 -r "$R" -o "$D/out/v.gpg" 2>/dev/null)
	open_bag "$D/out/v.gpg" "$D/x"
	# the way a recipient repacks it: ./, ./bagit.txt, ./data/..., or names from the root
	tar -C "$D/x/$id" -cf "$D/flat.tar" .
	(cd "$D/x/$id" && tar -cf "$D/named.tar" bagit.txt bag-info.txt manifest-sha256.txt manifest-sha512.txt \
		tagmanifest-sha256.txt data spif)
	for t in flat named; do
		run --separate-stderr spif export verify "$D/$t.tar"
		[ "$status" -eq 0 ] || { echo "$t: $output $stderr"; return 1; }
		[ -z "$output" ]
	done
	# and what is wrong in it is still found, by its bag-relative path
	echo tampered >> "$D/x/$id/data/F000001.ndjson"
	tar -C "$D/x/$id" -cf "$D/flat.tar" .
	run --separate-stderr spif export verify "$D/flat.tar"
	[ "$status" -eq 1 ]
	[ "$output" = "invalid: bag-info.txt (Payload-Oxum $(grep Payload-Oxum "$D/x/$id/bag-info.txt" | cut -d' ' -f2), but the payload is $(stat -c %s "$D/x/$id/data/F000001.ndjson").1)
mismatched: data/F000001.ndjson (sha256, sha512)" ]
}

@test "export: no plaintext ever reaches a file: TMPDIR and the output's directory stay empty, open files are the catalog's and one unnamed ciphertext" {
	# enough records that the export outlasts a few rounds of the watch
	# below even on an idle machine
	stored 20000 --text-numbers > /dev/null
	touch "$D/mark"
	spif-export --to-org A --basis b --reason r --file F000001 -r "$R" --redact --to csv \
		-o "$D/out/slow.gpg" > /dev/null 2> "$D/err" 3>&- &
	pid=$!
	seen=0 bad=""
	while kill -0 "$pid" 2>/dev/null; do
		# nothing named appears while it runs (the home aside; the output
		# itself is linked into place at the commit, whole)
		new=$(find "$D" -path "$SPIF_HOME" -prune -o -type f -newer "$D/mark" -print 2>/dev/null |
			grep -v -e "^$D/err$" -e "^$D/out/slow.gpg$" || true)
		[ -z "$new" ] || bad="$bad new:$new"
		for p in $pid $(pgrep -P "$pid"); do
			for fd in /proc/"$p"/fd/*; do
				t=$(readlink "$fd" 2>/dev/null) || continue
				[ -f "$fd" ] || continue
				flags=$(awk '/^flags:/ { print $2 }' "/proc/$p/fdinfo/${fd##*/}" 2>/dev/null) || continue
				[ -n "$flags" ] || continue
				(( (8#$flags & 3) != 0 )) || continue # open for reading only
				case $t in
				"$SPIF_HOME"/* | "$D/err" | "$BATS_RUN_TMPDIR"/bats.*) ;; # the test's own
				/memfd:*) ;;
				"$D/out/#"*" (deleted)")
					seen=1
					! grep -qa -e '受給者' -e '摘要欄' "$fd" 2>/dev/null || bad="$bad plaintext-in:$t" ;;
				*) bad="$bad $p:$t" ;;
				esac
			done
		done
		sleep 0.02
	done
	wait "$pid"
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	[ "$seen" -eq 1 ] || { echo "the run ended before it was seen writing"; cat "$D/err"; return 1; }
	[ "$(ls -A "$D/out")" = slow.gpg ]
}

@test "bad: an unknown or an expired recipient (69); an unknown signer (69)" {
	stored 5 > /dev/null
	before=$(catalog_state)
	run --separate-stderr ex --file F000001 -r nobody@example.invalid -o "$D/out/a.gpg"
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-export: no public key for nobody@example.invalid" ]
	run --separate-stderr ex --file F000001 -r o@example.invalid -o "$D/out/a.gpg"
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-export: o@example.invalid: key is expired" ]
	run --separate-stderr ex --file F000001 -r "$R" --sign o@example.invalid -o "$D/out/a.gpg"
	[ "$status" -eq 69 ]
	one_line_stderr
	[ -z "$(ls -A "$D/out")" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: an unknown file (66), a disposed file (65)" {
	stored 5 > /dev/null
	run --separate-stderr ex --file F000009 -r "$R" -o "$D/out/a.gpg"
	[ "$status" -eq 66 ]
	[ "$stderr" = "spif-export: no file F000009 in the catalog" ]
	spif shred --force --reason test --file F000001 > /dev/null 2>&1
	before=$(catalog_state)
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/out/a.gpg"
	[ "$status" -eq 65 ]
	[ "$stderr" = "spif-export: F000001 is disposed: nothing of it is left to export" ]
	[ -z "$(ls -A "$D/out")" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: a copy changed since it was catalogued, and no vault copy (65, names the copy)" {
	gen --rows 20 -o "$D/a.csv"
	spif ingest --purpose x --print-id "$D/a.csv" > /dev/null 2>&1
	# the source as it was is read (and its hash checked) without a vault copy
	id=$(ex --file F000001 -r "$R" -o "$D/out/ok.gpg" 2>/dev/null)
	open_bag "$D/out/ok.gpg" "$D/x"
	[ "$(grep -c '"@file":"F000001"' "$D/x/$id/data/F000001.ndjson")" -eq 20 ]
	rm "$D/out/ok.gpg"
	sed -i '3s/,1,/,2,/' "$D/a.csv" 2>/dev/null; printf 'x' >> "$D/a.csv"
	before=$(catalog_state)
	for to in ndjson csv; do
		run --separate-stderr ex --file F000001 -r "$R" --to "$to" -o "$D/out/a.gpg"
		[ "$status" -eq 65 ]
		[[ "$stderr" == "spif-export: $D/a.csv: changed since it was catalogued (its SHA-256 is not F000001's); no vault copy of F000001 to read instead, and spif exports nothing from a copy that changed" ]]
		[ -z "$(ls -A "$D/out")" ]
	done
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: a vault copy that fails authentication (65)" {
	stored 30 > /dev/null
	v=$(ls "$SPIF_HOME"/vault/*.spv)
	flip_bit "$v" 200
	before=$(catalog_state)
	for to in ndjson csv; do
		run --separate-stderr ex --file F000001 -r "$R" --to "$to" -o "$D/out/a.gpg"
		[ "$status" -eq 65 ]
		[[ "$stderr" == "spif-export: $v: chunk 0: authentication failed"* ]]
		[ -z "$(ls -A "$D/out")" ]
	done
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: a vault copy damaged in its last chunk, after the others went to gpg (65, nothing named)" {
	# the raw path reads the vault once, each chunk authenticated as it
	# goes: fourteen good chunks are already encrypted when the damage is met
	stored 4000 > /dev/null
	v=$(ls "$SPIF_HOME"/vault/*.spv)
	size=$(stat -c %s "$v")
	[ "$size" -gt $((4 << 20)) ]
	flip_bit "$v" $((size - 100))
	before=$(catalog_state)
	for to in ndjson csv; do # as held, and as records through the vault feed
		run --separate-stderr ex --file F000001 -r "$R" --to "$to" -o "$D/out/a.gpg"
		[ "$status" -eq 65 ] || { echo "--to $to: exit $status: $stderr"; return 1; }
		[[ "$stderr" =~ ^spif-export:\ $v:\ chunk\ [1-9][0-9]*:\ authentication\ failed ]]
		[ -z "$(ls -A "$D/out")" ]
	done
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: killed with SIGKILL mid-export: no archive under its name, no ledger row" {
	stored 4000 > /dev/null
	before=$(catalog_state)
	spif-export --to-org A --basis b --reason r --file F000001 -r "$R" --to csv -o "$D/out/k.gpg" \
		> /dev/null 2>&1 3>&- &
	pid=$!
	killed=0
	for _ in $(seq 1200); do
		kill -0 "$pid" 2>/dev/null || break
		# gpg has begun writing the (unnamed) output it shares with spif
		if writing_into "$pid" "$D/out"; then
			kill -KILL "$pid"
			killed=1
			break
		fi
		sleep 0.02
	done
	wait "$pid" 2>/dev/null || true
	[ "$killed" -eq 1 ] || { echo "the run ended before it was seen writing"; return 1; }
	# gpg, left without its input, ends too; its file was never named
	for _ in $(seq 100); do
		pgrep -f "gpg.*--status-fd" > /dev/null || break
		sleep 0.1
	done
	[ -z "$(ls -A "$D/out")" ]
	[ "$(catalog_state)" = "$before" ]
	run spif export ls --json
	[ -z "$output" ]
}

@test "bad: the disk fills up (a small tmpfs): 74, nothing left" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount"
	stored 400 > /dev/null
	mkdir "$D/small"
	mount -t tmpfs -o size=256k tmpfs "$D/small" || skip "tmpfs mounts are not available here"
	MNT=$D/small
	before=$(catalog_state)
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/small/a.gpg"
	left=$(ls -A "$D/small")
	[ "$status" -eq 74 ]
	[[ "$stderr" == *"No space left on device"* ]]
	one_line_stderr
	[ -z "$left" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "bad: the output exists (73); custody items missing or holding a number (64)" {
	stored 5 > /dev/null
	touch "$D/out/there.gpg"
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/out/there.gpg"
	[ "$status" -eq 73 ]
	one_line_stderr
	run --separate-stderr spif export --file F000001 -r "$R" --to-org A --reason r -o "$D/out/a.gpg"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--basis"* ]]
	n=$(valid_number 12345678901)
	run --separate-stderr ex --file F000001 -r "$R" --to-person "担当 $n" -o "$D/out/a.gpg"
	[ "$status" -eq 64 ]
	[[ "$stderr" != *"$n"* ]]
	one_line_stderr
	[ ! -e "$D/out/a.gpg" ]
}

@test "export --zip-aes256: a WinZip AES-256 ZIP, never ZipCrypto; the warning names its weaknesses; verify and bsdtar open it with the password" {
	stored 20 > /dev/null
	printf 'correct horse battery staple\r\n' > "$D/pw"
	run --separate-stderr ex --zip-aes256 --passphrase-file "$D/pw" --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 0 ]
	id=$output
	[[ "$stderr" == *"PPAP"*"abolished"* ]]
	[[ "$stderr" == *"travels separately or not at all"* ]]
	[[ "$stderr" == *"names and sizes of the files are not encrypted"* ]]
	[[ "$stderr" == *"no signature"* ]]
	# every file entry: method 99 with the WinZip AES extra field, AES-256,
	# stored; AE-2 (no CRC) under 20 bytes, AE-1 above (libarchive's choice)
	python3 - "$D/out/a.zip" <<'PY'
import struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
files = [i for i in z.infolist() if not i.filename.endswith('/')]
assert files
for i in files:
    assert i.flag_bits & 1, i.filename
    assert i.compress_type == 99, (i.filename, i.compress_type)
    x, found = i.extra, False
    while len(x) >= 4:
        tag, n = struct.unpack('<HH', x[:4])
        if tag == 0x9901:
            ver, vendor, strength, method = struct.unpack('<H2sBH', x[4:4 + n])
            assert (vendor, strength, method) == (b'AE', 3, 0), i.filename
            assert ver == 2 if i.file_size < 20 else ver in (1, 2), i.filename
            found = True
        x = x[4 + n:]
    assert found, i.filename
PY
	# the ledger and the copy say what it is
	spif export ls --json | grep -q "\"id\":\"$id\".*\"format\":\"zip-aes256\""
	run --separate-stderr spif export verify --passphrase-file "$D/pw" "$D/out/a.zip"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"valid BagIt bag"*"password ZIP"* ]]
	spif export ls --json | grep -q "\"archive_sha256\":\"$(sha "$D/out/a.zip")\""
	# a plain tool opens it with the password, and sha256sum -c passes inside
	if command -v bsdtar > /dev/null; then
		mkdir "$D/x"
		bsdtar -xf "$D/out/a.zip" --passphrase 'correct horse battery staple' -C "$D/x"
		(cd "$D/x/$id" && sha256sum -c --quiet manifest-sha256.txt && sha512sum -c --quiet manifest-sha512.txt)
		cmp "$D/x/$id/data/F000001.ndjson" <(spif vault cat F000001)
		run bsdtar -xf "$D/out/a.zip" --passphrase 'not the password' -C "$D/x"
		[ "$status" -ne 0 ]
	fi
}

@test "bad: --zip-aes256 with no, an empty or a short password file, or with -r (64/65/66, one line, nothing left); verify with a wrong password (65) or none (64)" {
	stored 5 > /dev/null
	before=$(catalog_state)
	: > "$D/empty"
	printf 'short\n' > "$D/short"
	run --separate-stderr ex --zip-aes256 --passphrase-file "$D/nothere" --file F000001 -o "$D/out/a.zip" < /dev/null
	[ "$status" -eq 66 ]
	one_line_stderr
	run --separate-stderr ex --zip-aes256 --passphrase-file "$D/empty" --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 65 ]
	one_line_stderr
	run --separate-stderr ex --zip-aes256 --passphrase-file "$D/short" --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"shorter than 12"* ]]
	one_line_stderr
	printf 'a long enough password\n' > "$D/pw"
	run --separate-stderr ex --zip-aes256 --passphrase-file "$D/pw" -r "$R" --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr ex --zip-aes256 --passphrase-file "$D/pw" --format tar --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 64 ]
	run --separate-stderr ex --passphrase-file "$D/pw" -r "$R" --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 64 ]
	# never from argv: there is no option that takes the password itself
	run --separate-stderr ex --zip-aes256 --password 'a long enough password' --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 64 ]
	[ ! -e "$D/out/a.zip" ]
	[ "$(catalog_state)" = "$before" ]
	# no terminal and no file: refused, not a password from nowhere
	run --separate-stderr setsid -w bash -c 'cd "$1" && shift && "$@" < /dev/null' _ "$PWD" spif export --to-org o \
		--basis b --reason r --zip-aes256 --file F000001 -o "$D/out/a.zip"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no terminal"* ]]
	[ ! -e "$D/out/a.zip" ]
	[ "$(catalog_state)" = "$before" ]
	# verify: the wrong password, or none where no terminal can ask
	ex --zip-aes256 --passphrase-file "$D/pw" --file F000001 -o "$D/out/a.zip" 2>/dev/null
	printf 'the wrong password\n' > "$D/wrong"
	run --separate-stderr spif export verify --passphrase-file "$D/wrong" "$D/out/a.zip"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"wrong password"* ]]
	one_line_stderr
	run --separate-stderr setsid -w spif export verify "$D/out/a.zip"
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "ledger: ls --outstanding and --overdue (exit 1 for cron); return checks the hash, then shred as usual" {
	stored 8 > /dev/null
	a=$(ex --file F000001 -r "$R" --due 2020-01-31 --seal 封緘-7 -o "$D/out/a.gpg" 2>/dev/null)
	b=$(ex --file F000001 -r "$R" --due 2099-12-31 -o "$D/out/b.gpg" 2>/dev/null)
	run --separate-stderr spif export ls --overdue
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "spif-export: 1 checkout is past its due date ($(TZ=Asia/Tokyo date +%F))" ]
	[[ "${lines[1]}" == "$a  out "*"2020-01-31"* ]]
	# return: the archive must be the one that left
	cp "$D/out/b.gpg" "$D/other.gpg"
	run --separate-stderr spif export return "$a" --received-by 佐藤 --seal intact "$D/other.gpg"
	[ "$status" -eq 65 ]
	one_line_stderr
	mv "$D/out/a.gpg" "$D/back.gpg" # it came back on another path
	run --separate-stderr spif export return "$a" --received-by 佐藤 --seal intact "$D/back.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"$a returned, received by 佐藤, seal intact;"*"spif shred $D/back.gpg" ]]
	run spif export ls --overdue
	[ "$status" -eq 0 ]
	run spif export ls --outstanding
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "$b "* ]]
	run --separate-stderr spif export return "$a" --received-by 佐藤 --seal intact
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"is returned already"* ]]
	# the returned copy is shredded as usual
	run spif shred --force --reason 返却 "$D/back.gpg"
	[ "$status" -eq 0 ]
	run spif export ls --json
	[[ "$output" == *"\"id\":\"$a\",\"state\":\"returned\""* ]]
	[[ "$output" == *'"received_by":"佐藤","seal":"intact"'* ]]
}

@test "ledger: destroyed needs the recipient's signature (detached or cleartext); the file is disposed when nothing is left" {
	stored 6 > /dev/null
	id=$(ex --file F000001 -r "$R" -o "$D/out/a.gpg" 2>/dev/null)
	mv "$D/out/a.gpg" "$D/handed-over.gpg" # it left the office
	rm "$D/handed-over.gpg"
	printf '削除証明書\n%s の記録を削除しました。\n' "$id" > "$D/cert.txt"
	# not signed: refused
	run --separate-stderr spif export destroyed "$id" --certificate "$D/cert.txt"
	[ "$status" -eq 65 ]
	one_line_stderr
	# signed by a key that is not a recipient's: refused
	gpg --batch --yes -u "$X" -a -o "$D/cert.txt.asc" --detach-sign "$D/cert.txt" 2>/dev/null
	run --separate-stderr spif export destroyed "$id" --certificate "$D/cert.txt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"signed by $X, which is not a key $id was encrypted to ($R)"* ]]
	# cleartext-signed by the recipient: accepted
	rm "$D/cert.txt.asc"
	gpg --batch --yes -u "$R" -o "$D/cert.asc" --clearsign "$D/cert.txt" 2>/dev/null
	spif shred --force --reason test "$SPIF_HOME"/vault/*.spv > /dev/null 2>&1 # the office's own copy
	[ "$(state_of F000001)" = active ] # the export is out
	run --separate-stderr spif export destroyed "$id" --certificate "$D/cert.asc"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "spif-export: $id destroyed by the recipient: certificate $D/cert.asc signed by $R" ]]
	[ "$(state_of F000001)" = disposed ]
	run spif export ls --json
	[[ "$output" == *'"state":"destroyed-by-recipient"'* ]]
}

@test "ledger: a file is not disposed while an export is out; its certificate lists the export" {
	stored 6 > /dev/null
	id=$(ex --file F000001 -r "$R" -o "$D/out/a.gpg" 2>/dev/null)
	# every copy here destroyed, the archive included: the file stays (the recipient has it)
	run spif shred --force --reason test --file F000001
	[ "$status" -eq 0 ]
	[ "$(state_of F000001)" = active ]
	run spif catalog cert show "$(spif catalog cert ls --json | tail -1 | sed 's/^{"id":"\([^"]*\)".*/\1/')" --format json
	[[ "$output" == *"\"exports\":[{"*"\"export\":\"$id\""*"\"state\":\"out\""* ]]
	printf 'deleted\n' > "$D/c.txt"
	gpg --batch --yes -u "$R" -o "$D/c.txt.sig" --detach-sign "$D/c.txt" 2>/dev/null # binary
	spif export destroyed "$id" --certificate "$D/c.txt" 2>/dev/null
	[ "$(state_of F000001)" = disposed ]
	spif export ls --json | grep -q '"signature_base64":"'
	# a returned plain bag is shredded by its files
	stored 3 > /dev/null
	id=$(ex --file F000002 --format dir --redact -o "$D/out/bag" 2>/dev/null)
	run --separate-stderr spif export return "$id" --received-by 佐藤 --seal intact
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"destroy it with: spif shred $D/out/bag/data/*" ]]
	spif shred --force --reason 返却 "$D"/out/bag/data/* > /dev/null 2>&1
	spif catalog verify > /dev/null
}

@test "ledger: lost places an incident hold on its files; shred is refused until it is released" {
	stored 6 > /dev/null
	id=$(ex --file F000001 -r "$R" -o "$D/out/a.gpg" 2>/dev/null)
	run --separate-stderr spif export lost "$id" --reason '配送中に紛失'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^H[0-9]{6}$ ]]
	[[ "$stderr" == *"$id lost; 1 file held"* ]]
	run spif retain holds --json
	[[ "$output" == *"incident: export $id lost: 配送中に紛失"* ]]
	run --separate-stderr spif shred --force --reason test --file F000001
	[ "$status" -eq 77 ]
	run spif export ls --json
	[[ "$output" == *'"state":"lost"'* ]]
	run --separate-stderr spif export lost "$id" --reason again
	[ "$status" -eq 65 ]
}
