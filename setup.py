"""Package discovery for the folders pyproject.toml cannot map by itself.

The import namespace is ``prowler_vpc_flow_logs``; its parts live in the folders users were
promised (checks/, metadata/, remediation/, src/). Every folder with an ``__init__.py`` below
each root becomes a package, so a new subpackage cannot be left out of the wheel
(tests/test_e2e_wheel.py builds the wheel and installs it as a user does).
"""

from setuptools import find_packages, setup

# import name -> folder; checks/ itself stays a plain `prowler -x` folder, so the package is
# its one check folder.
ROOTS = {
    "prowler_vpc_flow_logs": "src/prowler_vpc_flow_logs",
    "prowler_vpc_flow_logs.check": "checks/vpc_flow_logs_enabled",
    "prowler_vpc_flow_logs.metadata": "metadata",
    "prowler_vpc_flow_logs.remediation": "remediation",
}

packages = [
    name
    for root, folder in ROOTS.items()
    for name in [root, *(f"{root}.{sub}" for sub in find_packages(folder))]
]
setup(
    packages=packages,
    package_dir=ROOTS,
    package_data={name: ["*.json"] for name in packages},
)
