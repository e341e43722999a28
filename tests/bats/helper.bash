# helper.bash - shared setup for the bats suites.
#
# Each test gets its own home (catalog) and no system spif.conf; commands
# come from $SPIF_BIN (the sanitised build when run by make check).

setup_home() {
	bats_require_minimum_version 1.5.0
	: "${SPIF_BIN:=$BATS_TEST_DIRNAME/../../bin}"
	export PATH="$SPIF_BIN:$PATH"
	export SPIF_HOME="$BATS_TEST_TMPDIR/home"
	export SPIF_CONF="$BATS_TEST_TMPDIR/spif.conf" # absent unless a test writes it
	export TMPDIR="$BATS_TEST_TMPDIR"
	D="$BATS_TEST_TMPDIR"
	# the suites read English messages, whatever the machine's locale
	# (ja.bats asks for Japanese itself); the rest of the locale stays
	[ -z "${LC_ALL:-}" ] || { export LANG="$LC_ALL"; unset LC_ALL; }
	export LC_MESSAGES=C
	unset LANGUAGE
	# a GnuPG home of the test's own, never the account's ~/.gnupg (nor
	# a GNUPGHOME from outside), unless the suite made one (gnupg_setup)
	if [ -z "${SPIF_SUITE_GNUPGHOME:-}" ]; then
		export GNUPGHOME="$D/gnupg-test"
		mkdir -m 700 "$GNUPGHOME"
	fi
}

# writing_into PID DIR: PID has a regular file in DIR open and has written
# into it, named or not (an O_TMPFILE file shows as "DIR/#INODE (deleted)").
writing_into() {
	local fd t
	for fd in /proc/"$1"/fd/*; do
		t=$(readlink "$fd" 2>/dev/null) || continue
		[[ $t == "$2"/* ]] && [ -f "$fd" ] && [ -s "$fd" ] && return 0
	done
	return 1
}

# kill_mid_write PID DIR: SIGKILL PID once it has written data into a file
# in DIR (writing_into).  Fails when the run ended first.
kill_mid_write() {
	for _ in $(seq 1200); do
		kill -0 "$1" 2>/dev/null || break
		if writing_into "$1" "$2"; then
			kill -KILL "$1"
			wait "$1" 2>/dev/null || true
			return 0
		fi
		sleep 0.05
	done
	echo "the run ended before it was seen writing into $2" >&2
	return 1
}

# Every suite's teardown calls this: stop the gpg-agent of the test's own
# GnuPG home, if gpg ran there (the suite's is gnupg_teardown's).
teardown_gpg() {
	local h="${GNUPGHOME:-}" f
	case $h in "$BATS_TEST_TMPDIR"/*) ;; *) return 0 ;; esac
	f=("$h"/*)
	[ ! -e "${f[0]}" ] || gpgconf --kill all 2>/dev/null
	return 0
}

# remove_users DIR: the real users a test created for a second person
# (their names in DIR/names, separated by spaces), their agents, their groups,
# then DIR itself.  For a teardown: nothing when DIR is empty.
remove_users() {
	local dir=$1 u
	[ -n "$dir" ] || return 0
	if [ -f "$dir/names" ]; then
		for u in $(cat "$dir/names"); do
			pkill -u "$u" gpg-agent 2>/dev/null
			getent passwd "$u" >/dev/null && userdel "$u" 2>/dev/null
			getent group "$u" >/dev/null && groupdel "$u" 2>/dev/null
		done
	fi
	rm -rf "$dir"
	return 0
}

# gen ARGS... -o FILE: synthetic data with valid check digits.
gen() {
	spif-gen "$@" 2>"$D/gen.err"
}

# The distinct-number count spif-gen reported for its last run.
gen_persons() {
	sed -n 's/.* \([0-9][0-9]*\) distinct individual numbers.*/\1/p' "$D/gen.err"
}

# What the catalog looks like, for "unchanged" checks.
catalog_state() {
	if [ -e "$SPIF_HOME/catalog.db" ]; then
		spif catalog ls --json
		spif catalog log --json | wc -l
		spif catalog verify >/dev/null && echo intact
	else
		echo "no catalog"
	fi
}

# The audit log's test tool (tests/unit/test_auditlog.c, built with the
# sanitised build): run SQL through spif's own connection, and an insider's
# rewrites of the log.
audit_tool() {
	local t
	for t in "$SPIF_BIN/../unit/test_auditlog" "$BATS_TEST_DIRNAME/../../build/asan/unit/test_auditlog"; do
		if [ -x "$t" ]; then
			"$t" "$@"
			return
		fi
	done
	echo "test_auditlog is missing: make asan" >&2
	return 1
}

# catalog_sql SQL: a state a test needs (a crash's leftovers, a copy made
# elsewhere), made through spif's connection and so recorded by the audit
# log like any change spif makes.  The sqlite3 shell cannot write the
# catalog's tables: their triggers call functions only spif has.
catalog_sql() {
	audit_tool sql "$SPIF_HOME" "$1"
}

# drop_row_triggers TABLE...: what an insider with the sqlite3 shell does
# before editing a table behind spif's back (verify then reports both).
drop_row_triggers() {
	local t sql=""
	for t in "$@"; do
		sql="$sql DROP TRIGGER spif_row_${t}_ins; DROP TRIGGER spif_row_${t}_upd; DROP TRIGGER spif_row_${t}_del;"
	done
	sqlite3 "$SPIF_HOME/catalog.db" "$sql"
}

# Assert that the last run printed exactly one line on stderr.
one_line_stderr() {
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ] || {
		echo "expected one stderr line, got: $stderr" >&2
		return 1
	}
}

# Every 12-digit run in FILE that is a valid Individual Number; written to
# OUT one per line (used to prove that none of them reaches the catalog).
valid_numbers_in() {
	grep -aoE '[0-9]{12}' "$1" | sort -u | awk '
	{ s = 0; split("6 5 4 3 2 7 6 5 4 3 2", w, " ");
	  for (i = 1; i <= 11; i++) s += substr($0, i, 1) * w[i];
	  r = s % 11; c = (r <= 1) ? 0 : 11 - r;
	  if (c == substr($0, 12, 1)) print }' > "$2"
}

# The whole disk a directory's filesystem lives on ("vda"), for tests that
# vouch for it in spif.conf's trusted_media.
disk_of() {
	local src pk
	src=$(findmnt -no SOURCE -T "$1" | head -1)
	pk=$(lsblk -no PKNAME "$src" 2>/dev/null | head -1)
	echo "${pk:-${src##*/}}"
}

# A checksum-valid 12-digit Individual Number made from 11 digits (the
# public check-digit rule: weights 2..7,2..6 from the right, mod 11).
valid_number() {
	local b=$1 s=0 n p q r
	for n in $(seq 1 11); do
		p=${b:$((11 - n)):1}
		if [ "$n" -le 6 ]; then q=$((n + 1)); else q=$((n - 5)); fi
		s=$((s + p * q))
	done
	r=$((s % 11))
	if [ "$r" -le 1 ]; then echo "${b}0"; else echo "${b}$((11 - r))"; fi
}

# A throwaway GNUPGHOME with keys made in the test run, so that the suites
# need no keyring of their own.  Its path is short on purpose: gpg-agent's
# socket lives in it and a socket path must fit in 108 bytes, which a
# BATS_TMPDIR may not.  Call from setup_file; gnupg_teardown from
# teardown_file.
gnupg_setup() {
	GNUPGHOME=$(mktemp -d /tmp/spif-gpg.XXXXXX)
	export GNUPGHOME SPIF_SUITE_GNUPGHOME="$GNUPGHOME"
	chmod 700 "$GNUPGHOME"
}

# gpg_key NAME [GPG OPTIONS...]: "NAME <NAME@example.invalid>", an ed25519
# key that signs with a cv25519 subkey that encrypts, no passphrase, valid
# a year (from the --faked-system-time given, if any).  Prints its
# fingerprint.
gpg_key() {
	local name=$1 fpr
	shift
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@" \
		--quick-gen-key "$name <$name@example.invalid>" ed25519 sign 1y 2>/dev/null || return 1
	fpr=$(gpg_fpr "$name@example.invalid")
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@" \
		--quick-add-key "$fpr" cv25519 encr 1y 2>/dev/null || return 1
	echo "$fpr"
}

# The primary fingerprint of the key matching WHO.
gpg_fpr() {
	gpg --batch --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'
}

gnupg_teardown() {
	[ -n "${GNUPGHOME:-}" ] && [ -d "$GNUPGHOME" ] || return 0
	gpgconf --kill all 2>/dev/null # the agent of this GNUPGHOME only
	rm -rf "$GNUPGHOME"
}

# vault_files N ARGS...: N files kept only in the vault (ingested --store
# from stdin, so no source copy), with the given ingest arguments.  The
# same content each time: registered again on purpose (--again).
vault_files() {
	local n=$1
	shift
	gen --rows 3 -o "$D/small.csv"
	for _ in $(seq "$n"); do
		spif ingest --purpose 個人住民税の賦課 --store --again --reason テスト --print-id "$@" - \
			< "$D/small.csv" > /dev/null 2>&1
	done
}

# flip_bit FILE OFFSET: damage FILE by one flipped bit at OFFSET (a fixed
# byte written over would be no damage where the file already held it:
# one ciphertext byte in 256).
flip_bit() {
	perl -e 'open(my $f, "+<", $ARGV[0]) or die; seek($f, $ARGV[1], 0); read($f, my $b, 1) == 1 or die;
		seek($f, $ARGV[1], 0); print $f chr(ord($b) ^ 1); close($f) or die' "$1" "$2"
}
