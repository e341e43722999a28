#!/usr/bin/env bats
# locks.bats - the disposal lock: a shred or a purge waits for it
# (--wait), says who holds it, and a purge that finds it held past
# purge_lock_alarm fails instead of being put off forever.

load helper

setup() {
	setup_home
	mkdir "$D/data"
	# this disk is the administrator's to vouch for (shred.bats)
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose x "$D/data/a.csv" >/dev/null 2>&1
}

teardown() {
	[ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
	wait 2>/dev/null || true
	teardown_gpg
}

# hold_lock SECONDS: hold purge.lock from another process (not spif: it
# leaves no record of itself); its pid in $holder.
hold_lock() {
	flock "$SPIF_HOME/purge.lock" sleep "$1" &
	holder=$!
	for _ in $(seq 200); do
		ino=$(stat -c %i "$SPIF_HOME/purge.lock" 2>/dev/null) || ino=none
		grep -qE "FLOCK .*:$ino " /proc/locks && return 0
		sleep 0.02
	done
	return 1
}

@test "a shred waits for a lock held for a moment, by default and silently when not on a terminal" {
	spif retain purge # the lock file exists from here
	hold_lock 2
	run --separate-stderr spif shred "$D/data/a.csv"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" =~ ^DC- ]]
	[ ! -e "$D/data/a.csv" ]
	spif catalog verify
}

@test "--wait 0 does not wait: exit 75, one line naming the holder, nothing destroyed" {
	spif retain purge
	touch "$SPIF_HOME/purge.lock"
	chmod 600 "$SPIF_HOME/purge.lock"
	hold_lock 30
	before=$(catalog_state)
	run --separate-stderr spif shred --wait 0 "$D/data/a.csv"
	[ "$status" -eq 75 ]
	one_line_stderr
	[[ "$stderr" == *"another purge or shred is disposing of files in $SPIF_HOME (purge.lock is held by a process that left no record)"* ]]
	[ -e "$D/data/a.csv" ]
	[ "$(catalog_state)" = "$before" ]
	# --wait 1 gives up after about a second, and says it waited
	SECONDS=0
	run --separate-stderr spif shred --wait 1 "$D/data/a.csv"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"waited in vain"* ]]
	[ "$SECONDS" -le 10 ]
	[ -e "$D/data/a.csv" ]
}

@test "the holder records who it is in the lock; a waiter names it" {
	# a spif that holds the lock: a shred stopped while it holds it
	head -c 300M /dev/zero > "$D/data/big.bin"
	spif shred --passes 3 "$D/data/big.bin" > /dev/null 2>&1 &
	first=$!
	for _ in $(seq 600); do
		grep -q "^pid=$first$" "$SPIF_HOME/purge.lock" 2>/dev/null && break
		sleep 0.02
	done
	kill -STOP "$first"
	grep -q "^uid=$(id -u)$" "$SPIF_HOME/purge.lock"
	grep -q "^name=$(id -un)$" "$SPIF_HOME/purge.lock"
	grep -qE '^since=[0-9]+$' "$SPIF_HOME/purge.lock"
	run --separate-stderr spif shred --wait 0 "$D/data/a.csv"
	kill -CONT "$first"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"held by uid $(id -u) ($(id -un)), pid $first, since 20"*"Z)"* ]]
	wait "$first"
	[ ! -e "$D/data/big.bin" ]
}

@test "a purge that finds the lock held past purge_lock_alarm exits 1 at once and says who" {
	spif retain purge
	hold_lock 60
	# what a spif holder six and a half hours old would have written
	printf 'uid=4242\nname=mallory\npid=%s\nsince=%s\n' "$holder" "$(( $(date +%s) - 23400 ))" \
		> "$SPIF_HOME/purge.lock"
	SECONDS=0
	run --separate-stderr spif retain purge
	[ "$status" -eq 1 ]
	one_line_stderr
	[[ "$stderr" == *"purge.lock has been held for 390 minutes, longer than purge_lock_alarm (360 minutes): by uid 4242 (mallory), pid $holder, since "* ]]
	[ "$SECONDS" -le 10 ]
	# a shorter alarm in spif.conf; a younger holder is waited for
	printf 'purge_lock_alarm = 2h\n' >> "$SPIF_CONF"
	printf 'uid=4242\nname=mallory\npid=%s\nsince=%s\n' "$holder" "$(( $(date +%s) - 3600 ))" \
		> "$SPIF_HOME/purge.lock"
	run --separate-stderr spif retain purge --wait 1
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"held by uid 4242 (mallory)"* ]]
	printf 'uid=4242\nname=mallory\npid=%s\nsince=%s\n' "$holder" "$(( $(date +%s) - 7300 ))" \
		> "$SPIF_HOME/purge.lock"
	run --separate-stderr spif retain purge --wait 1
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"longer than purge_lock_alarm (120 minutes)"* ]]
}

@test "a holder's record is only believed while its pid runs, and a name is shown only when plain" {
	spif retain purge
	hold_lock 60
	# a stale record (that pid is gone) is no alarm: the holder is unknown
	sh -c 'exit 0' & dead=$!
	wait "$dead"
	printf 'uid=4242\nname=mallory\npid=%s\nsince=1\n' "$dead" > "$SPIF_HOME/purge.lock"
	run --separate-stderr spif retain purge --wait 0
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"a process that left no record"* ]]
	# escape sequences in the name are not printed
	printf 'uid=4242\nname=\033[2Jx\npid=%s\nsince=%s\n' "$holder" "$(date +%s)" > "$SPIF_HOME/purge.lock"
	run --separate-stderr spif retain purge --wait 0
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"held by uid 4242, pid $holder"* ]]
	[[ "$stderr" != *$'\033'* ]]
}

@test "a symbolic link for the lock is refused, not followed" {
	ln -s "$D/elsewhere" "$SPIF_HOME/purge.lock"
	run --separate-stderr spif shred --wait 0 "$D/data/a.csv"
	[ "$status" -ne 0 ]
	[ "$status" -ne 75 ]
	one_line_stderr
	[ ! -e "$D/elsewhere" ]
	[ -e "$D/data/a.csv" ]
}

@test "bad --wait and purge_lock_alarm: one line, 64 and 65, nothing done" {
	before=$(catalog_state)
	for v in -1 x 86401 ''; do
		run --separate-stderr spif shred --wait "$v" "$D/data/a.csv"
		[ "$status" -eq 64 ]
		one_line_stderr
		run --separate-stderr spif retain purge --wait "$v"
		[ "$status" -eq 64 ]
		one_line_stderr
	done
	run --separate-stderr spif retain due --wait 5
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--wait does not apply to due"* ]]
	cp "$SPIF_CONF" "$D/conf"
	for v in 30s 31d soon 0; do
		{ cat "$D/conf"; printf 'purge_lock_alarm = %s\n' "$v"; } > "$SPIF_CONF"
		run --separate-stderr spif retain purge
		[ "$status" -eq 65 ]
		[[ "$stderr" == *"purge_lock_alarm = $v"* ]]
	done
	cp "$D/conf" "$SPIF_CONF"
	[ -e "$D/data/a.csv" ]
	[ "$(catalog_state)" = "$before" ]
}

@test "on a terminal the wait is said once, with the holder" {
	command -v script >/dev/null || skip "script(1) is not installed"
	spif retain purge
	touch "$SPIF_HOME/purge.lock"
	chmod 600 "$SPIF_HOME/purge.lock"
	hold_lock 2
	script -qec "spif shred '$D/data/a.csv'" /dev/null > "$D/tty.out"
	[ "$(grep -c 'waiting up to 300 s for the disposal lock, held by a process that left no record' "$D/tty.out")" -eq 1 ]
	[ ! -e "$D/data/a.csv" ]
}
