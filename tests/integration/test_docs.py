# SPDX-License-Identifier: MIT
"""The README and the binary agree: every option and variable `wrapp --help`
(and each operator command's --help) names is in the README; every config
key of init/config.c's field tables, and every WRAPP_* variable the sources
read, is in the README's configuration reference, which names no key that
does not exist."""
import glob
import os
import re
import subprocess

import pytest

from conftest import WRAPP

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "../.."))
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
VARIABLE = re.compile(r"\b((?:WRAPP|TINI)_[A-Z][A-Z0-9_]*)\b")
COMMANDS = [[], ["logs"], ["crashes"], ["core", "get"], ["snapshot"], ["ps"], ["shim"]]


def readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def section(text, title):
    """The text of the README's '## title' section, up to the next '## '."""
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.S | re.M)
    assert m, "README has no '## %s' section" % title
    return m.group(1)


def reference():
    return section(readme(), "Configuration reference")


def help_text(cmd):
    r = subprocess.run([WRAPP] + cmd + ["--help"], capture_output=True, text=True, timeout=10,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert r.returncode == 0, (cmd, r.stderr)
    return r.stdout + r.stderr


def mentioned(token, text):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(token), text) is not None


def config_keys():
    """{"section.key"} from the field tables and the sections table of init/config.c."""
    with open(os.path.join(ROOT, "init", "config.c")) as f:
        src = f.read()
    tables = {name: re.findall(r'FLD(?:_INT)?\("(\w+)"', body) for name, body in
              re.findall(r"static const struct field (\w+)_fields\[\] = \{(.*?)\n\};", src,
                         re.S)}
    sections = re.findall(r'\{"(\w+)", (\w+)_fields, ARRAY_SIZE', src)
    assert sections and all(t in tables for _, t in sections), "config.c's tables not understood"
    return {"%s.%s" % (s, k) for s, t in sections for k in tables[t]}


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "wrapp")
def test_every_option_in_help_is_in_the_readme(cmd):
    text = readme()
    opts = set(OPTION.findall(help_text(cmd)))
    assert opts or cmd, "no options found in wrapp --help"
    missing = sorted(o for o in opts if not mentioned(o, text))
    assert missing == [], "in `wrapp %s --help` but not in README.md" % " ".join(cmd)


def test_every_variable_in_help_is_in_the_readme():
    text = readme()
    names = set(VARIABLE.findall(help_text([])))
    assert len(names) > 20
    assert sorted(n for n in names if not mentioned(n, text)) == []


def test_every_variable_the_sources_read_is_in_the_reference():
    ref = reference()
    names = set()
    for path in glob.glob(os.path.join(ROOT, "*", "*.c")):
        with open(path, errors="replace") as f:
            names |= set(re.findall(r'"((?:WRAPP|TINI)_[A-Z][A-Z0-9_]*)"', f.read()))
    assert len(names) > 20
    assert sorted(n for n in names if not mentioned(n, ref)) == []


def test_every_config_key_is_in_the_reference():
    ref = reference()
    keys = config_keys()
    assert len(keys) > 50
    assert sorted(k for k in keys if "| `%s` |" % k not in ref) == []


def test_the_reference_names_no_key_that_does_not_exist():
    keys = config_keys()
    sections = {k.split(".")[0] for k in keys}
    rows = re.findall(r"^\| `(\w+)\.(\w+)` \|", reference(), re.M)
    named = {"%s.%s" % m for m in rows if m[0] in sections}
    assert len(named) == len(rows) > 50
    assert sorted(named - keys) == []
