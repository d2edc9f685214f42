"""The corpus builder's punkt sentence splitter gives exactly NLTK's punkt spans; load_punkt cleans up after itself."""

import random
import re
import tempfile
import zipfile

import pytest

from nerbert_hf.corpus.dump import is_article, iter_pages
from nerbert_hf.corpus.sentences import (
    PunktError,
    PunktSplitter,
    Untyped,
    _nltk_expressions,
    _own_expressions,
    load_punkt,
    tag_paragraph,
)
from nerbert_hf.corpus.wikitext import iter_paragraphs, wikitext_to_text

EXCERPT = "wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

TRICKY = [
    "",
    "   ",
    "No period here",
    "Trailing spaces.   ",
    "The U.S. Army fought. The U.S. won.",
    "Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3. They talked.",
    "J. S. Bach was born in 1685. He died in 1750.",
    "It cost 3.5 million. Then 4.25 more. In 1990. the rest.",
    "He said \"stop.\" Then he left. (It was late.) Nobody came.",
    "She asked 'why?' He said 'no!' They laughed...",
    "Wait... what? Really!? Yes!!! OK.",
    "A list: a. first, b. second. C. third.",
    "Curly \u201cquote.\u201d Next \u2018one.\u2019 Guillemets \u00abfin.\u00bb Done.",
    "Ellipsis . . . and more. . . . End.",
    "Dashes.-- Next. End.--",
    "Line one.\nLine two. \nLine three.\n\nNew paragraph.",
    "Tabs.\tNext.\x0bVertical.\x0cFeed. Done.",
    "No-break\xa0space. Next\xa0one. Thin\u2009space. End.",
    "St. Louis, Mo. is a city. Washington, D.C. is another. etc. The end.",
    "Version 2.0. Section 3.1.4. Item no. 5. Fig. 7b.",
    "e.g. this, i.e. that. Vs. them. Inc. is a suffix. Corp. too.",
    "(Sent1.) Sent2. [Sent3.] {Sent4.} Sent5.",
    "Numbers: 1. 2. 3. Done. -5. -.5. ,5.",
    "Mixed CASE. lower case after. UPPER AFTER. 123 after.",
    "Ends with abbreviation Dr.",
    ". Leading period. ? Leading question.",
    "a.b.c. d.e.f. G.H.I. Jkl.",
]


@pytest.fixture(scope="module")
def punkt_zip(shared_data):
    return shared_data / "nltk" / "punkt_tab.zip"


@pytest.fixture(scope="module")
def nltk_punkt(punkt_zip):
    return load_punkt(punkt_zip)


@pytest.fixture(scope="module")
def splitter(punkt_zip):
    return PunktSplitter.load(punkt_zip)


@pytest.fixture(scope="module")
def excerpt_texts(shared_data):
    """Every paragraph of the excerpt's articles, and each article's whole plain text (lines joined by newlines)."""
    paragraphs, articles = [], []
    for page in iter_pages(shared_data / EXCERPT):
        if is_article(page):
            plain, anchors = wikitext_to_text(page.text)
            articles.append(plain)
            paragraphs += [p for p, _ in iter_paragraphs(plain, anchors)]
    return paragraphs, articles


def assert_same_spans(nltk_punkt, splitter, texts):
    for text in texts:
        assert splitter.span_tokenize(text) == list(nltk_punkt.span_tokenize(text)), repr(text[:300])


def test_same_spans_as_nltk_on_the_excerpt(nltk_punkt, splitter, excerpt_texts):
    paragraphs, articles = excerpt_texts
    assert len(paragraphs) > 5000
    assert_same_spans(nltk_punkt, splitter, paragraphs)
    assert_same_spans(nltk_punkt, splitter, articles)


def test_same_spans_as_nltk_on_tricky_text(nltk_punkt, splitter):
    assert_same_spans(nltk_punkt, splitter, TRICKY)
    assert_same_spans(nltk_punkt, PunktSplitter.from_nltk(nltk_punkt), TRICKY)


def test_same_spans_as_nltk_on_random_text(nltk_punkt, splitter):
    pieces = ["Dr.", "U.S.", "J.", "A.", "x.", "3.5", "1.", "-5.", "etc.", "No.", "vs.", "Inc.", "a.m.", "St.",
              "...", "..", ". . .", ".", "?", "!", "?!", '"', "'", ")", "(", "]", "--", ",", ";", ":", "\u201d",
              "\u2019", "\u00bb", "word", "Word", "THE", "the", "In", "He", "However", "i.e.", "end.", "Paris.",
              "\n", "\t", "\xa0", "2024.", "Mr.", "co-op.", "p.", "Fig.", "a..", "Fig..", "\u0663.", "-\u0663\u0660.",
              "\u00b2.", "\u00e9.", "e\u0301.", "\u0130.", "\u00df.", "etc..", "U.S..", "No..", "5.."]
    rng = random.Random(4)
    texts = []
    for _ in range(3000):
        parts = [rng.choice(pieces) for _ in range(rng.randint(1, 25))]
        texts.append("".join(p + rng.choice([" ", " ", " ", "", "  ", "\n"]) for p in parts))
    assert_same_spans(nltk_punkt, splitter, texts)


def test_parameters_and_expressions_are_nltks(punkt_zip):
    with zipfile.ZipFile(punkt_zip) as archive:
        languages = sorted({n.split("/")[1] for n in archive.namelist() if n.endswith("/ortho_context.tab")})
    assert "english" in languages
    for language in languages:
        params = load_punkt(punkt_zip, language)._params
        ours = PunktSplitter.load(punkt_zip, language)
        assert ours._abbreviations == params.abbrev_types
        assert ours._collocations == params.collocations
        assert ours._starters == params.sent_starters
        assert ours._ortho == dict(params.ortho_context)
    # NLTK orders "?" and "!" in one character class by set iteration: either order is the same class.
    def source(pattern):
        return re.sub(r"!\\\?|\\\?!", "?!", pattern.pattern), pattern.flags & ~re.ASCII

    for own, nltk in zip(_own_expressions(), _nltk_expressions(load_punkt(punkt_zip))):
        if isinstance(own, tuple):
            assert own == nltk
        else:
            assert source(own) == source(nltk)


def test_untyped_sentences_are_counted_as_tagging_would_tag_them(splitter, shared_data):
    """With ``untyped``, the sentences without a typed entity are left out, and counted with their entities."""
    rng = random.Random(2)
    pages = [p for p in iter_pages(shared_data / EXCERPT) if is_article(p)][:40]
    typed_total = 0
    for page in pages:
        plain, anchors = wikitext_to_text(page.text)
        types = {a.target: "City" if rng.random() < 0.1 else None for a in anchors}
        for paragraph, inside in iter_paragraphs(plain, anchors):
            everything = tag_paragraph(paragraph, inside, splitter, types.get)
            untyped = Untyped()
            kept = tag_paragraph(paragraph, inside, splitter, types.get, untyped=untyped)
            left_out = [s for s in everything if s not in kept]
            assert [s for s in everything if s in kept] == kept
            assert not any(t.startswith("B-") and t != "B-ENTITY" for s in left_out for t in s.tags)
            assert untyped.sentences == len(left_out) == len(everything) - len(kept)
            assert untyped.entities == sum(t == "B-ENTITY" for s in left_out for t in s.tags)
            typed_total += len(kept)
    assert typed_total > 0


def test_load_punkt_leaves_no_staged_folder(punkt_zip, tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    search_path = list(nltk.data.path)
    tokenizer = load_punkt(punkt_zip)
    assert tokenizer.tokenize("One. Two.") == ["One.", "Two."]  # parameters in memory, files gone
    broken = tmp_path / "broken" / "english"
    broken.mkdir(parents=True)
    (broken / "ortho_context.tab").write_text("not\ta\tnumber\n")
    with pytest.raises(PunktError, match="cannot read the punkt parameters"):
        load_punkt(tmp_path / "broken")
    assert [p.name for p in tmp_path.iterdir()] == ["broken"]
    assert nltk.data.path == search_path


def test_splitter_load_errors(tmp_path):
    with pytest.raises(PunktError, match="no such file"):
        PunktSplitter.load(tmp_path / "missing.zip")
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(PunktError, match="not a zip"):
        PunktSplitter.load(tmp_path / "bad.zip")
    with pytest.raises(PunktError, match="no punkt_tab/english"):
        PunktSplitter.load(tmp_path)
    (tmp_path / "english").mkdir()
    (tmp_path / "english" / "ortho_context.tab").write_text("word\tnot a number\n")
    with pytest.raises(PunktError, match="cannot read the punkt parameters"):
        PunktSplitter.load(tmp_path)
