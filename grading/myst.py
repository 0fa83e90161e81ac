"""MyST markup to the plain Markdown that JupyterLab renders (for student notebooks).

The website (Sphinx, sphinx-exercise) reads MyST directives and roles; JupyterLab shows them
as raw text. Student notebooks therefore carry the same content as plain Markdown:

* an admonition (```` ```{note} ````, ```` ```{admonition} Title ````, ...) becomes a block
  quote headed by its title in bold, or a ``<details>`` block when its class is ``dropdown``;
* ```` ```{math} ```` becomes ``$$ ... $$``; ```` ```{code-block} python ```` a fenced code
  block; ```` ```{figure} path ```` an image with its caption;
* any other directive keeps its body (with its argument in bold, if it has one), minus its
  ``:option:`` lines;
* roles become their text: ``{math}`x``` is ``$x$``, ``{ref}`text <target>``` is ``text``,
  ``{term}`word``` is ``word``;
* target lines ``(label)=``, comments ``% ...`` and block breaks ``+++`` are dropped.

Maths written with ``$...$`` and ``$$...$$`` is left alone: JupyterLab renders it.
"""

from __future__ import annotations

import re

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<text>[^`]*)`")
_TARGET = re.compile(r"^[ \t]*\([\w.:-]+\)=[ \t]*$")
_COMMENT = re.compile(r"^[ \t]*%")

ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
               "error", "seealso", "admonition", "margin", "sidebar", "topic", "dropdown"}
_CODE = {"code", "code-block", "sourcecode", "code-cell"}
_DROPPED = {"toctree", "glue", "glue:figure", "index", "bibliography", "tableofcontents",
            "raw", "include", "literalinclude"}


class Directive:
    """A directive block: its name, argument, options and body lines."""

    def __init__(self, name, arg, options, body):
        self.name, self.arg, self.options, self.body = name, arg, options, body

    @property
    def classes(self):
        return self.options.get("class", "").split()


def _closes(line, fence):
    s = line.strip()
    return len(s) >= len(fence) and set(s) == {fence[0]}


def split_blocks(lines):
    """Yield ``str`` lines outside directives and :class:`Directive` objects, in order.

    A block ends at the first line made only of its fence character, at least as long as the
    opening fence (an unclosed block runs to the end). Inside, leading ``:key: value`` lines
    (or a ``---`` fenced YAML block of ``key: value`` lines) are its options.
    """
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            yield lines[i]
            i += 1
            continue
        fence = m.group("fence")
        j = i + 1
        options = {}
        if j < len(lines) and lines[j].strip() == "---":
            k = j + 1
            while k < len(lines) and lines[k].strip() != "---":
                key, _, value = lines[k].partition(":")
                options[key.strip()] = value.strip()
                k += 1
            j = k + 1
        else:
            while j < len(lines) and (opt := _OPTION.match(lines[j])):
                options[opt.group("key")] = opt.group("value")
                j += 1
        body = []
        while j < len(lines) and not _closes(lines[j], fence):
            body.append(lines[j])
            j += 1
        yield Directive(m.group("name"), m.group("arg"), options, body)
        i = j + 1


def roles(text):
    """Replace MyST roles by their text (``{math}`` by ``$...$``)."""
    def one(m):
        name, content = m.group("name"), m.group("text")
        if name == "math":
            return f"${content}$"
        if name in ("code", "kbd", "file", "samp", "command"):
            return f"`{content}`"
        if name == "eq":
            return f"({content})"
        if name in ("cite", "cite:p", "cite:t"):
            return f"[{content}]"
        explicit = re.match(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", content, re.S)
        if explicit and explicit.group("title"):
            return explicit.group("title")
        if explicit:
            return explicit.group("target")
        if name == "abbr":
            return content
        return content.lstrip("!~")
    return _ROLE.sub(one, text)


def _quote(lines):
    return [f"> {ln}" if ln.strip() else ">" for ln in lines]


def _title(d):
    if d.arg:
        return d.arg
    if d.name in ("admonition", "dropdown", "topic", "sidebar", "margin"):
        return ""
    return "See also" if d.name == "seealso" else d.name.capitalize()


def render(directive, convert):
    """Plain Markdown lines for one directive; ``convert`` renders its body (nested markup)."""
    name = directive.name
    body = convert(directive.body)
    if name in _DROPPED:
        return []
    if name == "math":
        return ["$$", *[ln for ln in directive.body if ln.strip()], "$$"]
    if name in _CODE:
        lang = directive.arg.split()[0] if directive.arg else ""
        return [f"```{lang}", *directive.body, "```"]
    if name in ("figure", "image"):
        alt = directive.options.get("alt", "")
        caption = [ln for ln in body if ln.strip()]
        return [f"![{alt}]({directive.arg})", *([""] + [f"*{' '.join(caption)}*"] if caption else [])]
    if name in ADMONITIONS:
        title = _title(directive)
        if "dropdown" in directive.classes or name == "dropdown":
            return ["<details>", f"<summary>{title or 'More'}</summary>", "", *body, "", "</details>"]
        head = [f"**{title}**", ""] if title else []
        return _quote(head + body)
    return ([f"**{directive.arg}**", ""] if directive.arg else []) + body


def to_markdown(text, handler=None):
    """Convert a markdown cell's MyST source to plain Markdown.

    Parameters
    ----------
    text : str
    handler : callable, optional
        ``handler(directive, convert) -> list of lines or None``: renders directives the caller
        knows (the exercises); None falls back to :func:`render`.

    Returns
    -------
    str
    """
    def convert(lines):
        out = []
        for item in split_blocks(lines):
            if isinstance(item, Directive):
                rendered = handler(item, convert) if handler else None
                out.extend(render(item, convert) if rendered is None else rendered)
            elif _TARGET.match(item) or _COMMENT.match(item) or item.strip() == "+++":
                continue
            else:
                out.append(roles(item))
        return out

    lines = convert(text.split("\n"))
    result = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", result).strip("\n")


#: A raw MyST line that must not reach a student notebook: a directive's opening fence, an
#: option line such as ``:label:`` or ``:class:``, or a role.
RAW_MYST = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\{[\w:-]+\}|^\s*:(label|class|name|nonumber|"
                      r"hidden|open):|\{[\w:-]+\}`")
