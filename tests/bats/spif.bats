#!/usr/bin/env bats
# spif, the front: finds and runs spif-COMMAND, passes --home on.
load helper

setup() {
	setup_home
}

teardown() {
	teardown_gpg
}

@test "spif --version and --help" {
	run spif --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^spif\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run spif --help
	[ "$status" -eq 0 ]
	for c in ingest catalog shred redact vault encrypt retain; do [[ "$output" == *"  $c "* ]]; done
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

@test "make install: programs, manuals, completions, and the cron and systemd examples naming the installed spif" {
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	run make -s -C "$top" install PREFIX=/opt/spif DESTDIR="$D/root"
	[ "$status" -eq 0 ]
	r="$D/root/opt/spif"
	[ -x "$r/bin/spif" ]
	for c in ingest catalog shred redact vault encrypt retain; do
		[ -x "$r/libexec/spif/spif-$c" ]
		[ -f "$r/share/man/man1/spif-$c.1" ]
	done
	[ -f "$r/share/bash-completion/completions/spif" ]
	[ -f "$r/share/zsh/site-functions/_spif" ]
	grep -q '^ExecStart=/opt/spif/bin/spif retain purge --syslog$' "$r/share/doc/spif/contrib/spif-purge.service"
	grep -q '^Environment=SPIF_CONF=/etc/spif/spif.conf$' "$r/share/doc/spif/contrib/spif-purge.service"
	grep -q ' spif /opt/spif/bin/spif retain purge --syslog$' "$r/share/doc/spif/contrib/spif-purge.cron"
	[ "$(stat -c %a "$r/share/doc/spif/contrib/spif-purge.timer")" = 644 ]
	! grep -rq /usr/local "$r/share/doc/spif/contrib" || false
}

@test "completions: every option a command's --help names is in the bash and zsh completions" {
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	missing=""
	for c in ingest catalog shred redact vault encrypt retain; do
		opts=$(spif "$c" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
		[ -n "$opts" ]
		for o in $opts; do
			grep -qe "$o\\b" "$top/completions/spif.bash" || missing="$missing bash:$c:$o"
			grep -qe "$o\\b" "$top/completions/_spif" || missing="$missing zsh:$c:$o"
		done
	done
	[ -z "$missing" ] || { echo "not completed:$missing"; return 1; }
	bash -n "$top/completions/spif.bash"
}

@test "spif.conf: a line longer than 1 KiB (a long comment) is read whole; a value too long is one line" {
	{ printf '# %s\n' "$(head -c 1100 /dev/zero | tr '\0' x)"
	  printf 'title = %s\n' "$(head -c 200 /dev/zero | tr '\0' y)"; } > "$SPIF_CONF"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 66 ] # no catalog yet: the conf itself was accepted
	[[ "$stderr" != *"spif.conf"* ]]
	{ printf 'title = %s\n' "$(head -c 5000 /dev/zero | tr '\0' y)"; } > "$SPIF_CONF"
	run --separate-stderr spif catalog ls
	[ "$status" -eq 65 ]
	[ "$stderr" = "spif-catalog: $SPIF_CONF:1: value too long" ]
}
