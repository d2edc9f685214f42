"""Wikitext -> plain text with anchor spans: every construct by hand, then the shared dumps."""

import time

from nerbert_hf.corpus.dump import is_article, iter_pages, normalize_title
from nerbert_hf.corpus.wikitext import Anchor, iter_paragraphs, wikitext_to_text

EXCERPT = "wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
TABLES = "wikipedia/enwiki-table-markup.xml.bz2"


def convert(wikitext):
    """The plain text and (visible text, target) of each anchor, checking the spans on the way."""
    text, anchors = wikitext_to_text(wikitext)
    for a in anchors:
        assert isinstance(a, Anchor)
        assert 0 <= a.start < a.end <= len(text)
        visible = text[a.start : a.end]
        assert visible == visible.strip() and "\n" not in visible
    assert [a.start for a in anchors] == sorted(a.start for a in anchors)
    assert not any("\ud800" <= c <= "\udfff" for c in text), "an anchor mark leaked into the text"
    return text, [(text[a.start : a.end], a.target) for a in anchors]


def check(wikitext, expected_text, expected_anchors=()):
    assert convert(wikitext) == (expected_text, list(expected_anchors))


# ------------------------------------------------------------------ links


def test_plain_and_piped_links():
    check("The [[Eiffel Tower]] is in [[Paris]].", "The Eiffel Tower is in Paris.",
          [("Eiffel Tower", "Eiffel Tower"), ("Paris", "Paris")])
    check("A [[Paris, Texas|town]] in Texas.", "A town in Texas.", [("town", "Paris, Texas")])
    check("[[paris]] and [[New_York_City|NYC]]", "paris and NYC", [("paris", "Paris"), ("NYC", "New York City")])


def test_anchor_offsets_are_exact():
    text, anchors = wikitext_to_text("xx [[A|b]] yy [[C]]\n\nsecond [[D|d d]] end")
    assert text == "xx b yy C\nsecond d d end"
    assert anchors == [Anchor(3, 4, "A"), Anchor(8, 9, "C"), Anchor(17, 20, "D")]


def test_link_trail():
    check("Some [[apple]]s and [[Banana|bananas]]es.", "Some apples and bananases.",
          [("apples", "Apple"), ("bananases", "Banana")])
    # The English trail is [a-z]+: no apostrophes, capitals or digits.
    check("[[Paris]]'s and [[B]]C and [[C]]9", "Paris's and BC and C9", [("Paris", "Paris"), ("B", "B"), ("C", "C")])
    check("[[naïve]]té", "naïveté", [("naïvet", "Naïve")])  # as MediaWiki renders it: é ends the trail


def test_fragments():
    check("See [[Paris#History|its history]].", "See its history.", [("its history", "Paris")])
    check("See [[#Early life|below]] and [[#Later]].", "See below and.")


def test_pipe_trick_and_percent_encoding():
    check("[[Paris (band)|]] [[Kingston, Jamaica|]]", "Paris Kingston", [("Paris", "Paris (band)"), ("Kingston", "Kingston, Jamaica")])
    check("[[Caf%C3%A9]]", "Café", [("Café", "Café")])


def test_entities_inside_anchors():
    check("[[AT&amp;T|AT&amp;T Inc.]] and [[Foo&nbsp;bar]]", "AT&T Inc. and Foo bar",
          [("AT&T Inc.", "AT&T"), ("Foo bar", "Foo bar")])


def test_formatting_inside_and_around_anchors():
    check("'''[[Paris]]''' and ''[[Lyon|the ''city'' of Lyon]]''", "Paris and the city of Lyon",
          [("Paris", "Paris"), ("the city of Lyon", "Lyon")])
    check("[[A| b ]] c", "b c", [("b", "A")])
    check("[[A|<small>b</small>]]", "b", [("b", "A")])


def test_colon_titles_are_main_namespace():
    check("[[Star Wars: Episode I]] and [[Re: Zero|a show]]", "Star Wars: Episode I and a show",
          [("Star Wars: Episode I", "Star Wars: Episode I"), ("a show", "Re: Zero")])


def test_other_namespaces_and_wikis():
    check("A [[Category:Cities]] b [[fr:Paris]] c [[de:Berlin|x]] d", "A b c d")
    # Visible links to other namespaces or wikis keep their label but are not anchors.
    check("an [[Wikipedia:About|about]] page, a [[wikt:cat|cat]]s, [[:Category:Cities|cities]] and [[:fr:Paris|Paris]]",
          "an about page, a cats, cities and Paris")
    check("x [[Wikipedia:About]] y [[:Category:Cities]] z [[Help:Contents|]]", "x y z Contents")


def test_files_and_images_with_nested_links():
    check("Before [[File:Eiffel.jpg|thumb|left|The [[Eiffel Tower]] at [[night]], [http://x.org photo]]] after.",
          "Before after.")
    check("[[Image:A.png|200px]]Text [[media:Song.ogg]]here", "Text here")
    check("[[File:A.jpg|thumb|[[File:B.jpg|nested [[c]]]] caption]] [[D]]", "D", [("D", "D")])


def test_labels_emptied_by_later_passes():
    # A URL as the label (dropped as a bare URL) leaves no empty anchor and no stray space.
    check("* [[hdl:10050/00-0003|http://hdl.handle.net/10050/00-0003]] RWAAI archive", "RWAAI archive")
    check("x [[Foo|http://foo.org]] y [[Bar|&nbsp;bar&nbsp;]] z", "x y bar z", [("bar", "Bar")])


def test_malformed_links():
    check("a [[b [[c]] d]] e", "a b c d e", [("c", "C")])
    check("a [[b\nc]] d", "a b c d")  # a newline in a target: not a link
    check("unclosed [[link here and [[B]]", "unclosed link here and B", [("B", "B")])


# ------------------------------------------------------------------ templates, tables


def test_templates_nested_removed():
    check("a {{x|{{y|z}}|w=[[v]]}} b", "a b")
    check("{{Infobox person\n| name = A\n| spouse = {{marriage|[[B]]|1990}}\n}}\n'''A''' was a [[writer]].",
          "A was a writer.", [("writer", "Writer")])
    check("{{{1}}} param {{{name|default}}} x", "param x")
    check("{{a|b}}}} x {{ y", "x y")  # unbalanced braces do not swallow the text


def test_text_templates_keep_prose():
    check("It is {{convert|5|km|mi}} long, {{nowrap|[[New York]] City}} and {{lang|fr|la [[Seine]]}}.",
          "It is 5 km long, New York City and la Seine.", [("New York", "New York"), ("Seine", "Seine")])
    check("{{convert|3|to|5|m}} {{ill|Foo Bar|de|Foo Bar (de)}} {{ndash}} {{Nihongo|Tokyo|東京|Tōkyō}}",
          "3 to 5 m Foo Bar – Tokyo", [("Foo Bar", "Foo Bar")])
    check("{{lang-fr|Paris}} and {{IPA|/x/}} gone", "and gone")
    check("* ''{{GGY}}'' (UK)", "(UK)")  # no stray quote where a template sat between quotes


def test_tables_nested():
    check("Before.\n{| class=wikitable\n|-\n! A !! B\n|-\n| [[x]] || y\n|-\n|\n{|\n| inner\n|}\n|}\nAfter [[z]].",
          "Before.\nAfter z.", [("z", "Z")])
    check("Text\n:{| \n| indented table\n|}\nmore", "Text\nmore")
    check("a {| not a table |} b", "a not a table b")


def test_unclosed_table_runs_to_the_end():
    check("Intro.\n{|\n| a\nstill table", "Intro.")


def test_table_rows_opened_by_templates():
    check("{{Election box begin}}\n|-\n| A || 50%\n! Total !! 100\n{{Election box end}}\nAfter.", "After.")
    check("!Kung people live in Namibia.", "!Kung people live in Namibia.")


# ------------------------------------------------------------------ tags, external links


def test_references():
    check('Paris.<ref>Smith, [[Book]]</ref> Lyon.<ref name="a" /> Nice<ref name=b group="n">x</ref>.\n'
          "<references />", "Paris. Lyon. Nice.")
    check("a<ref name=x/> b<references/> c <ref>never closed", "a b c never closed")
    check("a <REF>odd</REF> b", "a odd b")  # tag names are lower case in practice; upper case is kept as text


def test_comments():
    check("a <!-- hidden [[X]] --> b <!-- unterminated\n c [[Y]]", "a b")


def test_dropped_elements():
    check("E <math>e^{i\\pi}</math> = -1.", "E = -1.")
    check("a <code>x = [[y]]</code> b <syntaxhighlight lang=python>print(1)</syntaxhighlight> c", "a b c")
    check("a\n<pre>\ncode\n</pre>\nb <source lang=c>int x;</source>", "a\nb")
    check("x <gallery>\nFile:A.jpg|[[A]]\n</gallery> y <timeline>t</timeline> z", "x y z")


def test_html_tags():
    check("H<sub>2</sub>O and x<sup>2</sup>, <span style='color:red'>red</span> <s>old</s>", "H2O and x2, red old")
    check("line one<br />line two<br>three <p>four", "line one\nline two\nthree\nfour")
    check("<blockquote>quoted [[A]]</blockquote>", "quoted A", [("A", "A")])
    check("<div class='x'>in div</div>", "in div")
    check("a < b and c > d", "a < b and c > d")


def test_nowiki():
    check("<nowiki>[[not a link]] {{nor this}} ''x''</nowiki> [[B]]", "[[not a link]] {{nor this}} ''x'' B", [("B", "B")])


def test_external_links():
    check("See [http://example.com the site] or [https://x.org] or [//y.org proto-relative].",
          "See the site or or proto-relative.")
    check("Visit http://example.com/page?x=1 today, or www.example.com.", "Visit today, or www.example.com.")
    check("[[A]] [mailto:a@b.c mail me]", "A mail me", [("A", "A")])


def test_entities():
    check("A&nbsp;B &ndash; C &amp; D &lt;tag&gt; &#91;1&#93; &eacute; &#x41; &shy;x &copy x",
          "A B – C & D <tag> [1] é A x &copy x")
    check("3&thinsp;km and AT&T", "3 km and AT&T")


def test_bold_italic():
    check("'''Bold''' ''italic'' '''''both''''' l''''Italia''' it's", "Bold italic both l'Italia it's")


# ------------------------------------------------------------------ lines, paragraphs


def test_headings_dropped_and_paragraphs():
    check("Intro line one\nline two.\n\n== History ==\nText [[A]].\n=== Sub [[B]] ===\nMore.",
          "Intro line one line two.\nText A.\nMore.", [("A", "A")])


def test_lists_and_indentation():
    check("Items:\n* one [[A]]\n** two\n# three\n#: four\n; term : definition\n: indented", 
          "Items:\none A\ntwo\nthree\nfour\nterm : definition\nindented", [("A", "A")])


def test_magic_words_and_rules():
    check("__NOTOC__\nText __TOC__ here.\n----\nNext.", "Text here.\nNext.")


def test_debris_cleanup():
    check("Albert ({{IPA|x}}; born 1900) was.", "Albert (born 1900) was.")
    check("Paris ({{lang-fr|Paris}}) is.", "Paris is.")
    check("Ref gap <ref>x</ref> , then.", "Ref gap, then.")
    check("{{a}}\n\n{{b}}\n.\n\n()", "")


def test_empty_and_plain():
    check("", "")
    check("Just text.", "Just text.")


def test_iter_paragraphs_rebases_anchors():
    text, anchors = wikitext_to_text("[[A]] one\n\ntwo [[B|bee]] and [[C]]\n\nthree")
    parts = list(iter_paragraphs(text, anchors))
    assert [p for p, _ in parts] == ["A one", "two bee and C", "three"]
    assert [[(p[a.start : a.end], a.target) for a in anchs] for p, anchs in parts] == [
        [("A", "A")], [("bee", "B"), ("C", "C")], []
    ]


def test_linear_time_on_pathological_input():
    nasty = "{{" * 20000 + "[[" * 20000 + "x]]" * 20000 + "}}" * 19000 + "{|\n" * 5000 + "''" * 20000
    start = time.perf_counter()
    wikitext_to_text(nasty)
    wikitext_to_text("[[a|" * 30000 + "<ref>" * 30000 + "<!--" * 30000)
    assert time.perf_counter() - start < 5


# ------------------------------------------------------------------ the shared dumps


def test_real_excerpt(shared_data):
    articles = [p for p in iter_pages(shared_data / EXCERPT) if is_article(p)]
    total_anchors = 0
    for page in articles:
        text, anchors = convert(page.text)
        total_anchors += len(anchors)
        for debris in ("[[", "]]", "{{", "}}", "{|", "|}", "<ref", "</ref", "&nbsp;", "&amp;", "'''", "__TOC__"):
            assert debris not in text, (page.title, debris)
        assert all(normalize_title(t) == t and t for _, t in anchors)
        assert all(line and line == line.strip() and "  " not in line for line in text.split("\n"))
    assert total_anchors > 20000
    anarchism = next(p for p in articles if p.title == "Anarchism")
    text, anchors = convert(anarchism.text)
    first = text.split("\n")[0]
    assert first.startswith("Anarchism is a political philosophy that advocates self-governed societies based on "
                            "voluntary institutions.")
    assert anchors[:5] == [
        ("political philosophy", "Political philosophy"), ("self-governed", "Self-governance"),
        ("stateless societies", "Stateless society"), ("hierarchical", "Hierarchy"),
        ("free associations", "Free association (communism and anarchism)"),
    ]


def test_table_dump_leaves_no_table_debris(shared_data):
    for page in iter_pages(shared_data / TABLES):
        text, _ = convert(page.text)
        assert len(text) > 500, page.title
        for debris in ("{|", "|}", "||", "!!", "|-", "colspan", "rowspan", "class=", "style="):
            assert debris not in text, (page.title, debris)
        assert not any(line.startswith(("|", "!")) for line in text.split("\n")), page.title
