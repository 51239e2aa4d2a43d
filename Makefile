# bookpics - hand-written Makefile. `make`, `make run`, `make check`, `make bench`.

PORT ?= 8080
VAR ?= $(CURDIR)/var
RELAY_PORT ?= $(shell echo $$(($(PORT) + 1)))

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
	   -Wvla -Wwrite-strings -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags json-c 2>/dev/null) $(CPPFLAGS)
LIBS_LIB = -ldb $(shell pkg-config --libs json-c 2>/dev/null) -lcrypto
LIBS_FCGI = $(shell pkg-config --libs fcgi 2>/dev/null || echo -lfcgi)
LIBS_LWS = $(shell pkg-config --libs libwebsockets 2>/dev/null)
# The relay owns a libev loop (lws loads its libev glue as a plugin); no .pc file.
LIBS_EV = -lev
LIBS_CURL = $(shell pkg-config --libs libcurl 2>/dev/null)

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

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
RELAY_SRC = $(wildcard relay/*.c)
RELAY_OBJ = $(RELAY_SRC:%.c=$(BUILD)/%.o)
RUN_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard run/*.c))
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

PROGRAMS = $(BIN)/webhook.fcgi $(BIN)/api.fcgi $(BIN)/bookpics-admin $(BIN)/bookpics-run
ifneq ($(RELAY_SRC),)
PROGRAMS += $(BIN)/bookpics-relay
endif

all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(SANFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

$(BUILD)/libbookpics.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/webhook.fcgi: $(BUILD)/cgi-bin/webhook.o $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS_FCGI) $(LIBS_LIB) $(LDFLAGS)

$(BIN)/api.fcgi: $(BUILD)/cgi-bin/api.o $(BUILD)/cgi-bin/media.o $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS_FCGI) $(LIBS_CURL) $(LIBS_LIB) $(LDFLAGS)

$(BIN)/bookpics-admin: $(BUILD)/admin/admin.o $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS_FCGI) $(LIBS_LIB) $(LDFLAGS)

$(BIN)/bookpics-relay: $(RELAY_OBJ) $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS_LWS) $(LIBS_EV) $(LIBS_FCGI) $(LIBS_LIB) $(LDFLAGS)

$(BIN)/bookpics-run: $(RUN_OBJ) $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS_LIB) $(LDFLAGS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(SANFLAGS) $(WARNINGS) -o $@ $^ $(LIBS_FCGI) $(LIBS_LIB) $(LDFLAGS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(SANFLAGS) $(WARNINGS) -o $@ $^ $(LIBS_LWS) $(LIBS_CURL) $(LIBS_FCGI) $(LIBS_LIB) $(LDFLAGS)

# The benchmark's programs (bench/*.c) build with the tools: `make check` runs wsload.
$(BUILD)/bench/%: bench/%.c $(BUILD)/libbookpics.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(SANFLAGS) $(WARNINGS) -o $@ $^ $(LIBS_CURL) $(LIBS_FCGI) $(LIBS_LIB) -lpthread $(LDFLAGS)

unit: $(UNIT_BIN)
tools: $(TOOL_BIN) $(BENCH_BIN)

# Debian packages and the npm modules; quiet and quick when all is there.
deps:
	@sh scripts/deps.sh

run: deps all
	@PORT=$(PORT) VAR=$(VAR) RELAY_PORT=$(RELAY_PORT) BIN=$(BIN) sh scripts/run.sh

# Every test, then every test again under AddressSanitizer and UBSan.
check: deps
	$(MAKE) all unit tools
	sh tests/run-all.sh $(BIN) build/obj
	$(MAKE) SANITIZE=address,undefined all unit tools
	BOOKPICS_SANITIZED=1 sh tests/run-all.sh build/san/bin build/san

# A quick run (no sanitizers): `make test T=t1000` runs matching scripts.
test: deps all unit tools
	sh tests/run-all.sh $(BIN) build/obj $(T)

bench: deps all tools
	sh bench/run.sh

clean:
	rm -rf build bin

.PHONY: all unit tools deps run check test bench clean
-include $(LIB_OBJ:.o=.d) $(RELAY_OBJ:.o=.d) $(RUN_OBJ:.o=.d) $(BUILD)/cgi-bin/*.d $(BUILD)/admin/*.d
