"""What distillation does, as pictures: per distilled level, the teacher's
(or the source network's) map, the student's, the T2S-adapted student map,
their difference, the discriminator's patch scores on both sides and
KSANC's attention maps; for AFD/DML each network against its source, for
MB-AKT/BYOT each branch against the deepest map. Used by
``tools/analysis_tools/visualize_distill.py`` and
:class:`~mmkd.engine.hooks.DistillVisualizationHook`.

Maps are reduced over channels (``'abs'``: mean absolute activation;
``'pca'``: the first principal component, sign-fixed to correlate with the
mean) and drawn as heat-maps over the image, each with a colour bar.
"""
from typing import Dict, List

import numpy as np
import torch
import torch.nn.functional as F

from mmkd.models.discriminators import PatchDiscriminator
from mmkd.models.distillers import (OnlineDistiller, SelfDistiller,
                                    TeacherDistiller)
from mmkd.models.distillers.levels import resized
from mmkd.models.distillers.updates import unwrap
from mmkd.models.terms import PeerAdversary, ProbAdversary


def reduce_channels(x: torch.Tensor, how: str = 'abs') -> torch.Tensor:
    """``(C, H, W)`` -> ``(H, W)``."""
    if how == 'abs':
        return x.abs().mean(0)
    if how != 'pca':
        raise ValueError(f"reduce must be 'abs' or 'pca', got {how!r}")
    flat = x.flatten(1).T  # (HW, C)
    centred = flat - flat.mean(0)
    if centred.abs().max() == 0:
        return centred[:, 0].reshape(x.shape[1:])
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    pc = centred @ v[0]
    if torch.dot(pc, flat.mean(1) - flat.mean()) < 0:
        pc = -pc
    return pc.reshape(x.shape[1:])


def _patch_scores(disc, maps) -> List:
    if not isinstance(unwrap(disc), PatchDiscriminator):
        return [None] * len(maps)
    return [torch.sigmoid(s) for s in unwrap(disc)(maps)]


class Row(dict):
    """One level's maps by column, with ``label``: the level as the build
    log names it (``student level 1 -> teacher level 0``)."""
    label = ''


def _rows(real, raw, adapted, disc, names, pairs, unit) -> List[Dict]:
    d_real, d_fake = _patch_scores(disc, real), _patch_scores(disc, adapted)
    rows = []
    for (i, j), r, s, a, dr, df in zip(pairs, real, raw, adapted, d_real,
                                       d_fake):
        row = Row({names[0]: r, names[1]: s, names[1] + ' adapted': a,
                   '|adapted - ' + names[0] + '|':
                   None if a is None else (a - r).abs(),
                   f'D({names[0]})': dr, f'D({names[1]})': df})
        row.label = f'{names[1]} {unit} {i} -> {names[0]} {unit} {j}'
        rows.append(row)
    return rows


@torch.no_grad()
def distill_maps(model, inputs: torch.Tensor) -> Dict[str, List[Dict]]:
    """For a batch of one preprocessed image, ``{row group: [one dict per
    level: {column: (1, C, H, W) map or None}]}``."""
    model = unwrap(model)
    if isinstance(model, TeacherDistiller):  # every term adds its columns
        task = model.task
        t_all, s_all = task.maps(model.teacher, inputs), task.maps(
            model.student, inputs)
        real = [t_all[j] for _, j in model.level_pairs]
        raw = [s_all[i] for i, _ in model.level_pairs]
        sizes = [t.shape[-2:] for t in real]
        # no adapter: the student's maps where they are as wide as the
        # teacher's (a logit-only method between other widths has none)
        adapted = model.adapter(raw, sizes) if model.adapter is not None \
            else [a if a.shape[1] == t.shape[1] else None
                  for a, t in zip(resized(raw, sizes), real)]
        rows = _rows(real, raw, adapted, None, ('teacher', 'student'),
                     model.level_pairs, task.unit[:-1])
        for row in rows:
            for column in ('D(teacher)', 'D(student)'):
                del row[column]
        for term in model.method_terms:
            for row, shown in zip(rows, term.show(model, real, adapted)):
                row.update(shown)
        return {'': rows}
    if isinstance(model, OnlineDistiller):
        nets = model.nets()
        maps = [t.maps(n, inputs) for n, t in zip(nets, model.tasks)]
        groups = {}
        for k, pairs in enumerate(model.levels):
            real = [maps[k - 1][j] for _, j in pairs]
            raw = [maps[k][i] for i, _ in pairs]
            adapted = model.term(PeerAdversary).fake_maps(
                model, k, raw, [r.shape[-2:] for r in real])
            disc = None if model.discriminators is None else \
                model.discriminators[k]
            groups[f'network {k} from {(k - 1) % len(nets)} '] = _rows(
                real, raw, adapted, disc, (f'network {(k - 1) % len(nets)}',
                                           f'network {k}'), pairs,
                model.tasks[k].unit[:-1])
        return groups
    if isinstance(model, SelfDistiller):
        return _branch_maps(model, inputs)
    raise ValueError(f'{type(model).__name__} has no distilled maps to draw '
                     '(teacher-based methods, AFD/DML and MB-AKT/BYOT have)')


def _branch_maps(model, inputs) -> Dict[str, List[Dict]]:
    """Per branch: the deepest map it learns from, the stage map it starts
    from, its feature, their difference and the discriminator's scores of
    the main and the branch's class probabilities (dense heads)."""
    task, groups = model.task, {}
    with task.recording() as rec:
        model.branching.run_head(inputs)
        stage_maps, (targets, scores) = model.branching.stage_maps(
            rec), model.branching.outputs(rec)
    disc = model.discriminator
    for k, (s, t) in enumerate(zip(model.stages, model.targets)):
        feat, out = model.branches[k](stage_maps[s], targets[t].shape[-2:])
        out = out if torch.is_tensor(out) else out[0][0]
        row = {'deepest': targets[t], f'stage {s}': stage_maps[s],
               'branch feature': feat,
               '|feature - deepest|': (feat - targets[t]).abs()}
        if disc is not None and out.dim() == 4:
            prob = model.term(ProbAdversary).probabilities
            real, fake = _patch_scores(disc, [prob(scores[t]), prob(out)])
            row.update({'D(main output)': real, 'D(branch output)': fake})
        groups[f'branch {k} '] = [row]
    return groups


def draw(image: np.ndarray, groups: Dict[str, List[Dict]],
         reduce: str = 'abs') -> List:
    """One figure per level: ``[(title, RGB uint8 array)]``. ``image`` is
    ``(H, W, 3)`` BGR uint8 (as mmcv reads it)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rgb = image[..., ::-1]
    size = image.shape[:2]
    out = []
    for group, rows in groups.items():
        for level, row in enumerate(rows):
            title = getattr(row, 'label', '') or (
                group if len(rows) == 1 and group else
                f'{group}level {level}').strip()
            cols = [(k, v) for k, v in row.items() if v is not None]
            fig, axes = plt.subplots(1, len(cols) + 1,
                                     figsize=(2.6 * (len(cols) + 1), 2.6))
            axes[0].imshow(rgb)
            axes[0].set_title(title, fontsize=8)
            for ax, (name, m) in zip(axes[1:], cols):
                m = reduce_channels(m[0], 'abs' if m.shape[1] == 1 else
                                    reduce)[None, None]
                m = F.interpolate(m, size=size, mode='bilinear')[0, 0]
                ax.imshow(rgb)
                scores = dict(vmin=0, vmax=1) if name.startswith('D(') else {}
                shown = ax.imshow(m.numpy(), cmap='jet', alpha=0.6, **scores)
                ax.set_title(name, fontsize=8)
                fig.colorbar(shown, ax=ax, fraction=0.046)
            for ax in axes:
                ax.axis('off')
            fig.tight_layout()
            fig.canvas.draw()
            array = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
            plt.close(fig)
            out.append((title, array))
    return out


def load_for_drawing(config: str, checkpoint=None):
    """The distiller of a run's ``config`` in eval mode, with the weights of
    ``checkpoint`` (a checkpoint of that run; ``None``: untrained) and its
    teacher's."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmkd.models.distillers.utils import build_model
    from mmkd.utils.checkpoint import get_state_dict, load_checkpoint_file
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = build_model(cfg.model)
    if checkpoint:
        model.load_state_dict(get_state_dict(load_checkpoint_file(
            checkpoint, 'checkpoint')))
    model.load_teacher()
    return model.eval()


def read_image(path: str, size: int):
    """``(BGR uint8 (size, size, 3) array, its (3, size, size) tensor)``."""
    import mmcv
    image = mmcv.imresize(mmcv.imread(path), (size, size))
    return image, torch.from_numpy(image).permute(2, 0, 1).contiguous()


def drawing_parser(description: str, out: str):
    """The drawing tools' arguments: ``CONFIG [CHECKPOINT] IMAGE... [--out
    DIR] [--size N] [--before]`` (parse with :func:`parse_drawing_args`)."""
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='the distillation config of the run '
                        '(its teacher_ckpt, if any, must exist here)')
    parser.add_argument('checkpoint', nargs='?',
                        help='a checkpoint of that run (epoch_N.pth); '
                        'without it the untrained models are drawn')
    parser.add_argument('images', nargs='+', help='image files to draw')
    parser.add_argument('--out', default=out,
                        help=f'folder for the PNGs (default: {out})')
    parser.add_argument('--size', type=int, default=256,
                        help='square side the image is resized to')
    parser.add_argument('--before', action='store_true',
                        help='draw the untrained models (no checkpoint)')
    return parser


def parse_drawing_args(parser):
    """Parsed arguments; a first image in CHECKPOINT's place is an image."""
    args = parser.parse_args()
    if args.checkpoint and not args.checkpoint.endswith('.pth'):
        args.images.insert(0, args.checkpoint)
        args.checkpoint = None
    return args
