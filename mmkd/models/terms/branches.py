"""Terms of self-distillation: each branch learns its task, the detached
ensemble's softened scores and the deepest map, and fools a discriminator
that tells the ensemble's class probabilities from the branch's."""
from typing import Optional

from mmkd import registry
from ..distillers.updates import (Update, check_gan, discriminator_loss,
                                  judged, unwrap)
from ..losses import check_loss_weight
from .base import Term, build_loss


class BranchTask(Term):
    """Each branch's task loss (``branch<k>.*``), times ``branch_weight``."""

    def __init__(self, branch_weight: float):
        self.weight = check_loss_weight(branch_weight, 'branch')

    def losses(self, core, step):
        w, losses = self.weight, {}
        for k, out in enumerate(step.outs):
            losses.update(
                (f'branch{k}.{n}', [x * w for x in v] if isinstance(
                    v, (list, tuple)) else v * w)
                for n, v in core.branching.branch_loss(
                    unwrap(core.branches[k]), out,
                    step.data_samples).items())
        return losses


class EnsembleKD(Term):
    """``loss_kd`` from the detached ensemble's scores to each branch's
    (sigmoid or softmax as the student's head); None: none."""

    def __init__(self, loss_kd: Optional[dict]):
        self.cfg = loss_kd

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.loss_kd = build_loss(self.cfg, 'loss_kd')
        if core.loss_kd is not None:
            core.loss_kd.use_sigmoid = core.sigmoid

    def loss_names(self):
        return ['loss_kd'] if self.active else []

    def losses(self, core, step):
        if not self.active:
            return {}
        return {'distill.loss_kd': sum(
            core.loss_kd(core.rows(o), core.rows(e))
            for o, e in zip(step.logits, step.ensemble))}


class BranchHint(Term):
    """``loss_hint`` from the detached deepest map (the branch's target)
    to each branch's feature; None: none."""

    def __init__(self, loss_hint: Optional[dict]):
        self.cfg = loss_hint

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.loss_hint = build_loss(self.cfg, 'loss_hint')

    def loss_names(self):
        return ['loss_hint'] if self.active else []

    def losses(self, core, step):
        if not self.active:
            return {}
        return {'distill.loss_hint': sum(
            core.loss_hint(f, t.detach())
            for f, t in zip(step.feats, step.targets))}


class ProbAdversary(Term):
    """MB-AKT's: a discriminator (part ``disc``) on softened class
    probabilities as maps, the ensemble's real and each branch's fake;
    ``distill.loss_adv`` is the branches' GAN loss. None (with
    ``loss_gan=None``): none (BYOT)."""

    def __init__(self, discriminator: Optional[dict],
                 loss_gan: Optional[dict]):
        check_gan(discriminator, loss_gan, 'BYOT')
        self.cfg, self.gan_cfg = discriminator, loss_gan

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.loss_gan = build_loss(self.gan_cfg, 'loss_gan')
        kd = getattr(core, 'loss_kd', None) or registry.MODELS.build(
            dict(type='KDLoss'))
        self.temperature, self.sigmoid = kd.temperature, core.sigmoid
        self.channels = core.channels
        core.discriminator = None if self.cfg is None else \
            registry.MODELS.build(dict(self.cfg,
                                       in_channels=core.score_channels))

    def parts(self):
        return dict(disc=['discriminator'])

    def loss_names(self):
        return ['loss_adv'] if self.active else []

    def probabilities(self, x):
        """Softened class probabilities as maps, as the discriminator sees
        them."""
        x = (x if x.dim() == 4 else x[..., None, None]) / self.temperature
        if self.sigmoid:
            return x.sigmoid()
        n, _, h, w = x.shape
        return x.view(n, -1, self.channels, h, w).softmax(2).view(
            n, -1, h, w)

    def losses(self, core, step):
        if not self.active:
            return {}
        fakes = [self.probabilities(o) for o in step.logits]
        step.judged = ([self.probabilities(e) for e in step.ensemble], fakes)
        return {'distill.loss_adv': sum(
            core.loss_gan(x) for x in judged(core.discriminator, fakes))}

    def updates(self, core):
        if not self.active:
            return []
        return [Update('discriminator', 'disc', lambda state: {
            'disc.loss_d': discriminator_loss(
                core.discriminator, core.loss_gan, *state['step'].judged)},
            adversary=True)]

