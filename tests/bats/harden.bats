#!/usr/bin/env bats
# harden.bats - what a run leaves behind when it is killed, what a crash
# could dump, and what GnuPG needs of an account.

load helper

setup_file() {
	# one large source for the killed runs: about 170 MB of CSV, over a
	# gigabyte of records, so that a run is still writing when killed
	spif-gen --rows 300000 -o "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null
}

setup() {
	setup_home
	mkdir "$D/out"
}

teardown() {
	# the agent gpg started in the fresh account's own ~/.gnupg
	[ -d "$D/fresh/.gnupg" ] && GNUPGHOME="$D/fresh/.gnupg" gpgconf --kill all 2>/dev/null
	[ -n "${U:-}" ] && rm -rf "$U"
	teardown_gpg
}

@test "ingest -o killed mid-write (SIGKILL) leaves no file beside the target" {
	spif ingest --purpose 個人住民税 -o "$D/out/out.ndjson" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$D/out"
	[ -z "$(ls -A "$D/out")" ]
}

@test "redact -o killed mid-write (SIGKILL) leaves no file beside the target" {
	spif redact -o "$D/out/red.csv" "$BATS_FILE_TMPDIR/big.csv" 2>/dev/null 3>&- &
	kill_mid_write $! "$D/out"
	[ -z "$(ls -A "$D/out")" ]
}

@test "ingest --store killed while writing the vault copy leaves nothing in the vault" {
	spif ingest --purpose 個人住民税 --store --print-id "$BATS_FILE_TMPDIR/big.csv" >/dev/null 2>&1 3>&- &
	kill_mid_write $! "$SPIF_HOME/vault"
	[ -z "$(ls -A "$SPIF_HOME/vault")" ]
}

@test "a command cannot dump core, and memory it cannot lock is no warning" {
	# The run is unprivileged (root may read anything of anyone), starts
	# with core dumps allowed up to the hard limit, and has no right to
	# lock memory (RLIMIT_MEMLOCK 0): libgcrypt's secure memory and the
	# key pages stay unlocked, which must not be said on stderr.  (The
	# sanitised build's mlock does nothing; the plain build shows that.)
	U=$(mktemp -d /tmp/spif-core.XXXXXX)
	chmod 755 "$U"
	[ "$(id -u)" -ne 0 ] || chown nobody "$U"
	gen --rows 20 --columns narrow -o "$U/a.csv"
	mkfifo "$U/in"
	hard=$(ulimit -Hc)
	as=() # as nobody when the tests run as root (a simple command: $! is the run)
	[ "$(id -u)" -ne 0 ] || as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	SPIF_HOME="$U/home" SPIF_CONF="$U/spif.conf" TMPDIR="$U" "${as[@]}" prlimit --memlock=0:0 --core="$hard:$hard" \
		spif-ingest --purpose 個人住民税 - < "$U/in" > "$U/out" 2> "$U/err" 3>&- &
	pid=$!
	exec {w}> "$U/in" # lets the run start; it then waits for its input
	for _ in $(seq 100); do
		[ "$(cat /proc/$pid/comm 2>/dev/null)" = spif-ingest ] && [ "$(stat -c %u /proc/$pid/status)" = 0 ] && break
		sleep 0.1
	done
	uid=$(awk '/^Uid:/ {print $2}' /proc/$pid/status)
	core=$(awk '/^Max core file size/ {print $5, $6}' /proc/$pid/limits)
	# A process that is not dumpable has its /proc/PID files owned by
	# root instead of by its own uid (the kernel's rule for
	# PR_SET_DUMPABLE 0, which also stops core dumps and ptrace by the
	# same user).  The run is not root, so root ownership shows it.
	owner=$(stat -c %u /proc/$pid/status)
	cat "$U/a.csv" >&"$w"
	exec {w}>&-
	wait "$pid" || { cat "$U/err"; false; }
	[ "$uid" -ne 0 ]
	[ "$owner" = 0 ]
	[ "$core" = "0 0" ]
	[ "$(wc -l < "$U/out")" -eq 20 ]
	# the summary (and the warning that it has no retention schedule), and
	# no word about insecure memory
	[ "$(grep -v 'has no retention schedule' "$U/err" | grep -c .)" -eq 1 ] || { cat "$U/err"; false; }
	grep -q '^spif-ingest: F000001 ((stdin)): 20 records' "$U/err"
}

@test "encrypt --passphrase-file works in an account that never ran gpg" {
	mkdir "$D/fresh"
	gen --rows 20 --columns narrow -o "$D/a.csv"
	printf 'correct horse battery staple\n' > "$D/pass"
	run --separate-stderr env -u GNUPGHOME HOME="$D/fresh" \
		spif encrypt --passphrase-file "$D/pass" -o "$D/a.gpg" "$D/a.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$stderr" != *"cannot encrypt"* ]]
	gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$D/pass" \
		-o "$D/back.csv" -d "$D/a.gpg" 2>/dev/null
	cmp "$D/a.csv" "$D/back.csv"
}

@test "encrypt: when gpg fails, its first complaint is the reason given, not its last" {
	# a GNUPGHOME that does not exist: gpg does not make it, and complains
	# of it first, then of what follows (the agent, the random seed)
	gen --rows 5 --columns narrow -o "$D/a.csv"
	printf 'correct horse battery staple\n' > "$D/pass"
	first=$(GNUPGHOME="$D/missing" gpg --options /dev/null --batch --no-tty --symmetric \
		--passphrase-file "$D/pass" -o /dev/null "$D/a.csv" 2>&1 >/dev/null | grep -v ' created$' | head -1)
	[ -n "$first" ]
	run --separate-stderr env GNUPGHOME="$D/missing" \
		spif encrypt --passphrase-file "$D/pass" -o "$D/a.gpg" "$D/a.csv"
	[ "$status" -eq 69 ]
	[ "$stderr" = "spif-encrypt: cannot encrypt: ${first#gpg: }" ] || { echo "$stderr / $first"; false; }
	[ ! -e "$D/a.gpg" ]
}
