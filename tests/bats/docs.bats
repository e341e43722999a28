#!/usr/bin/env bats
# The documentation against the build: every command the Makefile builds
# is in spif(7), INSTALL, both completions and has its own manual page;
# every manual page passes mandoc's lint; what INSTALL and README say
# "make install" puts where is there; the system setup of INSTALL makes the
# user and group that contrib/ runs the purge as; and the commands of
# INSTALL and README that can run in a test do run.  (README's tour is
# readme.bats.)
#
# RUN, with test paths: "make install" and "make uninstall" into a DESTDIR
# (this builds bin/ first if it is not built, as "make install" does);
# INSTALL's spif.conf, with a scratch home and this user's group; INSTALL's
# backup command, on a scratch catalog; "make demo", as the script it runs,
# against the build under test.
#
# DELIBERATELY NOT RUN, because they need a real system install as root,
# or a real office's paths, or are the test suite itself:
#   INSTALL section 3: "make clean && make PREFIX=/opt/spif && make install
#     PREFIX=/opt/spif" (cleans and rebuilds the checkout, writes /opt);
#   INSTALL section 4: groupadd, useradd, install -d /var/lib/spif and
#     /etc/spif, writing /etc/spif/spif.conf, usermod, the "Check it as an
#     operator" session, and cp into /etc/systemd/system and /etc/cron.d
#     with systemctl enable (their user and group are checked against
#     contrib/ instead);
#   INSTALL section 5: lsblk/findmnt of /srv/records, spif shred of a
#     /srv/records file;
#   README: "make check" (this suite) and "make bench" (minutes).
load helper

top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	setup_home
	cd "$top" || return 1
	# the commands, as the Makefile builds them
	CMDS=$(make -s --no-print-directory --eval 'docs-cmds: ; @echo $(CMDS)' docs-cmds)
	[ -n "$CMDS" ] || return 1
}

@test "docs: the Makefile's commands are the build's programs" {
	local c
	for c in $CMDS; do
		[ -x "$SPIF_BIN/spif-$c" ] || { echo "no program spif-$c in $SPIF_BIN"; return 1; }
	done
	[ "$(echo $CMDS | wc -w)" -ge 7 ]
}

@test "docs: every command is in spif(7), INSTALL, both completions, and has its page" {
	local c bad=0
	for c in $CMDS; do
		[ -f "man/spif-$c.1" ] || { echo "no man/spif-$c.1"; bad=1; }
		grep -qx "\.It Cm $c" man/spif.7 || { echo "spif(7) does not list $c"; bad=1; }
		grep -qx "\.Xr spif-$c 1 ,\?" man/spif.7 || { echo "spif(7) SEE ALSO lacks spif-$c(1)"; bad=1; }
		grep -q "spif-$c(1)" INSTALL || { echo "INSTALL does not name spif-$c(1)"; bad=1; }
		sed -n '/^ *PREFIX\/libexec\/spif\/spif-CMD/,/^ *PREFIX\/share/p' INSTALL | sed '$d' | grep -qw "$c" ||
			{ echo "INSTALL does not list $c among the commands"; bad=1; }
		grep -Eq "^complete .* spif-$c( |$)" completions/spif.bash ||
			{ echo "spif.bash does not complete spif-$c"; bad=1; }
		grep -Eq "_spif_reply \"([a-z]+ )*$c( [a-z]+)* help\"" completions/spif.bash ||
			{ echo "spif.bash does not offer $c as a command"; bad=1; }
		grep -Eq "^#compdef .* spif-$c( |$)" completions/_spif ||
			{ echo "_spif does not complete spif-$c"; bad=1; }
		grep -q "'$c:" completions/_spif || { echo "_spif does not offer $c as a command"; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

@test "docs: every manual page passes mandoc -Tlint -W warning" {
	local m n=0 bad=0
	while IFS= read -r m; do
		n=$((n + 1))
		mandoc -Tlint -W warning "$m" || bad=1
	done < <(find man -name '*.[1-9]' | sort)
	[ "$n" -ge 10 ]
	[ "$bad" -eq 0 ]
}

@test "docs: nothing is called planned; nothing says export does not exist" {
	run grep -n -i -w 'planned' INSTALL README.md $(find man -name '*.[1-9]')
	[ "$status" -eq 1 ] || { echo "$output"; return 1; }
	! grep -q 'no "spif export"' INSTALL || false
	! grep -q 'there is no `spif export`' README.md || false
	! grep -A1 -x 'There is no' man/spif.7 | grep -qx '.Cm export' || false
}

@test "docs: make install into a DESTDIR installs what INSTALL and README list; uninstall removes it" {
	local stage=$D/stage root p c
	grep -q '^    make install \[PREFIX=/usr/local\] \[DESTDIR=/tmp/stage\]$' INSTALL
	grep -q '^    make install PREFIX=/usr/local$' README.md
	make -s install PREFIX=/usr/local DESTDIR="$stage" > "$D/make.log" 2>&1 ||
		{ cat "$D/make.log"; return 1; }
	root=$stage/usr/local
	# INSTALL's table, a path per line
	while read -r p; do
		case $p in
		*spif-CMD)
			for c in $CMDS; do
				[ -x "$root/${p%CMD}$c" ] || { echo "INSTALL lists, not installed: $p ($c)"; return 1; }
			done ;;
		*)
			compgen -G "$root/$p" > /dev/null || { echo "INSTALL lists, not installed: $p"; return 1; } ;;
		esac
	done < <(sed -n 's|^    PREFIX/\([^ ]*\).*|\1|p' INSTALL)
	[ "$(sed -n 's|^    PREFIX/\([^ ]*\).*|\1|p' INSTALL | wc -l)" -ge 10 ]
	# every manual page, completion and example, by name
	for c in $CMDS; do [ -f "$root/share/man/man1/spif-$c.1" ]; done
	for p in man/*.[1-9]; do [ -f "$root/share/man/man${p##*.}/${p##*/}" ]; done
	for p in contrib/*; do [ -f "$root/share/doc/spif/$p" ]; done
	# the places README names
	while read -r p; do
		[ -e "$root/$p" ] || { echo "README names, not installed: PREFIX/$p"; return 1; }
	done < <(sed -n '/^## Install/,/^## /p' README.md | grep -o 'PREFIX/[A-Za-z0-9/_.-]*[A-Za-z0-9_-]' | sed 's|^PREFIX/||')
	# the installed front runs the installed commands
	run env SPIF_EXEC_PATH="$root/libexec/spif" "$root/bin/spif" --version
	[ "$status" -eq 0 ]
	for c in $CMDS; do
		run env SPIF_EXEC_PATH="$root/libexec/spif" "$root/bin/spif" help "$c"
		[ "$status" -eq 0 ] || { echo "spif help $c: $output"; return 1; }
	done
	make -s uninstall PREFIX=/usr/local DESTDIR="$stage" > "$D/make.log" 2>&1 ||
		{ cat "$D/make.log"; return 1; }
	run find "$stage" -type f
	[ -z "$output" ] || { echo "left after uninstall: $output"; return 1; }
}

@test "docs: the installed contrib examples name PREFIX, not /usr/local" {
	local stage=$D/stage f
	make -s install PREFIX=/opt/spif DESTDIR="$stage" > "$D/make.log" 2>&1 ||
		{ cat "$D/make.log"; return 1; }
	for f in spif-purge.service spif-purge.cron; do
		grep -q '/opt/spif/bin/spif retain purge' "$stage/opt/spif/share/doc/spif/contrib/$f"
	done
	run grep -rn /usr/local "$stage/opt/spif/share/doc/spif/contrib"
	[ "$status" -eq 1 ] || { echo "$output"; return 1; }
}

@test "docs: INSTALL's system setup makes the user and group contrib/ runs the purge as" {
	local user cronuser group
	user=$(sed -n 's/^User=//p' contrib/spif-purge.service)
	cronuser=$(awk '!/^#/ && !/=/ && NF > 6 { print $6; exit }' contrib/spif-purge.cron)
	[ -n "$user" ] && [ "$user" = "$cronuser" ]
	group=$(sed -n 's/^    group *= *//p' INSTALL)
	[ -n "$group" ]
	grep -Eq "^    groupadd --system $group$" INSTALL
	# the useradd command (with its continuation line) adds $user to $group
	sed -n '/^    useradd /,/[^\\]$/p' INSTALL | tr -d '\\\n' |
		grep -Eq -- "--system .*--gid $group .* $user$"
	# and it comes before anything the user must own or run
	[ "$(grep -n '^    useradd ' INSTALL | cut -d: -f1)" -lt "$(grep -n '^    install -d -m 2770' INSTALL | cut -d: -f1)" ]
}

@test "docs: INSTALL's spif.conf is accepted (with a scratch home and this user's group)" {
	sed -n "/^    cat > \/etc\/spif\/spif.conf <<'EOF'$/,/^    EOF$/p" INSTALL |
		sed '1d;$d; s/^    //' > "$D/install.conf"
	[ "$(grep -c '=' "$D/install.conf")" -ge 5 ]
	sed -i "s|^home *=.*|home = $D/shared|; s|^group *=.*|group = $(id -gn)|" "$D/install.conf"
	export SPIF_CONF=$D/install.conf
	unset SPIF_HOME
	gen --rows 5 -o "$D/x.csv"
	run spif ingest --purpose 個人住民税の賦課 --print-id "$D/x.csv"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ -f "$D/shared/catalog.db" ]
	spif shred --reason test --file F000001 --force > "$D/cert" 2>/dev/null
	run spif catalog cert show "$(cat "$D/cert")"
	[[ "$output" == *"本庁舎3階 税務課"* ]]
	[[ "$output" == *"税務課 内線1234"* ]]
}

@test "docs: INSTALL's backup commands work, and what it says of keys/ is true" {
	local cmd
	cmd=$(grep '^    spif catalog backup -o /backup/spif/' INSTALL | sed 's/^    //')
	[ -n "$cmd" ]
	grep -q '^    spif catalog restore-test /backup/spif/' INSTALL
	gen --rows 5 -o "$D/x.csv"
	spif ingest --purpose 個人住民税の賦課 --store --print-id - < "$D/x.csv" > /dev/null 2>&1
	mkdir -p "$D/backup/spif"
	cmd=${cmd//\/backup\/spif/$D/backup/spif}
	run bash -c "$cmd"
	[ "$status" -eq 0 ] || { echo "$cmd: $output"; return 1; }
	bk=$(ls -d "$D"/backup/spif/*)
	[ ! -e "$bk/keys" ]
	run spif catalog restore-test "$bk"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	# a copy of keys/ taken with it would undo the erase: what INSTALL warns of
	cp -a "$SPIF_HOME/keys" "$D/keys-copy"
	run spif shred --reason test --file F000001
	[ "$status" -eq 0 ]
	run spif catalog restore "$bk" --home "$D/restored" --keys "$SPIF_HOME/keys"
	[ "$status" -eq 1 ]
	[[ "$output" == *"F000001: not restored: its key is gone"* ]]
	run spif catalog restore "$bk" --home "$D/undone" --keys "$D/keys-copy"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	run spif --home "$D/undone" vault cat F000001
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ "$(printf '%s\n' "$output" | grep -c '"@file":"F000001"')" -eq 5 ]
}

@test "docs: make demo's script runs against the build under test" {
	run "$top/tests/demo.sh" "$SPIF_BIN"
	[ "$status" -eq 0 ] || { echo "$output" | tail -20; return 1; }
}

# The options a page names: every "Fl X" (mdoc's flag macro), X as the
# reader types it (\- is -).
man_flags() {
	grep -o 'Fl \\\{0,1\}[-A-Za-z0-9][-A-Za-z0-9\\]*' "$1" | sed 's/^Fl //; s/\\-/-/g' | sort -u
}

@test "docs: every option an English page names is in its Japanese page" {
	local en ja f bad=0 n=0
	for en in man/spif-*.1 man/spif.7; do
		ja=man/ja/${en#man/}
		[ -f "$ja" ] || { echo "no $ja"; bad=1; continue; }
		n=$((n + 1))
		for f in $(comm -23 <(man_flags "$en") <(man_flags "$ja")); do
			echo "$ja does not name -$f (as $en does)"
			bad=1
		done
	done
	[ "$n" -ge 12 ]
	[ "$bad" -eq 0 ]
}

# The names spif-catalog(5) documents, as a reader greps for them: the
# tables of its ".Ss Table X" / ".Ss Tables X, Y and Z" headings, and the
# column, key, event kind and path on each list item (.It Li X, .It Dq X,
# .It Do X Dc, .It Pa X; prose items such as "Against ..." are not names).
catalog5_tables() {
	sed -n 's/^\.Ss Tables\{0,1\} //p' "$1" | sed 's/:.*//; s/,/ /g; s/ and / /g' | tr ' ' '\n' | grep . | sort -u
}
catalog5_items() {
	grep -E '^\.It (Li|Dq|Do|Pa) ' "$1" |
		sed -E 's/^\.It //; s/\<(Li|Dq|Do|Dc|Pa|Ns|Ar)\>//g; s/,/ /g' |
		tr ' ' '\n' | grep . | sort -u
}

@test "docs: the Japanese spif-catalog(5) names every table, column and event kind, in as many subsections" {
	local en=man/spif-catalog.5 ja=man/ja/spif-catalog.5 w bad=0
	[ -f "$ja" ] || { echo "no $ja"; return 1; }
	[ "$(catalog5_tables "$en" | wc -l)" -ge 30 ]
	[ "$(catalog5_items "$en" | wc -l)" -ge 150 ]
	for w in $(catalog5_tables "$en") $(catalog5_items "$en"); do
		grep -qwF -- "$w" "$ja" || { echo "$ja does not name $w (as $en does)"; bad=1; }
	done
	# every event kind of the audit log's list, on a list item of its own
	for w in $(awk '/^\.Ss Table events/ { s = 1; next } /^\.S[sh]/ { s = 0 } s' "$en" |
		grep '^\.It Dq' | sed -E 's/^\.It //; s/\<Dq\>//g; s/,/ /g'); do
		grep -E '^\.It ' "$ja" | grep -qwF -- "$w" || { echo "$ja lists no event kind $w"; bad=1; }
	done
	local se sj
	se=$(grep -c '^\.Ss ' "$en") sj=$(grep -c '^\.Ss ' "$ja")
	[ "$se" -eq "$sj" ] || { echo "$ja has $sj subsections, $en has $se"; bad=1; }
	se=$(grep -c '^\.It' "$en") sj=$(grep -c '^\.It' "$ja")
	[ "$se" -eq "$sj" ] || { echo "$ja has $sj list items, $en has $se"; bad=1; }
	[ "$bad" -eq 0 ]
}

# The options a page describes: the flags on its list items (.It Fl X).
man_items() {
	grep '^\.It .*Fl ' "$1" | grep -o 'Fl \\\{0,1\}[-A-Za-z0-9][-A-Za-z0-9\\]*' | sed 's/^Fl //; s/\\-/-/g' | sort -u
}

@test "docs: every Japanese page describes each option and exit code its English page describes, and is lint clean" {
	local m en s f bad=0 n=0
	for m in man/ja/*.[1-9]; do
		n=$((n + 1))
		mandoc -Tlint -W warning "$m" || bad=1
		en=man/${m#man/ja/}
		[ -f "$en" ] || { echo "$m translates no English page"; bad=1; continue; }
		# the sections that matter, where the English page has them
		for s in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS' 'SEE ALSO'; do
			! grep -qx "\.Sh $s" "$en" || grep -qx "\.Sh $s" "$m" || { echo "$m has no .Sh $s"; bad=1; }
		done
		for f in $(comm -23 <(man_items "$en") <(man_items "$m")); do
			echo "$m has no list item (.It Fl $f) describing -$f, as $en does"
			bad=1
		done
		# each exit code the English page lists (.It N) is explained
		for f in $(awk '/^\.Sh EXIT STATUS/ { s = 1; next } /^\.Sh/ { s = 0 } s' "$en" | sed -n 's/^\.It \([0-9][0-9]*\)$/\1/p'); do
			awk '/^\.Sh EXIT STATUS/ { s = 1; next } /^\.Sh/ { s = 0 } s' "$m" | grep -qw -- "$f" ||
				{ echo "$m: EXIT STATUS does not explain $f, as $en does"; bad=1; }
		done
	done
	[ "$n" -ge 12 ]
	[ "$bad" -eq 0 ]
}
