"""nnkit.autograde.sanitize: student output and Markdown made inert, honest content kept.

The browser test (tests/test_xss.py) shows the pages run nothing; these check the
pieces one by one and fast: what each output type becomes, that plain Markdown is
left alone, and that an nbconvert ``HTMLExporter`` configured as the course does
(formgrader's and the feedback's) cleans Markdown after rendering it.
"""

from __future__ import annotations

import base64
import copy

import nbformat
import pytest
from nbconvert import HTMLExporter
from traitlets.config import Config

from nnkit.autograde.sanitize import (
    REMOVED_SCRIPT,
    SanitizeStudentOutput,
    clean_html,
    clean_markdown,
    clean_notebook,
    clean_output,
)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
ACTIVE = ("<script", "onerror", "onload", "javascript:", "<iframe", "<svg", "<form", "srcdoc")


def _display(data: dict, metadata: dict | None = None) -> dict:
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt&colon;alert(1)">x</a>',
        '<svg onload="alert(1)"><script>alert(1)</script></svg>',
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        '<form action="javascript:alert(1)"><button>go</button></form>',
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
    ],
)
def test_clean_html_leaves_nothing_that_runs(html):
    cleaned = clean_html(html).lower()
    assert not [a for a in ACTIVE if a in cleaned], cleaned
    assert "data:image/svg" not in cleaned


def test_clean_html_keeps_tables_text_links_and_png_images():
    table = '<table border="1" class="dataframe"><tbody><tr><td>1.5</td></tr></tbody></table>'
    assert clean_html(table) == table
    image = f'<img src="data:image/png;base64,{PNG}">'
    assert clean_html(image) == image
    assert 'href="https://numpy.org"' in clean_html('<a href="https://numpy.org">numpy</a>')


def test_scripts_and_widgets_become_a_visible_note():
    widget = {
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc"},
        "text/plain": "HTML()",
    }
    for data in ({"application/javascript": "alert(1)", "text/plain": "<Javascript>"}, widget):
        cleaned = clean_output(_display(data))
        assert cleaned["data"] == {"text/plain": REMOVED_SCRIPT}


def test_svg_becomes_a_note_and_images_stay():
    svg = clean_output(_display({"image/svg+xml": "<svg onload='alert(1)'/>"}))
    assert list(svg["data"]) == ["text/plain"] and "SVG" in svg["data"]["text/plain"]
    plot = _display({"image/png": PNG, "text/plain": "<Figure>"}, {"image/png": {"width": 400}})
    assert clean_output(copy.deepcopy(plot)) == plot


def test_isolated_html_loses_its_iframe_flag_and_its_script():
    out = clean_output(_display({"text/html": "<b>x</b><script>1</script>"}, {"isolated": True}))
    assert out["data"] == {"text/html": "<b>x</b>"}
    assert out["metadata"] == {}


def test_plain_markdown_is_left_as_written():
    source = "## Task 2\n\nThe **softmax** is $\\exp(z_i) / \\sum_j \\exp(z_j)$.\n\n```\nx = 1\n```"
    assert clean_markdown(source) == source


def test_markdown_with_raw_html_is_replaced_by_its_clean_rendering():
    source = 'Hi <img src="x" onerror="alert(1)">\n\n```\na\n\nb\n```\n\n[x](javascript:alert(1))'
    cleaned = clean_markdown(source)
    assert not [a for a in ACTIVE if a in cleaned.lower()], cleaned
    assert "\n" not in cleaned  # one HTML block: a later Markdown pass keeps it whole
    assert clean_markdown(cleaned) == cleaned


def test_notebook_widget_state_and_bad_grade_ids_are_dropped():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cell = nbformat.v4.new_markdown_cell("text")
    cell.metadata["nbgrader"] = {"grade_id": '"><script>alert(1)</script>', "grade": False}
    nb.cells.append(cell)
    clean_notebook(nb)
    assert "widgets" not in nb.metadata
    assert "nbgrader" not in nb.cells[0].metadata


def test_html_export_configured_as_the_course_cleans_rendered_markdown():
    """What formgrader and generate_feedback build from nbgrader_config.py's HTMLExporter lines."""
    config = Config()
    config.HTMLExporter.preprocessors = [SanitizeStudentOutput]
    config.HTMLExporter.filters = {"markdown2html": "nnkit.autograde.sanitize.SanitizedMarkdown"}
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Answer\n\n[x](javascript:alert(1))"))
    nb.cells.append(nbformat.v4.new_markdown_cell('<img src="x" onerror="alert(1)">'))
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [_display({"text/html": "<script>alert(1)</script><i>shown</i>"})]
    nb.cells.append(code)
    html, _ = HTMLExporter(config=config).from_notebook_node(nb)
    body = html[html.index("<body") :]
    assert "onerror" not in body and "javascript:alert" not in body
    assert "<script>alert(1)" not in body
    assert "<i>shown</i>" in body and "Answer" in body
