"""Ship the top-level templates/ directory inside the wheel as kinesio_tui/templates.

Everything else about the package is in pyproject.toml. The templates stay at the top of
the repository (where clinics and reviewers look for them); this build step copies them
next to the code, where kinesio_tui.export.render finds them after a regular install.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TEMPLATE_SUFFIXES = {".j2", ".css"}


class BuildPyWithTemplates(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "templates"
        target = Path(self.build_lib) / "kinesio_tui" / "templates"
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix in TEMPLATE_SUFFIXES:
                dest = target / path.relative_to(source)
                self.mkpath(str(dest.parent))
                self.copy_file(str(path), str(dest))


setup(cmdclass={"build_py": BuildPyWithTemplates})
