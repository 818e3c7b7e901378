"""Throughput of the face engine on one core, per frame, beside FER's, in one run.

Why: the face engine (MediaPipe Face Landmarker, IMAGE mode) runs on FER's engines and
chunks, so its cost per frame decides how a corpus is split over cores; and a run of both
engines decodes each frame once (a JointUnit), which should cost about the sum of the two
analyses, not two decodes more. Every runner works in a fresh subprocess pinned to one CPU
(os.sched_setaffinity) with single-threaded OpenCV and LiteRT; runners alternate (A B C D,
A B C D, ...) and the fastest repeat of each counts, so a busy machine slows all alike; the
CPU time per frame (time.process_time, all the subprocess's threads) is printed beside.

    python bench/bench_face.py                # 300 frames 640x480, 3 alternating repeats
    python bench/bench_face.py --frames 150 --repeat 2

The video is signaffect/fer_engine/synthetic.py's moving astronaut (20 % of frames without a
face). The baseline is FER exact on the same core in the same run; ratios are ms/frame over it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
RUNNERS = ("fer-exact", "fer-fast", "face", "fer-fast+face")
BASELINE = "fer-exact"


def run_one(runner: str, video: Path) -> dict:
    """One runner over the whole video as one work unit, threads=1 (a worker's core)."""
    from signaffect.face_engine.model import model_hash as face_model_hash
    from signaffect.face_engine.units import FaceUnit, JointUnit
    from signaffect.face_engine.video import FaceSettings
    from signaffect.fer_engine.detector_settings import DetectorSettings
    from signaffect.fer_engine.model import model_hash
    from signaffect.fer_engine.schema import VideoKey
    from signaffect.fer_engine.units import FerUnit, WorkUnit
    from signaffect.fer_engine.video import video_hash

    digest = video_hash(video)
    detector = DetectorSettings("exact" if runner == "fer-exact" else "fast")
    fer = FerUnit(str(video), VideoKey(digest, model_hash(), detector.canonical()), detector)
    settings = FaceSettings()
    face = FaceUnit(str(video), VideoKey(digest, face_model_hash(), settings.canonical()),
                    settings)
    units: dict[str, WorkUnit] = {"fer-exact": fer, "fer-fast": fer, "face": face,
                                  "fer-fast+face": JointUnit(fer, face)}
    unit = units[runner]
    started, cpu = time.perf_counter(), time.process_time()
    results = unit.analyse(threads=1)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert all(r.error is None and r.table is not None for r in results), results
    table = results[0].table
    assert table is not None
    n_frames = int(table.schema.metadata[b"n_frames"])
    return {"wall_s": wall, "cpu_s": cpu, "n_frames": n_frames,
            "parts_s": {type(r.unit).__name__: r.elapsed_s for r in results}}


def spawn(runner: str, video: Path, out: Path, cpu: int) -> dict:
    """Run one runner in a fresh interpreter pinned to `cpu` and read its JSON result."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=str(ROOT), GLOG_minloglevel="2")
    subprocess.run(
        [sys.executable, __file__, "--worker", runner, "--video", str(video), "--json",
         str(out), "--cpu", str(cpu)],
        check=True, env=env, stderr=subprocess.DEVNULL,
    )
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=RUNNERS, help=argparse.SUPPRESS)
    parser.add_argument("--video", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        os.sched_setaffinity(0, {args.cpu})
        args.json.write_text(json.dumps(run_one(args.worker, args.video)))
        return 0

    from signaffect.fer_engine.synthetic import write_test_video

    OUT.mkdir(exist_ok=True)
    video = write_test_video(OUT / f"face_bench_{args.frames}.avi", n_frames=args.frames)
    cpu = min(os.sched_getaffinity(0))
    load_before = os.getloadavg()[0]
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for runner in RUNNERS:
            result = spawn(runner, video, OUT / f"face_bench_{runner}.json", cpu)
            if runner not in best or result["wall_s"] < best[runner]["wall_s"]:
                best[runner] = result
    print(
        f"one core (cpu {cpu}), {args.frames} frames 640x480, fastest of {args.repeat} "
        f"alternating repeats; load average {load_before:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end (machine cores: {os.cpu_count()})"
    )
    base = best[BASELINE]["wall_s"] / best[BASELINE]["n_frames"]
    header = (f"{'runner':<14} {'ms/frame':>9} {'frames/s':>9} {'x fer-exact':>12} "
              f"{'CPU ms/frame':>13}")
    print(header)
    print("-" * len(header))
    for runner in RUNNERS:
        frames = best[runner]["n_frames"]
        per_frame = best[runner]["wall_s"] / frames
        print(f"{runner:<14} {1000 * per_frame:9.1f} {1 / per_frame:9.1f} "
              f"{per_frame / base:12.2f} {1000 * best[runner]['cpu_s'] / frames:13.1f}")
    joint = best["fer-fast+face"]
    parts = sum(best[r]["wall_s"] for r in ("fer-fast", "face"))
    print(f"fer-fast+face in one decode: {joint['wall_s']:.1f} s vs {parts:.1f} s for the two "
          f"runs apart ({joint['wall_s'] / parts:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
