"""The Ray Data adapter on a small local Ray instance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lmstudio_async.testing import ServerProcess

ray = pytest.importorskip("ray", reason="the ray extra is not installed")
pytest.importorskip("ray.data", reason="the ray extra (ray[data]) is not installed")

from lmstudio_async.batch.ray_data import LMStudioPredictor  # noqa: E402

LLAMA = "llama-3.2-1b-instruct"

# Ray starts slowly on a small shared machine: one instance for the module, generous time.
pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray"),
]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        yield
    finally:
        ray.shutdown()


def test_map_batches_sends_every_row_through_the_pool(
    local_ray: None, lmstudio_server_factory: Any
) -> None:
    servers = [lmstudio_server_factory() for _ in range(2)]
    rows = [{"id": i, "prompt": f"question {i}"} for i in range(24)]
    dataset = ray.data.from_items(rows).map_batches(
        LMStudioPredictor,
        fn_constructor_kwargs={
            "hosts": [s.api_host for s in servers],
            "model": LLAMA,
            "config": {"maxTokens": 4},
            "system": "Answer briefly.",
        },
        concurrency=1,
        batch_size=8,
    )
    out = sorted(dataset.take_all(), key=lambda row: row["id"])
    assert [row["id"] for row in out] == list(range(24))
    assert all(row["reply"] and row["error"] is None for row in out)
    assert {row["host"] for row in out} == {s.api_host for s in servers}


def test_a_missing_column_is_a_clear_error(lmstudio_server: ServerProcess) -> None:
    predictor = LMStudioPredictor([lmstudio_server.api_host], LLAMA)
    try:
        with pytest.raises(ValueError, match="no 'prompt' column"):
            predictor({"question": ["a"]})
        out = predictor({"prompt": ["a", "b"]})
        assert list(out["error"]) == [None, None] and all(out["reply"])
    finally:
        predictor._pool.close()
