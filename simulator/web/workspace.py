"""The workspace folder the web pages read and write, and nothing outside it.

A workspace holds ``scenarios/`` (YAML files) and ``results/`` (run folders),
like a checkout of pasc or any folder a planner keeps their communes in. Every
path that comes from a request goes through :meth:`Workspace.resolve`, which
refuses absolute paths, ``..``, and anything whose real location (after
following symlinks) lies outside the workspace. The check is on the resolved
path, so a symlink inside ``scenarios/`` that points at ``/etc`` is refused
like ``../../etc/passwd`` is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: A file name the editor may create: lowercase, digits, dashes, ``.yaml``.
NEW_FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}\.ya?ml$")


class OutsideWorkspace(ValueError):
    """A requested path that would leave the workspace (or is not a plain relative path)."""


@dataclass(frozen=True)
class Workspace:
    """``root/scenarios`` and ``root/results``; ``root`` is resolved once."""

    root: Path

    @classmethod
    def at(cls, folder: str | Path) -> Workspace:
        return cls(Path(folder).expanduser().resolve())

    @property
    def scenarios(self) -> Path:
        return self.root / "scenarios"

    @property
    def results(self) -> Path:
        return self.root / "results"

    def resolve(self, relative: str, under: Path | None = None) -> Path:
        """``under / relative`` (default: the workspace root), or :class:`OutsideWorkspace`.

        Refused: an empty path, an absolute path (``/etc/passwd``, ``C:\\x``), any
        ``..`` part, a NUL byte, and a path whose resolved location (symlinks
        followed) is not inside ``under``.
        """
        base = (under or self.root).resolve()
        text = relative.replace("\\", "/")
        if not text or "\x00" in text:
            raise OutsideWorkspace(relative)
        pure = PurePosixPath(text)
        if pure.is_absolute() or re.match(r"^[A-Za-z]:", text) or ".." in pure.parts:
            raise OutsideWorkspace(relative)
        target = (base / pure).resolve()
        if not target.is_relative_to(base) or not target.is_relative_to(self.root):
            raise OutsideWorkspace(relative)
        return target

    def scenario_file(self, name: str) -> Path:
        """An existing scenario file in ``scenarios/`` (refused if outside)."""
        path = self.resolve(name, self.scenarios)
        if path.suffix not in (".yaml", ".yml"):
            raise OutsideWorkspace(name)
        return path

    def scenario_names(self) -> list[str]:
        """The ``*.yaml`` files directly in ``scenarios/`` whose real place is inside."""
        if not self.scenarios.is_dir():
            return []
        names = []
        for path in sorted(self.scenarios.iterdir()):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            try:
                self.scenario_file(path.name)
            except OutsideWorkspace:
                continue
            names.append(path.name)
        return names

    def run_folders(self) -> list[Path]:
        """Finished run, sizing and comparison folders, newest first (hidden partial ones
        that an interrupted writer leaves are skipped)."""
        if not self.results.is_dir():
            return []
        found = []
        for marker in ("run.json", "size.json", "compare.json"):
            for file in self.results.glob(f"*/*/{marker}"):
                folder = file.parent
                if folder.name.startswith(".") or folder.parent.name.startswith("."):
                    continue
                try:
                    self.resolve(str(folder.relative_to(self.results)), self.results)
                except (OutsideWorkspace, ValueError):
                    continue
                found.append(folder)
        return sorted(found, key=lambda f: f.stat().st_mtime, reverse=True)

    def relative(self, path: Path) -> str:
        """``path`` relative to ``results/`` as a URL part."""
        return path.resolve().relative_to(self.results.resolve()).as_posix()
