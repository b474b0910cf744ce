"""Write the student of an mmkd checkpoint as a plain MMDetection checkpoint.

    python tools/model_converters/export_student.py CHECKPOINT OUT
    python tools/model_converters/export_student.py CHECKPOINT OUT --peer K
    python tools/model_converters/export_student.py CHECKPOINT OUT --force

OUT holds only the student's weights (no teacher, adapter or discriminator)
and its class names; the student's own config loads it in plain MMDetection,
with ``torch.load(weights_only=True)``. ``--peer K`` writes peer K of an
online run (AFD, DML) instead; its config is ``peerK_config.py`` in the
run's work_dir. An existing OUT is replaced only with ``--force``, and a
training checkpoint (or CHECKPOINT itself) never.
"""
import argparse

from mmkd.utils import export_student


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='distiller checkpoint (.pth)')
    parser.add_argument('out', help='student checkpoint to write')
    parser.add_argument('--peer', type=int, metavar='K',
                        help='export peer K (1, 2, ...) of an online run')
    parser.add_argument('--force', action='store_true',
                        help='replace OUT if it exists (never a training '
                        'checkpoint)')
    args = parser.parse_args()
    try:
        out = export_student(args.checkpoint, args.out, args.peer,
                             overwrite=args.force)
    except (FileExistsError, FileNotFoundError, IsADirectoryError,
            ValueError) as e:
        parser.exit(2, f'error: {e}\n')
    print(f'wrote {args.out}: {len(out["state_dict"])} '
          f'{"student" if args.peer is None else f"peer {args.peer}"} '
          'tensors')


if __name__ == '__main__':
    main()
