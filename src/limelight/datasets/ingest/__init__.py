"""Dataset ingest: read an upload, validate it against its kind, normalise it to Parquet, profile it.

Pure functions, no web, database or artifact store: the datasets service calls ``ingest`` with
the uploaded file and a destination path, then stores the file and the returned profile.

    result = ingest(upload.file, kind="interactions", filename=upload.filename,
                    content_type=upload.content_type, dest=tmp_dir / "data.parquet")
    table = read_normalized(tmp_dir / "data.parquet", columns=["user_id", "item_id"])
"""

from limelight.datasets.ingest.formats import FORMATS, detect_format
from limelight.datasets.ingest.kinds import kind_names, kinds
from limelight.datasets.ingest.normalized import iter_normalized, normalized_info, read_normalized
from limelight.datasets.ingest.options import ColumnInfo, IngestOptions, IngestResult
from limelight.datasets.ingest.pipeline import ingest
from limelight.datasets.ingest.problems import Reason

__all__ = [
    "FORMATS",
    "ColumnInfo",
    "IngestOptions",
    "IngestResult",
    "Reason",
    "detect_format",
    "ingest",
    "iter_normalized",
    "kind_names",
    "kinds",
    "normalized_info",
    "read_normalized",
]
