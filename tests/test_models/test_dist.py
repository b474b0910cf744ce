"""DIST: the loss against the authors' formula (inter- and intra-class
Pearson relations, rewritten here from the paper), and the preset."""
import copy

import pytest
import torch

from mmkd.registry import MODELS


def reference_dist(z_s, z_t, beta, gamma, tau):
    def cosine(a, b, eps=1e-8):
        return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)

    def pearson(a, b):
        return cosine(a - a.mean(1).unsqueeze(1), b - b.mean(1).unsqueeze(1))

    def inter(y_s, y_t):
        return 1 - pearson(y_s, y_t).mean()

    y_s, y_t = (z_s / tau).softmax(dim=1), (z_t / tau).softmax(dim=1)
    return (beta * tau**2 * inter(y_s, y_t) +
            gamma * tau**2 * inter(y_s.transpose(0, 1), y_t.transpose(0, 1)))


@pytest.mark.parametrize('beta, gamma, tau', [(1.0, 1.0, 1.0),
                                              (2.0, 2.0, 4.0)])
def test_dist_loss_equals_the_authors_formula(beta, gamma, tau):
    torch.manual_seed(0)
    s, t = torch.randn(16, 10) * 2, torch.randn(16, 10) * 2
    loss = MODELS.build(dict(type='DISTLoss', beta=beta, gamma=gamma,
                             temperature=tau, loss_weight=0.5))
    assert loss(s, t).item() == pytest.approx(
        0.5 * reference_dist(s, t, beta, gamma, tau).item(), rel=1e-5)


def test_dist_relations_ignore_a_shift_and_a_positive_scale_of_probs():
    """Pearson relations: the student matching the teacher's relations,
    not its values, has no loss: one row's logits shifted by a constant
    give the same probabilities (and so zero), while a reversed ranking
    gives the largest inter-class term."""
    t = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    loss = MODELS.build(dict(type='DISTLoss', gamma=0.0))
    assert loss(t + 5, t).item() == pytest.approx(0, abs=1e-6)
    assert loss(-t, t).item() > 1.0


def test_dist_preset_distils_a_classifier(distiller_cfg):
    from tests.conftest import batch_for
    cfg = distiller_cfg('cifar_resnet', type='DIST')
    cfg.pop('adv_warmup_iters', None)
    model = MODELS.build(cfg)
    data = model.data_preprocessor(copy.deepcopy(batch_for('cifar_resnet')),
                                   True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert type(model.loss_kd).__name__ == 'DISTLoss'
    assert torch.isfinite(losses['distill.loss_kd'])


def test_dist_refuses_a_detector_by_name(distiller_cfg):
    cfg = distiller_cfg('retinanet', type='DIST')
    cfg.pop('adv_warmup_iters', None)
    with pytest.raises(ValueError, match='DIST distils classifiers'):
        MODELS.build(cfg)
