#!/bin/bash
# readme-tour.sh - run the tour in README.md and compare what it shows with
# what happens, so that the README stays true.
#
#   readme-tour.sh run README DIR      extract the steps into DIR (new) and
#                                      run them in order, in one shell, from
#                                      the current directory
#   readme-tour.sh check DIR SECTION [--known TEXT REASON]...
#                                      compare the steps of one section; exit
#                                      0 when all match, 1 when one does not,
#                                      3 when only the --known ones do not
#   readme-tour.sh sections DIR        the sections that have steps
#   readme-tour.sh steps README        the steps, as the rules below read them
#
# THE RULES the README follows, and what is compared:
#
# - The tour is every indented code block after the heading "## A short
#   tour", to the end of the file.  In it a line "$ COMMAND" is a step; the
#   lines after it that continue the command (it ends in a backslash, or the
#   shell finds it incomplete: a pipe, &&, for ... done) are part of it.
#   The other lines, up to the next "$ " line or the end of the block, are
#   the output it shows (stdout and stderr together, in the order written).
# - Steps run in order in one bash, so that cd and export carry on; each
#   reads /dev/null.  Commands run as written, but for one thing: a
#   certificate id of the tour's year (DC-2026-000001, the year of
#   TOUR_DAY; an export id EX-2026-000001 likewise) names the certificate
#   (export) of the same number issued in the year
#   of the run.  Every step must exit 0: a command shown failing says
#   so itself ("; echo $?" with the status shown under it).
# - A step that shows no output must print nothing, except a step whose
#   command ends in a comment (two blanks, "# what it shows"): its output
#   is described, not shown, and not compared.
# - Shown output is compared line by line, trailing blanks ignored, except:
#     a line that is only "..."  stands for any number of lines (0 or more);
#     "..." inside a line        stands for any text on that line;
#   and, because they change from run to run (what a line is about, such
#   as a count, an id or a due date, is compared as shown: a fresh home and
#   spif-gen's fixed default seed make them the same on every run):
#     64 hex digits (SHA-256, audit heads)     any 64 lowercase hex digits
#     40 hex digits (OpenPGP fingerprints)     any 40 uppercase hex digits
#     32 hex digits (the catalog's id)         any 32 lowercase hex digits
#     an ISO 8601 time 2026-11-22T01:20:22.691Z or ...T09:32:37+09:00
#                                              any such time
#     a local time for people 2026-11-22 10:20:22 JST
#                                              any such time and zone
#     TOUR_DAY (below), the day the shown outputs were made
#                                              the day of the run (local
#                                              time or UTC, at its start
#                                              or end)
#     the year in a certificate id DC-2026-    any year
#     (or an export id EX-2026-)
#     /tmp/tmp.XXXXXXXXXX (what mktemp -d made) the directory mktemp -d
#                                              made in the run's TMPDIR
#     a pseudonym PSN:... (the key is random)  any pseudonym
#     TOUR_USER (below), the login name        the login name of the run
#     the outputs were made under              (the blanks after it, which
#                                              pad a column, any number)
#   A hash, fingerprint or pseudonym shown twice in one step's output must
#   be the same both times in the real output too.
TOUR_DAY=2026-11-22
TOUR_USER=root

set -u
me=${0##*/}
die() { echo "$me: $*" >&2; exit 2; }

# extract README DIR: DIR/NNN.cmd, NNN.shown and the index DIR/steps
# (number, README line, flags, section; tab-separated).
extract() {
	local readme=$1 dir=$2
	mkdir -p "$dir" || exit 2
	perl - "$readme" "$dir" <<'PERL' || exit 2
use strict; use warnings;
my ($readme, $dir) = @ARGV;
open my $in, '<', $readme or die "$readme: $!\n";
my @l = <$in>; chomp @l;
my ($on, $section, $n, @steps) = (0, '', 0);
# Is this command text complete for the shell?  (bash -n says "unexpected
# end of file" or "unexpected EOF" when it needs more lines.)
sub incomplete {
	my ($text) = @_;
	return 1 if $text =~ /\\$/;
	my $t = "$dir/.syntax";
	open my $f, '>', $t or die; print $f "$text\n"; close $f;
	my $err = `bash -n '$t' 2>&1`;
	unlink $t;
	return 1 if $err =~ /unexpected (end of file|EOF)/;
	die "$readme: a command that is not shell: $text\n$err" if $err ne '';
	return 0;
}
my $i = 0;
while ($i < @l) {
	my $line = $l[$i];
	if ($line =~ /^## (.*)/) { $section = $1; $on = 1 if $section eq 'A short tour'; }
	if (!$on || $line !~ /^    \$ (.*)/) { $i++; next; }
	my ($start, $cmd) = ($i + 1, $1);
	$i++;
	while (incomplete($cmd)) {
		die "$readme:$start: the command does not end\n" if $i >= @l || $l[$i] !~ /^    (.*)/;
		$cmd .= "\n$1";
		$i++;
	}
	# the output: code lines up to the next "$ " line or the end of the block
	my @out;
	while ($i < @l && $l[$i] !~ /^    \$ /) {
		if ($l[$i] =~ /^    (.*)/) { push @out, $1; $i++; next; }
		last if $l[$i] ne '';
		my $j = $i; $j++ while $j < @l && $l[$j] eq '';
		last if $j >= @l || $l[$j] !~ /^    /;
		push @out, ('') x ($j - $i); $i = $j;
	}
	pop @out while @out && $out[-1] eq '';
	my $flags = (!@out && $cmd =~ /\s\s#\s[^'"\n]*\z/) ? 'described' : '-';
	$n++;
	my $base = sprintf '%s/%03d', $dir, $n;
	open my $c, '>', "$base.cmd" or die; print $c "$cmd\n"; close $c;
	open my $s, '>', "$base.shown" or die; print $s map { "$_\n" } @out; close $s;
	push @steps, sprintf "%03d\t%d\t%s\t%s\n", $n, $start, $flags, $section;
}
die "$readme: no \"\$ \" steps after \"## A short tour\"\n" unless @steps;
open my $ix, '>', "$dir/steps" or die; print $ix @steps; close $ix;
PERL
}

# run README DIR: extract, then run every step in one bash from the current
# directory.  Also records the run's TMPDIR and days, for check.
run() {
	local readme=$1 dir=$2 n
	[ ! -e "$dir" ] || die "$dir exists"
	extract "$readme" "$dir"
	dir=$(cd "$dir" && pwd)
	perl -pi -e "s/\\b(DC|EX)-${TOUR_DAY%%-*}-/\$1-$(date +%Y)-/g" "$dir"/*.cmd
	realpath "${TMPDIR:-/tmp}" > "$dir/tmpdir"
	id -un > "$dir/user"
	{ date +%F; date -u +%F; TZ=Asia/Tokyo date +%F; } > "$dir/days"
	{
		echo "# generated by $me from $readme"
		while IFS=$'\t' read -r n _; do
			printf '. %q > %q 2>&1 < /dev/null; echo $? > %q\n' \
				"$dir/$n.cmd" "$dir/$n.out" "$dir/$n.rc"
		done < "$dir/steps"
		# not a step: the gpg-agent a step may have started for its GNUPGHOME
		echo '[ -z "${GNUPGHOME:-}" ] || gpgconf --kill all 2>/dev/null'
		echo 'exit 0'
	} > "$dir/run.bash"
	bash --norc --noprofile "$dir/run.bash"
	{ date +%F; date -u +%F; TZ=Asia/Tokyo date +%F; } >> "$dir/days"
}

# check DIR SECTION [--known TEXT REASON]...
check() {
	local dir=$1 section=$2
	shift 2
	[ -f "$dir/steps" ] || die "$dir: no steps (run first)"
	perl - "$dir" "$section" "$TOUR_DAY" "$TOUR_USER" "$@" <<'PERL'
use strict; use warnings;
my ($dir, $section, $tour_day, $tour_user, @known) = @ARGV;
my @k; # [TEXT, REASON, seen]
while (@known) {
	my $opt = shift @known;
	die "usage: check DIR SECTION [--known TEXT REASON]...\n"
		unless $opt eq '--known' && @known >= 2;
	push @k, [shift @known, shift @known, 0];
}
sub slurp { my ($f) = @_; open my $h, '<', $f or return ''; local $/; my $s = <$h>; $s }
chomp(my $tmpdir = slurp("$dir/tmpdir"));
chomp(my $user = slurp("$dir/user"));
my %days = map { $_ => 1 } split /\n/, slurp("$dir/days");
my $day_re = join '|', map { quotemeta } sort keys %days;

# the shown output as a regular expression (see the rules at the top)
sub pattern {
	my @lines = @_;
	my %seen;
	my $groups = 0;
	my $tok = sub {
		my ($text, $re) = @_;
		return "\\k<g$seen{$text}>" if $seen{$text};
		$seen{$text} = ++$groups;
		return "(?<g$groups>$re)";
	};
	my $re = '';
	for my $line (@lines) {
		$line =~ s/\s+$//;
		if ($line =~ /^\s*\.\.\.$/) { $re .= '(?:[^\n]*\n)*?'; next; }
		my $p = '';
		$line =~ s/(?<![\w\/.-])\Q$tour_user\E(?![\w\/.-])/\x01/g;
		for my $part (split /(\.\.\.)/, $line, -1) {
			if ($part eq '...') { $p .= '[^\n]*?'; next; }
			while ($part ne '') {
				if ($part =~ s{^/tmp/tmp\.[A-Za-z0-9]{10}}{}) {
					$p .= quotemeta($tmpdir) . '/tmp\.[A-Za-z0-9]{10}';
				} elsif ($part =~ s/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))//) {
					$p .= '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)';
				} elsif ($part =~ s/^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{2,5})(?![A-Za-z])//) {
					$p .= '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{2,5}';
				} elsif ($part =~ s/^\Q$tour_day\E(?!\d)//) {
					$p .= "(?:$day_re)";
				} elsif ($part =~ s/^(DC|EX)-\d{4}-//) {
					$p .= "$1-\\d{4}-";
				} elsif ($part =~ s/^([0-9a-f]{64})(?![0-9a-f])//) {
					$p .= $tok->($1, '[0-9a-f]{64}');
				} elsif ($part =~ s/^([0-9A-F]{40})(?![0-9A-F])//) {
					$p .= $tok->($1, '[0-9A-F]{40}');
				} elsif ($part =~ s/^([0-9a-f]{32})(?![0-9a-f])//) {
					$p .= $tok->($1, '[0-9a-f]{32}');
				} elsif ($part =~ s/^\x01( *)//) {
					$p .= quotemeta($user) . ($1 eq '' ? '' : ' +');
				} elsif ($part =~ s/^(PSN:[A-Z2-7]{26})//) {
					$p .= $tok->($1, 'PSN:[A-Z2-7]{26}');
				} else {
					# a plain stretch: up to where a token could start
					$part =~ s/^(.[^\/0-9a-fA-FDP\x01]*)//s;
					$p .= quotemeta $1;
				}
			}
		}
		$re .= "$p\\n";
	}
	return qr/\A$re\z/;
}

my ($bad, $knownbad, $count) = (0, 0, 0);
open my $ix, '<', "$dir/steps" or die;
while (<$ix>) {
	chomp;
	my ($n, $line, $flags, $sec) = split /\t/;
	next unless $sec eq $section;
	$count++;
	my $cmd = slurp("$dir/$n.cmd");
	my $rc = slurp("$dir/$n.rc");
	chomp $rc;
	my $out = slurp("$dir/$n.out");
	$out =~ s/[ \t]+$//mg;
	$out =~ s/\n+\z/\n/;
	$out = '' if $out eq "\n";
	my @shown = split /\n/, slurp("$dir/$n.shown");
	my $why;
	if ($rc eq '') {
		$why = 'did not run';
	} elsif ($rc ne '0') {
		$why = "exited $rc";
	} elsif ($flags ne 'described' && $out !~ pattern(@shown)) {
		$why = 'printed something else than the README shows';
	}
	next unless $why;
	my ($k) = grep { index($cmd, $_->[0]) >= 0 } @k;
	my $head = $k ? "KNOWN BUG ($k->[1]): " : '';
	print "${head}README.md:$line: step $n $why:\n";
	print map { "  \$ $_\n" } split /\n/, $cmd;
	print "  --- the README shows\n", map { "  |$_\n" } @shown;
	print "  --- it printed\n", map { "  |$_\n" } split /\n/, $out;
	if ($k) { $k->[2] = 1; $knownbad++ } else { $bad++ }
}
die "no steps in section \"$section\"\n" unless $count;
for my $k (@k) {
	next if $k->[2];
	print "a step marked as a known bug now matches (remove the mark): $k->[0]\n";
	$bad++;
}
exit($bad ? 1 : $knownbad ? 3 : 0);
PERL
}

case "${1:-}" in
run)
	[ $# -eq 3 ] || die "usage: $me run README DIR"
	run "$2" "$3" ;;
check)
	[ $# -ge 3 ] || die "usage: $me check DIR SECTION [--known TEXT REASON]..."
	shift
	check "$@" ;;
sections)
	[ $# -eq 2 ] || die "usage: $me sections DIR"
	cut -f4 "$2/steps" | uniq ;;
steps)
	[ $# -eq 2 ] || die "usage: $me steps README"
	d=$(mktemp -d) || exit 70
	extract "$2" "$d"
	while IFS=$'\t' read -r n line flags sec; do
		printf '== %s README.md:%s [%s] %s\n' "$n" "$line" "$sec" "$flags"
		sed '1s/^/$ /; 2,$s/^/> /' "$d/$n.cmd"
		cat "$d/$n.shown"
	done < "$d/steps"
	rm -rf "$d" ;;
*)
	die "usage: $me run README DIR | check DIR SECTION | sections DIR | steps README" ;;
esac
