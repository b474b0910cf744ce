"""DKD: the loss against the authors' formula (mdistiller's ``dkd_loss``,
rewritten here from the paper's definition with masks, independently of
mmkd's log-space version), the preset on a classifier, its refusal of
detectors, and its config's warm-up."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmkd.models import KDLoss
from mmkd.registry import MODELS


def reference_dkd(s, t, target, alpha, beta, T):
    """The authors' formulation: probabilities, the target/rest masks,
    ``kl_div(reduction='sum') * T^2 / N`` for TCKD and for NCKD (the
    target suppressed by -1000 before the softmax)."""
    gt = torch.zeros_like(s).scatter_(1, target[:, None], 1).bool()
    p_s, p_t = F.softmax(s / T, 1), F.softmax(t / T, 1)

    def cat_mask(p):
        return torch.cat([(p * gt).sum(1, keepdim=True),
                          (p * ~gt).sum(1, keepdim=True)], 1)

    tckd = F.kl_div(torch.log(cat_mask(p_s)), cat_mask(p_t),
                    reduction='sum') * T**2 / len(s)
    nckd = F.kl_div(F.log_softmax(s / T - 1000.0 * gt, 1),
                    F.softmax(t / T - 1000.0 * gt, 1),
                    reduction='sum') * T**2 / len(s)
    return alpha * tckd + beta * nckd


@pytest.mark.parametrize('alpha, beta, T', [(1.0, 8.0, 4.0), (0.5, 0.5, 1.0),
                                            (1.0, 2.0, 4.0)])
def test_dkd_loss_equals_the_authors_formula(alpha, beta, T):
    torch.manual_seed(0)
    s, t = torch.randn(16, 10) * 3, torch.randn(16, 10) * 3
    target = torch.randint(0, 10, (16, ))
    loss = MODELS.build(dict(type='DKDLoss', alpha=alpha, beta=beta,
                             temperature=T, loss_weight=2.0))
    expected = reference_dkd(s, t, target, alpha, beta, T)
    assert loss(s, t, target).item() == pytest.approx(2 * expected.item(),
                                                      rel=1e-5)


def test_dkd_with_two_classes_is_kd():
    """With two classes the non-target part is one class (NCKD = 0) and
    TCKD is Hinton's KD."""
    torch.manual_seed(0)
    s, t = torch.randn(8, 2), torch.randn(8, 2)
    target = torch.randint(0, 2, (8, ))
    dkd = MODELS.build(dict(type='DKDLoss', alpha=1.0, beta=5.0,
                            temperature=3.0))
    assert dkd(s, t, target).item() == pytest.approx(
        KDLoss(temperature=3.0)(s, t).item(), rel=1e-5)


def test_dkd_loss_stays_finite_for_large_logits():
    s, t = torch.tensor([[80.0, -80.0, 0.0]]), torch.tensor([[-80., 80., 0.]])
    value = MODELS.build(dict(type='DKDLoss'))(s, t, torch.tensor([0]))
    assert torch.isfinite(value)


def test_dkd_loss_standardized_equals_dkd_of_z_scores():
    torch.manual_seed(0)
    s, t = torch.randn(6, 7) * 5 + 2, torch.randn(6, 7)
    target = torch.randint(0, 7, (6, ))
    z = lambda x: (x - x.mean(1, keepdim=True)) / (  # noqa: E731
        1e-7 + x.std(1, keepdim=True))
    loss = MODELS.build(dict(type='DKDLoss', standardize=True))
    plain = MODELS.build(dict(type='DKDLoss'))
    assert loss(s, t, target).item() == pytest.approx(
        plain(z(s), z(t), target).item(), rel=1e-5)


def test_dkd_preset_distils_a_classifier_with_its_labels(distiller_cfg):
    from tests.conftest import batch_for
    cfg = distiller_cfg('cifar_resnet', type='DKD')
    cfg.pop('adv_warmup_iters', None)
    model = MODELS.build(cfg)
    data = model.data_preprocessor(copy.deepcopy(batch_for('cifar_resnet')),
                                   True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert set(k for k in losses if k.startswith('distill.')) == {
        'distill.loss_kd'}
    assert type(model.loss_kd).__name__ == 'DKDLoss'
    # the labels the loss got are the samples' own
    with model.task.recording() as records:
        model.student(data['inputs'], data['data_samples'], mode='loss')
        feats = model.task.features(records, data['data_samples'])
    assert torch.equal(feats.labels, torch.cat(
        [s.gt_label for s in data['data_samples']]))


def test_dkd_refuses_a_detector_by_name(distiller_cfg):
    cfg = distiller_cfg('retinanet', type='DKD')
    cfg.pop('adv_warmup_iters', None)
    with pytest.raises(ValueError, match='DKD distils classifiers'):
        MODELS.build(cfg)


def test_dkd_configs_warm_the_loss_up_over_20_epochs():
    cfg = Config.fromfile(
        'configs/dkd/dkd_resnet32x4_resnet8x4_b64-240e_cifar100.py')
    assert cfg.model.type == 'DKD'
    hook = next(h for h in cfg.custom_hooks
                if h['type'] == 'DistillLossWeightHook')
    assert hook['by_epoch'] and hook['schedules']['loss_kd']['warmup'] == 20
