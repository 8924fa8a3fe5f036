"""`live-avatar doctor` on this machine: every section is reported, problems come with a fix."""

from __future__ import annotations

from live_avatar.cli import main
from live_avatar.commands.doctor import check_checkpoints


def test_doctor_reports_every_section(capsys):
    status = main(["doctor"])
    out = capsys.readouterr().out
    for name in ("python", "torch", "mediapipe", "pyvirtualcam", "sounddevice", "torch / GPU",
                 "face models", "cameras", "virtual camera", "audio inputs"):
        assert f"] {name}" in out, name
    assert "[ ok ] face models" in out
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("[warn]", "[FAIL]")):
            assert lines[i + 1].strip().startswith("fix:"), line
    assert status in (0, 1) and (status == 1) == ("[FAIL]" in out)


def test_checkpoints_are_listed_with_size_and_hash(fixture_a, tmp_path):
    found = check_checkpoints(fixture_a)
    assert found and all(c.status == "ok" for c in found)
    assert any("checkpoint.pth.tar" in c.detail and "sha256" in c.detail for c in found)
    empty = check_checkpoints(tmp_path)
    assert empty[0].status == "warn" and "vox-cpk.pth.tar" in empty[0].fix
