"""Terms between online peers: network k learns from network k-1's
softened class scores, and fools a discriminator that tells network k-1's
maps (real) from its own (fake) in an adversarial update of its own."""
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper

from mmkd import registry
from ..distillers.levels import resized
from ..distillers.updates import (Update, check_gan, discriminator_loss,
                                  judged, tensors_in)
from .base import Term, build_loss
from .logits import logit_kd


class PeerKD(Term):
    """``loss_kd`` from each network's source (k-1, detached) to network
    k, summed over the networks (DML's and AFD's logit term)."""
    needs_logits = True

    def __init__(self, loss_kd: dict):
        if loss_kd is None:
            raise ValueError('Online peers learn from each other\'s class '
                             'scores: loss_kd cannot be None.')
        self.cfg = loss_kd

    def build(self, core) -> None:
        core.loss_kd = build_loss(self.cfg, 'loss_kd')
        n = len(core.tasks)
        for k, (task, pairs, strides) in enumerate(zip(
                core.tasks, core.levels, core.strides)):
            try:
                task.setup_kd(pairs, *strides, core.loss_kd)
            except ValueError as e:
                raise ValueError(f'Network {k} (student 0, peers 1-{n - 1}) '
                                 f'learns from network {(k - 1) % n}: {e}'
                                 ) from None

    def loss_names(self):
        return ['loss_kd']

    def losses(self, core, step):
        feats = step.features
        return {'distill.loss_kd': sum(
            logit_kd(core.loss_kd, task, feats[k], feats[k - 1].detached())
            for k, task in enumerate(core.tasks))}


class PeerAdversary(Term):
    """AFD's: discriminator ``D_k`` (channels filled in) calls network
    k-1's maps real and network k's fake; the networks fool theirs in an
    ``adversarial`` update of their own (part ``adv``, with the T2S
    ``transform`` from network k's widths to network k-1's, built only
    where they differ) on a fresh feature forward, then the
    discriminators update (part ``disc``). None: no adversary (DML)."""

    def __init__(self, discriminator: Optional[dict],
                 loss_gan: Optional[dict], transform: dict):
        check_gan(discriminator, loss_gan, 'DML')
        self.cfg, self.gan_cfg, self.transform = (discriminator, loss_gan,
                                                  transform)

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.loss_gan = build_loss(self.gan_cfg, 'loss_gan')
        channels = core.channels if self.active else []
        core.transforms = nn.ModuleDict({
            str(k): registry.MODELS.build(dict(
                self.transform, in_channels=c_in, out_channels=c_out))
            for k, (c_in, c_out) in enumerate(channels) if c_in != c_out})
        core.discriminators = nn.ModuleList(registry.MODELS.build(dict(
            self.cfg, in_channels=c_out[0] if len(set(c_out)) == 1
            else c_out)) for _, c_out in channels) if self.active else None

    def parts(self):
        if not self.active:
            return {}
        return dict(adv=['student', 'peers', 'transforms'],
                    disc=['discriminators'])

    def loss_names(self):
        return ['loss_adv'] if self.active else []

    def fake_maps(self, core, k: int, maps, sizes) -> List:
        """Network k's distilled maps as ``D_k`` sees them."""
        if str(k) in core.transforms:
            return core.transforms[str(k)](maps, sizes)
        return resized(maps, sizes)

    def adversarial_losses(self, core, state):
        """Each network fools its discriminator (a fresh feature forward:
        the logit update has stepped the weights); puts ``D_k``'s inputs
        in ``state``: ``reals`` (network k-1's maps) and ``fakes``
        (network k's, transformed)."""
        maps, anchor = [], 0
        for net, task in zip(core.nets(), core.tasks):
            if not is_model_wrapper(net):
                maps.append(task.maps(net, state['inputs']))
                continue
            with task.recording() as records:  # through DDP: every
                out = net(state['inputs'], mode='tensor')  # weight is used
                maps.append(task.features(records).maps)
            anchor = anchor + 0 * sum(x.sum() for x in tensors_in(out))
        reals, fakes, adv = [], [], []
        for k, pairs in enumerate(core.levels):
            real = [maps[k - 1][j] for _, j in pairs]
            fake = self.fake_maps(core, k, [maps[k][i] for i, _ in pairs],
                                  [r.shape[-2:] for r in real])
            reals.append(real)
            fakes.append(fake)
            adv.append(sum(core.loss_gan(x) for x in judged(
                core.discriminators[k], fake)) / len(fake))
        state.update(reals=reals, fakes=fakes)
        return {'distill.loss_adv': sum(adv) + anchor}

    def discriminator_losses(self, core, state):
        """``D_k``: network k-1's maps real, network k's fake."""
        return {'disc.loss_d': sum(
            discriminator_loss(disc, core.loss_gan, real, fake)
            for disc, real, fake in zip(core.discriminators, state['reals'],
                                        state['fakes']))}

    def updates(self, core) -> List[Update]:
        if not self.active:
            return []
        return [
            Update('adversarial', 'adv',
                   lambda state: self.adversarial_losses(core, state),
                   active=lambda: core.schedule.distill,
                   log_prefix='distill.'),
            Update('discriminator', 'disc',
                   lambda state: self.discriminator_losses(core, state),
                   adversary=True),
        ]
