"""DKD: Decoupled Knowledge Distillation (Zhao et al., CVPR 2022,
https://arxiv.org/abs/2203.08679), for classifiers.

The paper fixes: KD split into the target class's binary distribution
(TCKD, weight alpha) and the distribution among the non-target classes
(NCKD, weight beta), the loss warmed up linearly over the first epochs.
mmkd decided (configs/dkd/README.md): the loss is ``DKDLoss`` over the
teacher core's logit term (the labels come with the student's features);
the warm-up is ``DistillLossWeightHook``'s, in the configs.
"""
from mmkd import registry
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class DKD(TeacherDistiller):
    """DKD: the teacher core's logit term with ``DKDLoss`` (a hint may be
    added with ``loss_feat``, as the core takes it).

    Args:
        loss_kd (dict): ``DKDLoss``: alpha 1, beta 8, T 4 (the paper's
            CIFAR-100 setting of a wide teacher; ImageNet: alpha 0.5, beta
            0.5, T 1).
    """
    tasks = ('classification', )
    defaults = dict(TeacherDistiller.defaults, loss_kd=dict(
        type='DKDLoss', alpha=1.0, beta=8.0, temperature=4.0))
