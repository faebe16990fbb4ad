"""The only architecture the guests run on today."""

from qemu_configs import QemuConfig

CONFIG = QemuConfig(
    binary="qemu-system-x86_64",
    # No usable KVM here; multi-threaded TCG breaks the kernel's code
    # patching (static keys, alternatives), see SPEC.md.
    accel="tcg,thread=single",
    cpu="qemu64",
    # la57 off: KASAN kernels hit an unrelated early-boot fault with 5-level
    # paging under TCG (see SPEC.md); max gives them the CPU features
    # KASAN's instrumentation is fastest with.
    cpu_debug="max,la57=off",
    machine="pc",
    kernel_path="arch/x86/boot/bzImage",
    # KASLR stays on, as on every distribution kernel: a case that needs
    # fixed addresses adds nokaslr itself and says why.  no_timer_check:
    # under TCG on a loaded host the IO-APIC timer check can miss its ticks
    # and panic the boot ("IO-APIC + timer doesn't work!"), as on any
    # virtual machine; distributions set it for their VM images.
    # panic=-1: a crash restarts at once, and -no-reboot turns the restart
    # into QEMU's exit.
    cmdline="console=ttyS0 panic=-1 loglevel=7 printk.time=1 no_timer_check",
    extra=("-display", "none", "-no-reboot"),
)
