"""A small real classification dataset on disk: scikit-learn's 1,797
handwritten digits (8x8, 10 classes), upscaled to RGB PNGs in MMPretrain's
``CustomDataset`` layout (``<split>/<class>/<n>.png``). Used by the
classification demo, the comparison tool and the tests; nothing downloads.
"""
import os
import os.path as osp

import numpy as np
from PIL import Image


def make_digits_dataset(root: str, size: int = 32, val_fraction: float = 0.25,
                        limit: int = None, seed: int = 0) -> str:
    """Write the digits under ``root/train`` and ``root/val`` (a fixed,
    class-stratified split by ``seed``) and return ``root``. ``limit``
    keeps that many images per class (for fast tests)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            'The digits dataset comes with scikit-learn: pip install '
            'scikit-learn (tools/install.sh installs it).') from e
    digits = load_digits()
    rng = np.random.default_rng(seed)
    done = osp.join(root, '.complete')
    if osp.exists(done):
        return root
    for label in range(10):
        index = rng.permutation(np.flatnonzero(digits.target == label))
        if limit:
            index = index[:limit]
        n_val = max(1, int(round(len(index) * val_fraction)))
        for split, part in (('val', index[:n_val]), ('train', index[n_val:])):
            folder = osp.join(root, split, str(label))
            os.makedirs(folder, exist_ok=True)
            for i in part:
                pixels = (digits.images[i] * (255 / 16)).astype(np.uint8)
                image = Image.fromarray(pixels).resize(
                    (size, size), Image.BILINEAR).convert('RGB')
                image.save(osp.join(folder, f'{i}.png'))
    open(done, 'w').close()
    return root
