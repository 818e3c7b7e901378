"""The one-story FER corpus of tests/test_fer_warehouse.py, written in tmp, and its warehouse
(shared by the session as the `fer_warehouse` fixture of tests/conftest.py).

The story references four master media files: an astronaut video (generated, 60 frames at
30 fps, faces in frames 0-23 and 30-53), a zero-length file, a file that is not in the
folder, and (in view slave1) a file the master run must ignore.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from click.testing import Result
from typer.testing import CliRunner

from cli import app
from signaffect.fer_engine.synthetic import write_test_video

N_FRAMES = 60
FACELESS = {i for i in range(N_FRAMES) if i % 30 >= 24}  # synthetic.default_absent

# Utterance 1 starts on a video-frame boundary (100 ms = frame 3), utterance 2 at SignStream's
# truncated start of frame 31 (1033 ms, which lies in frame 30); 3 and 4 show unusable media.
STORY_XML = """\
<SIGNSTREAM-DATABASE DATABASE-VERSION="1.1" SIGNSTREAM-VERSION="2" SOURCE="">
<DISTRIBUTOR>SignAffect tests.</DISTRIBUTOR>
<AUTHOR>Invented for tests/test_fer_warehouse.py.</AUTHOR>
<PARTICIPANTS>
<PARTICIPANT AGE="41" GENDER="female" ID="0" LABEL="Riley" LANGUAGE="ASL" NAME="Riley Okafor">
<BACKGROUND></BACKGROUND>
</PARTICIPANT>
</PARTICIPANTS>
<CODING-SCHEME>
<FIELD CONSTRAINT="free-text" ID="10" LABEL="eye brows" NAME="eye brows">
<VALUE ID="2" LABEL="raised" NAME="raised"/>
<VALUE ID="3" LABEL="lwrd" NAME="lowered"/>
<VALUE ID="400000" NAME="HOLD"/>
<VALUE ID="400001" NAME="ONSET"/>
<VALUE ID="400002" NAME="OFFSET"/>
</FIELD>
<FIELD CONSTRAINT="free-text" ID="10000" LABEL="main gloss" NAME="main gloss">
<VALUE ID="400000" NAME="HOLD"/>
<VALUE ID="400001" NAME="ONSET"/>
<VALUE ID="400002" NAME="OFFSET"/>
</FIELD>
<FIELD CONSTRAINT="free-text" ID="20001" LABEL="english" NAME="English translation">
<VALUE ID="400000" NAME="HOLD"/>
<VALUE ID="400001" NAME="ONSET"/>
<VALUE ID="400002" NAME="OFFSET"/>
</FIELD>
</CODING-SCHEME>
<MEDIA-FILES>
<MEDIA-FILE ID="1" LEGACY-PATH="T:master:astro_master.avi"/>
<MEDIA-FILE ID="2" LEGACY-PATH="T:master:broken_master.avi"/>
<MEDIA-FILE ID="3" LEGACY-PATH="T:master:gone_master.avi"/>
<MEDIA-FILE ID="4" LEGACY-PATH="T:slave1:astro_slave1.avi"/>
</MEDIA-FILES>
<UTTERANCES>
{utterances}
</UTTERANCES>
</SIGNSTREAM-DATABASE>
"""

UTTERANCE = """\
<UTTERANCE E="{e}" EXCERPT="HAPPY" ID="{uid}" S="{s}">
<NOTES></NOTES>
{refs}
<SEGMENT PARTICIPANT-ID="0" PRIMARY="true">
<TRACK FID="10">
<A E="{span}" S="0" VID="2"/>
</TRACK>
<TRACK FID="10000">
<A E="{span}" S="0">HAPPY</A>
</TRACK>
<TRACK FID="20001">
<A E="{span}" S="0">I am happy.</A>
</TRACK>
</SEGMENT>
</UTTERANCE>"""

UTTERANCES = [  # (id, S, E, media ids)
    (1, 100, 900, [1, 4]),
    (2, 1033, 1900, [1]),
    (3, 0, 500, [2]),
    (4, 0, 500, [3]),
]

runner = CliRunner()


@dataclass
class FerWarehouse:
    db: Path
    videos: Path
    first: Result
    second: Result


def invoke(db: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", str(db), "--quiet", *args])


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def write_astro_story(root: Path) -> tuple[Path, Path]:
    """The one-story corpus in `root/corpus` and its smiling master video in `root/videos`."""
    corpus = root / "corpus"
    corpus.mkdir()
    utterances = "\n".join(
        UTTERANCE.format(
            uid=uid, s=s, e=e, span=e - s, refs="\n".join(f'<MEDIA-REF ID="{m}"/>' for m in refs)
        )
        for uid, s, e, refs in UTTERANCES
    )
    (corpus / "astro-story.xml").write_text(STORY_XML.format(utterances=utterances))
    videos = root / "videos"
    videos.mkdir()
    write_test_video(videos / "astro_master.avi", n_frames=N_FRAMES)
    return corpus, videos


def fer_warehouse_at(root: Path) -> FerWarehouse:
    """Ingest the story (with the lexicons, for the ELAN export's label tiers), `fer`, build,
    and `fer` again (the warehouse is built: dbt runs), keeping both `fer` results."""
    corpus, videos = write_astro_story(root)
    (videos / "broken_master.avi").write_bytes(b"")
    (videos / "astro_slave1.avi").write_bytes(b"")  # slave1: must not be analysed
    db = root / "warehouse.duckdb"
    ingested = invoke(db, "ingest", str(corpus))
    assert ingested.exit_code == 0, ingested.output
    first = invoke(db, "fer", "--videos", str(videos))
    built = invoke(db, "build")
    assert built.exit_code == 0, built.output
    second = invoke(db, "fer", "--videos", str(videos))
    return FerWarehouse(db, videos, first, second)
