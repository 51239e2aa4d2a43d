# bookpics - hand-written Makefile. `make`, `make run`, `make check`, `make bench`.
#
# Local settings (CC, CFLAGS, DEVELOPER=1, ...) go in config.mak, which is
# not tracked; the command line still wins over both.
-include config.mak

PORT ?= 8080
VAR ?= $(CURDIR)/var
RELAY_PORT ?= $(shell echo $$(($(PORT) + 1)))

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes \
	   -Wvla -Wwrite-strings -Wshadow -Wformat=2 -Wno-format-nonliteral
# Warnings are errors for whoever works on bookpics (`make check`, `make
# test` and CI set DEVELOPER=1), not for a user whose newer compiler warns
# about something new: plain `make` still builds.
ifdef DEVELOPER
WARNINGS += -Werror
endif
CPPFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags json-c 2>/dev/null) $(CPPFLAGS)

# Each program links the libraries its objects use, and no more.
LIBS_DB = -ldb
LIBS_JSON = $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
LIBS_CRYPTO = -lcrypto
LIBS_FCGI = $(shell pkg-config --libs fcgi 2>/dev/null || echo -lfcgi)
LIBS_LWS = $(shell pkg-config --libs libwebsockets 2>/dev/null)
# The relay owns a libev loop (lws loads its libev glue as a plugin); no .pc file.
LIBS_EV = -lev
LIBS_CURL = $(shell pkg-config --libs libcurl 2>/dev/null)
# What lib/ needs when a program uses most of it (store, conf, token, msg, http).
LIBS_LIB = $(LIBS_FCGI) $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
# libvips, for lib/picture.c and what includes <vips/vips.h> (picture.h does not).
CFLAGS_VIPS = $(shell pkg-config --cflags vips 2>/dev/null)
LIBS_VIPS = $(shell pkg-config --libs vips 2>/dev/null)

# SANITIZE=address,undefined builds a separate tree, so both can coexist.
ifdef SANITIZE
BUILD ?= build/san
BIN ?= build/san/bin
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build/obj
BIN ?= bin
SANFLAGS =
endif

# TESTHOOKS=1 builds the test-only stall points of lib/store.c (tests/t9010)
# and the slow failchk of run/dbwatch.c (tests/t9020)
# into a tree of their own: bin/ never has them.
ifdef TESTHOOKS
ifdef SANITIZE
$(error TESTHOOKS and SANITIZE: build one at a time)
endif
BUILD = build/hooks
BIN = build/hooks/bin
CPPFLAGS_ALL += -DBOOKPICS_TESTHOOKS
endif

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
RELAY_SRC = $(wildcard relay/*.c)
RELAY_OBJ = $(RELAY_SRC:%.c=$(BUILD)/%.o)
RUN_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard run/*.c))
HOOKS_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard hooks/*.c))
REPLICATOR_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard replicator/*.c))
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# Their objects are kept (not intermediate): -MMD's .d files name them.
.SECONDARY: $(UNIT_SRC:%.c=$(BUILD)/%.o) $(TOOL_SRC:%.c=$(BUILD)/%.o) $(BENCH_SRC:%.c=$(BUILD)/%.o)

PROGRAMS = $(BIN)/webhook.fcgi $(BIN)/api.fcgi $(BIN)/bookpics-admin $(BIN)/bookpics-run \
	   $(BIN)/bookpics-hooks $(BIN)/bookpics-replicator
ifneq ($(RELAY_SRC),)
PROGRAMS += $(BIN)/bookpics-relay
endif

# The page imports Vue from node_modules (see the $(VUE_FILE) rule below).
VUE_FILE = node_modules/vue/dist/vue.esm-browser.prod.js
all: $(PROGRAMS) | $(VUE_FILE)

# Every flag that shapes an object or a link, in one file that changes only
# when they do: `make CFLAGS=-O0` after `make` rebuilds everything.
TRACK_FLAGS = $(CC)|$(CPPFLAGS_ALL)|$(CFLAGS)|$(SANFLAGS)|$(WARNINGS)|$(LDFLAGS)
$(BUILD)/FLAGS: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(subst ','\'',$(TRACK_FLAGS))' >$@.new
	@if cmp -s $@ $@.new; then rm -f $@.new; else mv $@.new $@; fi

COMPILE = $(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(SANFLAGS) $(WARNINGS) -MMD -MP
LINK = $(CC) $(CFLAGS) $(SANFLAGS)

$(BUILD)/%.o: %.c $(BUILD)/FLAGS
	@mkdir -p $(dir $@)
	$(COMPILE) -c -o $@ $<

$(BUILD)/lib/picture.o: CPPFLAGS_ALL += $(CFLAGS_VIPS)

# The version: `git describe` in a tagged checkout, else the VERSION file.
# Only version.o sees it; $(BUILD)/VERSION changes when it does (like FLAGS).
BOOKPICS_VERSION := $(shell git describe --tags --dirty 2>/dev/null || cat VERSION)
$(BUILD)/VERSION: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(BOOKPICS_VERSION)' >$@.new
	@if cmp -s $@ $@.new; then rm -f $@.new; else mv $@.new $@; fi
$(BUILD)/lib/version.o: $(BUILD)/VERSION
$(BUILD)/lib/version.o: CPPFLAGS_ALL += -DBOOKPICS_VERSION='"$(BOOKPICS_VERSION)"'

$(BUILD)/libbookpics.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Both fetch and clean pictures (lib/mirror.c: picture.c, fetch.c).
$(BIN)/webhook.fcgi: LIBS = $(LIBS_FCGI) $(LIBS_VIPS) $(LIBS_CURL) $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BIN)/webhook.fcgi: $(BUILD)/cgi-bin/webhook.o $(BUILD)/libbookpics.a

$(BIN)/api.fcgi: LIBS = $(LIBS_FCGI) $(LIBS_VIPS) $(LIBS_CURL) $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BIN)/api.fcgi: $(BUILD)/cgi-bin/api.o $(BUILD)/cgi-bin/route.o $(BUILD)/cgi-bin/media.o \
		 $(BUILD)/cgi-bin/admin-api.o \
		 $(BUILD)/libbookpics.a

$(BIN)/bookpics-admin: LIBS = $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BIN)/bookpics-admin: $(BUILD)/admin/admin.o $(BUILD)/libbookpics.a

$(BIN)/bookpics-relay: LIBS = $(LIBS_LWS) $(LIBS_EV) $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BIN)/bookpics-relay: $(RELAY_OBJ) $(BUILD)/libbookpics.a

$(BIN)/bookpics-run: LIBS = $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BIN)/bookpics-run: $(RUN_OBJ) $(BUILD)/libbookpics.a

# The event hooks' deliverer (hooks/): POSTs with libcurl.
$(BIN)/bookpics-hooks: LIBS = $(LIBS_CURL) $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BIN)/bookpics-hooks: $(HOOKS_OBJ) $(BUILD)/libbookpics.a

# A group's site's replication process, started by the relay (replicator/).
$(BIN)/bookpics-replicator: LIBS = $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BIN)/bookpics-replicator: $(REPLICATOR_OBJ) $(BUILD)/libbookpics.a

$(PROGRAMS): $(BUILD)/FLAGS
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $(filter %.o %.a,$^) $(LIBS) $(LDFLAGS)

# Unit tests, tools and benchmark programs: one .c each, compiled like any
# object (so -MMD tracks their headers), linked with what they use.
$(BUILD)/tests/unit/test-picture.o: CPPFLAGS_ALL += $(CFLAGS_VIPS)
$(BUILD)/unit/test-picture: LIBS = $(LIBS_VIPS) $(LIBS_LIB)
$(BUILD)/unit/test-mirror: LIBS = $(LIBS_VIPS) $(LIBS_CURL) $(LIBS_LIB)
# mediapath checks widths with the mirror (mirror_width_ok), which links both.
$(BUILD)/unit/test-mediapath: LIBS = $(LIBS_VIPS) $(LIBS_CURL) $(LIBS_LIB)
# The relay's pure pieces (relay/request.c, origin.c, limit.c) link without libwebsockets.
$(BUILD)/tests/unit/test-relay-frame.o: CPPFLAGS_ALL += -Irelay
$(BUILD)/unit/test-relay-frame: $(BUILD)/relay/request.o $(BUILD)/relay/origin.o $(BUILD)/relay/limit.o
$(BUILD)/unit/%: LIBS = $(LIBS_LIB)
$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS) $(LDFLAGS)

$(BUILD)/tools/tw-load: LIBS = $(LIBS_CURL) $(LIBS_CRYPTO)
$(BUILD)/tools/%: LIBS ?= $(LIBS_CRYPTO)
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $(filter %.o %.a,$^) $(LIBS) $(LDFLAGS)

# The benchmark's programs (bench/*.c) build with the tools: `make check` runs wsload.
$(BUILD)/bench/fcgi-hello: LIBS = $(LIBS_FCGI)
$(BUILD)/bench/fill: LIBS = $(LIBS_DB) $(LIBS_JSON) $(LIBS_CRYPTO)
$(BUILD)/bench/wsload: LIBS = $(LIBS_CURL) $(LIBS_CRYPTO) -lpthread
$(BUILD)/bench/picture-cpu.o: CPPFLAGS_ALL += $(CFLAGS_VIPS)
$(BUILD)/bench/picture-cpu: LIBS = $(LIBS_VIPS)
$(BUILD)/bench/%: LIBS ?= $(LIBS_CRYPTO)
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $(filter %.o %.a,$^) $(LIBS) $(LDFLAGS)

unit: $(UNIT_BIN)
tools: $(TOOL_BIN) $(BENCH_BIN)

# Debian packages and the npm modules; quiet and quick when all is there.
deps:
	@sh scripts/deps.sh

run: deps all
	@PORT=$(PORT) VAR=$(VAR) RELAY_PORT=$(RELAY_PORT) BIN=$(BIN) sh scripts/run.sh

# Every test, then every test again under AddressSanitizer and UBSan.
check: deps
	$(MAKE) DEVELOPER=1 all unit tools
	$(MAKE) DEVELOPER=1 TESTHOOKS=1 all
	sh tests/run-all.sh $(BIN) build/obj
	$(MAKE) fuzz FUZZ_SECONDS=4
	$(MAKE) DEVELOPER=1 SANITIZE=address,undefined all unit tools
	BOOKPICS_SANITIZED=1 sh tests/run-all.sh build/san/bin build/san

# A quick run (no sanitizers): `make test T=t1000` runs matching scripts.
test: deps
	$(MAKE) DEVELOPER=1 all unit tools
	$(if $(if $(T),$(filter t9%,$(T)),all),$(MAKE) DEVELOPER=1 TESTHOOKS=1 all)
	sh tests/run-all.sh $(BIN) build/obj $(T)

bench: deps all tools
	sh bench/run.sh

# libFuzzer targets for every parser of outside input (fuzz/fuzz-*.c),
# built with clang, ASan and UBSan over lib/ compiled for coverage.
# `make fuzz` runs each for FUZZ_SECONDS (make check: a few seconds each).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD = build/fuzz
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC = $(wildcard fuzz/fuzz-*.c)
FUZZ_BIN = $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/lib/picture.o: CPPFLAGS_ALL += $(CFLAGS_VIPS)
$(FUZZ_BUILD)/fuzz-picture: FUZZ_LIBS = $(LIBS_VIPS)
$(FUZZ_BUILD)/fuzz-mediapath: FUZZ_LIBS = $(LIBS_VIPS) $(LIBS_CURL)

# The relay's client frames (relay/request.c, pure: no lws) are fuzzed too.
$(FUZZ_BUILD)/relay/request.o: relay/request.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz-request: CPPFLAGS_ALL += -Irelay
$(FUZZ_BUILD)/fuzz-request: $(FUZZ_BUILD)/relay/request.o

$(FUZZ_BUILD)/libbookpics.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: fuzz/fuzz-%.c $(FUZZ_BUILD)/libbookpics.a
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_FLAGS) -fsanitize=fuzzer -Ifuzz -MMD -MP -o $@ $(filter %.c %.o,$^) $(filter %.a,$^) \
		$(FUZZ_LIBS) $(LIBS_FCGI) $(LIBS_LIB) $(LDFLAGS)

fuzz-build: $(FUZZ_BIN)

fuzz: deps fuzz-build
	sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf build bin

# make install [PREFIX=/usr/local] [DESTDIR=], GNU conventions: programs,
# the front end with its one Vue file, the templates and the set-up script
# under $(DESTDIR)$(PREFIX); the systemd units and the logrotate file under
# $(DESTDIR)$(systemdunitdir) and $(DESTDIR)$(logrotatedir).
PREFIX ?= /usr/local
prefix ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir ?= $(exec_prefix)/bin
libexecdir ?= $(exec_prefix)/libexec
pkglibexecdir ?= $(libexecdir)/bookpics
datadir ?= $(prefix)/share
pkgdatadir ?= $(datadir)/bookpics
docdir ?= $(datadir)/doc/bookpics
# logrotate reads only /etc/logrotate.d: the one path outside PREFIX (README).
logrotatedir ?= /etc/logrotate.d
systemdunitdir ?= $(if $(filter /usr,$(prefix)),/lib/systemd/system,$(prefix)/lib/systemd/system)
INSTALL ?= install
SUBST = sed -e 's|@bindir@|$(bindir)|g' -e 's|@pkglibexecdir@|$(pkglibexecdir)|g' \
	    -e 's|@datadir@|$(datadir)|g'
INSTALLED_PROGRAMS = $(notdir $(PROGRAMS))

# The page needs Vue (an npm module): `make` alone used to leave it on
# "Loading...". npm ci brings it when it is missing (deps.sh also renews it
# when package-lock.json changes); deps.sh installs npm itself.
$(VUE_FILE):
	@command -v npm >/dev/null 2>&1 || { echo "make: npm is missing: run 'make deps' as root" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

install: all $(VUE_FILE)
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(pkglibexecdir) $(DESTDIR)$(pkgdatadir) \
		$(DESTDIR)$(pkgdatadir)/node_modules/vue/dist $(DESTDIR)$(docdir) \
		$(DESTDIR)$(systemdunitdir) $(DESTDIR)$(logrotatedir)
	$(INSTALL) -m 0755 $(PROGRAMS) $(DESTDIR)$(pkglibexecdir)/
	$(INSTALL) -m 0755 $(BIN)/bookpics-admin $(DESTDIR)$(bindir)/
	$(SUBST) dist/bookpics-start.in >$(DESTDIR)$(bindir)/bookpics-start
	chmod 0755 $(DESTDIR)$(bindir)/bookpics-start
	$(INSTALL) -m 0644 scripts/run.sh lighttpd.conf apache.conf dist/haproxy.cfg $(DESTDIR)$(pkgdatadir)/
	cp -R www $(DESTDIR)$(pkgdatadir)/
	if [ -d clients/js ]; then $(INSTALL) -d $(DESTDIR)$(pkgdatadir)/clients && \
		cp -R clients/js $(DESTDIR)$(pkgdatadir)/clients/; fi
	$(INSTALL) -m 0644 $(VUE_FILE) $(DESTDIR)$(pkgdatadir)/$(VUE_FILE)
	$(INSTALL) -m 0644 README.md docs/*.md $(DESTDIR)$(docdir)/
	$(SUBST) dist/bookpics.service.in >$(DESTDIR)$(systemdunitdir)/bookpics.service
	$(SUBST) dist/bookpics-relay.service.in >$(DESTDIR)$(systemdunitdir)/bookpics-relay.service
	$(INSTALL) -m 0644 dist/bookpics.logrotate $(DESTDIR)$(logrotatedir)/bookpics

uninstall:
	rm -f $(DESTDIR)$(bindir)/bookpics-admin $(DESTDIR)$(bindir)/bookpics-start
	rm -f $(addprefix $(DESTDIR)$(pkglibexecdir)/,$(INSTALLED_PROGRAMS))
	rm -rf $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(docdir)
	rm -f $(DESTDIR)$(systemdunitdir)/bookpics.service $(DESTDIR)$(systemdunitdir)/bookpics-relay.service
	rm -f $(DESTDIR)$(logrotatedir)/bookpics
	-rmdir $(DESTDIR)$(pkglibexecdir) 2>/dev/null

FORCE:
.PHONY: all unit tools deps run check test bench clean fuzz fuzz-build install uninstall FORCE
-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
