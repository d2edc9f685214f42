"""The dump reader and MediaWiki's title rules, on dumps written here and on the shared excerpt."""

import bz2
import gzip
import re
from itertools import chain, pairwise

import pytest

from nerbert_hf.corpus.dump import (
    DISAMBIGUATION_TEMPLATES,
    DumpError,
    Page,
    bz2_stream_offsets,
    is_article,
    is_disambiguation,
    iter_pages,
    normalize_title,
    redirect_table,
    resolve,
    split_namespace,
)
from nerbert_hf.errors import NerbertError

EXCERPT = "wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
TABLES = "wikipedia/enwiki-table-markup.xml.bz2"


def page_xml(title, text, *, page_id=1, ns="0", redirect=None, revisions=1):
    redirect_tag = f'<redirect title="{redirect}" />' if redirect is not None else ""
    ns_tag = f"<ns>{ns}</ns>" if ns is not None else ""
    revs = "".join(
        f"<revision><id>{900 + r}</id><contributor><username>U</username><id>77</id></contributor>"
        f'<text xml:space="preserve">{text if r == revisions - 1 else "old text " + str(r)}</text></revision>'
        for r in range(revisions)
    )
    return f"  <page>\n    <title>{title}</title>\n    {ns_tag}\n    <id>{page_id}</id>\n    {redirect_tag}\n    {revs}\n  </page>\n"


def dump_xml(*pages, version="0.10", namespace=True):
    xmlns = f' xmlns="http://www.mediawiki.org/xml/export-{version}/"' if namespace else ""
    return (
        f'<mediawiki{xmlns} version="{version}" xml:lang="en">\n'
        "  <siteinfo><sitename>Wikipedia</sitename><namespaces>"
        '<namespace key="0" case="first-letter" /></namespaces></siteinfo>\n'
        + "".join(pages)
        + "</mediawiki>\n"
    )


def write(tmp_path, data, name="dump.xml"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


SAMPLE = dump_xml(
    page_xml("AT&amp;T", "'''AT&amp;T''' is a [[company]] &lt;ref&gt;x&lt;/ref&gt;", page_id=5),
    page_xml("ATT", "#REDIRECT [[AT&amp;T]]", page_id=6, redirect="AT&amp;T"),
    page_xml("Talk:AT&amp;T", "talk", page_id=7, ns="1"),
    page_xml("Foo_bar redirect", "#REDIRECT [[foo_bar#History]]", page_id=8, redirect="foo_bar#History"),
)


# ------------------------------------------------------------------ reading


def test_pages_fields_entities_and_ids(tmp_path):
    pages = list(iter_pages(write(tmp_path, SAMPLE)))
    assert [p.title for p in pages] == ["AT&T", "ATT", "Talk:AT&T", "Foo_bar redirect"]
    first = pages[0]
    # The page's own id, not the revision's (900) or the contributor's (77).
    assert (first.id, first.ns, first.redirect) == (5, 0, None)
    assert first.text == "'''AT&T''' is a [[company]] <ref>x</ref>"
    assert pages[1].redirect == "AT&T"
    assert pages[2].ns == 1
    assert pages[3].redirect == "Foo bar"  # normalised: underscores, first letter, fragment dropped
    assert [is_article(p) for p in pages] == [True, False, False, False]


@pytest.mark.parametrize("version", ["0.10", "0.11", "0.3"])
def test_schema_versions_and_no_namespace(tmp_path, version):
    xml = dump_xml(page_xml("A", "text a", page_id=1), page_xml("B", "text b", page_id=2), version=version)
    assert [(p.id, p.title, p.text) for p in iter_pages(write(tmp_path, xml))] == [(1, "A", "text a"), (2, "B", "text b")]
    bare = dump_xml(page_xml("A", "text a"), namespace=False)
    assert [p.title for p in iter_pages(write(tmp_path, bare, "bare.xml"))] == ["A"]


def test_old_schema_without_ns_and_redirect_tags(tmp_path):
    xml = dump_xml(
        page_xml("Category:Things", "cat", ns=None, page_id=1),
        page_xml("Old redirect", "#redirect: [[target_page]]", ns=None, page_id=2),
        page_xml("Article", "Body.", ns=None, page_id=3),
        version="0.3",
    )
    pages = list(iter_pages(write(tmp_path, xml)))
    assert [(p.ns, p.redirect) for p in pages] == [(14, None), (0, "Target page"), (0, None)]
    assert [is_article(p) for p in pages] == [False, False, True]


def test_history_dump_keeps_the_last_revision(tmp_path):
    xml = dump_xml(page_xml("A", "latest", revisions=3))
    assert [p.text for p in iter_pages(write(tmp_path, xml))] == ["latest"]


def test_missing_text_is_empty(tmp_path):
    xml = dump_xml('  <page><title>A</title><ns>0</ns><id>1</id><revision><id>2</id><text deleted="deleted" /></revision></page>\n')
    assert [p.text for p in iter_pages(write(tmp_path, xml))] == [""]


def test_bz2_single_and_multistream(tmp_path):
    xml = SAMPLE.encode("utf-8")
    plain = list(iter_pages(write(tmp_path, xml)))
    single = write(tmp_path, bz2.compress(xml), "single.xml.bz2")
    # Multistream: independent bz2 streams, concatenated. Cut at arbitrary bytes,
    # not only at page boundaries, to show the streams are read as one byte sequence.
    cuts = [0, 17, 200, 201, 450, len(xml)]
    multi = write(tmp_path, b"".join(bz2.compress(xml[a:b]) for a, b in pairwise(cuts)), "multi.bz2")
    assert list(iter_pages(single)) == plain
    assert list(iter_pages(multi)) == plain
    # The reader tells bz2 from XML by content, not by name.
    renamed = write(tmp_path, bz2.compress(xml), "no_extension")
    assert list(iter_pages(renamed)) == plain


def test_start_page_skips(tmp_path):
    path = write(tmp_path, SAMPLE)
    all_pages = list(iter_pages(path))
    assert list(iter_pages(path, start_page=2)) == all_pages[2:]
    assert list(iter_pages(path, start_page=10)) == []


def test_offsets_split_a_multistream_dump(tmp_path):
    xml = dump_xml(*(page_xml(f"P{i}", f"text {i}", page_id=i) for i in range(10))).encode()
    starts = [m.start() for m in re.finditer(rb"  <page>", xml)]
    # A header stream (<mediawiki>, <siteinfo>), streams of 3 pages, a footer stream.
    cuts = [0, starts[0], starts[3], starts[6], starts[9], xml.index(b"</mediawiki>"), len(xml)]
    streams = [bz2.compress(xml[a:b]) for a, b in pairwise(cuts)]
    path = write(tmp_path, b"".join(streams), "multi.xml.bz2")
    offsets = bz2_stream_offsets(path)
    assert offsets == [sum(map(len, streams[:i])) for i in range(len(streams))]
    everything = list(iter_pages(path))
    assert [p.id for p in everything] == list(range(10))
    # Three workers over adjacent ranges of streams: every page once, in order.
    ranges = [(0, offsets[2]), (offsets[2], offsets[4]), (offsets[4], None)]
    parts = [list(iter_pages(path, start_offset=a, stop_offset=b)) for a, b in ranges]
    assert [[p.id for p in part] for part in parts] == [[0, 1, 2], [3, 4, 5, 6, 7, 8], [9]]
    assert list(chain(*parts)) == everything
    with pytest.raises(DumpError, match=r"byte 5: start_offset is not the start of a bz2 stream"):
        list(iter_pages(path, start_offset=5))
    with pytest.raises(DumpError, match=r"stop_offset is not the end of a bz2 stream"):
        list(iter_pages(path, start_offset=offsets[1], stop_offset=offsets[2] - 10))


def test_offsets_in_plain_xml(tmp_path):
    xml = dump_xml(*(page_xml(f"P{i}", f"text {i}", page_id=i) for i in range(5)))
    path = write(tmp_path, xml)
    starts = [m.start() for m in re.finditer(rb"  <page>", xml.encode())]
    assert [p.id for p in iter_pages(path, start_offset=starts[2])] == [2, 3, 4]
    assert [p.id for p in iter_pages(path, stop_offset=starts[2])] == [0, 1]
    assert [p.id for p in iter_pages(path, start_offset=starts[1], stop_offset=starts[3])] == [1, 2]
    with pytest.raises(DumpError, match="malformed XML"):
        list(iter_pages(path, start_offset=starts[1] + 5))


def test_stopping_early_releases_the_reader(tmp_path):
    path = write(tmp_path, bz2.compress(SAMPLE.encode()), "d.bz2")
    pages = iter_pages(path)
    assert next(pages).title == "AT&T"
    pages.close()  # stops the decompression thread; must not hang or raise


# ------------------------------------------------------------------ errors


def test_errors_are_nerbert_errors(tmp_path):
    with pytest.raises(DumpError, match="cannot read file") as err:
        list(iter_pages(tmp_path / "missing.xml"))
    assert isinstance(err.value, NerbertError)
    with pytest.raises(DumpError, match="empty file"):
        list(iter_pages(write(tmp_path, b"")))


def test_not_a_mediawiki_export(tmp_path):
    path = write(tmp_path, "<?xml version='1.0'?>\n<html><body>hi</body></html>\n", "page.xml")
    with pytest.raises(DumpError, match=r"page\.xml: line 1: not a MediaWiki export: the root element is <html>"):
        list(iter_pages(path))


def test_not_xml_at_all(tmp_path):
    with pytest.raises(DumpError, match=r"notes\.txt: byte 0: neither XML nor bz2"):
        list(iter_pages(write(tmp_path, "just some notes\n", "notes.txt")))
    with pytest.raises(DumpError, match="neither XML nor bz2"):
        list(iter_pages(write(tmp_path, gzip.compress(SAMPLE.encode()), "dump.xml.gz")))


def test_bad_utf8_names_line_and_byte(tmp_path):
    good = SAMPLE.encode("utf-8")
    at = good.index(b"<title>Talk:") + len(b"<title>")
    bad = good[:at] + b"\xff\xfe" + good[at:]
    line = bad[:at].count(b"\n") + 1
    with pytest.raises(DumpError, match=rf"dump\.xml: line {line}, byte {at}: not UTF-8: bytes ff"):
        list(iter_pages(write(tmp_path, bad)))


def test_bad_utf8_in_bz2(tmp_path):
    bad = SAMPLE.encode("utf-8").replace(b"talk", b"t\xe9lk")  # Latin-1, not UTF-8
    with pytest.raises(DumpError, match=r"d\.bz2: line \d+, byte \d+: not UTF-8: bytes e9"):
        list(iter_pages(write(tmp_path, bz2.compress(bad), "d.bz2")))


def test_malformed_xml(tmp_path):
    bad = SAMPLE.replace("<title>ATT</title>", "<title>ATT</titel>")
    line = bad[: bad.index("</titel>")].count("\n") + 1
    pages = []
    with pytest.raises(DumpError, match=rf"dump\.xml: line {line}, column \d+: malformed XML: mismatched tag"):
        for page in iter_pages(write(tmp_path, bad)):
            pages.append(page)
    assert [p.title for p in pages] == ["AT&T"]  # streaming: the pages before the error came out


def test_truncated_plain_xml(tmp_path):
    cut = SAMPLE[: SAMPLE.index("<title>ATT")]
    with pytest.raises(DumpError, match=r"dump\.xml: line \d+, column \d+: the XML ends before </mediawiki>"):
        list(iter_pages(write(tmp_path, cut)))


def test_bad_page_id(tmp_path):
    xml = dump_xml("  <page><title>A</title><ns>0</ns><id>x1</id></page>\n")
    with pytest.raises(DumpError, match=r"page 1: <id> of 'A' is 'x1', not an integer"):
        list(iter_pages(write(tmp_path, xml)))


def test_corrupt_bz2(tmp_path):
    data = bytearray(bz2.compress((SAMPLE * 1).encode()))
    for i in range(60, 90):
        data[i] ^= 0x55
    with pytest.raises(DumpError, match=r"d\.bz2: compressed bytes 0-\d+: corrupt bz2 data"):
        list(iter_pages(write(tmp_path, bytes(data), "d.bz2")))


# ------------------------------------------------------------------ titles


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("foo_bar", "Foo bar"),
        ("  foo   bar  ", "Foo bar"),
        ("foo__bar_", "Foo bar"),
        ("foo\u00a0bar\u2003baz\u3000x", "Foo bar baz x"),
        ("foo#History", "Foo"),
        ("foo_bar_#History", "Foo bar"),
        ("#History", ""),
        (":foo", "Foo"),
        (": foo", "Foo"),
        ("élan vital", "Élan vital"),
        ("ßtraße", "ßtraße"),  # its capital is two letters: MediaWiki leaves it
        ("ǆungla", "Ǆungla"),
        ("თბილისი", "თბილისი"),  # Georgian: MediaWiki does not capitalise it
        ("iPod", "IPod"),
        ("AT&amp;T", "AT&T"),
        ("Foo&nbsp;bar", "Foo bar"),
        ("Caf&eacute;", "Café"),
        ("Cafe\u0301", "Café"),  # NFC
        ("foo\u200ebar", "Foobar"),  # a left-to-right mark
        ("category:living people", "Category:Living people"),
        ("Category : living_people", "Category:Living people"),
        ("Image:foo.jpg", "File:Foo.jpg"),
        ("WP:NPOV", "Wikipedia:NPOV"),
        ("user talk:bob", "User talk:Bob"),
        ("wikt:cat", "wikt:cat"),
        ("FR:paris", "fr:paris"),
        ("Star Wars: Episode I", "Star Wars: Episode I"),
        ("2001: A Space Odyssey", "2001: A Space Odyssey"),
        ("", ""),
    ],
)
def test_normalize_title(raw, expected):
    assert normalize_title(raw) == expected


def test_split_namespace():
    assert split_namespace("Category:Foo") == ("Category", "Foo")
    assert split_namespace("image:Foo.png") == ("File", "Foo.png")
    assert split_namespace("wiktionary:foo") == ("wiktionary", "foo")
    assert split_namespace("de:Berlin") == ("de", "Berlin")
    assert split_namespace("Ju-On: The Grudge") == ("", "Ju-On: The Grudge")
    assert split_namespace(":Foo") == ("", ":Foo")


# ------------------------------------------------------------------ page kinds, redirects


def page(title="A", text="", ns=0, redirect=None):
    return Page(1, ns, title, redirect, text)


@pytest.mark.parametrize(
    "text",
    [
        "{{disambiguation}}", "{{Disambiguation}}", "{{disambig}}", "{{dab}}", "{{DAB}}", "{{hndis}}",
        "{{geodis}}", "{{disambiguation|geo|ship}}", "{{ Disambiguation | geo }}", "{{Human name disambiguation}}",
        "{{Template:Dab}}", "{{disambiguation_cleanup}}", "{{Mathdab}}", "text\n__DISAMBIG__\n", "{{Hndis|Smith, John}}",
    ],
)
def test_is_disambiguation(text):
    assert is_disambiguation(page(text="'''A''' may refer to:\n* [[A1]]\n" + text))


@pytest.mark.parametrize("text", ["{{disambiguation needed}}", "{{dn}}", "{{about|the letter}}", "{{Distinguish|B}}", "dab"])
def test_is_not_disambiguation(text):
    assert not is_disambiguation(page(text="A [[b]]" + text))


def test_disambiguation_hint_covers_every_template():
    from nerbert_hf.corpus.dump import _DAB_HINT_RE

    assert all(_DAB_HINT_RE.search(name) for name in DISAMBIGUATION_TEMPLATES)
    for text in ("{{Shipindex\u00a0Disambig}}", "{{Genus_Disambiguation}}", "{{ DBIG }}", "{{MathDab|x}}"):
        assert is_disambiguation(page(text=text))


def test_disambiguation_by_title():
    assert is_disambiguation(page(title="Mercury (disambiguation)"))


def test_resolve_chains_cycles_and_hops():
    redirects = {"A": "B", "B": "C", "C": "D", "X": "Y", "Y": "X", "Self": "Self"}
    assert resolve("A", redirects) == "D"
    assert resolve("D", redirects) == "D"
    assert resolve("Unknown", redirects) == "Unknown"
    assert resolve("A", redirects, max_hops=1) == "B"
    assert resolve("X", redirects) == "Y"  # stops before the cycle repeats a title
    assert resolve("Self", redirects) == "Self"


def test_redirect_table():
    pages = [page("A"), page("B", redirect="A"), page("WP:X", ns=4, redirect="Wikipedia:X")]
    assert redirect_table(pages) == {"B": "A", "WP:X": "Wikipedia:X"}


# ------------------------------------------------------------------ the shared excerpt


def test_real_excerpt_counts(shared_data):
    pages = list(iter_pages(shared_data / EXCERPT))
    assert len(pages) == 206
    redirects = [p for p in pages if p.redirect is not None]
    assert len(redirects) == 100
    # The README's "106 articles, 100 redirects": 205 pages in ns 0 of which 99 are
    # redirects, plus one redirect in the Wikipedia namespace (ns 4).
    assert sum(p.ns == 0 for p in pages) == 205
    assert [p.title for p in pages if p.ns != 0] == ["Wikipedia:Adding Wikipedia articles to Nupedia"]
    assert sum(map(is_article, pages)) == 106
    assert all(normalize_title(p.redirect) == p.redirect for p in redirects)
    table = redirect_table(pages)
    assert table["AccessibleComputing"] == "Computer accessibility"
    assert table["AfghanistanHistory"] == "History of Afghanistan"
    assert table["Wikipedia:Adding Wikipedia articles to Nupedia"] == "Wikipedia:Nupedia and Wikipedia"
    anarchism = next(p for p in pages if p.title == "Anarchism")
    assert (anarchism.id, anarchism.ns) == (12, 0)
    assert anarchism.text.startswith("{{Redirect2|Anarchist|Anarchists")
    assert "&lt;ref" not in anarchism.text and "<ref" in anarchism.text  # XML-unescaped wikitext
    dabs = sorted(p.title for p in pages if is_article(p) and is_disambiguation(p))
    assert dabs == sorted([
        "Alien", "Austin (disambiguation)", "Ada", "Aberdeen (disambiguation)", "Argument (disambiguation)",
        "Animal (disambiguation)", "Asia Minor (disambiguation)", "Aa River",
    ])


def test_real_excerpt_multistream_and_resume(shared_data, tmp_path):
    original = list(iter_pages(shared_data / EXCERPT))
    xml = bz2.decompress((shared_data / EXCERPT).read_bytes())
    # Re-compressed as a multistream dump: a header stream, then streams of pages.
    starts = [0] + [m.start() for m in re.finditer(b"  <page>", xml)][::40] + [len(xml)]
    multi = b"".join(bz2.compress(xml[a:b], 1) for a, b in pairwise(starts) if b > a)
    path = write(tmp_path, multi, "multistream.xml.bz2")
    assert list(iter_pages(path)) == original
    assert list(iter_pages(path, start_page=150)) == original[150:]
    offsets = bz2_stream_offsets(path)
    assert len(offsets) == len(starts) - 1
    halves = list(iter_pages(path, stop_offset=offsets[3])), list(iter_pages(path, start_offset=offsets[3]))
    assert [len(h) for h in halves] == [80, 126] and halves[0] + halves[1] == original


def test_real_excerpt_cut_in_half(shared_data, tmp_path):
    data = (shared_data / EXCERPT).read_bytes()
    path = write(tmp_path, data[: len(data) // 2], "half.xml.bz2")
    seen = []
    with pytest.raises(DumpError, match=r"half\.xml\.bz2: compressed byte \d+: the bz2 data ends in the middle"):
        for p in iter_pages(path):
            seen.append(p.title)
    assert seen and seen == [p.title for p in iter_pages(shared_data / EXCERPT)][: len(seen)]


def test_table_dump_reads(shared_data):
    pages = list(iter_pages(shared_data / TABLES))
    assert [p.title for p in pages] == [
        "Constructive vote of no confidence", "List of Prison Break characters",
        "Academy Award for Best Production Design", "Economy of Estonia", "Brahui language",
    ]
    assert all(map(is_article, pages))
