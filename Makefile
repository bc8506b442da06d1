# The one entry point: `make` builds, `make test` runs every test (unit tests
# and a short fuzz here, then the real-kernel tests in a qemu VM), `make demo`
# and `make shell` boot that VM. See README.md.

GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
# The boot service: systemd reads units from $(PREFIX)/lib/systemd/system for
# /usr and /usr/local alike; the sync daemons' script goes to LIBEXECDIR.
UNITDIR    ?= $(PREFIX)/lib/systemd/system
LIBEXECDIR ?= $(PREFIX)/libexec/ipvsadm
BIN     := build/bin
CMDS    := ipvsadm ipvsadm-save ipvsadm-restore

export CGO_ENABLED := 0

.PHONY: all build test unittest fuzz fuzz-short vmtest demo shell install vet clean bench

all: build

build:
	$(GO) build -trimpath -o $(BIN)/ ./cmd/...

# Unit tests need neither root nor IPVS; the VM part needs qemu and Debian
# packages (installed and cached by vm/fetch.sh).
test: unittest fuzz-short vmtest

unittest: vet
	$(GO) test ./...

vet:
	$(GO) vet ./...

# Fuzz every Fuzz target of the module (scripts/fuzz.sh finds them with go
# test -list) for FUZZTIME each, and sum up the executions. FUZZFLAGS adds
# go test flags (-parallel=1 on a busy host). A crash leaves its input in the
# package's testdata/fuzz/: fix it and commit the input as a regression test.
FUZZTIME  ?= 60s
FUZZFLAGS ?=
fuzz:
	GO='$(GO)' FUZZTIME='$(FUZZTIME)' FUZZFLAGS='$(FUZZFLAGS)' scripts/fuzz.sh

# A few seconds of every fuzz target, for make test.
fuzz-short:
	GO='$(GO)' FUZZTIME=5s FUZZFLAGS='$(FUZZFLAGS)' scripts/fuzz.sh

vmtest:
	vm/vmtest.sh

demo:
	vm/demo.sh

shell:
	vm/shell.sh

# The benchmark of issue 5: the reference ipvsadm 1.31 against ours in one
# boot of the VM; writes BENCHMARKS.md and bench/chart.svg (about 45 min).
# BENCH_QUICK=1: one run per side, no 50,000-service rows, nothing
# published (build/vm/bench/). See vm/bench.sh.
bench:
	vm/bench.sh

# Regenerate testdata/scenarios/*.golden: the reference ipvsadm 1.31 runs
# every scenario on the real kernel in the VM (testdata/scenarios/README.md).
.PHONY: golden
golden:
	vm/golden.sh

# install puts the commands in $(PREFIX)/sbin, and the boot service
# (systemd/) with the paths filled in; `systemctl enable ipvsadm` is left to
# the operator. systemd/debian.conf is the drop-in for Debian's files
# (README: The boot service).
install: build
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(addprefix $(BIN)/,$(CMDS)) $(DESTDIR)$(PREFIX)/sbin/
	for f in ipvsadm.service ipvsadm-sync.service ipvsadm-sync; do \
		sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' systemd/$$f >$(DESTDIR)$(UNITDIR)/$$f.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$$f.tmp $(DESTDIR)$(UNITDIR)/$$f || exit 1; \
	done
	chmod 0644 $(DESTDIR)$(UNITDIR)/ipvsadm.service $(DESTDIR)$(UNITDIR)/ipvsadm-sync.service
	mv $(DESTDIR)$(UNITDIR)/ipvsadm-sync $(DESTDIR)$(LIBEXECDIR)/ipvsadm-sync
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/ipvsadm-sync

clean:
	rm -rf build
