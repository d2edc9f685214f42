"""benchmarks/pipeline_agreement.py: pipeline entities mapped back to words and to character spans."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from pipeline_agreement import char_spans, pipeline_word_tags  # noqa: E402


def test_words_take_the_entity_holding_their_first_character():
    words = ["Asia-Pacific", "Economic", "Cooperation", "met"]
    # The pipeline split the first word: "Asia" country, then "-Pacific Economic Cooperation" organisation.
    entities = [{"entity_group": "country", "start": 0, "end": 4},
                {"entity_group": "organisation", "start": 4, "end": 33}]
    assert pipeline_word_tags(entities, words) == ["B-country", "B-organisation", "I-organisation", "O"]


def test_character_spans_of_word_tags():
    words = ["Angela", "Merkel", "visited", "Paris"]
    assert char_spans(words, ["B-per", "I-per", "O", "B-loc"]) == {("per", 0, 13), ("loc", 22, 27)}
    assert char_spans(words, ["O"] * 4) == set()
