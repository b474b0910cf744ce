"""KSANC: Knowledge Squeezed Adversarial Network Compression (Shu, Li et
al., AAAI 2020, https://arxiv.org/abs/1904.05100), for detectors and
classifiers: logits matched (``l1``) and judged by a class-aware
discriminator (``l2``), stages squeezed by task-driven attention (``l3``).
What the paper fixes and what mmkd decided: configs/ksanc/README.md.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from mmkd import registry
from ..discriminators.logit_discriminator import class_loss
from .updates import Update, check_gan, frozen, unwrap
from .ktan import KTAN
from .teacher_distiller import TeacherDistiller, pair_levels
from .utils import check_count


@registry.MODELS.register_module()
class KSANC(KTAN):
    """KSANC: arguments as :class:`KTAN` (``loss_kd`` is the logit term
    ``l1``, ``loss_gan``'s weight is ``l2``), plus:

    Args:
        adapter (dict, optional): The lift to the teacher's widths (1x1
            conv + BN, or ``norm_cfg=None``: the paper's plain conv); either
            folds into the squeeze (:meth:`squeeze`).
        attention (dict): ``TaskAttention``; channels and classes filled in.
        loss_squeeze (dict): Loss between the descriptors (weight ``l3``).
        d_reg (float): Weight of the L1 + L2 penalty on the
            discriminator's weights.
        fake_as_real (float): Weight of the discriminator's loss on the
            student's logits labelled real.
        disc_rows (int): The discriminator judges at most this many rows
            (the same random ones of teacher and student) per iteration: a
            detector's anchors are tens of thousands.
    """

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 adapter: Optional[dict] = dict(
                     type='T2SAdapter', kernel_size=1),
                 attention: Optional[dict] = dict(type='TaskAttention'),
                 loss_squeeze: Optional[dict] = dict(
                     type='FeatureMSELoss', loss_weight=1.0),
                 discriminator: Optional[dict] = dict(
                     type='LogitDiscriminator'),
                 loss_gan: Optional[dict] = dict(
                     type='GANLoss', gan_type='lsgan', loss_weight=1.0),
                 loss_kd: Optional[dict] = dict(
                     type='LogitMSELoss', loss_weight=1.0),
                 d_reg: float = 1e-5,
                 fake_as_real: float = 0.1,
                 disc_rows: int = 2048,
                 adv_warmup_iters: int = 500,
                 **kwargs):
        if loss_kd is None:
            raise ValueError(
                'KSANC compares logits (the l1 term and the discriminator '
                'judge them): keep loss_kd (loss_weight=0 drops the l1 '
                'term).')
        super().__init__(student, teacher, teacher_ckpt, adapter, None,
                         discriminator, loss_gan, loss_kd,
                         adv_warmup_iters=adv_warmup_iters,
                         attention=attention, loss_squeeze=loss_squeeze,
                         **kwargs)
        self.d_reg, self.fake_as_real = float(d_reg), float(fake_as_real)
        self.disc_rows = check_count(disc_rows, 'disc_rows')

    def build_method(self, cfgs: dict) -> None:
        attention, disc = cfgs.pop('attention'), cfgs.pop('discriminator')
        self.loss_gan = self.build_loss(cfgs.pop('loss_gan'), 'loss_gan')
        self.loss_squeeze = self.build_loss(cfgs.pop('loss_squeeze'),
                                            'loss_squeeze')
        TeacherDistiller.build_method(self, cfgs)
        check_gan(disc, self.loss_gan, 'no adversarial terms')
        if (attention is None) != (self.loss_squeeze is None):
            raise ValueError('attention and loss_squeeze go together: set '
                             'both, or both to None (no squeezed knowledge)')
        self.attention = None if attention is None else registry.MODELS.build(
            dict(attention, in_channels=self.t_channels,
                 num_classes=self.task.num_classes()))
        self.discriminator = None if disc is None else registry.MODELS.build(
            dict(disc, in_channels=self.task.logit_width()))

    def needs_adapter(self) -> bool:
        return self.attention is not None

    def equal_widths_user(self):
        return None if self.attention is None else 'TaskAttention'

    def pick_levels(self, s_strides, t_strides, match_levels):
        """The last three matched stages / levels (hierarchical)."""
        return [i for i, _ in pair_levels(s_strides, t_strides,
                                          match_levels, self.task)][-3:]

    @property
    def folding(self) -> bool:
        """Whether the lift folds into the squeeze: an adapter of 1x1 convs
        with BN or no norm lifts the squeezed descriptors, not the maps
        (``T2SAdapter(affine=True)``, ``TaskAttention``'s ``s_lift``)."""
        return self.attention is not None and unwrap(self.adapter).foldable

    def adapt(self, s_maps, t_maps):
        """Left to :meth:`squeeze`, which lifts the maps or folds the lift
        in."""
        return s_maps if self.attention is not None else super().adapt(
            s_maps, t_maps)

    def squeeze(self, s_maps, t_maps) -> dict:
        """The attention on both models, with the student's descriptors
        lifted: by folding the lift into the squeeze where the maps keep
        their size (the same result, without the lifted maps), else by
        squeezing the lifted maps."""
        if self.folding and all(s.shape[-2:] == t.shape[-2:]
                                for s, t in zip(s_maps, t_maps)):
            lift = self.adapter(s_maps, affine=True)
            att = self.attention(t_maps, s_maps, [a for a, _ in lift])
            att['s_desc'] = [F.linear(g, a.to(g.dtype), b.to(g.dtype))
                             for g, (a, b) in zip(att['s_desc'], lift)]
            return att
        return self.attention(t_maps, super().adapt(s_maps, t_maps))

    def distill_loss_names(self) -> List[str]:
        return ['loss_kd'] + ['loss_squeeze', 'loss_att'] * (
            self.attention is not None) + ['loss_adv', 'loss_cls'] * (
            self.discriminator is not None)

    def distill_losses(self, state, records, t_out) -> dict:
        pairs = self.task.logit_pairs(records, t_out)
        s_rows, t_rows = (torch.cat(rows) for rows in zip(*pairs))
        losses = {'distill.loss_kd': self.loss_kd(s_rows, t_rows)}
        if len(s_rows) > self.disc_rows:
            keep = torch.randperm(len(s_rows), device=s_rows.device)
            s_rows, t_rows = (x[keep[:self.disc_rows]]
                              for x in (s_rows, t_rows))
        state['rows'] = (s_rows, t_rows)
        if self.attention is not None:
            att = self.squeeze(state['s_maps'], state['t_maps'])
            losses['distill.loss_squeeze'] = sum(
                self.loss_squeeze(s, t.detach())
                for s, t in zip(att['s_desc'], att['t_desc']))
            losses['distill.loss_att'] = self.task.image_loss(
                att['aux_logits'], state['data_samples'])
        if self.discriminator is not None:
            with frozen(unwrap(self.discriminator)) as disc:
                fake = disc([s_rows])[0]
            scale = self.adv_weight_scale()
            losses['distill.loss_adv'] = scale * self.loss_gan(fake[:, :1])
            losses['distill.loss_cls'] = scale * self.loss_gan.loss_weight * \
                class_loss(fake[:, 1:], t_rows, self.loss_kd.use_sigmoid)
        return losses

    def ksanc_disc_loss(self, state) -> Dict[str, torch.Tensor]:
        """``L_gan + L_cls + L_reg`` of the discriminator (teacher rows
        real, student rows fake) and the mean real/fake scores."""
        s_rows, t_rows = state['rows']
        real, fake = self.discriminator([t_rows, s_rows.detach()])
        gan = self.loss_gan.discriminator_loss(real[:, :1], fake[:, :1])
        cls = class_loss(torch.cat([real[:, 1:], fake[:, 1:]]),
                         torch.cat([t_rows, t_rows]), self.loss_kd.use_sigmoid)
        reg = self.d_reg * unwrap(self.discriminator).penalty()
        as_real = self.fake_as_real * self.loss_gan.real_loss(fake[:, :1])
        return {'disc.loss_d': gan + cls + reg + as_real,
                'disc.score_real': real[:, 0].mean().detach(),
                'disc.score_fake': fake[:, 0].mean().detach()}

    def parts(self) -> Dict[str, List[str]]:
        return dict(student=['student', 'adapter', 'attention'],
                    disc=['discriminator'])

    def updates(self) -> List[Update]:
        """One student update, then ``d_steps`` discriminator updates on
        the same logits."""
        return [
            Update('student', 'student', self.forward_train),
            Update('discriminator', 'disc', self.ksanc_disc_loss,
                   times=self.d_steps, adversary=True,
                   active=lambda: self.discriminator is not None),
        ]
