"""Writing preview files whole: a reader never sees a half-written edition.html."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from digest.errors import RenderError


def write_atomically(path: Path, data: bytes) -> Path:
    """Write to a temporary file beside `path`, then rename it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise RenderError(f"{path.parent}: cannot write there: {e.strerror}") from e
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise RenderError(f"{path}: cannot write: {e.strerror}") from e
    return path
