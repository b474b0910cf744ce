"""Plot a run's logged losses, discriminator scores and validation metric.

    python tools/analysis_tools/plot_losses.py WORK_DIR [--out FILE]

Reads the newest ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (or a
``scalars.json`` given directly) and writes one PNG (default
``WORK_DIR/losses.png``): the student's task losses on one axis, each
distillation term (``distill.*``) on its own, the discriminator's losses,
its mean scores (``disc.score_real``/``disc.score_fake``), each peer's or
branch's losses, and every validation metric against the epoch.
"""
import argparse
import glob
import json
import math
import os.path as osp
from collections import defaultdict

NOT_PLOTTED = {'data_time', 'time', 'epoch', 'iter', 'step', 'memory',
               'loss'}  # 'loss': the sum of all terms


def find_scalars(path: str) -> str:
    if osp.isfile(path):
        return path
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise SystemExit(f'no */vis_data/scalars.json under {path}: give a '
                         'work_dir of a finished or running training')
    return found[-1]


def panel(key: str) -> str:
    """The axis a logged key is drawn on."""
    prefix, _, term = key.partition('.')
    if not term:
        return 'validation' if '/' in key else key
    if prefix == 'distill':
        return key
    if prefix == 'disc':
        return 'disc.score' if term.startswith('score') else 'disc.loss'
    if '/' in term:
        return 'validation'
    return f'{prefix} task loss' if prefix == 'student' else f'{prefix} loss'


def read(path: str):
    """``{axis: {key: (xs, ys)}}``: training keys by iteration, validation
    metrics by epoch."""
    axes = defaultdict(lambda: defaultdict(lambda: ([], [])))
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            train = 'iter' in row
            x = row.get('step', row.get('iter'))
            for key, value in row.items():
                if (key in NOT_PLOTTED or key.endswith('lr')
                        or not isinstance(value, (int, float))
                        or train == ('/' in key)):
                    continue
                xs, ys = axes[panel(key)][key]
                xs.append(x)
                ys.append(value)
    return axes


def plot(axes, out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    if not axes:
        raise SystemExit('nothing to plot: the log has no losses yet')
    order = sorted(axes, key=lambda a: (a != 'student task loss',
                                        a == 'validation', a))
    cols = min(3, len(order))
    rows = math.ceil(len(order) / cols)
    fig, grid = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows),
                             squeeze=False)
    for ax, name in zip(grid.flat, order):
        for key, (xs, ys) in sorted(axes[name].items()):
            ax.plot(xs, ys, label=key, marker='o' if len(xs) < 30 else None)
        ax.set_title(name)
        ax.set_xlabel('epoch' if name == 'validation' else 'iteration')
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    for ax in list(grid.flat)[len(order):]:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='PNG (default WORK_DIR/losses.png)')
    args = parser.parse_args()
    scalars = find_scalars(args.work_dir)
    out = args.out or osp.join(
        args.work_dir if osp.isdir(args.work_dir) else
        osp.dirname(scalars), 'losses.png')
    axes = read(scalars)
    plot(axes, out)
    print(f'wrote {out} ({len(axes)} axes from {scalars})')


if __name__ == '__main__':
    main()
