# spif - build, test, demo, bench, install.  See README.md and INSTALL.
#
# make          lib/libspif.a and the programs in bin/
# make check    every test (C unit tests, bats suites), ends "N passed, N failed"
# make demo     the lifecycle on generated data in a throwaway home
# make bench    spif against its peer tools, with ratios
# make install  PREFIX=/usr/local [DESTDIR=]
# make install-system  the same, plus the account and group spif, the
#               commands setgid spif, /var/lib/spif and spif.conf (INSTALL 4)

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR     = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/spif
MANDIR     = $(PREFIX)/share/man
DOCDIR     = $(PREFIX)/share/doc/spif
LOCALEDIR  = $(PREFIX)/share/locale
SYSCONFDIR ?= /etc
# a system install (install-system): its account, group and home
SPIF_USER  ?= spif
SPIF_GROUP ?= spif
SPIF_HOMEDIR ?= /var/lib/spif

CC      ?= cc
PKGS     = sqlite3 gpgme libarchive libgcrypt jansson pangocairo
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CPPFLAGS_ALL = -D_GNU_SOURCE -Ilib -DSPIF_VERSION='"$(VERSION)"' \
               -DSPIF_LIBEXECDIR='"$(LIBEXECDIR)"' -DSPIF_SYSCONFDIR='"$(SYSCONFDIR)"' \
               -DSPIF_LOCALEDIR='"$(LOCALEDIR)"' -DSPIF_BUILDDIR='"$(B)"' \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -ldl

# Build variants: the normal one in bin/ and build/, a sanitised one
# (ASan + UBSan, leaks fatal) in build/asan/ that the tests run.
B ?= build
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
COMMON_SRC := $(sort $(wildcard cmd/common/*.c))
COMMON_H   := $(wildcard cmd/common/*.h)
# a command grown past one file is a directory, cmd/X/*.c with its main.c
# (cmd/common, the code they share, has none)
CMD_DIRS := $(patsubst cmd/%/main.c,%,$(sort $(wildcard cmd/*/main.c)))
CMDS     := $(patsubst cmd/%.c,%,$(filter-out cmd/spif.c,$(CMD_SRC))) $(CMD_DIRS)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ  = $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRC))
PROGS    = bin/spif $(addprefix bin/spif-,$(CMDS)) bin/spif-gen
SAN_PROGS = $(subst bin/,$(B)/asan/bin/,$(PROGS))
UNITS    = $(patsubst tests/unit/%.c,$(B)/asan/unit/%,$(UNIT_SRC))
# messages: po/LANG.po, built beside each build's bin/ (cmd/common/intl.h)
LANGS    := $(patsubst po/%.po,%,$(wildcard po/*.po))
MOS      = $(foreach l,$(LANGS),$(B)/locale/$(l)/LC_MESSAGES/spif.mo)
SAN_MOS  = $(foreach l,$(LANGS),$(B)/asan/locale/$(l)/LC_MESSAGES/spif.mo)

.PHONY: all deps check demo bench install install-system uninstall clean lint-man asan
all: deps-build lib/libspif.a $(PROGS) $(MOS)

# --- dependencies: installed when root, else the exact apt-get line --------
BUILD_DEBS = gcc make pkg-config gettext libsqlite3-dev libgpgme-dev libarchive-dev libp11-kit-dev \
             libgcrypt20-dev libjansson-dev libcairo2-dev libpango1.0-dev fonts-ipaexfont fonts-ipafont-gothic
TEST_DEBS  = locales bats sqlite3 mandoc gnupg softhsm2 gdb e2fsprogs xfsprogs btrfs-progs util-linux mount coreutils \
             bsdutils time clang libclang-rt-14-dev poppler-utils bindfs
BENCH_DEBS = miller bc time sqlite3 libarchive-tools
deps-build:
	@tests/deps.sh $(BUILD_DEBS)
deps-test:
	@tests/deps.sh $(BUILD_DEBS) $(TEST_DEBS)
deps-bench:
	@tests/deps.sh $(BUILD_DEBS) $(TEST_DEBS) $(BENCH_DEBS)
.PHONY: deps-build deps-test deps-bench

# --- library and programs ---------------------------------------------------
$(B)/lib/%.o: lib/%.c lib/*.h | $(B)/lib
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -c -o $@ $<
lib/libspif.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
bin/spif-gen: tests/gen/spif-gen.c lib/libspif.a | bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -o $@ $< lib/libspif.a $(LDLIBS_ALL)
bin/spif: cmd/spif.c cmd/common/exec.c cmd/common/cli.c cmd/common/intl.c cmd/common/intl.h $(COMMON_H) lib/libspif.a | bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Icmd/common $(CFLAGS) -o $@ $< cmd/common/exec.c cmd/common/cli.c cmd/common/intl.c lib/libspif.a $(LDLIBS_ALL)
bin/spif-%: cmd/%.c $(COMMON_SRC) $(COMMON_H) lib/libspif.a | bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Icmd/common $(CFLAGS) -o $@ $< $(COMMON_SRC) lib/libspif.a $(LDLIBS_ALL)
# a directory command: every file of cmd/X/ ($$* is the stem X)
.SECONDEXPANSION:
bin/spif-%: cmd/%/main.c $$(wildcard cmd/$$*/*.c cmd/$$*/*.h) $(COMMON_SRC) $(COMMON_H) lib/libspif.a | bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Icmd/common $(CFLAGS) -o $@ $(sort $(wildcard cmd/$*/*.c)) $(COMMON_SRC) lib/libspif.a $(LDLIBS_ALL)

# The sanitised variant: same sources, its own objects.
$(B)/asan/lib/%.o: lib/%.c lib/*.h | $(B)/asan/lib
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(SAN_FLAGS) -c -o $@ $<
$(B)/asan/libspif.a: $(patsubst lib/%.c,$(B)/asan/lib/%.o,$(LIB_SRC))
	rm -f $@ && ar rcs $@ $^
$(B)/asan/bin/spif-gen: tests/gen/spif-gen.c $(B)/asan/libspif.a | $(B)/asan/bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(SAN_FLAGS) -o $@ $< $(B)/asan/libspif.a $(LDLIBS_ALL)
$(B)/asan/bin/spif: cmd/spif.c cmd/common/exec.c cmd/common/cli.c cmd/common/intl.c cmd/common/intl.h $(COMMON_H) $(B)/asan/libspif.a | $(B)/asan/bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Icmd/common $(SAN_FLAGS) -o $@ $< cmd/common/exec.c cmd/common/cli.c cmd/common/intl.c $(B)/asan/libspif.a $(LDLIBS_ALL)
$(B)/asan/bin/spif-%: cmd/%.c $(COMMON_SRC) $(COMMON_H) $(B)/asan/libspif.a | $(B)/asan/bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Icmd/common $(SAN_FLAGS) -o $@ $< $(COMMON_SRC) $(B)/asan/libspif.a $(LDLIBS_ALL)
$(B)/asan/bin/spif-%: cmd/%/main.c $$(wildcard cmd/$$*/*.c cmd/$$*/*.h) $(COMMON_SRC) $(COMMON_H) $(B)/asan/libspif.a | $(B)/asan/bin
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Icmd/common $(SAN_FLAGS) -o $@ $(sort $(wildcard cmd/$*/*.c)) $(COMMON_SRC) $(B)/asan/libspif.a $(LDLIBS_ALL)
$(B)/asan/unit/%: tests/unit/%.c tests/unit/tap.h $(B)/asan/libspif.a | $(B)/asan/unit
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Itests/unit $(SAN_FLAGS) -o $@ $< $(B)/asan/libspif.a $(LDLIBS_ALL)
asan: $(SAN_PROGS) $(UNITS) $(SAN_MOS)

# --- messages (gettext): make pot extracts every message into $(B)/spif.pot;
# po/ja.po must translate each (tests/bats/ja.bats checks).  The keywords
# are the functions that translate their format (lib/i18n.h).
XGETTEXT_FLAGS = --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: --no-wrap \
    --keyword=_ --keyword=N_ --keyword=cli_fail:3 --keyword=cli_usage:2 --keyword=cli_note:2 \
    --keyword=cli_note_begin:2 --keyword=cli_note_more:2 --keyword=cli_progress:2 \
    --keyword=spif_err_set:3 --keyword=spif_err_sys:4 --keyword=spif_err_prefix:2 --keyword=spif_err_wrap:4 \
    --keyword=found:2 --flag=found:2:c-format --flag=spif_err_wrap:4:c-format --keyword=merkle_fail:2 \
    --keyword=cert_fail:4 --flag=cert_fail:4:c-format \
    --flag=cli_fail:3:c-format --flag=cli_usage:2:c-format --flag=cli_note:2:c-format \
    --flag=cli_note_begin:2:c-format --flag=cli_note_more:2:c-format --flag=cli_progress:2:c-format \
    --flag=spif_err_set:3:c-format --flag=spif_err_sys:4:c-format --flag=spif_err_prefix:2:c-format \
    --package-name=spif --package-version=$(VERSION) --msgid-bugs-address=
POT_SRC = $(LIB_SRC) $(sort $(wildcard cmd/*.c cmd/*/*.c))
pot: $(B)/spif.pot
$(B)/spif.pot: $(POT_SRC) | $(B)/lib
	xgettext $(XGETTEXT_FLAGS) -o $@ $(POT_SRC)
po-update: $(B)/spif.pot
	for l in $(LANGS); do msgmerge --update --no-wrap --no-location --backup=none po/$$l.po $< || exit 1; done
# (two rules: one pattern rule with both targets would be made once for both)
$(B)/locale/%/LC_MESSAGES/spif.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<
$(B)/asan/locale/%/LC_MESSAGES/spif.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<
.PHONY: pot po-update

bin $(B)/lib $(B)/asan/lib $(B)/asan/bin $(B)/asan/unit:
	mkdir -p $@

# --- check, demo, bench -----------------------------------------------------
check: deps-test all asan lint-man fuzz-build
	@tests/run.sh $(B)/asan

demo: deps-test all
	@tests/demo.sh bin

bench: deps-bench all $(B)/bench/audit-fill $(B)/bench/detect-score $(B)/bench/retain-fill $(B)/bench/test_retention
	@BENCH_BUILD=$(abspath $(B)) bench/run.sh bin

$(B)/bench/detect-score: bench/detect-score.c lib/libspif.a
	@mkdir -p $(B)/bench
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -o $@ $< lib/libspif.a $(LDLIBS_ALL)

$(B)/bench/audit-fill: bench/audit-fill.c lib/libspif.a
	@mkdir -p $(B)/bench
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -o $@ $< lib/libspif.a $(LDLIBS_ALL)

$(B)/bench/retain-fill: bench/retain-fill.c lib/libspif.a
	@mkdir -p $(B)/bench
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -o $@ $< lib/libspif.a $(LDLIBS_ALL)

# the retention property test, optimised, for the long run in make bench
$(B)/bench/test_retention: tests/unit/test_retention.c tests/unit/tap.h lib/libspif.a
	@mkdir -p $(B)/bench
	$(CC) $(WARN) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS) -o $@ $< lib/libspif.a $(LDLIBS_ALL)

# --- fuzzing (libFuzzer) ----------------------------------------------------
# tests/fuzz/fuzz_*.c, one harness per input path, against the library
# built with clang for libFuzzer and ASan + UBSan in $(B)/fuzz/.  make check
# runs each for FUZZ_RUNS executions from its seeds in tests/fuzz/corpus/;
# make fuzz runs each for FUZZ_SECONDS, keeping what it finds new in
# $(B)/fuzz/corpus/.  See tests/fuzz/README.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 2000
FUZZ_FLAGS    = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS       = $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIB_OBJ  = $(patsubst lib/%.c,$(B)/fuzz/lib/%.o,$(LIB_SRC))

$(B)/fuzz/lib/%.o: lib/%.c lib/*.h | $(B)/fuzz/lib
	$(FUZZ_CC) $(WARN) $(CPPFLAGS_ALL) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(B)/fuzz/libspif.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/*.h $(B)/fuzz/libspif.a
	$(FUZZ_CC) $(WARN) $(CPPFLAGS_ALL) -Itests/fuzz $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(B)/fuzz/libspif.a $(LDLIBS_ALL)
$(B)/fuzz/lib:
	mkdir -p $@

fuzz-build: $(FUZZERS)
fuzz: deps-test fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh long $(B)/fuzz $(FUZZ)
fuzz-check: fuzz-build
	@FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run.sh check $(B)/fuzz $(FUZZ)
.PHONY: fuzz fuzz-build fuzz-check
# --- end of fuzzing ---------------------------------------------------------

lint-man:
	@for m in man/*.[0-9] man/ja/*.[0-9]; do mandoc -Tlint -W warning "$$m" || exit 1; done

# --- install ----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(MANDIR)/ja/man1 $(DESTDIR)$(MANDIR)/ja/man5 $(DESTDIR)$(MANDIR)/ja/man7
	install -m 0755 bin/spif $(DESTDIR)$(BINDIR)/spif
	for c in $(CMDS); do install -m 0755 bin/spif-$$c $(DESTDIR)$(LIBEXECDIR)/spif-$$c || exit 1; done
	for m in man/*.1; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/ || exit 1; done
	for m in man/*.5; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/ || exit 1; done
	for m in man/*.7; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man7/ || exit 1; done
	for m in man/ja/*.1; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/ja/man1/ || exit 1; done
	for m in man/ja/*.5; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/ja/man5/ || exit 1; done
	for m in man/ja/*.7; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/ja/man7/ || exit 1; done
	for l in $(LANGS); do install -D -m 0644 $(B)/locale/$$l/LC_MESSAGES/spif.mo \
	    $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/spif.mo || exit 1; done
	install -m 0644 completions/spif.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/spif
	install -m 0644 completions/_spif $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_spif
	install -m 0644 README.md INSTALL $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/contrib
	# the examples name the spif this install put in place
	for f in spif-purge.service spif-purge.timer spif-purge.cron; do \
	    sed 's|/usr/local/bin/spif|$(BINDIR)/spif|g; s|/etc/spif/spif.conf|$(SYSCONFDIR)/spif/spif.conf|g' \
	        contrib/$$f > $(DESTDIR)$(DOCDIR)/contrib/$$f && chmod 0644 $(DESTDIR)$(DOCDIR)/contrib/$$f || exit 1; \
	done

# The trust boundary of INSTALL section 4, the same steps as the commands
# listed there: an account and group that alone reach the home, the
# commands setgid to the group (operators are NOT in it), the home
# 2770 spif:spif, and spif.conf naming it (kept when it exists).  As root.
install-system: install
	@[ "$$(id -u)" -eq 0 ] || { echo "install-system: run as root"; exit 77; }
	getent group $(SPIF_GROUP) >/dev/null || groupadd --system $(SPIF_GROUP)
	getent passwd $(SPIF_USER) >/dev/null || useradd --system --gid $(SPIF_GROUP) --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin --comment 'spif service account' $(SPIF_USER)
	for c in $(CMDS); do \
	    chgrp $(SPIF_GROUP) $(DESTDIR)$(LIBEXECDIR)/spif-$$c && chmod 2755 $(DESTDIR)$(LIBEXECDIR)/spif-$$c || exit 1; \
	done
	install -d -m 2770 -o $(SPIF_USER) -g $(SPIF_GROUP) $(DESTDIR)$(SPIF_HOMEDIR)
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/spif
	[ -e $(DESTDIR)$(SYSCONFDIR)/spif/spif.conf ] || { \
	    printf '%s\n' '# spif.conf - see spif(7)' 'home  = $(SPIF_HOMEDIR)' 'group = $(SPIF_GROUP)' \
	        'purge_requires_plan = yes' > $(DESTDIR)$(SYSCONFDIR)/spif/spif.conf && \
	    chmod 0644 $(DESTDIR)$(SYSCONFDIR)/spif/spif.conf; }
	@m=$$(getent group $(SPIF_GROUP) | cut -d: -f4); [ -z "$$m" ] || \
	    echo "install-system: warning: group $(SPIF_GROUP) has members ($$m): an operator in it reaches the home directly; remove them (gpasswd -d NAME $(SPIF_GROUP))"
	@echo "install-system: now, as root, add the first admin: $(BINDIR)/spif operator add NAME --role admin"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/spif
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(MANDIR)/man1/spif-*.1 $(DESTDIR)$(MANDIR)/man5/spif-*.5 $(DESTDIR)$(MANDIR)/man7/spif.7
	rm -f $(DESTDIR)$(MANDIR)/ja/man1/spif-*.1 $(DESTDIR)$(MANDIR)/ja/man5/spif-*.5 $(DESTDIR)$(MANDIR)/ja/man7/spif.7
	for l in $(LANGS); do rm -f $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/spif.mo; done
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/spif $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_spif

clean:
	rm -rf $(B) bin lib/libspif.a
