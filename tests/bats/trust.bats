#!/usr/bin/env bats
# The trust boundary of a system install (spif(7), INSTALL section 4), with
# real Unix users and a real setgid install: "make install-system" of this
# tree, built with its own PREFIX and SYSCONFDIR, into a directory of this
# run (on a file system that honours setgid), with an account and group of
# this run's own (never "spif", which a real install may have).
#
# As root only: it creates users (useradd) and acts as them (setpriv); every
# user and group it made is removed in teardown_file, also after a failure.
# The programs are a normal build of this tree (not the sanitised one: a
# setgid program runs in secure mode, and the sanitiser's runtime is not
# made for that); the same code runs sanitised in every other suite.
#
# Each test starts from an empty home with one admin, added by root.
load helper

top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	bats_require_minimum_version 1.5.0
	[ "$(id -u)" -eq 0 ] || return 0 # setup() skips, saying why
	T=$(mktemp -d /tmp/spif-trust.XXXXXX)
	chmod 755 "$T"
	export T
	findmnt -no OPTIONS -T "$T" | grep -qw nosuid && return 0
	local sfx
	sfx=$(printf '%04x' $((RANDOM % 65536)))
	export SVC=sptsvc$sfx GRP=sptgrp$sfx ADM=sptadm$sfx OP1=sptop1$sfx OP2=sptop2$sfx \
		APR1=sptapr1$sfx APR2=sptapr2$sfx AUD=sptaud$sfx
	echo "$SVC $GRP $ADM $OP1 $OP2 $APR1 $APR2 $AUD" > "$T/names"
	local u
	for u in $ADM $OP1 $OP2 $APR1 $APR2 $AUD; do
		useradd --user-group --no-create-home --home-dir "$T/w/$u" --shell /bin/sh "$u" || return 1
		install -d -m 0700 -o "$u" -g "$u" "$T/w/$u"
	done
	# the tree as it is, built with this run's prefix, conf and home
	mkdir "$T/src"
	tar -C "$top" -cf - Makefile lib cmd tests/deps.sh tests/gen man completions contrib README.md INSTALL |
		tar -C "$T/src" -xf -
	export PREFIX=$T/prefix HOMEDIR=$T/home CONFDIR=$T/etc
	make -C "$T/src" -s -j2 CFLAGS=-O1 PREFIX="$PREFIX" SYSCONFDIR="$CONFDIR" SPIF_USER="$SVC" \
		SPIF_GROUP="$GRP" SPIF_HOMEDIR="$HOMEDIR" install-system > "$T/make.log" 2>&1 ||
		{ cat "$T/make.log" >&3; return 1; }
	chmod 755 "$PREFIX" "$T/etc"
}

teardown_file() {
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	local u
	if [ -f "$T/names" ]; then
		for u in $(cut -d' ' -f1,3- "$T/names"); do
			pkill -u "$u" gpg-agent 2>/dev/null
			getent passwd "$u" >/dev/null && userdel "$u" 2>/dev/null
		done
		for u in $(cut -d' ' -f2- "$T/names"); do
			getent group "$u" >/dev/null && groupdel "$u" 2>/dev/null
		done
	fi
	rm -rf "$T"
}

setup() {
	bats_require_minimum_version 1.5.0
	# the personal tests: the sanitised build, this user, a home of the test's own
	if [[ $BATS_TEST_DESCRIPTION == personal:* ]]; then
		setup_home
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || skip "needs root: it creates users and a setgid install"
	[ -d "$T" ] || skip "no scratch directory"
	! findmnt -no OPTIONS -T "$T" | grep -qw nosuid || skip "$T is mounted nosuid: setgid is not honoured"
	[ -x "$PREFIX/bin/spif" ] || { cat "$T/make.log"; return 1; }
	export PATH="$PREFIX/bin:$SPIF_BIN:$PATH"
	unset SPIF_HOME SPIF_CONF SPIF_EXEC_PATH
	D=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	# an empty home with one admin, added by root (the first admin)
	find "$HOMEDIR" -mindepth 1 -delete
	run --separate-stderr spif operator add "$ADM" --role admin
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	mkdir -p "$T/data"
	chmod 755 "$T/data"
	[ -f "$T/data/a.csv" ] || spif-gen --rows 5 -o "$T/data/a.csv" 2>/dev/null
	chmod 644 "$T/data/a.csv"
}

teardown() {
	teardown_gpg
	gnupg_teardown
	[ -n "${T:-}" ] && [ -f "$T/names" ] || return 0
	local u
	for u in $(cut -d' ' -f3- "$T/names"); do pkill -u "$u" gpg-agent 2>/dev/null; done
	return 0
}

# as USER CMD...: run as that user, with only their own group, from $T.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups env HOME="$T/w/$u" PATH="$PATH" "$@"
}

# spif operator ..., as the admin (root, not in the table, may not).
adm() {
	as "$ADM" spif operator "$@" >/dev/null
}

# The catalog's own view, as root (who may read the log and the register).
events() {
	spif catalog log --json
}

uid_of() {
	id -u "$1"
}

@test "install-system: the home is the service account's alone; the commands are setgid; no operator in the group" {
	[ "$(stat -c '%U:%G %a' "$HOMEDIR")" = "$SVC:$GRP 2770" ]
	[ "$(stat -c '%G %a' "$PREFIX/libexec/spif/spif-vault")" = "$GRP 2755" ]
	[ "$(stat -c '%U %a' "$CONFDIR/spif/spif.conf")" = "root 644" ]
	[ -z "$(getent group "$GRP" | cut -d: -f4)" ]
	! id -nG "$OP1" | grep -qw "$GRP"
}

@test "boundary: an operator cannot open catalog.db, the vault or the keys (EACCES)" {
	adm add "$OP1" --role operator
	adm grant "$OP1" 個人住民税の賦課
	run --separate-stderr as "$OP1" spif ingest --purpose 個人住民税の賦課 --store --again --reason t --print-id "$T/data/a.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$output" = F000001 ]
	# through spif it worked; directly, nothing opens
	[ -f "$HOMEDIR/catalog.db" ] && [ -f "$HOMEDIR/keys/kek-indefinite.key" ]
	local p
	for p in "$HOMEDIR/catalog.db" "$HOMEDIR/keys/kek-indefinite.key" "$HOMEDIR"/vault/*.spv "$HOMEDIR/purge.lock"; do
		run as "$OP1" cat "$p"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Permission denied"* ]] || { echo "$p: $output"; return 1; }
	done
	run as "$OP1" ls "$HOMEDIR"
	[[ "$output" == *"Permission denied"* ]]
	run as "$OP1" sqlite3 "$HOMEDIR/catalog.db" 'SELECT count(*) FROM events'
	[ "$status" -ne 0 ]
	# the file the operator made in the home is the group's, 0660
	[ "$(stat -c '%G %a' "$HOMEDIR/catalog.db")" = "$GRP 660" ]
}

@test "boundary: a setgid spif ignores --home, SPIF_HOME and SPIF_CONF: the system home is used" {
	adm add "$OP1" --role operator
	adm grant "$OP1" x
	mkdir -m 777 "$T/evil"
	printf 'home = %s/evil/h3\n' "$T" > "$T/evil/spif.conf"
	chmod 666 "$T/evil/spif.conf"
	run --separate-stderr as "$OP1" spif --home "$T/evil/h1" ingest --purpose x --again --reason "same file, another home test" --print-id "$T/data/a.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$stderr" == *"note: SPIF_HOME is ignored by a system install (setgid): the home is $HOMEDIR"* ]]
	run --separate-stderr as "$OP1" env SPIF_HOME="$T/evil/h2" spif ingest --purpose x --again --reason "same file, another home test" --print-id "$T/data/a.csv"
	[ "$status" -eq 0 ]
	[ "$output" = F000002 ]
	run --separate-stderr as "$OP1" env SPIF_CONF="$T/evil/spif.conf" "$PREFIX/libexec/spif/spif-ingest" \
		--home "$T/evil/h4" --purpose x --again --reason "same file, another home test" --print-id "$T/data/a.csv"
	[ "$status" -eq 0 ]
	[ "$output" = F000003 ]
	[[ "$stderr" == *"note: --home is ignored"* ]]
	run find "$T/evil" -name catalog.db
	[ -z "$output" ]
	# all three are in the system catalog, by the operator's real uid
	run spif catalog ls --json
	[ "$(grep -c '"id":"F00000' <<<"$output")" -eq 3 ]
	[ "$(events | jq -r 'select(.action == "ingest") | .operator' | sort -u)" = "$OP1" ]
}

@test "boundary: the environment of a setgid spif is ignored (TMPDIR, SPIF_EXEC_PATH, a GNUPGHOME not the caller's)" {
	adm add "$OP1" --role operator
	adm grant "$OP1" x
	# TMPDIR: the spool goes to /tmp whatever the caller says
	run --separate-stderr as "$OP1" env TMPDIR=/nonexistent/spif spif ingest --purpose x --to csv \
		-o "$T/w/$OP1/out.csv" "$T/data/a.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# GNUPGHOME: only a directory the caller owns (this one is root's, with a
	# key an honoured GNUPGHOME would encrypt to)
	install -d -m 755 "$T/gh"
	GNUPGHOME=$T/gh gpg_key other >/dev/null
	GNUPGHOME=$T/gh gpgconf --kill gpg-agent
	chmod -R a+rX "$T/gh"
	run --separate-stderr as "$OP1" env GNUPGHOME="$T/gh" spif encrypt -r other@example.invalid \
		-o "$T/w/$OP1/out.gpg" "$T/data/a.csv"
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"no public key for other@example.invalid"* ]] || { echo "$stderr"; return 1; }
	rm -rf "$T/gh"
	# SPIF_EXEC_PATH: a purge's child is spif's own spif-shred, not the caller's
	mkdir -m 755 "$D/stub"
	printf '#!/bin/sh\ntouch %s/stub-ran\nexit 0\n' "$D" > "$D/stub/spif-shred"
	chmod 755 "$D/stub/spif-shred"
	chmod 755 "$D"
	printf 'trusted_media = %s\n' "$(disk_of "$T")" >> "$CONFDIR/spif/spif.conf"
	adm add "$APR2" --role approver
	as "$ADM" spif retain schedule add short --period 1d --action shred
	cp "$T/data/a.csv" "$T/w/$OP1/a.csv"
	chown "$OP1" "$T/w/$OP1/a.csv"
	run --separate-stderr as "$OP1" spif ingest --again --reason t --purpose x --received 2020-01-06 --schedule short --print-id \
		"$T/w/$OP1/a.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	fid=$output
	as "$OP1" sh -c "spif retain plan > '$T/w/$OP1/plan.txt'"
	chmod 755 "$T/w/$OP1"
	run --separate-stderr as "$APR2" spif retain approve "$T/w/$OP1/plan.txt"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr env SPIF_EXEC_PATH="$D/stub" spif retain purge
	[ "$status" -eq 0 ] || { echo "$output $stderr"; return 1; }
	[[ "$output" == "$fid disposed DC-"* ]]
	[ ! -e "$D/stub-ran" ]
	[ ! -e "$T/w/$OP1/a.csv" ]
	sed -i '/^trusted_media/d' "$CONFDIR/spif/spif.conf"
}

@test "a grant limits vault cat to its purpose, and a read needs a reason" {
	adm add "$OP1" --role operator
	adm add "$OP2" --role operator
	adm grant "$OP1" 個人住民税の賦課
	adm grant "$OP2" 国民健康保険税の賦課
	run --separate-stderr as "$OP1" sh -c "spif ingest --again --reason t --purpose 個人住民税の賦課 --store --print-id - < '$T/data/a.csv'"
	[ "$output" = F000001 ]
	run --separate-stderr as "$OP2" sh -c "spif ingest --again --reason t --purpose 国民健康保険税の賦課 --store --print-id - < '$T/data/a.csv'"
	[ "$output" = F000002 ]
	run --separate-stderr as "$OP1" spif vault cat F000001 --reason 照会
	[ "$status" -eq 0 ]
	[ "$(grep -c '"@file":"F000001"' <<<"$output")" -eq 5 ]
	run --separate-stderr as "$OP1" spif vault cat F000002 --reason 照会
	[ "$status" -eq 77 ]
	[ -z "$output" ]
	[[ "$stderr" == "spif-vault: refused: $OP1 may not read records of the purpose \"国民健康保険税の賦課\" (F000002): no grant for it"* ]]
	one_line_stderr
	run --separate-stderr as "$OP1" spif vault cat F000001
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"without a reason: give --reason TEXT (it is logged)"* ]]
	# a grant for one file: that file only
	adm grant "$OP1" 国民健康保険税の賦課 --file F000002
	run --separate-stderr as "$OP1" spif vault cat F000002 --reason 照会
	[ "$status" -eq 0 ]
	adm revoke "$OP1" 国民健康保険税の賦課 --file F000002
	run --separate-stderr as "$OP1" spif vault cat F000002 --reason 照会
	[ "$status" -eq 77 ]
}

@test "five refusals lock an operator; only an admin unlocks; lock and unlock are events" {
	adm add "$OP1" --role operator
	adm add "$OP2" --role operator
	adm grant "$OP1" x
	as "$OP1" sh -c "spif ingest --again --reason t --purpose x --store --print-id - < '$T/data/a.csv'" >/dev/null
	local i
	for i in 1 2 3 4; do
		run --separate-stderr as "$OP2" spif vault cat F000001 --reason test
		[ "$status" -eq 77 ]
		[[ "$stderr" != *"locked"* ]]
	done
	run --separate-stderr as "$OP2" spif vault cat F000001 --reason test
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"; $OP2 is now locked after 5 refusals (an admin unlocks: spif operator unlock $OP2)" ]]
	# locked: even what the role allows
	run --separate-stderr as "$OP2" spif catalog ls
	[ "$status" -eq 77 ]
	[[ "$stderr" == "spif-catalog: refused: $OP2 is locked"* ]]
	# not by themselves, nor by another operator
	run --separate-stderr as "$OP2" spif operator unlock "$OP2"
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif operator unlock "$OP2"
	[ "$status" -eq 77 ]
	run --separate-stderr as "$ADM" spif operator unlock "$OP2" --reason 本人確認済み
	[ "$status" -eq 0 ]
	[ "$output" = "$OP2 unlocked" ]
	run --separate-stderr as "$OP2" spif catalog ls
	[ "$status" -eq 0 ]
	[ "$(events | jq -r 'select(.action | test("^operator\\.(locked|unlock)$")) | .action + " " + .object')" = \
		"operator.locked $OP2
operator.unlock $OP2" ]
	run spif operator show "$OP2" --json
	[ "$(jq -r .state <<<"$output")" = active ]
}

@test "confirm: refused for the sanitizer, for root with a forged SUDO_USER, for an operator without the approver role; the confirmer's own key signs" {
	# the approver's own GnuPG home and key
	local g2=$T/w/$APR2/gnupg
	install -d -m 700 -o "$APR2" -g "$APR2" "$g2"
	as "$APR2" env GNUPGHOME="$g2" gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
		--quick-gen-key "Sato <sato@example.invalid>" ed25519 sign 1y 2>/dev/null
	local fpr
	fpr=$(as "$APR2" env GNUPGHOME="$g2" gpg --batch --with-colons --list-keys sato@example.invalid |
		awk -F: '/^fpr/ { print $10; exit }')
	[ ${#fpr} -eq 40 ]
	adm add "$APR1" --role operator,approver
	adm add "$APR2" --role approver --key "$fpr"
	adm add "$OP2" --role operator
	adm grant "$APR1" x
	as "$APR1" sh -c "spif ingest --again --reason t --purpose x --store --print-id - < '$T/data/a.csv'" >/dev/null
	run --separate-stderr as "$APR1" spif shred --reason test --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	cert=$output
	[[ "$cert" == DC-* ]]
	# the sanitizer
	run --separate-stderr as "$APR1" spif catalog cert confirm "$cert"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"$APR1 may not confirm a certificate $cert: $APR1 did the work, and a second person signs it off"* ]]
	# root, whatever SUDO_USER says
	run --separate-stderr env SUDO_USER="$APR2" spif catalog cert confirm "$cert"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"(uid 0) is not an operator"* ]]
	adm add root --role approver --sudo
	run --separate-stderr env SUDO_USER="$APR2" spif catalog cert confirm "$cert"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"root may not confirm a certificate: that is a person's"* ]]
	# an operator without the approver role
	run --separate-stderr as "$OP2" spif catalog cert confirm "$cert"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"$OP2 (operator) may not confirm a certificate: it needs the role approver"* ]]
	# nothing was recorded as a confirmation
	run spif catalog cert ls --json
	[[ "$output" == *'"confirmed_by":null'* ]]
	# the approver, signing with the key the table names, from their own home;
	# the gpg-agent that gpg starts for it does not have the group
	as "$APR2" env GNUPGHOME="$g2" gpgconf --kill gpg-agent
	run --separate-stderr as "$APR2" env GNUPGHOME="$g2" spif catalog cert confirm "$cert"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$output" = "$cert confirmed by $APR2" ]
	local p gid n=0
	gid=$(getent group "$GRP" | cut -d: -f3)
	for p in $(pgrep -u "$APR2"); do
		grep -q '^State:.*zombie' "/proc/$p/status" 2>/dev/null && continue
		n=$((n + 1))
		! grep -E '^(Gid|Groups):' "/proc/$p/status" | grep -qw "$gid" ||
			{ echo "$(cat "/proc/$p/cmdline" | tr '\0' ' ') has the group"; return 1; }
	done
	[ "$n" -ge 1 ] # the agent gpg started
	[ "$(events | jq -r 'select(.action == "certificate.confirm") | .details.signer')" = "$fpr" ]
	[ "$(events | jq -r 'select(.action == "certificate.confirm") | .operator')" = "$APR2" ]
	run as "$APR2" env GNUPGHOME="$g2" spif catalog cert verify "$cert"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
}

@test "root acting through sudo is recorded as root (sudo from X, unverified), only when the table says so" {
	# root not in the table: refused, recorded as root, SUDO_USER beside it
	run --separate-stderr env SUDO_USER="$ADM" spif operator add "$OP1" --role operator
	[ "$status" -eq 77 ]
	[ "$(events | jq -r 'select(.action == "operator.refused") | .operator + "|" + .sudo_user')" = "root|$ADM" ]
	adm add "$OP1" --role operator
	adm add root --role admin --sudo
	run --separate-stderr env SUDO_USER="$ADM" spif operator grant "$OP1" x
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(events | jq -r 'select(.action == "operator.grant") | .operator')" = "root (sudo from $ADM, unverified)" ]
	# a SUDO_USER in a non-root environment names nobody
	run --separate-stderr as "$ADM" env SUDO_USER="$OP1" spif operator revoke "$OP1" x
	[ "$status" -eq 0 ]
	[ "$(events | jq -r 'select(.action == "operator.revoke") | .operator + "|" + (.sudo_user // "")')" = "$ADM|" ]
	# --sudo is for root only
	run --separate-stderr as "$ADM" spif operator add "$OP2" --role operator --sudo
	[ "$status" -eq 64 ]
}

@test "the purge lock cannot be taken by an operator; the purge is not theirs to run" {
	adm add "$OP1" --role operator
	adm add "$APR2" --role approver
	spif retain due >/dev/null
	run as "$OP1" flock -n "$HOMEDIR/purge.lock" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	run --separate-stderr as "$OP1" spif retain purge
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"$OP1 (operator) may not run the purge"* ]]
	# the service account's purge (and root's) takes it
	run --separate-stderr setpriv --reuid="$SVC" --regid="$GRP" --clear-groups "$PREFIX/bin/spif" retain purge
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(stat -c %G "$HOMEDIR/purge.lock")" = "$GRP" ]
}

@test "the caller's files are opened as the caller: -o, inputs and spif shred cannot reach into the home" {
	adm add "$OP1" --role operator
	adm grant "$OP1" x
	as "$OP1" sh -c "spif ingest --again --reason t --purpose x --store --print-id - < '$T/data/a.csv'" >/dev/null
	local before
	before=$(sha256sum "$HOMEDIR/catalog.db" "$HOMEDIR"/keys/*)
	run --separate-stderr as "$OP1" spif ingest --again --reason t --purpose x -o "$HOMEDIR/x.ndjson" "$T/data/a.csv"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Permission denied"* ]]
	run --separate-stderr as "$OP1" spif ingest --purpose x --print-id "$HOMEDIR/keys/kek-indefinite.key"
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif shred --force --reason x "$HOMEDIR/catalog.db"
	[ "$status" -ne 0 ]
	run --separate-stderr as "$OP1" spif redact --report "$HOMEDIR/catalog.db" "$T/data/a.csv"
	[ "$status" -ne 0 ]
	[ "$(sha256sum "$HOMEDIR/catalog.db" "$HOMEDIR"/keys/*)" = "$before" ]
	[ ! -e "$HOMEDIR/x.ndjson" ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

# own_key USER: a GnuPG home of USER's own with a signing+encryption key;
# prints its fingerprint (GNUPGHOME for that user: $T/w/USER/gnupg).
own_key() {
	local u=$1 g=$T/w/$1/gnupg
	install -d -m 700 -o "$u" -g "$u" "$g"
	as "$u" env GNUPGHOME="$g" gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
		--quick-gen-key "$u <$u@example.invalid>" ed25519 sign 1y 2>/dev/null
	local fpr
	fpr=$(as "$u" env GNUPGHOME="$g" gpg --batch --with-colons --list-keys "$u@example.invalid" |
		awk -F: '/^fpr/ { print $10; exit }')
	as "$u" env GNUPGHOME="$g" gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
		--quick-add-key "$fpr" cv25519 encr 1y 2>/dev/null
	echo "$fpr"
}

@test "two people before the act: a governance bypass needs an approver's approval for that operator and file; never one's own, never root's" {
	adm add "$OP1" --role operator
	adm add "$OP2" --role operator
	adm add "$APR1" --role approver
	adm add "$APR2" --role operator,approver
	adm grant "$OP1" x
	adm grant "$OP2" x
	adm grant "$APR2" x
	as "$ADM" spif retain schedule add gov --period 90y >/dev/null
	as "$OP1" sh -c "spif ingest --again --reason t --purpose x --schedule gov --store --print-id - < '$T/data/a.csv'" >/dev/null
	local before
	before=$(spif catalog ls --json)
	# the operator alone: refused, and it says who may let them
	run --separate-stderr as "$OP1" spif shred --bypass-governance --reason 誤登録 --file F000001
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"$OP1 may not bypass a governance schedule of F000001 without a second person's approval (an approver runs: spif operator approve bypass F000001 --for $OP1 --reason TEXT)"* ]]
	one_line_stderr
	# an approver may not approve their own bypass, an operator may not
	# approve at all, root is never the second person
	run --separate-stderr as "$APR2" spif operator approve bypass F000001 --for "$APR2" --reason 自分
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP2" spif operator approve bypass F000001 --for "$OP1" --reason 同僚
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"may not approve a bypass or an export: it needs the role approver"* ]]
	run --separate-stderr spif operator approve bypass F000001 --for "$OP1" --reason root
	[ "$status" -eq 77 ]
	run --separate-stderr as "$APR1" spif operator approve bypass F000001 --for "$OP1"
	[ "$status" -eq 64 ]
	run --separate-stderr as "$APR1" spif operator approve bypass F000009 --for "$OP1" --reason x
	[ "$status" -eq 65 ]
	[ "$(spif catalog ls --json)" = "$before" ]
	run --separate-stderr as "$APR1" spif operator approve bypass F000001 --for "$OP1" --reason 誤登録の訂正 --hours 2
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$output" == "approval 1: $OP1 may bypass the governance schedule of F000001 for 2 hours" ]]
	# for that operator only
	run --separate-stderr as "$OP2" spif shred --bypass-governance --reason 誤登録 --file F000001
	[ "$status" -eq 77 ]
	[ "$(spif catalog ls --json)" = "$before" ]
	run --separate-stderr as "$OP1" spif shred --bypass-governance --reason 誤登録 --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr spif catalog log --json
	[ "$(jq -r 'select(.action == "operator.approve") | "\(.operator) \(.object) \(.details.for) \(.details.kind)"' <<<"$output")" = "$APR1 F000001 $OP1 bypass" ]
	run --separate-stderr spif operator approvals --all --json
	[ "$(jq -r '"\(.for) \(.approver) \(.file)"' <<<"$output")" = "$OP1 $APR1 F000001" ]
	# the table itself refuses an approver approving themselves
	run sqlite3 "$HOMEDIR/catalog.db" "INSERT INTO approvals(kind,file_id,for_uid,approver_uid,approver,reason,approved,expires) VALUES('bypass',1,$(uid_of "$OP1"),$(uid_of "$OP1"),'x','x','a','z')"
	[ "$status" -ne 0 ]
	# revoked: in force no more
	as "$APR1" spif operator approve bypass --purpose x --for "$OP2" --reason 一括 >/dev/null
	run --separate-stderr as "$APR1" spif operator revoke-approval 2 --reason 取消
	[ "$status" -eq 0 ]
	run --separate-stderr spif operator approvals --json
	[ "$(jq -r .id <<<"$output")" = 1 ]
	run --separate-stderr as "$APR1" spif operator revoke-approval 2 --reason 二度目
	[ "$status" -eq 65 ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "two people before the act: an export that keeps its numbers needs an approval, which the ledger names; a redacted one does not" {
	adm add "$OP1" --role operator
	adm add "$APR1" --role approver
	adm grant "$OP1" x
	as "$OP1" sh -c "spif ingest --again --reason t --purpose x --store --print-id - < '$T/data/a.csv'" >/dev/null
	local fpr w=$T/w/$OP1
	fpr=$(own_key "$OP1")
	run --separate-stderr as "$OP1" env GNUPGHOME="$w/gnupg" spif export --file F000001 -r "$fpr" --to-org 委託先 \
		--basis 番号法第19条第5号 --reason 委託 -o "$w/out.spx"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"$OP1 may not export records with numbers of F000001 without a second person's approval"* ]]
	[ ! -e "$w/out.spx" ]
	# redacted: no number leaves, no second person needed
	run --separate-stderr as "$OP1" env GNUPGHOME="$w/gnupg" spif export --file F000001 --redact -r "$fpr" \
		--to-org 委託先 --basis 番号法第19条第5号 --reason 委託 -o "$w/red.spx"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	as "$APR1" spif operator approve export F000001 --for "$OP1" --reason 委託契約 >/dev/null
	run --separate-stderr as "$OP1" env GNUPGHOME="$w/gnupg" spif export --file F000001 -r "$fpr" --to-org 委託先 \
		--basis 番号法第19条第5号 --reason 委託 -o "$w/out.spx"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr spif export ls --json
	[ "$(jq -r '.approver // "-"' <<<"$output" | tr '\n' ' ')" = "- $APR1 " ]
}

@test "the gate covers every command: backups, media, checkouts, keys, escrow and checkpoints are refused without the role, and recorded" {
	adm add "$OP1" --role operator
	adm add "$AUD" --role auditor
	adm grant "$OP1" x
	as "$OP1" sh -c "spif ingest --again --reason t --purpose x --store --print-id - < '$T/data/a.csv'" >/dev/null
	local w=$T/w/$OP1
	run --separate-stderr as "$OP1" spif catalog backup -o "$w/bk"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"$OP1 (operator) may not back up the catalog or test a restore: it needs the role admin"* ]]
	[ ! -e "$w/bk" ]
	run --separate-stderr as "$AUD" spif catalog backup -o "$T/w/$AUD/bk"
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif catalog restore-test "$w"
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif media add USB-1 --kind usb --location 金庫
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif vault keys
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif vault escrow destroyed 2026-01
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif catalog checkpoint
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif export lost EX-2026-000001 --reason x
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif export delivered EX-2026-000001 --received-by x
	[ "$status" -eq 77 ]
	run --separate-stderr as "$OP1" spif catalog checkpoint ls
	[ "$status" -eq 77 ]
	run --separate-stderr as "$AUD" spif vault keys
	[ "$status" -eq 0 ]
	run --separate-stderr spif catalog log --json
	# ten refusals, each with the real uid that was refused
	[ "$(jq -r 'select(.action == "operator.refused") | .details.uid' <<<"$output" | sort | uniq -c | awk '{print $1}' | sort -n | tr '\n' ' ')" = "1 9 " ]
	[ "$(jq -r 'select(.action == "operator.refused" and .details.uid == '"$(uid_of "$AUD")"') | .details.action' <<<"$output")" = "back up the catalog or test a restore" ]
	# the service account backs up (the nightly job), and root may
	run --separate-stderr spif catalog backup -o "$T/bk-root"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
}

@test "decrypting a catalogued copy is a read of records: a reason, logged, even to a pipe" {
	adm add "$OP1" --role operator
	adm grant "$OP1" x
	as "$OP1" sh -c "spif ingest --again --reason t --purpose x --store --print-id - < '$T/data/a.csv'" >/dev/null
	local fpr w=$T/w/$OP1
	fpr=$(own_key "$OP1")
	as "$OP1" env GNUPGHOME="$w/gnupg" sh -c "spif vault cat F000001 --reason 暗号化 | spif encrypt -r $fpr -o '$w/f.gpg'" 2>/dev/null
	[ -s "$w/f.gpg" ]
	run --separate-stderr as "$OP1" env GNUPGHOME="$w/gnupg" spif encrypt -d "$w/f.gpg"
	[ "$status" -eq 77 ]
	[ -z "$output" ]
	[[ "$stderr" == *"$OP1 may not decrypt records"*"without a reason: give --reason TEXT (it is logged)"* ]]
	run --separate-stderr as "$OP1" env GNUPGHOME="$w/gnupg" spif encrypt --reason x "$w/f.gpg"
	[ "$status" -eq 64 ]
	run --separate-stderr as "$OP1" env GNUPGHOME="$w/gnupg" spif encrypt -d --reason 住民からの照会 "$w/f.gpg"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(grep -c '"@file":"F000001"' <<<"$output")" -eq 5 ]
	run --separate-stderr spif catalog log --json
	[ "$(jq -r 'select(.action == "decrypt") | "\(.operator) \(.object) \(.details.reason)"' <<<"$output")" = "$OP1 F000001 住民からの照会" ]
}

# (two walls: cli_init keeps no SPIF_CLOCK_TOOLS for a setgid run, and
# lib/clockstate.c ignores it in secure execution whoever calls it)
@test "boundary: a setgid forensic bundle asks the host's clock tools, never those SPIF_CLOCK_TOOLS names" {
	adm add "$OP1" --role operator,responder
	adm grant "$OP1" x
	local fpr g=$T/w/$OP1/gnupg
	fpr=$(own_key "$OP1")
	run --separate-stderr as "$OP1" spif ingest --again --reason t --purpose x --print-id "$T/data/a.csv"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	inc=$(as "$OP1" spif incident open --summary 'USB 紛失' --file "$output" 2>/dev/null)
	# a stand-in timedatectl the caller can run, leaving a mark if it is run
	rm -rf "$T/clock" "$T/w/$OP1/clock.gpg"
	mkdir -m 777 -p "$T/clock/mark"
	chmod 755 "$T/clock"
	printf '#!/bin/sh\ntouch %s/clock/mark/ran\necho yes\n' "$T" > "$T/clock/timedatectl"
	chmod 755 "$T/clock/timedatectl"
	as "$OP1" "$T/clock/timedatectl" > /dev/null
	[ -e "$T/clock/mark/ran" ]
	rm "$T/clock/mark/ran"
	run --separate-stderr as "$OP1" env GNUPGHOME="$g" SPIF_CLOCK_TOOLS="$T/clock" spif export --forensic \
		--incident "$inc" -r "$fpr" --sign "$fpr" -o "$T/w/$OP1/clock.gpg"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ ! -e "$T/clock/mark/ran" ]
	# the sources are the host's own: the kernel among them, which a seam directory leaves out
	as "$OP1" env GNUPGHOME="$g" gpg --batch --quiet --decrypt "$T/w/$OP1/clock.gpg" 2>/dev/null |
		tar -xOf - --wildcards '*/data/host.json' > "$D/host.json"
	grep -q '"source":"adjtimex"' "$D/host.json"
}

@test "operators: only an admin changes the table; with none, a setgid spif refuses all but root's first admin" {
	find "$HOMEDIR" -mindepth 1 -delete
	run --separate-stderr as "$OP1" spif operator add "$OP1" --role admin
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"this system install has no operators yet"* ]]
	run --separate-stderr as "$OP1" spif ingest --purpose x --again --reason t --print-id "$T/data/a.csv"
	[ "$status" -eq 77 ]
	[ ! -e "$HOMEDIR/catalog.db" ]
	run --separate-stderr spif operator add "$OP1" --role operator
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"the first operator must be an admin"* ]]
	spif operator add "$ADM" --role admin
	run --separate-stderr as "$ADM" spif operator add "$OP1" --role operator
	[ "$status" -eq 0 ]
	run --separate-stderr as "$OP1" spif operator add "$OP2" --role admin
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"$OP1 (operator) may not manage operators: it needs the role admin"* ]]
	run --separate-stderr as "$OP1" spif operator grant "$OP1" x
	[ "$status" -eq 77 ]
	adm add "$AUD" --role auditor
	run --separate-stderr as "$AUD" spif operator ls --json
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 3 ]
	run --separate-stderr as "$AUD" spif operator retire "$OP1"
	[ "$status" -eq 77 ]
}

@test "every refusal is in the log with the real uid; catalog log --operator --since and catalog review list them" {
	adm add "$OP1" --role operator
	adm add "$AUD" --role auditor
	run as "$OP1" spif catalog log
	[ "$status" -eq 77 ]
	run as "$OP1" spif retain schedule add s --period 1y
	[ "$status" -eq 77 ]
	run as "$AUD" spif ingest --purpose x --again --reason t --print-id "$T/data/a.csv"
	[ "$status" -eq 77 ]
	run as "$OP2" spif catalog ls
	[ "$status" -eq 77 ]
	run env SUDO_USER="$ADM" spif vault cat F000001 --reason x
	[ "$status" -eq 77 ]
	[ "$(events | jq -r 'select(.action == "operator.refused") | .operator + " " + (.details.uid | tostring)')" = \
		"$OP1 $(uid_of "$OP1")
$OP1 $(uid_of "$OP1")
$AUD $(uid_of "$AUD")
$OP2 $(uid_of "$OP2")
root 0" ]
	# root's refusal: SUDO_USER is a claim beside it, not the operator
	[ "$(events | jq -r 'select(.action == "operator.refused" and .operator == "root") | .sudo_user')" = "$ADM" ]
	run --separate-stderr as "$AUD" spif catalog log --operator "$OP1" --since "$(TZ=Asia/Tokyo date +%F)" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .action <<<"$output" | sort | uniq -c | awk '{print $1, $2}')" = "2 operator.refused" ]
	run --separate-stderr as "$AUD" spif catalog log --operator "$OP1" --since 2099-01-01
	[ -z "$output" ]
	run --separate-stderr as "$AUD" spif catalog review --since "$(TZ=Asia/Tokyo date +%F)" --until "$(TZ=Asia/Tokyo date +%F)" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.kind == "refused") | .operator' <<<"$output" | wc -l)" -eq 5 ]
}

@test "catalog review: off-hours and bulk reads, unconfirmed certificates" {
	printf 'office_hours = 00:00-00:01\nbulk_read = 3\n' >> "$CONFDIR/spif/spif.conf"
	adm add "$OP1" --role operator
	adm grant "$OP1" x
	as "$OP1" sh -c "spif ingest --again --reason t --purpose x --store --print-id - < '$T/data/a.csv'" >/dev/null
	as "$OP1" spif vault cat F000001 --reason 照会 >/dev/null
	as "$OP1" spif shred --reason test --file F000001 >/dev/null
	run --separate-stderr spif catalog review --json
	sed -i '/^office_hours/d; /^bulk_read/d' "$CONFDIR/spif/spif.conf"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(jq -r .kind <<<"$output" | sort | tr '\n' ' ')" = "bulk off-hours unconfirmed " ] ||
		{ echo "$output"; return 1; }
	[[ "$(jq -r 'select(.kind == "bulk") | .what' <<<"$output")" == "vault.read of F000001: 5 records (bulk_read 3); reason: 照会" ]]
}

# ---- a personal install: the operator table without setgid, sanitised ------

@test "personal: no operators, nothing changes; with them, the one gate decides" {
	local me
	me=$(id -un)
	# office hours all day: the review below is about refusals and locks,
	# not about the hour this test happens to run at
	printf 'office_hours = 00:00-23:59\n' > "$SPIF_CONF"
	gen --rows 5 -o "$D/a.csv"
	run --separate-stderr spif ingest --again --reason t --purpose x --store --print-id "$D/a.csv"
	[ "$output" = F000001 ]
	run --separate-stderr spif catalog log --json
	[[ "$output" != *'"operator.'* ]]
	run --separate-stderr spif operator add "$me" --role operator
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"the first operator must be an admin (--role admin)"* ]]
	run --separate-stderr spif operator add "$me" --role admin,operator,auditor
	[ "$status" -eq 0 ]
	[ "$output" = "$me added" ]
	run --separate-stderr spif operator add nobody --role audit
	[ "$status" -eq 64 ]
	run --separate-stderr spif operator add no-such-user-here --role auditor
	[ "$status" -eq 65 ]
	spif operator add nobody --role auditor,responder --key '0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567'
	run --separate-stderr spif operator add nobody --role auditor
	[ "$status" -eq 65 ]
	run --separate-stderr spif operator ls --json
	[ "$(wc -l <<<"$output")" -eq 2 ]
	[ "$(jq -r 'select(.name == "nobody") | .key' <<<"$output")" = 0123456789ABCDEF0123456789ABCDEF01234567 ]
	# the grant decides
	run --separate-stderr spif vault cat F000001 --reason 照会
	[ "$status" -eq 77 ]
	[[ "$stderr" == "spif-vault: refused: $me may not read records of the purpose \"x\" (F000001): no grant for it"* ]]
	spif operator grant "$me" x
	run --separate-stderr spif operator grant "$me" x
	[ "$status" -eq 65 ]
	run --separate-stderr spif vault cat F000001 --reason 照会
	[ "$status" -eq 0 ]
	run --separate-stderr spif vault cat F000001
	[ "$status" -eq 77 ]
	run --separate-stderr spif operator show "$me" --json
	[ "$(jq -r '.grants[0].purpose' <<<"$output")" = x ]
	run --separate-stderr spif operator show "$me"
	[[ "$output" == *"roles:     operator,auditor,admin"* ]]
	spif operator revoke "$me" x
	run --separate-stderr spif operator revoke "$me" x
	[ "$status" -eq 65 ]
	run --separate-stderr spif operator grant "$me" y --file F000001
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"F000001 is not a file of the purpose \"y\""* ]]
	# lock, unlock, retire
	spif operator lock nobody --reason test
	run --separate-stderr spif operator lock nobody
	[ "$status" -eq 65 ]
	spif operator unlock nobody
	spif operator retire nobody --reason 退職
	run --separate-stderr spif operator unlock nobody
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"nobody is retired"* ]]
	# a plan is approved by a second person, never its maker
	run --separate-stderr spif retain plan
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$D/plan.txt"
	run --separate-stderr spif retain approve "$D/plan.txt"
	[ "$status" -eq 77 ]
	# the log and its review
	run --separate-stderr spif catalog log --operator "$me" --since "$(TZ=Asia/Tokyo date +%F)" --json
	[ "$(jq -r 'select(.action == "operator.refused") | .details.uid' <<<"$output" | sort -u)" = "$(id -u)" ]
	run --separate-stderr spif catalog log --since 2026-13-01
	[ "$status" -eq 64 ]
	run --separate-stderr spif catalog review --since "$(TZ=Asia/Tokyo date +%F)"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^refused ' <<<"$output")" -eq 3 ]
	run --separate-stderr spif catalog review --json
	[ "$(jq -r .kind <<<"$output" | sort -u | tr '\n' ' ')" = "locked refused unlocked " ]
}

@test "personal: the sanitizer signs with their own key, the organisation's key co-signs after (cert cosign), verify checks both" {
	gnupg_setup
	local me org own other id sig
	me=$(id -un)
	org=$(gpg_key org)
	own=$(gpg_key own)
	printf 'sign_key = %s\n' "$org" > "$SPIF_CONF"
	gen --rows 3 -o "$D/a.csv"
	gen --rows 3 -o "$D/b.csv"
	spif ingest --again --reason t --purpose x --store --print-id - < "$D/a.csv" >/dev/null 2>&1
	# a personal install signs with the organisation's key: nothing to co-sign
	run --separate-stderr spif shred --reason test --file F000001
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr spif catalog cert cosign
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"nothing to co-sign"* ]]
	spif operator add "$me" --role admin,operator --key "$own" >/dev/null
	spif operator grant "$me" x >/dev/null
	spif ingest --again --reason t --purpose x --store --print-id - < "$D/b.csv" >/dev/null 2>&1
	run --separate-stderr spif shred --reason test --file F000002
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	id=$output
	run spif catalog cert verify "$id"
	[[ "$output" == *"signature by $own"* ]]
	[[ "$output" != *"co-signed"* ]]
	run --separate-stderr spif catalog cert cosign
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$output" = "$id co-signed by $org" ]
	run --separate-stderr spif catalog cert cosign "$id"
	[ -z "$output" ]
	run spif catalog cert verify "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature by $own, co-signed by $org (event "* ]]
	run --separate-stderr spif catalog log --json
	[ "$(jq -r 'select(.action == "certificate.cosign") | "\(.object) \(.details.signer)"' <<<"$output")" = "$id $org" ]
	# exported, the organisation's signature checks with plain gpg over the same bytes
	mkdir "$D/ex"
	spif catalog cert export "$id" -o "$D/ex" >/dev/null
	gpg --batch --verify "$D/ex/$id.json.cosign.asc" "$D/ex/$id.json" 2>/dev/null
	# another key's signature put in its place: verify names it
	other=$(gpg_key other)
	gpg --batch --yes --local-user "$other" --armor --detach-sign -o "$D/o.asc" "$D/ex/$id.json"
	sig=$(cat "$D/o.asc")
	catalog_sql "UPDATE cert_cosignatures SET signature = '$sig'"
	run --separate-stderr spif catalog cert verify "$id"
	[ "$status" -eq 1 ]
	[[ "$output$stderr" == *"$id: co-signature: signed by a different key than the one recorded"* ]]
	# no organisation key: one line, 69
	: > "$SPIF_CONF"
	run --separate-stderr spif catalog cert cosign
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"no organisation key to co-sign with: set sign_key in spif.conf"* ]]
}

@test "personal: too many refusals lock, as spif.conf says; its keys are checked" {
	local me
	me=$(id -un)
	printf 'lockout_after = 2\nlockout_window = 1h\n' > "$SPIF_CONF"
	spif operator add "$me" --role admin
	run --separate-stderr spif vault ls
	[ "$status" -eq 0 ]
	gen --rows 3 -o "$D/a.csv"
	run --separate-stderr spif ingest --again --reason t --purpose x --print-id "$D/a.csv"
	[ "$status" -eq 77 ]
	run --separate-stderr spif catalog ls --json
	[ -z "$output" ]
	run --separate-stderr spif vault cat F000001 --reason x
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"; $me is now locked after 2 refusals (an admin unlocks: spif operator unlock $me)" ]]
	run --separate-stderr spif vault ls
	[ "$status" -eq 77 ]
	[[ "$stderr" == "spif-vault: refused: $me is locked (an admin unlocks: spif operator unlock)" ]]
	one_line_stderr
	local bad
	for bad in 'lockout_after = 0' 'lockout_window = 15x' 'office_hours = 19:00-08:00' \
		'purge_requires_plan = maybe' 'bulk_read = -1' 'gnupghome = relative'; do
		printf '%s\n' "$bad" > "$SPIF_CONF"
		run --separate-stderr spif catalog ls
		[ "$status" -eq 65 ] || { echo "$bad: $status $stderr"; return 1; }
		one_line_stderr
	done
}
