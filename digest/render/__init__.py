"""Render: an edition plan becomes email-safe HTML and plain text, once per variant.

- `environment`: template folders, autoescape, StrictUndefined, placeholder safety;
- `context`: what the templates see (sanitised, localised views of the stories);
- `plain`: display widths, clipping and wrapping for subject and text part;
- `trim`: the 100 KB budget and the ladder that trims long editions;
- `edition`: render + premailer inlining;
- `lint`: the email checks `digest preview` and the tests run on the output.
"""

from digest.render.context import Limits, subject_line
from digest.render.edition import (
    HTML_TEMPLATE,
    TEXT_TEMPLATE,
    RenderedEdition,
    inline_css,
    render_edition,
)
from digest.render.environment import (
    PACKAGED_TEMPLATES,
    SOURCE_TEMPLATES,
    locale_dirs,
    make_environment,
    template_dirs,
)
from digest.render.trim import HTML_LIMIT, encoded_size

__all__ = [
    "HTML_LIMIT",
    "HTML_TEMPLATE",
    "PACKAGED_TEMPLATES",
    "SOURCE_TEMPLATES",
    "TEXT_TEMPLATE",
    "Limits",
    "RenderedEdition",
    "encoded_size",
    "inline_css",
    "locale_dirs",
    "make_environment",
    "render_edition",
    "subject_line",
    "template_dirs",
]
