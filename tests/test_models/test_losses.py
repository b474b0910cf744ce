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


# ------------------------------------------- feature baselines: golden values
def maps(seed, shape=(2, 3, 4, 5)):
    torch.manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64)


def test_feature_mse_is_fitnets_hint_loss():
    from mmkd.models import FeatureMSELoss
    s, t = maps(0), maps(1)
    ref = sum((a - b)**2 for a, b in zip(s.flatten().tolist(),
                                         t.flatten().tolist())) / s.numel()
    assert FeatureMSELoss(loss_weight=3.0)(s, t).item() == pytest.approx(
        3 * ref)


def test_at_loss_written_out():
    """Zagoruyko & Komodakis: Q = sum_c |A_c|^2 over channels (here the
    mean, a constant factor that the L2 normalisation removes), q = Q /
    ||Q||_2; the loss is the mean of (q_s - q_t)^2 over images and
    locations."""
    from mmkd.models import ATLoss
    s, t = maps(0, (2, 3, 4, 4)), maps(1, (2, 7, 4, 4))  # widths differ
    ref = 0.0
    for n in range(2):
        qs = [sum(s[n, c, i, j]**2 for c in range(3)).item()
              for i in range(4) for j in range(4)]
        qt = [sum(t[n, c, i, j]**2 for c in range(7)).item()
              for i in range(4) for j in range(4)]
        ns, nt = math.sqrt(sum(q * q for q in qs)), math.sqrt(
            sum(q * q for q in qt))
        ref += sum((a / ns - b / nt)**2 for a, b in zip(qs, qt))
    ref /= 2 * 16
    assert ATLoss(loss_weight=1000.0)(s, t).item() == pytest.approx(
        1000 * ref)


def test_cwd_loss_written_out():
    """Shu et al.: per image and channel, p = softmax over the H*W
    locations of x / tau; tau^2 * KL(p_t || p_s), summed over locations,
    averaged over channels and images."""
    from mmkd.models import CWDLoss
    s, t, tau = maps(0), maps(1), 2.0
    ref = 0.0
    for n in range(2):
        for c in range(3):
            a = [v / tau for v in s[n, c].flatten().tolist()]
            b = [v / tau for v in t[n, c].flatten().tolist()]
            za, zb = sum(math.exp(v) for v in a), sum(math.exp(v) for v in b)
            ref += sum(math.exp(y) / zb * ((y - math.log(zb)) -
                                           (x - math.log(za)))
                       for x, y in zip(a, b))
    ref = tau**2 * ref / 6
    assert CWDLoss(tau=tau)(s, t).item() == pytest.approx(ref)


def test_pkd_loss_is_one_minus_pearson():
    """Cao et al.: with each channel standardised over the batch and the
    locations, MSE / 2 equals (1 - the Pearson correlation of the
    channel's values) * (n - 1) / n (the std is unbiased, so a standardised
    channel's squares sum to n - 1), averaged over channels."""
    from mmkd.models import PKDLoss
    s, t = maps(0), maps(1)
    ref = 0.0
    for c in range(3):
        a, b = s[:, c].flatten().tolist(), t[:, c].flatten().tolist()
        n = len(a)
        ma, mb = sum(a) / n, sum(b) / n
        cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
        va = sum((x - ma)**2 for x in a)
        vb = sum((y - mb)**2 for y in b)
        r = cov / math.sqrt(va * vb)
        ref += (1 - r) * (n - 1) / n
    ref /= 3
    got = PKDLoss()(s, t).item()
    assert got == pytest.approx(ref, rel=1e-4)
    assert PKDLoss()(s, 5 * s + 2).item() < 1e-6  # scale and shift free
