"""The documentation: it builds with warnings as errors, every component
has its API entry, every measured result of the metafiles is in the model
zoo, every table of figures comes with its command and date, and the
troubleshooting table names tests that exist."""
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DOCS = osp.join(ROOT, 'docs', 'en')


def read(*path):
    with open(osp.join(*path), encoding='utf-8') as f:
        return f.read()


def user_docs():
    """Every page a user reads: README, the site, the method pages."""
    return ([osp.join(ROOT, 'README.md')] +
            sorted(p for p in glob.glob(osp.join(DOCS, '**', '*.md'),
                                        recursive=True)
                   if osp.sep + 'methods' + osp.sep not in p) +  # copies
            sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'README.md'))))


def test_bad_input_table_names_existing_tests():
    page = read(DOCS, 'user_guides', 'troubleshooting.md')
    table = page.split('## Bad input')[1].split('\n## ')[0]
    rows = [r for r in table.splitlines() if r.startswith('| ')][2:]
    assert len(rows) >= 15
    sources = '\n'.join(
        open(p).read()
        for p in glob.glob(osp.join(ROOT, 'tests', '**', '*.py'),
                           recursive=True))
    for row in rows:
        names = re.findall(r'`(test_\w+)`', row.split('|')[-2])
        assert names, row
        for name in names:
            assert f'def {name}(' in sources, name


def test_the_docs_build_with_warnings_as_errors(tmp_path):
    """A broken link, a page outside every toctree, an API entry whose
    class is gone or a malformed docstring fails here."""
    proc = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
         '-b', 'html', '-d', str(tmp_path / 'doctrees'), DOCS,
         str(tmp_path / 'html')],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in ('index', 'get_started', 'model_zoo', 'api',
                 'user_guides/distill_detector', 'methods/ktan'):
        assert osp.exists(tmp_path / 'html' / f'{page}.html'), page
    api = (tmp_path / 'html' / 'api.html').read_text()
    # autodoc really imported the classes: their docstrings are rendered
    assert 'Teacher-to-Student' in api and 'd_steps' in api


def test_every_registered_component_has_an_api_entry():
    import mmkd  # noqa: F401
    from mmengine.fileio.backends import backends
    from mmengine.registry import (HOOKS, MODEL_WRAPPERS, MODELS,
                                   OPTIM_WRAPPER_CONSTRUCTORS)
    api = read(DOCS, 'api.rst')
    documented = set(re.findall(r'\.\. autoclass:: [\w.]+\.(\w+)', api))
    ours = {name for registry in (MODELS, HOOKS, MODEL_WRAPPERS,
                                  OPTIM_WRAPPER_CONSTRUCTORS)
            for name, cls in registry.module_dict.items()
            if cls.__module__.startswith('mmkd')}
    ours |= {cls.__name__ for cls in backends.values()
             if cls.__module__.startswith('mmkd')}
    assert ours and not ours - documented, sorted(ours - documented)


def test_every_measured_metafile_result_is_in_the_model_zoo():
    zoo = read(DOCS, 'model_zoo.md')
    rows = [r for r in zoo.splitlines() if r.startswith('| ')]
    measured = 0
    for path in glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')):
        for model in yaml.safe_load(read(path)).get('Models', []):
            for result in model.get('Results', []):
                for value in result['Metrics'].values():
                    measured += 1
                    name = f'`{model["Name"]}`'
                    mine = [r for r in rows if name in r]
                    assert mine, f'{name} ({path}) is not in model_zoo.md'
                    figure = re.compile(rf'(?<![\d.]){value:g}\d*')
                    found = [figure.search(r.split(name)[1]) for r in mine]
                    assert any(found), \
                        f'{name}: {value} ({path}) is not its model zoo row'
    assert measured >= 20


def tables_of_figures(text):
    """(text before the table since the last heading, table) for every
    Markdown table with a decimal figure in a cell."""
    blocks = re.split(r'\n(?=#)', text)
    for block in blocks:
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if (line.startswith('|') and i + 1 < len(lines)
                    and lines[i + 1].startswith('|---')
                    and (i == 0 or not lines[i - 1].startswith('|'))):
                table = '\n'.join(
                    x for x in lines[i:] if x.startswith('|'))
                cells = '\n'.join(table.splitlines()[2:])
                if 'version' not in line and re.search(
                        r'\b\d+\.\d+\b', cells):
                    yield '\n'.join(lines[:i]), table


@pytest.mark.parametrize('page', ['model_zoo.md', 'notes/benchmark.md',
                                  'get_started.md'])
def test_every_table_of_figures_gives_its_command_and_date(page):
    tables = list(tables_of_figures(read(DOCS, page)))
    assert tables
    for before, table in tables:
        head = table.splitlines()[0]
        assert 'python' in before or 'tools/' in before, \
            f'{page}: no command before the table {head}'
        assert re.search(r'20\d\d-\d\d-\d\d', before), \
            f'{page}: no date before the table {head}'


WORDS_FOR_DEVELOPERS = [
    'this session', 'this vm', 'on this machine', 'lent machine',
    'earlier session', 'development machine', 'the second machine',
    'as issue ', 'every run of this',
]


@pytest.mark.parametrize('path', user_docs(),
                         ids=lambda p: osp.relpath(p, ROOT))
def test_the_docs_speak_to_users(path):
    text = read(path).lower()
    found = [w for w in WORDS_FOR_DEVELOPERS if w in text]
    assert not found, f'{osp.relpath(path, ROOT)}: {found}'


def test_the_readme_is_short_and_links_into_the_docs():
    readme = read(ROOT, 'README.md')
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r'\]\(((?:docs|configs)/[^)#]+)', readme):
        assert osp.exists(osp.join(ROOT, target)), target


def test_every_method_folder_is_a_page():
    conf = read(DOCS, 'conf.py')
    pages = re.search(r'METHODS = \[([^\]]*)\]', conf).group(1)
    pages = set(re.findall(r"'([\w-]+)'", pages))
    folders = {osp.basename(osp.dirname(p)) for p in glob.glob(
        osp.join(ROOT, 'configs', '*', 'README.md'))}
    assert folders == pages
    index = read(DOCS, 'index.rst')
    for name in pages:
        assert f'methods/{name}.md' in index, name


def python_blocks(text):
    return re.findall(r'```python\n(.*?)```', text, re.S)


def docs_example(text, tmp_path, name):
    """The page's first config example, as a user would save it: the
    runtime file's path filled in, its checkpoint path kept."""
    code = next(b for b in python_blocks(text) if "type='" in b)
    code = code.replace('path/to/mmkd/configs',
                        osp.join(ROOT, 'configs'))
    path = tmp_path / name
    path.write_text(code + f"\nwork_dir = '{tmp_path / 'work'}'\n")
    return path


@pytest.mark.parametrize('page', [
    'README.md', 'docs/en/user_guides/distill_detector.md'])
def test_the_detector_example_trains_a_step(page, tmp_path):
    """What a newcomer copies from the README or the guide builds with
    MMDetection's own configs and trains; its checkpoint path is loaded
    only when training starts, so a stand-in teacher checkpoint of the
    right architecture is written where the example points."""
    pytest.importorskip('mmdet')
    import torch
    from mmdet.testing import demo_mm_inputs
    from mmengine.config import Config
    from mmengine.runner import Runner

    import mmkd  # noqa: F401
    from mmkd.models.distillers.utils import build_model, model_cfg

    cfg = Config.fromfile(str(docs_example(read(ROOT, page), tmp_path,
                                           'my_ktan.py')))
    assert cfg.model.type == 'KTAN'
    teacher = build_model(model_cfg(cfg.model.teacher, 'teacher'))
    ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg.model.teacher_ckpt = str(ckpt)
    runner = Runner.from_cfg(cfg)
    optim = runner.build_optim_wrapper(cfg.optim_wrapper)
    batch = demo_mm_inputs(2, [(3, 128, 128)] * 2, num_items=[3, 3],
                           num_classes=80)
    log = runner.model.train_step(batch, optim)
    assert 'distill.loss_feat' in log and 'disc.loss_d' in log
    assert all(torch.isfinite(v).all() for v in log.values())


def test_the_classifier_example_builds(tmp_path):
    """The classifier guide's config, with MMPretrain's own ResNet-18 and
    -34 configs, builds the distiller and its optimizers."""
    pytest.importorskip('mmpretrain')
    from mmengine.config import Config
    from mmengine.runner import Runner

    import mmkd  # noqa: F401
    page = read(DOCS, 'user_guides', 'distill_classifier.md')
    cfg = Config.fromfile(str(docs_example(page, tmp_path, 'my_cls.py')))
    runner = Runner.from_cfg(cfg)
    optim = runner.build_optim_wrapper(cfg.optim_wrapper)
    assert type(runner.model).__name__ == 'KTAN'
    assert set(optim.keys()) == {'student', 'disc'}
