"""Reading YAML safely, keeping the file line of every key (for error messages)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from installer.i18n import Msg, N_
from installer.answers.errors import MAX_BYTES, MAX_DEPTH, Path_, _Ctx, _describe_type, _safe_text, _show


class _Failed(Exception):
    """Parsing cannot go on; the reason is already in the context."""


_NOKEY = object()


_BADKEY = object()


class _Frame:
    __slots__ = ("is_map", "value", "path", "discard", "key", "key_line", "key_lines", "start_line")

    def __init__(self, is_map: bool, path: Optional[Path_], discard: bool):
        self.is_map = is_map
        self.value: Any = {} if is_map else []
        self.path = path
        self.discard = discard
        self.key: Any = _NOKEY
        self.key_line: Optional[int] = None
        self.key_lines: Dict[str, int] = {}
        self.start_line: Optional[int] = None


_CORE_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
}


_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


_yaml_tools: Dict[str, Any] = {}


def _yaml():
    """yaml, the fastest safe loader class, a resolver and a constructor (imported on first use)."""
    if not _yaml_tools:
        import yaml
        _yaml_tools["yaml"] = yaml
        _yaml_tools["Loader"] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        _yaml_tools["resolver"] = yaml.resolver.Resolver()
        _yaml_tools["constructor"] = yaml.constructor.SafeConstructor()
    return _yaml_tools


def _scalar_value(event, line: int, path: Optional[Path_], ctx: _Ctx):
    tools = _yaml()
    yaml = tools["yaml"]
    tag = event.tag
    if tag == "!":
        tag = "tag:yaml.org,2002:str"
    elif tag is None:
        tag = tools["resolver"].resolve(yaml.ScalarNode, event.value, event.implicit)
    elif tag not in _CORE_TAGS:
        ctx.error(path or (), Msg(N_("YAML tags such as {tag} are not allowed; write a plain value"),
                                  tag=_short_tag(tag)), line)
        if path is not None:
            ctx.suppressed.add(path)
        return None
    if tag == "tag:yaml.org,2002:str" or tag not in _CORE_TAGS:
        # Dates and other implicit YAML types stay text, as written.
        return event.value
    node = yaml.ScalarNode(tag, event.value)
    constructor = tools["constructor"]
    try:
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return constructor.construct_yaml_bool(node)
        if tag == "tag:yaml.org,2002:int":
            return constructor.construct_yaml_int(node)
        return constructor.construct_yaml_float(node)
    except Exception:  # a value its tag cannot read, e.g. "!!int abc" or a 5000-digit number
        ctx.error(path or (), Msg(N_("{value} cannot be read as a {kind} value"), value=_show(event.value),
                                  kind=tag.rsplit(":", 1)[-1]), line)
        return None


def _short_tag(tag: str) -> str:
    if tag.startswith("tag:yaml.org,2002:"):
        tag = "!!" + tag[len("tag:yaml.org,2002:"):]
    return _safe_text(tag, 60)


def _parse_yaml(text: str, ctx: _Ctx, base_path: Path_ = (), record: bool = True):
    """The one document in *text* as plain Python values, with key lines recorded in ctx.

    Refuses anchors, aliases, tags other than the core ones, duplicate keys,
    non-text keys, more than one document and nesting deeper than MAX_DEPTH.
    Returns None for an empty document; raises _Failed on a syntax error.
    """
    tools = _yaml()
    yaml = tools["yaml"]
    ev = yaml.events
    loader = tools["Loader"](text)
    frames: List[_Frame] = []
    root: Any = None
    documents = 0

    def child_path() -> Tuple[Optional[Path_], bool]:
        if not frames:
            return base_path, False
        top = frames[-1]
        if top.discard or top.path is None:
            return None, True
        if not top.is_map:
            return top.path + (len(top.value),), False
        if top.key is _NOKEY or top.key is _BADKEY:
            return None, True
        return top.path + (top.key,), False

    def attach(value: Any, line: int, path: Optional[Path_]) -> None:
        nonlocal root
        if not frames:
            root = value
            if record:
                ctx.locations[base_path] = (ctx.filename, line)
            return
        top = frames[-1]
        if not top.is_map:
            if not top.discard:
                if record and path is not None:
                    ctx.locations[path] = (ctx.filename, line)
                top.value.append(value)
            return
        if top.key is _NOKEY:
            if not isinstance(value, str):
                ctx.error(top.path or (), Msg(
                    N_("a key must be text, found {found}; put the key in quotes"),
                    found=_describe_type(value)), line)
                top.key = _BADKEY
            elif value in top.key_lines:
                dup_path = (top.path or ()) + (value,)
                ctx.error(dup_path, Msg(N_("duplicate key: it is already set on line {first}"),
                                        first=top.key_lines[value]), line)
                top.key = _BADKEY
            else:
                top.key = value
                top.key_line = line
                top.key_lines[value] = line
            return
        if top.key is not _BADKEY and not top.discard:
            top.value[top.key] = value
            if record and top.path is not None:
                ctx.locations[top.path + (top.key,)] = (ctx.filename, top.key_line)
        top.key = _NOKEY

    reported = set()    # one error for anchors, one for aliases: an alias bomb has thousands

    def refuse_anchor(event, line: int, path: Optional[Path_]) -> None:
        if getattr(event, "anchor", None) and "anchor" not in reported:
            reported.add("anchor")
            ctx.error(path or base_path, Msg(
                N_("YAML anchors (&{name}) and aliases are not allowed; write each value out"),
                name=_safe_text(event.anchor, 40)), line)

    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, ev.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    ctx.error(base_path, Msg(N_("only one YAML document is allowed; remove the second one (---)")),
                              line)
                    raise _Failed()
            elif isinstance(event, ev.ScalarEvent):
                path, _discard = child_path()
                refuse_anchor(event, line, path)
                attach(_scalar_value(event, line, path, ctx), line, path)
            elif isinstance(event, ev.AliasEvent):
                path, _discard = child_path()
                if "alias" not in reported:
                    reported.add("alias")
                    ctx.error(path or base_path, Msg(
                        N_("YAML aliases (*{name}) and anchors are not allowed; write each value out"),
                        name=_safe_text(event.anchor or "", 40)), line)
                if path is not None:
                    ctx.suppressed.add(path)
                attach(None, line, path)
            elif isinstance(event, (ev.MappingStartEvent, ev.SequenceStartEvent)):
                path, discard = child_path()
                refuse_anchor(event, line, path)
                if event.tag is not None and event.tag not in _COLLECTION_TAGS and event.tag != "!":
                    ctx.error(path or base_path, Msg(N_("YAML tags such as {tag} are not allowed; write a plain value"),
                                                     tag=_short_tag(event.tag)), line)
                    if path is not None:
                        ctx.suppressed.add(path)
                if len(frames) >= MAX_DEPTH:
                    ctx.error((path or base_path)[:1], Msg(N_("nested too deeply (more than {depth} levels)"),
                                                           depth=MAX_DEPTH), line)
                    raise _Failed()
                frame = _Frame(isinstance(event, ev.MappingStartEvent), path, discard)
                frame.start_line = line
                frames.append(frame)
            elif isinstance(event, (ev.MappingEndEvent, ev.SequenceEndEvent)):
                frame = frames.pop()
                attach(frame.value, frame.start_line or line, frame.path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        ctx.error(base_path, Msg(N_("not valid YAML: {problem}"), problem=_safe_text(str(problem), 120)),
                  mark.line + 1 if mark is not None else None)
        raise _Failed()
    finally:
        loader.dispose()
    return root


def _decode(data: bytes, ctx: _Ctx) -> str:
    """UTF-8 text from *data*, refusing huge, binary and badly encoded input."""
    if len(data) > MAX_BYTES:
        ctx.error((), Msg(N_("the file is too large: an answer file is at most {limit} bytes"), limit=MAX_BYTES), 1)
        raise _Failed()
    if b"\x00" in data:
        ctx.error((), Msg(N_("this is a binary file, not a YAML answer file")),
                  data[:data.index(b"\x00")].count(b"\n") + 1)
        raise _Failed()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.error((), Msg(N_("the file is not UTF-8 text; save it as UTF-8")),
                  data[:exc.start].count(b"\n") + 1)
        raise _Failed()
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]", text)
    if bad:
        ctx.error((), Msg(N_("the file contains a control character ({char}); only text is allowed"),
                          char=_safe_text(bad.group(), 10)), text.count("\n", 0, bad.start()) + 1)
        raise _Failed()
    return text
