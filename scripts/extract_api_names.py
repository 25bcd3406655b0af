"""Extract the public surface recorded in ``reference/api.md`` into a JSON fixture.

The reference lives outside the repository (``/work/shared/reference/api.md``), and CI runs from a
clean clone, so the surface tests read the committed ``tests/fixtures/api_exports.json`` that this
script writes. Run it again whenever the reference changes::

    python scripts/extract_api_names.py [--reference PATH] [--output PATH]

For every module section of the reference the fixture records:

- ``all``: the module's ``__all__`` (or ``null`` when the reference lists none);
- ``bound``: the "name bound in package" table rows; a row whose target is a module is kept with
  ``kind`` ``"submodule"`` (a submodule of the package, ``name`` is the attribute it binds) or
  ``"module"`` (any other module import);
- ``constants``: module-level public names, with the expression as written when there is one;
- ``functions`` and ``classes``: documented names, and for each callable its parameters in order
  (name, kind and, when there is one, the default: its source text, plus ``literal`` when it is
  ``None``, a bool, a number or a string). Annotations are dropped. Overloads are folded into
  the implementation signature. Names listed without a signature get ``params: null``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_REFERENCE = Path("/work/shared/reference/api.md")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "api_exports.json"

MODULE_HEADING = re.compile(r"^### `(?P<module>prefect(?:\.[A-Za-z_][\w]*)*)`\s*$")
CLASS_HEADING = re.compile(r"^#### class `(?P<name>\w+)`(?:\((?P<bases>.*)\))?\s*$")
TABLE_ROW = re.compile(
    r"^\|\s*`(?P<name>[\w.]+)`\s*\|\s*(?P<target>[^|]*?)\s*\|\s*(?P<in_all>[^|]*?)\s*\|$"
)
ELIDED_STRING = re.compile(r"<str, \d+ chars>")
NAME_LIST_ITEM = re.compile(r"`(?P<name>\w+)`(?:\((?P<bases>[^`]*?)\))?")
LITERAL_TYPES = (type(None), bool, int, float, str)

SECTIONS = {
    "Module-level public names (constants / objects):": "constants",
    "Functions:": "functions",
}


def split_code_span(line: str, prefix: str) -> tuple[str, str]:
    """Return the text of the first backtick span after ``prefix`` and what follows it."""
    rest = line[len(prefix) :]
    end = rest.index("`")
    return rest[:end], rest[end + 1 :].strip()


def split_call(text: str) -> tuple[str, str, str]:
    """Split ``name(params) -> ret`` into its name, parameter text and the remainder."""
    open_at = text.index("(")
    depth = 0
    quote: str | None = None
    for index in range(open_at, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[:open_at].strip(), text[open_at + 1 : index], text[index + 1 :].strip()
    raise ValueError(f"unbalanced parentheses in signature: {text!r}")


def describe_default(node: ast.expr, source: str) -> dict[str, Any]:
    text = ast.get_source_segment(source, node) or ast.unparse(node)
    default: dict[str, Any] = {"source": text}
    if ELIDED_STRING.search(text):
        return default
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return default
    if isinstance(value, LITERAL_TYPES):
        default["literal"] = value
    return default


def describe_assignment(code: str) -> dict[str, Any]:
    """``NAME``, ``NAME = expr`` or ``NAME: annotation = expr`` as name, value and literal."""
    name = re.match(r"\w+", code)
    if name is None:
        raise ValueError(f"no name in {code!r}")
    value = code.split("=", 1)[1].strip() if "=" in code else None
    entry: dict[str, Any] = {"name": name.group(0), "value": value}
    if value is not None and not ELIDED_STRING.search(value):
        try:
            entry["literal"] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
    return entry


def parse_params(params_text: str) -> list[dict[str, Any]]:
    """Parse a reference parameter list (annotations and all) into names, kinds and defaults."""
    cleaned = ELIDED_STRING.sub(lambda m: repr(m.group(0)), params_text)
    source = f"def _signature({cleaned}): pass"
    try:
        function = ast.parse(source).body[0]
    except SyntaxError as exc:
        raise ValueError(f"cannot parse parameters {params_text!r}: {exc}") from exc
    assert isinstance(function, ast.FunctionDef)
    arguments = function.args
    result: list[dict[str, Any]] = []

    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    for index, arg in enumerate(positional):
        kind = "POSITIONAL_ONLY" if index < len(arguments.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        entry: dict[str, Any] = {"name": arg.arg, "kind": kind}
        if index >= first_default:
            entry["default"] = describe_default(arguments.defaults[index - first_default], source)
        result.append(entry)
    if arguments.vararg is not None:
        result.append({"name": arguments.vararg.arg, "kind": "VAR_POSITIONAL"})
    for arg, default_node in zip(arguments.kwonlyargs, arguments.kw_defaults):
        entry = {"name": arg.arg, "kind": "KEYWORD_ONLY"}
        if default_node is not None:
            entry["default"] = describe_default(default_node, source)
        result.append(entry)
    if arguments.kwarg is not None:
        result.append({"name": arguments.kwarg.arg, "kind": "VAR_KEYWORD"})
    return result


def parse_trailer(trailer: str) -> tuple[list[str], list[str], bool]:
    """Decorators, deprecated parameter names and the deprecated flag from a line's tail."""
    decorators: list[str] = []
    match = re.search(r"\[decorators: (?P<decorators>.*)\]", trailer)
    if match:
        decorators = [d.strip() for d in re.split(r",\s*(?=@)", match.group("decorators"))]
    deprecated_params: list[str] = []
    match = re.search(r"\(deprecated params: (?P<params>[^)]*)\)", trailer)
    if match:
        deprecated_params = [p.strip() for p in match.group("params").split(",")]
    return decorators, deprecated_params, "**(deprecated)**" in trailer


def parse_callable(code: str, trailer: str) -> dict[str, Any]:
    binding = "function"
    for prefix in ("@classmethod ", "@staticmethod "):
        if code.startswith(prefix):
            binding = prefix.strip("@ ")
            code = code[len(prefix) :]
    is_async = code.startswith("async ")
    if is_async:
        code = code[len("async ") :]
    name, params_text, _ = split_call(code)
    decorators, deprecated_params, deprecated = parse_trailer(trailer)
    entry: dict[str, Any] = {"name": name, "params": parse_params(params_text)}
    if is_async:
        entry["async"] = True
    if binding != "function":
        entry["binding"] = binding
    if decorators:
        entry["decorators"] = decorators
    if deprecated_params:
        entry["deprecated_params"] = deprecated_params
    if deprecated:
        entry["deprecated"] = True
    return entry


def fold_overloads(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep one entry per name: the implementation signature, counting its overloads."""
    folded: dict[str, dict[str, Any]] = {}
    overloads: dict[str, int] = {}
    for function in functions:
        if "@overload" in function.get("decorators", []):
            overloads[function["name"]] = overloads.get(function["name"], 0) + 1
            continue
        folded[function["name"]] = function
    for name, count in overloads.items():
        folded[name]["overloads"] = count
    return list(folded.values())


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]*)`", text)


def new_module(name: str) -> dict[str, Any]:
    return {"all": None, "bound": [], "constants": [], "functions": [], "classes": [], "notes": []}


def new_class(name: str, bases: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "bases": bases,
        "init": None,
        "methods": [],
        "properties": [],
        "class_attributes": [],
        "instance_attributes": [],
    }


def parse_reference(text: str) -> dict[str, dict[str, Any]]:
    modules: dict[str, dict[str, Any]] = {}
    module: dict[str, Any] | None = None
    module_name = ""
    klass: dict[str, Any] | None = None
    section: str | None = None

    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        try:
            heading = MODULE_HEADING.match(line)
            if heading:
                module_name = heading.group("module")
                module = modules.setdefault(module_name, new_module(module_name))
                klass, section = None, None
                continue
            if line.startswith("## "):
                module, klass, section = None, None, None
                continue
            if module is None:
                continue

            class_heading = CLASS_HEADING.match(line)
            if class_heading:
                klass = new_class(class_heading.group("name"), class_heading.group("bases"))
                module["classes"].append(klass)
                section = None
                continue

            if not line:
                continue
            if line in SECTIONS:
                klass, section = None, SECTIONS[line]
                continue
            if line.startswith("`__all__`:"):
                module["all"] = code_spans(line[len("`__all__`:") :])
                continue
            if line.startswith("|"):
                row = TABLE_ROW.match(line)
                if row and row.group("name") != "name bound in package":
                    module["bound"].append(parse_table_row(module_name, row))
                continue
            if line.startswith("_") and line.endswith("_"):
                module["notes"].append(line.strip("_"))
                continue
            if line.startswith("Functions: "):
                for item in NAME_LIST_ITEM.finditer(line[len("Functions: ") :]):
                    module["functions"].append({"name": item.group("name"), "params": None})
                continue
            if line.startswith("Classes: "):
                for item in NAME_LIST_ITEM.finditer(line[len("Classes: ") :]):
                    module["classes"].append(new_class(item.group("name"), item.group("bases")))
                continue

            if klass is not None:
                parse_class_line(klass, line, section)
                if line == "- methods:":
                    section = "methods"
                continue
            if section == "constants" and line.startswith("- `"):
                code, _ = split_code_span(line, "- `")
                name = re.match(r"\w+", code)
                assert name, line
                module["constants"].append(describe_assignment(code))
                continue
            if section == "functions" and line.startswith("- `"):
                code, trailer = split_code_span(line, "- `")
                module["functions"].append(parse_callable(code, trailer))
                continue
        except (ValueError, AssertionError) as exc:
            raise SystemExit(f"api.md:{line_number}: cannot parse {line!r}: {exc}") from exc
        raise SystemExit(f"api.md:{line_number}: unrecognised line {line!r}")

    for entry in modules.values():
        entry["functions"] = fold_overloads(entry["functions"])
        for klass_entry in entry["classes"]:
            klass_entry["methods"] = fold_overloads(klass_entry["methods"])
        if not entry["notes"]:
            del entry["notes"]
    return modules


def parse_table_row(module_name: str, row: re.Match[str]) -> dict[str, Any]:
    name = row.group("name")
    target = row.group("target")
    in_all = row.group("in_all") == "yes"
    if target == "module import":
        if name.startswith(module_name + "."):
            return {
                "name": name[len(module_name) + 1 :].split(".")[0],
                "target": name,
                "kind": "submodule",
            }
        return {"name": name, "target": name, "kind": "module"}
    alias = re.search(r"\(as `(\w+)`\)", target)
    spans = code_spans(target[: alias.start()] if alias else target)
    assert len(spans) == 1, f"expected one target in {target!r}"
    dotted = spans[0]
    entry: dict[str, Any] = {"name": name, "target": dotted, "kind": "object", "in_all": in_all}
    if alias:
        entry["alias_of"] = dotted.rsplit(".", 1)[1]
    return entry


def parse_class_line(klass: dict[str, Any], line: str, section: str | None) -> None:
    if line.startswith("    - `") and section == "methods":
        code, trailer = split_code_span(line, "    - `")
        klass["methods"].append(parse_callable(code, trailer))
    elif line == "- methods:":
        pass
    elif line.startswith("- `__init__`: inherited"):
        klass["init"] = "inherited"
    elif line.startswith("- `__init__(") or line.startswith("- `__new__("):
        code, trailer = split_code_span(line, "- `")
        entry = parse_callable(code, trailer)
        if entry["name"] == "__init__":
            klass["init"] = entry
        else:
            klass["new"] = entry
    elif line.startswith("- properties:"):
        klass["properties"] = [describe_assignment(span)["name"] for span in code_spans(line)]
    elif line.startswith("- class attributes:"):
        for span in code_spans(line[len("- class attributes:") :]):
            klass["class_attributes"].append(describe_assignment(span))
    elif line.startswith("- instance attributes"):
        klass["instance_attributes"] = code_spans(line.split(":", 1)[1])
    elif line.startswith("- deprecated init params:"):
        klass["deprecated_init_params"] = code_spans(line)
    elif line.startswith("- **deprecated**"):
        klass["deprecated"] = True
    elif line.startswith("- decorators:"):
        klass["decorators"] = [line.split(":", 1)[1].strip()]
    else:
        raise ValueError("unrecognised class line")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    modules = parse_reference(args.reference.read_text(encoding="utf-8"))
    fixture = {
        "source": "reference/api.md (Prefect Core 1.4.1 public API)",
        "generated_by": "scripts/extract_api_names.py",
        "modules": modules,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(fixture, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {len(modules)} modules to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
