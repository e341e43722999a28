#!/usr/bin/env bats
# load.bats - many operators on one catalog at once: tens of ingests,
# vault reads, shreds of different files and a purge, started together.
# Every run ends 0 or with a documented refusal (75: the catalog was busy
# for longer than its wait), the audit log verifies, and every copy
# destroyed is certified exactly once.  Kept small enough for a loaded
# two-core machine (about a minute with the sanitised build).

load helper

setup() {
	setup_home
	mkdir "$D/data" "$D/rc"
	# this disk is the administrator's to vouch for (shred.bats)
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
}

teardown() {
	teardown_gpg
}

sql() { sqlite3 "$SPIF_HOME/catalog.db" "$1"; }

# run_bg NAME CMD...: run in the background, its exit status kept in
# $D/rc/NAME and its stderr in $D/rc/NAME.err.
run_bg() {
	local name=$1
	shift
	{ "$@" > /dev/null 2> "$D/rc/$name.err"; echo $? > "$D/rc/$name"; } &
}

@test "load: 24 ingests, 12 vault reads, 12 shreds of different files and a purge at once" {
	# before: 12 plain files to shred, 12 stored files to read, 6 due
	for i in $(seq 12); do
		spif-gen --rows 4 --columns narrow --seed "$i" -o "$D/data/s$i.csv" 2>/dev/null
		spif ingest --purpose 給与 --print-id "$D/data/s$i.csv" > "$D/data/s$i.id" 2>/dev/null
	done
	spif-gen --rows 4 --columns narrow --seed 100 -o "$D/data/v.csv" 2>/dev/null
	for i in $(seq 12); do
		spif ingest --purpose 給与 --store --again --reason 負荷 --print-id - < "$D/data/v.csv" \
			> "$D/data/v$i.id" 2>/dev/null
	done
	vault_files 6 --received 2018-05-01 --schedule kazei-shiryo-7y
	for i in $(seq 24); do
		spif-gen --rows 20 --columns narrow --seed $((200 + i)) -o "$D/data/n$i.csv" 2>/dev/null
	done
	ncopies=$(sql "SELECT COUNT(*) FROM copies")

	SECONDS=0
	for i in $(seq 24); do
		run_bg "ingest$i" spif ingest --purpose 給与 --store -o "$D/data/n$i.ndjson" "$D/data/n$i.csv"
	done
	for i in $(seq 12); do
		run_bg "cat$i" spif vault cat "$(cat "$D/data/v$i.id")"
		run_bg "shred$i" spif shred --file "$(cat "$D/data/s$i.id")"
	done
	run_bg purge spif retain purge
	wait
	echo "# $SECONDS s for the concurrent part" >&3

	busy=0
	for f in "$D"/rc/*; do
		case $f in *.err) continue ;; esac
		rc=$(cat "$f")
		name=${f##*/}
		if [ "$rc" -eq 75 ] && [[ $name == ingest* || $name == cat* ]]; then
			# the one documented refusal under load: the catalog stayed
			# busy past its wait; one line, and nothing left behind
			[ "$(wc -l < "$f.err")" -eq 1 ] || { echo "$name:"; cat "$f.err"; false; }
			busy=$((busy + 1))
			continue
		fi
		[ "$rc" -eq 0 ] || { echo "$name exited $rc:"; cat "$f.err"; false; }
	done
	echo "# $busy runs refused as busy" >&3
	# every shred and the purge did their work: 12 + 6 files disposed
	[ "$(sql "SELECT COUNT(*) FROM files WHERE state = 'disposed'")" -eq 18 ]
	for i in $(seq 12); do
		[ ! -e "$D/data/s$i.csv" ]
	done
	# each destroyed copy certified exactly once, none left in between
	[ "$(sql "SELECT COUNT(*) FROM copies WHERE state = 'disposing'")" -eq 0 ]
	[ "$(sql "SELECT COUNT(*) FROM copies c WHERE c.state = 'disposed' AND
		(SELECT COUNT(*) FROM certificate_copies k WHERE k.copy_id = c.id) != 1")" -eq 0 ]
	[ "$(sql "SELECT COUNT(*) FROM copies WHERE state = 'disposed'")" -eq 18 ]
	# the ingests that ran are whole: a file, its source, its output and
	# its vault copy each; a refused one left no row and no output
	ok=$(grep -lx 0 "$D"/rc/ingest[0-9]* | wc -l)
	[ "$(sql "SELECT COUNT(*) FROM copies")" -eq $((ncopies + 3 * ok)) ]
	for i in $(seq 24); do
		if [ "$(cat "$D/rc/ingest$i")" -eq 0 ]; then [ -s "$D/data/n$i.ndjson" ]; else [ ! -e "$D/data/n$i.ndjson" ]; fi
	done
	run --separate-stderr spif catalog verify
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}
