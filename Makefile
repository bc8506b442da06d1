# The one entry point: `make` builds, `make test` runs every test (unit tests
# here, then the real-kernel tests in a qemu VM), `make demo` and `make shell`
# boot that VM. See README.md.

GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
BIN     := build/bin
CMDS    := ipvsadm ipvsadm-save ipvsadm-restore

export CGO_ENABLED := 0

.PHONY: all build test unittest vmtest demo shell install vet clean

all: build

build:
	$(GO) build -trimpath -o $(BIN)/ ./cmd/...

# Unit tests need neither root nor IPVS; the VM part needs qemu and Debian
# packages (installed and cached by vm/fetch.sh).
test: unittest vmtest

unittest: vet
	$(GO) test ./...

vet:
	$(GO) vet ./...

vmtest:
	vm/vmtest.sh

demo:
	vm/demo.sh

shell:
	vm/shell.sh

# Regenerate testdata/scenarios/*.golden: the reference ipvsadm 1.31 runs
# every scenario on the real kernel in the VM (testdata/scenarios/README.md).
.PHONY: golden
golden:
	vm/golden.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(addprefix $(BIN)/,$(CMDS)) $(DESTDIR)$(PREFIX)/sbin/

clean:
	rm -rf build
