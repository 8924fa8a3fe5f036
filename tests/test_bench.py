"""`live-avatar bench` runs the real per-frame path and writes a JSON report with every field."""

from __future__ import annotations

import json

import pytest

from live_avatar.bench import STAGES
from live_avatar.cli import main


def _check_report(report: dict, frames: int) -> None:
    assert report["frames"] == frames
    assert set(report["stages"]) == set(STAGES)
    for figures in report["stages"].values():
        assert figures["samples"] == frames
        assert 0 <= figures["ms_median"] <= figures["ms_p95"]
    assert report["latency"]["ms_median"] > report["stages"]["animator"]["ms_median"]
    assert report["throughput_fps"] > 0
    assert report["peak_rss_mb"] > 50
    machine = report["machine"]
    for key in ("cpu", "cpu_count", "torch_threads", "torch", "device", "gpu"):
        assert key in machine
    assert machine["device"] == "cpu"


def test_bench_mesh_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--backend", "mesh", "--frames", "4", "--warmup", "1",
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    _check_report(report, 4)
    assert report["backend"] == "mesh"
    assert "synthetic" in report["driving"]
    assert "end-to-end" in capsys.readouterr().out


@pytest.mark.slow
def test_bench_fomm_random_weights_with_reference(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--backend", "fomm", "--checkpoint", str(tmp_path / "absent.pth.tar"),
                 "--frames", "2", "--warmup", "1", "--compare-reference",
                 "--reference-frames", "2", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    _check_report(report, 2)
    assert "random weights" in report["weights"]
    reference = report["reference"]
    assert reference["frames"] == 2
    assert reference["speedup"] > 0
    # the fast path computes the same frames as the original step
    assert reference["max_abs_diff"] < 1e-3
    printed = capsys.readouterr().out
    assert "random weights" in printed and "speed-up" in printed


def test_bench_missing_driving_video_is_a_user_error(tmp_path, capsys):
    assert main(["bench", "--driving", str(tmp_path / "nope.mp4"), "--frames", "1"]) == 2
    assert "nope.mp4" in capsys.readouterr().err
