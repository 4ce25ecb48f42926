"""The HTML pages, one module per area; each view parses, checks, calls a service or a
selector, and renders."""
