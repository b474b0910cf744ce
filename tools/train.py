"""``python tools/train.py CONFIG [args]``: MMDetection's tools/train.py."""
from _mmdet_tool import run

if __name__ == '__main__':
    run('train.py')
