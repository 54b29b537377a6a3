"""Resumable uploads (tus 1.0.0): the protocol (`tus`), the uploads in progress
(`sessions`), what they are for (`targets`) and their hand-off to a plugin's form
(`handoff`). The page's side is lti_tool/static/upload.js."""
