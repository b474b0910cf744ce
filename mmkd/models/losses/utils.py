def check_loss_weight(loss_weight: float, name: str) -> float:
    """Return ``loss_weight`` as a float, refusing negative or non-numbers."""
    if isinstance(loss_weight, bool) or not isinstance(loss_weight,
                                                       (int, float)):
        raise TypeError(f'{name}: loss_weight must be a number, '
                        f'got {loss_weight!r}')
    if loss_weight < 0:
        raise ValueError(
            f'{name}: loss_weight must be >= 0, got {loss_weight}. A '
            'negative weight would make training maximise the loss; use 0 '
            'to switch the term off.')
    return float(loss_weight)
