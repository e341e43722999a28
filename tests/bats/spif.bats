#!/usr/bin/env bats
# spif, the front: finds and runs spif-COMMAND, passes --home on.
load helper

setup() {
	setup_home
}

@test "spif --version and --help" {
	run spif --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^spif\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run spif --help
	[ "$status" -eq 0 ]
	for c in ingest catalog shred redact vault; do [[ "$output" == *"  $c "* ]]; done
}

@test "spif help COMMAND shows the command's usage" {
	for c in ingest catalog shred redact vault; do
		run spif help "$c"
		[ "$status" -eq 0 ]
		[[ "$output" == "usage: spif $c"* ]]
	done
}

@test "spif --home DIR runs the command on that home" {
	gen --rows 3 -o "$D/a.csv"
	run spif --home "$D/other" ingest --purpose x --print-id "$D/a.csv"
	[ "$status" -eq 0 ]
	[ -f "$D/other/catalog.db" ]
	[ ! -e "$SPIF_HOME/catalog.db" ]
	run spif --home="$D/other" catalog ls --json
	[[ "$output" == *F000001* ]]
}

@test "bad: no command, an unknown command, an unknown option (exit 64, one line)" {
	run --separate-stderr spif
	[ "$status" -eq 64 ]
	run --separate-stderr spif frobnicate
	[ "$status" -eq 64 ]
	[[ "$stderr" == "spif: 'frobnicate' is not a spif command (see 'spif help')" ]]
	run --separate-stderr spif ../../bin/sh
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"is not a spif command"* ]]
	run --separate-stderr spif --frob ingest
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "bad: a broken spif.conf stops every command with the file and line" {
	printf 'home = /tmp\nbogus = 1\n' > "$SPIF_CONF"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"spif.conf:2: unknown key \"bogus\""* ]]
	one_line_stderr
}
