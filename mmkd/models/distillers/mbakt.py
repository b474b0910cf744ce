"""MB-AKT: Multi-Branched Adversarial Knowledge Transfer (Ghorbani et al.,
arXiv 2010.04516) for classifiers and dense-head detectors; BYOT (Be Your
Own Teacher, Zhang et al., ICCV 2019) is its config without the
discriminator.

The paper fixes: branches over the primary stream form an ensemble that
teaches itself with four losses and is trained against a discriminator;
the branches cost nothing at inference. mmkd decided (configs/mbakt/
README.md), following BYOT: a branch is a bottleneck and a classifier on
a backbone stage (for a detector: a light copy of its dense head at the
neck level of the next stride); the losses are each branch's task loss
(x0.7), T^2 KL from the detached ensemble (the mean of the main output's
and the branches' scores) to each branch (x0.3, T=3), MSE from the
detached deepest map (the last stage; the neck level) to each branch's
map (x0.03), and LSGAN on class probabilities: ensemble real, branch fake.
"""
from mmkd import registry
from ..terms import BranchHint, BranchTask, EnsembleKD, ProbAdversary
from .self_distiller import SelfDistiller


@registry.MODELS.register_module()
class MBAKT(SelfDistiller):
    """MB-AKT: the branches' task loss, ensemble KD, a hint from the
    deepest map and a probability adversary over the self-distillation
    core (whose arguments, :class:`SelfDistiller`'s, it takes too:
    ``student``, ``stages``, ``branch``, ``probe_size``).

    Args:
        branch_weight (float): Factor of each branch's task loss (0.7).
        loss_kd (dict, optional): ``KDLoss`` from the ensemble to each
            branch (T=3, weight 0.3).
        loss_hint (dict, optional): ``FeatureMSELoss`` from the deepest map
            to each branch's feature (weight 0.03).
        discriminator (dict, optional): ``PatchDiscriminator`` on class
            probabilities; None, with ``loss_gan=None``, is BYOT.
        loss_gan (dict, optional): ``GANLoss`` (weight 0.3).
    """
    defaults = dict(
        branch_weight=0.7,
        loss_kd=dict(type='KDLoss', temperature=3.0, loss_weight=0.3),
        loss_hint=dict(type='FeatureMSELoss', loss_weight=0.03),
        discriminator=dict(type='PatchDiscriminator'),
        loss_gan=dict(type='GANLoss', loss_weight=0.3))

    def terms(self, cfg):
        return [
            BranchTask(cfg['branch_weight']),
            EnsembleKD(cfg['loss_kd']),
            BranchHint(cfg['loss_hint']),
            ProbAdversary(cfg['discriminator'], cfg['loss_gan']),
        ]
