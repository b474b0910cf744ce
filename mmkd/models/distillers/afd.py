"""AFD: Feature-map-level Online Adversarial Knowledge Distillation (Chung et
al., ICML 2020, https://arxiv.org/abs/2002.01775) for classifiers and
detectors; DML (Zhang et al., CVPR 2018) is its config without
discriminators.

The paper fixes: K networks train together from scratch; network k learns
from network k-1's softened logits (``T^2 KL``) and fools its own
discriminator ``D_k``, which calls network k-1's map real and network k's
fake (LSGAN; cyclic for K > 2). Per batch: the logit update, the
adversarial update with a separate optimizer of smaller learning rate, the
discriminators' update. mmkd decided (configs/afd/README.md): network 0 is
the student; the map is a classifier's last stage or a detector's neck
levels of equal stride (KL on dense class scores); a T2S transform where
widths differ; the adversarial update runs its own feature forward (the
logit update has stepped the weights the first one used).
"""
from mmkd import registry
from ..terms import PeerAdversary, PeerKD
from .online import OnlineDistiller


@registry.MODELS.register_module()
class AFD(OnlineDistiller):
    """AFD: peer KD and a peer adversary over the online core (whose
    arguments, :class:`OnlineDistiller`'s, it takes too: ``student``,
    ``peers``, ``probe_size``).

    Args:
        loss_kd (dict): ``KDLoss`` from network k-1's logits to network
            k's (T=3).
        discriminator (dict, optional): ``D_k`` per network (channels
            filled in); None, with ``loss_gan=None``, is DML.
        loss_gan (dict, optional): ``GANLoss`` (LSGAN).
        transform (dict): T2S transform from network k's widths to network
            k-1's, built only where they differ.
    """
    defaults = dict(
        loss_kd=dict(type='KDLoss', temperature=3.0),
        discriminator=dict(type='PatchDiscriminator'),
        loss_gan=dict(type='GANLoss', gan_type='lsgan'),
        transform=dict(type='T2SAdapter'))

    def terms(self, cfg):
        return [
            PeerKD(cfg['loss_kd']),
            PeerAdversary(cfg['discriminator'], cfg['loss_gan'],
                          cfg['transform']),
        ]
