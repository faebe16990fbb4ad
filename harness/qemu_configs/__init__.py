"""QEMU settings as data, one file per architecture (as the kernel's
tools/testing/kunit/qemu_configs/ holds them); harness/vm.py builds the
command line from them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class QemuConfig:
    binary: str                 # the QEMU system emulator
    accel: str                  # -accel
    cpu: str                    # -cpu of the normal and bench kernels
    cpu_debug: str              # -cpu of the KASAN/UBSAN kernels
    machine: str                # -machine, before the memory backend
    kernel_path: str            # the bootable image, in a kernel build directory
    cmdline: str                # what every boot's kernel command line starts with
    extra: tuple = ()           # further arguments, the same for every boot
