"""Inspecting run data: lazy JSON tree and table models, the raw view, the
error view and the output dock that puts them together."""
