"""LTI 1.3 tool for Guru Pembelajar moda daring and PLPG teacher-training programmes."""

from lti_tool.app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"
