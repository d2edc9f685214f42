"""The NER-BERT corpus builder: Wikipedia dump + DBpedia Ontology -> typed, filtered, balanced IOB corpus."""
