"""The contract every activity type fulfils.

A plugin subclasses ActivityType and is published under the `lti_tool.activities`
entry-point group; its `name` is the activity `type` in course templates and the
prefix of its tables. It brings its own views (a blueprint: templates, static files,
the routes that accept submissions), migrations, translations and commands. Graded
types report scores to `grading/` (never to the LMS) and say what completion means.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class ActivityPage:
    """What a plugin needs to draw an activity: which activity, in which course, for whom."""

    activity: Any  # lti_tool.models.Activity
    module: Any  # lti_tool.models.CourseModule
    context_id: int
    user_id: int
    role: str
    files_dir: Path  # the installed template version's files
    instance_id: int | None = None  # the module's instance in this course


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActivityType:
    """Base class of activity plugins. The first line of the docstring is its title."""

    #: The activity `type` in templates; also the table prefix and Babel domain.
    name: ClassVar[str] = ""
    #: Whether it produces a score (and so may feed a score component).
    graded: ClassVar[bool] = False
    #: The pydantic model of the `settings` mapping of an activity in a template.
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    #: The completion rules it supports, the first being the default.
    completion_rules: ClassVar[tuple[str, ...]] = ("viewed",)

    #: A blueprint with the plugin's templates, static files and routes (optional).
    blueprint: ClassVar[Any] = None
    #: The plugin's Alembic versions folder (its own branch, labelled with its name).
    migrations_dir: ClassVar[Path | None] = None
    #: The plugin's Babel catalogs (`<dir>/<locale>/LC_MESSAGES/messages.po`), merged
    #: with the core's so its templates and code use the usual `_()`.
    translations_dir: ClassVar[Path | None] = None
    #: A click command or group added to `lti-tool` (e.g. `lti-tool questions`).
    cli: ClassVar[Any] = None
    #: Report kinds the plugin adds to the class reports (`lti_tool.reports.base.
    #: ReportKind` subclasses, e.g. the survey recaps), listed after the core's.
    report_kinds: ClassVar[tuple[Any, ...]] = ()

    @classmethod
    def render(cls, page: ActivityPage) -> str:
        """The HTML of the activity on its page (the core draws the frame around it)."""
        return ""

    @classmethod
    def on_view(cls, page: ActivityPage) -> str | None:
        """The completion event a peserta opening the page causes, if any."""
        return "viewed" if "viewed" in cls.completion_rules else None

    @classmethod
    def staff_url(cls, context_id: int, module_key: str, activity: Any) -> str | None:
        """Where staff review and grade this activity (linked from the class overview)."""
        return None

    @classmethod
    def review_url(
        cls, context_id: int, module_key: str, activity: Any, user_id: int
    ) -> str | None:
        """Where staff review one peserta's work in this activity (an LTI submission
        review launch from the LMS gradebook lands there); by default the staff page."""
        return cls.staff_url(context_id, module_key, activity)

    @classmethod
    def housekeeping(cls, db: Any, now: Any) -> dict[str, int]:
        """Periodic work (run by `lti-tool cleanup`); returns what was done, counted."""
        return {}

    @classmethod
    def check_template(cls, spec: Any, files_dir: Path) -> list[tuple[tuple, str]]:
        """Problems (location in the template, message) with how a course template uses
        this type that the settings model alone cannot see, e.g. the content of files."""
        return []

    @classmethod
    def regrade(cls, db: Any, context_pk: int, activity: Any, user_id: int) -> Any:
        """Recompute the user's score from what they submitted and report it to
        `grading/` (graded types); returns the score in percent, or None if none yet.
        Ungraded types have nothing to recompute; `check` refuses a graded type that
        does not override this."""
        return None

    @classmethod
    def demo_seed(cls, db: Any, inst: Any, activity: Any, user_ids: list[int], rng: Any) -> int:
        """Fill the plugin's own tables with plausible answers of `user_ids` (the peserta
        who completed `activity` in the demo class `inst`), for trials and benchmarks
        (`lti-tool demo seed`). Bulk inserts drawn from `rng` (a seeded random.Random);
        the caller commits. Returns the number of rows written; none by default."""
        return 0

    @classmethod
    def analysis_sections(cls, db: Any, inst: Any, rombel_ids: Any) -> list[Any]:
        """Charts with their tables for the class's analysis page
        (`lti_tool.analysis.sections.Section`), from this type's activities in `inst`;
        `rombel_ids` limits them to those rombel's peserta (None: the whole class).
        None by default."""
        return []

    @classmethod
    def title(cls) -> str:
        return (cls.__doc__ or cls.name).strip().splitlines()[0]

    @classmethod
    def check(cls) -> None:
        """Raise TypeError if the class does not fulfil the contract."""
        if not cls.name or not cls.name.isidentifier() or cls.name != cls.name.lower():
            raise TypeError(f"{cls.__qualname__}: `name` must be a lower-case identifier")
        if not (isinstance(cls.settings_model, type) and issubclass(cls.settings_model, BaseModel)):
            raise TypeError(f"{cls.__qualname__}: `settings_model` must be a pydantic model")
        if not cls.completion_rules:
            raise TypeError(f"{cls.__qualname__}: at least one completion rule is needed")
        allowed = {"viewed", "submitted", "passed", "graded"}
        if not set(cls.completion_rules) <= allowed:
            raise TypeError(f"{cls.__qualname__}: completion rules must be among {allowed}")
        if not cls.graded and set(cls.completion_rules) & {"passed", "graded"}:
            raise TypeError(f"{cls.__qualname__}: only graded types complete on a grade")
        if cls.graded and cls.regrade.__func__ is ActivityType.regrade.__func__:
            raise TypeError(f"{cls.__qualname__}: a graded type must implement regrade()")
        if cls.translations_dir is not None and not (cls.translations_dir / "id").is_dir():
            raise TypeError(f"{cls.__qualname__}: no Indonesian catalog in translations_dir")

    @classmethod
    def validate_settings(cls, settings: dict[str, Any]) -> BaseModel:
        """Parse an activity's settings; pydantic's ValidationError names the field."""
        return cls.settings_model.model_validate(settings)
