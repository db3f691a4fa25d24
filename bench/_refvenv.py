"""A cached virtualenv holding the reference implementation (cpppo 5.2.5 from PyPI).

Benchmarks compare our figures with the reference measured in the same run, so they need the
old package importable somewhere that cannot leak into our own ``.venv``.  ``ref_python()``
creates ``bench/.ref-venv`` once (cpppo==5.2.5 needs ``greenery<3``) and returns its interpreter;
later calls only check a stamp file.  Usable as a script: ``python bench/_refvenv.py`` prints the
path.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no lock, creation is then single-process only
    fcntl = None  # type: ignore[assignment]

REF_DIR = Path(__file__).resolve().parent / ".ref-venv"
REQUIREMENTS = ("cpppo==5.2.5", "greenery<3", "web.py")  # web.py: cpppo 5's --web
_STAMP = REF_DIR / ".installed"


def _python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def ref_python(*, quiet: bool = True) -> Path:
    """Return the reference venv's python, creating and populating the venv on first use.

    Safe to call from several benchmarks at once: creation happens under a file lock.
    """
    python = _python(REF_DIR)
    wanted = "\n".join(REQUIREMENTS)
    if python.exists() and _STAMP.exists() and _STAMP.read_text() == wanted:
        return python
    REF_DIR.mkdir(parents=True, exist_ok=True)  # the lock lives inside the ignored venv dir
    with open(REF_DIR / ".lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and _STAMP.exists() and _STAMP.read_text() == wanted:
            return python  # another process finished it while we waited
        if not python.exists():
            venv.EnvBuilder(with_pip=True).create(REF_DIR)
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *REQUIREMENTS]
        if quiet:
            cmd.insert(3, "--quiet")
        subprocess.run(cmd, check=True)
        _STAMP.write_text(wanted)
    return python


def run_ref(code: str, *args: str, timeout: float = 600.0) -> str:
    """Run ``code`` with the reference interpreter; return its stdout (raises on failure)."""
    done = subprocess.run(
        [str(ref_python()), "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.stdout


if __name__ == "__main__":
    print(ref_python(quiet=False))
