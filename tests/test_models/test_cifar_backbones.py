"""The CIFAR zoo has the reference implementation's parameter counts
(RepDistiller / CRD, CIFAR-100 heads), as a user comparing with papers
expects, and plugs into an MMPretrain ImageClassifier."""
import pytest
import torch
from mmpretrain.models import ImageClassifier

from mmkd.models.distillers.utils import build_model

# (backbone, width of the last stage, parameters in millions with a
# 100-class linear head, as the CRD paper's tables give them)
ZOO = {
    'resnet8': (dict(type='CIFARResNet', depth=8), 64, 0.08),
    'resnet20': (dict(type='CIFARResNet', depth=20), 64, 0.28),
    'resnet32': (dict(type='CIFARResNet', depth=32), 64, 0.47),
    'resnet56': (dict(type='CIFARResNet', depth=56), 64, 0.86),
    'resnet110': (dict(type='CIFARResNet', depth=110), 64, 1.74),
    'resnet8x4': (dict(type='CIFARResNet', depth=8, widths='x4'), 256, 1.23),
    'resnet32x4': (dict(type='CIFARResNet', depth=32, widths='x4'), 256,
                   7.43),
    'wrn-16-2': (dict(type='CIFARWideResNet', depth=16, widen_factor=2), 128,
                 0.70),
    'wrn-40-1': (dict(type='CIFARWideResNet', depth=40, widen_factor=1), 64,
                 0.57),
    'wrn-40-2': (dict(type='CIFARWideResNet', depth=40, widen_factor=2), 128,
                 2.26),
    'vgg8': (dict(type='CIFARVGG', depth=8), 512, 3.96),
    'vgg13': (dict(type='CIFARVGG', depth=13), 512, 9.46),
}


def classifier(backbone, channels, num_classes=100):
    return build_model(dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=channels)))


@pytest.mark.parametrize('name', sorted(ZOO))
def test_parameter_counts_match_the_reference(name):
    backbone, channels, millions = ZOO[name]
    model = classifier(backbone, channels)
    assert isinstance(model, ImageClassifier)
    count = sum(p.numel() for p in model.parameters()) / 1e6
    assert count == pytest.approx(millions, abs=0.006), count
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32), mode='tensor')
    assert out.shape == (2, 100)


def test_resnet20_on_cifar10_is_he_et_al_s_0_27m():
    count = sum(p.numel() for p in classifier(
        dict(type='CIFARResNet', depth=20), 64, 10).parameters())
    assert round(count / 1e6, 2) == 0.27


@pytest.mark.parametrize('cfg, error', [
    (dict(type='CIFARResNet', depth=21), 'depth must be 6n \\+ 2'),
    (dict(type='CIFARWideResNet', depth=15), 'depth must be 6n \\+ 4'),
    (dict(type='CIFARVGG', depth=16), 'depth must be one of'),
    (dict(type='CIFARResNet', depth=20, out_indices=(3, )),
     'this backbone has 3 stages'),
])
def test_bad_depths_are_refused(cfg, error):
    with pytest.raises(ValueError, match=error):
        build_model(cfg)
