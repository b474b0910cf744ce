from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS
from mmengine.model import BaseModule


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

    def squeeze(self, maps: Sequence[torch.Tensor], detach: bool = False
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Descriptors ``g`` (N, C) and attention maps ``M`` (N, 1, H, W)
        of ``maps``; ``detach``: through weights that get no gradient."""
        glob = maps[-1].mean((2, 3))
        descs, masks = [], []
        for proj, score, x in zip(self.project, self.score, maps):
            w = [proj.weight, proj.bias, score.weight, score.bias]
            w = [p.detach() for p in w] if detach else w
            # conv(x + proj(glob)) = conv(x) + one score per image: the
            # broadcast sum (N, C, H, W) is never materialised
            shift = F.linear(F.linear(glob, w[0], w[1]), w[2].flatten(1),
                             w[3])
            flat = x.flatten(2)  # (N, C, HW): the 1x1 conv as a matmul
            m = (torch.matmul(w[2].view(1, -1), flat)[:, 0] + shift).softmax(1)
            descs.append(torch.bmm(flat, m.unsqueeze(2))[..., 0])
            masks.append(m.view(x.shape[0], 1, *x.shape[2:]))
        return descs, masks

    def forward(self, t_maps: Sequence[torch.Tensor],
                s_maps: Sequence[torch.Tensor]) -> dict:
        t_desc, t_masks = self.squeeze(t_maps)
        s_desc, s_masks = self.squeeze(s_maps, detach=True)
        return dict(t_desc=t_desc, s_desc=s_desc, t_masks=t_masks,
                    s_masks=s_masks,
                    aux_logits=self.classifier(torch.cat(t_desc, 1)))
