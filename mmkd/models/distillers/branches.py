"""MB-AKT's branches, per task: which stages they start from, where they
predict, their heads, losses and predictions. The task adapters know
nothing of branches; this is MB-AKT's and BYOT's own code."""
import copy
import inspect
from typing import List, Tuple

import torch
import torch.nn as nn

from ..tasks import ClassificationTask, DetectionTask
from ..tasks.base import as_maps, stage_modules


class Branches:
    """Branches on ``task.student``'s backbone stages."""

    def __init__(self, task):
        self.task, self.student = task, task.student

    def watch_stages(self) -> None:
        """Record the student's backbone stages (``stage{i}``) too."""

    def stage_maps(self, records) -> List[torch.Tensor]:
        """The student's backbone stage maps from its forward's records."""
        stages = sorted(int(k[5:]) for k in records if k.startswith('stage'))
        return [as_maps(records[f'stage{i}'])[-1] for i in stages]

    def outputs(self, records) -> Tuple[List, List]:
        """The maps branches learn from and the class scores they join,
        one each per branch target (the last stage; each neck level)."""
        raise NotImplementedError

    def run_head(self, inputs: torch.Tensor) -> None:
        """A forward of the student through its head (for a probe)."""
        raise NotImplementedError

    def branch_cfg(self, model_cfg: dict, stride: int, t_strides,
                   t_channels, scores: torch.Tensor) -> Tuple[int, dict]:
        """The target of a branch on a stage of ``stride`` and what its
        head needs (``num_classes``, or a dense ``head``'s config)."""
        raise NotImplementedError

    def branch_loss(self, branch: nn.Module, out, samples) -> dict:
        """The task loss of a branch's head output."""
        raise NotImplementedError

    def branch_predict(self, branch: nn.Module, out, samples) -> list:
        """``samples`` with a branch's predictions, as the student's
        ``predict`` gives its own."""
        raise NotImplementedError


class DetectionBranches(Branches):
    """Light dense heads at one neck level each (one-stage detectors)."""

    def watch_stages(self) -> None:
        if hasattr(self.student, 'roi_head'):
            raise ValueError(
                'Branches on a detector are light dense heads whose scores '
                'join the student\'s dense scores; the '
                f'{type(self.student).__name__} is two-stage. Choose a '
                'one-stage detector (RetinaNet, FCOS, ATSS, GFL).')
        for i, stage in enumerate(stage_modules(self.student.backbone)):
            self.task.student_rec.watch(stage, f'stage{i}')

    def outputs(self, records):
        return list(records['maps']), list(records['cls_scores'][0])

    def run_head(self, inputs) -> None:
        # mmdet's tensor mode calls bbox_head.forward, which skips hooks
        self.student.bbox_head(self.student.extract_feat(inputs))

    def branch_cfg(self, model_cfg, stride, t_strides, t_channels, scores):
        """The neck level of the smallest stride above the stage's, and the
        student's dense head with one conv at that level's stride."""
        above = [t for t, s in enumerate(t_strides) if s > stride]
        if not above:
            raise ValueError(
                f'A stage of stride {stride} has no neck level of a larger '
                f'stride (the neck\'s: {t_strides}) for a branch to predict '
                'at; branch on an earlier stage.')
        t = min(above, key=lambda i: t_strides[i])
        head = copy.deepcopy(dict(model_cfg['bbox_head']))
        head.update(in_channels=t_channels[t], _scope_='mmdet',
                    train_cfg=model_cfg.get('train_cfg'),
                    test_cfg=model_cfg.get('test_cfg'))
        if 'stacked_convs' in head:
            head['stacked_convs'] = 1
        if 'anchor_generator' in head:
            head['anchor_generator'] = dict(head['anchor_generator'],
                                            strides=[t_strides[t]])
        elif 'strides' in head:
            from mmdet.registry import MODELS
            head['strides'] = [t_strides[t]]
            if 'regress_ranges' in inspect.signature(
                    MODELS.get(head['type'])).parameters:  # FCOS: one level
                head['regress_ranges'] = ((-1, 1e8), )
        else:
            raise ValueError(
                f"A branch copies the student's dense head at one stride; "
                f"its {head['type']} has neither anchor_generator nor "
                'strides.')
        return t, dict(head=head)

    def branch_loss(self, branch, out, samples) -> dict:
        from mmdet.models.utils import unpack_gt_instances
        gt, ignore, metas = unpack_gt_instances(samples)
        return branch.head.loss_by_feat(*out, gt, metas, ignore)

    def branch_predict(self, branch, out, samples) -> list:
        results = branch.head.predict_by_feat(
            *out, batch_img_metas=[s.metainfo for s in samples],
            rescale=True)
        return self.student.add_pred_to_datasample(samples, results)


class ClassificationBranches(Branches):
    """Linear classifiers over pooled stage maps."""

    def stage_maps(self, records):
        return self.task.features(records).maps

    def outputs(self, records):
        return [self.stage_maps(records)[-1]], [records['logits']]

    def run_head(self, inputs) -> None:
        self.student(inputs, mode='tensor')

    def branch_cfg(self, model_cfg, stride, t_strides, t_channels, scores):
        return 0, dict(num_classes=scores.shape[1])

    def branch_loss(self, branch, out, samples) -> dict:
        return self.student.head._get_loss(out, samples)

    def branch_predict(self, branch, out, samples) -> list:
        return self.student.head._get_predictions(out, samples)


def branches_for(task) -> Branches:
    if isinstance(task, DetectionTask):
        return DetectionBranches(task)
    assert isinstance(task, ClassificationTask)
    return ClassificationBranches(task)
