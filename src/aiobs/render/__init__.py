"""Renderers: a Summary in, text out. Log content is escaped for each medium."""
