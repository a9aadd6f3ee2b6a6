"""The trained model run without dask (assistant/rasa_server/graph.py) gives exactly what
Rasa's dask run gives: every message's parse and the next action after it."""
from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.e2e  # needs the trained model

TEXTS = ["hello", "what is SEED", "I've got a lad who keeps missing appointments, what are my options?",
         "gibbs", "stop", "2", "will it snow in Cardiff on Sunday", "", "ask Alex to do a Gibbs reflection by Friday",
         "thanks", "x" * 500]


def _run_all(agent):
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    out = []
    for text in TEXTS:
        parse = asyncio.run(agent.parse_message(text))
        tracker = DialogueStateTracker.from_events("someone", [SessionStarted(), ActionExecuted("action_listen"),
                                                               UserUttered(text, parse)], agent.domain.slots)
        prediction = agent.predict_next_with_tracker(tracker)
        prediction.pop("tracker")  # the tracker's state, with this run's timestamps
        out.append((parse, prediction))
    return out


def test_the_model_gives_what_rasas_dask_run_gives(monkeypatch):
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner

    from assistant.config import get_settings
    from assistant.rasa_server import install_sequential_graph_runs

    models = sorted(get_settings().models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    assert models, "no trained model: run `make train`"
    agent = Agent.load(str(models[-1]))
    original = DaskGraphRunner.__dict__["run"]
    monkeypatch.setattr(DaskGraphRunner, "run", original)
    rasas = _run_all(agent)
    install_sequential_graph_runs()
    assert DaskGraphRunner.run is not original
    ours = _run_all(agent)
    assert ours == rasas
    assert {p["intent"]["name"] for p, _ in ours} >= {"greet", "faq"}  # real predictions were compared
