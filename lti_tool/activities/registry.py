"""Discover activity plugins through the `lti_tool.activities` entry-point group.

Duplicate names are refused and a plugin that cannot be imported or does not
fulfil the contract stops start-up with a message naming it: a half-loaded set of
activity types would silently break courses.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from lti_tool.activities.base import ActivityType

GROUP = "lti_tool.activities"


class PluginError(RuntimeError):
    """A plugin that cannot be used; the message names it."""


class ActivityRegistry:
    """The activity types available to this installation, by name."""

    def __init__(self, types: Iterable[type[ActivityType]] = ()) -> None:
        self._types: dict[str, type[ActivityType]] = {}
        for t in types:
            self.add(t)

    def add(self, plugin: type[ActivityType], source: str = "") -> None:
        where = f" ({source})" if source else ""
        if not (isinstance(plugin, type) and issubclass(plugin, ActivityType)):
            raise PluginError(f"{plugin!r}{where} is not an ActivityType subclass")
        try:
            plugin.check()
        except TypeError as exc:
            raise PluginError(f"broken activity plugin{where}: {exc}") from exc
        if plugin.name in self._types:
            other = self._types[plugin.name]
            raise PluginError(
                f"two plugins provide the activity type {plugin.name!r}: "
                f"{other.__module__}.{other.__qualname__} and "
                f"{plugin.__module__}.{plugin.__qualname__}{where}"
            )
        self._types[plugin.name] = plugin

    @classmethod
    def discover(cls, eps: Iterable[EntryPoint] | None = None) -> ActivityRegistry:
        """Load every plugin published under the entry-point group."""
        registry = cls()
        for ep in eps if eps is not None else entry_points(group=GROUP):
            try:
                plugin = ep.load()
            except Exception as exc:  # any import failure of a plugin is fatal
                raise PluginError(
                    f"activity plugin {ep.name!r} ({ep.value}) failed to load: {exc}"
                ) from exc
            if getattr(plugin, "name", None) != ep.name:
                raise PluginError(
                    f"entry point {ep.name!r} ({ep.value}) provides a type named "
                    f"{getattr(plugin, 'name', None)!r}: the names must match"
                )
            registry.add(plugin, source=ep.value)
        return registry

    def names(self) -> set[str]:
        return set(self._types)

    def get(self, name: str) -> type[ActivityType] | None:
        return self._types.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self):
        return iter(self._types.values())
