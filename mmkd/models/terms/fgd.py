"""FGD's term: per distilled neck level, focal (foreground/background
under the teacher's attention) and global (GcBlock relation) imitation
from the ground-truth boxes (``FGDLoss``, whose align conv and GcBlocks
train with the student)."""
from .per_level import LevelLosses


class FocalGlobal(LevelLosses):
    """``loss_fgd`` per level pair (one ``FGDLoss`` each, the child
    ``fgd``); the boxes are each image's ground truth in the frame of the
    batch's padded input, which the neck levels cover."""

    def __init__(self, loss_fgd: dict):
        super().__init__(loss_fgd, 'loss_fgd', 'fgd')

    def extra(self, step) -> tuple:
        samples = step.data_samples
        boxes = [s.gt_instances.bboxes for s in samples]
        boxes = [getattr(b, 'tensor', b) for b in boxes]  # mmdet box types
        shapes = [s.metainfo.get('batch_input_shape', step.inputs.shape[-2:])
                  for s in samples]
        return boxes, shapes
