import math

import pytest
import torch
from torch.distributions import Bernoulli, Categorical, kl_divergence

from mmkd.models import GANLoss, KDLoss


@pytest.mark.parametrize('gan_type, d_loss, g_loss', [
    ('lsgan', (0.5 - 1)**2 + 0.2**2, (0.2 - 1)**2),
    ('vanilla', -math.log(1 / (1 + math.exp(-0.5))) -
     math.log(1 - 1 / (1 + math.exp(-0.2))),
     -math.log(1 / (1 + math.exp(-0.2)))),
    ('hinge', (1 - 0.5) + (1 + 0.2), -0.2),
])
def test_gan_loss_golden_values(gan_type, d_loss, g_loss):
    loss = GANLoss(gan_type, loss_weight=2.0)
    real, fake = torch.full((1, 1, 2, 2), 0.5), torch.full((1, 1, 2, 2), 0.2)
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(d_loss)
    # only the generator loss carries the weight
    assert loss.generator_loss(fake).item() == pytest.approx(2 * g_loss)


@pytest.mark.parametrize('gan_type', GANLoss.GAN_TYPES)
def test_gan_loss_pushes_discriminator_the_right_way(gan_type):
    loss = GANLoss(gan_type)
    real = torch.full((4, 1, 3, 3), 0.3, requires_grad=True)
    fake = torch.full((4, 1, 3, 3), 0.3, requires_grad=True)
    loss.discriminator_loss(real, fake).backward()
    # gradient descent raises real scores and lowers fake ones
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    fake_g = torch.full((4, 1, 3, 3), 0.3, requires_grad=True)
    loss.generator_loss(fake_g).backward()
    assert (fake_g.grad < 0).all()


def test_kd_softmax_matches_reference():
    torch.manual_seed(0)
    s, t = torch.randn(6, 5) * 3, torch.randn(6, 5) * 3
    T = 2.0
    ref = kl_divergence(Categorical(logits=t / T),
                        Categorical(logits=s / T)).mean() * T**2
    assert KDLoss(T)(s, t).item() == pytest.approx(ref.item(), rel=1e-5)


def test_kd_sigmoid_matches_reference():
    torch.manual_seed(0)
    s, t = torch.randn(2, 7, 4), torch.randn(2, 7, 4)
    ref = kl_divergence(Bernoulli(logits=t / 3),
                        Bernoulli(logits=s / 3)).sum(-1).mean() * 9
    got = KDLoss(3, use_sigmoid=True)(s, t)
    assert got.item() == pytest.approx(ref.item(), rel=1e-5)


@pytest.mark.parametrize('use_sigmoid', [False, True])
def test_kd_is_finite_for_huge_logits(use_sigmoid):
    s = torch.tensor([[1e4, -1e4, 0.]], requires_grad=True)
    t = torch.tensor([[-1e4, 1e4, 0.]])
    loss = KDLoss(1, use_sigmoid=use_sigmoid)(s, t)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()


def test_kd_refuses_shape_mismatch():
    with pytest.raises(ValueError, match='differ in shape'):
        KDLoss()(torch.zeros(2, 3), torch.zeros(2, 4))


def test_bad_loss_arguments():
    with pytest.raises(ValueError, match='unknown gan_type'):
        GANLoss('wgan')
    with pytest.raises(ValueError, match='loss_weight must be >= 0'):
        GANLoss(loss_weight=-1)
    with pytest.raises(ValueError, match='loss_weight must be >= 0'):
        KDLoss(loss_weight=-0.5)
    with pytest.raises(ValueError, match='temperature'):
        KDLoss(temperature=0)
