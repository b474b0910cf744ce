"""What a method is made of: terms over one core.

A :class:`Term` is one piece of a method (a hint, logit KD, an adversary):
it builds its modules from the probed models, names the optimizer part each
belongs to, adds its ``distill.*`` losses to the student update and may own
updates of its own (a discriminator's). The core
(:class:`~mmkd.models.distillers.TeacherDistiller`) runs the student once,
the teacher once, and hands every term the same :class:`Step`.

Terms hold no modules themselves: they attach them to the core under their
names (``adapter``, ``discriminator``, ``attention``), where checkpoints,
DDP (which wraps them in place) and the optimizer constructor find them,
and read them back from the core at each call.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from mmkd import registry
from ..tasks import Features


def build_loss(cfg: Optional[dict], name: str) -> Optional[nn.Module]:
    """A loss from its config (None: none), its weight checked."""
    from ..losses import check_loss_weight
    if cfg is None:
        return None
    check_loss_weight(cfg.get('loss_weight', 1.0), name)
    return registry.MODELS.build(cfg)


@dataclass
class Step:
    """What one forward of the student and the teacher gives the terms.

    Attributes:
        inputs: The preprocessed batch, ``(N, 3, H, W)``.
        data_samples: Its samples (ground truth).
        student: The student's :class:`~mmkd.models.tasks.Features` (every
            map with its stride, its logits, the images' labels).
        teacher: The teacher's.
        s_maps: The student's distilled maps, one per level pair, as the
            student computed them.
        t_maps: The teacher's maps of the same pairs.
        adapt: ``maps -> maps`` through the core's T2S adapter (resized to
            the teacher's sizes where a loss compares locations).
        rows: The logit rows of both, where a term put them.
    """
    inputs: torch.Tensor
    data_samples: list
    student: Features
    teacher: Features
    s_maps: List[torch.Tensor]
    t_maps: List[torch.Tensor]
    adapt: Callable = None
    rows: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
    _adapted: Optional[List[torch.Tensor]] = field(default=None, repr=False)

    @property
    def adapted(self) -> List[torch.Tensor]:
        """The student's maps through the adapter (computed once)."""
        if self._adapted is None:
            self._adapted = self.adapt(self.s_maps, self.t_maps)
        return self._adapted


@dataclass
class PeerStep:
    """What one forward of every online network gives the terms.

    Attributes:
        inputs: The preprocessed batch.
        data_samples: Its samples (ground truth).
        features: Per network k (0: the student), the
            :class:`~mmkd.models.tasks.Features` of its ``loss`` forward.
    """
    inputs: torch.Tensor
    data_samples: list
    features: List[Features]


@dataclass
class BranchStep:
    """What one forward of the student and its branches gives the terms.

    Attributes:
        inputs: The preprocessed batch.
        data_samples: Its samples (ground truth).
        targets: Per branch, the map it learns from (the student's last
            stage; a neck level).
        feats: Per branch, its feature (of its target's shape).
        outs: Per branch, its head's output (as the head returns it).
        logits: Per branch, its class scores (``(N, C)``; a detector's
            ``(N, A*C, H, W)`` at its level).
        ensemble: Per branch, the detached mean of the main output's and
            the branches' scores at its target.
        judged: What an adversary judged: (real, fake) inputs, for its
            own update.
    """
    inputs: torch.Tensor
    data_samples: list
    targets: List[torch.Tensor]
    feats: List[torch.Tensor]
    outs: list
    logits: List[torch.Tensor]
    ensemble: List[torch.Tensor]
    judged: Optional[tuple] = None


class Term:
    """A piece of a method.

    Subclasses set what they need and override what they add:

    Attributes:
        needs_logits (bool): The term compares class scores (the core runs
            the teacher's head and records the student's).
        extras (tuple[str]): What else of the student's forward it reads,
            in :attr:`Features.extras <mmkd.models.tasks.Features>`
            (``'head_inputs'``: the input of every layer of a dense head's
            branches, per level).
    """
    needs_logits = False
    extras: Tuple[str, ...] = ()

    def needs_adapter(self, core) -> bool:
        """Whether it compares the student's maps with the teacher's after
        the T2S adapter (the core builds the adapter if any term does)."""
        return False

    def same_widths(self, core) -> Optional[str]:
        """What of it compares maps channel by channel (without an adapter
        their widths must then be equal), or None."""
        return None

    @property
    def active(self) -> bool:
        """Whether the config switched the term on."""
        return True

    def build(self, core) -> None:
        """Build the term's modules from the probed models and attach them
        to ``core`` (``core.t_channels``, ``core.task``, ...)."""

    def parts(self) -> Dict[str, List[str]]:
        """The core's children this term trains, by optimizer part."""
        return {}

    def loss_names(self) -> List[str]:
        """The ``distill.<name>`` terms it adds (scheduled by name)."""
        return []

    def losses(self, core, step: Step) -> Dict[str, torch.Tensor]:
        """Its ``distill.*`` losses of the student update."""
        return {}

    def updates(self, core) -> list:
        """Updates of its own after the student's (a discriminator's)."""
        return []

    def show(self, core, t_maps, adapted) -> List[Dict[str, torch.Tensor]]:
        """What it adds to the pictures of each level pair (named maps, in
        the visualisation), given the teacher's and the adapted student's
        maps of one image; empty: nothing."""
        return []


def warmup_scale(iters: int, num_iters) -> float:
    """Linear warm-up factor over ``iters`` iterations at iteration
    ``num_iters`` (a tensor or int)."""
    if iters == 0:
        return 1.0
    return min(1.0, (int(num_iters) + 1) / iters)
