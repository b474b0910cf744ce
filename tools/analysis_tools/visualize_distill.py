"""See what a distillation run does, level by level.

    python tools/analysis_tools/visualize_distill.py CONFIG [CHECKPOINT] \
        IMAGE [IMAGE ...] [--out DIR] [--size 256] [--reduce abs|pca] \
        [--before]

CONFIG is the distillation config (its teacher_ckpt must exist here, if it
has a teacher), CHECKPOINT a checkpoint of that run (``epoch_N.pth``;
without it, or with ``--before``, the untrained student, adapters and
discriminators are drawn). For each image and distilled level,
``DIR/<image>_<level>.png``, the level named as the build log pairs it
(``student_level_1_teacher_level_0``): the image; the teacher's map, the
student's, the T2S-adapted student map and their difference; the
discriminator's patch scores for both; KSANC's attention maps. AFD/DML draw
each network against its source network, MB-AKT/BYOT each branch against
the deepest map (no teacher: the run has none). Maps are channel-reduced by
mean absolute activation (``--reduce abs``) or their first principal
component (``pca``).
"""
import os
import os.path as osp
import re

import mmcv

import mmkd  # noqa: F401
from mmkd.visualization import (distill_maps, draw, drawing_parser,
                                load_for_drawing, parse_drawing_args,
                                read_image)


def build_parser():
    parser = drawing_parser(__doc__.split('\n')[0], 'distill_vis')
    parser.add_argument(
        '--reduce', choices=['abs', 'pca'], default='abs',
        help='how a map\'s channels become one picture: their mean absolute '
        'activation, or their first principal component (default: abs)')
    return parser


def parse_args():
    return parse_drawing_args(build_parser())


def main():
    args = parse_args()
    model = load_for_drawing(args.config, None if args.before else
                             args.checkpoint)
    os.makedirs(args.out, exist_ok=True)
    for path in args.images:
        image, x = read_image(path, args.size)
        inputs = model.data_preprocessor(dict(inputs=[x]), False)['inputs']
        stem = osp.splitext(osp.basename(path))[0]
        for title, array in draw(image, distill_maps(model, inputs),
                                 args.reduce):
            name = re.sub(r'[^\w.]+', '_', title).strip('_')
            out = osp.join(args.out, f'{stem}_{name}.png')
            mmcv.imwrite(array[..., ::-1], out)
            print(f'wrote {out}')


if __name__ == '__main__':
    main()
