"""FGD: Focal and Global Knowledge Distillation for Detectors (Yang et al.,
CVPR 2022, https://arxiv.org/abs/2111.11837).

The paper fixes: the ground-truth boxes split each neck level into
foreground and background, imitated separately under the teacher's
spatial and channel attention (focal), plus the attention itself and a
global relation through GcBlocks (global). mmkd decided
(configs/fgd/README.md): every matched neck level (one loss module each);
the boxes scaled from the batch's padded input, whose grid the levels
cover; the loss alone, no logit term.
"""
from mmkd import registry
from ..terms.fgd import FocalGlobal
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class FGD(TeacherDistiller):
    """FGD: focal and global imitation per neck level over the teacher core
    (whose arguments it takes too; ``loss_kd`` adds logit KD).

    Args:
        loss_fgd (dict): ``FGDLoss`` (widths filled in): temp 0.5, alpha
            1e-3, beta 5e-4, gamma 1e-3, lambda 5e-6 (the paper's
            RetinaNet setting).
    """
    tasks = ('detection', )
    defaults = dict(
        adapter=None, loss_kd=None,
        loss_fgd=dict(type='FGDLoss', temp=0.5, alpha_fgd=1e-3,
                      beta_fgd=5e-4, gamma_fgd=1e-3, lambda_fgd=5e-6))

    def terms(self, cfg):
        return [FocalGlobal(cfg['loss_fgd']), *super().terms(
            dict(cfg, loss_feat=None))]
