"""Jinja2 templates for one run: imported on first use, compiled once per run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stackops.errors import StackopsError


class TemplateError(StackopsError):
    """A template is missing or failed to render; the message names its file and line."""


class TemplateRenderer:
    """One Jinja2 environment per templates folder, kept for the run (an explicit object).

    Undefined names fail (StrictUndefined); block tags eat their own line
    (trim_blocks, lstrip_blocks), so `{% for %}` lines leave no blank lines.
    """

    def __init__(self) -> None:
        self._environments: dict[Path, Any] = {}

    def _environment(self, folder: Path) -> Any:
        env = self._environments.get(folder)
        if env is None:
            import jinja2

            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(folder)),
                undefined=jinja2.StrictUndefined,
                keep_trailing_newline=True,
                trim_blocks=True,
                lstrip_blocks=True,
                autoescape=False,
                auto_reload=False,
            )
            self._environments[folder] = env
        return env

    def render(self, folder: Path, name: str, variables: Mapping[str, Any]) -> str:
        """Render template `name` of `folder`; TemplateError with file:line on failure."""
        import jinja2

        env = self._environment(folder)
        filename = str(folder / name)
        try:
            template = env.get_template(name)
        except jinja2.TemplateNotFound:
            have = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
            raise TemplateError(
                f"template {name!r} not found in {folder}"
                + (f" (have: {', '.join(have)})" if have else " (no templates there)")
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or filename
            raise TemplateError(
                f"{where}:{exc.lineno}: template syntax error: {exc.message}"
            ) from None
        try:
            return template.render(variables)
        except jinja2.UndefinedError as exc:
            line = _template_line(exc, template.filename or filename)
            raise TemplateError(f"{template.filename}:{line}: {exc.message}") from None
        except Exception as exc:
            line = _template_line(exc, template.filename or filename)
            raise TemplateError(
                f"{template.filename}:{line}: {type(exc).__name__}: {exc}"
            ) from None


def _template_line(exc: BaseException, filename: str) -> int | str:
    """The template line where `exc` was raised (Jinja2 maps its frames to the template)."""
    line: int | str = "?"
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
