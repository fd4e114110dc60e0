"""The inspector dock: a form generated from the selected node's config schema,
its common settings, and the workflow's own fields when nothing is selected."""
