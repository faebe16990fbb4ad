"""The kernels and the guest initramfs the cases boot: built on demand by
the scripts, or handed down by the scheduler, which built them already."""

import json
import os
import subprocess
import sys

from paths import TOP


class Failed(Exception):
    """A step that cannot go on: a build, a boot, a check a case requires."""


def features(base):
    """Features the series of a base claims (series/<base>/FEATURES)."""
    path = os.path.join(TOP, "series", base, "FEATURES")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {w for line in f for w in line.split("#")[0].split()}


def build_kernel(base, flavour, variant):
    """Build (or find up to date) a kernel; returns its build directory."""
    p = subprocess.run([os.path.join(TOP, "scripts/build-kernel.sh"), base, flavour, variant],
                       stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    if p.returncode != 0:
        raise Failed("kernel %s-%s-%s did not build" % (base, flavour, variant))
    return p.stdout.strip().splitlines()[-1]


def build_initramfs():
    """The guest's base initramfs (scripts/build-initramfs.sh); returns its path."""
    p = subprocess.run([os.path.join(TOP, "scripts/build-initramfs.sh")],
                       stdout=subprocess.PIPE, stderr=sys.stderr, text=True, check=True)
    return p.stdout.strip().splitlines()[-1]


# A case run by the scheduler gets its kernels and initramfs from the
# parent, which built them already, through these variables.
ENV_KERNELS = "LASTBOOT_KERNELS"
ENV_INITRD = "LASTBOOT_INITRD"
_kernels = json.loads(os.environ.get(ENV_KERNELS, "{}"))
_initrd = os.environ.get(ENV_INITRD)


def kernel_key(base, flavour, variant):
    return "%s-%s-%s" % (base, flavour, variant)


def kernel_for(base, flavour, variant):
    key = kernel_key(base, flavour, variant)
    if key not in _kernels:
        _kernels[key] = build_kernel(base, flavour, variant)
    return _kernels[key]


def base_initrd():
    global _initrd
    if _initrd is None:
        _initrd = build_initramfs()
    return _initrd
