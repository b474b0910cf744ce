"""A small COCO-format detection dataset drawn from scratch: coloured
squares, circles and triangles on textured backgrounds. Used by the demo
and the tests, so neither needs downloads."""
import json
import os
import os.path as osp

import numpy as np
from PIL import Image, ImageDraw

SHAPES_CLASSES = ('square', 'circle', 'triangle')


def _draw_image(rng: np.random.Generator, size: int, max_objects: int):
    # textured background: a colour gradient plus noise
    base = rng.uniform(0, 255, 3)
    ramp = np.linspace(-40, 40, size)[None, :, None] * rng.uniform(-1, 1, 3)
    img = base + ramp + rng.normal(0, 12, (size, size, 3))
    image = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    boxes, labels = [], []
    for _ in range(rng.integers(1, max_objects + 1)):
        s = int(rng.integers(size // 8, size // 2.5))
        x, y = (int(v) for v in rng.integers(0, size - s, 2))
        if any(x < bx + bw and bx < x + s and y < by + bh and by < y + s
               for bx, by, bw, bh in boxes):
            continue  # keep objects apart: every box fully visible
        label = int(rng.integers(len(SHAPES_CLASSES)))
        colour = tuple(int(c) for c in (base + rng.choice([-1, 1], 3) *
                                        rng.uniform(70, 150, 3)) % 256)
        if label == 0:
            draw.rectangle([x, y, x + s - 1, y + s - 1], fill=colour)
        elif label == 1:
            draw.ellipse([x, y, x + s - 1, y + s - 1], fill=colour)
        else:
            draw.polygon([(x + s / 2, y), (x, y + s - 1), (x + s - 1,
                                                           y + s - 1)],
                         fill=colour)
        boxes.append([x, y, s, s])
        labels.append(label)
    return image, boxes, labels


def make_shapes_dataset(root: str,
                        num_train: int = 200,
                        num_val: int = 50,
                        size: int = 128,
                        max_objects: int = 4,
                        seed: int = 0) -> str:
    """Write ``root/annotations/{train,val}.json`` and
    ``root/images/{train,val}/*.png``; returns ``root``.

    Deterministic for a seed; skipped when the annotation files exist.
    """
    if all(
            osp.isfile(osp.join(root, 'annotations', f'{s}.json'))
            for s in ('train', 'val')):
        return root
    rng = np.random.default_rng(seed)
    categories = [
        dict(id=i + 1, name=n, supercategory='shape')
        for i, n in enumerate(SHAPES_CLASSES)
    ]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for split, num in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        images, annotations = [], []
        for i in range(num):
            image, boxes, labels = _draw_image(rng, size, max_objects)
            name = f'{split}_{i:05d}.png'
            image.save(osp.join(root, 'images', split, name))
            images.append(dict(id=i + 1, file_name=name, width=size,
                               height=size))
            for box, label in zip(boxes, labels):
                annotations.append(
                    dict(id=len(annotations) + 1, image_id=i + 1,
                         category_id=label + 1, bbox=box,
                         area=box[2] * box[3], iscrowd=0))
        tmp = osp.join(root, 'annotations', f'{split}.json.tmp')
        with open(tmp, 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)
        os.replace(tmp, osp.join(root, 'annotations', f'{split}.json'))
    return root


def random_batch(student, batch_size: int, size: int, num_items: int = 5):
    """A batch of random images (seed 0) and targets as the toolbox's
    packing makes it, for ``student`` (an MMPretrain classifier or an
    MMDetection detector): for benchmarks and the golden steps."""
    import torch
    torch.manual_seed(0)
    if hasattr(student, 'head'):  # an MMPretrain classifier
        from mmpretrain.structures import DataSample
        classes = student.head.num_classes
        return dict(
            inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
                    for _ in range(batch_size)],
            data_samples=[DataSample().set_gt_label(i % classes)
                          for i in range(batch_size)])
    from mmdet.testing import demo_mm_inputs
    head = student.bbox_head if hasattr(student, 'bbox_head') else \
        student.roi_head.bbox_head
    # demo_mm_inputs draws labels from [1, num_classes): give it two
    # classes at least, then fold the labels into the detector's
    batch = demo_mm_inputs(
        batch_size=batch_size, image_shapes=[(3, size, size)] * batch_size,
        num_items=[num_items] * batch_size,
        num_classes=max(head.num_classes, 2), with_mask=False)
    for sample in batch['data_samples']:
        sample.gt_instances.labels %= head.num_classes
    return batch
