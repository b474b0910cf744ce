"""Every test the README's bad-input table names exists."""
import glob
import os.path as osp
import re

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_bad_input_table_names_existing_tests():
    readme = open(osp.join(ROOT, 'README.md')).read()
    table = readme.split('## Bad input')[1].split('\n## ')[0]
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
