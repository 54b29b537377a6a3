"""Downloads and batches prepared by the job queue ("your file is being prepared").

A class recap as CSV or XLSX, the class's certificates as a ZIP and "issue every
certificate" may take minutes for a large class: they are never made inside the web
request. The request validates what was asked, writes an `export_file` row and
enqueues `run_export` (lti_tool/jobs.py: RQ with Redis, a thread without), then
redirects to a status page that refreshes itself until the file is ready. The job
builds the file with the report writers or the certificate service into a temporary
file, copies it to the file storage (local folder or S3: any web process can serve it)
and marks the row ready; a failure is retried with backoff and, when it gives up, shown
on the status page (and in `lti-tool jobs failed`).

An identical request (same person, course, module, kind, format and filters) made while
one is queued or running gets that one back (a unique key held only while it is
active). A file is served only to the person who asked, in the course it was asked in,
while they still hold the role the request needed. Files older than EXPORT_KEEP_DAYS
are deleted by each finished export (a few at a time) and by `lti-tool cleanup`.
"""

from lti_tool.exports.service import (
    ACTIVE,
    CERT_ISSUE,
    CERT_ZIP,
    FAILED,
    QUEUED,
    READY,
    REKAP,
    RUNNING,
    ExportRefusedError,
    find,
    purge_expired,
    recent,
    request_export,
    run_export,
)

__all__ = [
    "ACTIVE",
    "CERT_ISSUE",
    "CERT_ZIP",
    "FAILED",
    "QUEUED",
    "READY",
    "REKAP",
    "RUNNING",
    "ExportRefusedError",
    "find",
    "purge_expired",
    "recent",
    "request_export",
    "run_export",
]
