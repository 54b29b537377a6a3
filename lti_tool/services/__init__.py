"""Core services: plain functions over a SQLAlchemy session, usable from views and CLI."""
