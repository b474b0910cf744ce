"""MGD: Masked Generative Distillation (Yang et al., ECCV 2022,
https://arxiv.org/abs/2205.01529), for detectors and classifiers.

The paper fixes: random locations of the student's map are masked and a
generation block must regenerate the teacher's full map from the rest,
so the student's features learn to carry the teacher's; the block is
dropped at inference. mmkd decided (configs/mgd/README.md): every matched
neck level of a detector (one block each), the last stage of a
classifier; the loss alone, no logit term.
"""
from mmkd import registry
from ..terms.per_level import LevelLosses
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class MGD(TeacherDistiller):
    """MGD: a masked generation per level pair (an ``MGDLoss`` each, the
    child ``generation``) over the teacher core
    (whose arguments it takes too; ``loss_kd`` adds logit KD).

    Args:
        loss_mgd (dict): ``MGDLoss`` (widths filled in): alpha 2e-5,
            lambda 0.65 (the paper's detectors; its ImageNet classifiers:
            7e-5, 0.15).
    """
    defaults = dict(
        adapter=None, loss_kd=None,
        loss_mgd=dict(type='MGDLoss', alpha_mgd=2e-5, lambda_mgd=0.65))

    def terms(self, cfg):
        return [LevelLosses(cfg['loss_mgd'], 'loss_mgd', 'generation'),
                *super().terms(dict(cfg, loss_feat=None))]
