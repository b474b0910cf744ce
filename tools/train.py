"""``python tools/train.py CONFIG [args]``: MMDetection's or MMPretrain's
tools/train.py, whichever toolbox the config belongs to."""
from _toolbox_tool import run

if __name__ == '__main__':
    run('train.py')
