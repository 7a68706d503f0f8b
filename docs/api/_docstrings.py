"""Griffe extension for the API reference: renders keras_sqnn's docstrings as Markdown.

mkdocs.yml loads it (mkdocstrings' ``extensions`` option); it is not a page of the site
(``exclude_docs``) and not part of the package. The docstrings are Google style, with
habits from reStructuredText and Keras that Markdown and griffe do not know; they are
rewritten here in each docstring's text before it is parsed (the source files are not
touched):

* doctest examples (``>>>`` lines, also under ``Example:`` headings, which griffe reads as
  an admonition rather than an examples section) become fenced ``pycon`` blocks, without
  their ``# doctest:`` directives; otherwise Markdown would render them as nested quotes;
* Sphinx roles (``:func:`keras_sqnn.metrics.certify```, ``:class:`~Certificate```) become
  inline code linked to the object's entry when the site documents it (an *optional*
  cross-reference: a target the site does not render stays plain code, with no warning);
* grouped arguments (``n_outer, n_inner: fold counts``) become one entry per argument;
* the entries of a ``Call arguments:`` section (a Keras convention griffe does not know)
  become a list, instead of one run-on paragraph.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc|const):`(~?)([^`]+)`")
DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")
FENCE = re.compile(r"^\s*(```|~~~)")
GROUPED = re.compile(r"^(\s+)([A-Za-z_]\w*(?:,\s*[A-Za-z_]\w*)+):(\s.*)?$")
SECTION = re.compile(r"^(\s*)([A-Z][A-Za-z ]*):\s*$")
ARGUMENT_SECTIONS = {"Args", "Arguments", "Parameters", "Attributes", "Other Parameters"}
ENTRY = re.compile(r"^(\s+)([A-Za-z_*]\w*):(\s.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def fence_doctests(text: str) -> str:
    """Wrap every run of doctest lines (``>>>`` to the next blank line) in a pycon fence."""
    lines = text.splitlines()
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if FENCE.match(line):
            in_fence = not in_fence
        if in_fence or not line.lstrip().startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = " " * _indent(line)
        block = []
        while i < len(lines) and lines[i].strip() and _indent(lines[i]) >= len(indent):
            block.append(DIRECTIVE.sub("", lines[i][len(indent) :]))
            i += 1
        # A blank line before the fence, except right under a section heading
        # (``Example:``) whose content it is: griffe ends a section at a blank line.
        heading = out and SECTION.match(out[-1]) and _indent(out[-1]) < len(indent)
        if out and out[-1].strip() and not heading:
            out.append("")
        out += [f"{indent}```pycon", *(f"{indent}{each}" for each in block), f"{indent}```"]
        if i < len(lines) and lines[i].strip():
            out.append("")
    return "\n".join(out)


def expand_grouped_arguments(text: str) -> str:
    """``a, b: text`` in an argument section becomes ``a: text`` and ``b: text``."""
    lines = text.splitlines()
    out: list[str] = []
    section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        header = SECTION.match(line)
        if header and _indent(line) == 0:
            section = header.group(2)
        grouped = GROUPED.match(line) if section in ARGUMENT_SECTIONS else None
        if grouped is None:
            out.append(line)
            i += 1
            continue
        indent, names, first = grouped.group(1), grouped.group(2), grouped.group(3) or ""
        i += 1
        rest = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            last = i + 1 == len(lines)
            if not lines[i].strip() and (last or _indent(lines[i + 1]) <= len(indent)):
                break
            rest.append(lines[i])
            i += 1
        for name in re.split(r",\s*", names):
            out += [f"{indent}{name}:{first}", *rest]
    return "\n".join(out)


def list_call_arguments(text: str) -> str:
    """``name: text`` entries of a ``Call arguments:`` section become list items."""
    lines = text.splitlines()
    section = None
    for i, line in enumerate(lines):
        header = SECTION.match(line)
        if header and _indent(line) == 0:
            section = header.group(2)
        elif line.strip() and _indent(line) == 0:
            section = None
        entry = ENTRY.match(line) if section == "Call arguments" else None
        if entry and _indent(line) == 4:
            lines[i] = f"{entry.group(1)}- `{entry.group(2)}`:{entry.group(3) or ''}"
    return "\n".join(lines)


def link_roles(text: str, obj: griffe.Object) -> str:
    """Sphinx roles become inline code with an optional cross-reference to the target."""

    def replace(match: re.Match[str]) -> str:
        short, target = match.group(1) == "~", match.group(2).strip()
        target = target.lstrip(".")
        title = target.rsplit(".", 1)[-1] if short else target
        head, _, tail = target.partition(".")
        identifier = target
        if head != "keras_sqnn":
            try:
                resolved = obj.resolve(head)
            except Exception:  # unknown names stay as written
                resolved = None
            if resolved:
                identifier = f"{resolved}.{tail}" if tail else resolved
        return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'

    return ROLE.sub(replace, text)


def _objects(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


class MarkdownDocstrings(griffe.Extension):
    """Rewrites the docstrings of a loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is not None:
                text = fence_doctests(obj.docstring.value)
                text = list_call_arguments(expand_grouped_arguments(text))
                obj.docstring.value = link_roles(text, obj)
