"""Plot a run's logged losses, discriminator scores and validation metric.

    python tools/analysis_tools/plot_losses.py WORK_DIR [--out FILE]

Reads every ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (a resumed run
has one folder per start; where two log the same iteration, the later start
wins) or a ``scalars.json`` given directly, and writes one PNG (default
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


def find_scalars(path: str) -> list:
    """The ``scalars.json`` of every start of the run, oldest first."""
    if osp.isfile(path):
        return [path]
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise SystemExit(f'no */vis_data/scalars.json under {path}: give a '
                         'work_dir of a finished or running training')
    return found


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


def read(paths: list):
    """``{axis: {key: (xs, ys)}}`` over the logs of every start, in order:
    training keys by iteration, validation metrics by epoch."""
    values = defaultdict(dict)  # key -> {x: y}; a later start overrides
    for path in paths:
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
                    values[key][x] = value
    axes = defaultdict(dict)
    for key, points in values.items():
        xs = sorted(points)
        axes[panel(key)][key] = (xs, [points[x] for x in xs])
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
        osp.dirname(scalars[0]), 'losses.png')
    axes = read(scalars)
    plot(axes, out)
    print(f'wrote {out} ({len(axes)} axes from {", ".join(scalars)})')


if __name__ == '__main__':
    main()
