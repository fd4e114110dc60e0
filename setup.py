"""Packages for setuptools: the repository keeps ``engine/``, ``editor/`` and
``resources/`` at its top, and they install as ``flowdesk.engine``,
``flowdesk.editor`` and ``flowdesk.resources`` (no generic top-level names in
site-packages). Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, find_packages, setup

CODE = {"engine": "flowdesk.engine", "editor": "flowdesk.editor"}
# every file below these is package data (docs: Help ▸ Documentation, offline)
DATA = {"resources": "flowdesk.resources", "docs": "flowdesk.docs"}

packages = ["flowdesk"]
package_dir = {"flowdesk": "flowdesk"}
package_data: dict[str, list[str]] = {"flowdesk.engine": ["py.typed"]}
for folder, name in CODE.items():
    package_dir[name] = folder
    packages += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]
for folder, name in DATA.items():
    package_dir[name] = folder
    subs = [
        f"{name}.{sub}"
        for sub in find_namespace_packages(folder, exclude=["*output*", "*__pycache__*"])
    ]
    packages += [name, *subs]
    package_data.update({package: ["*"] for package in [name, *subs]})

setup(packages=packages, package_dir=package_dir, package_data=package_data)
