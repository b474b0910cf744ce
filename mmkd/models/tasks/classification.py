"""Classification: MMPretrain ``ImageClassifier``'s backbone stages and the
head's logits. The user's ``out_indices``, neck and head stay as they are:
stage maps are read by forward hooks on the backbone's own stages."""
from typing import List

import torch
from .base import (Features, TaskAdapter, as_maps, evaluating, loaded,
                   stage_modules)


class ClassificationTask(TaskAdapter):
    """Backbone stages (the maps each stage outputs; by default the last
    stage of each model is distilled) and the head's class logits."""
    name, models, has_labels = 'classification', 'classifiers', True
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

    def watch_student(self, kd: bool, extras=()) -> None:
        if extras:
            raise ValueError(
                f'{", ".join(extras)}: a classifier records its stages and '
                'logits only; this method distils detectors.')
        if kd:
            self.student_rec.watch(self.student.head, 'logits')

    def features(self, records, data_samples=None) -> Features:
        labels = torch.cat([s.gt_label for s in data_samples]) if (
            data_samples and all('gt_label' in s for s in data_samples)
        ) else None  # single-label sets
        return Features(self._maps(self.student, records),
                        records.get('logits'), labels)

    @torch.no_grad()
    def teacher_forward(self, inputs, kd: bool) -> Features:
        with self.teacher_rec() as records:
            feats = self.teacher.extract_feat(inputs)
            logits = self.teacher.head(feats) if kd else None
            return Features(self._maps(self.teacher, records), logits)

    def logit_pairs(self, student, teacher):
        return [(student.logits, teacher.logits)]

    @torch.no_grad()
    def num_classes(self) -> int:
        with evaluating(self.teacher):
            probe = torch.zeros(2, 3, 32, 32)
            return self.teacher.head(self.teacher.extract_feat(probe)
                                     ).shape[1]
