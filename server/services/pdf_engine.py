"""PyMuPDF, without the optional layout analyser it would otherwise load.

PyMuPDF 2 imports `pymupdf.layout` and `pymupdf4llm` whenever they are installed (they come with
it): onnxruntime, numpy and a model, over a second of every server process's start-up and tens of
MB of its memory. The server only draws, stamps and rasterises PDFs, which use neither. A None
entry in `sys.modules` makes those optional imports fail at once, which PyMuPDF treats as "not
installed"."""

import sys

for _optional in ("pymupdf.layout", "pymupdf4llm"):
    sys.modules.setdefault(_optional, None)  # type: ignore[arg-type]

import pymupdf  # noqa: E402

__all__ = ["pymupdf"]
