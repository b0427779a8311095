"""The Jinja environment: template folders, autoescape, StrictUndefined, safe helpers.

Every value a template interpolates passes `finalize`, which breaks the placeholder
marker: article text can never turn into a per-recipient placeholder. The template's own
placeholders are the `GREETING`, `UNSUBSCRIBE_URL` and `EMAIL` globals (or the literal
tokens written in the template source).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from digest import placeholders
from digest.config import Settings
from digest.errors import RenderError
from digest.i18n import Catalogue
from digest.render.plain import wrap

PACKAGED_TEMPLATES = Path(__file__).parent.parent / "templates"
SOURCE_TEMPLATES = Path(__file__).parent.parent.parent / "templates"


def template_dirs(settings: Settings) -> list[Path]:
    """Configured override folder first, then the packaged templates."""
    dirs: list[Path] = []
    if settings.site.templates:
        override = settings.resolve_path(settings.site.templates)
        if not override.is_dir():
            raise RenderError(f"[site] templates: folder {override} does not exist")
        dirs.append(override)
    dirs.append(PACKAGED_TEMPLATES if PACKAGED_TEMPLATES.is_dir() else SOURCE_TEMPLATES)
    return dirs


def locale_dirs(settings: Settings) -> list[Path]:
    """Catalogue folders that take precedence over the packaged ones."""
    if not settings.site.templates:
        return []
    return [template_dirs(settings)[0] / "locale"]


class Placeholder:
    """A per-recipient token put in by the template itself (not a str: never defused)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __html__(self) -> str:
        return self.token

    def __str__(self) -> str:
        return self.token


class Composed:
    """A catalogue string with its fields filled in, already safe for its output."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __html__(self) -> str:
        return self.value

    def __str__(self) -> str:
        return self.value


def _finalize(value: Any) -> Any:
    """Every interpolated value passes here: no value can forge a placeholder."""
    if isinstance(value, str):
        return placeholders.defuse(value)
    return value


def _field(value: Any, html: bool) -> str:
    if isinstance(value, Placeholder):
        return f'<bdi dir="ltr">{value.token}</bdi>' if html else value.token
    text = placeholders.defuse(str(value))
    if not html:
        return text
    return str(Markup('<bdi dir="auto">{}</bdi>').format(text))


def _wrap_filter(
    value: Any, width: int = 78, indent: str = "", first_indent: str | None = None
) -> Any:
    """`wrap` for text templates; keeps a composed string (and its placeholders) intact.

    The address placeholder is wrapped as if it were `ADDRESS_COLUMNS` wide, so the line
    it lands on still fits once a real address replaces it."""
    text = str(value)
    stand_in = placeholders.EMAIL.ljust(ADDRESS_COLUMNS, "\x01")
    wrapped = wrap(text.replace(placeholders.EMAIL, stand_in), width, indent, first_indent)
    wrapped = wrapped.replace(stand_in, placeholders.EMAIL)
    return Composed(wrapped) if isinstance(value, Composed) else wrapped


#: Columns reserved for a subscriber's address where text is wrapped around it.
ADDRESS_COLUMNS = 64


def translator(catalogue: Catalogue) -> Any:
    """`t(key, **fields)`: the catalogue string, escaped for HTML with fields isolated."""

    @jinja2.pass_eval_context
    def t(eval_ctx: EvalContext, key: str, **fields: Any) -> Composed:
        try:
            template = catalogue.strings[key]
        except KeyError:
            raise RenderError(f"{catalogue.source}: [strings] {key}: missing") from None
        if eval_ctx.autoescape:
            template = str(escape(template))
        values = {name: _field(value, eval_ctx.autoescape) for name, value in fields.items()}
        try:
            return Composed(template.format(**values))
        except (KeyError, IndexError) as e:
            raise RenderError(
                f"{catalogue.source}: [strings] {key}: the template gives no value for {e}"
            ) from None

    return t


def make_environment(settings: Settings) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(settings)]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml"), default_for_string=True
        ),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wrap"] = _wrap_filter
    env.globals.update(
        GREETING=Placeholder(placeholders.GREETING),
        UNSUBSCRIBE_URL=Placeholder(placeholders.UNSUBSCRIBE_URL),
        EMAIL=Placeholder(placeholders.EMAIL),
        PREFERENCES_URL=Placeholder(placeholders.PREFERENCES_URL),
    )
    return env


_SHARED: dict[tuple[str, ...], jinja2.Environment] = {}


def shared_environment(settings: Settings) -> jinja2.Environment:
    """One environment per template search path, so each template compiles once per
    process (Jinja re-reads a template whose file changed). Render-specific values such
    as `t` go in the render context, never in its globals."""
    key = tuple(str(folder) for folder in template_dirs(settings))
    env = _SHARED.get(key)
    if env is None:
        env = _SHARED[key] = make_environment(settings)
    return env


def get_template(env: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound:
        raise RenderError(f"template {name} not found") from None
    except jinja2.TemplateSyntaxError as e:
        raise RenderError(f"{e.filename or name}, line {e.lineno}: {e.message}") from e
