"""Running Rasa's model graph without dask: the same nodes, inputs and results.

Rasa 3.6 runs its graph (the NLU pipeline for each message; the policies for each
prediction, several per message) through ``dask.get``, which orders and schedules the
handful of nodes anew on every run: ~6% of a Rasa server's CPU per message under load
(py-spy), more than the spaCy pipeline. Here each needed node is called once, after the
nodes it needs, exactly as dask would call it (``node(*results of its needs)``), on the
same minimal schema, with the same input handling and the same error wrapping.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional


def install_sequential_graph_runs() -> None:
    """Replace ``DaskGraphRunner.run`` with a plain depth-first run of the same graph."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(self, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None) -> Dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        schema = self._graph_schema.minimal_graph_schema(run_targets)
        done: Dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in schema.nodes:
                raise GraphRunError(f"Input value '{value}' clashes with a node name. Make sure that none of the "
                                    f"input names passed to the `run` method are the same as node names in the "
                                    f"graph schema.")
            done[name] = (name, value)  # as dask sees an input: the literal (name, value)

        def result(name: str):
            if name not in done:
                needs = [result(need) for need in schema.nodes[name].needs.values()]
                done[name] = self._instantiated_nodes[name](*needs)
            return done[name]

        try:
            return dict(result(target) for target in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run
