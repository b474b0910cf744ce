from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS
from mmengine.model import BaseModule


class Squeeze(torch.autograd.Function):
    """``(g, M)`` of a map ``x`` (N, C, H, W) for score weights ``w`` (C)
    and a per-image score term ``shift`` (N, 1) or None: ``M =
    softmax_xy(w . x + shift)``, ``g = sum_xy M * x``. Forward and
    backward read ``x`` as batched matrix-vector products, without the
    transposed copies autograd makes of it (KSANC's squeeze runs on the
    largest maps of both models every iteration). Products in ``x``'s
    dtype, the softmax in at least float32 (mixed precision too)."""

    @staticmethod
    def forward(ctx, x, w, shift):
        n, c = x.shape[:2]
        flat = x.flatten(2)
        w = w.to(flat.dtype)
        s = torch.bmm(w.view(1, 1, c).expand(n, 1, c), flat)[:, 0]
        s = s.to(torch.promote_types(s.dtype, torch.float32))
        m = (s if shift is None else s + shift).softmax(1)
        ctx.save_for_backward(flat, w, m)
        ctx.shape = x.shape
        return Squeeze.weigh(m, flat), m.view(n, 1, *x.shape[2:])

    @staticmethod
    def weigh(v: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        """``sum_l v[n, l] * flat[n, :, l]`` (N, C): as row vectors times
        the transposed map, which BLAS runs an order of magnitude faster
        than the map times a column vector."""
        return torch.bmm(v.to(flat.dtype).unsqueeze(1),
                         flat.transpose(1, 2))[:, 0]

    @staticmethod
    def backward(ctx, dg, dm):
        flat, w, m = ctx.saved_tensors
        dg = dg.to(flat.dtype)
        dm = torch.bmm(dg.unsqueeze(1), flat)[:, 0].to(m.dtype) + \
            dm.flatten(1)
        ds = m * (dm - (m * dm).sum(1, keepdim=True))  # softmax backward
        dx = dw = None
        if ctx.needs_input_grad[0]:  # dg (x) M + w (x) ds, elementwise
            dx = (dg.unsqueeze(2) * m.unsqueeze(1).to(flat.dtype)).addcmul_(
                w.view(1, -1, 1), ds.unsqueeze(1).to(flat.dtype))
            dx = dx.view(ctx.shape)
        if ctx.needs_input_grad[1]:
            dw = Squeeze.weigh(ds, flat).sum(0).view(-1)
        return dx, dw, ds.sum(1, keepdim=True) if ctx.needs_input_grad[
            2] else None


@MODELS.register_module()
class TaskAttention(BaseModule):
    """KSANC's task-driven attention (Shu et al., AAAI 2020,
    https://arxiv.org/abs/1904.05100), hierarchically over several maps.

    Per map ``L`` (N, C, H, W): the global descriptor (the spatial mean of
    the deepest map) is projected to ``C`` and broadcast-added to ``L``, a
    1-channel 1x1 conv scores each location, a spatial softmax gives the
    attention ``M``, and the squeezed descriptor is ``g = sum_xy M * L``
    (N, C). A linear classifier on the concatenated teacher descriptors
    drives the attention by the task (``aux_logits``).

    One module serves both models, in one call (as DDP needs): the
    teacher's maps train it; the student's (lifted to the teacher's widths)
    go through the same weights detached, so the student learns to match
    the teacher's squeezed knowledge and cannot move the attention to where
    the two already agree.

    A lift that is a map of channels (``A L + b``: a 1x1 conv, with BN's
    batch statistics folded in; ``T2SAdapter(affine=True)``) commutes with
    the squeeze: the student's lifted map scores as ``(w A) . L`` plus one
    constant per image, and squeezes to ``A g + b``. So the student's maps
    may be given unlifted, with ``s_lift`` (one ``A`` per map): the masks
    are those of the lifted maps, the lifted map itself (N, C_t, H, W) is
    never computed, and the caller lifts the descriptors.

    Args:
        in_channels (Sequence[int]): Channels of each map (the teacher's);
            inferred by the distiller.
        num_classes (int): Classes of the auxiliary classifier; inferred.
    """

    def __init__(self, in_channels: Sequence[int], num_classes: int,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.project = nn.ModuleList(
            nn.Linear(in_channels[-1], c) for c in in_channels)
        self.score = nn.ModuleList(nn.Conv2d(c, 1, 1) for c in in_channels)
        self.classifier = nn.Linear(sum(in_channels), num_classes)

    def squeeze(self, maps: Sequence[torch.Tensor], student: bool = False,
                lift: Optional[Sequence[torch.Tensor]] = None
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Descriptors ``g`` (N, C) and attention maps ``M`` (N, 1, H, W)
        of ``maps``. ``student``: through weights that get no gradient,
        without the per-image constants (see ``shift``); ``lift``: the
        student's maps are unlifted, ``g`` is of their widths."""
        descs, masks = [], []
        for i, (score, x) in enumerate(zip(self.score, maps)):
            w = score.weight.view(1, -1)
            if student:
                w = w.detach()
                w = w if lift is None else w @ lift[i]
            g, m = Squeeze.apply(x, w.view(-1), None if student else
                                 self.shift(i, maps[-1]))
            descs.append(g)
            masks.append(m)
        return descs, masks

    def shift(self, i: int, deepest: torch.Tensor) -> torch.Tensor:
        """The score's per-image part, (N, 1): the scoring conv of the
        projected global descriptor (the paper's broadcast sum is never
        materialised) plus the conv's bias. It adds the same value to every
        location, which the spatial softmax removes: ``M`` does not depend
        on it. The teacher's side computes it, as the paper specifies; the
        student's, whose masks are the same without it, leaves it out."""
        score = self.score[i]
        glob = self.project[i](deepest.mean((2, 3)))
        return F.linear(glob, score.weight.flatten(1), score.bias)

    def forward(self, t_maps: Sequence[torch.Tensor],
                s_maps: Sequence[torch.Tensor],
                s_lift: Optional[Sequence[torch.Tensor]] = None) -> dict:
        t_desc, t_masks = self.squeeze(t_maps)
        s_desc, s_masks = self.squeeze(s_maps, student=True, lift=s_lift)
        return dict(t_desc=t_desc, s_desc=s_desc, t_masks=t_masks,
                    s_masks=s_masks,
                    aux_logits=self.classifier(torch.cat(t_desc, 1)))
