"""Adversaries: a discriminator tells the teacher's features (or class
scores) from the student's, and the student learns to fool it. Each owns
its discriminator (optimizer part ``disc``) and that discriminator's
update, run ``d_steps`` times after the student's."""
from typing import Dict, Optional

import torch

from mmkd import registry
from ..discriminators.logit_discriminator import class_loss
from ..distillers.updates import Update, check_gan, judged, unwrap
from ..distillers.utils import check_count
from .base import Term, build_loss, warmup_scale


def check_steps(d_steps, adv_warmup_iters) -> None:
    for name, value, low in (('d_steps', d_steps, 1),
                             ('adv_warmup_iters', adv_warmup_iters, 0)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < low:
            raise ValueError(f'{name} must be an int >= {low}, got '
                             f'{value!r}')


class Adversary(Term):
    """What both adversaries share: a discriminator and a GAN loss that go
    together, its update after the student's, the warm-up of the
    student's adversarial weight."""

    def __init__(self, discriminator: Optional[dict],
                 loss_gan: Optional[dict], d_steps: int = 1,
                 adv_warmup_iters: int = 500):
        check_gan(discriminator, loss_gan, 'no adversarial term')
        check_steps(d_steps, adv_warmup_iters)
        self.cfg, self.gan_cfg = discriminator, loss_gan
        self.d_steps, self.adv_warmup_iters = d_steps, adv_warmup_iters

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.loss_gan = build_loss(self.gan_cfg, 'loss_gan')
        core.discriminator = None if self.cfg is None else \
            registry.MODELS.build(dict(self.cfg,
                                       in_channels=self.in_channels(core)))

    def parts(self):
        return dict(disc=['discriminator'])

    def weight_scale(self, core) -> float:
        """Linear warm-up factor of the adversarial weight."""
        return warmup_scale(self.adv_warmup_iters, core.num_iters)

    def updates(self, core):
        if not self.active:
            return []
        return [Update('discriminator', 'disc', lambda state:
                       self.discriminator_loss(core, state['step']),
                       times=self.d_steps, adversary=True)]


class PatchAdversary(Adversary):
    """KTAN's: a patch discriminator on the adapted student maps (fake)
    and the teacher's (real), shared by the levels (levels of other widths
    get their own input layer); ``distill.loss_adv`` is the student's GAN
    loss, warmed up over ``adv_warmup_iters``."""

    def in_channels(self, core):
        channels = core.t_channels
        return channels[0] if len(set(channels)) == 1 else channels

    def needs_adapter(self, core) -> bool:
        return self.active

    def loss_names(self):
        return ['loss_adv'] if self.active else []

    def losses(self, core, step):
        if not self.active:
            return {}
        fake = judged(core.discriminator, step.adapted)
        return {'distill.loss_adv': self.weight_scale(core) * sum(
            core.loss_gan(f) for f in fake) / len(fake)}

    def show(self, core, t_maps, adapted):
        """The discriminator's patch scores (sigmoid, 0-1) of both sides."""
        if not self.active:
            return []
        disc = unwrap(core.discriminator)
        return [{'D(teacher)': r.sigmoid(), 'D(student)': f.sigmoid()}
                for r, f in zip(disc(t_maps), disc(adapted))]

    def discriminator_loss(self, core, step) -> Dict[str, torch.Tensor]:
        """``disc.loss_d`` over all levels (teacher real, student fake),
        plus the mean real/fake scores for the log."""
        adapted, t_maps = step.adapted, step.t_maps
        n = len(t_maps)
        # real and fake of a level in one batch: one D forward per step
        logits = core.discriminator([
            torch.cat([t, s.detach()]) for t, s in zip(t_maps, adapted)])
        real = [x[:len(x) // 2] for x in logits]
        fake = [x[len(x) // 2:] for x in logits]
        loss = sum(core.loss_gan.discriminator_loss(r, f)
                   for r, f in zip(real, fake)) / n
        return {
            'disc.loss_d': loss,
            'disc.score_real': sum(r.mean() for r in real).detach() / n,
            'disc.score_fake': sum(f.mean() for f in fake).detach() / n,
        }


class LogitAdversary(Adversary):
    """KSANC's: a discriminator on class-score rows with ``1 + C`` outputs
    (real/fake and the class-level term ``L_cls`` against the teacher's
    class distribution), a weight penalty ``L_reg`` (``d_reg``) and the
    student's rows also labelled real (``fake_as_real``). It judges at most
    ``disc_rows`` rows (the same random ones of both models): a detector's
    anchors are tens of thousands. Needs a logit term before it (the rows
    it judges)."""

    def __init__(self, discriminator, loss_gan, d_steps=1,
                 adv_warmup_iters=500, d_reg=1e-5, fake_as_real=0.1,
                 disc_rows=2048):
        super().__init__(discriminator, loss_gan, d_steps, adv_warmup_iters)
        self.d_reg, self.fake_as_real = float(d_reg), float(fake_as_real)
        self.disc_rows = check_count(disc_rows, 'disc_rows')

    def in_channels(self, core):
        return core.task.logit_width()

    def loss_names(self):
        return ['loss_adv', 'loss_cls'] if self.active else []

    def losses(self, core, step):
        s_rows, t_rows = step.rows
        if len(s_rows) > self.disc_rows:
            keep = torch.randperm(len(s_rows), device=s_rows.device)
            s_rows, t_rows = (x[keep[:self.disc_rows]]
                              for x in (s_rows, t_rows))
        step.rows = (s_rows, t_rows)
        if not self.active:
            return {}
        fake = judged(core.discriminator, [s_rows])[0]
        scale = self.weight_scale(core)
        return {
            'distill.loss_adv': scale * core.loss_gan(fake[:, :1]),
            'distill.loss_cls': scale * core.loss_gan.loss_weight *
            class_loss(fake[:, 1:], t_rows, core.loss_kd.use_sigmoid)}

    def discriminator_loss(self, core, step) -> Dict[str, torch.Tensor]:
        """``L_gan + L_cls + L_reg`` of the discriminator (teacher rows
        real, student rows fake) and the mean real/fake scores."""
        s_rows, t_rows = step.rows
        real, fake = core.discriminator([t_rows, s_rows.detach()])
        gan = core.loss_gan.discriminator_loss(real[:, :1], fake[:, :1])
        cls = class_loss(torch.cat([real[:, 1:], fake[:, 1:]]),
                         torch.cat([t_rows, t_rows]),
                         core.loss_kd.use_sigmoid)
        reg = self.d_reg * unwrap(core.discriminator).penalty()
        as_real = self.fake_as_real * core.loss_gan.real_loss(fake[:, :1])
        return {'disc.loss_d': gan + cls + reg + as_real,
                'disc.score_real': real[:, 0].mean().detach(),
                'disc.score_fake': fake[:, 0].mean().detach()}
