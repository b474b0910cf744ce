"""KTAN: Knowledge Transfer Adversarial Network (Liu et al., IJCNN 2020,
https://arxiv.org/abs/1810.08126), for detectors and classifiers.

What the paper fixes: teacher feature maps are the student's target through
a Teacher-to-Student (T2S) layer; a discriminator on the maps (teacher real,
student fake) exploits their spatial correlation; plus Hinton KD.

What mmkd decided (configs/ktan/README.md): every matched neck level of a
detector, the last backbone stage of a classifier; a patch discriminator
shared by the levels with its own optimizer, ``d_steps`` updates per
student update on the same adapted maps; LSGAN by default; the adversarial
weight ramps up over ``adv_warmup_iters``. Student loss::

    task + w_feat * MSE(T2S(F_s), F_t) + w_adv * L_G(D(T2S(F_s)))
         + w_kd * KD(z_s, z_t)
"""
from typing import Dict, List, Optional, Sequence

import torch

from mmkd import registry
from .updates import Update, frozen, unwrap
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class KTAN(TeacherDistiller):
    """KTAN: arguments as :class:`TeacherDistiller`, with KTAN's defaults,
    plus:

    Args:
        discriminator (dict, optional): Patch discriminator; channels
            filled in. None (with ``loss_gan=None``) for FitNet-style hints.
        loss_gan (dict, optional): ``GANLoss``; its weight is ``w_adv``.
        d_steps (int): Discriminator updates per student update.
        adv_warmup_iters (int): Iterations over which ``w_adv`` ramps from
            0 to its value.
    """

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 adapter: Optional[dict] = dict(
                     type='T2SAdapter', kernel_size=1),
                 loss_feat: Optional[dict] = dict(
                     type='FeatureMSELoss', loss_weight=1.0),
                 discriminator: Optional[dict] = dict(
                     type='PatchDiscriminator'),
                 loss_gan: Optional[dict] = dict(
                     type='GANLoss', gan_type='lsgan', loss_weight=0.1),
                 loss_kd: Optional[dict] = dict(
                     type='KDLoss', temperature=1.0, loss_weight=1.0),
                 d_steps: int = 1,
                 adv_warmup_iters: int = 500,
                 levels: Optional[Sequence[int]] = None,
                 **kwargs):
        if (discriminator is None) != (loss_gan is None):
            raise ValueError('discriminator and loss_gan go together: set '
                             'both, or both to None')
        for name, value, low in (('d_steps', d_steps, 1),
                                 ('adv_warmup_iters', adv_warmup_iters, 0)):
            if isinstance(value, bool) or not isinstance(value, int) \
                    or value < low:
                raise ValueError(f'{name} must be an int >= {low}, got '
                                 f'{value!r}')
        super().__init__(student, teacher, teacher_ckpt, adapter, loss_feat,
                         loss_kd, levels, discriminator=discriminator,
                         loss_gan=loss_gan, **kwargs)
        self.d_steps = d_steps
        self.adv_warmup_iters = adv_warmup_iters

    def build_method(self, cfgs: dict) -> None:
        disc, loss_gan = cfgs.pop('discriminator'), cfgs.pop('loss_gan')
        super().build_method(cfgs)
        self.loss_gan = self.build_loss(loss_gan, 'loss_gan')
        self.discriminator = None
        if disc is not None:
            channels = self.t_channels
            # one channel count: one shared input layer
            self.discriminator = registry.MODELS.build(dict(
                disc, in_channels=channels[0]
                if len(set(channels)) == 1 else channels))

    def needs_adapter(self) -> bool:
        return self.loss_feat is not None or self.discriminator is not None

    def distill_loss_names(self) -> List[str]:
        names = super().distill_loss_names()
        if self.loss_gan is not None:
            names.insert(int(self.loss_feat is not None), 'loss_adv')
        return names

    def adv_weight_scale(self) -> float:
        """Linear warm-up factor of the adversarial weight."""
        if self.adv_warmup_iters == 0:
            return 1.0
        return min(1.0, (int(self.num_iters) + 1) / self.adv_warmup_iters)

    def distill_losses(self, state, records, t_out) -> dict:
        losses = super().distill_losses(state, records, t_out)
        if self.discriminator is not None:
            with frozen(unwrap(self.discriminator)) as disc:
                fake = disc(state['s_maps'])
            losses['distill.loss_adv'] = self.adv_weight_scale() * sum(
                self.loss_gan(f) for f in fake) / len(fake)
        return losses

    def discriminator_loss(self, adapted: Sequence[torch.Tensor],
                           t_maps: Sequence[torch.Tensor]) -> dict:
        """``disc.loss_d`` over all levels (teacher real, student fake),
        plus the mean real/fake scores for the log."""
        n = len(t_maps)
        # real and fake of a level in one batch: one D forward per step
        logits = self.discriminator([
            torch.cat([t, s.detach()]) for t, s in zip(t_maps, adapted)
        ])
        real = [x[:len(x) // 2] for x in logits]
        fake = [x[len(x) // 2:] for x in logits]
        loss = sum(
            self.loss_gan.discriminator_loss(r, f)
            for r, f in zip(real, fake)) / n
        return {
            'disc.loss_d': loss,
            'disc.score_real': sum(r.mean() for r in real).detach() / n,
            'disc.score_fake': sum(f.mean() for f in fake).detach() / n,
        }

    def parts(self) -> Dict[str, List[str]]:
        return dict(student=['student', 'adapter'], disc=['discriminator'])

    def updates(self) -> List[Update]:
        """One student update (task + distillation losses), then
        ``d_steps`` discriminator updates on the same adapted maps."""
        return [
            Update('student', 'student', self.forward_train),
            Update('discriminator', 'disc', lambda state:
                   self.discriminator_loss(state['s_maps'], state['t_maps']),
                   times=self.d_steps, adversary=True,
                   active=lambda: self.discriminator is not None),
        ]


@registry.MODELS.register_module()
class DetectionDistiller(KTAN):
    """KTAN under its former name, so existing configs and checkpoints keep
    working (and messages name the type their config gives). A run started
    under one name resumes under the other (``FORMER_NAMES``)."""


# a distiller's former type name -> its method, for comparing runs
FORMER_NAMES = {'DetectionDistiller': 'KTAN'}
