#!/usr/bin/env bats
# spif encrypt: whole streams both ways with plain gpg, signatures good,
# bad and required, passphrases, keys that are missing, expired or revoked,
# the catalog copy and its event (and nothing on failure), and column-level
# encryption of NDJSON, CSV and TSV that restores every byte.
load helper

setup_file() {
	gnupg_setup
	T=$(gpg_key t) && S=$(gpg_key s) || return 1
	O=$(gpg_key o --faked-system-time 20200101T000000!) || return 1 # expired in 2021
	R=$(gpg_key r) || return 1
	sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/$R.rev" |
		gpg --batch --quiet --import 2>/dev/null || return 1
	export T S O R
}

teardown_file() {
	gnupg_teardown
}

setup() {
	setup_home
	printf 'correct horse battery staple\n' > "$D/pass"
}

teardown() {
	teardown_gpg
}

# Records of a catalogued file, kept in the vault: F000001.
stored_records() {
	gen --rows ${1:-200} --columns narrow -o "$D/src.csv"
	spif ingest --purpose 個人住民税 --store --print-id "$D/src.csv" >/dev/null 2>&1
	spif vault cat F000001 > "$D/records.ndjson"
}

# sha256 of a file, as the catalog records it.
sha() { sha256sum "$1" | cut -d' ' -f1; }

@test "encrypt: --help, and spif lists it" {
	run spif encrypt --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: spif encrypt -r RECIPIENT"* ]]
	[[ "$output" == *"--fields NAME"* ]]
	run spif help
	[[ "$output" == *"encrypt "* ]]
}

@test "encrypt: spif encrypts, plain gpg decrypts; binary, uncompressed, 0600" {
	gen --rows 300 -o "$D/a.csv"
	run --separate-stderr spif encrypt -r t@example.invalid -o "$D/a.gpg" "$D/a.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "spif-encrypt: encrypted for $T -> $D/a.gpg" ]]
	[ "$(stat -c %a "$D/a.gpg")" = 600 ]
	! grep -qa '受給者' "$D/a.gpg" || false
	[ "$(head -c 5 "$D/a.gpg")" != "-----" ]
	gpg --batch --quiet -o "$D/back.csv" --decrypt "$D/a.gpg" 2>/dev/null
	cmp "$D/a.csv" "$D/back.csv"
	! gpg --batch --list-packets "$D/a.gpg" 2>/dev/null | grep -q 'compressed packet' || false
	# and a pipe to a pipe
	cat "$D/a.csv" | spif encrypt -r "$S" 2>/dev/null | gpg --batch --quiet --decrypt 2>/dev/null |
		cmp - "$D/a.csv"
}

@test "encrypt -d: what gpg --encrypt made, signed or not; the signer is reported" {
	gen --rows 100 -o "$D/a.csv"
	gpg --batch --yes -o "$D/u.gpg" --encrypt -r t@example.invalid "$D/a.csv" 2>/dev/null
	run --separate-stderr spif encrypt -d -o "$D/u.csv" "$D/u.gpg"
	[ "$status" -eq 0 ]
	cmp "$D/a.csv" "$D/u.csv"
	[[ "$stderr" == *"not signed"* ]]
	gpg --batch --yes -o "$D/s.gpg" --encrypt --sign -u "$S" -r t@example.invalid "$D/a.csv" 2>/dev/null
	run --separate-stderr spif encrypt -d --require-signature "$D/s.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"good signature by $S"* ]]
	printf '%s\n' "$output" | cmp - "$D/a.csv"
}

@test "encrypt --sign --armor: gpg sees the good signature; spif -d names the signer" {
	gen --rows 100 -o "$D/a.csv"
	run --separate-stderr spif encrypt -r "$T" -r s@example.invalid --sign t@example.invalid --armor \
		-o "$D/a.asc" "$D/a.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"for each of $T $S, signed by $T"* ]]
	[ "$(head -1 "$D/a.asc")" = "-----BEGIN PGP MESSAGE-----" ]
	gpg --batch --status-file "$D/st" -o "$D/back.csv" --decrypt "$D/a.asc" 2>/dev/null
	cmp "$D/a.csv" "$D/back.csv"
	grep -q "^\[GNUPG:\] GOODSIG" "$D/st"
	[ "$(grep -c '^\[GNUPG:\] ENC_TO' "$D/st")" -eq 2 ]
	run --separate-stderr spif encrypt -d "$D/a.asc"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"good signature by $T"* ]]
	# signed by a key that is not a recipient: still the one reader
	spif encrypt -r "$T" --sign s@example.invalid -o "$D/b.gpg" "$D/a.csv" 2>/dev/null
	gpg --batch --status-file "$D/st2" -o /dev/null --decrypt "$D/b.gpg" 2>/dev/null
	grep -q "^\[GNUPG:\] GOODSIG" "$D/st2"
	[ "$(grep -c '^\[GNUPG:\] ENC_TO' "$D/st2")" -eq 1 ]
}

@test "encrypt -d: a bad signature is exit 1, and -o leaves nothing" {
	printf 'certificate of disposal: 3 records\n' > "$D/t.txt"
	gpg --batch --yes -z0 -u "$T" -o "$D/signed" --sign "$D/t.txt" 2>/dev/null
	sed -i 's/3 records/4 records/' "$D/signed"
	gpg --batch --yes --no-literal -o "$D/bad.gpg" --encrypt -r "$T" "$D/signed" 2>/dev/null
	run --separate-stderr spif encrypt -d -o "$D/out.txt" "$D/bad.gpg"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "spif-encrypt: bad signature by $T" ]]
	one_line_stderr
	[ ! -e "$D/out.txt" ]
	[ -z "$(ls -A "$D" | grep spif-)" ] # no temporary file left either
}

@test "encrypt -d -o: a run killed half-way leaves no plaintext behind" {
	gen --rows 3000 -o "$D/a.csv"
	spif encrypt -r "$T" -o "$D/a.gpg" "$D/a.csv" 2>/dev/null
	mkfifo "$D/fifo"
	{ head -c 200000 "$D/a.gpg"; sleep 5; } > "$D/fifo" &
	writer=$!
	spif-encrypt -d -o "$D/out.csv" "$D/fifo" 2>/dev/null &
	pid=$!
	# wait until the output file (unnamed until the commit) holds
	# plaintext, then stop the run
	for _ in $(seq 50); do
		writing_into "$pid" "$D" && break
		sleep 0.1
	done
	writing_into "$pid" "$D"
	kill -TERM "$pid"
	wait "$pid" || true
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
	[ -z "$(find "$D" -maxdepth 1 -name '.out.csv.spif-*')" ]
	[ ! -e "$D/out.csv" ]
}

@test "encrypt -d --require-signature: an unsigned message is exit 1" {
	printf 'x\n' | spif encrypt -r "$T" -o "$D/u.gpg" 2>/dev/null
	run --separate-stderr spif encrypt -d --require-signature -o "$D/u.txt" "$D/u.gpg"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "spif-encrypt: the message is not signed (--require-signature)" ]]
	[ ! -e "$D/u.txt" ]
	printf 'x\n' | spif encrypt -r "$T" --sign "$T" -o "$D/s.gpg" 2>/dev/null
	run --separate-stderr spif encrypt -d --require-signature "$D/s.gpg"
	[ "$status" -eq 0 ]
	[ "$output" = x ]
}

@test "encrypt -d: input that is not OpenPGP is exit 65, one line" {
	gen --rows 5 -o "$D/a.csv"
	run --separate-stderr spif encrypt -d "$D/a.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == "spif-encrypt: not an OpenPGP message" ]]
	one_line_stderr
	: > "$D/empty"
	run --separate-stderr spif encrypt -d < "$D/empty"
	[ "$status" -eq 65 ]
	one_line_stderr
	printf '{"a":"1"}\n' > "$D/j.ndjson"
	run --separate-stderr spif encrypt -d "$D/j.ndjson"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"not an OpenPGP message, nor a column-encrypted stream"* ]]
	one_line_stderr
}

@test "encrypt: no public key for a recipient is exit 69; nothing written or registered" {
	stored_records
	before=$(catalog_state)
	run --separate-stderr spif encrypt -r t@example.invalid -r nobody@example.invalid \
		-o "$D/out.gpg" "$D/records.ndjson"
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: no public key for nobody@example.invalid" ]
	[ ! -e "$D/out.gpg" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "encrypt: an expired or a revoked key is refused with the reason (69)" {
	run --separate-stderr spif encrypt -r o@example.invalid -o "$D/o.gpg" /etc/hostname
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: o@example.invalid: key is expired" ]
	run --separate-stderr spif encrypt -r "$R" -o "$D/o.gpg" /etc/hostname
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: $R: key is revoked" ]
	run --separate-stderr spif encrypt -r "$T" --sign o@example.invalid -o "$D/o.gpg" /etc/hostname
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"key is expired"* ]]
	one_line_stderr
	[ ! -e "$D/o.gpg" ]
}

@test "encrypt: an e-mail two usable keys share is refused; nothing reaches standard output" {
	for n in A B; do
		gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
			--quick-gen-key "Twin $n <twin@example.invalid>" ed25519 sign 1y 2>/dev/null
		gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
			--quick-add-key "$(gpg_fpr "Twin $n")" cv25519 encr 1y 2>/dev/null
	done
	run --separate-stderr spif encrypt -r "$T" -r twin@example.invalid /etc/hostname
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: twin@example.invalid: more than one key matches; give the fingerprint" ]
	[ -z "$output" ]
	# the fingerprint names one of them
	A=$(gpg_fpr "Twin A")
	run --separate-stderr spif encrypt -r "$A" --armor /etc/hostname
	[ "$status" -eq 0 ]
	[ "$stderr" = "spif-encrypt: encrypted for $A -> (stdout)" ]
	[[ "$output" == "-----BEGIN PGP MESSAGE-----"* ]]
}

@test "encrypt: a key that cannot encrypt is refused with the reason; nothing written" {
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
		--quick-gen-key "nocrypt <nocrypt@example.invalid>" ed25519 sign 1y 2>/dev/null
	run --separate-stderr spif encrypt -r nocrypt@example.invalid --armor /etc/hostname
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: nocrypt@example.invalid: key cannot encrypt (no encryption subkey)" ]
	[ -z "$output" ]
	run --separate-stderr spif encrypt -r nocrypt@example.invalid -o "$D/n.gpg" /etc/hostname
	[ "$status" -eq 69 ]
	[ ! -e "$D/n.gpg" ]
}

@test "encrypt: gpg.conf adds no reader; a key named twice is one" {
	printf 'recipient %s\nhidden-recipient %s\nencrypt-to %s\ndefault-recipient %s\nbatch\n' \
		"$S" "$S" "$S" "$S" > "$GNUPGHOME/gpg.conf"
	run --separate-stderr spif encrypt -r "$T" -r t@example.invalid -o "$D/c.gpg" /etc/hostname
	rm -f "$GNUPGHOME/gpg.conf"
	[ "$status" -eq 0 ]
	[ "$stderr" = "spif-encrypt: encrypted for each of $T $T -> $D/c.gpg" ]
	# one reader: T's encryption subkey
	sub=$(gpg --batch --with-colons --list-keys "$T" | awk -F: '/^sub/ { print $5; exit }')
	gpg --batch --list-packets "$D/c.gpg" 2>/dev/null | grep '^:pubkey enc packet' > "$D/readers"
	[ "$(wc -l < "$D/readers")" -eq 1 ]
	grep -q "keyid $sub" "$D/readers"
	gpg --batch --quiet -o - --decrypt "$D/c.gpg" 2>/dev/null | cmp - /etc/hostname
}

@test "encrypt: a gpg that encrypts to a key not asked for is an error; -o leaves nothing" {
	# a gpg in PATH that adds a reader of its own, and so asks for none
	mkdir "$D/wrap"
	printf '#!/bin/sh\ncase " $* " in *" --encrypt "*) exec %s -r %s "$@";; esac\nexec %s "$@"\n' \
		"$(command -v gpg)" "$S" "$(command -v gpg)" > "$D/wrap/gpg"
	chmod +x "$D/wrap/gpg"
	run --separate-stderr env PATH="$D/wrap:$PATH" spif encrypt -r "$T" -o "$D/w.gpg" /etc/hostname
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: cannot encrypt: gpg would also encrypt to $S, which was not asked for" ]
	[ ! -e "$D/w.gpg" ]
}

@test "encrypt: never a network lookup, whatever gpg.conf asks for" {
	X=$(gpg_key x)
	printf 'signed\n' > "$D/t.txt"
	gpg --batch --yes -u "$X" -r "$T" -o "$D/x.gpg" --encrypt --sign "$D/t.txt" 2>/dev/null
	gpg --batch --yes --delete-secret-and-public-key "$X" 2>/dev/null
	printf 'auto-key-locate wkd,keyserver\nauto-key-retrieve\nkeyserver hkps://127.0.0.1:9\n' \
		> "$GNUPGHOME/gpg.conf"
	s=$(date +%s)
	run --separate-stderr spif encrypt -r nobody@example.org /etc/hostname
	r1=$status e1=$stderr
	# a signer nobody has: reported, not fetched
	run --separate-stderr spif encrypt -d "$D/x.gpg"
	rm -f "$GNUPGHOME/gpg.conf"
	[ "$r1" -eq 69 ]
	[ "$e1" = "spif-encrypt: no public key for nobody@example.org" ]
	[ "$status" -eq 1 ]
	[ "$stderr" = "spif-encrypt: signature by unknown key $X" ] || [[ "$stderr" == "spif-encrypt: signature by unknown key "* ]]
	[ $(($(date +%s) - s)) -lt 20 ]
	! pgrep -f "dirmngr.*$GNUPGHOME" >/dev/null || false
}

@test "encrypt --passphrase-file: symmetric, with a warning; the event says so" {
	stored_records
	run --separate-stderr spif encrypt --passphrase-file "$D/pass" -o "$D/p.gpg" "$D/records.ndjson"
	[ "$status" -eq 0 ]
	[[ "${stderr%%$'\n'*}" == "spif-encrypt: warning: passphrase mode is the weaker one"* ]]
	gpg --batch --pinentry-mode loopback --no-symkey-cache --passphrase-file "$D/pass" \
		-o "$D/back" --decrypt "$D/p.gpg" 2>/dev/null
	cmp "$D/records.ndjson" "$D/back"
	spif encrypt -d --passphrase-file "$D/pass" "$D/p.gpg" 2>/dev/null | cmp - "$D/records.ndjson"
	printf 'wrong\n' > "$D/wrong"
	run --separate-stderr spif encrypt -d --passphrase-file "$D/wrong" "$D/p.gpg"
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: wrong passphrase" ]
	run spif catalog log --json
	[[ "${lines[-1]}" == *'"action":"encrypt"'*'"mode":"passphrase"'* ]]
	# the passphrase is in no event, no argv
	! sqlite3 "$SPIF_HOME/catalog.db" .dump | grep -q 'battery' || false
}

@test "encrypt -o: records of a catalogued file become an encrypted copy, with an event" {
	stored_records
	run --separate-stderr spif encrypt -r "$T" -o "$D/out.gpg" "$D/records.ndjson"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *", registered as a copy of F000001" ]]
	row=$(sqlite3 -separator '|' "$SPIF_HOME/catalog.db" \
		"SELECT kind, encrypted, sha256, size, path, state FROM copies WHERE kind = 'encrypted'")
	[ "$row" = "encrypted|1|$(sha "$D/out.gpg")|$(stat -c %s "$D/out.gpg")|$(realpath "$D/out.gpg")|present" ]
	details=$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT details FROM copies WHERE kind = 'encrypted'")
	[[ "$details" == *"\"mode\":\"public-key\""*"\"recipients\":[\"$T\"]"* ]]
	run spif catalog log --json
	[[ "${lines[-1]}" == *'"action":"encrypt","object":"F000001"'* ]]
	[[ "${lines[-1]}" == *"\"sha256\":\"$(sha "$D/out.gpg")\""* ]]
	run spif catalog verify
	[ "$status" -eq 0 ]
	# from the vault through a pipe, the same
	spif vault cat F000001 | spif encrypt -r "$T" -o "$D/pipe.gpg" 2>/dev/null
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" "SELECT count(*) FROM copies WHERE kind = 'encrypted'")" -eq 2 ]
	# decrypting to a file registers that plaintext copy too
	spif encrypt -d -o "$D/plain.ndjson" "$D/out.gpg" 2>/dev/null
	cmp "$D/plain.ndjson" "$D/records.ndjson"
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" \
		"SELECT kind || ' ' || encrypted FROM copies WHERE path = '$(realpath "$D/plain.ndjson")'")" = "output 0" ]
}

@test "encrypt -o: an existing file is refused (73) and left as it was" {
	stored_records
	echo keep > "$D/out.gpg"
	before=$(catalog_state)
	run --separate-stderr spif encrypt -r "$T" -o "$D/out.gpg" "$D/records.ndjson"
	[ "$status" -eq 73 ]
	[[ "$stderr" == *"out.gpg: already exists; spif does not overwrite"* ]]
	one_line_stderr
	[ "$(cat "$D/out.gpg")" = keep ]
	[ "$(catalog_state)" = "$before" ]
}

@test "encrypt: a signing key that fails leaves no output and the catalog unchanged" {
	stored_records
	before=$(catalog_state)
	run --separate-stderr spif encrypt -r "$T" --sign nobody@example.invalid -o "$D/out.gpg" \
		"$D/records.ndjson"
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: no secret key for nobody@example.invalid" ]
	[ ! -e "$D/out.gpg" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "encrypt --fields: NDJSON stays records; -d gives back every byte" {
	stored_records 500
	run --separate-stderr spif encrypt --fields 受給者の個人番号,扶養親族1_個人番号 -r "$T" \
		-o "$D/f.ndjson" "$D/records.ndjson"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"500 records, 1000 values sealed in 2 fields"*"registered as a copy of F000001" ]]
	# the key line first, then the records: readable but for the sealed
	# fields; the trailer last
	head -1 "$D/f.ndjson" | grep -q '^{"@spif-encrypted":{"v":2,"scheme":"aes-256-gcm","format":"ndjson"'
	[ "$(wc -l < "$D/f.ndjson")" -eq 502 ]
	tail -1 "$D/f.ndjson" | grep -q '^{"@spif-trailer":"ENC\[aes-256-gcm,v1,'

	sed -n 2p "$D/f.ndjson" | grep -q '^{"@file":"F000001","@row":2,"受給者番号":"0000001","氏名":'
	sed -n 2p "$D/f.ndjson" | grep -q '"受給者の個人番号":"ENC\[aes-256-gcm,v1,'
	valid_numbers_in "$D/f.ndjson" "$D/left"
	[ ! -s "$D/left" ]
	[ "$(sqlite3 "$SPIF_HOME/catalog.db" \
		"SELECT kind || ' ' || encrypted FROM copies WHERE path = '$(realpath "$D/f.ndjson")'")" = "encrypted 0" ]
	run --separate-stderr spif encrypt -d "$D/f.ndjson"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | cmp - "$D/records.ndjson"
}

@test "encrypt --fields: CP932 CSV with 髙 﨑 ㈱ comes back byte for byte" {
	gen --rows 600 --encoding cp932 --gaiji -o "$D/a.csv"
	cols=$(head -1 "$D/a.csv" | iconv -f CP932 -t UTF-8 | tr -d '\r' | tr ',' '\n' | grep 個人番号 | paste -sd,)
	run --separate-stderr spif encrypt --fields "$cols" -r "$T" -o "$D/e.csv" "$D/a.csv"
	[ "$status" -eq 0 ]
	head -1 "$D/e.csv" | grep -q '"format":"csv","encoding":"cp932"'
	# the header and the clear fields are still CP932, 髙 (FB FC) included
	tail -n +2 "$D/e.csv" | iconv -f CP932 -t UTF-8 > "$D/e8.csv"
	[ "$(head -1 "$D/e8.csv")" = "$(head -1 "$D/a.csv" | iconv -f CP932 -t UTF-8)" ]
	grep -q '髙' "$D/e8.csv" && grep -q '﨑' "$D/e8.csv" && grep -q '㈱' "$D/e8.csv"
	valid_numbers_in "$D/e.csv" "$D/left"
	[ ! -s "$D/left" ]
	run --separate-stderr spif encrypt -d -o "$D/back.csv" "$D/e.csv"
	[ "$status" -eq 0 ]
	cmp "$D/a.csv" "$D/back.csv"
}

@test "encrypt --fields: TSV, and CSV quoting as the source had it" {
	gen --rows 100 --format tsv -o "$D/a.tsv"
	spif encrypt --fields 受給者の個人番号 -r "$T" "$D/a.tsv" 2>/dev/null > "$D/e.tsv"
	spif encrypt -d "$D/e.tsv" 2>/dev/null | cmp - "$D/a.tsv"
	printf 'id,個人番号,memo\r\n1,"621498320257",a\r\n2,558641329823,"b,c"\r\n3,"",\r\n' > "$D/q.csv"
	spif encrypt --fields 個人番号,memo -r "$T" "$D/q.csv" 2>/dev/null > "$D/e.csv"
	spif encrypt -d "$D/e.csv" 2>/dev/null | cmp - "$D/q.csv"
	# NDJSON in, CSV out
	printf '{"@file":"F000009","@row":2,"a":"x","n":"621498320257"}\n' > "$D/r.ndjson"
	spif encrypt --fields n --to csv -r "$T" "$D/r.ndjson" 2>/dev/null > "$D/r.csv"
	spif encrypt -d "$D/r.csv" 2>/dev/null | cmp - <(printf 'a,n\r\nx,621498320257\r\n')
}

# put VALUE in place of OLD on line N of a file (literally: no regex)
swap() {
	awk -v n="$1" -v old="$2" -v new="$3" 'NR == n { i = index($0, old)
		if (i) $0 = substr($0, 1, i - 1) new substr($0, i + length(old)) } { print }' "$4"
}

@test "encrypt --fields: an ENC value pasted into another row or field does not open" {
	printf 'id,個人番号,扶養\n1,621498320257,558641329823\n2,111111111118,\n' > "$D/a.csv"
	spif encrypt --fields 個人番号,扶養 -r "$T" "$D/a.csv" 2>/dev/null > "$D/e.csv"
	v=$(sed -n 3p "$D/e.csv" | cut -d'"' -f2) # row 1's 個人番号 ...
	u=$(sed -n 4p "$D/e.csv" | cut -d'"' -f2)
	swap 4 "$u" "$v" "$D/e.csv" > "$D/moved.csv"
	! cmp -s "$D/e.csv" "$D/moved.csv" || false
	run --separate-stderr spif encrypt -d -o "$D/out.csv" "$D/moved.csv"
	[ "$status" -eq 65 ]
	[ "$stderr" = 'spif-encrypt: '"$D"'/moved.csv:4: field "個人番号": does not open here (moved from another row or field, or altered)' ]
	one_line_stderr
	[ ! -e "$D/out.csv" ]
	# ... or into the other field of its own row
	w=$(sed -n 3p "$D/e.csv" | cut -d'"' -f4)
	swap 3 "$w" "$v" "$D/e.csv" > "$D/swapped.csv"
	run --separate-stderr spif encrypt -d "$D/swapped.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *'swapped.csv:3: field "扶養": does not open here'* ]]
	one_line_stderr
	# in NDJSON, the same between records of a file
	printf '{"@file":"F000009","@row":2,"n":"621498320257"}\n{"@file":"F000009","@row":3,"n":"111111111118"}\n' \
		> "$D/r.ndjson"
	spif encrypt --fields n -r "$T" "$D/r.ndjson" 2>/dev/null > "$D/e.ndjson"
	v=$(sed -n 2p "$D/e.ndjson" | grep -o 'ENC\[[^]]*\]')
	u=$(sed -n 3p "$D/e.ndjson" | grep -o 'ENC\[[^]]*\]')
	swap 3 "$u" "$v" "$D/e.ndjson" > "$D/m.ndjson"
	run --separate-stderr spif encrypt -d "$D/m.ndjson"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *'m.ndjson:3: field "n": does not open here'* ]]
	# and a record that claims another @row
	sed '2s/"@row":2/"@row":5/' "$D/e.ndjson" > "$D/r5.ndjson"
	run --separate-stderr spif encrypt -d "$D/r5.ndjson"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *'r5.ndjson:2: field "n": does not open here'* ]]
}

# Three records of F000009 with "n" sealed, in $D/e.ndjson: the key line,
# the records on lines 2 to 4, the trailer on line 5.
sealed_three() {
	printf '%s\n' '{"@file":"F000009","@row":2,"氏名":"甲","n":"621498320257"}' \
		'{"@file":"F000009","@row":3,"氏名":"乙","n":"111111111118"}' \
		'{"@file":"F000009","@row":4,"氏名":"丙","n":"558641329823"}' > "$D/r.ndjson"
	spif encrypt --fields n "${@:--r$T}" "$D/r.ndjson" 2>/dev/null > "$D/e.ndjson"
}

# tampered FILE LINE [OPTIONS...]: decrypting FILE fails with exit 65 and
# one line naming FILE:LINE, and leaves nothing at -o
tampered() {
	local f=$1 line=$2
	shift 2
	run --separate-stderr spif encrypt -d "$@" -o "$D/out" "$f"
	[ "$status" -eq 65 ]
	one_line_stderr
	[[ "$stderr" == "spif-encrypt: $f:$line: "* ]]
	[ ! -e "$D/out" ]
}

@test "encrypt --fields: NDJSON ends with a sealed trailer that -d checks" {
	sealed_three
	[ "$(wc -l < "$D/e.ndjson")" -eq 5 ]
	head -1 "$D/e.ndjson" | grep -qE '"stream":"[A-Za-z0-9+/]{22}=="'
	tail -1 "$D/e.ndjson" | grep -qE '^\{"@spif-trailer":"ENC\[aes-256-gcm,v1,[^]]*\]"\}$'
	run --separate-stderr spif encrypt -d "$D/e.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$D/r.ndjson")" ]
}

@test "encrypt --fields: two records' sealed values swapped with their @row is exit 65" {
	sealed_three
	# 甲 gets 乙's number and row, 乙 甲's: each value opens where it is now
	v=$(sed -n 2p "$D/e.ndjson" | grep -o 'ENC\[[^]]*\]')
	u=$(sed -n 3p "$D/e.ndjson" | grep -o 'ENC\[[^]]*\]')
	swap 2 "$v" "$u" "$D/e.ndjson" > "$D/s1"
	swap 3 "$u" "$v" "$D/s1" | sed '2s/"@row":2,/"@row":3,/; 3s/"@row":3,/"@row":2,/' > "$D/x.ndjson"
	sed -n 2p "$D/x.ndjson" | grep -q '"@row":3,"氏名":"甲"'
	tampered "$D/x.ndjson" 5
	[[ "$stderr" == *"the records' rows are not the ones sealed, in the order sealed"* ]]
}

@test "encrypt --fields: a record deleted is exit 65" {
	sealed_three
	sed 3d "$D/e.ndjson" > "$D/x.ndjson"
	tampered "$D/x.ndjson" 4
	[[ "$stderr" == *"2 records, where the trailer counts 3"* ]]
}

@test "encrypt --fields: the last record and the trailer cut off is exit 65" {
	sealed_three
	head -n 3 "$D/e.ndjson" > "$D/x.ndjson"
	tampered "$D/x.ndjson" 4
	[[ "$stderr" == *"no trailer"* ]]
}

@test "encrypt --fields: two records reordered is exit 65" {
	sealed_three
	awk 'NR == 2 { held = $0; next } { print } NR == 3 { print held }' "$D/e.ndjson" > "$D/x.ndjson"
	sed -n 3p "$D/x.ndjson" | grep -q '"@row":2,'
	tampered "$D/x.ndjson" 5
}

@test "encrypt --fields: a record added, before or after the trailer, is exit 65" {
	sealed_three
	sed 3p "$D/e.ndjson" > "$D/x.ndjson"
	tampered "$D/x.ndjson" 6
	[[ "$stderr" == *"4 records, where the trailer counts 3"* ]]
	{ cat "$D/e.ndjson"; sed -n 3p "$D/e.ndjson"; } > "$D/y.ndjson"
	tampered "$D/y.ndjson" 6
	[[ "$stderr" == *"after the trailer"* ]]
}

@test "encrypt --fields: a sealed value from another stream under the same passphrase is exit 65" {
	sealed_three --passphrase-file "$D/pass"
	mv "$D/e.ndjson" "$D/a.ndjson"
	sealed_three --passphrase-file "$D/pass"
	v=$(sed -n 2p "$D/a.ndjson" | grep -o 'ENC\[[^]]*\]')
	u=$(sed -n 2p "$D/e.ndjson" | grep -o 'ENC\[[^]]*\]')
	swap 2 "$v" "$u" "$D/a.ndjson" > "$D/x.ndjson"
	tampered "$D/x.ndjson" 2 --passphrase-file "$D/pass"
	[[ "$stderr" == *'field "n": does not open here'* ]]
	# nor does the other stream's trailer
	{ head -n 4 "$D/a.ndjson"; tail -1 "$D/e.ndjson"; } > "$D/t.ndjson"
	tampered "$D/t.ndjson" 5 --passphrase-file "$D/pass"
	[[ "$stderr" == *"the trailer does not open"* ]]
}

@test "encrypt --fields: CSV ends with the trailer too; its last row deleted is exit 65" {
	printf 'id,個人番号\r\n1,621498320257\r\n2,"111111111118"\r\n' > "$D/a.csv"
	spif encrypt --fields 個人番号 -r "$T" "$D/a.csv" 2>/dev/null > "$D/e.csv"
	[ "$(wc -l < "$D/e.csv")" -eq 5 ]
	tail -1 "$D/e.csv" | grep -q '^{"@spif-trailer":"ENC\[aes-256-gcm,v1,'
	spif encrypt -d "$D/e.csv" 2>/dev/null | cmp - "$D/a.csv"
	sed 4d "$D/e.csv" > "$D/x.csv"
	tampered "$D/x.csv" 4
	head -n 4 "$D/e.csv" > "$D/t.csv"
	tampered "$D/t.csv" 5
	# a CSV without a line end after its last row comes back as it was
	printf 'id,個人番号\n1,621498320257\n2,111111111118' > "$D/b.csv"
	spif encrypt --fields 個人番号 -r "$T" "$D/b.csv" 2>/dev/null > "$D/f.csv"
	spif encrypt -d "$D/f.csv" 2>/dev/null | cmp - "$D/b.csv"
}

@test "encrypt --fields: an input record whose first field is @spif-trailer is refused" {
	printf '{"@spif-trailer":"x","n":"621498320257"}\n' > "$D/r.ndjson"
	run --separate-stderr spif encrypt --fields n -r "$T" -o "$D/e.ndjson" "$D/r.ndjson"
	[ "$status" -eq 65 ]
	one_line_stderr
	[ ! -e "$D/e.ndjson" ]
}

@test "encrypt -d: a version 1 stream still decrypts, with a warning" {
	# made by spif encrypt --fields n --passphrase-file before version 2
	cat > "$D/v1.ndjson" <<'END'
{"@spif-encrypted":{"v":1,"scheme":"aes-256-gcm","format":"ndjson","fields":["n"],"file":"F000009","mode":"passphrase","recipients":[],"key":"-----BEGIN PGP MESSAGE-----\n\njA0ECQMCtPU91IiXRpf/0lEBviQTXfMr7dMmOAPQeOMPP+USxl682q4cGUcnRth4\n1WfNyUkyga6mx9RAOyY5bpwL7C0acMw/Nt48+pfTDb2RlD9Q5EIHgmyEpULHWXQ6\nefE=\n=U7IN\n-----END PGP MESSAGE-----\n"}}
{"@file":"F000009","@row":2,"a":"x","n":"ENC[aes-256-gcm,v1,aUVqF957DhMAAAAA,roqe/en4diuPCZtN,UJfBbR0nJEr7KJmI4Tg8ng==]"}
{"@file":"F000009","@row":3,"a":"y","n":"ENC[aes-256-gcm,v1,8CCEhmEbOsQAAAAA,XSk9vfYTNSaX1Mms,HzVAu9T+fBvgZcRpJBX1Zw==]"}
END
	run --separate-stderr spif encrypt -d --passphrase-file "$D/pass" "$D/v1.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' '{"@file":"F000009","@row":2,"a":"x","n":"621498320257"}' \
		'{"@file":"F000009","@row":3,"a":"y","n":"111111111118"}')" ]
	[ "$(printf '%s\n' "$stderr" | grep -c 'warning: .*v1.ndjson: a version 1 stream')" -eq 1 ]
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 2 ]
}

@test "encrypt --fields: a field the input does not have is a usage error" {
	gen --rows 5 -o "$D/a.csv"
	run --separate-stderr spif encrypt --fields 受給者の個人番号,マイナンバー -r "$T" -o "$D/e.csv" "$D/a.csv"
	[ "$status" -eq 64 ]
	[ "$stderr" = "spif-encrypt: --fields マイナンバー: no such field in $D/a.csv (see 'spif-encrypt --help')" ]
	[ ! -e "$D/e.csv" ]
	run --separate-stderr spif encrypt --fields @row -r "$T" "$D/a.csv"
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "encrypt --fields: with a passphrase, and with a signed key line" {
	gen --rows 50 --columns narrow --format ndjson -o "$D/a.ndjson"
	run --separate-stderr spif encrypt --fields 受給者の個人番号 --passphrase-file "$D/pass" "$D/a.ndjson"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: passphrase mode is the weaker one"* ]]
	printf '%s\n' "$output" > "$D/p.ndjson"
	grep -q '"mode":"passphrase"' "$D/p.ndjson"
	spif encrypt -d --passphrase-file "$D/pass" "$D/p.ndjson" 2>/dev/null | cmp - "$D/a.ndjson"
	run --separate-stderr spif encrypt -d "$D/p.ndjson"
	[ "$status" -eq 69 ]
	one_line_stderr
	spif encrypt --fields 受給者の個人番号 -r "$T" --sign "$S" "$D/a.ndjson" 2>/dev/null > "$D/s.ndjson"
	run --separate-stderr spif encrypt -d --require-signature "$D/s.ndjson"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"good signature by $S"* ]]
	spif encrypt --fields 受給者の個人番号 -r "$T" "$D/a.ndjson" 2>/dev/null > "$D/u.ndjson"
	run --separate-stderr spif encrypt -d --require-signature "$D/u.ndjson"
	[ "$status" -eq 1 ]
	[ "$stderr" = "spif-encrypt: the message is not signed (--require-signature)" ]
	[ -z "$output" ]
}

@test "encrypt --fields: bad input is refused with one line" {
	gen --rows 5 --columns narrow --format ndjson -o "$D/a.ndjson"
	spif encrypt --fields 受給者の個人番号 -r "$T" "$D/a.ndjson" 2>/dev/null > "$D/e.ndjson"
	# encrypting it again
	run --separate-stderr spif encrypt --fields 氏名 -r "$T" "$D/e.ndjson"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"already column-encrypted"* ]]
	# a key line for somebody else
	Y=$(gpg_key y)
	gpg --batch --yes --delete-secret-keys "$Y" 2>/dev/null
	spif encrypt --fields 受給者の個人番号 -r "$Y" "$D/a.ndjson" 2>/dev/null > "$D/s.ndjson"
	run --separate-stderr spif encrypt -d "$D/s.ndjson"
	[ "$status" -eq 69 ]
	[[ "$stderr" == "spif-encrypt: no secret key to decrypt it"* ]]
	one_line_stderr
	[ -z "$output" ]
	# a damaged key line
	sed -i '1s/"v":2/"v":7/' "$D/e.ndjson"
	run --separate-stderr spif encrypt -d "$D/e.ndjson"
	[ "$status" -eq 65 ]
	one_line_stderr
	# usage
	run --separate-stderr spif encrypt "$D/a.ndjson"
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif encrypt -d -r "$T" "$D/a.ndjson"
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "bad: a full disk is exit 74 (I/O), not 69, both ways, and leaves nothing (small loop-mounted ext4)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a loop filesystem"
	truncate -s 4M "$D/small.img"
	mkfs.ext4 -q -F "$D/small.img"
	mkdir "$D/mnt"
	mount -o loop "$D/small.img" "$D/mnt" || skip "loop mounts are not available here"
	gen --rows 20000 -o "$D/big.csv"
	spif ingest --purpose x -o "$D/big.ndjson" "$D/big.csv" 2>/dev/null
	printf 'pw\n' > "$D/pf"
	spif encrypt --passphrase-file "$D/pf" -o "$D/big.gpg" "$D/big.ndjson" 2>/dev/null
	before=$(catalog_state)
	run --separate-stderr spif encrypt --passphrase-file "$D/pf" -o "$D/mnt/out.gpg" "$D/big.ndjson"
	s1=$status e1=$stderr
	run --separate-stderr env LANG=C.UTF-8 spif encrypt -r "$T" -o "$D/mnt/out2.gpg" "$D/big.ndjson"
	s2=$status e2=$stderr
	run --separate-stderr spif encrypt -d --passphrase-file "$D/pf" -o "$D/mnt/out.ndjson" "$D/big.gpg"
	s3=$status e3=$stderr
	ls -A "$D/mnt" > "$D/left"
	umount "$D/mnt"
	[ "$s1" -eq 74 ] || { echo "$e1"; false; }
	[[ "$e1" == "spif-encrypt: cannot encrypt: cannot write the output: No space left on device" ]]
	[ "$s2" -eq 74 ] || { echo "$e2"; false; }
	[[ "$e2" == *"No space left on device" ]]
	[ "$s3" -eq 74 ] || { echo "$e3"; false; }
	[[ "$e3" == *"No space left on device" ]]
	[ "$(cat "$D/left")" = lost+found ]
	[ "$(catalog_state)" = "$before" ]
}
