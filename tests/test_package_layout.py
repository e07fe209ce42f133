"""The package stays readable: one idea per module, each listed, none too long to read in one sitting."""

import ast
import re
from pathlib import Path

import vaeface_utils

PACKAGE = Path(vaeface_utils.__file__).resolve().parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
#: The longest module and class allowed: "about 500 lines" and "about 250", with the margin the word allows.
MAX_MODULE_LINES = 560
MAX_CLASS_LINES = 300


def test_no_module_is_too_long_to_read_in_one_sitting():
    lengths = {p.relative_to(PACKAGE).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    too_long = {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES}
    assert not too_long, f"split these modules by idea: {too_long}"


def test_no_class_is_too_long_to_read_in_one_sitting():
    too_long = {}
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                too_long[f"{path.name}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert not too_long, f"split these classes: {too_long}"


def test_the_package_docstring_lists_every_module_and_no_other():
    section = vaeface_utils.__doc__.split("Modules\n-------\n", 1)[1]
    listed = set()
    for line in section.splitlines():
        if line and not line[0].isspace():  # a module's line; continuation lines are indented
            names = line if re.fullmatch(r"[a-z_]+(, [a-z_]+)+", line) else line.split()[0]
            listed |= {name.strip() for name in names.split(",") if name.strip()}
    public = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")} | {"checks"}
    assert public - listed == set(), f"modules missing from vaeface_utils' docstring: {public - listed}"
    assert listed - public == set(), f"vaeface_utils' docstring lists modules that do not exist: {listed - public}"
