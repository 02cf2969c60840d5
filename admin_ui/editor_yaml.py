"""Minimal edits of a rule set's YAML text: set, add or remove one key in place, keeping comments, order and layout."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from xinfang.config import ConfigError
from xinfang.config.yaml_source import load_yaml

__all__ = ["REMOVE", "EditError", "Node", "apply_edits", "nodes_of", "path_at", "render_scalar"]

REMOVE = object()  # the value of an edit that deletes the key

Path_ = tuple


class EditError(ValueError):
    """The text cannot be edited in place (it does not parse, or the edit would change more than asked)."""


@dataclass
class Node:
    """Where one value is written: its kind, flow or block, and its span; `key_start` for a mapping entry."""

    kind: str  # scalar | map | seq
    flow: bool
    start: int
    end: int  # after the last character of the value (for block collections: of their last content)
    style: str | None = None  # a scalar's quoting: None (plain), '"', "'", '|', '>'
    key_start: int | None = None
    parent_flow: bool = False
    line: int = 0  # 1-based line of the value (of the key, for a mapping entry)
    col: int = 0


def nodes_of(text: str) -> dict[Path_, Node]:
    """Every path of the document → its Node, from the parser's events (character offsets into `text`)."""
    nodes: dict[Path_, Node] = {}
    stack: list[list] = []  # [path, node, is_map, pending key (start, value) or None, index]
    try:
        events = list(yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as err:
        raise EditError(f"YAML 语法错误：{err}") from None

    def place(node: Node) -> Path_ | None:
        if not stack:
            nodes[()] = node
            return ()
        frame = stack[-1]
        path, parent, is_map = frame[0], frame[1], frame[2]
        node.parent_flow = parent.flow
        if is_map:
            if frame[3] is None:  # this is a key
                frame[3] = node
                return None
            key_node, frame[3] = frame[3], None
            key = text[key_node.start:key_node.end]
            key = yaml.safe_load(key) if key_node.style else key
            child = path + (str(key),)
            node.key_start = key_node.start
            node.line, node.col = key_node.line, key_node.col
        else:
            child = path + (frame[4],)
            frame[4] += 1
        nodes[child] = node
        return child

    def grow(end: int) -> None:
        for frame in stack:
            frame[1].end = max(frame[1].end, end)

    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            node = Node("scalar", False, event.start_mark.index, _scalar_end(text, event), event.style,
                        line=event.start_mark.line + 1, col=event.start_mark.column + 1)
            place(node)
            grow(node.end)
        elif kind in (yaml.MappingStartEvent, yaml.SequenceStartEvent):
            node = Node("map" if kind is yaml.MappingStartEvent else "seq", bool(event.flow_style),
                        event.start_mark.index, event.start_mark.index,
                        line=event.start_mark.line + 1, col=event.start_mark.column + 1)
            path = place(node)
            stack.append([path, node, kind is yaml.MappingStartEvent, None, 0])
        elif kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
            frame = stack.pop()
            if frame[1].flow:
                frame[1].end = event.end_mark.index
                grow(frame[1].end)
        elif kind is yaml.AliasEvent:
            raise EditError("规则集不使用锚点和别名")
    return nodes


def _scalar_end(text: str, event) -> int:
    """A block scalar's end mark lies on the next line: the value ends at its last character."""
    end = event.end_mark.index
    if event.style in ("|", ">"):
        while end > event.start_mark.index and text[end - 1] in " \t\r\n":
            end -= 1
    return end


def path_at(nodes: dict[Path_, Node], line: int, col: int | None = None) -> Path_ | None:
    """The path written at `line` (and `col`): the value starting exactly there, else the deepest on the line."""
    on_line = [(p, n) for p, n in nodes.items() if p and n.line == line]
    if col is not None:
        exact = [p for p, n in on_line if n.col == col]
        if exact:
            return max(exact, key=len)
    return max((p for p, _ in on_line), key=len, default=None)


# Rendering values

_PLAIN_BAD_START = tuple("-?:,[]{}#&*!|>'\"%@`")


def render_scalar(value: Any, *, flow: bool, style: str | None = None) -> str:
    """A scalar written as YAML reads it back: plain where that is safe, else quoted as the original was."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if style == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if style != '"' and _plain_ok(text, flow):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain_ok(text: str, flow: bool) -> bool:
    if not text or text != text.strip() or "\n" in text or text.startswith(_PLAIN_BAD_START):
        return False
    if ": " in text or " #" in text or text.endswith(":") or (flow and any(c in text for c in ",[]{}")):
        return False
    try:
        return yaml.safe_load(f"k: {text}") == {"k": text}
    except yaml.YAMLError:
        return False


def render_flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render_scalar(k, flow=True)}: {render_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_flow(v) for v in value) + "]"
    return render_scalar(value, flow=True)


def _render_entry(key: str, value: Any, indent: int) -> str:
    """`key: value` lines at `indent`: a mapping of scalars (or a list) on one line when short, else block."""
    pad = " " * indent
    head = f"{pad}{render_scalar(key, flow=False)}:"
    if isinstance(value, dict):
        flat = all(not isinstance(v, dict) for v in value.values())
        line = f"{head} {render_flow(value)}"
        if value and flat and len(line) <= 110:
            return line + "\n"
        if not value:
            return f"{head} {{}}\n"
        return head + "\n" + "".join(_render_entry(k, v, indent + 2) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return f"{head} {render_flow(value)}\n"
    return f"{head} {render_scalar(value, flow=False)}\n"


# Editing

def apply_edits(text: str, edits: Sequence[tuple[Path_, Any]], *, order: dict[Path_, Sequence[str]] | None = None
                ) -> str:
    """`text` with each (path, value) set in place, or the key removed for REMOVE, one at a time.

    Only the characters of the value (or the lines of the entry) change; missing parents are added,
    a mapping left empty by a removal goes too. Each result is read back and must equal the data
    with that one change made, else EditError: an edit never changes anything it was not asked to.
    `order` gives a key order per parent path (new keys go before the first later sibling).
    """
    for path, value in edits:
        text = _edit(text, tuple(path), value, order or {})
    return text


def _load(text: str) -> Any:
    try:
        return load_yaml("draft", text=text).data
    except ConfigError as err:
        raise EditError("YAML 有错误，无法按表单修改：" + "; ".join(str(i) for i in err.issues[:3])) from None


def _edit(text: str, path: Path_, value: Any, order: dict) -> str:
    before = _load(text)
    wanted = copy.deepcopy(before)
    _set_in(wanted, path, value)
    if wanted == before:
        return text
    nodes = nodes_of(text)
    if value is REMOVE:
        new = _remove(text, nodes, path, before)
    elif path in nodes:
        new = _replace(text, nodes, path, value)
    else:
        new = _insert(text, nodes, path, value, order)
    if _load(new) != wanted:
        raise EditError(f"无法在原文中就地修改 {'.'.join(map(str, path))}，请在 YAML 中直接编辑")
    return new


def _set_in(data: Any, path: Path_, value: Any) -> None:
    target = data
    for i, key in enumerate(path[:-1]):
        if isinstance(target, list) and isinstance(key, int) and key < len(target):
            target = target[key]
            continue
        if not isinstance(target, dict):
            raise EditError(f"{'.'.join(map(str, path[:i]))} 不是映射")
        if value is REMOVE and key not in target:
            return
        if not isinstance(target.get(key), (dict, list)):
            target[key] = {}
        target = target[key]
    if value is REMOVE:
        target.pop(path[-1], None)
        _prune(data, path[:-1])
    else:
        target[path[-1]] = value


def _prune(data: Any, path: Path_) -> None:
    """Drop mappings a removal left empty, up to (not including) the root."""
    while path:
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if parent.get(path[-1]) == {}:
            parent.pop(path[-1])
            path = path[:-1]
        else:
            return


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _replace(text: str, nodes: dict, path: Path_, value: Any) -> str:
    node = nodes[path]
    if isinstance(value, dict):
        for key, item in value.items():
            text = _edit(text, path + (key,), item, {})
        return text
    if node.kind == "seq" and not node.flow and isinstance(value, list):
        indent = " " * (node.col - 1)
        new = ("\n" + indent).join(f"- {render_flow(v)}" for v in value) if value else "[]"
        return text[:node.start] + new + text[node.end:]
    if node.kind != "scalar" and not node.flow:
        # A block collection replaced by a scalar or flow list: written after the key, on its line.
        key_end = text.index(":", node.key_start) + 1
        new = " " + (render_flow(value) if isinstance(value, list) else render_scalar(value, flow=False))
        return text[:key_end] + new + "\n" + text[_line_end(text, node.end):]
    if isinstance(value, list):
        new = render_flow(value)
    elif node.style in ("|", ">"):
        indent = " " * (node.col - 1 + 2 if node.key_start is None else _indent_of(text, node.key_start) + 2)
        body = str(value).splitlines() or [""]
        new = ("|-" if "\n" in str(value) else ">-") + "".join(f"\n{indent}{line}" for line in body)
    else:
        new = render_scalar(value, flow=node.parent_flow, style=node.style)
    return text[:node.start] + new + text[node.end:]


def _indent_of(text: str, index: int) -> int:
    return index - _line_start(text, index)


def _insert(text: str, nodes: dict, path: Path_, value: Any, order: dict) -> str:
    depth = len(path) - 1
    while path[:depth] not in nodes:
        depth -= 1
    parent_path = path[:depth]
    key, rest = path[depth], path[depth + 1:]
    for step in reversed(rest):
        value = {step: value}
    parent = nodes[parent_path]
    if parent.kind != "map":
        raise EditError(f"{'.'.join(map(str, parent_path)) or '文档'} 不是映射，无法添加 {key}")
    if parent.flow:
        close = parent.end - 1  # the `}`
        inner = text[parent.start + 1:close].strip()
        entry = f"{render_scalar(key, flow=True)}: {render_flow(value)}"
        new = entry if not inner else f", {entry}"
        pos = close
        while text[pos - 1] in " \t" and inner:
            pos -= 1
        return text[:pos] + new + text[pos:]
    children = [(p, n) for p, n in nodes.items() if len(p) == len(parent_path) + 1 and p[:-1] == parent_path]
    indent = _indent_of(text, children[0][1].key_start) if children else (parent.col - 1)
    entry = _render_entry(str(key), value, indent)
    sequence = next((keys for pattern, keys in order.items() if len(pattern) == len(parent_path)
                     and all(p in ("*", k) for p, k in zip(pattern, parent_path))), None)
    later = None
    if sequence and key in sequence:
        rank = {k: i for i, k in enumerate(sequence)}
        later = next((n for p, n in children if p[-1] in rank and rank[p[-1]] > rank[key]), None)
    if later is not None:
        at = _comment_block_start(text, _line_start(text, later.key_start), indent)
        return text[:at] + entry + text[at:]
    at = _line_end(text, parent.end) if children else len(text)
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return text[:at] + prefix + entry + text[at:]


def _comment_block_start(text: str, line_start: int, indent: int) -> int:
    """The start of the comment lines directly above a key (they describe it), at its indentation or deeper."""
    start = line_start
    while start > 0:
        prev = _line_start(text, start - 1)
        line = text[prev:start]
        stripped = line.lstrip(" ")
        if stripped.startswith("#") and len(line) - len(stripped) >= indent:
            start = prev
        else:
            break
    return start


def _remove(text: str, nodes: dict, path: Path_, data: Any) -> str:
    if path not in nodes:
        return text
    parent_path = path[:-1]
    parent = nodes[parent_path]
    siblings = [p for p in nodes if len(p) == len(path) and p[:-1] == parent_path]
    if len(siblings) == 1 and parent_path:
        return _remove(text, nodes, parent_path, data)
    node = nodes[path]
    if parent.flow:
        index = siblings.index(path)
        if index + 1 < len(siblings):
            return text[:node.key_start] + text[nodes[siblings[index + 1]].key_start:]
        return text[:nodes[siblings[index - 1]].end] + text[node.end:]
    start = _line_start(text, node.key_start)
    return text[:start] + text[_line_end(text, node.end):]

