"""DBpedia side of the corpus builder: ontology, infobox mappings, article types, instance types, type index."""

import bz2
import json
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from nerbert_hf.corpus.dbpedia import (
    THING,
    Condition,
    ConditionalMapping,
    InfoboxMappings,
    InstanceTypesError,
    MappingError,
    Ontology,
    OntologyError,
    TemplateMapping,
    TypeIndex,
    TypeIndexError,
    article_type,
    canonical_title,
    four_types,
    merge_rare_classes,
    read_instance_types,
    template_classes,
)
from nerbert_hf.corpus.infobox import called_names, clean_value, parse_templates, strip_unparsed, templates
from nerbert_hf.errors import NerbertError

FIXTURES = Path(__file__).parent / "fixtures" / "dbpedia"


@pytest.fixture(scope="module")
def dbpedia(shared_data) -> Path:
    return shared_data / "dbpedia"


@pytest.fixture(scope="module")
def onto2019(dbpedia) -> Ontology:
    return Ontology.from_owl(dbpedia / "dbpedia-ontology-2019-02-21.owl")


@pytest.fixture(scope="module")
def onto_latest(dbpedia) -> Ontology:
    return Ontology.from_owl(dbpedia / "dbpedia-ontology-latest.owl")


@pytest.fixture(scope="module")
def mappings(dbpedia, onto2019) -> InfoboxMappings:
    return InfoboxMappings.from_xml(dbpedia / "Mapping_en.xml", onto2019)


@pytest.fixture(scope="module")
def excerpt(shared_data) -> dict[str, str]:
    """Main-namespace articles of the shared Wikipedia excerpt: title -> wikitext."""
    path = next((shared_data / "wikipedia").glob("enwiki-latest-pages-articles1*.bz2"))
    pages = {}
    with bz2.open(path) as fh:
        for _, elem in ET.iterparse(fh):
            if elem.tag.endswith("}page"):
                fields = {child.tag.rsplit("}", 1)[1]: child for child in elem.iter()}
                if fields["ns"].text == "0" and "redirect" not in fields:
                    pages[fields["title"].text] = fields["text"].text or ""
                elem.clear()
    return pages


# --- ontology ---------------------------------------------------------------------------------------------------


def test_ontology_2019_hierarchy(onto2019):
    o = onto2019
    assert len(o) == 763 and "Politician" in o.classes and THING not in o.classes
    assert o.parent("Politician") == "Person"
    assert o.ancestors("Politician") == ["Person", "Agent", THING]
    assert o.depth("Politician") == 3 and o.depth("Agent") == 1 and o.depth(THING) == 0
    assert o.parent("Agent") == THING and o.parent(THING) is None and o.ancestors(THING) == []
    assert o.is_a("Politician", "Agent") and o.is_a("Politician", "Politician") and o.is_a("Politician", THING)
    assert not o.is_a("Person", "Politician") and not o.is_a("Politician", "Place")
    # Several rdfs:subClassOf: Band is also schema:MusicGroup and dul:SocialPerson; the dbo: one wins.
    assert o.ancestors("Band") == ["Group", "Organisation", "Agent", THING]
    assert o.ancestors("Country") == ["PopulatedPlace", "Place", THING]
    assert o.ancestors("Bank") == ["Company", "Organisation", "Agent", THING]
    # Holiday's parent TimeInterval is declared nowhere in the file: dropped, Holiday is a top class.
    assert o.parent("Holiday") == THING
    with pytest.raises(KeyError, match="Politicain"):
        o.parent("Politicain")


def test_ontology_latest_hierarchy(onto_latest):
    o = onto_latest
    assert len(o) == 790
    # The newer file puts Person under Animal < Eukaryote < Species.
    assert o.ancestors("Politician") == ["Person", "Animal", "Eukaryote", "Species", THING]
    assert o.is_a("Politician", "Species") and not o.is_a("Politician", "Agent")
    # 'building' (lower-case) is read as the class Building.
    assert o.parent("Hospital") == "Building"
    assert o.ancestors("Band") == ["Group", "Organisation", "Agent", THING]


@pytest.mark.parametrize("content, line", [
    ("", 1),
    ("this is not XML", 1),
    ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<oops>\n</rdf:RDF>', 4),
    ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', None),
])
def test_ontology_errors_name_the_file(tmp_path, content, line):
    path = tmp_path / "broken.owl"
    path.write_text(content)
    with pytest.raises(OntologyError) as err:
        Ontology.from_owl(path)
    assert isinstance(err.value, NerbertError) and str(path) in str(err.value)
    assert err.value.line == line
    with pytest.raises(OntologyError, match="cannot read"):
        Ontology.from_owl(tmp_path / "missing.owl")


# --- infobox templates --------------------------------------------------------------------------------------------


def test_templates_nesting_links_and_numbering():
    text = """{{Short description|Physicist}}
{{Infobox person <!-- the box -->
| name = Albert {{nowrap|Einstein}}
| occupation = [[Physicist|physicist]], [[philosophy|philosopher]]
| image = [[File:A.jpg|thumb|caption [[x|y]]]]
| module = {{Infobox officeholder|embed=yes|office=[[Mayor]]}}
| a = {{#if:{{{x|}}}|yes|no}} | b = x=y
| bare
| {{{arg|{{Inner|q}}}}}
| name = last wins
}}
{{DEFAULTSORT:Einstein, Albert}}{{template:infobox_person|x=1}}{{subst:foo}} {{Done|}}"""
    found = templates(text)
    assert [name for name, _ in found] == ["Short description", "Infobox person", "Infobox person", "Foo", "Done"]
    params = found[1][1]
    assert params["occupation"] == "[[Physicist|physicist]], [[philosophy|philosopher]]"
    assert params["image"] == "[[File:A.jpg|thumb|caption [[x|y]]]]"
    assert params["module"] == "{{Infobox officeholder|embed=yes|office=[[Mayor]]}}"
    assert params["a"] == "{{#if:{{{x|}}}|yes|no}}"
    assert params["b"] == "x=y"  # the first '=' names the parameter
    assert params["1"] == " bare\n" and params["2"] == " {{{arg|{{Inner|q}}}}}\n"  # unnamed: numbered, untrimmed
    assert params["name"] == "last wins"
    assert found[0][1] == {"1": "Physicist"} and found[4][1] == {"1": ""}
    box = parse_templates(text)[1]
    assert [c.name for c in box.children] == ["Nowrap", "Infobox officeholder", "Inner"]


def test_templates_broken_and_hidden_braces():
    # An unclosed template is text, the ones inside it still count; a stray '}}' is text.
    assert [n for n, _ in templates("{{Unclosed | a = {{Done|x}} [[a|{{B}}]] }} }} {{C}}")] == \
        ["Unclosed", "C"]
    assert [n for n, _ in templates("{{Open {{Done|x}} text")] == ["Done"]
    # Comments, references, nowiki and math hide their braces.
    text = ("<!-- {{Infobox person}} --><ref name=a>{{cite web|x}}</ref><ref name=b/>{{A}}"
            "<nowiki>{{B}}</nowiki><math>\\frac{{a}}{b}</math><!-- unclosed {{C}}")
    assert [n for n, _ in templates(text)] == ["A"]
    assert strip_unparsed("a<ref>never closed {{X}}") == "a<ref>never closed {{X}}"
    # Five braces: an argument inside a template whose name it is, so no template at all.
    assert templates("{{{{{a}}}|b}}") == []
    assert called_names("{{<!-- c -->Infobox person|a}} {{infobox_song <!-- c --> |x}} {{#if:a}}") == \
        {"Infobox person", "Infobox song"}


def test_clean_value_like_dbpedia():
    assert clean_value("  '''[[Bank]]ing''' &amp; [[Financial services|finance]]<br/>{{small|x}} ") == \
        "Banking & finance"
    assert clean_value("{{hlist|[[Banking]]|[[Insurance|insurance]]|class=x}}") == "Banking insurance"
    assert clean_value("{{Plainlist|\n* [[Banking]]\n* Insurance\n}}") == "Banking\nInsurance"
    assert clean_value("<!-- hidden -->[[File:Logo.png|20px]] [http://x.org Site] <small>(note)</small>") == "Site"
    assert clean_value("{{cite web|title=x}}") == ""


# --- mappings ------------------------------------------------------------------------------------------------------


def test_mapping_file_counts(mappings, dbpedia, onto_latest):
    # Mapping_en.xml: 764 pages = mappings + mapping-wiki redirects + table mappings + empty pages.
    s = mappings.stats
    assert s["pages"] == 764 and s["ConditionalMapping"] == 35 and s["redirects"] == 55 and s["TableMapping"] == 3
    assert s["TemplateMapping"] == 653 and s["unknown class"] == 16 and s["without mapping"] == 2
    assert len(mappings) == 688
    assert "Academic" in mappings.unknown_classes and "Infobox academic" not in mappings
    latest = InfoboxMappings.from_xml(dbpedia / "Mapping_en.xml", onto_latest)
    assert len(latest) == 704 and latest.unknown_classes == []
    assert latest.classify("Infobox academic", {}) == "Academic"


def test_infobox_company_bank_condition(mappings):
    # The real conditions: industry contains "banking" or "financial" (case-insensitive) -> Bank.
    company = mappings.get("Infobox company")
    assert [(c.operator, c.param, c.value, c.cls) for c in company.cases] == [
        ("contains", "industry", "banking", "Bank"), ("contains", "industry", "financial", "Bank"),
        ("otherwise", None, None, "Company")]
    classify = mappings.classify
    assert classify("Infobox company", {"industry": "[[Bank]]ing"}) == "Bank"
    assert classify("Infobox company", {"industry": "{{hlist|[[Financial services]]|Insurance}}"}) == "Bank"
    assert classify("Infobox company", {"industry": "[[Software]]"}) == "Company"
    assert classify("Infobox company", {"industry": "[[Commercial bank]]"}) == "Company"  # no "banking"
    assert classify("Infobox company", {"industry": "<!-- banking -->"}) == "Company"
    assert classify("Infobox company", {}) == "Company"
    # Names as MediaWiki normalises them; the mapping wiki's redirect Infobox Company -> Infobox company.
    assert classify("infobox_company", {"industry": "BANKING"}) == "Bank"
    assert classify("Infobox Company", {"industry": "banking"}) == "Bank"


def test_infobox_musical_artist_band_condition(mappings):
    classify = mappings.classify
    for params in ({"background": "group_or_band"}, {"background": " Group_or_Band "},
                   {"Background": "classical_ensemble"}, {"current_members": "[[John Lennon]]"},
                   {"past_members": "{{hlist|A|B}}"}, {"background": "cover_band"}):
        assert classify("Infobox musical artist", params) == "Band", params
    for params in ({"background": "solo_singer"}, {"background": "group_or_band_x"},  # equals, not contains
                   {"current_members": ""}, {"current_members": "<!-- none -->"}, {"Current members": "x"}, {}):
        assert classify("Infobox musical artist", params) == "MusicalArtist", params


def test_simple_and_unmapped_templates(mappings):
    assert mappings.classify("Infobox person", {}) == "Person"
    assert mappings.classify("Template:Infobox_person", {"name": "x"}) == "Person"
    assert mappings.classify("Infobox Person", {}) is None  # only the first letter is case-insensitive
    assert mappings.classify("Infobox unknown thing", {}) is None
    assert mappings.classify("Authority control", {}) == THING
    # Geobox tests its unnamed first parameter.
    assert mappings.classify("Geobox", {"1": "River"}) == "River"
    assert mappings.classify("Geobox", {"1": "Nothing"}) == "Place"
    # Wikipedia template redirects, as DBpedia resolves them (chains followed, mapped titles kept).
    mappings = InfoboxMappings(mappings.mappings, mappings.ontology, dict(mappings.aliases))  # a copy to change
    added = mappings.add_template_redirects([("Template:Infobox Person", "Template:Infobox human"),
                                              ("Template:Infobox human", "Template:Infobox person"),
                                              ("Template:Infobox company", "Template:Infobox person")])
    assert added == 2
    assert mappings.classify("Infobox Person", {}) == "Person"
    assert mappings.classify("Infobox company", {}) == "Company"
    # Infobox country tells a geopolitical organisation by the name it is called with ($TemplateName).
    assert mappings.classify("Infobox country", {}) == "Country"
    mappings.add_template_redirects([("Infobox geopolitical organisation", "Infobox country")])
    assert mappings.classify("Infobox geopolitical organisation", {}) == "GeopoliticalOrganisation"


@pytest.mark.parametrize("content, message", [
    ("<mediawiki><page><title>Mapping en:X</title><text>{{TemplateMapping", "not a readable"),
    ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "not a MediaWiki"),
    (('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.8/"><page><title>Mapping en:X</title>'
      "<ns>204</ns><revision><text>no mapping here</text></revision></page></mediawiki>"), "no TemplateMapping"),
])
def test_mapping_errors_name_the_file(tmp_path, onto2019, content, message):
    path = tmp_path / "Mapping_xx.xml"
    path.write_text(content)
    with pytest.raises(MappingError, match=message) as err:
        InfoboxMappings.from_xml(path, onto2019)
    assert str(path) in str(err.value)


# --- article types --------------------------------------------------------------------------------------------------

# Checked by reading each page's wikitext in the excerpt: the mapped template and the parameter
# its condition tests (Aardwolf: {{taxobox | classis = [[Mammal]]ia}}).
EXCERPT_TYPES = {
    "Algeria": "Country",  # {{Infobox country, after {{see also|Portal:Algeria{{!}}...}}
    "Andorra": "Country",
    "Albania": "Country",
    "Albert Einstein": "Scientist",  # {{Infobox scientist
    "Abraham Lincoln": "Politician",  # {{Infobox officeholder
    "Aardwolf": "Mammal",  # {{taxobox, lower-case first letter
    "Andre Agassi": "TennisPlayer",  # {{Infobox tennis biography + {{DavisCup player
    "Autism": "Disease",
    "Apollo 11": "SpaceMission",
    "American Revolutionary War": "MilitaryConflict",
    "Alabama": "AdministrativeRegion",  # {{Infobox U.S. state
    "Actrius": "Film",
    "Anarchism": None,  # only owl:Thing templates ({{See also}}, {{Authority control}})
    "Aardvark": None,  # {{speciesbox is not mapped
    "Alberta": None,  # {{Infobox province or territory of Canada is not mapped
}


def test_article_type_on_real_pages(excerpt, mappings):
    for title, expected in EXCERPT_TYPES.items():
        assert article_type(excerpt[title], mappings) == expected, title
    assert template_classes(excerpt["Algeria"], mappings)[:2] == [("See also", THING), ("Infobox country", "Country")]
    typed = sum(article_type(text, mappings) is not None for text in excerpt.values())
    assert (typed, len(excerpt)) == (38, 106)
    # The quick name check that skips most pages never changes an answer.
    for text in excerpt.values():
        classes = [cls for _, cls in template_classes(text, mappings) if cls != THING]
        assert article_type(text, mappings) == max(classes, key=mappings.ontology.depth, default=None)


def _mini_mappings(onto2019) -> InfoboxMappings:
    return InfoboxMappings({
        "Infobox person": TemplateMapping("Person"),
        "Politician-stub": TemplateMapping("Politician"),
        "Infobox military unit": TemplateMapping("MilitaryUnit"),
        "Squad": TemplateMapping("SportsTeamMember", corresponding="Organisation"),
        "Infobox club": TemplateMapping("SoccerClub"),
        "Box": ConditionalMapping((Condition("isSet", "members", None, "Band"),)),
        "See also": TemplateMapping(THING),
    }, onto2019)


def test_article_type_follows_dbpedia_page_rules(onto2019):
    m = _mini_mappings(onto2019)
    # A later template refines the page's class when it lies on the same branch.
    assert article_type("{{See also|x}}{{Infobox person|name=A}} text {{Politician-stub}}", m) == "Politician"
    assert article_type("{{Politician-stub}} text {{Infobox person|name=A}}", m) == "Politician"
    # An unrelated later template describes another thing (DBpedia's Page__1), not the page.
    assert article_type("{{Infobox person}} {{Infobox military unit}}", m) == "Person"
    assert template_classes("{{Infobox person}} {{Infobox military unit}}", m) == [("Infobox person", "Person")]
    # A sub-instance template (correspondingClass) leaves its page alone.
    assert article_type("{{Infobox club}} {{Squad|name=B}}", m) == "SoccerClub"
    # Templates inside a mapped one are not visited; inside an unmapped one, or a conditional
    # mapping with no matching case, they are.
    assert article_type("{{Infobox military unit|commander={{Infobox person}}}}", m) == "MilitaryUnit"
    assert article_type("{{Wrapper|1={{Infobox person}}}}", m) == "Person"
    assert article_type("{{Box|name=x|{{Infobox person}}}}", m) == "Person"
    assert article_type("{{Box|members=[[A]]|{{Infobox person}}}}", m) == "Band"
    assert article_type("{{See also|x}}", m) is None and article_type("no templates", m) is None
    assert article_type("<ref>{{Infobox person}}</ref><!-- {{Infobox person}} -->", m) is None


# --- instance types ---------------------------------------------------------------------------------------------------

TTL_PAIRS = [("Albert Einstein", "Scientist"), ("AC/DC", "Band"), ("Beyoncé", "MusicalArtist"),
             ("Café de Flore", "Restaurant"), ('"Weird Al" Yankovic', "MusicalArtist"), ("Angola", "Country"),
             ("Andre Agassi", "TennisPlayer")]


def test_read_instance_types_ttl_and_bz2(onto2019):
    # owl:Thing, schema.org and the sub-resource Albert_Einstein__1 are skipped; %C3%A9 and %22 decoded.
    assert list(read_instance_types(FIXTURES / "instance_types_en.ttl")) == TTL_PAIRS
    assert list(read_instance_types(FIXTURES / "instance_types_en.ttl.bz2", onto2019)) == TTL_PAIRS


def test_read_instance_types_transitive_keeps_the_deepest(onto2019):
    # \u00E9 escapes (N-Triples) decoded; all ancestors listed, the deepest class kept.
    assert list(read_instance_types(FIXTURES / "instance_types_transitive_en.nt", onto2019)) == [
        ("Albert Einstein", "Scientist"), ("Beyoncé", "MusicalArtist"), ("Café de Flore", "Restaurant"),
        ("Abraham Lincoln", "President")]


def test_read_instance_types_quads_and_errors(tmp_path):
    good = ("<http://dbpedia.org/resource/A> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            "<http://dbpedia.org/ontology/City> <http://en.wikipedia.org/wiki/A?oldid=1> .\n")
    path = tmp_path / "types.nq"
    path.write_text(good + "<http://dbpedia.org/resource/B> <http://www.w3.org/2000/01/rdf-schema#label> \"B\"@en .\n")
    assert list(read_instance_types(path)) == [("A", "City")]
    bad = tmp_path / "bad.ttl"
    bad.write_text("# header\n" + good + "<http://dbpedia.org/resource/B> rdf:type dbo:City .\n")
    with pytest.raises(InstanceTypesError) as err:
        list(read_instance_types(bad))
    assert err.value.line == 3 and f"{bad}:3" in str(err.value)
    latin1 = tmp_path / "latin1.nt"
    latin1.write_bytes(good.encode() + "<http://dbpedia.org/resource/Caf\xe9> x\n".encode("latin-1"))
    with pytest.raises(InstanceTypesError, match="not UTF-8") as err:
        list(read_instance_types(latin1))
    assert err.value.line == 2
    truncated = tmp_path / "cut.ttl.bz2"
    truncated.write_bytes((FIXTURES / "instance_types_en.ttl.bz2").read_bytes()[:200])
    with pytest.raises(InstanceTypesError, match="cannot read") as err:
        list(read_instance_types(truncated))
    assert str(truncated) in str(err.value)


# --- type index -------------------------------------------------------------------------------------------------------


def _random_titles(rng: random.Random, n: int, tag: str) -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789éßж()-"
    return [f"{tag}{i} " + "".join(rng.choices(alphabet, k=rng.randint(3, 30))) for i in range(n)]


def test_type_index_round_trip(tmp_path, onto2019):
    rng = random.Random(7)
    classes = list(onto2019.classes)
    titles = _random_titles(rng, 100_000, "T")
    keys = [canonical_title(t) for t in titles]
    truth = {k: rng.choice(classes) for k in keys}
    expected = [truth[k] for k in keys]
    index = TypeIndex.build(zip(titles, expected))
    assert len(index) == len(truth) and index.nbytes / len(index) == 10
    assert index.get_many(titles) == expected
    assert [index.get(t) for t in titles[:5000]] == expected[:5000]
    absent = _random_titles(rng, 100_000, "U")
    assert index.get_many(absent) == [None] * len(absent)
    assert all(index.get(t) is None for t in absent[:2000])
    # MediaWiki forms of a title find it.
    first = titles[0]
    assert index.get(first.replace(" ", "_") + "#Section") == truth[canonical_title(first)]
    assert index.get(first[0].lower() + first[1:]) == truth[canonical_title(first)]

    folder = index.save(tmp_path / "types")
    assert sorted(p.name for p in folder.iterdir()) == ["class_ids.npy", "hashes.npy", "index.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    loaded = TypeIndex.load(folder)
    assert loaded.get_many(titles[-5000:]) == expected[-5000:]
    assert loaded.counts() == index.counts() and sum(loaded.counts().values()) == len(truth)
    with pytest.raises(FileExistsError):
        index.save(folder)
    index.save(folder, overwrite=True)


def test_canonical_title_shortcut_agrees_with_the_normalisation(excerpt):
    from nerbert_hf.corpus.dbpedia import _normalise_title as normalised

    rng = random.Random(3)
    alphabet = ["a", "Z", "b", " ", "  ", "_", ":", "#", "&amp;", "&", ";", "\t", "\n", "\x1c", "\x0b", "1", "(", "é"]
    titles = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(20000)]
    titles += list(excerpt) + [t for text in excerpt.values() for t in re.findall(r"\[\[([^\]|]+)", text)]
    for title in titles:
        assert canonical_title(title) == normalised(title), repr(title)


def test_type_index_redirects_and_duplicates(onto2019):
    pairs = [("Albert Einstein", "Person"), ("Albert_Einstein", "Scientist"), ("Albert Einstein", "Agent"),
             ("Paris", "City")]
    redirects = [("Einstein", "Albert Einstein"), ("A. Einstein", "Einstein"),  # a chain
                 ("Paris, France", "paris#History"), ("Nowhere", "Missing page"),
                 ("Loop A", "Loop B"), ("Loop B", "Loop A"), ("Paris", "Albert Einstein")]  # an article keeps its own
    index = TypeIndex.build(pairs, redirects=redirects, ontology=onto2019)
    assert index.get("Albert Einstein") == "Scientist"  # the deepest of the three
    assert index.get("Einstein") == index.get("A. Einstein") == "Scientist"
    assert index.get("Paris, France") == "City" and index.get("Paris") == "City"
    assert index.get("Nowhere") is None and index.get("Loop A") is None
    assert index.articles == 2 and len(index) == 5
    assert TypeIndex.build([("X", "Person"), ("X", "Agent")]).get("X") == "Person"  # no ontology: the first


def test_type_index_load_errors(tmp_path):
    with pytest.raises(TypeIndexError, match="no index.json"):
        TypeIndex.load(tmp_path)
    folder = TypeIndex.build([("A", "City"), ("B", "Town")]).save(tmp_path / "ix")
    meta = json.loads((folder / "index.json").read_text())
    meta["titles"] = 3
    (folder / "index.json").write_text(json.dumps(meta))
    with pytest.raises(TypeIndexError, match="3 titles"):
        TypeIndex.load(folder)
    np.save(folder / "hashes.npy", np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeIndexError, match="uint64"):
        TypeIndex.load(folder)


# --- label schemes ----------------------------------------------------------------------------------------------------


def test_four_types(onto2019, onto_latest):
    for o in (onto2019, onto_latest):
        assert four_types("Politician", o) == "person" and four_types("Person", o) == "person"
        assert four_types("Band", o) == "organisation" and four_types("Bank", o) == "organisation"
        assert four_types("Country", o) == "location" and four_types("BodyOfWater", o) == "location"
        assert four_types("Award", o) == "ENTITY" and four_types("Film", o) == "ENTITY"
        assert four_types(None, o) == four_types("NoSuchClass", o) == four_types(THING, o) == "ENTITY"


def test_merge_rare_classes(onto2019):
    counts = {"TennisTournament": 5, "SoccerTournament": 7, "GolfTournament": 3, "SportsEvent": 500,
              "Politician": 900, "President": 40, "Person": 5000, "City": 800, "Town": 60, "Settlement": 700,
              "ENTITY": 10_000}
    merged = merge_rare_classes(counts, onto2019, target=7)
    assert set(merged) == set(counts) and len(set(merged.values())) == 7
    # The rarest fine categories go first (Golf 3, Tennis 5, Soccer 7, President 40), each into its
    # nearest remaining ancestor (the tournaments' parent Tournament is not a category).
    assert merged["GolfTournament"] == merged["TennisTournament"] == merged["SoccerTournament"] == "SportsEvent"
    assert merged["President"] == "Politician"
    assert merged["Town"] == "Town" and merged["Person"] == "Person" and merged["ENTITY"] == "ENTITY"
    # Folding cascades: a category that took others in is folded in turn once it is fine.
    deep = merge_rare_classes(counts, onto2019, target=4)
    assert deep["President"] == deep["Politician"] == "Person" and deep["Town"] == deep["City"] == "Settlement"
    assert sorted(set(deep.values())) == ["ENTITY", "Person", "Settlement", "SportsEvent"]
    # Categories without a remaining ancestor, and ENTITY, are never folded: the target may not be reached.
    assert merge_rare_classes(counts, onto2019, target=1) == deep
    assert merge_rare_classes(counts, onto2019, target=len(counts)) == {c: c for c in counts}
