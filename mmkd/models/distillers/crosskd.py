"""CrossKD: Cross-Head Knowledge Distillation for Object Detection (Wang
et al., CVPR 2024, https://arxiv.org/abs/2306.11369).

The paper fixes: the student's intermediate dense-head features are fed
through the teacher's remaining head layers (after matching their channel
statistics to the teacher's features there), and KD is applied between
those crossed predictions and the teacher's own, for classification and
box regression, so the student's head is not pulled by targets that
conflict with the ground truth. mmkd decided (configs/crosskd/README.md):
one term for any dense head laid out as class and box branches (the
authors write a detector class per head type), through the task
adapter's record of the head's layer inputs; KD on class scores; an L1
between box outputs weighted by the teacher's top class score, where the
authors decode boxes per head (GIoU, or DFL for GFL).
"""
from mmkd import registry
from ..terms.crosskd import CrossHead
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class CrossKD(TeacherDistiller):
    """CrossKD: the crossed head over the teacher core (whose arguments it
    takes too; ``loss_feat`` adds a hint on the neck levels, as the
    authors' CrossKD+PKD configs do).

    Args:
        layer (int): The head layer whose input is crossed (-2: the last
            stacked conv, the authors' RetinaNet setting of 4 convs).
        loss_cross (dict): ``KDLoss`` between the crossed and the teacher's
            class scores (T 1, weight 1).
        reg_weight (float): Weight of the box term (1; 0: none).
    """
    tasks = ('detection', )
    defaults = dict(
        adapter=dict(type='T2SAdapter'), loss_feat=None, layer=-2,
        loss_cross=dict(type='KDLoss', temperature=1.0, loss_weight=1.0),
        reg_weight=1.0)

    def terms(self, cfg):
        return [CrossHead(cfg['layer'], cfg['loss_cross'], cfg['reg_weight']),
                *super().terms(dict(cfg, loss_kd=None))]
