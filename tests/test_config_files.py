"""The configuration files we ship load with Odoo's own parser and hold every
option the suite reads, once, in the section it is read from.

The options are found in the code (``config.get(...)`` / ``config[...]`` in
addons/, tests excepted), so a new option fails here until
odoo.conf.example documents it. No server needed.
"""

import ast
import os
import subprocess
from pathlib import Path

import pytest

from odoo.tools.config import configmanager

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "odoo.conf.example"
DOCKER_CONF = ROOT / "setup" / "docker" / "odoo.conf"
# queue_job reads its own section; the suite's channels are set there.
QUEUE_JOB_OPTIONS = {"channels"}
SERVER_WIDE = {"queue_job", "retail_integration"}


class ModuleScan:
    """The option names one Python module reads from Odoo's config."""

    def __init__(self, path):
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents = {
            child: node
            for node in ast.walk(self.tree)
            for child in ast.iter_child_nodes(node)
        }
        self.constants = {
            target.id: node.value
            for node in self.tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }

    def options(self):
        names = set()
        for node in ast.walk(self.tree):
            key = _config_key(node)
            if key is not None:
                names |= self.resolve(key)
        return names

    def resolve(self, expr):
        """Every string ``expr`` can be, or fail saying where it is."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.JoinedStr):
            parts = [
                self.resolve(v.value if isinstance(v, ast.FormattedValue) else v)
                for v in expr.values
            ]
            if all(len(p) == 1 for p in parts):
                return {"".join(p.pop() for p in parts)}
        if isinstance(expr, ast.Name):
            function = self._function_with_parameter(expr)
            if function:
                return self._call_site_values(function, expr.id)
            if expr.id in self.constants:
                return self.resolve(self.constants[expr.id])
        raise AssertionError(
            f"{self.path.relative_to(ROOT)}:{expr.lineno}: cannot tell which "
            "config option this reads; use a literal or a module constant"
        )

    def _function_with_parameter(self, name):
        node = self.parents.get(name)
        while node is not None:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                params = [a.arg for a in node.args.posonlyargs + node.args.args]
                return node if name.id in params else None
            node = self.parents.get(node)
        return None

    def _call_site_values(self, function, param):
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        index = params.index(param)
        values = set()
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and _called_name(call) == function.name):
                continue
            passed = [k.value for k in call.keywords if k.arg == param]
            if index < len(call.args):
                passed.append(call.args[index])
            for expr in passed:
                values |= self.resolve(expr)
        if not values:
            raise AssertionError(
                f"{self.path.relative_to(ROOT)}:{function.lineno}: "
                f"{function.name}() reads a config option no call in the module names"
            )
        return values


def _is_config(node):
    """``config``, ``tools.config`` or ``config.options``."""
    if isinstance(node, ast.Name):
        return node.id == "config"
    return isinstance(node, ast.Attribute) and (
        node.attr == "config" or (node.attr == "options" and _is_config(node.value))
    )


def _config_key(node):
    """The key of ``config.get(key)`` or ``config[key]``, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and _is_config(node.func.value)
        and node.args
    ):
        return node.args[0]
    if isinstance(node, ast.Subscript) and _is_config(node.value):
        return node.slice
    return None


def _called_name(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def odoo_load(path):
    """The configuration exactly as Odoo's server loads ``-c path``."""
    return configmanager(fname=str(path))


ODOO_OPTIONS = set(odoo_load(os.devnull).options)


def suite_options():
    """The options of our own the suite reads (Odoo documents its own)."""
    names = set()
    for path in sorted((ROOT / "addons").glob("*/**/*.py")):
        if "tests" not in path.relative_to(ROOT / "addons").parts:
            names |= ModuleScan(path).options()
    return names - ODOO_OPTIONS


SUITE_OPTIONS = suite_options()


def test_the_scan_finds_the_suite_options():
    # A scan that finds nothing would let every other test pass.
    assert {
        "retail_secret_key",
        "retail_secret_key_previous",
        "retail_channel_capacity",
        "retail_outbox_batch_size",
    } <= SUITE_OPTIONS


def test_example_documents_every_option_once_in_its_section():
    # Odoo's parser refuses a section or an option given twice in one section.
    conf = odoo_load(EXAMPLE)
    missing = sorted(SUITE_OPTIONS - set(conf.options))
    assert not missing, f"odoo.conf.example lacks in [options]: {missing}"
    for section, values in conf.misc.items():
        wrong = sorted(SUITE_OPTIONS & set(values))
        assert not wrong, f"odoo.conf.example has {wrong} in [{section}] too"
    assert QUEUE_JOB_OPTIONS <= set(conf.misc.get("queue_job", {}))
    assert not QUEUE_JOB_OPTIONS & set(conf.options), "[queue_job] option in [options]"


def write_demo_like_conf(path):
    """A config written by setup/common.sh's retail_write_conf, as demo.sh does."""
    script = (
        'source setup/common.sh && retail_write_conf "$1" KEY "db_name = shop_demo" '
        '"http_port = 18069" "retail_outbox_allow_private_urls = True"'
    )
    subprocess.run(["bash", "-c", script, "-", str(path)], cwd=ROOT, check=True)
    return path


@pytest.fixture(params=["example", "docker", "generated"])
def conf_path(request, tmp_path):
    return {
        "example": lambda: EXAMPLE,
        "docker": lambda: DOCKER_CONF,
        "generated": lambda: write_demo_like_conf(tmp_path / "odoo.conf"),
    }[request.param]()


def test_config_loads_with_the_suite_server_wide(conf_path):
    conf = odoo_load(conf_path)
    assert SERVER_WIDE <= set(conf["server_wide_modules"].split(","))
    assert QUEUE_JOB_OPTIONS <= set(conf.misc.get("queue_job", {}))


def test_generated_options_land_in_options(tmp_path):
    conf = odoo_load(write_demo_like_conf(tmp_path / "odoo.conf"))
    assert (conf["db_name"], conf["http_port"]) == ("shop_demo", 18069)
    assert conf["retail_outbox_allow_private_urls"] is True


def test_config_options_are_known(conf_path):
    # A misspelled or misplaced option is silently ignored by Odoo.
    unknown = set(odoo_load(conf_path).options) - ODOO_OPTIONS - SUITE_OPTIONS
    assert not unknown, f"{conf_path.name}: options nobody reads: {sorted(unknown)}"
