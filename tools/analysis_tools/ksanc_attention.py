"""Draw KSANC's attention maps M of teacher and student for images.

    python tools/analysis_tools/ksanc_attention.py CONFIG CHECKPOINT \
        IMAGE [IMAGE ...] [--out DIR] [--size 256]

CONFIG is the KSANC run's config (its teacher_ckpt must exist here),
CHECKPOINT a checkpoint of that run (``epoch_N.pth``; without it, or with
``--before``, the untrained student and attention are drawn). For each
image, ``DIR/<image name>_attention.png``: one row per distilled level,
the image, the teacher's M and the student's M (through the same attention
weights, from its lifted maps), each over the image with a colour bar.
"""
import os
import os.path as osp

import torch
import torch.nn.functional as F

import mmkd  # noqa: F401
from mmkd.visualization import (distill_maps, drawing_parser,
                                load_for_drawing, parse_drawing_args,
                                read_image)


def parse_args():
    return parse_drawing_args(drawing_parser(__doc__.split('\n')[0],
                                             'ksanc_attention'))


@torch.no_grad()
def attention_maps(model, image):
    """Per distilled level, the teacher's and the student's attention,
    resized to the image ``(H, W)``."""
    inputs = model.data_preprocessor(dict(inputs=[image]), False)['inputs']
    size = image.shape[-2:]
    return [tuple(F.interpolate(row[f'{who} attention M'], size=size,
                                mode='bilinear')[0, 0]
                  for who in ('teacher', 'student'))
            for row in distill_maps(model, inputs)['']]


def draw(image, maps, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rgb = image.permute(1, 2, 0).numpy()[..., ::-1]
    fig, axes = plt.subplots(len(maps), 3, figsize=(9, 3 * len(maps)),
                             squeeze=False)
    for row, (level, (t, s)) in zip(axes, enumerate(maps)):
        row[0].imshow(rgb)
        row[0].set_title(f'level {level}')
        for ax, m, who in ((row[1], t, 'teacher M'),
                           (row[2], s, 'student M')):
            ax.imshow(rgb)
            shown = ax.imshow(m.numpy(), cmap='jet', alpha=0.6)
            ax.set_title(who)
            fig.colorbar(shown, ax=ax, fraction=0.046)
        for ax in row:
            ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main():
    args = parse_args()
    model = load_for_drawing(args.config, None if args.before else
                             args.checkpoint)
    if getattr(model, 'attention', None) is None:
        raise SystemExit(f'{args.config} is not a KSANC config with '
                         'attention: nothing to draw.')
    os.makedirs(args.out, exist_ok=True)
    for path in args.images:
        _, image = read_image(path, args.size)
        out = osp.join(args.out, osp.splitext(osp.basename(path))[0] +
                       '_attention.png')
        draw(image, attention_maps(model, image), out)
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
