"""Views: what a command shows, built once, medium-neutral, between the analysis and the writers.

The analysis (summary, metrics, pricing, quality) computes frames and records; `render/` writes them
to a terminal, Markdown, HTML. Between the two, a view decides *what* a table holds: its title, its
columns (each with a kind: label, count, percent, ms, usd, text), its rows as typed values (numbers
stay numbers, never preformatted strings) and its notes. Every writer formats and escapes the same
spec for its medium, so a table cannot say one thing in the terminal and another in the report.

Modules: `tables` (the TableSpec model), `cost` (spend by model per call; models aiobs could not price; the cost check),
`groups` (latency by model, route, stage or time bucket), `outliers` (one slow request as a typed
row, for `aiobs outliers` and the report), `trends` (the report's trend per day). The JSON documents,
which the other writers of their command read too, typed in `record_types`: `records` (`aiobs.summary/1`),
`outlier_records` (`aiobs.outliers/1`), `trace_records` (`aiobs.trace/1`).

Layering: views may import the analysis modules (summary, metrics, pricing, quality, redact), never
`render/` or `cli/`; `render/` imports views. Privacy is applied once, as the documents are built (the
summary's, the outliers', the trace's) or before the data reaches a view (the report's `Cleaner`); the
table views never redact.
"""
