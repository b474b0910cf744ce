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
from mmkd import registry
from ..teacher import teacher_model_cfg
from .ktan import KTAN
from .levels import pair_levels
from .teacher_distiller import TeacherDistiller


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
class ComplementaryDistiller(TeacherDistiller):
    """Complementary-feature transfer: KTAN's hint and patch adversary on
    the level of a reconstruction teacher's decoder (no logit KD by
    default). ``teacher`` is the ``ReconstructionTeacher`` config the
    teacher was trained with, and ``teacher_ckpt`` that run's checkpoint
    (the decoder's weights must be in it). Arguments as :class:`KTAN`, with
    the paper's terms as defaults."""
    teacher_has_decoder = True
    defaults = dict(KTAN.defaults, loss_kd=None)
    terms = KTAN.terms  # KTAN's terms, not a subclass of KTAN

    def teacher_config(self, teacher):
        """The model the decoder was trained on (the decoder is not run:
        no term uses its output)."""
        recon = reconstruction_teacher(teacher)
        object.__setattr__(self, 'decoder_level', recon.get('level', -1))
        return recon['model']

    def default_levels(self, s_strides, t_strides, match_levels):
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
