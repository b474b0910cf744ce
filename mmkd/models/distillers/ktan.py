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
from mmkd import registry
from ..terms import Hint, LogitKD, PatchAdversary
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class KTAN(TeacherDistiller):
    """KTAN: a hint, a patch adversary and logit KD over the teacher core
    (whose arguments, :class:`TeacherDistiller`'s, it takes too).

    Args:
        adapter (dict): T2S adapter; 1x1 conv + BN.
        loss_feat (dict, optional): ``FeatureMSELoss``, weight 1.
        discriminator (dict, optional): ``PatchDiscriminator``; channels
            filled in. None (with ``loss_gan=None``) for FitNet-style hints.
        loss_gan (dict, optional): ``GANLoss`` (LSGAN); its weight (0.1) is
            ``w_adv``.
        loss_kd (dict, optional): ``KDLoss``, T=1, weight 1.
        d_steps (int): Discriminator updates per student update (1).
        adv_warmup_iters (int): Iterations over which ``w_adv`` ramps from
            0 to its value (500).
    """
    defaults = dict(
        adapter=dict(type='T2SAdapter', kernel_size=1),
        loss_feat=dict(type='FeatureMSELoss', loss_weight=1.0),
        discriminator=dict(type='PatchDiscriminator'),
        loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=0.1),
        loss_kd=dict(type='KDLoss', temperature=1.0, loss_weight=1.0),
        d_steps=1,
        adv_warmup_iters=500)

    def terms(self, cfg):
        return [
            Hint(cfg['loss_feat']),
            PatchAdversary(cfg['discriminator'], cfg['loss_gan'],
                           cfg['d_steps'], cfg['adv_warmup_iters']),
            LogitKD(cfg['loss_kd']),
        ]


@registry.MODELS.register_module()
class DetectionDistiller(KTAN):
    """KTAN under its former name, so existing configs and checkpoints keep
    working (and messages name the type their config gives). A run started
    under one name resumes under the other (``FORMER_NAMES``)."""


# a distiller's former type name -> its method, for comparing runs
FORMER_NAMES = {'DetectionDistiller': 'KTAN'}
