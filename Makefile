# lastboot: crash forensics that survive the crash.
#   make demo    build, boot, crash, reboot and show the recovered trace (6.12)
#   make check   every scenario and the series lint; ends "N passed, N failed"
#   make bench   what robustness costs, side by side; writes BENCHMARKS.md
# Run as root on Debian: missing packages are installed with apt.

BASE    ?= 6.12
FLAVOUR ?= lastboot
VARIANT ?= normal
K       ?=
FUZZ_N  ?= 200

RUN := python3 harness/run.py

.PHONY: help demo check bench tree export kernel initramfs scenarios list report lint-build fuzz-pstore

help:
	@sed -n '2,6p' Makefile | sed 's/^# *//'
	@echo "  make tree BASE=6.12|7.3        kernel tree with the series applied"
	@echo "  make export BASE=...           write the tree's commits back to series/BASE"
	@echo "  make kernel BASE= FLAVOUR=lastboot|stock VARIANT=normal|debug|bench"
	@echo "  make scenarios K=crash         run the scenarios whose name contains K"
	@echo "  make lint-build BASE=...       lint the series and build after each patch"

demo:
	@scripts/demo.sh

check:
	@scripts/check.sh

# make bench [ROUNDS=5] [SIZES="8 64 256"] [ONLY="write validate backup recovery kho ccache thp"]
bench:
	@ROUNDS=$(or $(ROUNDS),5) SIZES="$(or $(SIZES),8 64 256)" ONLY="$(ONLY)" scripts/bench.sh

tree:
	@scripts/tree.sh $(BASE)

export:
	@scripts/export-series.sh $(BASE)

kernel:
	@scripts/build-kernel.sh $(BASE) $(FLAVOUR) $(VARIANT)

initramfs:
	@scripts/build-initramfs.sh

list:
	@$(RUN) --list

scenarios:
	@$(RUN) $(if $(K),-k $(K))

report:
	@python3 harness/report.py

# Not part of make check (one incremental build per patch): run it before
# sending a series.
lint-build:
	@BUILD_EACH=1 scripts/lint-series.sh $(BASE)

# make fuzz [N=200] [SEED=1] [MODE=events|wrapped] [REGION=<saved region>] [BASE=6.12 FLAVOUR=lastboot VARIANT=debug]
fuzz:
	@scripts/need-packages.sh
	@N=$(FUZZ_N) $(if $(N),N=$(N)) $(if $(MODE),MODE=$(MODE)) $(if $(REGION),REGION=$(REGION)) SEED=$(or $(SEED),1) BASE=$(BASE) FLAVOUR=$(FLAVOUR) VARIANT=$(or $(filter-out normal,$(VARIANT)),debug) python3 harness/fuzz.py

# The pstore handover fuzz (scenarios/pstore_kho_fuzz.py) on more seeds than
# make check runs; see docs/pstore-fuzz.md.  Not beside make check: both use
# the case's run directory.
fuzz-pstore:
	@LASTBOOT_PSTORE_FUZZ_N=$(or $(N),200) LASTBOOT_PSTORE_FUZZ_SEED=$(or $(SEED),1) $(RUN) -k pstore_kho_fuzz -j1
