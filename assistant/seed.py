"""Load all repo content (FAQs and reflection question sets) into the database."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from assistant.content import load_faq_file, seed_faqs
from assistant.reflections import load_set_file, seed_sets


def seed_content(content_dir: Path, *, session: Session, overwrite: bool = False) -> dict:
    """Seed FAQs (existing ones kept unless ``overwrite``) and reflection sets; returns counts."""
    counts = seed_faqs(load_faq_file(Path(content_dir) / "faqs.yml"), session=session, overwrite=overwrite)
    counts["reflection_sets"] = seed_sets(load_set_file(Path(content_dir) / "reflection_sets.yml"), session=session)
    return counts
