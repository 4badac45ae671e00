"""Read a config file and parse its YAML within bounds an attacker cannot stretch.

A config is a few kilobytes of nesting four levels deep. Anything far past that is a
mistake or an attack, and is refused before it can cost time or memory:

- the file must be a regular file of at most :data:`MAX_CONFIG_BYTES` (``/dev/zero`` or
  a FIFO would otherwise be read forever; it is opened without blocking and checked with
  ``fstat`` on the open descriptor);
- at most :data:`MAX_ALIASES` aliases, and the document fully expanded (every alias
  counted as a copy of what it names) at most :data:`MAX_EXPANDED_NODES` nodes: the
  "billion laughs" bomb is a few hundred bytes that expands to 10^9 nodes;
- at most :data:`MAX_DOCUMENT_NODES` values written in the file, refused while parsing;
- at most :data:`MAX_DEPTH` levels of nesting (PyYAML composes recursively);
- mapping keys must be scalars (a list as a key is unhashable in Python), and integers
  must fit in 64 bits (larger ones cannot even be printed past Python's digit limit).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Hashable
from pathlib import Path

import yaml

from makerd.config.errors import ConfigError
from makerd.config.schema import describe

MAX_CONFIG_BYTES = 1 << 20
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 32
MAX_DOCUMENT_NODES = 5_000
"""Nodes written in the file (an alias counts once here): refused while parsing, so a
megabyte of keys costs a fraction of a second, not the ten seconds PyYAML takes to read it."""
_MAX_INT_BITS = 64
_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_config_text(path: Path) -> str:
    """The file's text, or :class:`ConfigError` naming why it cannot be a config file."""
    source = str(path)
    if "\x00" in source:
        raise ConfigError(["the path contains a NUL byte"], source=repr(source))
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(["file not found"], source=source) from None
    except OSError as error:
        raise ConfigError([f"cannot read the file: {error.strerror}"], source=source) from None
    try:
        # fstat on the open descriptor (the file checked is the file read), before fdopen,
        # which refuses a directory with an exception of its own.
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(["is a directory, not a config file"], source=source)
        if not stat.S_ISREG(mode):
            raise ConfigError(
                ["is not a regular file (a device, FIFO or socket cannot be a config file)"],
                source=source,
            )
        content = _read_at_most(descriptor, MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError([f"cannot read the file: {error.strerror}"], source=source) from None
    finally:
        os.close(descriptor)
    if len(content) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [f"is larger than {MAX_CONFIG_BYTES} bytes; a config file is a few kilobytes"],
            source=source,
        )
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([f"not UTF-8 text: {error.reason}"], source=source) from None


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def parse_yaml(text: str, *, source: str) -> object:
    """The document in ``text``, or :class:`ConfigError` with a located problem."""
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problems = _expansion_problems(node)
        if problems:
            raise ConfigError(problems, source=source)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        raise ConfigError([_yaml_problem(error)], source=source) from None
    except yaml.YAMLError as error:
        raise ConfigError([f"invalid YAML: {error}"], source=source) from None
    except (ValueError, OverflowError, RecursionError) as error:
        # PyYAML's own constructors raise these for an impossible date, a huge number...
        raise ConfigError([f"invalid YAML value: {type(error).__name__}"], source=source) from None
    finally:
        loader.dispose()


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}invalid YAML: {error.problem or error.context}"


def _expansion_problems(root: yaml.Node) -> list[str]:
    """Non-scalar keys (with their path) and an expansion past the node budget.

    Sizes are memoised per node, so a shared (aliased) node is measured once: the walk
    costs the document's size, not its expansion's.
    """
    sizes: dict[int, int] = {}
    problems: list[str] = []

    def size(node: yaml.Node, path: str) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # a cycle (an alias inside its own anchor) counts once
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                total += size(item, f"{path}[{index}]")
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    kind = "list" if isinstance(key, yaml.SequenceNode) else "mapping"
                    where = path or "<top level>"
                    problems.append(f"{where}: keys must be text, got a {kind} (line {line})")
                    continue
                total += 1 + size(value, _join(path, key.value))
        total = min(total, MAX_EXPANDED_NODES + 1)  # keeps the arithmetic small
        sizes[id(node)] = total
        return total

    if size(root, "") > MAX_EXPANDED_NODES:
        problems.append(
            f"<top level>: the document expands to more than {MAX_EXPANDED_NODES} values "
            "(aliases are counted as copies); a config needs a few hundred"
        )
    return problems


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader with alias, depth and integer bounds that refuses duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(
                    problem=f"more than {MAX_ALIASES} aliases",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
        self._depth += 1
        self._nodes += 1
        try:
            if self._nodes > MAX_DOCUMENT_NODES:
                raise yaml.composer.ComposerError(
                    problem=f"more than {MAX_DOCUMENT_NODES} values; a config needs a few hundred",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    problem=f"nested deeper than {MAX_DEPTH} levels",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as error:
            # An impossible date (2001-02-30), an integer past Python's digit limit...
            raise yaml.constructor.ConstructorError(
                problem=f"cannot read this value ({type(error).__name__})",
                problem_mark=node.start_mark,
            ) from None

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Hashable, object]:
        # PyYAML would silently keep the last of two equal keys.
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # `<<: *base` is flattened by SafeLoader; its keys may be overridden
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key {describe(key)}", problem_mark=key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value: int = super().construct_yaml_int(node)
        if value.bit_length() > _MAX_INT_BITS:
            raise yaml.constructor.ConstructorError(
                problem="integer too large (more than 64 bits)", problem_mark=node.start_mark
            )
        return value


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
