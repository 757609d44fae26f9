"""The package's import graph has no circle: every module of episodic_curiosity, parsed with
`ast` (nothing is imported), with an edge for every `import` / `from ... import` anywhere in the
module (top level, inside functions, under `if`), so a lazy import cannot hide a circle.

The implicit import of a package's `__init__` when one of its submodules is imported is not an
edge: only what a module names."""

import ast
import pathlib

PACKAGE = "episodic_curiosity"
ROOT = pathlib.Path(__file__).resolve().parent.parent / PACKAGE


def modules():
    """{dotted module name: (path, is_package)} for every .py file of the package."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _known(name, known):
    """`name`, or its nearest enclosing module of the package (None outside the package)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(module, is_package, node, known):
    """The package's modules an Import / ImportFrom node names."""
    if isinstance(node, ast.Import):
        candidates = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")[:len(module.split(".")) + is_package - node.level]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module
        # `from pkg import sub` names the submodule pkg.sub when there is one, else pkg itself.
        candidates = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix
                      for alias in node.names]
    return {m for m in (_known(c, known) for c in candidates) if m and m != module}


def import_graph():
    known = modules()
    graph = {}
    for module, (path, is_package) in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[module] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= imported_names(module, is_package, node, known)
    return graph


def find_cycle(graph):
    """One import circle as [a, b, ..., a], or None."""
    state = {}  # module -> "open" while on the DFS path, "done" after
    path = []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert len(graph) > 50
    # Top-level, function-level and relative-free `from pkg import module` forms all count.
    assert "episodic_curiosity.errors" in graph["episodic_curiosity.cli"]
    assert "episodic_curiosity.agents.ppo" in graph["episodic_curiosity.configuration"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


# (importer, imported): a layer below never names one above it (docs/architecture.md's layers).
# analysis/ reads results wherever they are (a directory, gs://: gcs.py) and so must not depend on
# how runs are launched; the report card sits above rnet/ and rewards/; envs/ is the bottom engine
# layer (no torch: its subprocess workers start fast).
LIBRARIES = ["agents", "analysis", "envs", "rewards", "rnet"]
FORBIDDEN = (
    [(f"{PACKAGE}.{low}", f"{PACKAGE}.{high}") for low in LIBRARIES for high in ("launch", "cli")]
    + [(f"{PACKAGE}.{low}", f"{PACKAGE}.report_card") for low in ("rnet", "rewards")]
    + [(f"{PACKAGE}.envs", f"{PACKAGE}.{high}")
       for high in ("agents", "analysis", "rewards", "rnet")])


def binaries():
    """The package root's binaries: modules there with a top-level main()."""
    return sorted(module for module, (path, is_package) in modules().items()
                  if module.count(".") == 1 and not is_package
                  and any(isinstance(node, ast.FunctionDef) and node.name == "main"
                          for node in ast.parse(path.read_text()).body))


def _inside(module, package):
    return module == package or module.startswith(package + ".")


def layer_violations(graph, forbidden=FORBIDDEN):
    """'a -> b' for every edge from a module of an importer package into its forbidden one."""
    return sorted(f"{a} -> {b}" for a, imported in graph.items() for b in imported
                  for low, high in forbidden if _inside(a, low) and _inside(b, high))


def test_layer_violations_are_found():
    graph = {"episodic_curiosity.analysis.curves": {"episodic_curiosity.launch.bucket_sync"},
             "episodic_curiosity.launch.fleet": {"episodic_curiosity.analysis.curves"}}
    assert layer_violations(graph) == [
        "episodic_curiosity.analysis.curves -> episodic_curiosity.launch.bucket_sync"]


def test_lower_layers_do_not_import_upper_ones():
    assert layer_violations(import_graph()) == []


def test_libraries_import_no_binary():
    """Every binary's main() lives in the package root (a subpackage's old `python -m` path runs
    it by name); no library module depends on one."""
    found = binaries()
    assert {"episodic_curiosity.scenarios", "episodic_curiosity.rnet_report",
            "episodic_curiosity.train_policy"} <= set(found)
    forbidden = [(f"{PACKAGE}.{low}", binary) for low in LIBRARIES for binary in found]
    assert layer_violations(import_graph(), forbidden) == []
