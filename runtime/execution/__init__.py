"""Running a plan: the executor, its steps' state, sources and edits, warm models, reports."""
