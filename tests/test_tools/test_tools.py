"""The command-line tools run and say what is wrong with bad input."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmkd.utils import export_student

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KTAN_DEMO = osp.join(
    ROOT, 'configs', 'demo',
    'ktan_retinanet-r18_retinanet-r18-w16_fpn-64_12e_shapes.py')


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_export_tool(tmp_path):
    src = tmp_path / 'ckpt.pth'
    torch.save(
        dict(state_dict={'student.a': torch.ones(2),
                         'adapter.b': torch.ones(1),
                         'discriminator.c': torch.ones(1)},
             meta=dict(dataset_meta=dict(classes=('x', 'y')))), src)
    out = tmp_path / 'student.pth'
    proc = run('tools/model_converters/export_student.py', str(src), str(out))
    assert proc.returncode == 0, proc.stderr
    ckpt = torch.load(out, weights_only=True)
    assert list(ckpt['state_dict']) == ['a']
    assert ckpt['meta']['dataset_meta']['classes'] == ('x', 'y')


def test_export_refuses_plain_checkpoint(tmp_path):
    src = tmp_path / 'plain.pth'
    torch.save(dict(state_dict={'backbone.a': torch.ones(1)}), src)
    with pytest.raises(ValueError, match='not an mmkd distiller checkpoint'):
        export_student(str(src), str(tmp_path / 'out.pth'))


@pytest.mark.parametrize('keep', [False, True])
def test_benchmark_prints_ratio(keep):
    proc = run('tools/analysis_tools/benchmark_distill.py', KTAN_DEMO,
               '--img-size', '64', '--rounds', '1', '--random-teacher',
               *(['--keep-memory'] if keep else []))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['keep_memory'] is keep
    assert set(result['page_faults']) >= {'student_step', 'distill_step'}
    for key in ('student_step', 'teacher_feat', 'both', 'distill_step',
                'ratio', 'ratio_with_head', 'ratio_both', 'peak_rss_mb'):
        assert result[key] > 0, key
    assert result['ratio'] == pytest.approx(
        result['distill_step'] /
        (result['student_step'] + result['teacher_feat']), rel=1e-2)
    assert result['ratio_both'] == pytest.approx(
        result['distill_step'] / result['both'], rel=1e-2)


def test_benchmark_counts_the_teacher_head_crosskd_needs():
    """CrossKD's denominator counts the teacher's own predictions and its
    head layers run on the student's features (``teacher_head``)."""
    proc = run('tools/analysis_tools/benchmark_distill.py', osp.join(
        'configs', 'demo',
        'crosskd_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'),
        '--img-size', '64', '--rounds', '1', '--random-teacher')
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['teacher_head'] > 0
    assert result['ratio_with_head'] == pytest.approx(
        result['distill_step'] / (result['student_step'] +
                                  result['teacher_feat'] +
                                  result['teacher_head']), rel=1e-2)


def test_benchmark_repeats_in_fresh_processes():
    proc = run('tools/analysis_tools/benchmark_distill.py', KTAN_DEMO,
               '--img-size', '64', '--rounds', '1', '--random-teacher',
               '--runs', '2')
    assert proc.returncode == 0, proc.stderr[-3000:]
    *runs, summary = [json.loads(line) for line in
                      proc.stdout.strip().splitlines()[-3:]]
    assert summary['runs'] == 2 and summary['keep_memory'] is False
    for key in ('ratio', 'ratio_paired'):
        got = sorted(r[key] for r in runs)
        assert summary['min'][key] == got[0]
        assert summary['max'][key] == got[1]
        assert summary['median'][key] == pytest.approx(sum(got) / 2,
                                                       abs=1e-4)
    proc = run('tools/analysis_tools/benchmark_distill.py', KTAN_DEMO,
               '--runs', '0')
    assert proc.returncode != 0 and '--runs 0: give 1 or more' in \
        proc.stderr


@pytest.mark.parametrize('config', ['afd/afd_resnet8-w16_resnet8_digits.py',
                                    'mbakt/mbakt_resnet8_digits.py'])
def test_online_benchmark_prints_ratio(config):
    proc = run('tools/analysis_tools/benchmark_online.py',
               osp.join('configs', config), '--batch', '4', '--rounds', '1')
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['networks'] > 0 and result['distill_step'] > 0
    assert result['ratio'] == pytest.approx(
        result['distill_step'] / result['networks'], rel=1e-2)


def drawing_inputs(model_cfg, kind, tmp_path):
    """For the drawing tools: the model, its config file, a checkpoint of
    it and a random 40 x 50 image."""
    import mmcv
    import numpy as np
    from mmengine.config import Config
    from mmkd.registry import MODELS
    Config(dict(model=model_cfg, default_scope='mmpretrain' if kind
                == 'cifar_resnet' else 'mmdet',
                custom_imports=dict(imports=['mmkd']))).dump(
                    str(tmp_path / 'cfg.py'))
    model = MODELS.build(model_cfg)
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'ckpt.pth')
    image = str(tmp_path / 'img.png')
    mmcv.imwrite(np.random.RandomState(0).randint(
        0, 255, (40, 50, 3)).astype(np.uint8), image)
    return model, str(tmp_path / 'cfg.py'), str(tmp_path / 'ckpt.pth'), image


@pytest.mark.parametrize('kind', ['cifar_resnet', 'retinanet'])
def test_ksanc_attention_tool_draws_teacher_and_student(
        kind, distiller_cfg, tmp_path):
    """One PNG per image with a row per level, for a checkpoint (the
    classifier) and with ``--before`` (the detector); teacher and student
    attention differ."""
    import importlib.util
    import mmcv
    model_cfg = distiller_cfg(kind, type='KSANC')
    model, config, ckpt, image = drawing_inputs(model_cfg, kind, tmp_path)
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'ksanc_attention.py')
    extra = [ckpt] if kind == 'cifar_resnet' else ['--before']
    proc = run(tool, config, *extra, image, '--out', str(tmp_path / 'out'),
               '--size', '64')
    assert proc.returncode == 0, proc.stderr[-3000:]
    png = mmcv.imread(str(tmp_path / 'out' / 'img_attention.png'))
    assert png.shape == (240 * len(model.level_pairs), 720, 3)
    spec = importlib.util.spec_from_file_location('ksanc_attention', tool)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model.eval()
    size = 32 if kind == 'cifar_resnet' else 512  # top FPN level 4x4
    maps = mod.attention_maps(model, torch.randint(0, 255, (3, size, size),
                                                   dtype=torch.uint8))
    assert len(maps) == len(model.level_pairs)
    assert all(t.shape == (size, size) and not torch.allclose(t, s)
               for t, s in maps)
    if kind == 'cifar_resnet':  # equal widths: no adapter, maps as they are
        torch.save(dict(state_dict=model.student.state_dict()),
                   tmp_path / 'same.pth')
        same = dict(model_cfg, teacher=model_cfg['student'], adapter=None,
                    teacher_ckpt=str(tmp_path / 'same.pth'))
        from mmkd.registry import MODELS
        bare = MODELS.build(same).eval()
        assert bare.adapter is None
        assert len(mod.attention_maps(bare, torch.randint(
            0, 255, (3, 32, 32), dtype=torch.uint8))) == 3


@pytest.mark.parametrize('method', ['KSANC', 'AFD', 'MBAKT', 'DKD', 'DIST',
                                    'CrossKD', 'FGD', 'MGD'])
def test_visualize_distill_draws_every_level(method, distiller_cfg, tmp_path):
    """One PNG per image and distilled level: KSANC on a classifier from a
    checkpoint (teacher, student, adapted, difference, both attention
    maps), AFD on detectors with ``--before`` (each network against its
    source, with the discriminator's scores), MB-AKT on a detector (each
    branch: the deepest map, its stage, its feature, the difference, the
    discriminator's scores of main and branch outputs), the baselines
    without adversary or adapter (DKD, DIST, CrossKD, FGD, MGD: teacher
    and student, of other widths); the panels differ.
    """
    import mmcv
    import numpy as np
    from ..conftest import DETECTORS
    from ..test_models.test_afd import afd
    kind = 'cifar_resnet' if method in ('KSANC', 'DKD', 'DIST') \
        else 'retinanet'
    model_cfg = {'AFD': lambda: afd(kind),
                 'MBAKT': lambda: dict(type='MBAKT', student=DETECTORS[kind](),
                                       probe_size=128)}.get(
        method, lambda: distiller_cfg(kind, type=method))()
    adversarial = method in ('KSANC', 'AFD', 'MBAKT')
    if not adversarial:  # no adversary to warm up
        model_cfg.pop('adv_warmup_iters')
    model, config, ckpt, image = drawing_inputs(model_cfg, kind, tmp_path)
    extra = [ckpt] if method != 'AFD' else ['--before', '--reduce', 'pca']
    proc = run(osp.join(ROOT, 'tools', 'analysis_tools',
                        'visualize_distill.py'), config, *extra, image,
               '--out', str(tmp_path / 'out'), '--size', '64')
    assert proc.returncode == 0, proc.stderr[-3000:]
    pngs = sorted((tmp_path / 'out').glob('img_*.png'))
    # the image and 6 maps (KSANC: attention instead of D); the baselines
    # have no adapter between these widths: the image, teacher and student
    panels = 7 if adversarial else 3
    levels = {'AFD': lambda: sum(len(p) for p in model.levels),
              'MBAKT': lambda: len(model.branches)}.get(
        method, lambda: len(model.level_pairs))()
    assert len(pngs) == levels, pngs
    png = mmcv.imread(str(pngs[0]))
    assert png.shape == (260, 260 * panels, 3)
    width = png.shape[1] // panels  # teacher and student panels differ
    assert not np.array_equal(png[:, width:2 * width],
                              png[:, 2 * width:3 * width])


def test_plot_losses_draws_every_logged_term(tmp_path):
    """Each distill.* term on its own axis, the student's task loss, the
    discriminator's losses and scores, a peer's loss and the validation
    metric: 7 axes, in one PNG."""
    import mmcv
    rows = [dict(lr=0.1, loss=3.0, **{
        'student.loss_cls': 1.0 / i, 'student.loss_bbox': 0.5 / i,
        'distill.loss_feat': 2.0 / i, 'distill.loss_adv': 0.1,
        'disc.loss_d': 0.3, 'disc.score_real': 0.8, 'disc.score_fake': 0.2,
        'peer1.loss': 1.2 / i}, time=0.1, epoch=1, iter=i, step=i)
        for i in range(1, 6)] + [{'coco/bbox_mAP': 0.2, 'step': 1}]
    run_dir = tmp_path / '20260101_000000' / 'vis_data'
    run_dir.mkdir(parents=True)
    (run_dir / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in rows))
    proc = run(osp.join(ROOT, 'tools', 'analysis_tools', 'plot_losses.py'),
               str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '(7 axes' in proc.stdout
    assert mmcv.imread(str(tmp_path / 'losses.png')).shape == (
        3 * 256, 3 * 400, 3)
    proc = run(osp.join(ROOT, 'tools', 'analysis_tools', 'plot_losses.py'),
               str(tmp_path / 'nothing'))
    assert proc.returncode != 0 and 'no */vis_data/scalars.json' in \
        proc.stderr


def test_visualize_distill_help_describes_every_argument():
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
    try:
        import visualize_distill
    finally:
        sys.path.pop(0)
    actions = [a for a in visualize_distill.build_parser()._actions
               if a.dest != 'help']
    assert {a.dest for a in actions} == {
        'config', 'checkpoint', 'images', 'out', 'size', 'before', 'reduce'}
    assert all(a.help for a in actions), [a.dest for a in actions
                                          if not a.help]


def test_pictures_name_levels_as_the_build_log_pairs_them(distiller_cfg):
    """A student whose distilled levels are not 0..n-1: the log's pairing
    and the pictures' names agree."""
    from mmkd.registry import MODELS
    from mmkd.visualization import distill_maps
    from ..conftest import packed_batch
    model = MODELS.build(distiller_cfg(levels=[1, 2])).eval()
    data = model.data_preprocessor(packed_batch(batch_size=1), False)
    rows = distill_maps(model, data['inputs'])['']
    assert [r.label for r in rows] == [
        f'student level {i} -> teacher level {j}'
        for i, j in model.level_pairs]
    assert [i for i, _ in model.level_pairs] == [1, 2]


def benchmark(tool: str, config: str, *args):
    """``benchmark_<tool>.py configs/<config> --rounds 1 ARGS``."""
    return run(osp.join(ROOT, 'tools', 'analysis_tools',
                        f'benchmark_{tool}.py'),
               osp.join(ROOT, 'configs', config), '--rounds', '1', *args)


@pytest.mark.e2e
def test_benchmark_a_one_class_detector_without_false_alarms():
    """The raccoon configs (1 class) time; round 0 says it warms up; no
    warning about base hooks that a timing does not use."""
    proc = benchmark('distill', 'demo/kd_retinanet-r18_retinanet-r18-w16_'
                     '24e_raccoon.py', '--img-size', '64', '--batch', '1',
                     '--random-teacher')
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[-3].startswith('round 0 (warm-up, not counted): '
                                'student_step ')
    assert lines[-2].startswith('round 1: student_step ')
    assert json.loads(lines[-1])['ratio'] > 0
    assert 'This run has no' not in proc.stdout + proc.stderr


@pytest.mark.e2e
def test_benchmark_online_reports_the_protocol_ratio_over_runs():
    """AFD's step against its protocol's limit (two plain steps of every
    network), in two fresh processes and their summary."""
    proc = benchmark('online', 'afd/afd_resnet8-w16_resnet8_digits.py',
                     '--batch', '4', '--runs', '2', '--keep-memory')
    assert proc.returncode == 0, proc.stderr[-3000:]
    *runs, summary = [json.loads(line) for line in
                      proc.stdout.strip().splitlines()[-3:]]
    for r in runs:
        assert r['protocol_passes'] == 2 and r['keep_memory']
        assert r['ratio_protocol'] == pytest.approx(
            r['distill_step'] / (2 * r['networks']), rel=0.01)  # rounded
    assert summary['runs'] == 2
    assert summary['min']['ratio_protocol'] <= \
        summary['median']['ratio_protocol'] <= summary['max']['ratio_protocol']
