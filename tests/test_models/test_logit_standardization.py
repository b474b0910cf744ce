"""Logit standardisation (Sun et al., CVPR 2024): ``KDLoss`` and
``DKDLoss`` with ``standardize=True`` against the authors' KD formula."""
import pytest
import torch
import torch.nn.functional as F

from mmkd.models import KDLoss


def reference_kd_ls(s, t, T):
    """The authors' ``kd_loss(..., logit_stand=True)``."""
    def normalize(logit):
        mean = logit.mean(dim=-1, keepdims=True)
        stdv = logit.std(dim=-1, keepdims=True)
        return (logit - mean) / (1e-7 + stdv)

    log_p_s = F.log_softmax(normalize(s) / T, dim=1)
    p_t = F.softmax(normalize(t) / T, dim=1)
    return F.kl_div(log_p_s, p_t, reduction='none').sum(1).mean() * T**2


@pytest.mark.parametrize('T', [1.0, 2.0, 4.0])
def test_standardized_kd_equals_the_authors_formula(T):
    torch.manual_seed(0)
    s, t = torch.randn(16, 10) * 4 + 1, torch.randn(16, 10) * 0.5
    loss = KDLoss(temperature=T, standardize=True, loss_weight=9.0)
    assert loss(s, t).item() == pytest.approx(
        9 * reference_kd_ls(s, t, T).item(), rel=1e-5)


def test_standardized_kd_ignores_each_models_logit_scale_and_shift():
    """What standardisation is for: a student whose logits are an affine
    copy of the teacher's (another range) has no loss."""
    torch.manual_seed(0)
    t = torch.randn(8, 5)
    loss = KDLoss(temperature=2.0, standardize=True)
    assert loss(3 * t - 7, t).item() == pytest.approx(0, abs=1e-5)
    assert KDLoss(temperature=2.0)(3 * t - 7, t).item() > 0.1


def test_standardize_with_sigmoid_scores_is_an_error():
    with pytest.raises(ValueError, match='softmax'):
        KDLoss(standardize=True, use_sigmoid=True)
