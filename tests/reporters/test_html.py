"""The HTML scorecard: well formed, self-contained, escaped, and a drill-down that shows
exactly the findings the scorecard kept, grouped by code with the exact counts."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import posixpath
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pytest

from conformance.reporters.base import RenderOptions
from conformance.reporters.html import HtmlReporter, render_scorecard, scorecard_context
from conformance.reporters.htmlkit import environment, render_page, static_text
from conformance.scorecard import score
from tests.reporters.htmlcheck import Node, parse

DATA = Path(__file__).parent / "data"
CARDS = ("nonconformant", "qop-failing", "single")
HOSTILE = '<script>alert("x")</script>'


def card(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def render(data: dict[str, Any]) -> str:
    return HtmlReporter().render(data, RenderOptions())


# ------------------------------------------------------------------ structure


def test_checker_rejects_bad_html() -> None:
    for bad in (
        "<!DOCTYPE html><div><span></div>",
        "<!DOCTYPE html><p>open",
        "<html><body></body></html>",
        '<!DOCTYPE html><a href="#nowhere">x</a>',
        '<!DOCTYPE html><b id="a"></b><i id="a"></i>',
        '<!DOCTYPE html><b class="a" class="b"></b>',
    ):
        with pytest.raises(AssertionError):
            parse(bad)


@pytest.mark.parametrize("name", CARDS)
def test_scorecard_is_well_formed(name: str) -> None:
    root = parse(render(card(name)))
    assert root.find("html").attrs["lang"] == "en-GB"
    assert len(root.find_all("h1")) == 1


def test_html_is_self_contained_and_accessible() -> None:
    data = card("qop-failing")
    text = render(data)
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(" not in text
    root = parse(text)
    headings = {h.text() for h in root.find_all("h2")}
    assert {
        "Result",
        "Scores by domain",
        "How the score is computed",
        "Requirements",
        "Findings by code",
        "Feed",
    } <= headings
    assert "@media print" in text and "size:A4" in text
    assert "@media (max-width:640px)" in text
    for req in data["requirements"]:
        assert root.find("details", id=f"req-{req['id']}")
    # status in words and symbols, not colour alone
    assert "◐</span> Partial" in text and "✓</span> Pass" in text
    assert "Not conformant" in text and f"{data['score']:.1f}" in text
    assert root.find("svg", role="img").attrs["aria-label"].startswith("Interoperability score")


def test_the_only_script_is_the_filter_allowed_by_its_hash() -> None:
    text = render(card("qop-failing"))
    root = parse(text)
    scripts = root.find_all("script")
    assert len(scripts) == 1 and "src" not in scripts[0].attrs
    code = "".join(c for c in scripts[0].children if isinstance(c, str))
    assert code == static_text("filter.js")
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    csp = root.find("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"]
    assert csp is not None
    assert "default-src 'none'" in csp and f"script-src 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1]


def test_usable_without_scripts() -> None:
    """The filter is hidden until the script shows it; the drill-down is plain <details>."""
    root = parse(render(card("qop-failing")))
    form = root.find("form", id="filter")
    assert "hidden" in form.attrs
    assert root.find_all("details", cls="req")
    assert all(d.find_all("summary") for d in root.find_all("details", cls="req"))


# ------------------------------------------------------------------ escaping and templates


def hostile_card() -> dict[str, Any]:
    data = card("qop-failing")
    f = data["findings"][0]
    f["message"] = HOSTILE
    f["code"] = HOSTILE
    f["location"] = {"file": HOSTILE, "line": 3, "expression": HOSTILE}
    f["resource_type"], f["resource_id"] = HOSTILE, HOSTILE
    data["requirements"][0]["title"] = HOSTILE
    data["requirements"][0]["note"] = HOSTILE
    data["domains"][0]["title"] = HOSTILE
    data["feed"].update(ics=HOSTILE, sender=HOSTILE, id=HOSTILE, manifest=HOSTILE)
    data["standard"]["title"] = HOSTILE
    data["inputs"][0]["file"] = HOSTILE
    data["inputs"][0]["sha256"] = HOSTILE
    data["plugins"]["failures"] = [{"plugin": HOSTILE, "hook": HOSTILE, "error": HOSTILE}]
    data["input_problems"] = {HOSTILE: {HOSTILE: 1}}
    data["run"]["started"] = HOSTILE
    return data


def test_every_feed_value_is_escaped() -> None:
    text = render(hostile_card())
    parse(text)
    assert text.count("<script") == 1  # the page's own filter script, nothing else
    assert text.count("</script>") == 1 and text.rstrip().endswith("</html>")
    assert text.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 15
    assert 'alert("x")' not in text


def test_templates_never_mark_values_safe() -> None:
    folder = resources.files("conformance.reporters").joinpath("templates")
    templates = [p for p in folder.iterdir() if p.name.endswith(".j2")]
    assert {p.name for p in templates} >= {"page.html.j2", "macros.html.j2", "scorecard.html.j2"}
    for path in templates:
        source = path.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source
        environment().get_template(path.name)  # every template compiles


def test_strict_undefined_fails_on_a_missing_name() -> None:
    env = environment()
    assert env.undefined is jinja2.StrictUndefined and env.autoescape is True
    context = scorecard_context(card("single"))
    del context["who"]
    with pytest.raises(jinja2.UndefinedError, match="who"):
        render_page("scorecard.html.j2", title="t", css=("page.css",), back=None, **context)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ card.standrad.id }}").render(card=card("single"))


def test_html_marks_an_interrupted_run() -> None:
    data = card("nonconformant")
    data["complete"] = False
    data["verdict"] = "Incomplete"
    root = parse(render(data))
    assert "The run was interrupted" in root.find("section", cls="alert").text()


# ------------------------------------------------------------------ drill-down


def location(loc: dict[str, Any], root: str) -> str:
    file = str(loc.get("file", "<feed>"))
    file = file[len(root) + 1 :] if root and file.startswith(root + "/") else file
    return (
        file
        + (f":{loc['line']}" if "line" in loc else "")
        + (f" row {loc['row']}" if "row" in loc else "")
        + (f" entry[{loc['entry']}]" if "entry" in loc else "")
    )


def shown_groups(details: Node) -> dict[str, tuple[str, list[tuple[str, ...]]]]:
    """code -> (the group's heading, its rows as (severity, location, element, message))."""
    out = {}
    for group in details.find_all("div", cls="code-group"):
        rows = []
        for tr in group.find_all("tr", cls="finding"):
            cells = [td.text() for td in tr.find_all("td")]
            rows.append((str(tr.attrs["data-severity"]), *cells))
        out[str(group.attrs["data-code"])] = (group.find("h4").text(), rows)
    return out


@pytest.mark.parametrize("name", CARDS)
def test_drilldown_shows_every_kept_finding_grouped_by_code(name: str) -> None:
    data = card(name)
    root_folder = posixpath.commonpath([posixpath.dirname(i["file"]) for i in data["inputs"]])
    page = parse(render(data))
    lead = page.find("section", **{"aria-labelledby": "h-reqs"}).find("p", cls="lead")
    assert f"Files are named relative to {root_folder}." in lead.text()
    expected: dict[str, dict[str, list[tuple[str, ...]]]] = defaultdict(lambda: defaultdict(list))
    for f in data["findings"]:
        loc = f["location"]
        where = location(loc, root_folder)
        if f.get("resource_type"):
            where += f" {f['resource_type']}" + (
                f"/{f['resource_id']}" if f.get("resource_id") else ""
            )
        row = (
            f["severity"],
            f"{ {'error': '✗', 'warning': '!', 'information': 'i'}[f['severity']] } "
            + f["severity"].capitalize(),
            where,
            loc.get("expression", "\u2013"),
            f["message"],
        )
        expected[f["requirement"]][f["code"]].append(row)
    shown_total = 0
    for req in data["requirements"]:
        groups = shown_groups(page.find("details", id=f"req-{req['id']}"))
        counts = dict(req["codes"])
        # every counted code has a group, most frequent first; nothing else has one
        assert list(groups) == sorted(counts, key=lambda c: (-counts[c], c)), req["id"]
        for code, (heading, rows) in groups.items():
            want = expected[req["id"]].get(code, [])
            assert rows == want, (req["id"], code)
            shown_total += len(rows)
            n = counts[code]
            assert f"{n:,} finding{'s' if n != 1 else ''}" in heading
            assert (f"showing {len(rows)} of {n:,}" in heading) == (len(rows) < n), heading
        assert set(expected[req["id"]]) <= set(groups)
    assert shown_total == len(data["findings"])


def test_drilldown_says_when_examples_were_capped() -> None:
    data = card("qop-failing")
    page = parse(render(data))
    time01 = page.find("details", id="req-MDSS-TIME-01")
    heading, rows = shown_groups(time01)["last-updated-missing"]
    assert len(rows) == 5 and "showing 5 of 179" in heading
    assert "the run keeps the first 5 per requirement" in time01.text()
    assert "179 errors" in time01.text()


def test_findings_by_code_lists_every_code_with_exact_counts() -> None:
    data = card("qop-failing")
    page = parse(render(data))
    table = page.find("table", cls="codes")
    rows = [[td.text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    listed = {(r[1].split()[0], r[0]): int(r[3].replace(",", "")) for r in rows}
    assert listed == {
        (req["id"], code): n for req in data["requirements"] for code, n in req["codes"].items()
    }
    severities = [r[2] for r in rows]
    assert severities == sorted(severities, key=lambda s: "Error" not in s)  # errors first


def test_score_explanation_comes_from_the_scorecard_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = parse(render(card("single")))
    section = page.find("section", **{"aria-labelledby": "h-score"})
    for paragraph in score.score_explanation_paragraphs():
        assert " ".join(paragraph.split()) in section.text()
    monkeypatch.setattr(score, "SCORE_EXPLANATION", "First <b>rule</b>.\n\nSecond rule.")
    page = parse(render(card("single")))
    section = page.find("section", **{"aria-labelledby": "h-score"})
    assert [p.text() for p in section.find_all("p")] == ["First <b>rule</b>.", "Second rule."]


def test_back_link_for_a_scorecard_in_a_board_pack() -> None:
    from conformance.reporters.htmlkit import Link

    text = render_scorecard(card("single"), back=Link("../board.html", "Board pack"))
    link = parse(text).find("header").find("a")
    assert link.attrs["href"] == "../board.html" and "Board pack" in link.text()


def test_a_scorecard_without_optional_keys_renders() -> None:
    data = copy.deepcopy(card("single"))
    for key in ("summary", "feed", "plugins", "findings_kept_per_requirement"):
        data.pop(key, None)
    data["run"] = {}
    data["inputs"] = []
    root = parse(render(data))
    assert "none: the feed has no manifest.json" in root.text()
