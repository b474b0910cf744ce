"""DIST: Knowledge Distillation from A Stronger Teacher (Huang et al.,
NeurIPS 2022, https://arxiv.org/abs/2205.10536), for classifiers.

The paper fixes: the student keeps the teacher's relations, not its exact
probabilities: the Pearson correlation of each sample's class
probabilities (inter-class) and of each class's probabilities over the
batch (intra-class). mmkd decided (configs/dist/README.md): the loss is
``DISTLoss`` over the teacher core's logit term.
"""
from mmkd import registry
from .teacher_distiller import TeacherDistiller


@registry.MODELS.register_module()
class DIST(TeacherDistiller):
    """DIST: the teacher core's logit term with ``DISTLoss``.

    Args:
        loss_kd (dict): ``DISTLoss``: beta = gamma = 1, tau = 1 (the
            paper's ImageNet setting; CIFAR-100: 2, 2, 4).
    """
    tasks = ('classification', )
    defaults = dict(TeacherDistiller.defaults, loss_kd=dict(
        type='DISTLoss', beta=1.0, gamma=1.0, temperature=1.0))
