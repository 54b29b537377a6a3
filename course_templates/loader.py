"""Read, validate and load course templates.

Validation errors name the file, the line and the field, and say what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from course_templates.schema import TemplateSpec

TEMPLATE_DIR = Path(__file__).parent / "templates"


class TemplateError(ValueError):
    """A template that cannot be used; the message is meant for its author."""


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    lines = {}
    for key_node, _value in node.value:
        lines[key_node.value] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in ("__lines__", "__line__")}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def _line_of(data: Any, loc: tuple) -> int | None:
    line = data.get("__line__") if isinstance(data, dict) else None
    node = data
    for part in loc:
        if isinstance(node, dict):
            line = (node.get("__lines__") or {}).get(part, line)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, dict):
                line = node.get("__line__", line)
        else:
            break
    return line


def load_template(path: Path) -> TemplateSpec:
    """Parse and validate one YAML template, or raise TemplateError."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise TemplateError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}:1: a template must be a mapping")
    try:
        return TemplateSpec.model_validate(_strip(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(raw, loc)
            field = ".".join(str(p) for p in loc) or "(template)"
            problems.append(f"{path}:{line or 1}: {field}: {err['msg']}")
        raise TemplateError("\n".join(problems)) from exc


def shipped_templates() -> list[Path]:
    return sorted(TEMPLATE_DIR.glob("*.yaml"))


def install(db: Session, spec: TemplateSpec) -> Any:
    """Store a validated template as a course module (replacing the same id+version)."""
    from lti_tool.models import Activity, CourseBlock, CourseModule

    existing = db.scalars(
        select(CourseModule).where(
            CourseModule.key == spec.id, CourseModule.version == spec.version
        )
    ).first()
    if existing is not None:
        db.delete(existing)
        db.flush()
    module = CourseModule(
        key=spec.id,
        version=spec.version,
        title=spec.title,
        mode=spec.mode,
        language=spec.language,
        description=spec.description,
        definition=spec.model_dump(mode="json"),
    )
    for bpos, b in enumerate(spec.blocks):
        block = CourseBlock(
            key=b.key, position=bpos, week=b.week, title=b.title, jp=b.jp, summary=b.summary
        )
        for apos, a in enumerate(b.activities):
            block.activities.append(
                Activity(
                    key=a.key,
                    position=apos,
                    type=a.type,
                    title=a.title,
                    instructions=a.instructions,
                    graded=a.graded,
                    component=a.component,
                    max_score=a.max_score,
                    settings=a.settings,
                )
            )
        module.blocks.append(block)
    db.add(module)
    db.flush()
    return module
