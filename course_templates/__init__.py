"""Course templates: the programme structures as validated YAML data files."""

from course_templates.loader import TemplateError, load_template, shipped_templates

__all__ = ["TemplateError", "load_template", "shipped_templates"]
