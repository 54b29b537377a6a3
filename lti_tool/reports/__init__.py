"""Reports (rekap) of a class: kinds, filters, the file writers.

`base` defines a report kind and its filters, `kinds` holds the core's kinds (plugins
add theirs through `ActivityType.report_kinds`), `query` and `gradecalc` the SQL that
streams a class of any size, `writers` the CSV and XLSX files.
"""
