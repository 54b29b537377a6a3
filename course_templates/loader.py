"""Read, validate and load course templates.

Validation errors name the file, the line and the field, and say what was expected.
"""

from __future__ import annotations

import shutil
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


class _LineList(list):
    """A YAML sequence that remembers the line of each item."""

    lines: list[int]


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list:
    items = _LineList(loader.construct_sequence(node, deep=True))
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


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
            lines = getattr(node, "lines", None)
            if lines:
                line = lines[part]
            node = node[part]
            if isinstance(node, dict):
                line = node.get("__line__", line)
        else:
            break
    return line


def _problem(path: Path, raw: Any, loc: tuple, message: str) -> str:
    line = _line_of(raw, loc)
    field = ".".join(str(p) for p in loc) or "(template)"
    return f"{path}:{line or 1}: {field}: {message}"


def files_dir(path: Path, template_id: str) -> Path:
    """Where a template's shipped files live: `files/<id>/` beside the YAML file."""
    return path.parent / "files" / template_id


def load_template(path: Path, registry: Any = None) -> TemplateSpec:
    """Parse and validate one YAML template, or raise TemplateError.

    With an activity `registry`, every activity type must be provided by an installed
    plugin, its settings must fit that plugin's settings model, and the files it ships
    must exist in the template's files folder.
    """
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise TemplateError(f"{where}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read: {exc.strerror}") from exc
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}:1: a template must be a mapping")
    try:
        spec = TemplateSpec.model_validate(_strip(raw))
    except ValidationError as exc:
        problems = [_problem(path, raw, tuple(e["loc"]), e["msg"]) for e in exc.errors()]
        raise TemplateError("\n".join(problems)) from exc
    problems = [_problem(path, raw, loc, message) for loc, message in spec.problems()]
    if spec.id != path.stem:
        problems.append(_problem(path, raw, ("id",), f"must equal the file name {path.stem!r}"))
    if registry is not None:
        problems += _check_plugins(path, raw, spec, registry)
    if problems:
        raise TemplateError("\n".join(problems))
    return spec


def _check_plugins(path: Path, raw: Any, spec: TemplateSpec, registry: Any) -> list[str]:
    problems = []
    base = files_dir(path, spec.id)
    installed = ", ".join(sorted(registry.names())) or "none"
    for bi, block in enumerate(spec.blocks):
        for ai, activity in enumerate(block.activities):
            loc = ("blocks", bi, "activities", ai)
            plugin = registry.get(activity.type)
            if plugin is None:
                problems.append(
                    _problem(
                        path,
                        raw,
                        (*loc, "type"),
                        f"no installed plugin provides the activity type {activity.type!r} "
                        f"(installed: {installed})",
                    )
                )
                continue
            if activity.graded and not plugin.graded:
                problems.append(
                    _problem(
                        path, raw, (*loc, "graded"), f"{activity.type!r} activities give no score"
                    )
                )
            if activity.completion and activity.completion not in plugin.completion_rules:
                allowed = ", ".join(plugin.completion_rules)
                problems.append(
                    _problem(path, raw, (*loc, "completion"), f"must be one of: {allowed}")
                )
            try:
                plugin.validate_settings(activity.settings)
            except ValidationError as exc:
                for e in exc.errors():
                    problems.append(_problem(path, raw, (*loc, "settings", *e["loc"]), e["msg"]))
                continue
            for sub, rel in getattr(plugin, "asset_paths", lambda s: [])(activity.settings):
                if not (base / rel).is_file():
                    problems.append(
                        _problem(path, raw, (*loc, "settings", *sub), f"no file {base / rel}")
                    )
    missing_files = False
    for qi, bank in enumerate(spec.resources.question_banks):
        if not (base / bank.file).is_file():
            missing_files = True
            problems.append(
                _problem(
                    path,
                    raw,
                    ("resources", "question_banks", qi, "file"),
                    f"no file {base / bank.file}",
                )
            )
    if not problems and not missing_files:
        # Each plugin used checks what only it understands (e.g. a quiz its banks).
        for name in sorted(spec.activity_types()):
            plugin = registry.get(name)
            for loc, message in plugin.check_template(spec, base):
                problems.append(_problem(path, raw, loc, message))
    return problems


def shipped_templates() -> list[Path]:
    return sorted(TEMPLATE_DIR.glob("*.yaml"))


def installed_files_dir(instance_path: str | Path, template_id: str, version: str) -> Path:
    """Where an installed template version keeps its files (worksheets, banks, PDFs)."""
    return Path(instance_path) / "template_files" / template_id / version


def install(
    db: Session,
    spec: TemplateSpec,
    registry: Any = None,
    *,
    source: Path | None = None,
    instance_path: str | Path | None = None,
) -> tuple[Any, bool]:
    """Store a validated template as a course module version; return (module, created).

    A version, once stored, never changes under the courses that use it: importing
    the same id and version again is a no-op when identical and refused otherwise.
    With `source` (the YAML file) and `instance_path`, the template's files folder is
    copied next to the instance, so the version keeps its files.
    """
    from lti_tool.models import Activity, CourseBlock, CourseModule

    definition = spec.model_dump(mode="json")
    existing = db.scalars(
        select(CourseModule).where(
            CourseModule.key == spec.id, CourseModule.version == spec.version
        )
    ).first()
    if existing is not None:
        if existing.definition == definition:
            return existing, False
        raise TemplateError(
            f"{spec.id} {spec.version} is already installed with other content: "
            "give the changed template a new version"
        )
    module = CourseModule(
        key=spec.id,
        version=spec.version,
        title=spec.title,
        mode=spec.mode,
        language=spec.language,
        description=spec.description,
        definition=definition,
    )
    for bpos, b in enumerate(spec.blocks):
        block = CourseBlock(
            key=b.key,
            kind=b.kind,
            position=bpos,
            week=b.week,
            weeks=b.weeks,
            title=b.title,
            jp=b.jp,
            jp_tm=b.jp_tm,
            summary=b.summary,
        )
        for apos, a in enumerate(b.activities):
            plugin = registry.get(a.type) if registry is not None else None
            default_rule = plugin.completion_rules[0] if plugin is not None else "viewed"
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
                    completion=a.completion or default_rule,
                    due_day=a.due_day,
                    settings=a.settings,
                )
            )
        module.blocks.append(block)
    if source is not None and instance_path is not None:
        src = files_dir(source, spec.id)
        if src.is_dir():
            dest = installed_files_dir(instance_path, spec.id, spec.version)
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(src, dest)
    db.add(module)
    db.flush()
    return module, True
