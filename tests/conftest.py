"""Fixtures: moto in-process (mock_aws) with dummy credentials, the policy estate, the delivery
role. Helpers shared by the tests are in tests/support.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.iam.access_control import IAMRequestBase

from devtools.aws_boundary import boundary
from devtools.estate import Estate, seed_policy_estate
from tests.support import DUMMY_ENV, client, create_role, prowler_tree

# moto loads a few thousand default AMIs into every EC2 region it starts; no test reads one.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
SLOW = ("e2e", "wheel")  # start a real prowler or pip: 10-50 s each
TREE = ("e2e", "compat")  # run or read the installed Prowler: hold its tree shared
ALONE = "prowler_tree_alone"  # the xdist_group of the tests that change that tree


def _marked(item: pytest.Item, names: tuple[str, ...]) -> bool:
    return any(item.get_closest_marker(name) for name in names)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order pytest-xdist hands tests out in (Makefile: --no-loadscope-reorder): the tests
    that change Prowler's tree while the other worker runs quick ones that leave it alone, then
    the slow ones, then the rest of the quick ones to fill the end."""
    group = [i.get_closest_marker("xdist_group") for i in items]
    alone = [i for i, g in zip(items, group, strict=True) if g and g.args == (ALONE,)]
    slow = [i for i in items if i not in alone and _marked(i, SLOW)]
    quick = [i for i in items if i not in alone and i not in slow]
    aside = [i for i in quick if not _marked(i, TREE)][: len(quick) // 2]
    items[:] = alone + aside + slow + [i for i in quick if i not in aside]


@pytest.fixture(scope="session", autouse=True)
def _aws_account_boundary() -> Iterator[None]:
    """Every test: moto answers as AWS does across accounts (devtools/aws_boundary.py)."""
    with boundary():
        yield


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Every test: dummy credentials, no endpoint override, a private state folder."""
    for key in list(os.environ):
        if key.startswith("AWS_") and key not in DUMMY_ENV:
            monkeypatch.delenv(key, raising=False)
    for key, value in DUMMY_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VPC_FLOW_LOGS_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def estate(aws) -> Estate:
    return seed_policy_estate(client)


@pytest.fixture
def role(estate) -> str:
    """The estate plus the delivery role its ROLE_ARN names."""
    return create_role()


@pytest.fixture
def seen(monkeypatch) -> set[str]:
    """Every action moto's authorizer checks (and permits) from now on."""
    performed: set[str] = set()
    original = IAMRequestBase.check_action_permitted

    def record(self, resource):
        original(self, resource)
        performed.add(self._action)

    monkeypatch.setattr(IAMRequestBase, "check_action_permitted", record)
    return performed


@pytest.fixture(scope="session", autouse=True)
def _prowler_runs_this_checkouts_check(request) -> None:
    """The end-to-end tests run the real `prowler`, which loads its own copy of our check files:
    bring that copy up to date with the checkout first (what `make plugin` does)."""
    if not any(item.get_closest_marker("e2e") for item in request.session.items):
        return
    from prowler_vpc_flow_logs.activation import active_check, find_prowler, install_check

    with prowler_tree(alone=True):  # each xdist worker runs this
        install = find_prowler()
        if active_check(install) != "ours":
            install_check(install)


@pytest.fixture(autouse=True)
def _prowler_tree_shared(request) -> Iterator[None]:
    """An e2e or compat test runs or reads the installed Prowler: never while another test's
    step changes it (install, uninstall, `prowler -x`: ``with prowler_tree(alone=True)``)."""
    if not _marked(request.node, TREE):
        yield
        return
    with prowler_tree():
        yield
