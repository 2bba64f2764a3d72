"""All computation for the Deep Learning Playground.

Nothing in here imports streamlit, so every piece works from tests, the CLI,
notebooks and benchmarks. TensorFlow is imported lazily, inside the functions
that need it, so that importing ``core`` stays cheap (the home page must open
in well under five seconds and TensorFlow alone takes about eight).
"""

import os as _os

# TensorFlow's C++ start-up chatter (CUDA probes, CPU feature notes) is noise here.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# TensorFlow's oneDNN kernels take their buffers from a pool (a BFC allocator) that keeps what it
# grew to for reuse, so every training in the server left memory behind (issue 30; the memory tour
# in benchmarks/RESULTS.md). The kernels stay the same, at some CPU spent on allocating.
# Set it to 0 to keep the pool.
_os.environ.setdefault("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "1")
