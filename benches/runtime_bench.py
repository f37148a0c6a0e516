"""The Python pipeline of benches/runtime.rs: ffmpeg decode, numpy letterbox, onnxruntime with
the reference memory, postprocess.py (post-processing, assembly, id map). Prints one JSON line.

    .venv/bin/python benches/runtime_bench.py VIDEO MODEL THREADS
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from ifa_train import postprocess as pp  # noqa: E402


def taps(dst: int, src: int):
    s = np.clip((np.arange(dst) + 0.5) * (src / dst) - 0.5, 0, src - 1)
    i0 = np.floor(s).astype(np.int64)
    return i0, np.minimum(i0 + 1, src - 1), (s - i0).astype(np.float32)


def main() -> int:
    video, model, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    in_h, in_w = json.loads(meta["ifa.input_size"])
    mean, std = np.array(json.loads(meta["ifa.mean"]), np.float32), np.array(json.loads(meta["ifa.std"]), np.float32)
    refs, post = json.loads(meta["ifa.refs"]), json.loads(meta["ifa.post"])
    classes = json.loads(meta["ifa.classes"])
    stride = int(json.loads(meta.get("ifa.head_stride", "4")))
    c16, c32 = sess.get_inputs()[1].shape[1], sess.get_inputs()[2].shape[1]
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", video],
        capture_output=True,
        text=True,
        check=True,
    )
    w, h = map(int, probe.stdout.strip().split(",")[:2])
    s = min(in_h / h, in_w / w)
    nh, nw = min(in_h, max(1, round(h * s))), min(in_w, max(1, round(w * s)))
    y0, y1, wy = taps(nh, h)
    x0, x1, wx = taps(nw, w)
    wy, wx = wy[:, None, None], wx[None, :, None]
    asm = pp.Assembler(post, refs, len(classes), stride)
    mapper = pp.IdMapper(
        h,
        w,
        nh,
        nw,
        in_h // stride,
        in_w // stride,
        post.get("edge_sigma", 0.0),
        stride,
        refine_radius=post.get("refine_radius", 0.0),
        refine_eps=post.get("refine_eps", 1e-3),
    )
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-i", video, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], stdout=subprocess.PIPE)
    times = dict(decode=0.0, preprocess=0.0, inference=0.0, postprocess=0.0, render=0.0)
    memory: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    n = 0
    start = time.perf_counter()
    image = np.zeros((1, 3, in_h, in_w), np.float32)
    while True:
        t0 = time.perf_counter()
        buf = proc.stdout.read(w * h * 3)
        if len(buf) < w * h * 3:
            break
        frame = np.frombuffer(buf, np.uint8).reshape(h, w, 3).astype(np.float32)
        t1 = time.perf_counter()
        top = frame[y0][:, x0] * (1 - wx) + frame[y0][:, x1] * wx
        bot = frame[y1][:, x0] * (1 - wx) + frame[y1][:, x1] * wx
        res = top * (1 - wy) + bot * wy
        image[:] = 0
        image[0, :, :nh, :nw] = ((res / 255.0 - mean) / std).transpose(2, 0, 1)
        t2 = time.perf_counter()
        rf = pp.reference_frames(n, refs)
        if rf:
            r16 = np.concatenate([memory[r][0] for r in rf])
            r32 = np.concatenate([memory[r][1] for r in rf])
        else:
            r16 = np.zeros((1, c16, in_h // 16, in_w // 16), np.float32)
            r32 = np.zeros((1, c32, in_h // 32, in_w // 32), np.float32)
        sem, cen, off, inter, f16, f32 = sess.run(None, {"image": image, "ref_feat16": r16, "ref_feat32": r32})
        memory[n] = (f16, f32)
        keep = pp.retain_from(n, refs)
        memory = {f: v for f, v in memory.items() if f >= keep or (refs["first_frame"] and f == 0)}
        t3 = time.perf_counter()
        _, _, soft = asm.step(n, rf, sem[0], cen[0, 0], off[0], inter)
        t4 = time.perf_counter()
        mapper.render(soft, frame)
        t5 = time.perf_counter()
        for k, a, b in (("decode", t0, t1), ("preprocess", t1, t2), ("inference", t2, t3), ("postprocess", t3, t4), ("render", t4, t5)):
            times[k] += b - a
        n += 1
    wall = time.perf_counter() - start
    proc.wait()
    print(json.dumps({"frames": n, "wall": wall, "tracks": len(asm.tracker.tracks), **{k: v / max(n, 1) * 1000 for k, v in times.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
