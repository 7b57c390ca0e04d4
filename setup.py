"""Packaging glue: metadata lives in pyproject.toml.

The top-level templates/ folder (where the design puts it) ships inside the wheel as the package
data of `ebo.templates`, so an installed app finds its templates next to its code.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["ebo", "ebo.*", "matching", "matching.*"]), "ebo.templates"],
    package_dir={"ebo.templates": "templates"},
    package_data={
        "ebo": ["static/*", "data/*", "translations/*/LC_MESSAGES/*", "migrations/*", "migrations/versions/*"],
        "ebo.templates": ["*.html", "*/*.html", "*/*/*.html"],
    },
)
