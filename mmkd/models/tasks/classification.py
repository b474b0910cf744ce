"""Classification: MMPretrain ``ImageClassifier``'s backbone stages and the
head's logits. The user's ``out_indices``, neck and head stay as they are:
stage maps are read by forward hooks on the backbone's own stages."""
from typing import List

import torch
import torch.nn as nn

from .base import TaskAdapter, evaluating, loaded


def stage_modules(backbone: nn.Module) -> List[nn.Module]:
    """The stages of an MMPretrain backbone, in order: its ``res_layers``
    (ResNet family, the CIFAR zoo) or ``layers`` (MobileNet) by name, else
    its ``stages``/``layers`` container; ``[backbone]`` (its outputs, as
    ``out_indices`` selects them) when it has none of these."""
    for attr in ('res_layers', 'layers'):
        names = getattr(backbone, attr, None)
        if isinstance(names, (list, tuple)) and names and all(
                isinstance(n, str) for n in names):
            return [getattr(backbone, n) for n in names]
    for attr in ('stages', 'layers'):
        modules = getattr(backbone, attr, None)
        if isinstance(modules, (nn.ModuleList, nn.Sequential)):
            return list(modules)
    return [backbone]


def as_maps(output) -> List[torch.Tensor]:
    """The 4-D maps in a module's output (a tensor or a tuple of them)."""
    outs = output if isinstance(output, (list, tuple)) else [output]
    return [x for x in outs if torch.is_tensor(x) and x.dim() == 4]


class ClassificationTask(TaskAdapter):
    """Backbone stages (the maps each stage outputs; by default the last
    stage of each model is distilled) and the head's class logits."""
    part, unit, maps_name = 'backbone', 'stages', 'Backbone stages'

    def __init__(self, student, teacher):
        super().__init__(student, teacher)
        for model, rec in ((student, self.student_rec),
                           (teacher, self.teacher_rec)):
            for i, stage in enumerate(stage_modules(model.backbone)):
                rec.watch(stage, f'stage{i}')

    @classmethod
    def accepts(cls, model) -> bool:
        classifier = loaded('mmpretrain.models', 'ImageClassifier')
        return classifier is not None and isinstance(model, classifier)

    def _maps(self, model, records) -> List[torch.Tensor]:
        stages = sorted((int(k[5:]), v) for k, v in records.items()
                        if k.startswith('stage'))
        found = [as_maps(v) for _, v in stages]
        return [m for stage in found for m in stage]

    def maps(self, model, inputs) -> List[torch.Tensor]:
        rec = self.student_rec if model is self.student else self.teacher_rec
        with rec() as records:
            model.extract_feat(inputs, stage='backbone')
            return self._maps(model, records)

    def default_pairs(self, s_strides, t_strides):
        return [(len(s_strides) - 1, len(t_strides) - 1)]

    def setup_kd(self, kd_pairs, s_strides, t_strides, loss_kd) -> None:
        heads = [self.student.head, self.teacher.head]
        probe = torch.zeros(2, 3, 32, 32)
        classes = []
        with torch.no_grad():
            for name, model in (('student', self.student),
                                ('teacher', self.teacher)):
                with evaluating(model):
                    out = model.head(model.extract_feat(probe))
                if not (torch.is_tensor(out) and out.dim() == 2):
                    raise ValueError(
                        f'Logit KD needs class logits (N, C) from the '
                        f"{name}'s {type(model.head).__name__}; its forward "
                        'returns something else. Set loss_kd=None.')
                classes.append(out.shape[1])
        if classes[0] != classes[1]:
            raise ValueError(
                f'Logit KD needs one class set: the teacher predicts '
                f'{classes[1]} classes, the student {classes[0]}. Train the '
                'teacher on the student\'s classes, or set loss_kd=None.')
        loss = getattr(heads[0], 'loss_module', None)
        loss_kd.use_sigmoid = bool(getattr(loss, 'use_sigmoid', False))

    def watch_student(self, kd: bool) -> None:
        if kd:
            self.student_rec.watch(self.student.head, 'logits')

    def student_maps(self, records) -> List[torch.Tensor]:
        return self._maps(self.student, records)

    @torch.no_grad()
    def teacher_forward(self, inputs, kd: bool) -> dict:
        with self.teacher_rec() as records:
            feats = self.teacher.extract_feat(inputs)
            logits = self.teacher.head(feats) if kd else None
            return dict(maps=self._maps(self.teacher, records), logits=logits)

    def logit_pairs(self, records, teacher_out):
        return [(records['logits'], teacher_out['logits'])]
