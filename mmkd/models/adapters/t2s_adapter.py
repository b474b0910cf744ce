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

    A 1x1 adapter with BN or no norm (``foldable``) is, for given maps, a
    map of channels ``A x + b``: ``forward(feats, affine=True)`` returns it,
    so a method that only needs weighted sums over locations (KSANC's
    squeeze) lifts the sums instead of the maps. ``linear``: no norm either.

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
        self.foldable = kernel_size == 1

    @property
    def foldable(self) -> bool:
        """1x1 convs with plain BN or no norm, checked when asked: a runner
        may have turned BN into SyncBN (``sync_bn``) since the build."""
        return self._kernel_1x1 and all(
            type(layer.norm) is nn.BatchNorm2d for layer in self.layers
            if layer.with_norm)

    @foldable.setter
    def foldable(self, value: bool) -> None:
        self._kernel_1x1 = bool(value)

    def forward(self,
                feats: Sequence[torch.Tensor],
                sizes: Optional[Sequence[Tuple[int, int]]] = None,
                affine: bool = False) -> List:
        """Map student levels ``(N, C_s, H, W)`` to ``(N, C_t, H_t, W_t)``.

        Args:
            feats: Student feature maps, one per adapted level.
            sizes: Target ``(H_t, W_t)`` per level; None keeps the size.
            affine: Return each level's ``(A, b)`` instead, the map of
                channels ``A x + b`` that this adapter applies to ``feats``
                at their own size (see :func:`fold`); only if ``foldable``.
        """
        if affine:
            if not self.foldable:
                raise ValueError('Only a T2SAdapter of 1x1 convs, with BN or '
                                 'no norm, folds into a map of channels')
            return [fold(layer, x) for layer, x in zip(self.layers, feats)]
        outs = []
        for i, (layer, x) in enumerate(zip(self.layers, feats)):
            x = layer(x)
            if sizes is not None and tuple(x.shape[-2:]) != tuple(sizes[i]):
                x = F.interpolate(
                    x, size=sizes[i], mode='bilinear', align_corners=False)
            outs.append(x)
        return outs


class Moments(torch.autograd.Function):
    """Channel mean ``mu`` (C) and centred covariance (C, C) of ``x`` (N,
    C, L) over N and L. Its backward writes the map's gradient in one
    pass, ``K (x - mu) + dmu / count``, where autograd would write the
    covariance's and the mean's (broadcast) and add them."""

    @staticmethod
    def forward(ctx, x):
        count = x.shape[0] * x.shape[2]
        mu = x.mean((0, 2))
        centred = x - mu.view(1, -1, 1)
        ctx.save_for_backward(centred)
        return mu, torch.bmm(centred, centred.transpose(1, 2)).sum(0) / count

    @staticmethod
    def backward(ctx, dmu, dcov):
        centred, = ctx.saved_tensors
        n, c, length = centred.shape
        k = (dcov + dcov.t()).to(centred.dtype) / (n * length)
        shift = (dmu.to(centred.dtype) / (n * length)).view(1, c, 1)
        return torch.baddbmm(shift, k.expand(n, c, c), centred)


def fold(layer: ConvModule,
         x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(A, b)`` with ``layer(x) = A x + b`` over channels, for a 1x1 conv
    followed by nothing or by ``nn.BatchNorm2d``. BN normalises each output
    channel ``w . x`` by statistics that follow from the channel mean ``mu``
    and covariance ``S`` of ``x``: mean ``w . mu``, variance ``w^T S w``.
    In training they are taken from ``x`` (differentiably, in at least
    float32) and the running statistics are updated as BN updates them; in
    evaluation the running ones are used. A method that only needs sums of
    the adapted map weighted over locations applies ``(A, b)`` to them, and
    the adapted map (N, C_out, H, W) is never computed."""
    conv, bn = layer.conv, layer.norm if layer.with_norm else None
    w, b = conv.weight.flatten(1), conv.bias
    if b is None:
        b = w.new_zeros(len(w))
    if bn is None:
        return w, b
    batch_stats = bn.training or bn.running_mean is None
    if batch_stats:
        flat = x.flatten(2).to(torch.promote_types(x.dtype, torch.float32))
        count = flat.shape[0] * flat.shape[2]
        mu, cov = Moments.apply(flat)
        w32 = w.to(cov.dtype)
        mean, var = w32 @ mu, ((w32 @ cov) * w32).sum(1).clamp(min=0)
        mean = mean + b
        if bn.training and bn.track_running_stats:
            update_running_stats(bn, mean, var, count)
    else:
        mean, var = bn.running_mean, bn.running_var
    scale = (var + bn.eps).rsqrt() * (bn.weight if bn.affine else 1)
    shift = (b - mean) * scale + (bn.bias if bn.affine else 0)
    return scale[:, None].to(w.dtype) * w, shift.to(w.dtype)


@torch.no_grad()
def update_running_stats(bn: nn.BatchNorm2d, mean: torch.Tensor,
                         var: torch.Tensor, count: int) -> None:
    """``bn``'s running statistics after a batch of this mean and (biased)
    variance over ``count`` values, as ``F.batch_norm`` updates them."""
    bn.num_batches_tracked.add_(1)
    momentum = bn.momentum if bn.momentum is not None else (
        1.0 / float(bn.num_batches_tracked))
    bn.running_mean.lerp_(mean.to(bn.running_mean.dtype), momentum)
    bn.running_var.lerp_(
        (var * count / max(count - 1, 1)).to(bn.running_var.dtype), momentum)
