"""The house stays readable: no room over 600 lines, no function over 80 lines of code, no
class over 200, and the rooms' imports run one way (docs/design.md, "Where things live")."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "seqsal").rglob("*.py"))


def _code_lines(node, lines) -> int:
    """Lines of code in a definition: not its docstring, comments or blank lines."""
    body = node.body
    docstring = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        docstring = set(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(
        1
        for number in range(node.lineno, node.end_lineno + 1)
        if number not in docstring and lines[number - 1].strip()[:1] not in ("", "#")
    )


def test_no_room_over_600_lines_no_function_over_80_no_class_over_200():
    too_long = []
    for path in MODULES:
        text = path.read_text()
        lines = text.splitlines()
        name = path.relative_to(ROOT)
        if len(lines) > 600:
            too_long.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            limit = {ast.FunctionDef: 80, ast.AsyncFunctionDef: 80, ast.ClassDef: 200}
            if type(node) in limit and _code_lines(node, lines) > limit[type(node)]:
                too_long.append(f"{name}:{node.lineno} {node.name}: {_code_lines(node, lines)}")
    assert not too_long, too_long


def _room(module: str) -> str:
    """A package is one room (``seqsal.train``), a top-level module another."""
    return ".".join(module.split(".")[:2])


def _imports(path: Path) -> set:
    """The seqsal modules ``path`` imports, at the top or inside a function."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name == "__init__.py":
        package = package.removesuffix(".__init__")
    else:
        package = package.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module and node.module.startswith("seqsal"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("seqsal")}
    return found


def test_the_rooms_imports_run_one_way():
    """Rooms (packages and top-level modules) and the imports between them form no
    circle: nothing a room imports imports it back, however far round."""
    graph = {}
    for path in MODULES:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        room = _room(module)
        if room == "seqsal.__init__":
            continue  # the package's face re-exports the version only
        needs = {_room(m) for m in _imports(path)} - {room, "seqsal"}
        graph.setdefault(room, set()).update(needs)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"rooms import each other round a circle: {error.args[1]}") from None
    assert {"seqsal.io", "seqsal.train", "seqsal.cli"} <= set(order)
    assert order.index("seqsal.errors") < order.index("seqsal.io") < order.index("seqsal.cli")
