"""KSANC: Knowledge Squeezed Adversarial Network Compression (Shu, Li et
al., AAAI 2020, https://arxiv.org/abs/1904.05100), for detectors and
classifiers: logits matched (``l1``) and judged by a class-aware
discriminator (``l2``), stages squeezed by task-driven attention (``l3``).
What the paper fixes and what mmkd decided: configs/ksanc/README.md.
"""
from mmkd import registry
from ..terms import LogitAdversary, LogitMatch, Squeeze
from .levels import pair_levels
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class KSANC(TeacherDistiller):
    """KSANC: a logit match, squeezed attention and a logit adversary over
    the teacher core (whose arguments, :class:`TeacherDistiller`'s, it
    takes too), on the last three matched levels by default.

    Args:
        adapter (dict, optional): The lift to the teacher's widths (1x1
            conv + BN, or ``norm_cfg=None``: the paper's plain conv); either
            folds into the squeeze.
        attention (dict): ``TaskAttention``; channels and classes filled in.
        loss_squeeze (dict): Loss between the descriptors (weight ``l3``).
        discriminator (dict): ``LogitDiscriminator`` (hidden width 128).
        loss_gan (dict): ``GANLoss`` (LSGAN); its weight is ``l2``.
        loss_kd (dict): The logit term ``l1``, ``LogitMSELoss``.
        d_steps (int): Discriminator updates per student update.
        adv_warmup_iters (int): Warm-up of the adversarial weight.
        d_reg (float): Weight of the L1 + L2 penalty on the
            discriminator's weights.
        fake_as_real (float): Weight of the discriminator's loss on the
            student's logits labelled real.
        disc_rows (int): The discriminator judges at most this many rows
            (the same random ones of teacher and student) per iteration.
    """
    defaults = dict(
        adapter=dict(type='T2SAdapter', kernel_size=1),
        attention=dict(type='TaskAttention'),
        loss_squeeze=dict(type='FeatureMSELoss', loss_weight=1.0),
        discriminator=dict(type='LogitDiscriminator'),
        loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
        loss_kd=dict(type='LogitMSELoss', loss_weight=1.0),
        d_steps=1,
        adv_warmup_iters=500,
        d_reg=1e-5,
        fake_as_real=0.1,
        disc_rows=2048)

    def terms(self, cfg):
        if cfg['loss_kd'] is None:
            raise ValueError(
                'KSANC compares logits (the l1 term and the discriminator '
                'judge them): keep loss_kd (loss_weight=0 drops the l1 '
                'term).')
        return [
            LogitMatch(cfg['loss_kd']),
            Squeeze(cfg['attention'], cfg['loss_squeeze']),
            LogitAdversary(cfg['discriminator'], cfg['loss_gan'],
                           cfg['d_steps'], cfg['adv_warmup_iters'],
                           cfg['d_reg'], cfg['fake_as_real'],
                           cfg['disc_rows']),
        ]

    def default_levels(self, s_strides, t_strides, match_levels):
        """The last three matched stages / levels (hierarchical)."""
        return [i for i, _ in pair_levels(s_strides, t_strides,
                                          match_levels, self.task)][-3:]
