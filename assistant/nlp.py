"""The spaCy pipeline Rasa loads by path, built only from official packages.

``spacy.blank("en")`` + a lookup lemmatizer (tables from ``spacy-lookups-data``)
+ an EntityRuler for programme terms. Nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

PROGRAMME_TERM = "programme_term"

# canonical id -> surface forms (matched case-insensitively, token by token)
TERMS: Dict[str, List[str]] = {
    "SEED": ["SEED", "SEEDS", "Skills for Effective Engagement and Development"],
    "RSM": ["RSM", "R.S.M", "Reflective Supervision Model", "reflective supervision"],
    "SPA": ["SPA", "Sentence Planning Approaches", "sentence planning approach"],
    "OEP": ["OEP", "O.E.P", "Offender Engagement Programme", "engagement programme"],
    "OMFQ": ["OMFQ", "OMFQ-r", "OMFQr", "Offender Management Feedback Questionnaire"],
    "National Standards": [
        "National Standards", "National Standards 2011", "NS2011", "NS 2011",
        "2011 standards", "nat standards",
    ],
    "RNR": ["RNR", "risk need responsivity", "risk-need-responsivity"],
    "MI": ["motivational interviewing"],
}


def entity_patterns(nlp) -> List[dict]:
    """EntityRuler patterns (token-level, lower-cased) for the programme terms."""
    patterns = []
    for term_id, forms in TERMS.items():
        for form in forms:
            tokens = [{"LOWER": t.lower_} for t in nlp.make_doc(form)]
            patterns.append({"label": PROGRAMME_TERM, "pattern": tokens, "id": term_id})
    return patterns


def build_pipeline():
    """Return a new spaCy ``Language``: tokenizer, lookup lemmatizer, entity ruler."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data into the pipeline
    ruler.add_patterns(entity_patterns(nlp))
    nlp.meta["name"] = "probation_assistant"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank English + lookup lemmatizer + programme-term entity ruler"
    return nlp


def build_to_disk(out_dir: Path) -> Path:
    """Build the pipeline and save it to ``out_dir`` (Rasa's SpacyNLP ``model`` path)."""
    out_dir = Path(out_dir)
    nlp = build_pipeline()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    return out_dir
