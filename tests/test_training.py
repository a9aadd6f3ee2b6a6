"""The retraining pipeline's decisions and failure handling (the real training run is
in test_e2e_retrain.py)."""
import functools
import json
import os
import time
from pathlib import Path

import pytest

from assistant import evaluation, training
from assistant.answering import thresholds_from
from assistant.content import load_faq_file, render_nlu
from assistant.db import session_scope
from assistant.models import TrainingJob
from tests.conftest import ROOT

RUNNING = {"in_scope": 100, "out_of_scope": 10, "answered_correctly": 0.90, "answered_wrongly": 0.02,
           "out_of_scope_declined": 0.90}
NOISE = {"answered_correctly": 3, "answered_wrongly": 1, "out_of_scope_declined": 1}


@pytest.mark.parametrize("change, ok", [
    ({}, True),
    ({"answered_correctly": 0.87}, True),                 # three fewer: within the measured noise
    ({"answered_correctly": 0.86}, False),                # four fewer: a regression
    ({"answered_wrongly": 0.03}, True),                   # one more wrong answer: noise
    ({"answered_wrongly": 0.04}, False),                  # two more: a regression
    ({"out_of_scope_declined": 0.80}, True),
    ({"out_of_scope_declined": 0.70}, False),
    ({"answered_correctly": 0.99, "answered_wrongly": 0.0, "out_of_scope_declined": 1.0}, True),
])
def test_not_worse_rule_allows_only_the_measured_noise(change, ok):
    accepted, why = training.not_worse({**RUNNING, **change}, RUNNING, NOISE)
    assert accepted is ok, why
    assert training.not_worse(RUNNING, None, NOISE)[0]


def test_the_issue_case_is_rejected():
    """0.846 -> 0.821 answered correctly and 3 -> 5 wrong answers of 156 is not noise."""
    running = {"in_scope": 156, "out_of_scope": 20, "answered_correctly": 132 / 156, "answered_wrongly": 3 / 156,
               "out_of_scope_declined": 1.0}
    candidate = {**running, "answered_correctly": 128 / 156, "answered_wrongly": 5 / 156}
    accepted, why = training.not_worse(candidate, running, NOISE)
    assert not accepted and "answered correctly" in why and "answered wrongly" in why


def test_gate_noise_comes_from_settings():
    from assistant.config import Settings

    s = Settings(env="test", gate_noise_correct=4, gate_noise_wrong=2, gate_noise_declined=1)
    assert training.gate_noise(s) == {"answered_correctly": 4, "answered_wrongly": 2, "out_of_scope_declined": 1}


def test_training_data_is_generated_from_the_database(seeded, tmp_path):
    with session_scope(seeded.database_url) as s:
        nlu = training.export_training_data(tmp_path, session=s)
    assert (nlu / "faq.yml").read_text() == render_nlu(load_faq_file(ROOT / "content" / "faqs.yml"))
    assert {p.name for p in nlu.glob("*.yml")} == {p.name for p in (ROOT / "nlu_data").glob("*.yml")}


def test_the_gates_questions_are_never_trained_on():
    from assistant.content import normalise

    trained = {normalise(e) for i in load_faq_file(ROOT / "content" / "faqs.yml") for e in i.examples}
    held = training.eval_questions()
    assert training.GATE_SET.name == "eval_gate.yml" and len(held) >= 120
    assert not {normalise(t) for t, _ in held} & trained


def test_a_failed_training_leaves_the_running_model_and_says_why(seeded, tmp_path, monkeypatch):
    settings = seeded.copy(update={"models_dir": tmp_path})
    with session_scope(seeded.database_url) as s:
        job_id = training.enqueue(None, session=s).id

    def broken(*args, **kwargs):
        raise RuntimeError("rasa train failed (exit code 1)")

    monkeypatch.setattr(training, "train_candidate", broken)
    deployed = []
    monkeypatch.setattr(training, "deploy", lambda *a, **k: deployed.append(a))
    assert training.run_job(job_id, settings) == "failed"
    with session_scope(seeded.database_url) as s:
        job = s.get(TrainingJob, job_id)
        assert job.status == "failed" and "running model was not changed" in job.reason
    assert deployed == [] and list(tmp_path.glob("*.tar.gz")) == []


def test_a_rejected_candidate_is_not_deployed(seeded, tmp_path, monkeypatch):
    settings = seeded.copy(update={"models_dir": tmp_path})
    (tmp_path / "running.tar.gz").write_text("model")
    with session_scope(seeded.database_url) as s:
        job_id = training.enqueue(None, session=s).id

    def fake_train(data_dir, out_dir, name, report, timeout):
        report("Training DIETClassifier 50%")
        path = out_dir / f"{name}.tar.gz"
        path.write_text("candidate")
        return path

    monkeypatch.setattr(training, "train_candidate", fake_train)
    monkeypatch.setattr(training, "running_model", lambda s: tmp_path / "running.tar.gz")
    monkeypatch.setattr(training, "evaluate", lambda models, settings=None: [{**RUNNING, "answered_correctly": 0.75},
                                                                            RUNNING])
    monkeypatch.setattr(training, "deploy", lambda *a, **k: pytest.fail("must not deploy"))
    assert training.run_job(job_id, settings) == "rejected"
    with session_scope(seeded.database_url) as s:
        job = s.get(TrainingJob, job_id)
        metrics = json.loads(job.metrics)
        assert "15 questions fewer" in job.reason and metrics["running"] == RUNNING
        assert metrics["noise"] == training.gate_noise(settings) and metrics["candidate"]["answered_correctly"] == 0.75
    assert [p.name for p in tmp_path.glob("*.tar.gz")] == ["running.tar.gz"]


def test_killed_jobs_are_marked_failed_and_jobs_run_one_at_a_time(seeded):
    with session_scope(seeded.database_url) as s:
        first = training.enqueue(None, session=s)
        second = training.enqueue(None, session=s)
        assert training.next_job(session=s) == first.id
        first.status = "training"
        assert training.next_job(session=s) is None  # one at a time: the second waits
    with session_scope(seeded.database_url) as s:
        assert training.recover_interrupted(session=s) == 1
        assert s.get(TrainingJob, first.id).status == "failed"
        assert training.next_job(session=s) == second.id


class _FakeRasa:
    """Stands in for httpx.put against several Rasa servers; ``refuse`` lists URLs that fail."""

    def __init__(self, refuse=()):
        self.refuse, self.calls = set(refuse), []

    def put(self, url, params, json, timeout):
        self.calls.append((url.rsplit("/model", 1)[0], json["model_file"]))
        return type("Resp", (), {"status_code": 500 if url.rsplit("/model", 1)[0] in self.refuse else 204})()


def _settings_with(urls):
    from assistant.config import Settings
    return Settings(env="test", rasa_url=",".join(urls), training_worker=False)


def test_a_new_model_goes_to_every_rasa_server(monkeypatch, tmp_path):
    fake = _FakeRasa()
    monkeypatch.setattr(training.httpx, "put", fake.put)
    settings = _settings_with(["http://127.0.0.1:1", "http://127.0.0.1:2/"])
    training.deploy(tmp_path / "new.tar.gz", settings, previous=tmp_path / "old.tar.gz")
    assert fake.calls == [("http://127.0.0.1:1", str(tmp_path / "new.tar.gz")),
                          ("http://127.0.0.1:2", str(tmp_path / "new.tar.gz"))]


def test_if_one_rasa_server_refuses_the_others_go_back_to_the_running_model(monkeypatch, tmp_path):
    fake = _FakeRasa(refuse={"http://127.0.0.1:2"})
    monkeypatch.setattr(training.httpx, "put", fake.put)
    settings = _settings_with(["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"])
    with pytest.raises(RuntimeError, match="refused"):
        training.deploy(tmp_path / "new.tar.gz", settings, previous=tmp_path / "old.tar.gz")
    assert fake.calls == [("http://127.0.0.1:1", str(tmp_path / "new.tar.gz")),
                          ("http://127.0.0.1:2", str(tmp_path / "new.tar.gz")),
                          ("http://127.0.0.1:1", str(tmp_path / "old.tar.gz"))]


# --- The gate's evaluation: the shared module, in a child process, not the CLI ---------------
# Rasa stand-ins for the child process live at module level: functions travel by pickle.

def _parse(text, key):
    """Rasa-shaped parse data: the FAQ ``key`` with high confidence, or out of scope."""
    if key is None:
        return {"text": text, "intent": {"name": "out_of_scope", "confidence": 0.99}, "entities": []}
    return {"text": text, "intent": {"name": "faq", "confidence": 0.99}, "entities": [],
            "intent_ranking": [{"name": "faq", "confidence": 0.99}],
            "response_selector": {"faq": {"response": {"intent_response_key": f"faq/{key}"},
                                          "ranking": [{"intent_response_key": f"faq/{key}", "confidence": 0.99}]}}}


def fake_parse(model, texts):
    """A model whose file says "good" gets every gate question right; any other declines
    everything. Notes the process it ran in next to the model."""
    Path(f"{model}.pid").write_text(str(os.getpid()))
    expected = dict(evaluation.load_questions(evaluation.GATE_SET))
    good = Path(model).read_text() == "good"
    return [_parse(t, expected[t] if good and expected[t] != evaluation.OUT_OF_SCOPE else None) for t in texts]


def _explode():
    raise ValueError("the model file is corrupt")


def _hang():
    time.sleep(120)


def _die():
    os._exit(3)


def test_the_gate_evaluates_in_a_child_process_with_the_code_bench_uses(seeded, tmp_path):
    models = [tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz"]
    models[0].write_text("good")
    models[1].write_text("bad")
    thresholds = thresholds_from(seeded)
    figures = evaluation.gate_figures(models, database_url=seeded.database_url, thresholds=thresholds,
                                      parse=fake_parse, timeout=120)
    assert all(int(Path(f"{m}.pid").read_text()) != os.getpid() for m in models)   # not in this process
    # the same figures as bench's path (evaluation.measure) in this process
    here = evaluation.measure(models, {"gate": evaluation.GATE_SET}, thresholds,
                              evaluation.documents_from_database(seeded.database_url), rows=False, parse=fake_parse)
    assert figures == [per_set["gate"] for per_set in here]
    good, bad = figures
    assert "rows" not in good and good["in_scope"] + good["out_of_scope"] == len(training.eval_questions())
    assert good["answered_correctly"] == 1.0 and good["answered_wrongly"] == 0 and good["out_of_scope_declined"] == 1.0
    assert bad["answered_correctly"] == 0 and bad["out_of_scope_declined"] == 1.0


def test_retraining_evaluates_through_the_shared_module_not_a_cli_subprocess(seeded, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(training.evaluation, "gate_figures", lambda models, **kw: calls.append((models, kw)) or [RUNNING])
    monkeypatch.setattr(training.subprocess, "run", lambda *a, **k: pytest.fail("the gate must not run a command"))
    assert training.evaluate([tmp_path / "candidate.tar.gz"], seeded, timeout=30) == [RUNNING]
    [(models, kw)] = calls
    assert models == [tmp_path / "candidate.tar.gz"]
    assert kw == {"database_url": seeded.database_url, "thresholds": thresholds_from(seeded), "timeout": 30}


@pytest.mark.parametrize("func, message", [
    (_explode, "evaluation failed: ValueError: the model file is corrupt"),
    (_die, r"evaluation stopped without a result \(exit code 3\)"),
])
def test_a_failed_evaluation_says_why(func, message):
    with pytest.raises(RuntimeError, match=message):
        evaluation.in_child(func, timeout=120)


def test_a_hung_evaluation_is_stopped_at_the_timeout():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="longer than 3 s"):
        evaluation.in_child(_hang, timeout=3)
    assert time.monotonic() - start < 20


@pytest.mark.parametrize("candidate, status", [("good", "deployed"), ("bad", "rejected")])
def test_a_job_gates_the_candidate_on_the_shared_evaluation(seeded, tmp_path, monkeypatch, candidate, status):
    """run_job end to end but for Rasa: the candidate and the running model are evaluated by
    the real gate (child process, shared code) with a stand-in parser."""
    settings = seeded.copy(update={"models_dir": tmp_path})
    (tmp_path / "running.tar.gz").write_text("good")
    with session_scope(seeded.database_url) as s:
        job_id = training.enqueue(None, session=s).id

    def fake_train(data_dir, out_dir, name, report, timeout):
        path = out_dir / f"{name}.tar.gz"
        path.write_text(candidate)
        return path

    deployed = []
    monkeypatch.setattr(training, "train_candidate", fake_train)
    monkeypatch.setattr(training, "running_model", lambda s: tmp_path / "running.tar.gz")
    monkeypatch.setattr(training, "deploy", lambda model, *a, **k: deployed.append(model.name))
    monkeypatch.setattr(training.evaluation, "gate_figures",
                        functools.partial(evaluation.gate_figures, parse=fake_parse))
    assert training.run_job(job_id, settings) == status
    with session_scope(seeded.database_url) as s:
        metrics = json.loads(s.get(TrainingJob, job_id).metrics)
    assert metrics["running"]["answered_correctly"] == 1.0
    assert metrics["candidate"]["answered_correctly"] == (1.0 if candidate == "good" else 0.0)
    assert len(deployed) == (status == "deployed")
