"""``make bench``'s trainings: the timed full training, and the stability runs (the
measures over 5 training seeds, and after one added example) that the retraining gate's
noise settings come from."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from assistant import evaluation
from assistant.answering import thresholds_from
from assistant.config import PROJECT_ROOT, get_settings
from assistant.content import load_faq_file, render_nlu

TRAIN_TIMEOUT_S = 900  # bounds each training (the stability part runs five)
SEEDS = (2011, 1, 2, 3, 4)  # the first is config.yml's own seed (the timed training)
# The "one added example" run: one new example question for one FAQ, written from the
# catalogue (not from any evaluation set), as the programme team would add it.
ADDED_EXAMPLE = ("contact_frequency", "how often am i meant to be seeing someone on my caseload")


def _train(out_dir: Path, config: Path, data: List[str], nlu_only: bool = False) -> float:
    """Train into ``out_dir``; returns the seconds it took."""
    cmd = [sys.executable, "-m", "rasa", "train"] + (["nlu", "--nlu", *data] if nlu_only else
                                                      ["--data", *data, "stories", "--domain", "domain.yml"])
    # as the retraining worker trains (assistant/training.py): validation is `make validate`'s job
    cmd += ["--config", str(config), "--out", str(out_dir), "--fixed-model-name", "model", "--quiet"]
    start = time.perf_counter()
    # `rasa train nlu` has neither --force nor --skip-validation
    subprocess.run(cmd + ([] if nlu_only else ["--force", "--skip-validation"]), cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TRAIN_TIMEOUT_S)
    return time.perf_counter() - start


def training_time(out_dir: Path) -> float:
    """Seconds for a full (forced) training run into ``out_dir`` (model ``model.tar.gz``)."""
    return _train(out_dir, PROJECT_ROOT / "config.yml", ["nlu_data"])


def seeded_config(seed: int, dest: Path) -> Path:
    """A copy of config.yml with every ``random_seed`` set to ``seed``."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config.get("pipeline") or []:
        if "random_seed" in component:
            component["random_seed"] = seed
    dest.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return dest


def data_with_added_example(dest: Path, key: str, text: str) -> Tuple[List[str], list]:
    """NLU data (and FAQ items) with one example added to FAQ ``key``."""
    items = load_faq_file(PROJECT_ROOT / "content" / "faqs.yml")
    for item in items:
        if item.key == key:
            item.examples.append(text)
    dest.mkdir(parents=True, exist_ok=True)
    for path in (PROJECT_ROOT / "nlu_data").glob("*.yml"):
        if path.name != "faq.yml":
            shutil.copy(path, dest / path.name)
    (dest / "faq.yml").write_text(render_nlu(items), encoding="utf-8")
    return [str(dest)], items


def stability(base_model: Path, work: Path, sets: Dict[str, Path]) -> dict:
    """Each measure over 5 training seeds (the base model is the first) and after adding one
    example (same seed as the base): mean / min / max / spread, and the one-example swing."""
    thresholds = thresholds_from(get_settings())
    docs = evaluation.documents_from_file()
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for seed in SEEDS:
        model = base_model
        if seed != SEEDS[0]:
            out = work / f"seed-{seed}"
            _train(out, seeded_config(seed, work / f"config-{seed}.yml"), ["nlu_data"], nlu_only=True)
            model = out / "model.tar.gz"
        # the gate's own evaluation path (evaluation.measure), so the noise fits what it measures
        runs.append(evaluation.measure([model], sets, thresholds, docs, rows=False)[0])
    data, items = data_with_added_example(work / "added" / "nlu_data", *ADDED_EXAMPLE)
    _train(work / "added", seeded_config(SEEDS[0], work / "config-added.yml"), data, nlu_only=True)
    [added] = evaluation.measure([work / "added" / "model.tar.gz"], sets, thresholds,
                                 evaluation.documents_from_items(items), rows=False)
    out = {"seeds": list(SEEDS), "added_example": list(ADDED_EXAMPLE), "runs": runs, "spread": {}, "swing": {},
           "added": added}
    for name in sets:
        out["spread"][name] = evaluation.spread([r[name] for r in runs])
        out["swing"][name] = {m: added[name][m] - runs[0][name][m] for m in evaluation.MEASURES}
        out["spread"][name]["questions"] = {
            m: round(out["spread"][name][m]["spread"] * runs[0][name]["out_of_scope" if m == "out_of_scope_declined"
                                                                       else "in_scope"])
            for m in evaluation.MEASURES}
    return out
