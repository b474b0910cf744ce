from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmkd.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class T2SAdapter(BaseModule):
    """Teacher-to-Student (T2S) layers of KTAN (Liu et al., "KTAN: Knowledge
    Transfer Adversarial Network", IJCNN 2020,
    https://arxiv.org/abs/1810.08126).

    One conv + norm per feature level maps student channels to teacher
    channels; a level whose size differs from the teacher's is resized
    bilinearly. Channels are never written in configs: the distiller infers
    ``in_channels`` and ``out_channels`` from the built models.

    Args:
        in_channels (Sequence[int]): Student channels per level.
        out_channels (Sequence[int]): Teacher channels per level.
        kernel_size (int): 1 or 3. Defaults to 1.
        norm_cfg (dict, optional): Defaults to ``dict(type='BN')``.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Sequence[int],
                 kernel_size: int = 1,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(out_channels):
            raise ValueError(
                f'T2SAdapter: {len(in_channels)} student levels but '
                f'{len(out_channels)} teacher levels')
        self.layers = nn.ModuleList(
            ConvModule(
                c_in,
                c_out,
                kernel_size,
                padding=kernel_size // 2,
                norm_cfg=norm_cfg,
                act_cfg=None)
            for c_in, c_out in zip(in_channels, out_channels))
        self.linear = kernel_size == 1 and norm_cfg is None

    def linear_weights(self) -> Optional[List[torch.Tensor]]:
        """Each level's ``(C_out, C_in)`` matrix when every level is a
        linear map of channels (a 1x1 conv without norm), else None: such
        an adapter commutes with a weighted sum over locations, so a method
        may apply it to descriptors (``(N, C_s)`` through :meth:`forward`)
        instead of to whole maps."""
        if not self.linear:
            return None
        return [layer.conv.weight.flatten(1) for layer in self.layers]

    def forward(self,
                feats: Sequence[torch.Tensor],
                sizes: Optional[Sequence[Tuple[int, int]]] = None
                ) -> List[torch.Tensor]:
        """Map student levels ``(N, C_s, H, W)`` to ``(N, C_t, H_t, W_t)``
        (descriptors ``(N, C_s)`` to ``(N, C_t)`` if :meth:`linear_weights`).

        Args:
            feats: Student feature maps, one per adapted level.
            sizes: Target ``(H_t, W_t)`` per level; None keeps the size.
        """
        outs = []
        for i, (layer, x) in enumerate(zip(self.layers, feats)):
            if x.dim() == 2:
                if not self.linear:
                    raise ValueError('Only a linear T2SAdapter (kernel_size'
                                     '=1, norm_cfg=None) maps descriptors')
                outs.append(F.linear(x, layer.conv.weight.flatten(1),
                                     layer.conv.bias))
                continue
            x = layer(x)
            if sizes is not None and tuple(x.shape[-2:]) != tuple(sizes[i]):
                x = F.interpolate(
                    x, size=sizes[i], mode='bilinear', align_corners=False)
            outs.append(x)
        return outs
