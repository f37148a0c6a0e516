"""Writes refine.json: a frame, a blocky id map and the numpy twin's guided-filter refinement
of it (training/ifa_train/postprocess.py `refine_ids`), for tests/refine_parity.rs.

Run: .venv/bin/python tests/runtime_fixtures/make_refine.py
"""

import json
from pathlib import Path

import numpy as np

from ifa_train.postprocess import refine_ids

H, W, RADIUS, EPS = 60, 80, 4, 1e-3


def main() -> None:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:H, 0:W]
    # Background: a gradient with noise; a striped disc, a flat square touching it, a small bar.
    image = np.stack([40 + xx, 80 + yy, 150 - xx // 2], -1).astype(np.float64)
    disc = (xx - 25.3) ** 2 + (yy - 28.6) ** 2 <= 14.2**2
    image[disc] = np.where(((xx + yy) // 3 % 2 == 0)[disc, None], (220, 60, 40), (240, 150, 30))
    square = (xx >= 39) & (xx < 60) & (yy >= 18) & (yy < 40)
    image[square] = (30, 200, 90)
    bar = (xx >= 64) & (xx < 74) & (yy >= 46) & (yy < 50)
    image[bar] = (250, 250, 250)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    # The masks as 4x4 blocks whose centre is inside: edges off by up to two pixels.
    by, bx = (yy // 4) * 4 + 2, (xx // 4) * 4 + 2
    ids = np.zeros((H, W), np.uint32)
    ids[(bx - 25.3) ** 2 + (by - 28.6) ** 2 <= 14.2**2] = 3
    ids[(bx >= 39) & (bx < 60) & (by >= 18) & (by < 40)] = 7
    ids[(bx >= 64) & (bx < 74) & (by >= 46) & (by < 50)] = 12
    truth = np.zeros((H, W), np.uint32)
    truth[disc], truth[square], truth[bar] = 3, 7, 12
    out = refine_ids(ids, image, RADIUS, EPS)
    # A soft start: each pixel's best id and a weight that falls off across the blocks' edges
    # (the mask's 3x3 mean, kept where the id map or its neighbours hold the id).
    soft_lab = np.zeros((H, W), np.uint32)
    soft_w = np.zeros((H, W), np.float32)
    for k in (3, 7, 12):
        m = np.pad((ids == k).astype(np.float32), 1, mode="edge")
        mean = sum(m[dy : dy + H, dx : dx + W] for dy in range(3) for dx in range(3)) / 9.0
        take = mean > soft_w
        soft_lab[take], soft_w[take] = k, mean[take]
    out_soft = refine_ids(ids, image, RADIUS, EPS, (soft_lab, soft_w))
    doc = {
        "width": W,
        "height": H,
        "radius": RADIUS,
        "eps": EPS,
        "image": image.reshape(-1).tolist(),
        "ids": ids.reshape(-1).tolist(),
        "refined": out.reshape(-1).tolist(),
        "truth": truth.reshape(-1).tolist(),
        "soft_ids": soft_lab.reshape(-1).tolist(),
        "soft_weights": [float(v) for v in soft_w.reshape(-1)],
        "refined_soft": out_soft.reshape(-1).tolist(),
    }
    Path(__file__).with_name("refine.json").write_text(json.dumps(doc, separators=(",", ":")))
    changed = int((out != ids).sum())
    wrong = [int((ids != truth).sum()), int((out != truth).sum()), int((out_soft != truth).sum())]
    print(f"refine.json: {changed} of {H * W} pixels changed; pixels unlike the truth {wrong[0]} -> {wrong[1]} ({wrong[2]} from the soft start)")


if __name__ == "__main__":
    main()
