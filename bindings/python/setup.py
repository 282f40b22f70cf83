"""Copies the already built liboap into the package at install time.

Build the C crate first (`cargo build -p oap-c --release`). The library is
taken from, first match: $OAP_LIB (path of the file), $CARGO_TARGET_DIR,
then the repository's target/ dir (release before debug). If none exists the
package installs without it and looks for it at import time (see
oap/_lib.py).
"""

import os
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
LIB_FILE = {"darwin": "liboap.dylib", "win32": "oap.dll"}.get(sys.platform, "liboap.so")


def find_library():
    if os.environ.get("OAP_LIB"):
        return Path(os.environ["OAP_LIB"])
    roots = []
    if os.environ.get("CARGO_TARGET_DIR"):
        roots.append(Path(os.environ["CARGO_TARGET_DIR"]))
    roots.append(HERE.parent.parent / "target")
    for root in roots:
        for profile in ("release", "debug"):
            if (root / profile / LIB_FILE).is_file():
                return root / profile / LIB_FILE
    return None


class BuildPyWithLib(build_py):
    def run(self):
        super().run()
        lib = find_library()
        if lib is None or not lib.is_file():
            self.warn(
                f"{LIB_FILE} not found (build the oap-c crate first, or set OAP_LIB); "
                "installing without it: set OAP_LIB at run time"
            )
            return
        dest = Path(self.build_lib) / "oap" / LIB_FILE
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(lib, dest)
        self.announce(f"copied {lib} -> {dest}", level=2)


class BinaryDistribution(Distribution):
    """The wheel carries a native library: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLib}, distclass=BinaryDistribution)
