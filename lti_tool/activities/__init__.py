"""Activity types are plugins (Moodle `mod_*` style): the contract and the registry."""

from lti_tool.activities.base import ActivityPage, ActivityType
from lti_tool.activities.registry import ActivityRegistry, PluginError

__all__ = ["ActivityPage", "ActivityRegistry", "ActivityType", "PluginError"]
