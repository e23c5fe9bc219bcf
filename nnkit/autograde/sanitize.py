"""Student output and Markdown made inert before any page shows it.

nbgrader's feedback page and formgrader's manual-grading view are nbconvert
HTML exports of the autograded notebook, and nbconvert copies what a student
displayed into the page as is: ``display(HTML(...))`` and a DataFrame alike,
``display(Javascript(...))`` as a ``<script>``, widget views with the widget
manager's JavaScript, and Markdown cells rendered by mistune with their raw
HTML kept. Formgrader is served by the instructor's own Jupyter server, so a
script there acts as the instructor: gradebook, files, terminals. (Formgrader
renders the autograded notebook, never the submitted one: its ``SubmissionHandler``
reads ``autograded/``, and its file handler serves that folder's other files,
which is why ``submissions.prepare`` copies no web page or SVG there.)

Two layers, both configured in the course's ``nbgrader_config.py``:

:class:`SanitizeStudentOutput`
    an nbconvert preprocessor, last of nbgrader's ``autograde_preprocessors``
    (the autograded notebook on disk is clean) and again in ``generate_feedback``
    and formgrader's ``HTMLExporter`` (notebooks graded before it existed). It
    keeps only output types the page draws without running anything: text,
    PNG/JPEG/GIF images, and HTML and Markdown after :func:`clean_html`.
    JavaScript and widget views become the text ``[removed: script output]``,
    SVG becomes a text note (an inline SVG can carry scripts), the notebook's
    saved widget state is dropped, and so are cell metadata a template copies
    into the page unescaped (a ``grade_id`` outside nbgrader's pattern).

:class:`SanitizedMarkdown`
    the ``markdown2html`` filter of those exports: nbconvert's own rendering,
    then :func:`clean_html` on the result. Cleaning after rendering is what
    closes Markdown's own paths to HTML (raw blocks, autolinks, entities in
    link targets), whatever the Markdown parser makes of the source.

The sanitiser is ``nh3`` (Python bindings of the Rust ``ammonia`` crate,
parsing with html5ever, the same HTML5 algorithm browsers use, so what it
judges is what a browser builds). ``bleach``, which nbconvert's own
``SanitizeHTML`` and ``HTMLExporter.sanitize_html`` use, is deprecated upstream
and its allowlists drop headings, paragraphs and images, which would strip
every honest student's Markdown too.
"""

from __future__ import annotations

import base64
import binascii
import html as html_module
import re

import nh3
from jinja2 import pass_context
from nbconvert.preprocessors import Preprocessor
from traitlets.config import LoggingConfigurable

REMOVED_SCRIPT = "[removed: script output]"
REMOVED_SVG = "[removed: SVG image; an SVG can carry scripts, so it is not shown]"

# What the page may draw. No style (a student could lay a fake form over the page),
# no id or name (they overwrite the page's own JavaScript globals: DOM clobbering).
TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "title", "lang", "dir"},
    "table": {"border", "align", "summary"},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_GRADE_ID = re.compile(r"[a-zA-Z0-9_\-]*")
# A Markdown source with none of these renders to HTML mistune builds itself: no raw tag,
# comment or autolink (CommonMark starts them all with < and a letter, /, ! or ?), no
# character reference, no script or data URL (a backslash escape may sit before its colon).
_RAW = re.compile(
    r"<[a-z!/?]|&#|&[a-z][a-z0-9]*;|(javascript|vbscript|data)[\s\\]*:", re.IGNORECASE
)
_SCRIPT_TYPES = ("javascript", "ecmascript", "widget-view", "widget-state")


def _keep_data_images_only(element: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: a ``data:`` URL survives only as a PNG, JPEG or GIF image."""
    if value.strip()[:5].lower() != "data:":
        return value
    if element == "img" and attribute == "src" and _DATA_IMAGE.fullmatch(value.strip()):
        return value
    return None


def clean_html(html: str) -> str:
    """``html`` with everything that could run removed (see the module docstring).

    Scripts and styles go with their content; event handlers, ``javascript:``
    and non-image ``data:`` URLs, iframes, forms, SVG and MathML go; text,
    tables, links and images stay.
    """
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_keep_data_images_only,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(source: str) -> str:
    """Markdown to HTML the way nbconvert renders a Markdown cell (mistune, with math)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    return MarkdownWithMath(renderer=IPythonRenderer(escape=False)).render(source)


def clean_markdown(source: str) -> str:
    """A Markdown source whose rendering runs nothing.

    Plain Markdown (no ``<``, ``&`` or URL scheme that could run) is returned
    unchanged. Anything else is replaced by its rendering through
    :func:`clean_html`, as one HTML block on one line (``&#10;`` keeps the line
    breaks of code blocks), so a later Markdown pass leaves it as it is.
    """
    if not _RAW.search(source):
        return source
    try:
        rendered = render_markdown(source)
    except Exception:  # mistune recurses per nesting level: shown as text, never a failure
        rendered = _as_text(source)
    html = clean_html(rendered).strip().replace("\r", "").replace("\n", "&#10;")
    if html.startswith("<div>") and html.endswith("</div>"):
        return html  # already one block (cleaned before)
    return f"<div>{html}</div>"


def _as_text(source: str) -> str:
    return f"<pre>{html_module.escape(source)}</pre>"


def _is_base64(value) -> bool:
    if not isinstance(value, str) or not _BASE64.fullmatch(value):
        return False
    try:
        base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def clean_output(output: dict) -> dict:
    """One code-cell output with only what a page draws without running it."""
    if output.get("output_type") not in ("display_data", "execute_result", "update_display_data"):
        return output  # streams and errors are text; the templates escape them
    data = output.get("data", {})
    kept, removed = {}, []
    for mime, value in data.items():
        if mime == "text/plain":
            kept[mime] = value
        elif mime == "text/html" and isinstance(value, str):
            kept[mime] = clean_html(value)
        elif mime == "text/markdown" and isinstance(value, str):
            kept[mime] = clean_markdown(value)
        elif mime == "text/latex" and isinstance(value, str):
            kept[mime] = value  # escaped by the templates; MathJax loads with its Safe extension
        elif mime in IMAGE_TYPES and _is_base64(value):
            kept[mime] = value
        else:
            removed.append(mime)
    scripts = [m for m in removed if any(s in m for s in _SCRIPT_TYPES)]
    drawn = set(kept) - {"text/plain"}
    if scripts and not drawn:
        kept["text/plain"] = REMOVED_SCRIPT
    elif "image/svg+xml" in removed and not drawn:
        kept["text/plain"] = REMOVED_SVG
    elif removed and not kept:
        kept["text/plain"] = f"[removed: {', '.join(removed)[:200]} output]"
    output["data"] = kept
    output["metadata"] = _image_sizes(output.get("metadata", {}))
    return output


def _image_sizes(metadata) -> dict:
    """Only the numeric width/height of images survive (``isolated`` would make an iframe)."""
    sizes = {}
    if not isinstance(metadata, dict):
        return sizes
    for mime in IMAGE_TYPES:
        entry = metadata.get(mime)
        if isinstance(entry, dict):
            numbers = {
                k: v
                for k, v in entry.items()
                if k in ("width", "height") and isinstance(v, int | float)
            }
            if numbers:
                sizes[mime] = numbers
    return sizes


def _clean_nbgrader_metadata(cell) -> None:
    """Templates write ``grade_id`` into ``id``/``href`` unescaped: nbgrader's pattern only."""
    meta = cell.get("metadata", {}).get("nbgrader")
    if meta is None:
        return
    grade_id = meta.get("grade_id", "") if isinstance(meta, dict) else None
    if not isinstance(grade_id, str) or not _GRADE_ID.fullmatch(grade_id):
        del cell.metadata["nbgrader"]


def clean_notebook(nb):
    """``nb`` (changed in place, and returned) with every student output and Markdown made inert."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        _clean_nbgrader_metadata(cell)
        tags = cell.get("metadata", {}).get("tags")
        if tags is not None and not isinstance(tags, list):
            del cell.metadata["tags"]
        if cell.cell_type == "markdown":
            cell.source = clean_markdown(cell.source)
        elif cell.cell_type == "raw" and "<" in cell.source:
            cell.source = clean_html(cell.source)
        if "attachments" in cell:
            cell.attachments = {
                name: {m: v for m, v in bundle.items() if m in IMAGE_TYPES and _is_base64(v)}
                for name, bundle in cell.attachments.items()
                if isinstance(bundle, dict)
            }
        if cell.cell_type == "code":
            cell.outputs = [clean_output(o) for o in cell.get("outputs", [])]
    return nb


class SanitizeStudentOutput(Preprocessor):
    """nbconvert preprocessor: :func:`clean_notebook` (see the module docstring)."""

    def preprocess(self, nb, resources):
        return clean_notebook(nb), resources


class SanitizedMarkdown(LoggingConfigurable):
    """The ``markdown2html`` filter of an ``HTMLExporter``, cleaned by :func:`clean_html`.

    Registered by name (``c.HTMLExporter.filters``); nbconvert makes one per
    exporter with the exporter as ``parent``, whose own rendering (attachments,
    anchor links) it wraps.
    """

    # what jinja's @pass_context sets on a function, here on the class: jinja then
    # passes the template context, which the exporter's renderer needs
    jinja_pass_arg = pass_context(lambda: None).jinja_pass_arg

    def __call__(self, context, source: str) -> str:
        render = getattr(self.parent, "markdown2html", None)
        try:
            html = render(context, source) if render is not None else render_markdown(source)
        except Exception:  # a Markdown cell nbconvert cannot render must not stop the page
            html = _as_text(source)
        return clean_html(html)


__all__ = [
    "REMOVED_SCRIPT",
    "SanitizeStudentOutput",
    "SanitizedMarkdown",
    "clean_html",
    "clean_markdown",
    "clean_notebook",
    "clean_output",
]
