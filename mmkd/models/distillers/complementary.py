"""Complementary features (Zhang et al., ICONIP 2020, "Training Lightweight
yet Competent Network via Transferring Complementary Features",
https://doi.org/10.1007/978-3-030-63820-7_65), for detectors and
classifiers.

What the paper fixes: the teacher is trained for the task plus image
reconstruction (an auxiliary decoder), so its features are discriminative
and generative; the student mimics their pixel-level distribution with a
feature loss and their spatial-level distribution with an adversarial
loss. Student loss::

    task + w_feat * MSE(T2S(F_s), F_t) + w_adv * L_G(D(T2S(F_s)))

What mmkd decided (configs/complementary/README.md): the teacher is a
``ReconstructionTeacher`` (its own config and run); the student learns the
map the decoder reconstructed from (the student's map of its stride), with
KTAN's T2S adapter and patch discriminator; the decoder is not run during
distillation, since no term uses its output.
"""
from typing import Optional

from mmkd import registry
from ..teacher import teacher_model_cfg
from .ktan import KTAN
from .teacher_distiller import pair_levels


def reconstruction_teacher(teacher) -> dict:
    """The ReconstructionTeacher config of ``teacher`` (a file, a full
    config or a model dict); an error naming the fix for any other."""
    cfg = teacher if isinstance(teacher, dict) and teacher.get(
        'type') == 'ReconstructionTeacher' else teacher_model_cfg(teacher)
    if cfg.get('type') != 'ReconstructionTeacher':
        raise ValueError(
            'A complementary student learns from a teacher trained with a '
            f"reconstruction decoder; the teacher is a plain {cfg['type']}."
            " Train it first with model=dict(type='ReconstructionTeacher', "
            'model=<its config>) (configs/complementary/README.md) and give '
            'that config as teacher=.')
    return cfg


@registry.MODELS.register_module()
class ComplementaryDistiller(KTAN):
    """Complementary-feature transfer: arguments as :class:`KTAN` with the
    paper's terms by default (no logit KD); ``teacher`` is the
    ``ReconstructionTeacher`` config the teacher was trained with, and
    ``teacher_ckpt`` that run's checkpoint (the decoder's weights must be
    in it). The distilled student level is the one of the decoder's
    stride."""
    teacher_has_decoder = True

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
                 loss_kd: Optional[dict] = None,
                 **kwargs):
        recon = reconstruction_teacher(teacher)
        object.__setattr__(self, 'decoder_level', recon.get('level', -1))
        super().__init__(student, recon['model'], teacher_ckpt, adapter,
                         loss_feat, discriminator, loss_gan, loss_kd,
                         **kwargs)

    def pick_levels(self, s_strides, t_strides, match_levels):
        """The student level paired with the decoder's."""
        n = len(t_strides)
        if not -n <= self.decoder_level < n:
            raise ValueError(
                f'The teacher\'s decoder is on level {self.decoder_level}, '
                f'but its {self.task.part} has {n} {self.task.unit}; use '
                'the config the teacher was trained with.')
        level = self.decoder_level % n
        found = [i for i, j in pair_levels(s_strides, t_strides,
                                           match_levels, self.task)
                 if j == level]
        if not found:
            raise ValueError(
                f'The teacher\'s decoder is on its {self.task.unit[:-1]} '
                f'{level} (stride {t_strides[level]}); no student '
                f'{self.task.unit[:-1]} has that stride (the student\'s: '
                f"{s_strides}). Set match_levels='index' or levels=[...].")
        return found
