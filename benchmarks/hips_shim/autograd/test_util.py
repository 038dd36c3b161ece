"""``check_grads`` and ``combo_check`` of the shim: the harness's check (_hips_core)."""

from _hips_core import check_grads, combo_check  # noqa: F401
