#!/usr/bin/env bash
# Prints the Python 3.11 the virtual environment is made from (the Makefile's PYTHON; set PYTHON to
# choose another). The distribution's own python3.11 comes first where it has one that can make a
# virtual environment: Debian's and Ubuntu's are optimised builds with the interpreter linked into
# the binary, and the classifier ran 8-23 % more items per CPU-second on it than on the same 3.11
# built plainly from source (pyenv's default), with the same packages and identical results
# (docs/scaling.md, "Which Python build runs it"). Otherwise the first python3.11 on the PATH.
set -u
for candidate in /usr/bin/python3.11 "$(command -v python3.11)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] \
      && "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
# No usable 3.11: the first python3 on the PATH, whose pip then says which version pyproject.toml needs.
command -v python3.11 || command -v python3
