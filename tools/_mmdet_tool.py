"""Run one of MMDetection's packaged tools unchanged (mmkd's configs enable
the plugin themselves through ``custom_imports``)."""
import os.path as osp
import runpy

import mmdet


def run(name: str) -> None:
    script = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', name)
    runpy.run_path(script, run_name='__main__')
