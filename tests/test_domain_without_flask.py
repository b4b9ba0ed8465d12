"""The domain packages load without Flask, so scripts, workers and tests can use them bare."""
import subprocess
import sys

DOMAIN_PACKAGES = ("cap", "models", "intake", "rendering", "geography", "recipients", "channels", "audit", "security")

PROBE = """
import importlib, pkgutil, sys
for name in {packages!r}:
    package = importlib.import_module("warning_service." + name)
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf")))
"""


def test_importing_every_domain_module_leaves_flask_unloaded():
    probe = PROBE.format(packages=DOMAIN_PACKAGES)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_probe_would_notice_flask():
    probe = PROBE.format(packages=("web",))
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "flask" in result.stdout
