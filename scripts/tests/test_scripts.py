"""Tests of the Python helpers that the shell scripts call (scripts/*.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SCRIPTS))

import ablation_json  # noqa: E402
import frame_log_table  # noqa: E402
import set_post  # noqa: E402


def test_videos_merge_refs_and_row(tmp_path):
    gt = {"videos": [{"id": 3, "file_names": ["std_s1_00002/00000.jpg"]}, {"id": 1, "file_names": ["a/00000.jpg", "a/00001.jpg"]}]}
    assert ablation_json.videos(gt) == [(3, "std_s1_00002"), (1, "a")]
    assert ablation_json.merge([[{"a": 1}], [], [{"b": 2}, {"c": 3}]]) == [{"a": 1}, {"b": 2}, {"c": 3}]
    assert ablation_json.refs_used({"refs": {"count": 2, "first_frame": True}}) == 2
    metrics = {"AP": 0.1334, "AP50": 0.25, "AP75": -1.0, "AR1": 0.0, "AR10": 1.0}
    assert ablation_json.row(metrics, "val", "flow", "4") == "| val | flow | 4 | 13.3 | 25.0 | - | 0.0 | 100.0 |"


def test_command_line_merges_atomically(tmp_path):
    parts = []
    for i in range(3):
        p = tmp_path / f"p{i}.json"
        p.write_text(json.dumps([{"video_id": i}]))
        parts.append(str(p))
    out = tmp_path / "merged.json"
    run = subprocess.run([sys.executable, str(SCRIPTS / "ablation_json.py"), "merge", str(out), *parts], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text()) == [{"video_id": 0}, {"video_id": 1}, {"video_id": 2}]
    assert not (tmp_path / "merged.json.tmp").exists()
    bad = subprocess.run([sys.executable, str(SCRIPTS / "ablation_json.py"), "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2


def test_post_patch_replaces_known_keys_only():
    post = '{"center_threshold": 0.1, "nms_kernel": 7, "top_k": 32}'
    assert json.loads(set_post.patched_post(post, {"nms_kernel": 5})) == {"center_threshold": 0.1, "nms_kernel": 5, "top_k": 32}
    with pytest.raises(SystemExit, match="no nms"):
        set_post.patched_post(post, {"nms": 5})
    # Keys the contract makes optional may be added.
    assert json.loads(set_post.patched_post(post, {"match_first_frame": False}))["match_first_frame"] is False


def test_frame_log_table_phases():
    # 1 s of start-up (left out), then 5 frames while processing (10 -> 30 of 40 frames), then 3 after.
    lines = ["0.5 16 0 0", "2.5 10 1 10", "3.0 20 2 15", "3.5 30 3 20", "4.0 40 4 25", "4.5 50 5 30", "5.0 12 6 40", "5.5 14 7 40", "6.0 16 8 40", ""]
    table = frame_log_table.table(frame_log_table.parse(lines), total=40)
    assert table[:2] == frame_log_table.HEADER
    # 5 frames over 2 s; median 30 ms, p90 the 4th of 5 sorted (int(4.5) = 4: 50 ms); 20 frames processed in 2 s.
    assert table[2] == "| while inference runs | 5 | 2.0 | 2.5 | 30.0 | 50.0 | 10.0 |"
    assert table[3] == "| after processing | 3 | 1.0 | 3.0 | 14.0 | 16.0 | - |"
    assert frame_log_table.table([], total=1)[2] == "| while inference runs | 0 | - | - | - | - | - |"
