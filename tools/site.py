"""Build the course website: every lecture executed fresh, as static HTML that works offline.

    .venv/bin/python tools/site.py [--out _site] [--binder OWNER/REPO[@BRANCH]] [--lab-link URL]

(``make site`` runs it.) For each ``lectures/*.ipynb``, in name order and whatever their
number, the builder

1. executes the notebook in a fresh kernel (nbclient, the notebook's folder as cwd), so the
   pages always show what the current code draws;
2. replaces every widget output by the picture its explorer drew at creation (each
   ``nnkit.widgets`` explorer is a box holding an ``ipywidgets.Image``; its PNG is in the
   widget state nbclient stores), with a caption naming the controls and their values: no
   widget JavaScript runs in a static page, and none is fetched from a CDN;
3. renders the page with nbconvert's ``lab`` template, plus a bar with the contents,
   the previous and next lectures, the notebook to download, and links that open it in
   JupyterLab;

and writes ``index.html``, the table of contents. MathJax is copied from the
``jupyter-server-mathjax`` package into ``static/``, so a page loads nothing from
outside the site.

Why nbconvert and not jupyter-book: nbconvert is already installed (nbgrader needs it) and
its ``lab`` template draws cells as JupyterLab does; jupyter-book 2 builds with the
``mystmd`` Node.js engine and downloads its site theme at build time, which fails offline,
and jupyter-book 1 adds Sphinx and some forty packages for what is a handful of pages.

Why in ``tools/`` and not in ``nnkit``: students ``import nnkit``; building the website is a
maintainer's job and needs nbconvert, which nnkit itself does not.

"Open in JupyterLab" links: ``--lab-link``, a URL in which ``{path}`` stands for the
notebook's path in the course (``lectures/NN_topic.ipynb``). The default,
``http://localhost:8888/lab/tree/{path}``, opens it in the JupyterLab that ``make lab``
serves (port 8888 unless taken). A course on a JupyterHub gives an nbgitpuller link, which
clones or updates the course in the student's home first::

    https://HUB/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2FOWNER%2FREPO&branch=main&urlpath=lab%2Ftree%2FREPO%2F{path}

``--binder OWNER/REPO[@BRANCH]`` adds a Binder link, ``https://mybinder.org/v2/gh/OWNER/
REPO/BRANCH?urlpath=lab%2Ftree%2Flectures%2FNN_topic.ipynb`` (Binder builds the course
from environment.yml): the link a published site wants.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import re
import shutil
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "lectures"
TEMPLATES = Path(__file__).resolve().parent / "site_templates"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MATHJAX = "static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
DEFAULT_LAB_LINK = "http://localhost:8888/lab/tree/{path}"
BINDER = "https://mybinder.org/v2/gh/{repo}/{branch}?urlpath={urlpath}"
CELL_TIMEOUT = 600


class SiteError(RuntimeError):
    """A lecture failed to run, or a widget output cannot be drawn statically."""


@dataclass
class Page:
    """One lecture of the site."""

    source: Path
    title: str
    summary: str
    seconds: float = 0.0
    figures: int = 0  # image outputs, explorers' pictures included
    explorers: int = 0
    links: dict[str, str] = field(default_factory=dict)  # label -> URL to open the notebook

    @property
    def html_name(self) -> str:
        return f"{self.source.stem}.html"


# --------------------------------------------------------------------------- executing


def kernel_env() -> dict[str, str]:
    """The builder's environment for the kernel, minus a headless MPLBACKEND (pytest sets
    Agg): the kernel must use the inline backend a student gets, or figures go missing."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    return env


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Run ``path`` top to bottom in a fresh python3 kernel; the widget state is kept."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env())
    except CellExecutionError as exc:
        raise SiteError(f"{path.name} failed while building the site:\n{exc}") from exc
    return nb, time.perf_counter() - start


# --------------------------------------------------------------------------- widgets


def _model_refs(value) -> list[str]:
    """Model ids referenced (as ``IPY_MODEL_<id>``) anywhere in a widget's state value."""
    if isinstance(value, str):
        return [value[len("IPY_MODEL_") :]] if value.startswith("IPY_MODEL_") else []
    if isinstance(value, list):
        return [ref for item in value for ref in _model_refs(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _model_refs(item)]
    return []


def _png(model: dict) -> bytes | None:
    """The PNG bytes of an Image model's ``value`` (a base64 buffer in the stored state)."""
    if model["state"].get("format", "png") != "png":
        return None
    for buffer in model.get("buffers", []):
        if buffer.get("path") == ["value"]:
            data = buffer["data"]
            return base64.b64decode(data) if buffer.get("encoding") == "base64" else None
    return None


def _label(state: dict) -> str | None:
    """``description = value`` of a control, None for models that hold no value."""
    if state.get("_model_name") == "ImageModel":
        return None
    name = state.get("description") or state.get("_model_name", "control").removesuffix("Model")
    labels, index = state.get("_options_labels"), state.get("index")
    if labels is not None and isinstance(index, int):  # selections sync an index, not a value
        value = labels[index] if 0 <= index < len(labels) else index
    elif "value" in state:
        value = state["value"]
        value = f"{value:.3g}" if isinstance(value, float) else value
    else:
        return None
    return f"{name} = {value}"


TEXT_MODELS = ("HTMLModel", "HTMLMathModel", "LabelModel")
PROGRESS_MODELS = ("FloatProgressModel", "IntProgressModel")


def _walk(model_id: str, models: dict, seen: set[str]):
    """The models of a widget and of everything it holds, depth first in display order."""
    if model_id in seen or model_id not in models:
        return
    seen.add(model_id)
    model = models[model_id]
    yield model
    for key, value in model["state"].items():
        if key != "layout":
            for ref in _model_refs(value):
                yield from _walk(ref, models, seen)


def static_widget(model_id: str, models: dict, where: str) -> str:
    """HTML for a widget view, from the notebook's stored widget state ``models``.

    An explorer (a box holding an ``ipywidgets.Image``) becomes its picture with a caption
    naming the controls and their values; a widget with no picture but text or a progress
    bar (tqdm's, say) becomes that text and a ``<progress>``. Raises SiteError for a widget
    with neither: its static page would show nothing.
    """
    pictures, controls, texts = [], [], []
    for model in _walk(model_id, models, set()):
        state, kind = model["state"], model["state"].get("_model_name")
        if kind == "ImageModel":
            png = _png(model)
            if png:
                layout_refs = _model_refs(state.get("layout", ""))
                layout = models.get(layout_refs[0], {}) if layout_refs else {}
                width = layout.get("state", {}).get("width") or ""
                pictures.append((png, width.removesuffix("px") if width.endswith("px") else ""))
        elif kind in TEXT_MODELS:
            texts.append(str(state.get("value", "")))  # HTML the kernel wrote: shown as it is
        elif kind in PROGRESS_MODELS:
            value, high = state.get("value", 0), state.get("max", 100)
            texts.append(f'<progress value="{value}" max="{high}"></progress>')
        else:
            label = _label(state)
            if label:
                controls.append(label)
    if pictures:
        images = "".join(
            f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}"'
            + (f' width="{html.escape(width)}"' if width else "")
            + ' alt="the explorer\'s picture at its initial settings">'
            for png, width in pictures
        )
        caption = "Interactive in JupyterLab; shown at its initial settings"
        if controls:
            caption += ": " + ", ".join(html.escape(c) for c in controls)
        caption = f"<figcaption>{caption}.</figcaption>"
        return f'<figure class="nnkit-explorer">{images}{caption}</figure>'
    if any(text.strip() for text in texts):
        return f'<div class="nnkit-widget-text">{" ".join(texts)}</div>'
    raise SiteError(
        f"{where}: widget {model_id} holds no ipywidgets.Image, text or progress bar, so a "
        "static page cannot show it; draw its picture at creation (nnkit.widgets.explorer does)"
    )


def freeze_widgets(nb: nbformat.NotebookNode, name: str) -> int:
    """Replace every widget output by its static form; drop the widget state. Returns how
    many explorers (widgets with a picture) there were."""
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    explorers = 0
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                continue
            where = f"{name}, cell {index}"
            static = static_widget(view["model_id"], models, where)
            output["data"] = {"text/html": static}
            output["metadata"] = {}
            explorers += static.startswith('<figure class="nnkit-explorer">')
    nb.metadata.pop("widgets", None)  # else nbconvert adds the widget manager from a CDN
    return explorers


# --------------------------------------------------------------------------- pages


def title_and_summary(nb: nbformat.NotebookNode, fallback: str) -> tuple[str, str]:
    """The first markdown heading, and the opening sentences of the paragraph after it
    (markdown, about 160 characters or more, cut at a sentence's end)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.strip().splitlines()
        if not lines or not lines[0].startswith("#"):
            continue
        title = lines[0].lstrip("#").strip()
        paragraph = " ".join("\n".join(lines[1:]).strip().split("\n\n")[0].split())
        summary = ""
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", paragraph):
            summary = f"{summary} {sentence}".strip()
            if len(summary) >= 160:
                break
        return title, summary
    return fallback, ""


def lab_link(template: str, path: str) -> str:
    """``template`` with ``{path}`` replaced by ``path`` (relative to the course), quoted."""
    return template.replace("{path}", urllib.parse.quote(path))


def open_links(source: Path, lab_template: str, binder: str | None) -> dict[str, str]:
    """Label -> URL that opens ``source`` (a lecture) in JupyterLab."""
    path = f"lectures/{source.name}"
    links = {"Open in JupyterLab": lab_link(lab_template, path)}
    if binder:
        repo, _, branch = binder.partition("@")
        urlpath = urllib.parse.quote(f"lab/tree/{path}", safe="")
        links["Open on Binder"] = BINDER.format(repo=repo, branch=branch or "main", urlpath=urlpath)
    return links


LINK = re.compile(r'(href|src)="([^"#:?]+)((?:[?#][^"]*)?)"')


def fix_links(page_html: str, source: Path, out: Path, lectures: Path, lab_template: str) -> str:
    """Point the notebook's own relative links at the site: a lecture notebook becomes its
    page, a picture is copied beside the page, and any other file of the course (a problem
    set, say) opens in JupyterLab. Links already valid in the site are left alone."""
    lecture_names = {path.name for path in lectures.glob("*.ipynb")}
    here = out / "lectures"

    def fix(match: re.Match) -> str:
        attr, target, tail = match.groups()
        if target.startswith("/") or (here / target).resolve().exists():
            return match.group(0)
        if target in lecture_names:
            return f'{attr}="{Path(target).stem}.html{tail}"'
        local = (source.parent / target).resolve()
        if attr == "src" and local.is_file():
            (here / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(local, here / target)
            return match.group(0)
        if local.exists() and local.is_relative_to(ROOT):
            link = lab_link(lab_template, local.relative_to(ROOT).as_posix())
            return f'{attr}="{html.escape(link)}"'
        return match.group(0)  # broken: the site test reports it

    return LINK.sub(fix, page_html)


def exporter() -> HTMLExporter:
    return HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="nnkit_site",
        mathjax_url=f"../{MATHJAX}",
    )


def render(nb: nbformat.NotebookNode, page: Page, pages: list[Page], number: int) -> str:
    """The lecture's HTML page with the site's navigation bar."""
    previous = pages[number - 1] if number > 0 else None
    following = pages[number + 1] if number + 1 < len(pages) else None
    nav = {
        "contents": "../index.html",
        "previous": previous and (previous.html_name, previous.title),
        "next": following and (following.html_name, following.title),
        "download": f"../notebooks/{page.source.name}",
        "links": page.links,
        "title": page.title,
    }
    nb.metadata["title"] = page.title
    body, _ = exporter().from_notebook_node(nb, resources={"site_nav": nav})
    return body


def index_page(pages: list[Page], title: str) -> str:
    items = []
    for page in pages:
        links = " · ".join(
            f'<a class="open" href="{html.escape(url)}">{html.escape(label)}</a>'
            for label, url in page.links.items()
        )
        items.append(
            f'<li><a class="lecture" href="lectures/{page.html_name}">'
            f"{html.escape(page.title)}</a>"
            f"{markdown2html(page.summary)}"
            f'<p class="meta"><a href="notebooks/{html.escape(page.source.name)}">notebook</a>'
            f" · {links}</p></li>"
        )
    style = (TEMPLATES / "nnkit_site" / "site.css").read_text()
    # the lecture template's MathJax set-up, pointed at static/ from the site's root
    mathjax = (
        exporter()
        .environment.get_template("site_mathjax.html.j2")
        .render(resources={"mathjax_url": MATHJAX})
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>{style}</style>
{mathjax}
</head>
<body class="nnkit-index">
<main>
<h1>{html.escape(title)}</h1>
<p>The lectures of the course, executed, with every figure and each explorer's first
picture. To move the sliders and run the code, open a lecture in JupyterLab
(<code>make lab</code> in a clone of the course, or the links below).</p>
<ul class="contents">
{"".join(items)}
</ul>
</main>
</body>
</html>
"""


def copy_mathjax(out: Path) -> None:
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(
        static, out / "static" / "mathjax", ignore=shutil.ignore_patterns("localization")
    )


def build(
    out: Path,
    lectures: Path = LECTURES,
    lab_template: str = DEFAULT_LAB_LINK,
    binder: str | None = None,
    title: str = "Feedforward neural networks: the lectures",
    log=print,
) -> list[Page]:
    """Build the site into ``out`` (emptied first); returns one Page per lecture."""
    sources = sorted(lectures.glob("*.ipynb"))
    if not sources:
        raise SiteError(f"build: no notebooks in {lectures}")
    if "{path}" not in lab_template:
        raise SiteError(f"build: the JupyterLab link {lab_template!r} has no {{path}} in it")
    if out.exists():
        shutil.rmtree(out)
    (out / "lectures").mkdir(parents=True)
    executed, pages = [], []
    for source in sources:
        log(f"site: running {source.name}")
        nb, seconds = execute(source)
        explorers = freeze_widgets(nb, source.name)
        title_, summary = title_and_summary(nb, source.stem)
        figures = sum(
            "image/png" in out_.get("data", {}) or "nnkit-explorer" in str(out_.get("data", {}))
            for cell in nb.cells
            for out_ in cell.get("outputs", [])
        )
        page = Page(source, title_, summary, seconds, figures, explorers)
        page.links = open_links(source, lab_template, binder)
        executed.append(nb)
        pages.append(page)
    (out / "notebooks").mkdir()
    for page in pages:
        shutil.copy2(page.source, out / "notebooks" / page.source.name)  # without outputs
    for number, (nb, page) in enumerate(zip(executed, pages, strict=True)):
        page_html = render(nb, page, pages, number)
        page_html = fix_links(page_html, page.source, out, lectures, lab_template)
        (out / "lectures" / page.html_name).write_text(page_html)
    (out / "index.html").write_text(index_page(pages, title))
    copy_mathjax(out)
    (out / ".nojekyll").touch()  # GitHub Pages: serve the files as they are
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="default: _site/")
    parser.add_argument(
        "--lab-link",
        default=DEFAULT_LAB_LINK,
        help="URL opening a notebook in JupyterLab, {path} standing for its path in the "
        f"course (default {DEFAULT_LAB_LINK})",
    )
    parser.add_argument("--binder", metavar="OWNER/REPO[@BRANCH]", help="add Binder links")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        pages = build(args.out, lab_template=args.lab_link, binder=args.binder)
    except SiteError as exc:
        print(f"site: {exc}", file=sys.stderr)
        return 1
    for page in pages:
        print(
            f"  {page.html_name}: {page.figures} figures, of which {page.explorers} "
            f"explorer{'' if page.explorers == 1 else 's'}, "
            f"ran in {page.seconds:.1f} s"
        )
    print(
        f"site: {len(pages)} lectures in {args.out}/index.html "
        f"({time.perf_counter() - start:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
