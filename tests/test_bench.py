"""make bench's measuring parts that need no trained model (the real run is `make bench`)."""
import yaml

from assistant import bench_stability as bench
from assistant import evaluation


def test_seeded_config_changes_only_the_seeds(tmp_path):
    path = bench.seeded_config(7, tmp_path / "c.yml")
    config = yaml.safe_load(path.read_text())
    original = yaml.safe_load((bench.PROJECT_ROOT / "config.yml").read_text())
    seeds = [c["random_seed"] for c in config["pipeline"] if "random_seed" in c]
    assert seeds and set(seeds) == {7}
    for c in config["pipeline"]:
        c.pop("random_seed", None)
    for c in original["pipeline"]:
        c.pop("random_seed", None)
    assert config == original


def test_one_example_is_added_to_one_faq(tmp_path):
    data, items = bench.data_with_added_example(tmp_path / "nlu", *bench.ADDED_EXAMPLE)
    key, text = bench.ADDED_EXAMPLE
    assert text in next(i for i in items if i.key == key).examples
    assert f"- {text}\n" in (tmp_path / "nlu" / "faq.yml").read_text()
    assert {p.name for p in (tmp_path / "nlu").glob("*.yml")} == {p.name for p in (bench.PROJECT_ROOT / "nlu_data").glob("*.yml")}


def test_stability_reports_the_spread_over_seeds_and_the_one_example_swing(tmp_path, monkeypatch):
    trained = []
    monkeypatch.setattr(bench, "_train", lambda out, config, data, nlu_only=False: trained.append(out) or 1.0)
    correct = {"base": 90, "seed-1": 88, "seed-2": 91, "seed-3": 89, "seed-4": 92, "added": 90}

    def fake_evaluate(model, sets, thresholds, docs):
        name = model.parent.name if model.name == "model.tar.gz" else "base"
        n = correct[name]
        return {s: {**evaluation.score([("q", "k", "answer", "k")] * n + [("q", "k", "decline", None)] * (100 - n)
                                       + [("q", "out_of_scope", "decline", None)] * 10), "rows": []} for s in sets}

    monkeypatch.setattr(bench.evaluation, "evaluate_model", fake_evaluate)
    out = bench.stability(tmp_path / "base.tar.gz", tmp_path, {"heldout": tmp_path / "h.yml"})
    assert len(trained) == 5  # four more seeds and the added example
    s = out["spread"]["heldout"]
    assert (s["answered_correctly"]["min"], s["answered_correctly"]["max"]) == (0.88, 0.92)
    assert abs(s["answered_correctly"]["mean"] - 0.9) < 1e-9 and s["questions"]["answered_correctly"] == 4
    assert out["swing"]["heldout"]["answered_correctly"] == 0.0
