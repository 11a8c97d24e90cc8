# rill — plain Makefile. `make`, `make check`, `make demo`, `make install PREFIX=...`, `make clean`.
# SPDX-License-Identifier: Apache-2.0

PREFIX ?= /usr/local
CC ?= cc
PKG_CONFIG ?= pkg-config

# Debian packages the build needs (checked, and installed when run as root).
DEB_BUILD_PKGS := libyaml-dev liblmdb-dev libarchive-dev libcurl4-openssl-dev pkg-config python3-dev
# What builds need at run time (bwrap, git sources) and what the tests use (a busybox sysroot,
# tmux to drive the tty frontend, ps/pgrep, python3 for JSON checks, ostree, dpkg-deb and brz (bzr)
# for the ostree, deb and bzr source tests; setuptools' pkg_resources finds `origin: pip` plugins,
# and the tests load python3-bst-external's, whose quilt source needs quilt; the pip source runs
# python3 -m pip; neovim runs the editor plugin of examples/editor/nvim; python3-buildstream has
# the artifact server the remote cache tests run, buildstream the bst they share artifacts with).
DEB_RUN_PKGS := bubblewrap git busybox-static tmux procps python3 ostree dpkg python3-setuptools python3-bst-external brz \
	python3-pip quilt neovim python3-buildstream buildstream

WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror
ifdef SANITIZE
SAN := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif
OPT ?= -O2 -g
override CFLAGS := $(CFLAGS) -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) $(SAN)
override LDFLAGS := $(LDFLAGS) $(SAN)

DEPS_STAMP := .deps-ok
# Objects depend on the flags they were built with, so `make check SANITIZE=...` rebuilds.
FLAGS_STAMP := .build-flags
FLAGS_NOW := $(CC) $(CFLAGS) $(LDFLAGS)
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_NOW))
$(shell printf '%s' '$(FLAGS_NOW)' >$(FLAGS_STAMP))
endif
YAML_CFLAGS = $(shell $(PKG_CONFIG) --cflags yaml-0.1 2>/dev/null)
YAML_LIBS = $(shell $(PKG_CONFIG) --libs yaml-0.1 2>/dev/null)
LMDB_LIBS = $(shell $(PKG_CONFIG) --libs lmdb 2>/dev/null || echo -llmdb)
# libarchive and libcurl are opened with dlopen when first needed (core/cache/lazylib.h)
BACKEND_LIBS = $(YAML_LIBS) $(LMDB_LIBS) -ldl -pthread

# core/ is in subsystem folders (docs/architecture.md); headers are included as "folder/name.h".
CORE_SRCS := $(filter-out core/cli/main.c,$(wildcard core/*/*.c))
CORE_OBJS := $(CORE_SRCS:.c=.o)
# The status reader library (read-only LMDB) that every frontend and external reader links.
READER_SRCS := frontends/status-reader.c frontends/control-client.c
READER_LIB := frontends/librillstatus.a
# ... also as a shared library for programs outside this tree (installed with rillstatus.pc).
READER_SO := frontends/librillstatus.so.1
VERSION := 0.1.0
FRONT_SRCS := $(filter-out $(READER_SRCS),$(wildcard frontends/*.c))
FRONT_OBJS := $(FRONT_SRCS:.c=.o)
TEST_TOOLS := $(patsubst %.c,%,$(wildcard tests/tools/*.c))
ELEMENT_PLUGINS := $(patsubst %.c,%.so,$(wildcard plugins/elements/*.c))
SOURCE_PLUGINS := $(patsubst %.c,%.so,$(wildcard plugins/sources/*.c))
PLUGINS := $(ELEMENT_PLUGINS) $(SOURCE_PLUGINS)
# The bridge that hosts BuildStream's Python plugins, for Debian's python3 (the one bst runs
# under, whatever python3 comes first on PATH); rill-backend dlopens it only when a project
# declares a Python plugin.
SYS_PYTHON := /usr/bin/python3
PY_CONFIG := $(SYS_PYTHON)-config
PY_CFLAGS = $(shell $(PY_CONFIG) --includes 2>/dev/null)
PY_LIBS = $(shell $(PY_CONFIG) --ldflags --embed 2>/dev/null)
PY_SONAME = $(shell $(SYS_PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("INSTSONAME"))' 2>/dev/null)
PY_BRIDGE := plugins/python/rill-python.so
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:.c=)
EXAMPLE_PLUGIN := examples/plugins/elements/checksum.so
# External readers of the status table: they link only the reader library.
READER_PROGS := examples/editor/rill-statusline bench/reader-bench
# Fuzz harnesses (tests/fuzz/README.md): `make check` replays their corpus and regression inputs
# through a plain driver; `make fuzz` builds them with clang's libFuzzer and runs each one.
FUZZ_NAMES := yaml expr variables status
FUZZ_REGRESS := $(patsubst %,tests/fuzz/regress-%,$(FUZZ_NAMES))
FUZZ_BINS := $(patsubst %,tests/fuzz/fuzz-%,$(FUZZ_NAMES))
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -DRILL_ARENA_MALLOC -O1 -g -Wall -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CORE_OBJS := $(patsubst %.c,tests/fuzz/obj/%.o,$(CORE_SRCS) $(READER_SRCS))
# Benchmark tools (`make bench`); nothing else depends on them.
BENCH_TOOLS := bench/ptydrain bench/cpu-of

all: rill rill-backend $(PLUGINS) $(PY_BRIDGE) $(READER_SO)

$(DEPS_STAMP): Makefile
	@missing=""; \
	for p in $(DEB_BUILD_PKGS) $(DEB_RUN_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "rill: installing missing Debian packages:$$missing"; \
	    (apt-get install -y -q $$missing || (apt-get update -q && apt-get install -y -q $$missing)) >&2 || exit 1; \
	  else \
	    echo "rill: missing Debian packages. Install them with:" >&2; \
	    echo "    sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi; touch $@

core/%.o: core/%.c $(wildcard core/*/*.h) $(DEPS_STAMP) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) $(YAML_CFLAGS) -Icore -c -o $@ $<

core/libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

rill-backend: core/cli/main.o core/libcore.a $(READER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(BACKEND_LIBS)

frontends/%.o: frontends/%.c $(wildcard frontends/*.h) core/status/rill-status-schema.h $(DEPS_STAMP) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -Icore/status -c -o $@ $<

$(READER_LIB): $(READER_SRCS:.c=.o)
	rm -f $@ && ar rcs $@ $^

frontends/%.pic.o: frontends/%.c $(wildcard frontends/*.h) core/status/rill-status-schema.h $(DEPS_STAMP) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -fPIC -fvisibility=default -Icore/status -c -o $@ $<

$(READER_SO): $(READER_SRCS:.c=.pic.o)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,librillstatus.so.1 -o $@ $^ $(LMDB_LIBS)

# Man pages from the binaries' --help (frontends/gen-man.sh): the same text, never out of date.
man: rill rill-backend
	@rm -rf frontends/man && sh frontends/gen-man.sh ./rill frontends/man

rill: $(FRONT_OBJS) $(READER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LMDB_LIBS)

tests/tools/%: tests/tools/%.c $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(TOOL_LIBS)

tests/tools/hold-reader: TOOL_LIBS = $(LMDB_LIBS)

$(PY_BRIDGE): plugins/python/bridge.c core/plugin/rill-plugin.h core/plugin/rill-bridge.h $(DEPS_STAMP) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -fPIC -shared -Icore $(PY_CFLAGS) \
		-DRILL_PYTHON_SONAME='"$(PY_SONAME)"' -DRILL_PYTHON_EXE='"$(SYS_PYTHON)"' -o $@ $< $(LDFLAGS) $(PY_LIBS)

plugins/%.so: plugins/%.c core/plugin/rill-plugin.h plugins/common.h $(DEPS_STAMP) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -fPIC -shared -fvisibility=hidden -Icore/plugin -o $@ $<

$(EXAMPLE_PLUGIN): examples/plugins/elements/checksum.c core/plugin/rill-plugin.h $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -fPIC -shared -fvisibility=hidden -Icore/plugin -o $@ $<

bench/ptydrain: bench/ptydrain.c $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lutil

bench/cpu-of: bench/cpu-of.c $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

bench: all bench/reader-bench $(BENCH_TOOLS)

$(READER_PROGS): %: %.c frontends/rill-status.h core/status/rill-status-schema.h $(READER_LIB) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -Ifrontends -Icore/status -o $@ $< $(READER_LIB) $(LDFLAGS) $(LMDB_LIBS)

# The JSON writer is part of the rill command, not of a library: link its object.
tests/unit/test_json: tests/unit/test_json.c tests/unit/test.h frontends/json.o $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -Ifrontends -Icore/status -o $@ $< frontends/json.o $(LDFLAGS)

tests/unit/test_%: tests/unit/test_%.c tests/unit/test.h core/libcore.a $(READER_LIB) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) $(YAML_CFLAGS) -Icore -Ifrontends -Icore/status -Icore/plugin -o $@ $< core/libcore.a $(READER_LIB) $(LDFLAGS) $(BACKEND_LIBS) $(TEST_LIBS)

# The archive test writes its test archives with libarchive itself.
tests/unit/test_archive: TEST_LIBS = $(shell $(PKG_CONFIG) --libs libarchive 2>/dev/null || echo -larchive)

check: all $(UNIT_BINS) $(EXAMPLE_PLUGIN) $(TEST_TOOLS) $(READER_PROGS) $(FUZZ_REGRESS)
	@sh tests/run.sh $(UNIT_BINS) $(FUZZ_REGRESS) tests/python/test_*.py tests/e2e/t*.sh

tests/fuzz/regress-%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c tests/fuzz/fuzz.h core/libcore.a $(READER_LIB) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) $(YAML_CFLAGS) -Icore -Ifrontends -Icore/status -o $@ $< tests/fuzz/driver.c core/libcore.a $(READER_LIB) $(LDFLAGS) $(BACKEND_LIBS)

# libFuzzer builds: their own objects (clang, ASan+UBSan, coverage), never mixed with the others.
tests/fuzz/obj/%.o: %.c $(wildcard core/*/*.h) $(wildcard frontends/*.h) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(YAML_CFLAGS) -Icore -Icore/status -c -o $@ $<

tests/fuzz/fuzz-%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_CORE_OBJS)
	$(FUZZ_CC) $(subst fuzzer-no-link,fuzzer,$(FUZZ_FLAGS)) $(YAML_CFLAGS) -Icore -Ifrontends -Icore/status -o $@ $< \
		$(FUZZ_CORE_OBJS) $(BACKEND_LIBS)

fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null && echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
	  $(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "rill: installing clang (libFuzzer) for make fuzz"; apt-get install -y -q clang >&2 || exit 1; \
	  else echo "rill: make fuzz needs clang with libFuzzer: sudo apt-get install clang" >&2; exit 1; fi; }

# Each harness for FUZZ_SECONDS (60 by default), from the seed corpus; new crashes are kept in
# tests/fuzz/crashes/. Prints the executions and crashes of each.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# Re-record what bst 1.6.8 prints (keys, show formats, YAML dumps) into the tests' expected files
# (git diff shows what changed), and with BST_TESTS=DIR (BuildStream's tests/ directory) compare
# show's vars/env/config/public on every project there, element by element.
check-bst: all
	@command -v bst >/dev/null && /usr/bin/python3 -c "import arpy" 2>/dev/null || { echo "make check-bst needs bst 1.6.8, arpy (for the deb source), bst-external and quilt: sudo apt-get install buildstream python3-arpy python3-bst-external quilt" >&2; exit 2; }
	sh tests/e2e/projects/keys/regen.sh
	sh tests/e2e/projects/keys/record-show.sh
	sh tests/e2e/projects/python/record.sh
	/usr/bin/python3 tests/unit/yamldump_ref.py 2000 1 >tests/unit/yamldump-cases.txt
	@if [ -n "$(BST_TESTS)" ]; then /usr/bin/python3 tests/compat/compare-show.py \
	  $$(find $(BST_TESTS) -name project.conf | xargs -n1 dirname | sort); fi

# Damaged copies of BuildStream's own test projects (a checkout's tests/ directory, e.g. of the
# bst-1 branch): every run answers within 10 s and 1 GiB, exit 0 or 1, errors naming a file.
check-mutate: all
	@test -n "$(BST_TESTS)" || { echo "usage: make check-mutate BST_TESTS=/path/to/buildstream/tests" >&2; exit 2; }
	@python3 tests/mutate/mutate.py --runs $${RUNS:-3} $$(find $(BST_TESTS) -name project.conf | xargs -n1 dirname | sort)

# Real software on a Debian 12 sysroot (debootstrap, cached): see tests/integration/run.sh.
check-integration: all tests/tools/flaky-httpd
	@sh tests/integration/run.sh

DEMO_APPLETS := sh echo cat ls mkdir cp find id uname rm test true
demo: all
	@mkdir -p examples/build/files/sysroot/bin
	@cp -f "$$(command -v busybox)" examples/build/files/sysroot/bin/busybox
	@for a in $(DEMO_APPLETS); do ln -sf busybox examples/build/files/sysroot/bin/$$a; done
	./rill -C examples/build build all.bst
	./rill -C examples/build artifact checkout --deps none --tar - greeting.bst | tar -xOf - usr/share/demo/greeting.txt
	./rill -C examples/hello show --deps all hello.bst
	./rill -C examples/hello -o flavour fancy show --deps none --format '%{name}: %{config}' greeting.bst

# bin: rill, rill-backend; lib/rill/plugins; include/rill: the plugin and status-reader headers;
# lib: librillstatus (static and shared) with pkgconfig/rillstatus.pc; share/man/man1: a page
# per command; share/bash-completion/completions/rill.
install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/rill/plugins/elements \
		$(DESTDIR)$(PREFIX)/lib/rill/plugins/sources $(DESTDIR)$(PREFIX)/include/rill \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 rill rill-backend $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(ELEMENT_PLUGINS) plugins/elements/*.yaml $(DESTDIR)$(PREFIX)/lib/rill/plugins/elements/
	install -m 644 $(SOURCE_PLUGINS) $(DESTDIR)$(PREFIX)/lib/rill/plugins/sources/
	install -d $(DESTDIR)$(PREFIX)/lib/rill/plugins/python/buildstream
	install -m 644 $(PY_BRIDGE) $(DESTDIR)$(PREFIX)/lib/rill/plugins/python/
	install -m 644 plugins/python/buildstream/*.py $(DESTDIR)$(PREFIX)/lib/rill/plugins/python/buildstream/
	install -m 644 core/plugin/rill-plugin.h frontends/rill-status.h core/status/rill-status-schema.h \
		$(DESTDIR)$(PREFIX)/include/rill/
	install -m 644 $(READER_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(READER_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf librillstatus.so.1 $(DESTDIR)$(PREFIX)/lib/librillstatus.so
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: rillstatus\nDescription: Read the build status table of rill\nVersion: %s\nLibs: -L$${libdir} -lrillstatus\nLibs.private: $(LMDB_LIBS)\nCflags: -I$${includedir}/rill\n' \
		'$(PREFIX)' '$(VERSION)' >$(DESTDIR)$(PREFIX)/lib/pkgconfig/rillstatus.pc
	install -m 644 frontends/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 frontends/rill.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/rill

clean:
	rm -rf frontends/man
	rm -f rill rill-backend core/*/*.o core/libcore.a frontends/*.o $(READER_LIB) $(READER_SO) plugins/*/*.so \
		$(UNIT_BINS) $(TEST_TOOLS) \
		$(EXAMPLE_PLUGIN) $(READER_PROGS) $(BENCH_TOOLS) $(DEPS_STAMP) $(FLAGS_STAMP) \
		$(FUZZ_REGRESS) $(FUZZ_BINS)
	rm -rf tests/fuzz/obj

.SECONDARY: $(FUZZ_CORE_OBJS)
.PHONY: all man check check-bst check-mutate check-integration bench demo install clean fuzz fuzz-deps
.SUFFIXES:
