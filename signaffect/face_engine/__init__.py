"""The face engine: per-frame face measures (landmarks, blendshapes, head pose and the
normalised brow, eye and mouth measures) from video with MediaPipe's Face Landmarker, or read
from a tracker's CSV. No DuckDB: ingest loads results into raw.face_frames."""
