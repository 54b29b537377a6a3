"""Activity plugins, one package per activity type (Moodle `mod_*` style).

Each plugin is found through the `lti_tool.activities` entry point group and keeps
its models, views, templates, translations, migrations and tests in its package.
"""
