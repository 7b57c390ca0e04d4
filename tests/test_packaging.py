"""The app works when installed from a built wheel: templates, translations and migrations ship with it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = r"""
import sys, flask_migrate
from ebo import create_app
import ebo
assert "site-packages" not in ebo.__file__ and "{root}" not in ebo.__file__, ebo.__file__
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp}/w.sqlite3", "SECRET_KEY": "x",
                   "INSTANCE_PATH": "{tmp}/inst"}})
with app.app_context():
    flask_migrate.upgrade()
    from ebo.extensions import db
    import sqlalchemy as sa
    assert "users" in sa.inspect(db.engine).get_table_names()
c = app.test_client()
r = c.get("/login")
assert r.status_code == 200, r.status_code
page = r.get_data(as_text=True)
assert 'lang="sv"' in page
assert "Logga in" in page, "Swedish catalog missing from the wheel"
assert c.get("/static/ebo.css").status_code == 200
print("wheel ok")
"""


@pytest.mark.slow
def test_app_runs_from_built_wheel(tmp_path):
    """Build the wheel, unpack it away from the source tree, and serve a page from it."""
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, cwd=tmp_path)
    wheel = next(out.glob("ebo_host_matching-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ["ebo/templates/base.html", "ebo/migrations/env.py", "ebo/static/ebo.css",
                   "ebo/translations/sv/LC_MESSAGES/messages.mo", "matching/schema.py"]:
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "templates/")) for n in names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("EBO_INSTANCE_PATH", None)
    code = CHECK.format(root=str(ROOT), tmp=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wheel ok" in result.stdout
