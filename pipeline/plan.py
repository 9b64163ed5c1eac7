"""The stage planner: fuses adjacent stages that can share one pass (e.g. one spaCy `nlp.pipe`).

A stage opts in by returning a hashable `fusion_key()` (for spaCy stages: the model
name); adjacent stages with equal keys become one unit built by the first stage's
`fuse(stages)`. Users still list the stages separately; the planner never reorders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .stage import Stage

__all__ = ["Step", "plan_stages"]


@dataclass
class Step:
    """One runnable unit: the stage indices it covers and the stage object that runs them."""

    indices: list[int]
    stage: Stage

    @property
    def names(self) -> list[str]:
        """Registered names of the stages this step covers."""
        return (
            [self.stage.name]
            if len(self.indices) == 1
            else list(getattr(self.stage, "stage_names", []))
        )


def plan_stages(stages: Sequence[Stage]) -> list[Step]:
    """Group adjacent stages with equal, non-None fusion keys into fused steps, in order."""
    steps: list[Step] = []
    group: list[int] = []

    def close() -> None:
        if not group:
            return
        members = [stages[i] for i in group]
        runner = members[0] if len(members) == 1 else members[0].fuse(members)
        steps.append(Step(list(group), runner))
        group.clear()

    previous_key = None
    for i, stage in enumerate(stages):
        key = stage.fusion_key()
        if group and (key is None or key != previous_key):
            close()
        group.append(i)
        previous_key = key
        if key is None:
            close()
    close()
    return steps
