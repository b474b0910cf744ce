"""AFD: Feature-map-level Online Adversarial Knowledge Distillation (Chung et
al., ICML 2020, https://arxiv.org/abs/2002.01775) for classifiers and
detectors; DML (Zhang et al., CVPR 2018) is its config without
discriminators.

The paper fixes: K networks train together from scratch; network k learns
from network k-1's softened logits (``T^2 KL``) and fools its own
discriminator ``D_k``, which calls network k-1's map real and network k's
fake (LSGAN; cyclic for K > 2). Per batch: the logit update, the
adversarial update with a separate optimizer of smaller learning rate, the
discriminators' update. mmkd decided (configs/afd/README.md): network 0 is
the student; the map is a classifier's last stage or a detector's neck
levels of equal stride (KL on dense class scores); a T2S transform where
widths differ; the adversarial update runs its own feature forward (the
logit update has stepped the weights the first one used).
"""
from typing import Callable, Dict, List, Sequence

import torch
import torch.nn as nn
from mmengine.model import ModuleList, is_model_wrapper

from mmkd import registry
from ..tasks import task_of
from .base_distiller import BaseDistiller
from .updates import (Update, check_gan, discriminator_loss, judged,
                      refuse_teacher, tensors_in, unwrap)
from ..terms.base import build_loss
from ..terms.logits import logit_kd
from .levels import feature_strides, pair_levels, probe_maps, resized
from .utils import build_model, model_cfg


@registry.MODELS.register_module()
class AFD(BaseDistiller):
    """Online distillation of network 0 (``student``, validated and
    exported) with ``peers`` 1..K-1 (any architectures of its task and
    classes): ``loss_kd`` from network k-1's logits to network k's;
    ``discriminator`` ``D_k`` (channels filled in; None, with
    ``loss_gan=None``, is DML); ``transform`` from network k's widths to
    network k-1's, built only where they differ."""

    def __init__(self, student, peers: Sequence,
                 loss_kd: dict = dict(type='KDLoss', temperature=3.0),
                 discriminator=dict(type='PatchDiscriminator'),
                 loss_gan=dict(type='GANLoss', gan_type='lsgan'),
                 transform: dict = dict(type='T2SAdapter'),
                 probe_size=None, teacher=None, teacher_ckpt=None, **kwargs):
        name = type(self).__name__
        refuse_teacher(name, 'online: its networks train together from '
                       'scratch', teacher, teacher_ckpt)
        if not isinstance(peers, (list, tuple)) or not peers:
            raise ValueError(f'{name} trains K >= 2 networks: give at least '
                             'one peer besides the student, peers=[...]')
        check_gan(discriminator, loss_gan, 'DML')
        loss_kd, loss_gan, discriminator, transform = (
            self.merged(n, v) for n, v in (
                ('loss_kd', loss_kd), ('loss_gan', loss_gan),
                ('discriminator', discriminator), ('transform', transform)))
        super().__init__(student, **kwargs)
        # mmengine's ModuleList: init_weights reaches each peer, which gets
        # its own config's initialisation as in the plain toolbox
        self.peers = ModuleList(
            build_model(model_cfg(p, f'peer {i + 1}'))
            for i, p in enumerate(peers))
        self.loss_kd = build_loss(loss_kd, 'loss_kd')
        self.loss_gan = build_loss(loss_gan, 'loss_gan')
        channels = self._pair_networks(probe_size)
        self.transforms = nn.ModuleDict({
            str(k): registry.MODELS.build(dict(
                transform, in_channels=c_in, out_channels=c_out))
            for k, (c_in, c_out) in enumerate(channels) if c_in != c_out
        } if discriminator is not None else {})
        self.discriminators = None if discriminator is None else \
            nn.ModuleList(registry.MODELS.build(dict(
                discriminator, in_channels=c_out[0]
                if len(set(c_out)) == 1 else c_out)) for _, c_out in channels)

    def _pair_networks(self, probe_size) -> List:
        """A task adapter per network k (recording it; network k-1 is its
        source), its distilled levels and the channels on both sides."""
        nets = self.nets()
        self.tasks = [task_of(nets[k], nets[k - 1]) for k in range(len(nets))]
        size = probe_size or self.tasks[0].probe_size
        self.levels, channels = [], []
        for k, task in enumerate(self.tasks):
            maps = probe_maps(task, {f'network {k}': nets[k], f'network '
                                     f'{(k - 1) % len(nets)}': nets[k - 1]},
                              size)
            strides = [feature_strides(m, size) for m in maps]
            pairs = task.default_pairs(*strides) or pair_levels(
                *strides, 'stride', task)
            try:
                task.setup_kd(pairs, *strides, self.loss_kd)
            except ValueError as e:
                raise ValueError(f'Network {k} (student 0, peers 1-'
                                 f'{len(nets) - 1}) learns from network '
                                 f'{(k - 1) % len(nets)}: {e}') from None
            task.watch_student(kd=True)
            self.levels.append(pairs)
            channels.append(([maps[0][i].shape[1] for i, _ in pairs],
                             [maps[1][j].shape[1] for _, j in pairs]))
        return channels

    def nets(self) -> List[nn.Module]:
        return [self.student, *self.peers]

    def networks(self) -> Dict[str, str]:
        """Peer k may have an optimizer of its own: ``optim_wrapper.peerk``."""
        return {f'peer{k}': f'peers.{k - 1}'
                for k in range(1, len(self.peers) + 1)}

    def predictors(self) -> Dict[str, Callable]:
        """``val_step`` of each peer, for EnsembleEvalHook."""
        return {f'peer{k}': unwrap(p).val_step
                for k, p in enumerate(self.peers, 1)}

    def distill_loss_names(self) -> List[str]:
        return ['loss_kd'] + ['loss_adv'] * (self.discriminators is not None)

    def fake_maps(self, k: int, maps, sizes) -> List:
        """Network k's distilled maps as ``D_k`` sees them."""
        if str(k) in self.transforms:
            return self.transforms[str(k)](maps, sizes)
        return resized(maps, sizes)

    def logit_losses(self, state) -> Dict:
        """Every network's task losses and its KL to network k-1."""
        inputs, samples = state['inputs'], state['data_samples']
        losses, outs = {}, []
        for k, (net, task) in enumerate(zip(self.nets(), self.tasks)):
            with task.recording() as records:
                prefix = 'student' if k == 0 else f'peer{k}'
                losses.update((f'{prefix}.{n}', v) for n, v in net(
                    inputs, samples, mode='loss').items())
                outs.append(dict(records))
        if self.schedule.distill:
            losses['distill.loss_kd'] = sum(
                self._kd(task, outs[k], outs[k - 1])
                for k, task in enumerate(self.tasks))
        return losses

    def _kd(self, task, records, source) -> torch.Tensor:
        """``loss_kd`` of one network towards its source's output."""
        return logit_kd(self.loss_kd, task, records, {
            k: [m.detach() for m in v] if k == 'maps' else v.detach()
            for k, v in source.items() if k in ('maps', 'logits')})

    def adversarial_losses(self, state) -> Dict:
        """Each network fools its discriminator (a fresh feature forward);
        puts ``D_k``'s inputs in ``state``: ``reals`` (network k-1's maps)
        and ``fakes`` (network k's, transformed)."""
        maps, anchor = [], 0
        for net, task in zip(self.nets(), self.tasks):
            if not is_model_wrapper(net):
                maps.append(task.maps(net, state['inputs']))
                continue
            with task.recording() as records:  # through DDP: every
                out = net(state['inputs'], mode='tensor')  # weight is used
                maps.append(task.student_maps(records))
            anchor = anchor + 0 * sum(x.sum() for x in tensors_in(out))
        reals, fakes, adv = [], [], []
        for k, pairs in enumerate(self.levels):
            real = [maps[k - 1][j] for _, j in pairs]
            fake = self.fake_maps(k, [maps[k][i] for i, _ in pairs],
                                  [r.shape[-2:] for r in real])
            reals.append(real)
            fakes.append(fake)
            adv.append(sum(self.loss_gan(x) for x in judged(
                self.discriminators[k], fake)) / len(fake))
        state.update(reals=reals, fakes=fakes)
        return {'distill.loss_adv': sum(adv) + anchor}

    def discriminator_losses(self, state) -> Dict:
        """``D_k``: network k-1's maps real, network k's fake."""
        total = sum(discriminator_loss(disc, self.loss_gan, real, fake)
                    for disc, real, fake in zip(self.discriminators,
                                                state['reals'],
                                                state['fakes']))
        return {'disc.loss_d': total}

    def parts(self) -> Dict[str, List[str]]:
        return dict(student=['student', 'peers'], **({} if self.discriminators
                    is None else dict(adv=['student', 'peers', 'transforms'],
                                      disc=['discriminators'])))

    def updates(self) -> List[Update]:
        adv = lambda: self.discriminators is not None  # noqa: E731
        return [
            Update('logit', 'student', self.logit_losses),
            Update('adversarial', 'adv', self.adversarial_losses,
                   active=lambda: adv() and self.schedule.distill,
                   log_prefix='distill.'),
            Update('discriminator', 'disc', self.discriminator_losses,
                   adversary=True, active=adv),
        ]
