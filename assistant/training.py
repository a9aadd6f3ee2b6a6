"""Retraining after the programme team publishes FAQ changes: one job at a time,
in a background thread of the web app. Each job regenerates the Rasa training data
from the database, trains a candidate model, evaluates it and the running model on the
gate's own held-out questions (content/eval_gate.yml: written from the FAQ catalogue,
never trained on, and no training example was written from them), and only if the
candidate is not worse by more than the measured run-to-run noise moves it into the
models folder and loads it into the running Rasa (PUT /model): conversations carry on,
their trackers are in the database."""
from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import evaluation
from assistant.answering import thresholds_from
from assistant.config import PROJECT_ROOT, Settings, get_settings
from assistant.content import FaqContent, export_faqs, render_nlu
from assistant.db import session_scope
from assistant.models import TrainingJob, utcnow

logger = logging.getLogger(__name__)
GATE_SET = evaluation.GATE_SET
ACTIVE = ("training", "evaluating")


def enqueue(user_id: Optional[int], *, session: Session) -> TrainingJob:
    """Queue a training job (one runs at a time; later ones wait their turn)."""
    job = TrainingJob(status="queued", requested_by=user_id, progress="Waiting for its turn")
    session.add(job)
    session.flush()
    return job


def recover_interrupted(*, session: Session) -> int:
    """Jobs left running by a killed process are marked failed; the running model stays."""
    rows = list(session.scalars(select(TrainingJob).where(TrainingJob.status.in_(ACTIVE))))
    for job in rows:
        job.status, job.finished_at = "failed", utcnow()
        job.reason = "Interrupted (the web app stopped during training). The running model was not changed."
    return len(rows)


def export_training_data(dest: Path, *, session: Session) -> Path:
    """Write Rasa NLU data for the current database content (plus the repo's other NLU files)."""
    nlu_dir = Path(dest) / "nlu_data"
    nlu_dir.mkdir(parents=True, exist_ok=True)
    for path in (PROJECT_ROOT / "nlu_data").glob("*.yml"):
        if path.name != "faq.yml":
            shutil.copy(path, nlu_dir / path.name)
    items = [FaqContent.parse_obj(i) for i in export_faqs(session=session)]
    (nlu_dir / "faq.yml").write_text(render_nlu(items), encoding="utf-8")
    return nlu_dir


def eval_questions() -> List[Tuple[str, str]]:
    """The gate's evaluation questions (content/eval_gate.yml; never trained on)."""
    return evaluation.load_questions(GATE_SET)


# measure -> (count field, direction): +1 = higher is better, -1 = lower is better
GATE_MEASURES = {"answered_correctly": ("in_scope", 1), "answered_wrongly": ("in_scope", -1),
                 "out_of_scope_declined": ("out_of_scope", 1)}


def not_worse(candidate: Dict, running: Optional[Dict], noise: Dict[str, int]) -> Tuple[bool, str]:
    """The acceptance rule: on no measure may the candidate be worse than the running model
    by more than the measured noise (``noise[measure]``, in evaluation questions: the
    run-to-run spread of that measure over training seeds, Settings.gate_noise_*).
    Retraining moves a few questions either way even with the same data; more than that is
    a real regression."""
    if running is None:
        return True, "no running model to compare with"
    worse = []
    for metric, (count, direction) in GATE_MEASURES.items():
        delta = round((candidate[metric] - running[metric]) * running[count])  # + = more questions
        lost = -delta if direction > 0 else delta
        if lost > noise.get(metric, 0):
            fewer = "more" if direction < 0 else "fewer"
            worse.append(f"{metric.replace('_', ' ')} ({candidate[metric]:.3f} vs {running[metric]:.3f}: "
                         f"{lost} questions {fewer}, noise {noise.get(metric, 0)})")
    if worse:
        return False, "worse than the running model on " + "; ".join(worse)
    return True, ("not worse than the running model (within the measured noise: "
                  + ", ".join(f"{m.replace('_', ' ')} {noise.get(m, 0)}" for m in GATE_MEASURES) + " questions)")


def gate_noise(settings: Settings) -> Dict[str, int]:
    """The measured noise per measure, in gate questions (see Settings)."""
    return {"answered_correctly": settings.gate_noise_correct, "answered_wrongly": settings.gate_noise_wrong,
            "out_of_scope_declined": settings.gate_noise_declined}


def _progress_reader(proc: subprocess.Popen, report: Callable[[str], None]) -> None:
    component = ""
    for line in iter(proc.stdout.readline, ""):
        m = re.search(r"Starting to train component '(\w+)'", line)
        if m:
            component = m.group(1)
            report(f"Training {component}")
        for pct in re.findall(r"Epochs:\s+(\d+)%", line)[-1:]:
            report(f"Training {component} {pct}%")


def train_candidate(data_dir: Path, out_dir: Path, name: str, report: Callable[[str], None],
                    timeout: float) -> Path:
    """Run ``rasa train`` on the exported data; returns the model file."""
    cmd = [sys.executable, "-m", "rasa", "train", "--data", str(data_dir / "nlu_data"), "stories",
           "--config", "config.yml", "--domain", "domain.yml", "--out", str(out_dir),
           "--fixed-model-name", name, "--force",
           # the FAQ content was checked by its own rules and domain/stories are the repo's,
           # validated by `make validate`: Rasa's validation pass would only add ~15 s
           "--skip-validation"]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    reader = threading.Thread(target=_progress_reader, args=(proc, report), daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise RuntimeError(f"training took longer than {timeout:.0f} s and was stopped")
    reader.join(timeout=5)
    model = out_dir / f"{name}.tar.gz"
    if code != 0 or not model.exists():
        raise RuntimeError(f"rasa train failed (exit code {code})")
    return model


def evaluate(models: List[Path], settings: Optional[Settings] = None, timeout: float = 600) -> List[Dict]:
    """The measures of each model on the gate's set, with the lexical ranker over the
    database's FAQs and the chat's thresholds: the shared evaluation (the one ``make bench``
    uses to measure the gate's noise), run in a child process so that TensorFlow stays out
    of the web app (:func:`assistant.evaluation.gate_figures`)."""
    settings = settings or get_settings()
    return evaluation.gate_figures(models, database_url=settings.database_url,
                                   thresholds=thresholds_from(settings), timeout=timeout)


def running_model(settings: Settings) -> Optional[Path]:
    """The model file the (first) running Rasa server has loaded, if any."""
    try:
        resp = httpx.get(f"{settings.rasa_urls[0]}/status", params={"token": settings.rasa_token}, timeout=5)
        name = resp.json().get("model_file")
    except (httpx.HTTPError, ValueError):
        return None
    path = settings.models_dir / Path(name).name if name else None
    return path if path and path.exists() else None


def _load_model(url: str, model: Path, settings: Settings) -> None:
    resp = httpx.put(f"{url}/model", params={"token": settings.rasa_token},
                     json={"model_file": str(model)}, timeout=300)
    if resp.status_code != 204 and resp.status_code != 200:
        raise RuntimeError(f"Rasa refused the new model (HTTP {resp.status_code})")


def deploy(model: Path, settings: Settings, previous: Optional[Path] = None) -> None:
    """Load ``model`` into each running Rasa server in turn (each keeps serving while it
    loads). If one refuses, those already changed go back to ``previous``: every server
    always runs the same model."""
    done: List[str] = []
    try:
        for url in settings.rasa_urls:
            _load_model(url, model, settings)
            done.append(url)
    except (httpx.HTTPError, RuntimeError):
        for url in done if previous else []:
            try:
                _load_model(url, previous, settings)
            except (httpx.HTTPError, RuntimeError) as exc:
                logger.error("could not put %s back on %s: %s", previous, url, exc)
        raise


def run_job(job_id: int, settings: Settings) -> str:
    """Train, evaluate and (if not worse) deploy for one queued job; returns its final status."""
    url = settings.database_url

    def update(**fields) -> None:
        with session_scope(url) as s:
            job = s.get(TrainingJob, job_id)
            for k, v in fields.items():
                setattr(job, k, v)

    work = settings.models_dir / ".training" / f"job-{job_id}"  # not top level: `rasa run` ignores it
    try:
        update(status="training", started_at=utcnow(), progress="Preparing training data")
        with session_scope(url) as s:
            data_dir = export_training_data(work, session=s)
        candidate = train_candidate(data_dir.parent, work, f"candidate-{job_id}", lambda p: update(progress=p),
                                    settings.training_timeout_seconds)
        update(status="evaluating", progress="Evaluating against the running model")
        current = running_model(settings)
        results = evaluate([candidate] + ([current] if current else []), settings)
        noise = gate_noise(settings)
        ok, why = not_worse(results[0], results[1] if current else None, noise)
        metrics = {"candidate": results[0], "running": results[1] if current else None, "noise": noise,
                   "set": GATE_SET.name}
        if not ok:
            update(status="rejected", finished_at=utcnow(), metrics=json.dumps(metrics), reason=why,
                   progress="Rejected: the running model stays")
            return "rejected"
        final = settings.models_dir / f"{utcnow():%Y%m%d-%H%M%S}-published-{job_id}.tar.gz"
        shutil.move(str(candidate), final)
        update(progress="Loading the new model into the assistant")
        deploy(final, settings, previous=current)
        update(status="deployed", finished_at=utcnow(), metrics=json.dumps(metrics), model_path=str(final),
               reason=why, progress="Live")
        return "deployed"
    except Exception as exc:  # any failure: the running model stays, the page says why
        logger.error("training job %s failed: %s", job_id, exc)
        update(status="failed", finished_at=utcnow(), reason=f"{exc}. The running model was not changed.",
               progress="Failed")
        return "failed"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def next_job(*, session: Session) -> Optional[int]:
    """The oldest queued job, if nothing is running."""
    if session.scalars(select(TrainingJob.id).where(TrainingJob.status.in_(ACTIVE))).first():
        return None
    return session.scalars(select(TrainingJob.id).where(TrainingJob.status == "queued")
                           .order_by(TrainingJob.id)).first()


class TrainingWorker:
    """Runs queued jobs one at a time in a background thread."""

    def __init__(self, settings: Settings, poll_seconds: float = 2.0) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="training-worker", daemon=True)

    def start(self) -> None:
        """Mark interrupted jobs failed, then start polling."""
        with session_scope(self.settings.database_url) as s:
            recover_interrupted(session=s)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (a job in progress finishes in its subprocess)."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with session_scope(self.settings.database_url) as s:
                    job_id = next_job(session=s)
                if job_id is not None:
                    run_job(job_id, self.settings)
                    continue
            except Exception as exc:
                logger.error("training worker: %s", exc)
            self._stop.wait(self.poll_seconds)
