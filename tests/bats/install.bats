#!/usr/bin/env bats
# make install under a PREFIX other than the one bin/ was built with: the
# front finds its commands relative to itself (PREFIX/bin/spif ->
# PREFIX/libexec/spif, cmd/common/exec.h), in two installs side by side.
load helper

setup() {
	setup_home
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	unset SPIF_EXEC_PATH
}

teardown() {
	teardown_gpg
}

# The libexec directory bin/spif was built with (SPIF_LIBEXECDIR).
built_libexec() {
	strings "$top/bin/spif" | grep -m1 '/libexec/spif$'
}

# lifecycle ROOT: ingest, list, shred and verify with ROOT/bin/spif only.
lifecycle() {
	local root=$1 h=$D/home-${1##*/}
	mkdir -p "$D/data"
	gen --rows 20 --columns narrow -o "$D/data/l.csv"
	run --separate-stderr env PATH=/usr/bin:/bin SPIF_HOME="$h" "$root/bin/spif" catalog --help
	[ "$status" -eq 0 ] || { echo "catalog --help: $stderr"; return 1; }
	[[ "$output" == *"spif catalog ls"* ]]
	run --separate-stderr env PATH=/usr/bin:/bin SPIF_HOME="$h" "$root/bin/spif" ingest --purpose 試験 \
		--print-id "$D/data/l.csv"
	[ "$status" -eq 0 ] || { echo "ingest: $stderr"; return 1; }
	[ "$output" = F000001 ]
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
	run --separate-stderr env PATH=/usr/bin:/bin SPIF_HOME="$h" "$root/bin/spif" shred --file F000001
	[ "$status" -eq 0 ] || { echo "shred: $stderr"; return 1; }
	[[ "$output" =~ ^DC-[0-9]{4}-000001$ ]]
	run env PATH=/usr/bin:/bin SPIF_HOME="$h" "$root/bin/spif" catalog verify
	[ "$status" -eq 0 ]
}

@test "install: two installs under PREFIXes other than the build's each run their commands" {
	[ -x "$top/bin/spif" ] || skip "bin/ is not built (make all)"
	local built p1=/opt/spif-a p2=$D/prefix-b
	built=$(built_libexec)
	[ -n "$built" ]
	# the test means something only when the built-in place holds nothing
	[ ! -e "$built/spif-catalog" ] || skip "$built is installed: it would hide a front that looks only there"
	make -s -C "$top" install PREFIX="$p1" DESTDIR="$D/stage" > "$D/make1.log" 2>&1 ||
		{ cat "$D/make1.log"; return 1; }
	make -s -C "$top" install PREFIX="$p2" > "$D/make2.log" 2>&1 || { cat "$D/make2.log"; return 1; }
	[ "$built" != "$p1/libexec/spif" ] && [ "$built" != "$p2/libexec/spif" ]
	lifecycle "$D/stage$p1"
	lifecycle "$p2"
	# moved as a tree, it still finds its own commands
	mv "$p2" "$D/moved"
	lifecycle "$D/moved"
}

@test "install: a front with no commands beside it or under ../libexec says so in one line (64)" {
	[ -x "$top/bin/spif" ] || skip "bin/ is not built (make all)"
	built=$(built_libexec)
	[ ! -e "$built/spif-catalog" ] || skip "$built is installed"
	mkdir -p "$D/lone/bin"
	cp "$top/bin/spif" "$D/lone/bin/spif"
	run --separate-stderr "$D/lone/bin/spif" catalog --help
	[ "$status" -eq 64 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"catalog"* ]]
}
