"""CSR matrices to and from plain arrays (for ``.npz`` artifacts), checked on the way back in.

The checks matter because artifact bytes are untrusted: scipy does not verify that every column
index is in range, and a bad index would otherwise surface as a wrong answer or a crash at serving.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from limelight.errors import ValidationFailed
from limelight.recsys.base import require_array

__all__ = ["csr_from_arrays", "csr_to_arrays"]


def csr_to_arrays(prefix: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {
        f"{prefix}.indptr": matrix.indptr.astype(np.int64),
        f"{prefix}.indices": matrix.indices.astype(np.int32),
        f"{prefix}.data": matrix.data.astype(np.float32),
        f"{prefix}.shape": np.asarray(matrix.shape, np.int64),
    }


def csr_from_arrays(arrays: Mapping[str, np.ndarray], prefix: str) -> sp.csr_matrix:
    indptr = require_array(arrays, f"{prefix}.indptr", "i", 1).astype(np.int64)
    indices = require_array(arrays, f"{prefix}.indices", "i", 1).astype(np.int32)
    data = require_array(arrays, f"{prefix}.data", "f", 1).astype(np.float32)
    shape = require_array(arrays, f"{prefix}.shape", "i", 1)
    if shape.shape != (2,) or (shape < 0).any():
        raise ValidationFailed(f"{prefix}: bad shape")
    rows, cols = int(shape[0]), int(shape[1])
    nnz = indices.shape[0]
    if indptr.shape[0] != rows + 1 or indptr[0] != 0 or indptr[-1] != nnz or data.shape[0] != nnz:
        raise ValidationFailed(f"{prefix}: inconsistent CSR arrays")
    if (np.diff(indptr) < 0).any() or (nnz and (indices.min() < 0 or indices.max() >= cols)):
        raise ValidationFailed(f"{prefix}: CSR indices out of range")
    return sp.csr_matrix((data, indices, indptr), shape=(rows, cols))
