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


def test_benchmark_prints_ratio():
    proc = run('tools/analysis_tools/benchmark_distill.py', KTAN_DEMO,
               '--img-size', '64', '--rounds', '1', '--random-teacher')
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ('student_step', 'teacher_feat', 'both', 'distill_step',
                'ratio', 'ratio_with_head', 'ratio_both', 'peak_rss_mb'):
        assert result[key] > 0, key
    assert result['ratio'] == pytest.approx(
        result['distill_step'] /
        (result['student_step'] + result['teacher_feat']), rel=1e-2)
    assert result['ratio_both'] == pytest.approx(
        result['distill_step'] / result['both'], rel=1e-2)


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
