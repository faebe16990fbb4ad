"""Boot lastboot guest kernels under QEMU (TCG) and collect what they print.

A Guest owns one RAM file.  Every boot() starts a new QEMU on that file, so
the second boot of a Guest is a warm reboot: RAM keeps what the previous
kernel left there, and the host can read or damage it in between (guest
physical address == file offset, RAM stays below the PCI hole).
"""

import atexit
import base64
import gzip
import os
import re
import shlex
import shutil
import socket
import subprocess
import time

import ringbuf
from qemu_configs.x86_64 import CONFIG as QEMU

# What counts as the kernel complaining on its console (a panic counts too:
# a boot that is meant to crash checks Boot.panicked instead).
COMPLAINT = re.compile(r"BUG:|WARNING:|Oops|KASAN|UBSAN|Kernel panic|Call Trace|general protection|"
                       r"RIP: |soft lockup|hung task|rcu_sched self-detected|stall")


class BootError(Exception):
    """A boot that did not reach its end: says what failed, shows the console."""

    def __init__(self, what, console, tail=40):
        lines = console.splitlines()[-tail:]
        super().__init__(what + "\n  console tail:\n" + "\n".join("  | " + l for l in lines))
        self.console = console


class RegionMoved(BootError):
    """A warm reboot placed a boot instance's reserve_mem region elsewhere
    than the boot before it did: with KASLR the new kernel can land where
    the region was (mainline's Documentation/trace/debugging.rst warns of
    it; configs/README.md has our figures). The previous boot's data is
    gone, and with it what the case was to check: the runner runs such a
    case once more and says so."""


class Boot:
    """What one boot left behind: console log, data sections, how it ended."""

    def __init__(self, console, data, seconds):
        self.console = console
        self.seconds = seconds
        self.sections, self.section_rcs = parse_sections(data)
        self.panicked = "Kernel panic - not syncing" in console
        # guest/init sends the end marker on the data port: printk cannot
        # split it there as it can on the console.
        m = re.search(r"^lastboot-guest: step done rc=(\d+)", data.replace("\r", ""), re.M)
        self.step_rc = int(m.group(1)) if m else None

    def section(self, name):
        if name not in self.sections:
            raise KeyError("guest sent no section %r (sent: %s)" % (name, ", ".join(self.sections) or "none"))
        return self.sections[name]

    def rc(self, name):
        """Exit status of the command that produced section `name` (guest/lib.sh's emit)."""
        self.section(name)
        if name not in self.section_rcs:
            raise KeyError("section %r carries no exit status" % name)
        return self.section_rcs[name]

    def dmesg_lines(self, pattern):
        return [l for l in self.console.splitlines() if re.search(pattern, l)]

    def complaints(self):
        return [l.strip() for l in self.console.splitlines() if COMPLAINT.search(l)]

    def complaints_before_crash(self):
        """Complaints up to the crash the step asked for.  The guest's own
        "crashing now" line can reach the console after the kernel's sysrq
        lines (tty output is buffered, printk is not), so cut at whichever
        of the two comes first."""
        text = self.console
        for marker in ("lastboot-guest: crashing now", "sysrq: Trigger a crash"):
            text = text.split(marker)[0]
        return [l.strip() for l in text.splitlines() if COMPLAINT.search(l)]


def parse_sections(data):
    """Split the data channel into ({name: text}, {name: exit status}),
    framed by === BEGIN/END [rc=N]; sections marked gzip-base64 are decoded."""
    out, rcs, name, buf, packed = {}, {}, None, [], False
    for line in data.replace("\r", "").split("\n"):
        if line.startswith("=== BEGIN "):
            words = line[len("=== BEGIN "):].split()
            name, buf, packed = words[0], [], "gzip-base64" in words[1:]
        elif line.startswith("=== END ") and name is not None:
            if packed:
                try:
                    text = gzip.decompress(base64.b64decode("".join(buf))).decode(errors="replace")
                except (ValueError, OSError, EOFError) as e:
                    text = "(section %s could not be decoded: %s)\n" % (name, e)
            else:
                text = "\n".join(buf) + ("\n" if buf else "")
            out[name] = text
            m = re.search(r"\brc=(\d+)", line)
            if m:
                rcs[name] = int(m.group(1))
            name = None
        elif name is not None:
            buf.append(line)
    return out, rcs


class Guest:
    def __init__(self, workdir, kernel, initrd, mem_mb=1024, smp=2, maxcpus=None,
                 debug=False, monitor=False, prealloc=False, icount=None):
        self.workdir = workdir
        self.kernel = kernel
        self.initrd = initrd
        self.mem_mb = mem_mb
        self.smp = smp
        self.maxcpus = maxcpus
        self.debug = debug
        self.monitor = monitor
        # QEMU maps the RAM file in lazily: the first guest access to a page
        # costs a host page fault (and, for a write to a hole, a block of
        # the file), which real memory does not.  prealloc=True populates it
        # all when QEMU starts, for timings of the guest's own work, and
        # keeps it in /dev/shm: populating dirties every page, and the host
        # would write a file on disk back while the guest is being timed.
        self.prealloc = prealloc
        # icount=SHIFT: the guest's clocks advance 2^SHIFT ns per instruction
        # executed (QEMU -icount), not with the host's time: a time measured
        # in the guest is then a count of instructions, which the load of
        # the host does not change (make bench).  sleep=off: an idle guest's
        # clock jumps to its next timer instead of waiting for the host's.
        # A busy kernel thread can hang such a boot (docs/bench-notes.md).
        self.icount = icount
        if prealloc:
            self.ram = "/dev/shm/lastboot-%d-%s.ram" % (os.getpid(), os.path.basename(workdir))
            atexit.register(self.cleanup)  # it holds host memory: never leave it
        else:
            self.ram = os.path.join(workdir, "ram")
        self.nboot = 0
        self.regions = {}           # boot instance name -> (address, size) last mapped
        os.makedirs(workdir, exist_ok=True)
        self.cleanup()  # a RAM file left by an earlier run is not this guest's
        self.proc = None

    def qemu_args(self, step_file, console, data, cmdline):
        smp = str(self.smp) if not self.maxcpus else "%d,maxcpus=%d" % (self.smp, self.maxcpus)
        args = [
            QEMU.binary, "-accel", QEMU.accel,
            "-cpu", QEMU.cpu_debug if self.debug else QEMU.cpu,
            "-m", "%dM" % self.mem_mb,
            # RAM in a file the host reads and writes between boots
            "-object", "memory-backend-file,id=ram0,size=%dM,share=on,mem-path=%s%s"
            % (self.mem_mb, self.ram, ",prealloc=on" if self.prealloc else ""),
            "-machine", QEMU.machine + ",memory-backend=ram0",
            "-smp", smp,
            "-kernel", self.kernel, "-initrd", self.initrd,
            "-append", cmdline,
            *QEMU.extra,
            # ttyS0: the console; ttyS1: the data channel of guest/lib.sh
            "-serial", "file:" + console, "-serial", "file:" + data,
            "-fw_cfg", "name=opt/lastboot/step,file=" + step_file,
        ]
        if self.icount is not None:
            args += ["-icount", "shift=%d,sleep=off" % self.icount]
        if self.monitor:
            args += ["-monitor", "unix:%s,server,nowait" % self.monitor_path()]
        return args

    def monitor_path(self):
        return os.path.join(self.workdir, "monitor.sock")

    def boot(self, step, cmdline="", timeout=120, expect="poweroff", during=None):
        """Boot once, run the shell snippet `step` in the guest, wait for QEMU.

        expect: "poweroff" (the step finished and the guest powered off),
        "panic" (the step crashed the kernel on purpose), "reboot" (the
        step restarted the kernel without a panic), "kdump" (the step
        panicked into a loaded crash kernel, which rebooted) or "killed" (`during`
        pulled the plug with kill(); nothing of the guest is checked).
        `during(guest)` runs on the host while the guest is up (for QEMU
        monitor commands, or to kill it).
        """
        self.nboot += 1
        self.killed = False
        tag = "boot%d" % self.nboot
        step_file = os.path.join(self.workdir, tag + ".step.sh")
        console = os.path.join(self.workdir, tag + ".console.log")
        data = os.path.join(self.workdir, tag + ".data.log")
        with open(step_file, "w") as f:
            f.write(step if step.endswith("\n") else step + "\n")
        full_cmdline = " ".join(x for x in (QEMU.cmdline, cmdline) if x)
        args = self.qemu_args(step_file, console, data, full_cmdline)
        with open(os.path.join(self.workdir, tag + ".qemu.cmd"), "w") as f:
            f.write(shlex.join(args) + "\n")
        start = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            if during:
                during(self)
            out, _ = self.proc.communicate(timeout=max(1, timeout - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise BootError("%s: timed out after %d s (%s)" % (tag, timeout, self.kernel),
                            read(console)) from None
        finally:
            self.proc = None
        seconds = time.monotonic() - start
        b = Boot(read(console), read(data), seconds)
        self.check_regions(tag, b.console)
        for name, text in b.sections.items():
            with open(os.path.join(self.workdir, "%s.%s.txt" % (tag, name)), "w") as f:
                f.write(text)
        if out.strip():
            b.qemu_output = out.decode(errors="replace")
        if expect == "poweroff":
            if b.panicked:
                raise BootError("%s: kernel panicked" % tag, b.console)
            if b.step_rc is None:
                raise BootError("%s: guest never finished its step (did the kernel boot?)%s"
                                % (tag, qemu_note(out)), b.console)
            if b.step_rc != 0:
                raise BootError("%s: guest step failed with rc=%d" % (tag, b.step_rc), b.console)
        elif expect == "reboot":
            # reboot -f: QEMU (-no-reboot) exits when the kernel restarts.
            if b.panicked:
                raise BootError("%s: kernel panicked" % tag, b.console)
            if "reboot: Restarting system" not in b.console:
                raise BootError("%s: expected a reboot, the kernel did not restart%s" % (tag, qemu_note(out)),
                                b.console)
        elif expect == "kdump":
            # panic() jumped to a loaded crash kernel, whose step rebooted.
            if not b.panicked:
                raise BootError("%s: expected a panic, the kernel did not panic%s" % (tag, qemu_note(out)),
                                b.console)
            if "reboot: Restarting system" not in b.console.split("Kernel panic - not syncing", 1)[1]:
                raise BootError("%s: the crash kernel did not come up and reboot%s" % (tag, qemu_note(out)),
                                b.console)
        elif expect == "killed":
            if not getattr(self, "killed", False):
                raise BootError("%s: expected the host to kill QEMU, it ended by itself%s"
                                % (tag, qemu_note(out)), b.console)
        elif expect == "panic":
            if not b.panicked:
                raise BootError("%s: expected a panic, the kernel did not panic%s" % (tag, qemu_note(out)),
                                b.console)
        return b

    def check_regions(self, tag, console):
        """Raise RegionMoved when an instance mapped again with the same size
        is not where this guest's previous boot had it."""
        for name, addr, size in ringbuf.MAPPED.findall(console):
            was = self.regions.get(name)
            if was and was[1] == size and was[0] != addr:
                raise RegionMoved("%s: boot instance %s was at %s, now at %s (with KASLR, reserve_mem "
                                  "can place it elsewhere): the previous boot's data is gone"
                                  % (tag, name, was[0], addr), console)
            self.regions[name] = (addr, size)

    def kill(self):
        """Pull the plug: SIGKILL QEMU, as a power cut or a watchdog reset
        would stop the machine; the RAM file keeps what the guest wrote."""
        self.killed = True
        self.proc.kill()

    def console_so_far(self):
        """What the running guest has printed on its console until now."""
        return read(os.path.join(self.workdir, "boot%d.console.log" % self.nboot))

    def hmp(self, command, timeout=10):
        """Send one human-monitor command to the running QEMU, return its reply."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.monitor_path())
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        s.settimeout(timeout)
        buf = b""
        while not buf.endswith(b"(qemu) "):
            buf += s.recv(4096)
        s.sendall(command.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        s.close()
        return buf.decode(errors="replace")

    def read_phys(self, addr, size):
        with open(self.ram, "rb") as f:
            f.seek(addr)
            return f.read(size)

    def write_phys(self, addr, data):
        if not os.path.exists(self.ram):  # before the first boot: RAM is zeros
            with open(self.ram, "wb") as f:
                f.truncate(self.mem_mb << 20)
        with open(self.ram, "r+b") as f:
            f.seek(addr)
            f.write(data)

    def cleanup(self):
        """Drop the RAM file: the next boot is a cold one."""
        self.regions = {}
        if os.path.exists(self.ram):
            os.unlink(self.ram)


def qemu_note(out):
    out = out.decode(errors="replace").strip() if out else ""
    return ("\n  qemu said: " + out) if out else ""


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def kernel_image(builddir):
    return os.path.join(builddir, QEMU.kernel_path)


def guest_initrd(builddir, base_cpio):
    """The base initramfs plus this kernel's modules and its own bzImage (at
    /boot, for kexec steps), as concatenated cpio archives."""
    out = os.path.join(builddir, "lastboot-initrd.cpio.gz")
    srcs = [base_cpio, kernel_image(builddir)]
    # scripts/build-kernel.sh installs make bench's module after the kernel's.
    kmemcpy = os.path.join(builddir, ".lastboot-kmemcpy-key")
    if os.path.exists(kmemcpy):
        srcs.append(kmemcpy)
    if os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(s) for s in srcs):
        return out
    extra = os.path.join(builddir, "lastboot-initrd-extra")
    shutil.rmtree(extra, ignore_errors=True)
    os.makedirs(os.path.join(extra, "boot"))
    shutil.copy(kernel_image(builddir), os.path.join(extra, "boot", "bzImage"))
    mods = os.path.join(builddir, "modules-install", "lib")
    if os.path.isdir(mods):
        # symlinks=True: modules_install leaves a "build" link to the build
        # directory itself, which must not be followed.
        shutil.copytree(mods, os.path.join(extra, "lib"), symlinks=True)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        with open(base_cpio, "rb") as b:
            shutil.copyfileobj(b, f)
        p = subprocess.run("cd '%s' && find . | cpio -o -H newc --quiet | gzip -1" % extra,
                           shell=True, check=True, stdout=subprocess.PIPE)
        f.write(p.stdout)
    os.replace(tmp, out)
    return out
