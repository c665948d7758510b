"""Peak memory and time of a worker handling the worst photo uploads it accepts, and the bomb it refuses.

    .venv/bin/python bench/image_upload_memory.py [--budget 40000000] [--decoded-mb 120]

Each case runs in a fresh subprocess (a worker: the app, a SQLite database, one API token) that posts one
file to ``POST /api/v1/assignments/<id>/evidence`` through the Flask test client, exactly as a phone
would, and reports the process's peak RSS (``VmHWM``) before and after the request. The floor is a
64 × 48 JPEG posted by the same kind of process in the same run: what a worker costs anyway.
The photos are made in this (parent) process, so making them is not counted.
"""
import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MB = 300


def png_bomb(width=9400, height=9400) -> bytes:
    """The reviewer's 343 KB PNG: a real 9,400 × 9,400 RGB image of zeros, deflated."""
    import struct

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\0" * (width * 3 + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def dimensions(pixels: int) -> tuple[int, int]:
    """The largest 8:5 photo within ``pixels``."""
    height = int((pixels / (8 / 5)) ** 0.5)
    return pixels // height, height


def make_cases(budget: int, decoded_mb: int, folder: Path) -> dict:
    """The largest images each format may have, in every layout Pillow decodes differently."""
    from PIL import Image

    from campaign.evidence.images import DECODED_BYTES_PER_PIXEL

    def limit(image_format):
        per_pixel = DECODED_BYTES_PER_PIXEL.get(image_format)
        return budget if per_pixel is None else min(budget, decoded_mb * 1024 * 1024 // per_pixel)

    cases = {}

    def save(image, fmt, prefix, **options):
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        path = folder / f"{prefix}-{image.width}x{image.height}.{fmt.lower().replace('jpeg', 'jpg')}"
        path.write_bytes(buffer.getvalue())
        cases[path.name] = path

    def photo(size, mode="RGB"):
        gradient = Image.linear_gradient("L").resize(size)
        image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
        if mode == "RGBA":
            image.putalpha(gradient)
        return image

    save(Image.new("RGB", (64, 48), "red"), "JPEG", "floor")
    save(photo(dimensions(limit("JPEG"))), "JPEG", "rgb", quality=85)
    save(photo((budget // 1000, 1000)), "JPEG", "panorama", quality=85)
    save(photo(dimensions(limit("PNG"))), "PNG", "rgb")
    save(photo(dimensions(limit("PNG")), "RGBA"), "PNG", "rgba")
    save(photo(dimensions(limit("PNG"))).convert("P"), "PNG", "palette", transparency=0)
    save(photo(dimensions(limit("WEBP"))), "WEBP", "rgb", quality=60, method=0)
    save(photo(dimensions(limit("WEBP") * 2)), "WEBP", "over", quality=60, method=0)
    path = folder / "bomb-9400x9400.png"
    path.write_bytes(png_bomb())
    cases[path.name] = path
    return cases


def peak_rss_mb() -> float:
    """VmHWM: this process's own peak (ru_maxrss would include the parent's RSS at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(path: Path, budget: int, decoded_mb: int):
    """One upload in this process; prints JSON with the peak RSS before and after, and the time."""
    from campaign import create_app
    from campaign.api.services import create_token
    from campaign.campaigns.models import Assignment
    from campaign.extensions import db
    from tests.factories import make_campaign, make_task, make_tree, make_user

    scratch = Path(tempfile.mkdtemp(prefix="image-bench-"))
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch / 'db.sqlite3'}",
                      "UPLOAD_DIR": str(scratch / "uploads"), "MAX_IMAGE_PIXELS": budget,
                      "MAX_IMAGE_DECODED_MB": decoded_mb})
    with app.app_context():
        db.create_all()
        tree = make_tree()
        reporter = make_user(role="village_reporter", unit=tree.village_a1, username="reporter")
        task = make_task(make_campaign(tree.county, status="active"))
        assignment = Assignment(campaign_id=task.campaign.id, task_id=task.id, unit_id=tree.village_a1.id)
        db.session.add(assignment)
        db.session.flush()
        _, token = create_token(reporter, "bench")
        db.session.commit()
        assignment_id = assignment.id
    data = path.read_bytes()
    client = app.test_client()
    before = peak_rss_mb()
    started = time.perf_counter()
    response = client.post(f"/api/v1/assignments/{assignment_id}/evidence",
                           headers={"Authorization": f"Bearer {token}"},
                           data={"files": (io.BytesIO(data), path.name)}, content_type="multipart/form-data")
    seconds = time.perf_counter() - started
    after = peak_rss_mb()
    body = response.get_json()
    print(json.dumps({"status": response.status_code, "code": (body.get("error") or {}).get("code"),
                      "before_mb": round(before), "peak_mb": round(after), "seconds": round(seconds, 2),
                      "file_kb": round(len(data) / 1024)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=40_000_000, help="MAX_IMAGE_PIXELS")
    parser.add_argument("--decoded-mb", type=int, default=120, help="MAX_IMAGE_DECODED_MB")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        worker(Path(arguments.worker), arguments.budget, arguments.decoded_mb)
        return
    folder = Path(tempfile.mkdtemp(prefix="image-bench-files-"))
    cases = make_cases(arguments.budget, arguments.decoded_mb, folder)
    print(f"budget {arguments.budget:,} pixels, {arguments.decoded_mb} MB decoded; target peak RSS <= {TARGET_MB} MB per worker")
    print(f"{'file':30} {'KB':>7} {'status':>6} {'code':16} {'RSS before':>10} {'peak RSS':>9} "
          f"{'added':>6} {'x floor':>7} {'seconds':>8}")
    floor = None
    worst_accepted = 0
    for name, path in cases.items():
        output = subprocess.run([sys.executable, __file__, "--worker", str(path), "--budget", str(arguments.budget),
                                 "--decoded-mb", str(arguments.decoded_mb)],
                                capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if output.returncode:
            print(name, "failed:", output.stderr[-2000:])
            continue
        result = json.loads(output.stdout.strip().splitlines()[-1])
        floor = floor or result["peak_mb"]
        if result["status"] == 201:
            worst_accepted = max(worst_accepted, result["peak_mb"])
        print(f"{name:30} {result['file_kb']:>7} {result['status']:>6} {result['code'] or '':16} "
              f"{result['before_mb']:>10} {result['peak_mb']:>9} {result['peak_mb'] - result['before_mb']:>6} "
              f"{result['peak_mb'] / floor:>7.2f} {result['seconds']:>8}")
    print(f"worst accepted upload: peak RSS {worst_accepted} MB (floor {floor} MB, target {TARGET_MB} MB): "
          f"{'OK' if worst_accepted <= TARGET_MB else 'OVER'}")


if __name__ == "__main__":
    main()
