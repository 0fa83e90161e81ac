"""A student's feedback page: one self-contained HTML file, readable offline.

One section per exercise with its verdict, the sentence to act on, the points (and each
part's), and the seed of the hidden data, so the teacher can reproduce the grading. Everything
that comes from the notebook (written answers, messages that quote what a function returned)
is escaped: the page runs no script and loads nothing.
"""

from __future__ import annotations

import html
import re

from .grader import points

_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
       max-width: 52rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin: 0 0 .35rem; }
.meta { color: #555; margin-top: 0; }
.summary { font-size: 1.1rem; }
section { border: 1px solid #d0d0d0; border-left-width: 6px; border-radius: 4px;
          padding: .75rem 1rem; margin: 1rem 0; overflow-wrap: break-word; }
.PASS { border-left-color: #1a7f37; } .PART { border-left-color: #b8860b; }
.FAIL { border-left-color: #c62828; } .READ { border-left-color: #1f5fbf; }
.verdict { font-weight: 700; padding: 0 .4rem; border-radius: 3px; color: #fff; }
.PASS .verdict { background: #1a7f37; } .PART .verdict { background: #8a6508; }
.FAIL .verdict { background: #c62828; } .READ .verdict { background: #1f5fbf; }
.act { margin: .4rem 0; }
ul.parts { list-style: none; padding: 0; margin: .4rem 0 0; font-size: .95rem; }
ul.parts li { border-top: 1px solid #e5e5e5; padding: .25rem 0; }
.pts { white-space: nowrap; color: #444; }
blockquote { margin: .5rem 0; padding: .1rem .75rem; background: #f5f5f5; }
.seed { color: #555; font-size: .9rem; margin: .4rem 0 0; }
ul.notes li { margin: .3rem 0; }
"""


def _e(text):
    return html.escape(str(text), quote=True)


def _page(title, body):
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}</body>\n"
            f"</html>\n")


def _verdict(result):
    if result.status in ("written",):
        return "READ", "for your teacher"
    return result.verdict, {"PASS": "pass", "PART": "partly right", "FAIL": "not yet"}[result.verdict]


def _section(result, seed):
    css, word = _verdict(result)
    title = f"{result.title} ({result.label})" if result.title else result.label
    out = [f'<section class="{css}" id="{_e(result.label)}">',
           f'<h2>{_e(title)}</h2>',
           f'<p><span class="verdict">{_e(css)}</span> {_e(word)} &middot; '
           f'{_e(result.points_text())}</p>',
           f'<p class="act">{_e(result.message)}</p>']
    if result.parts:
        items = "".join(
            f'<li><strong>{_e(p.title)}</strong> <span class="pts">{p.earned:g}/'
            f'{_e(points(p.points))}</span>: '
            f'{_e("right" if p.earned >= p.points else p.message)}</li>' for p in result.parts)
        out.append(f'<ul class="parts">{items}</ul>')
    if result.answered is not None:
        label = "Your written answer" if result.answer.strip() else "No written answer yet"
        out.append(f"<p>{label} ({_e(points(result.manual))}, read by your teacher):</p>")
        if result.answer.strip():
            paragraphs = "".join(f"<p>{_e(' '.join(par.split()))}</p>"
                                 for par in re.split(r"\n\s*\n", result.answer.strip()))
            out.append(f"<blockquote>{paragraphs}</blockquote>")
    if result.points:
        out.append(f'<p class="seed">Hidden random data from seed {seed}.</p>')
    out.append("</section>")
    return "\n".join(out) + "\n"


def notebook_page(name, report):
    """The feedback page of a graded notebook (a :class:`grading.grader.NotebookGrade`)."""
    written = (f"; {points(report.manual_max)} more for written answers, which your teacher "
               f"reads" if report.manual_max else "")
    body = [f"<h1>Feedback: {_e(name)}</h1>",
            f'<p class="meta">Chapter {_e(report.chapter.removesuffix(".ipynb"))} &middot; '
            f'seed {report.seed} '
            f"(the grader's hidden random data; <code>--seed {report.seed}</code> repeats "
            f"this grading)</p>",
            f'<p class="summary">{report.total:g} of {_e(points(report.max))} from the automatic '
            f"checks{_e(written)}.</p>"]
    body += [_section(r, report.seed) for r in report.results]
    if report.notes:
        items = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
        body.append(f"<h2>Other things to fix in the notebook</h2>\n<ul class=\"notes\">{items}</ul>")
    return _page(f"Feedback: {name}", "\n".join(body) + "\n")


def error_page(name, why):
    """The page of a notebook that could not be graded."""
    body = (f"<h1>Feedback: {_e(name)}</h1>\n"
            f'<section class="FAIL"><h2>This notebook could not be graded</h2>\n'
            f'<p class="act">{_e(why)}</p>\n'
            f"<p>Check that you handed in the notebook of the homework (a .ipynb file that opens "
            f"in Jupyter), then ask your teacher.</p></section>\n")
    return _page(f"Feedback: {name}", body)
