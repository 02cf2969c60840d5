"""Safe loading of one rule-set YAML file into plain data that remembers where each value was written."""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.reader import Reader
from yaml.resolver import Resolver

from .errors import ConfigError, ConfigIssue, Position

__all__ = ["Path_", "YamlDocument", "load_yaml", "dump_path"]

Path_ = tuple[str | int, ...]

# libyaml's parser is several times faster than the pure Python one; both yield the same events.
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_STD + name for name in ("str", "int", "float", "bool", "null", "timestamp"))
_NON_SPECIFIC = (None, "!")
_MAX_ISSUES = 100  # a broken file should not bury the first problems under thousands of lines
_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"]+")
_NO_KEY = object()  # a mapping frame waiting for its next key
_BAD_KEY = object()  # the key was refused; its value is read but not kept
_MISSING = object()


@dataclass(frozen=True)
class YamlDocument:
    """A loaded rule-set file: plain data plus the position of every value and key, for messages."""

    file: str
    data: Any
    positions: Mapping[Path_, Position]
    key_positions: Mapping[Path_, Position]

    def position(self, path: Path_) -> Position:
        """Where `path` was written, or its nearest written ancestor (a missing key → its mapping)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return Position(self.file, 1, 1)


class _PositionMap(Mapping):
    """Read-only path → Position view; keeps the parser's marks and makes Positions on demand,
    since most positions are never asked for and building them all doubled the load time."""

    __slots__ = ("_file", "_marks")

    def __init__(self, file: str, marks: dict[Path_, Any]) -> None:
        self._file = file
        self._marks = marks

    def __getitem__(self, path: Path_) -> Position:
        mark = self._marks[path]
        return Position(self._file, mark.line + 1, mark.column + 1)

    def __contains__(self, path: object) -> bool:
        return path in self._marks

    def __iter__(self) -> Iterator[Path_]:
        return iter(self._marks)

    def __len__(self) -> int:
        return len(self._marks)


def dump_path(path: Path_) -> str:
    """Readable form of a key path for messages: `time_limits.conclude.days`, `remove[0]`."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _PLAIN_KEY.fullmatch(step):
            parts.append(f".{step}" if parts else step)
        else:
            parts.append(f"[{step!r}]")
    return "".join(parts) or "(root)"


def load_yaml(
    source: str | os.PathLike,
    *,
    text: str | bytes | None = None,
    max_bytes: int = 2_000_000,
    max_depth: int = 50,
) -> YamlDocument:
    """Load one rule-set document from `source` (or from `text`, with `source` as its display name).

    Refuses, as ConfigError with positions: oversized or non-UTF-8 files, syntax errors, anchors
    and aliases, nesting deeper than `max_depth`, duplicate or non-string keys, custom tags,
    several documents and empty files. Never builds more than the file literally spells out.
    """
    file = os.fspath(source)
    if text is None:
        raw: str | bytes = _read(file, max_bytes)
    else:
        raw = text
        size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise ConfigError(_too_large(file, size, max_bytes))
    decoded = _decode(file, raw) if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    _check_printable(file, decoded)
    return _Builder(file, max_depth).build(decoded)


def _read(file: str, max_bytes: int) -> bytes:
    """Read the file's bytes, refusing an oversized file before reading it."""
    try:
        size = os.stat(file).st_size
        if size > max_bytes:
            raise ConfigError(_too_large(file, size, max_bytes))
        with open(file, "rb") as handle:
            raw = handle.read(max_bytes + 1)  # bounded even if the file grows or is a device
    except OSError as exc:
        raise ConfigError(ConfigIssue(None, f"{file}: cannot read the file: {exc.strerror or exc}", "无法读取文件")) from None
    if len(raw) > max_bytes:
        raise ConfigError(_too_large(file, None, max_bytes))
    return raw


def _too_large(file: str, size: int | None, max_bytes: int) -> ConfigIssue:
    stated = f"is {_size(size)}" if size is not None else f"is larger than {_size(max_bytes)}"
    return ConfigIssue(Position(file, 1, 1), f"file {stated}; rule sets are limited to {_size(max_bytes)}",
                       f"文件太大：规则集不能超过 {_size(max_bytes)}")


def _size(count: int) -> str:
    if count >= 100_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.1f} kB"
    return f"{count} bytes"


def _decode(file: str, raw: bytes) -> str:
    """Decode strict UTF-8 (a BOM is allowed), naming the first undecodable byte's position."""
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8", "replace")) + 1
        position = Position(file, before.count(b"\n") + 1, col)
        message = f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        raise ConfigError(ConfigIssue(position, message, "文件不是 UTF-8 编码：请以 UTF-8 保存")) from None


def _check_printable(file: str, text: str) -> None:
    """Refuse characters YAML forbids, with our own position (parsers report them inconsistently)."""
    found = Reader.NON_PRINTABLE.search(text)
    if found is None:
        return
    index = found.start()
    line_start = text.rfind("\n", 0, index) + 1
    position = Position(file, text.count("\n", 0, index) + 1, index - line_start + 1)
    message = f"character U+{ord(found.group()):04X} is not allowed in a YAML file"
    raise ConfigError(ConfigIssue(position, message, f"YAML 文件中不能有字符 U+{ord(found.group()):04X}"))


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("container", "path", "is_mapping", "key", "key_mark", "first_keys")

    def __init__(self, container: dict | list, path: Path_ | None, is_mapping: bool) -> None:
        self.container = container
        self.path = path  # None inside something refused: its values get no positions
        self.is_mapping = is_mapping
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.first_keys: dict[str, Any] = {}


class _Builder:
    """Builds plain data from the parser's event stream, so anchors, depth and keys are ours to check."""

    def __init__(self, file: str, max_depth: int) -> None:
        self.file = file
        self.max_depth = max_depth
        self.marks: dict[Path_, Any] = {}  # path → the parser's start mark of the value
        self.key_marks: dict[Path_, Any] = {}
        self.issues: list[ConfigIssue] = []
        self.constructor = SafeConstructor()
        self.resolver = Resolver()
        self.plain_scalars: dict[str, Any] = {}  # plain scalars repeat a lot; each resolves once

    def build(self, text: str) -> YamlDocument:
        loader = _LOADER(text)
        try:
            found, data = self._consume(loader)
        except yaml.MarkedYAMLError as exc:
            raise ConfigError([*self.issues, self._syntax_issue(exc)]) from None
        except yaml.YAMLError as exc:
            raise ConfigError([*self.issues, ConfigIssue(Position(self.file, 1, 1), f"YAML error: {exc}",
                                                         "YAML 写法有错误")]) from None
        finally:
            loader.dispose()
        if not found:
            self.issues.append(ConfigIssue(Position(self.file, 1, 1), "file is empty", "文件是空的"))
        if self.issues:
            raise ConfigError(self.issues)
        return YamlDocument(
            self.file, data, _PositionMap(self.file, self.marks), _PositionMap(self.file, self.key_marks)
        )

    def _consume(self, loader: Any) -> tuple[bool, Any]:
        """Walk the events iteratively (no recursion, so depth is only what max_depth allows)."""
        stack: list[_Frame] = []
        documents = 0
        root: Any = None
        get_event = loader.get_event
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                self._refuse_anchor(event)
                value = self._scalar(event)
                if stack:
                    self._place(stack[-1], value, event)
                else:
                    root = value
                    self.marks[()] = event.start_mark
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self._refuse_anchor(event)
                is_mapping = kind is MappingStartEvent
                self._check_collection_tag(event, _STD + ("map" if is_mapping else "seq"))
                if len(stack) >= self.max_depth:
                    self._fail(event.start_mark, self._too_deep(), self._too_deep_zh())
                container: dict | list = {} if is_mapping else []
                if stack:
                    path = self._place(stack[-1], container, event)
                else:
                    root, path = container, ()
                    self.marks[()] = event.start_mark
                stack.append(_Frame(container, path, is_mapping))
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
            elif kind is AliasEvent:
                self._fail(event.start_mark, f"alias '*{event.anchor}' is not allowed: rule sets use no anchors or aliases",
                           "规则集不能使用锚点和别名（& 和 *）：请把内容写出来")
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self._fail(event.start_mark, "a second YAML document: one rule set per file",
                               "一个文件只能写一个规则集（不能有第二个 --- 文档）")
            elif kind is StreamEndEvent:
                return documents > 0, root

    def _place(self, frame: _Frame, value: Any, event: Any) -> Path_ | None:
        """Put `value` into the open collection; return its path (None when it is not kept)."""
        if frame.is_mapping:
            if frame.key is _NO_KEY:
                frame.key = self._key(frame, value, event)
                frame.key_mark = event.start_mark
                return None
            key, frame.key = frame.key, _NO_KEY
            if key is _BAD_KEY:
                return None
            frame.container[key] = value
            if frame.path is None:
                return None
            path = frame.path + (key,)
            self.key_marks[path] = frame.key_mark
        else:
            frame.container.append(value)
            if frame.path is None:
                return None
            path = frame.path + (len(frame.container) - 1,)
        self.marks[path] = event.start_mark
        return path

    def _key(self, frame: _Frame, value: Any, event: Any) -> Any:
        """Keys are strings; an int key (a year, `2027:`) is kept as written, so `01:` stays "01"."""
        if type(value) is str:
            key = value
        elif type(value) is int:
            key = event.value
        else:
            self._issue(event.start_mark, f"key must be a string, not {_describe(value, event)}", "键必须是文字")
            return _BAD_KEY
        first = frame.first_keys.get(key)
        if first is not None:
            self._issue(event.start_mark, f"duplicate key {key!r} (first at line {first.line + 1})",
                        f"键 {key} 重复：第 {first.line + 1} 行已经写过")
            return _BAD_KEY
        frame.first_keys[key] = event.start_mark
        return key

    def _scalar(self, event: ScalarEvent) -> Any:
        """The value SafeLoader would give, for the standard scalar tags only."""
        tag, text = event.tag, event.value
        plain = tag in _NON_SPECIFIC and event.implicit[0]
        if plain:
            cached = self.plain_scalars.get(text, _MISSING)
            if cached is not _MISSING:
                return cached
            tag = self.resolver.resolve(ScalarNode, text, event.implicit)
        elif tag in _NON_SPECIFIC:
            return text  # quoted or block scalar: always a string
        if tag not in _SCALAR_TAGS:
            if tag == _STD + "merge":
                self._issue(event.start_mark, "merge keys ('<<') are not supported: write the keys out",
                            "不支持合并键（<<）：请把各个键写出来")
            elif tag != _STD + "value":  # a bare `=` is just the string "="
                self._issue(event.start_mark, f"tag {_show_tag(tag)} is not allowed in a rule set",
                            f"规则集中不能使用标签 {_show_tag(tag)}")
            return text
        node = ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
        try:
            value = SafeConstructor.yaml_constructors[tag](self.constructor, node)
        except Exception as exc:  # e.g. `!!int abc`, `2027-02-30`: becomes an issue, not a crash
            what = "date" if tag == _STD + "timestamp" else tag.removeprefix(_STD)
            self._issue(event.start_mark, f"invalid {what} {text!r}: {exc}", f"{text!r} 不是有效的日期或数值")
            return text
        if plain:
            self.plain_scalars[text] = value
        return value

    def _check_collection_tag(self, event: Any, expected: str) -> None:
        if event.tag not in _NON_SPECIFIC and event.tag != expected:
            self._issue(event.start_mark, f"tag {_show_tag(event.tag)} is not allowed in a rule set",
                        f"规则集中不能使用标签 {_show_tag(event.tag)}")

    def _refuse_anchor(self, event: Any) -> None:
        # Refused outright: rule sets need no sharing, and aliases are how YAML bombs expand.
        if event.anchor is not None:
            self._fail(event.start_mark, f"anchor '&{event.anchor}' is not allowed: rule sets use no anchors or aliases",
                       "规则集不能使用锚点和别名（& 和 *）：请把内容写出来")

    def _syntax_issue(self, exc: yaml.MarkedYAMLError) -> ConfigIssue:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:
            context = exc.context
            if exc.context_mark is not None and exc.context_mark.line != getattr(mark, "line", None):
                context += f" at line {exc.context_mark.line + 1}"
            message = f"{exc.problem} ({context})"
        position = self._pos(mark) if mark is not None else Position(self.file, 1, 1)
        if "maximum nesting depth" in message:
            # libyaml looks ahead through `[[[[…` and stops at its own limit (1000) before we see depth 51.
            return ConfigIssue(position, self._too_deep(), self._too_deep_zh())
        return ConfigIssue(position, f"YAML syntax error: {message}", "YAML 语法错误：请检查这一行的缩进、冒号和引号")

    def _too_deep_zh(self) -> str:
        return f"层次太深：不能超过 {self.max_depth} 层"

    def _too_deep(self) -> str:
        return f"nesting is deeper than {self.max_depth} levels"

    def _pos(self, mark: Any) -> Position:
        return Position(self.file, mark.line + 1, mark.column + 1)

    def _issue(self, mark: Any, message: str, chinese: str = "") -> None:
        self.issues.append(ConfigIssue(self._pos(mark), message, chinese))
        if len(self.issues) >= _MAX_ISSUES:
            raise ConfigError(self.issues)

    def _fail(self, mark: Any, message: str, chinese: str = "") -> None:
        raise ConfigError([*self.issues, ConfigIssue(self._pos(mark), message, chinese)])


def _describe(value: Any, event: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(event, ScalarEvent) and event.implicit[0]:
        kind = "null" if value is None else type(value).__name__
        return f"{event.value or '(empty)'} (read as {kind}; quote it: '{event.value}')"
    return type(value).__name__


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag
