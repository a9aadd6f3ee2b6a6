"""The one scoring of FAQ accuracy (make bench, the retraining gate, the CLI)."""
from assistant.answering import Decision, Thresholds
from assistant.evaluation import decide_rows, misses, outcome, score, spread
from assistant.lexical import FaqDocument, LexicalIndex
from tests.test_actions import parse

ROWS = [
    ("q1", "omfq", "answer", "omfq"),            # answered correctly
    ("q2", "omfq", "answer", "seed_what_is"),    # answered wrongly
    ("q3", "seed_what_is", "suggest", "seed_what_is"),  # a suggestion is not an answer
    ("q4", "seed_what_is", "decline", None),
    ("q5", "out_of_scope", "decline", None),     # declined
    ("q6", "out_of_scope", "suggest", "omfq"),   # not declined
]


def test_the_three_measures():
    s = score(ROWS)
    assert (s["in_scope"], s["out_of_scope"]) == (4, 2)
    assert s["answered_correctly"] == 0.25 and s["answered_correctly_n"] == 1
    assert s["answered_wrongly"] == 0.25 and s["answered_wrongly_n"] == 1
    assert s["out_of_scope_declined"] == 0.5 and s["out_of_scope_declined_n"] == 1
    assert "in_scope_top1" not in s
    assert [r[0] for r in misses(ROWS)] == ["q2", "q3", "q4", "q6"]


def test_outcome_is_what_the_user_sees():
    assert outcome(Decision("answer", key="omfq")) == ("answer", "omfq")
    assert outcome(Decision("suggest", key="a", suggestions=["b", "a"])) == ("suggest", "b")
    assert outcome(Decision("decline", key="omfq")) == ("decline", None)


def test_rows_use_the_action_servers_decision_with_the_lexical_ranker():
    index = LexicalIndex([FaqDocument("omfq", "What is the OMFQ-r?", ("feedback questionnaire",)),
                          FaqDocument("seed_what_is", "What is SEED?", ("tell me about seed",))])
    t = Thresholds(answer=0.9, suggest=0.2, combined=1.0, lexical_weight=1.0, lexical_full=1.0, disagree_margin=0.5,
                   lexical=0.5, lexical_min=0.0, interruption=0.6)
    questions = [("what is the feedback questionnaire", "omfq"), ("what is the feedback questionnaire", "omfq")]
    parses = [parse("x", ranking=[("omfq", 0.5), ("seed_what_is", 0.3)])] * 2
    assert decide_rows(questions, parses, t, index)[0][2:] == ("answer", "omfq")   # agreement
    assert decide_rows(questions, parses, t, None)[0][2:] == ("suggest", "omfq")   # no lexical ranker


def test_spread_over_runs():
    runs = [{"answered_correctly": a, "answered_wrongly": 0.01, "out_of_scope_declined": 1.0} for a in (0.9, 0.94, 0.92)]
    s = spread(runs)["answered_correctly"]
    assert abs(s["mean"] - 0.92) < 1e-9 and s["min"] == 0.9 and s["max"] == 0.94 and abs(s["spread"] - 0.04) < 1e-9


def test_no_training_example_is_an_evaluation_question():
    """The held-out sets (and the dev set, when present) are never trained on as FAQ or
    out-of-scope examples (a bare greeting may be both a chitchat example and a test that
    greetings get no FAQ answer)."""
    import yaml

    from assistant.content import load_faq_file, normalise
    from assistant.evaluation import BLIND_SET, DEV_SET, GATE_SET, HELDOUT_SET, load_questions
    from tests.conftest import ROOT

    trained = {normalise(e) for i in load_faq_file(ROOT / "content" / "faqs.yml") for e in i.examples}
    for path in (ROOT / "nlu_data" / "faq.yml", ROOT / "nlu_data" / "out_of_scope.yml"):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            trained |= {normalise(line[2:]) for line in block.get("examples", "").splitlines() if line.startswith("- ")}
    for path in (HELDOUT_SET, GATE_SET, DEV_SET, BLIND_SET):
        if path.exists():
            assert not {normalise(t) for t, _ in load_questions(path)} & trained, path.name


def test_the_gate_builds_the_lexical_ranker_from_the_database(seeded):
    from assistant.evaluation import documents_from_database, documents_from_file
    from tests.conftest import ROOT

    from_db = {d.key: d for d in documents_from_database(seeded.database_url)}
    from_file = {d.key: d for d in documents_from_file(ROOT / "content" / "faqs.yml")}
    assert from_db.keys() == from_file.keys() and from_db["omfq"].examples == from_file["omfq"].examples
