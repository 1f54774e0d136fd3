"""Write a synthetic COCO instances JSON of the official structure (used by bench_coco_json.py)."""
from __future__ import annotations

import json
import random
from pathlib import Path

# 80 COCO category ids (non-contiguous, 1..90) with their names and supercategories.
_COCO_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28,
             31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
             56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84,
             85, 86, 87, 88, 89, 90]


def categories(names: list[str]) -> list[dict]:
    return [{"supercategory": "thing", "id": cid, "name": name} for cid, name in zip(_COCO_IDS, names)]


def write_instances(path: Path, names: list[str], num_images: int = 120_000, num_annotations: int = 860_000,
                    seed: int = 0, year: int = 2017) -> Path:
    """Stream a realistic instances file to ``path``: images, annotations (polygons, bbox, ~1% crowd RLE)."""
    rng = random.Random(seed)
    cats = categories(names)
    cat_ids = [c["id"] for c in cats]
    # Zipf-like category frequencies (person dominates, as in COCO).
    weights = [1.0 / (r + 1) ** 0.9 for r in range(len(cat_ids))]
    image_ids = rng.sample(range(1, 600_000), num_images)
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"info": {"description": "COCO %d Dataset (synthetic)", "version": "1.0", "year": %d}, '
                  % (year, year))
        out.write('"licenses": [{"url": "http://creativecommons.org/licenses/by/2.0/", "id": 4, '
                  '"name": "Attribution License"}], "images": [')
        for k, iid in enumerate(image_ids):
            w, h = rng.choice([(640, 480), (640, 427), (500, 375), (480, 640)])
            out.write(("," if k else "") + json.dumps({
                "license": rng.randint(1, 8), "file_name": f"{iid:012d}.jpg",
                "coco_url": f"http://images.cocodataset.org/train{year}/{iid:012d}.jpg",
                "height": h, "width": w, "date_captured": "2013-11-14 11:18:45",
                "flickr_url": f"http://farm4.staticflickr.com/1/{iid}_abcdef.jpg", "id": iid}))
        out.write('], "annotations": [')
        # ~1.3% of images get no annotation, like the real train sets.
        annotated = image_ids[: int(num_images * 0.987)]
        chunk = []
        for aid in range(1, num_annotations + 1):
            iid = annotated[aid % len(annotated)] if aid <= len(annotated) else rng.choice(annotated)
            cid = rng.choices(cat_ids, weights)[0]
            x, y = rng.uniform(0, 500), rng.uniform(0, 350)
            bw, bh = rng.uniform(2, 140), rng.uniform(2, 120)
            crowd = rng.random() < 0.01
            if crowd:
                seg = {"counts": [rng.randint(0, 400) for _ in range(rng.randint(40, 160))], "size": [480, 640]}
            else:
                npts = rng.randint(6, 40)
                seg = [[round(rng.uniform(x, x + bw) if i % 2 == 0 else rng.uniform(y, y + bh), 2)
                        for i in range(2 * npts)]]
            chunk.append(json.dumps({
                "segmentation": seg, "area": round(bw * bh * 0.6, 4), "iscrowd": int(crowd),
                "image_id": iid, "bbox": [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)],
                "category_id": cid, "id": aid}))
            if len(chunk) == 10_000:
                out.write(("," if aid > len(chunk) else "") + ",".join(chunk))
                chunk = []
        if chunk:
            out.write(("," if num_annotations > len(chunk) else "") + ",".join(chunk))
        out.write('], "categories": ' + json.dumps(cats) + "}")
    return path
