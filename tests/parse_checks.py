"""What the three corpus parsers' tests share: writing a test file, the XML every parser
refuses, and the check that an error names the file and the element in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from signaffect.core.errors import InputFileError


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused_xml(good: str, root_tag: str, other_root: str = "OTHER") -> list[tuple[str, str, str]]:
    """(text, element, problem) of what every XML parser refuses: a truncated file, an empty
    one, entity expansion (billion laughs), an external entity, and another root element."""
    declaration = '<?xml version="1.0"?>\n'
    laughs = '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    external = '<!ENTITY lol2 SYSTEM "file:///etc/passwd">'
    body = f"<{root_tag}>&lol2;</{root_tag}>\n"
    return [
        (good[: len(good) // 2], "line", "malformed XML"),
        ("", "document", "empty"),
        (f"{declaration}<!DOCTYPE lolz [{laughs}]>\n{body}", "<!DOCTYPE>", "refused"),
        (f"{declaration}<!DOCTYPE foo [{external}]>\n{body}", "<!DOCTYPE>", "refused"),
        (f"<{other_root}/>", f"<{other_root}>", "root element"),
    ]


def assert_names_file_and_element(
    parse: Callable[[Path], object], path: Path, element: str, problem: str
) -> None:
    """`parse(path)` raises one `InputFileError` naming the file, `element` and `problem`."""
    with pytest.raises(InputFileError) as caught:
        parse(path)
    message = str(caught.value)
    assert path.name in message
    assert element in caught.value.element
    assert problem in caught.value.problem
    assert "\n" not in message
