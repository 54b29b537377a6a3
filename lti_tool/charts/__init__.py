"""Server-rendered charts (inline SVG, no JavaScript, no fonts or files to fetch)."""
