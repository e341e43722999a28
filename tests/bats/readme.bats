#!/usr/bin/env bats
# README.md's tour, run top to bottom as written, in order, and compared
# with the outputs it shows: tests/readme-tour.sh says how the steps are
# read, which lines may be elided and what is normalised (times, hashes,
# fingerprints, the scratch directory: what changes from run to run).
#
# The tour runs once, in setup_file, the way a reader runs it: from a
# stand-in for the top of the build tree whose bin/ is the build under test
# ($SPIF_BIN), with a fresh HOME, a throwaway GNUPGHOME, a TMPDIR of its
# own, no SPIF_HOME and a PATH without the build (the README puts it
# there).  Each section is then one test, so that a failure names it.
load helper

tour=$BATS_TEST_DIRNAME/../readme-tour.sh

setup_file() {
	bats_require_minimum_version 1.5.0
	: "${SPIF_BIN:=$BATS_TEST_DIRNAME/../../bin}"
	local bin path disk fs
	bin=$(cd "$SPIF_BIN" && pwd) || return 1
	# short, under /tmp: gpg-agent's socket may live in the tour's GNUPGHOME
	TOUR=$(mktemp -d /tmp/spif-readme.XXXXXX) || return 1
	export TOUR
	mkdir "$TOUR/tree" "$TOUR/tmp" "$TOUR/home" "$TOUR/gnupg" &&
		chmod 700 "$TOUR/gnupg" && ln -s "$bin" "$TOUR/tree/bin" || return 1
	# The shred steps show what spif sees on the disk the tour was made on:
	# ext4 on a virtio disk, vda.  Elsewhere they say other true things.
	disk=$(disk_of "$TOUR") fs=$(findmnt -no FSTYPE -T "$TOUR" | head -1)
	if [ "$disk" != vda ] || [ "$fs" != ext4 ]; then
		export TOUR_SKIP="the tour shows ext4 on the virtio disk vda; here the scratch directory is $fs on ${disk:-?}"
		return 0
	fi
	path=$(printf '%s\n' "$PATH" | tr : '\n' | grep -vxF -e "$bin" -e "$SPIF_BIN" | paste -sd:)
	(cd "$TOUR/tree" &&
		env -u SPIF_HOME -u SPIF_EXEC_PATH -u XDG_DATA_HOME -u OLDPWD \
			PATH="$path" HOME="$TOUR/home" TMPDIR="$TOUR/tmp" \
			GNUPGHOME="$TOUR/gnupg" SPIF_CONF="$TOUR/absent.conf" LC_ALL=C.UTF-8 \
			timeout 900 "$tour" run "$BATS_TEST_DIRNAME/../../README.md" "$TOUR/steps") \
		> "$TOUR/run.log" 2>&1
}

teardown_file() {
	[ -n "${TOUR:-}" ] && [ -d "$TOUR" ] || return 0
	GNUPGHOME="$TOUR/gnupg" gpgconf --kill all 2>/dev/null
	rm -rf "$TOUR"
}

# section NAME [--known TEXT REASON]...: the steps of one section match.
# A step marked --known (a command whose behaviour is a bug, not the
# README's) makes the test skip with its reason, once the others match.
section() {
	[ -z "${TOUR_SKIP:-}" ] || skip "$TOUR_SKIP"
	[ -f "$TOUR/steps/steps" ] || { cat "$TOUR/run.log"; return 1; }
	run "$tour" check "$TOUR/steps" "$@"
	echo "$output"
	if [ "$status" -eq 3 ]; then
		skip "BUG: $(sed -n 's/^KNOWN BUG (\(.*\)): .*/\1/p' <<< "$output" | head -1)"
	fi
	[ "$status" -eq 0 ]
}

@test "readme: the tour is extracted: every section with steps is checked below" {
	[ -z "${TOUR_SKIP:-}" ] || skip "$TOUR_SKIP"
	run "$tour" sections "$TOUR/steps"
	[ "$status" -eq 0 ]
	[ "$output" = "A short tour
Redact and the vault
Encrypt what leaves
Keep the record, lose the numbers
Retention
What leaves the office" ]
}

@test "readme: A short tour" {
	section "A short tour"
}

@test "readme: Redact and the vault" {
	section "Redact and the vault"
}

@test "readme: Encrypt what leaves" {
	section "Encrypt what leaves"
}

@test "readme: Keep the record, lose the numbers" {
	section "Keep the record, lose the numbers"
}

@test "readme: Retention" {
	section "Retention"
}

@test "readme: What leaves the office" {
	section "What leaves the office"
}

@test "readme: the tour writes nothing into the tree it starts in" {
	[ -z "${TOUR_SKIP:-}" ] || skip "$TOUR_SKIP"
	[ "$(ls -A "$TOUR/tree")" = bin ]
}

# The checker itself: a failing command, a wrong output, an output where
# none is shown all fail; the elisions and normalisations are what the
# rules say, and no more.
@test "readme: the tour checker fails on a failing command or a different output" {
	setup_home
	mkdir "$D/t"
	cat > "$D/t/README.md" <<-'EOF'
	# x

	    $ echo not a step

	## A short tour

	    $ echo one; echo two
	    one
	    two
	    $ printf 'a\nb\nc\nd\n'
	    a
	    ...
	    d
	    $ echo "head $(printf %064d 7) at 2031-01-02T03:04:05.678Z by DC-2031-000004"
	    head c6af516f3643885004f720cf0d728fd7c10daf0ca49cd9ae85f2ae77253fd353 at 2026-11-22T01:20:22.691Z by DC-2026-000004
	    $ cd "$(mktemp -d)" && pwd
	    /tmp/tmp.lkv3JxwV5h
	    $ echo 'the same twice:' PSN:AAAAAAAAAAAAAAAAAAAAAAAAAA PSN:AAAAAAAAAAAAAAAAAAAAAAAAAA
	    the same twice: PSN:TYZ2RRVKVHDPXJ335O3HEKTHS6 PSN:TYZ2RRVKVHDPXJ335O3HEKTHS6
	    $ echo x | \
	          sed s/x/y/   # a comment: output not compared

	## Wrong

	    $ false
	    $ echo 1001 records
	    1000 records
	    $ echo something
	    $ echo 'not the same:' PSN:AAAAAAAAAAAAAAAAAAAAAAAAAA PSN:BBBBBBBBBBBBBBBBBBBBBBBBBB
	    not the same: PSN:TYZ2RRVKVHDPXJ335O3HEKTHS6 PSN:TYZ2RRVKVHDPXJ335O3HEKTHS6
	    $ echo F000002 ok
	    ... ok
	    F000001 ...
	EOF
	(cd "$D/t" && "$tour" run README.md "$D/t/steps") 3>&-
	run "$tour" sections "$D/t/steps"
	[ "$output" = "A short tour
Wrong" ]
	run "$tour" check "$D/t/steps" "A short tour"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$tour" check "$D/t/steps" Wrong
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(grep -c '^README.md:[0-9]*: step' <<< "$output")" -eq 5 ]
	[[ "$output" == *"step 007 exited 1"* ]]
	# a known bug is reported as such (exit 3), and one that matches fails
	run "$tour" check "$D/t/steps" Wrong --known false why --known 1001 why \
		--known something why --known 'not the same' why --known F000002 why
	[ "$status" -eq 3 ]
	run "$tour" check "$D/t/steps" "A short tour" --known 'echo one' why
	[ "$status" -eq 1 ]
	[[ "$output" == *"now matches"* ]]
}
