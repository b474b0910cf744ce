import pytest
import torch

from mmkd.models import PatchDiscriminator, T2SAdapter


def test_t2s_adapter_maps_channels_and_sizes():
    adapter = T2SAdapter([16, 16], [32, 32], kernel_size=3)
    feats = [torch.randn(2, 16, 8, 8), torch.randn(2, 16, 4, 4)]
    out = adapter(feats, sizes=[(8, 8), (6, 6)])
    assert [tuple(o.shape) for o in out] == [(2, 32, 8, 8), (2, 32, 6, 6)]


def test_t2s_adapter_refuses_level_mismatch():
    with pytest.raises(ValueError, match='2 student levels but 3 teacher'):
        T2SAdapter([16, 16], [32, 32, 32])


@pytest.mark.parametrize('norm', PatchDiscriminator.NORMS)
def test_patch_discriminator_scores_patches(norm):
    disc = PatchDiscriminator(32, feat_channels=8, norm=norm)
    out = disc([torch.randn(2, 32, 16, 16), torch.randn(2, 32, 5, 5)])
    # one logit per patch, not one per image
    assert [tuple(o.shape) for o in out] == [(2, 1, 8, 8), (2, 1, 3, 3)]


def test_patch_discriminator_refuses_unknown_norm():
    with pytest.raises(ValueError, match='unknown norm'):
        PatchDiscriminator(32, norm='layer')
