"""What the wheel declares: every third-party module the shipped code imports comes from a
distribution in pyproject's ``dependencies`` (issue 21, row 6). The wheel's contents and its
installation are tested in test_e2e_wheel.py."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
SHIPPED = [REPO / "src", REPO / "remediation", REPO / "checks", REPO / "metadata"]


def imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for folder in SHIPPED:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def declared() -> set[str]:
    text = (REPO / "pyproject.toml").read_text()
    listed = re.search(r"^dependencies = \[(.*)\]$", text, re.M)[1]
    return {Requirement(r).name.lower().replace("_", "-") for r in re.findall(r'"([^"]+)"', listed)}


def test_every_third_party_import_is_declared():
    ours = {"prowler_vpc_flow_logs", "__future__"}
    third_party = {
        m
        for m in imported_top_level_modules()
        if m not in sys.stdlib_module_names and m not in ours
    }
    assert {"prowler", "boto3", "botocore", "pydantic", "yaml", "alive_progress"} <= third_party
    providers = importlib.metadata.packages_distributions()
    for module in sorted(third_party):
        distributions = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert distributions & declared(), f"{module} (from {distributions}) is not declared"


def shipped_modules() -> dict[str, Path]:
    """Module name -> file, for every module of the package (setup.py maps its folders)."""
    setup = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    (roots,) = [
        ast.literal_eval(node.value)
        for node in setup.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ROOTS"
    ]
    modules = {}
    for root, folder in roots.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            modules[".".join([root, *parts]).removesuffix(".__init__")] = path
    return modules


def imports_inside_the_package(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere (top level, in functions, relative)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from package import module` imports the module; `from package import name`, the package
            found |= {
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            }
    return (found & set(modules)) - {name}


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` (a module, what it imports, ..., the module again), or []."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return []
        for target in sorted(graph[node]):
            if cycle := visit(target, [*path, node]):
                return cycle
        done.add(node)
        return []

    for node in sorted(graph):
        if cycle := visit(node, []):
            return cycle
    return []


def test_the_package_has_no_import_cycles():
    """Function-level imports included (issue 21, row 5): each module only imports below it."""
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    modules = shipped_modules()
    assert {"prowler_vpc_flow_logs.activation", "prowler_vpc_flow_logs.check"} <= set(modules)
    graph = {
        name: imports_inside_the_package(name, path, modules) for name, path in modules.items()
    }
    assert "prowler_vpc_flow_logs.activation" in graph["prowler_vpc_flow_logs.metadata"]
    assert import_cycle(graph) == []


def test_only_the_scan_imports_prowlers_aws_service():
    """The remediation and the CLI read the scan as plain data (scan.Scan): importing them, the
    backout's commands and the verdicts pulls in no Prowler AWSService (issue 21, row 1)."""
    code = (
        "import sys\n"
        "import prowler_vpc_flow_logs.cli, prowler_vpc_flow_logs.cli.text\n"
        "import prowler_vpc_flow_logs.remediation.plan, prowler_vpc_flow_logs.remediation.fix\n"
        "import prowler_vpc_flow_logs.verdicts, prowler_vpc_flow_logs.remediation.fixer\n"
        "print(sorted(m for m in sys.modules if m.startswith('prowler.providers.aws.lib.service')))\n"
        "from prowler_vpc_flow_logs.remediation.fix import scanner\n"
        "scanner()\n"
        "print('prowler.providers.aws.lib.service.service' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"], done.stdout
